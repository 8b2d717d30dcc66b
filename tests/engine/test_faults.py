"""Fault injection: kill -9 of the driver and of a worker at random points, Ctrl-C, a full disk,
two drivers on one sweep, racing writers of one run.

After every fault the same command resumes the sweep, and the store must then hold every
planned run exactly once, with tables equal to an uninterrupted run's, and nothing temporary
left behind. The random points come from one seed, printed in every failure message
(``THEORYLAB_FAULT_SEED`` replays a failure).
"""

from __future__ import annotations

import errno
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from theorylab.engine import store as store_mod
from theorylab.engine.executors import RunOutcome
from theorylab.engine.registry import get_experiment
from theorylab.engine.runner import run_sweep
from theorylab.engine.store import Store, StoreError
from theorylab.engine.sweep import plan_sweep

X = [1, 2, 3, 4, 5, 6, 7, 8]
SLEEP_S = 0.3  # per run: long enough to land faults mid-sweep
SEEDS = 2
N_RUNS = len(X) * SEEDS
SEED = int(os.environ.get("THEORYLAB_FAULT_SEED") or random.SystemRandom().randrange(10**6))
WHY = f"(THEORYLAB_FAULT_SEED={SEED} replays this)"

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to find workers")


def _cmd(store: Path, xs: list[int] = X, sleep_s: float = SLEEP_S) -> list[str]:
    return [sys.executable, "-m", "theorylab", "run", "toy-noise", "--preset", "smoke", "--sweep",
            "x=" + ",".join(map(str, xs)), "--set", f"sleep_s={sleep_s}", "--seeds", str(SEEDS),
            "--workers", "2", "--store", str(store)]


class Driver:
    """A ``theorylab run`` in its own session, its stderr collected line by line."""

    def __init__(self, cmd: list[str]) -> None:
        self.proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait(self, timeout: float = 120) -> tuple[int, str]:
        rc = self.proc.wait(timeout=timeout)
        self._reader.join(timeout=10)
        return rc, "\n".join(self.lines)


def _run_id_dirs(store: Path) -> list[Path]:
    d = store / "runs" / "toy-noise"
    return sorted(d.iterdir()) if d.exists() else []


def _stored(store: Path) -> int:
    return sum(1 for p in _run_id_dirs(store) if not p.name.startswith(".") and (p / "manifest.json").exists())


def _wait_for(cond: Callable[[], bool], timeout: float = 90) -> None:
    deadline = time.time() + timeout
    while not cond():
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting {WHY}")
        time.sleep(0.02)


def _proc_stat(pid: int) -> list[str] | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2 :].split()


def _children(pid: int) -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            st = _proc_stat(int(d.name))
            if st is not None and int(st[1]) == pid:
                out.append(int(d.name))
    return out


def _alive(pid: int) -> bool:
    st = _proc_stat(pid)
    return st is not None and st[0] != "Z"


def _workers(pid: int) -> list[int]:
    return [c for c in _children(pid) if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()]


def _tables(store: Path) -> dict[str, pd.DataFrame]:
    st = Store(store)
    exp = get_experiment("toy-noise")
    plan = plan_sweep(exp, preset="smoke", sweep={"x": X}, overrides={"sleep_s": SLEEP_S}, seeds=SEEDS)
    res = st.load_results(exp, plan.spec.default_name(exp), plan.runs)
    return {k: v.sort_values(["run_id", v.columns[2]]).reset_index(drop=True) for k, v in res.tables.items()}


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[set[str], dict[str, pd.DataFrame]]:
    """An uninterrupted run of the same sweep (serial, in process, its sleeps skipped)."""
    import toy_experiments

    store = tmp_path_factory.mktemp("reference") / "store"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(toy_experiments.time, "sleep", lambda s: None)
        rep = run_sweep("toy-noise", preset="smoke", sweep={"x": X}, overrides={"sleep_s": SLEEP_S}, seeds=SEEDS,
                        executor="serial", store=store)
    assert rep.complete and rep.done == N_RUNS
    return set(rep.run_ids), _tables(store)


def _assert_complete(store: Path, reference: tuple[set[str], dict[str, pd.DataFrame]]) -> None:
    """Every planned run exactly once, nothing temporary left, tables equal to the reference."""
    ids, ref = reference
    names = [p.name for p in _run_id_dirs(store)]
    assert not [n for n in names if n.startswith(".")], f"temporary directories left: {names} {WHY}"
    assert sorted(names) == sorted(ids), f"runs stored {len(names)}, planned {len(ids)} {WHY}"
    assert all(Store(store).is_done("toy-noise", rid) for rid in ids)
    got = _tables(store)
    assert got.keys() == ref.keys()
    for k in ref:
        pd.testing.assert_frame_equal(got[k], ref[k], obj=f"table {k} {WHY}")


