"""Kill a sweep with SIGKILL mid-way, resume it, and compare with an uninterrupted run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from theorylab.engine.registry import get_experiment
from theorylab.engine.store import Store

SWEEP = ["--sweep", "x=1,2,3,4,5,6,7,8", "--set", "sleep_s=0.4", "--seeds", "2", "--preset", "smoke"]


def _cmd(store: Path, executor: str) -> list[str]:
    return [sys.executable, "-m", "theorylab", "run", "toy-noise", *SWEEP, "--executor", executor, "--store", str(store)]


def _done_runs(store: Path) -> int:
    d = store / "runs" / "toy-noise"
    return sum(1 for p in d.iterdir() if not p.name.startswith(".")) if d.exists() else 0


def _tables(store: Path) -> dict[str, pd.DataFrame]:
    st = Store(store)
    (name,) = st.sweep_names()
    res = st.load_results(get_experiment("toy-noise"), name)
    return {k: v.sort_values(["run_id", v.columns[2]]).reset_index(drop=True) for k, v in res.tables.items()}


def test_sigkill_then_resume_matches_uninterrupted(tmp_path):
    killed, clean = tmp_path / "killed", tmp_path / "clean"
    env = dict(os.environ)
    proc = subprocess.Popen(_cmd(killed, "process"), env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while _done_runs(killed) < 4 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the driver and its workers, mid-sweep
    proc.wait()
    n_before = _done_runs(killed)
    assert 4 <= n_before < 16, f"expected an interrupted sweep, found {n_before} runs"

    r = subprocess.run(_cmd(killed, "process"), env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"{n_before} already stored, {16 - n_before} ran" in r.stdout.replace("\n", " ")
    r = subprocess.run(_cmd(clean, "serial"), env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr

    # Same set of runs, no duplicates, no temp dirs left, identical values.
    dirs = sorted(p.name for p in (killed / "runs" / "toy-noise").iterdir())
    assert len(dirs) == 16 and not [d for d in dirs if d.startswith(".")]
    assert dirs == sorted(p.name for p in (clean / "runs" / "toy-noise").iterdir())
    a, b = _tables(killed), _tables(clean)
    for k in a:
        pd.testing.assert_frame_equal(a[k], b[k])
