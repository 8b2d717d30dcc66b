"""The README's recipes are executed (STYLE principle 14): CLI lines, the Python and DuckDB blocks."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()
BLOCKS = re.findall(r"```(\w+)\n(.*?)```", README, flags=re.S)


def _cli_lines() -> list[str]:
    lines, buf = [], ""
    for lang, body in BLOCKS:
        if lang != "bash":
            continue
        for raw in body.splitlines():
            line = raw.split("  #")[0].rstrip()
            if line.endswith("\\"):
                buf += line[:-1] + " "
                continue
            line, buf = buf + line, ""
            if line.startswith("theorylab ") and "reproduce" not in line:  # reproduce: see test_conformance
                lines.append(line)
    return lines


def test_readme_has_the_two_commands():
    bash = [b for lang, b in BLOCKS if lang == "bash"]
    assert any("pip install torch==2.13.0" in b and "theorylab reproduce --preset quick" in b for b in bash)
    assert any("python -m pytest" in b for b in bash)
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text()
    test_cmd = next(b for b in bash if "python -m pytest" in b).strip().split("&&")[-1].strip()
    assert test_cmd in ci, f"CI does not run the README's test command {test_cmd!r}"


def test_readme_recipes_run(tmp_path, monkeypatch):
    monkeypatch.delenv("THEORYLAB_HOME", raising=False)
    env = {**os.environ}
    env.pop("THEORYLAB_HOME", None)
    lines = _cli_lines()
    assert len(lines) >= 5
    for line in lines:
        args = shlex.split(line)[1:]
        r = subprocess.run([sys.executable, "-m", "theorylab", *args], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, f"{line}\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}"
    for lang, body in BLOCKS:
        if lang == "python":
            r = subprocess.run([sys.executable, "-c", body + "\nprint('ok')"], cwd=tmp_path, env=env,
                               capture_output=True, text=True, timeout=300)
            assert r.returncode == 0 and "ok" in r.stdout, f"{body}\n{r.stderr[-3000:]}"
    assert (tmp_path / "report.html").exists()


@pytest.mark.parametrize("needle", ["theorylab list", "theorylab show", "theorylab status", "theorylab report"])
def test_readme_mentions_commands(needle):
    assert needle in README