def _resume(store: Path) -> str:
    r = subprocess.run(_cmd(store), capture_output=True, text=True, timeout=180, check=False)
    assert r.returncode == 0, f"{r.stdout}\n{r.stderr}\n{WHY}"
    assert "Traceback" not in r.stderr
    return r.stdout + r.stderr


# -- the faults ----------------------------------------------------------------------------------------
def test_kill9_driver_at_random_points_workers_exit_and_resume_matches(tmp_path, reference):
    """kill -9 of the driver alone: its pool workers and the resource tracker must exit by
    themselves; the next driver takes the dead one's sweep lock over and continues."""
    rng = random.Random(SEED)
    store = tmp_path / "store"
    killed: list[int] = []
    for attempt in range(2):
        before = _stored(store)
        target = min(N_RUNS - 1, before + rng.randint(1, 5))
        drv = Driver(_cmd(store))
        _wait_for(lambda t=target, d=drv: _stored(store) >= t or d.proc.poll() is not None)
        time.sleep(rng.uniform(0, SLEEP_S))  # land mid-run, mid-write or between runs
        kids = _children(drv.pid)
        drv.proc.kill()
        _, err = drv.wait()
        if _stored(store) >= N_RUNS:
            break
        if attempt:
            assert "taking over sweep 'toy-noise.smoke-" in err and f"from pid {killed[-1]}" in err, err
        killed.append(drv.pid)
        assert kids, f"attempt {attempt}: no workers seen {WHY}"
        deadline = time.time() + 10
        while any(_alive(k) for k in kids) and time.time() < deadline:
            time.sleep(0.05)
        assert not [k for k in kids if _alive(k)], f"workers outlived the killed driver {WHY}"
    out = _resume(store)
    if killed:
        assert "warning: taking over sweep" in out and f"from pid {killed[-1]}" in out, out
    _assert_complete(store, reference)


