"""The README's recipes are executed in the order written (STYLE principle 14).

Every `theorylab ...` line of its bash blocks and every python block runs, in document order,
in one fresh working directory with the default store — so a command that only works on an
empty store, or only before another one, fails here. Only `reproduce` (about 10 minutes) is
left out; a `run` of the same preset stands in for what it stores.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
BLOCKS = re.findall(r"```(\w+)\n(.*?)```", README, flags=re.S)


def _steps() -> list[tuple[str, str]]:
    """(kind, text) in document order: ("cli", one theorylab line) or ("python", a block)."""
    steps: list[tuple[str, str]] = []
    for lang, body in BLOCKS:
        if lang == "python":
            steps.append(("python", body))
            continue
        if lang != "bash":
            continue
        buf = ""
        for raw in body.splitlines():
            line = raw.split("  #")[0].rstrip()
            if line.endswith("\\"):
                buf += line[:-1] + " "
                continue
            line, buf = buf + line, ""
            if line.startswith("theorylab ") and " reproduce" not in line:
                steps.append(("cli", line))
    return steps


def test_readme_has_the_two_commands():
    bash = [b for lang, b in BLOCKS if lang == "bash"]
    assert any("pip install torch==2.13.0" in b and "theorylab reproduce --preset quick" in b for b in bash)
    assert any("python -m pytest" in b for b in bash)
    ci = (ROOT / ".ci" / "run").read_text()
    test_cmd = next(b for b in bash if "python -m pytest" in b).strip().split("&&")[-1].strip()
    assert test_cmd in ci, f"CI does not run the README's test command {test_cmd!r}"


def test_readme_recipes_run_in_order(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "THEORYLAB_HOME"}
    # what `reproduce --preset quick` (the set-up command) leaves for curse: its preset sweep
    r = subprocess.run([sys.executable, "-m", "theorylab", "run", "curse-of-dimensionality", "--preset", "quick",
                        "--executor", "serial"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    steps = _steps()
    assert sum(k == "cli" for k, _ in steps) >= 6 and sum(k == "python" for k, _ in steps) >= 3
    for kind, text in steps:
        if kind == "cli":
            cmd = [sys.executable, "-m", "theorylab", *shlex.split(text)[1:]]
        else:
            cmd = [sys.executable, "-c", text + "\nprint('ok')"]
        r = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, f"{text}\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}"
    assert (tmp_path / "report.html").exists() and (tmp_path / "diagnose.html").exists()


@pytest.mark.parametrize("needle", ["theorylab list", "theorylab show", "theorylab status", "theorylab report",
                                    "theorylab diagnose", "theorylab robustness-bound"])
def test_readme_mentions_commands(needle):
    assert needle in README