def test_kill9_of_a_worker_at_a_random_point_is_retried_and_completes(tmp_path, reference):
    rng = random.Random(SEED + 1)
    store = tmp_path / "store"
    drv = Driver(_cmd(store))
    target = rng.randint(1, N_RUNS // 2)
    _wait_for(lambda: _stored(store) >= target and len(_workers(drv.pid)) == 2)
    time.sleep(rng.uniform(0, SLEEP_S))
    workers = _workers(drv.pid)
    if workers:  # (a heavily loaded machine may have finished the sweep already)
        os.kill(rng.choice(workers), signal.SIGKILL)
    rc, err = drv.wait()
    assert rc == 0 and "Traceback" not in err, f"{err}\n{WHY}"
    _assert_complete(store, reference)


def test_ctrl_c_stops_in_one_line_and_resume_matches(tmp_path, reference):
    """Ctrl-C (SIGINT to the process group) while the pool's workers start, then mid-sweep."""
    rng = random.Random(SEED + 2)
    store = tmp_path / "store"
    for when in ("workers starting", "mid-sweep"):
        drv = Driver(_cmd(store))
        if when == "workers starting":  # the plan is printed just before the pool spawns its workers
            _wait_for(lambda d=drv: any("runs planned" in ln for ln in d.lines))
        else:
            target = min(N_RUNS - 2, _stored(store) + rng.randint(1, 6))
            _wait_for(lambda t=target: _stored(store) >= t)
            time.sleep(rng.uniform(0, SLEEP_S))
        os.killpg(drv.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole process group
        rc, err = drv.wait()
        lines = [ln for ln in err.splitlines() if ln.strip() and not ln.startswith("[theorylab]")]
        assert rc == 130, f"{when}: {err}\n{WHY}"
        assert "Traceback" not in err and "KeyboardInterrupt" not in err, f"{when}: {err}\n{WHY}"
        assert len(lines) == 1 and lines[0].startswith("interrupted"), f"{when}: {err}\n{WHY}"
    n = _stored(store)
    out = _resume(store)
    assert f"{n} already stored, {N_RUNS - n} ran" in " ".join(out.split())
    _assert_complete(store, reference)


def test_disk_full_mid_sweep_then_resume_matches(tmp_path, reference, monkeypatch):
    import toy_experiments

    rng = random.Random(SEED + 3)
    monkeypatch.setattr(toy_experiments.time, "sleep", lambda s: None)
    store = tmp_path / "store"
    fail_at = rng.randint(2, 2 * N_RUNS)  # the n-th file written fails: a table or a manifest
    calls = {"n": 0}
    real = store_mod._write_bytes

    def write(path: Path, data: bytes) -> None:
        calls["n"] += 1
        if calls["n"] == fail_at:
            real(path, data[: len(data) // 2])  # half written, then the disk is full
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real(path, data)

    kw = {"preset": "smoke", "sweep": {"x": X}, "overrides": {"sleep_s": SLEEP_S}, "seeds": SEEDS,
          "executor": "serial", "store": store}
    monkeypatch.setattr(store_mod, "_write_bytes", write)
    with pytest.raises(StoreError, match=r"cannot write \(disk full"):
        run_sweep("toy-noise", **kw)
    assert not [p for p in _run_id_dirs(store) if p.name.startswith(".")], WHY
    monkeypatch.setattr(store_mod, "_write_bytes", real)
    rep = run_sweep("toy-noise", **kw)
    assert rep.complete and rep.skipped + rep.done == N_RUNS
    _assert_complete(store, reference)


def test_a_second_driver_on_a_running_sweep_is_told_who_runs_it(tmp_path):
    store = tmp_path / "store"
    slow = _cmd(store, X[:6], sleep_s=1.0)  # 6 s of runs: time for a second driver to start
    a = Driver(slow)
    _wait_for(lambda: _stored(store) >= 1)
    assert Store(store).status()[0]["running"]["pid"] == a.pid  # what `theorylab status` shows
    b = subprocess.run(slow, capture_output=True, text=True, timeout=120, check=False)
    lines = [ln for ln in b.stderr.splitlines() if ln.strip()]
    assert b.returncode == 2 and len(lines) == 1 and "Traceback" not in b.stderr, b.stderr
    assert f"is being run by another theorylab process (pid {a.pid} on" in lines[0]
    rc, err = a.wait()
    assert rc == 0, err
    names = [p.name for p in _run_id_dirs(store)]
    assert len(names) == 6 * SEEDS and not [n for n in names if n.startswith(".")]
    assert all(Store(store).is_done("toy-noise", n) for n in names)


def test_drivers_on_overlapping_sweeps_store_each_shared_run_once(tmp_path, reference):
    """Two sweeps that share runs, run at the same time: each completes, no run torn or doubled."""
    store = tmp_path / "store"
    a, b = Driver(_cmd(store, X[:5])), Driver(_cmd(store, X[2:7]))  # x = 3, 4, 5 in both
    (ra, ea), (rb, eb) = a.wait(), b.wait()
    assert ra == 0 and rb == 0 and "Traceback" not in ea + eb, ea + eb
    ids, ref = reference
    names = [p.name for p in _run_id_dirs(store)]
    assert len(names) == 7 * SEEDS and set(names) <= ids, names  # the union, each run once
    st = Store(store)
    for rid in names:
        for k, df in st.read_tables("toy-noise", rid).items():
            want = ref[k][ref[k]["run_id"] == rid].reset_index(drop=True)
            pd.testing.assert_frame_equal(df.sort_values(df.columns[2]).reset_index(drop=True), want,
                                          obj=f"{k} of {rid} {WHY}")


def test_racing_writers_of_one_run_never_tear_or_leave_debris(tmp_path):
    """Threads (as two drivers would) store the same run over and over, failed and done: no error,
    one directory, no ``.trash-*``/``.tmp-*``, and once done it stays done."""
    import toy_experiments

    exp = get_experiment("toy-noise")
    spec = next(iter(plan_sweep(exp, preset="smoke").iter_runs()))
    tables = toy_experiments.ToyNoise().run(spec.config, spec.seed)
    errors: list[BaseException] = []

    def writer(i: int) -> None:
        st = Store(tmp_path / "store")
        try:
            for j in range(25):
                done = (i + j) % 3 == 0
                st.write_run(spec, RunOutcome(spec.run_id, "done" if done else "failed", tables if done else {},
                                              None if done else f"boom {i}/{j}", 1.0, 2.0))
        except BaseException as e:  # collected: a thread's exception would otherwise vanish
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    st = Store(tmp_path / "store")
    assert [p.name for p in _run_id_dirs(tmp_path / "store")] == [spec.run_id]
    assert st.is_done("toy-noise", spec.run_id)
