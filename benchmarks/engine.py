"""Per-run overhead of the engine's executors over many trivial runs.

Compares, in one process and on the same 500 trivial runs:
* a plain Python loop (what a user writes without theorylab; no storage),
* theorylab serial (plan, identity hashing, atomic Parquet + manifest, SQLite index),
* theorylab process (spawned pool, all cores),
* joblib/loky (what a user would pick for local parallelism; no storage),
* a resume pass where every run is already stored (plan + skip).

Usage: python benchmarks/engine.py [--runs 500] [--quick]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
os.environ["THEORYLAB_PLUGINS"] = "_trivial"
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=500)
    ap.add_argument("--quick", action="store_true", help="100 runs")
    args = ap.parse_args()
    n = 100 if args.quick else args.runs

    from joblib import Parallel, delayed

    from _trivial import trivial_work
    from theorylab.engine.runner import run_sweep

    grid = {"x": list(range(n))}
    t = time.perf_counter()
    for x in range(n):
        trivial_work(x, 0)
    t_loop = time.perf_counter() - t

    from theorylab.engine.executors import make_executor
    from theorylab.engine.registry import catalog

    t = time.perf_counter()
    catalog()  # the catalog is read from source text: no experiment module is imported
    t_discover = time.perf_counter() - t
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("serial", "process"):
            ex = make_executor(name)
            t = time.perf_counter()
            run_sweep("bench-trivial", sweep={"x": [-1, -2]}, seeds=1, executor=ex, store=Path(tmp) / f"warm-{name}")
            t_warm = time.perf_counter() - t  # process: spawning workers (the sweep's fixed cost)
            t = time.perf_counter()
            rep = run_sweep("bench-trivial", sweep=grid, seeds=1, executor=ex, store=Path(tmp) / name)
            wall = time.perf_counter() - t
            ex.close()
            assert rep.done == n and not rep.failed
            rows.append((f"theorylab {name} (warm)", wall))
            print(f"fixed cost of a sweep on the {name} executor (start + 2 trivial runs): {t_warm:.2f} s")
        t = time.perf_counter()
        rep = run_sweep("bench-trivial", sweep=grid, seeds=1, executor="serial", store=Path(tmp) / "serial")
        rows.append(("theorylab resume (all stored)", time.perf_counter() - t))
        assert rep.skipped == n
    par = Parallel(n_jobs=os.cpu_count())
    par(delayed(trivial_work)(x, 0) for x in range(4))  # warm the loky pool too
    t = time.perf_counter()
    par(delayed(trivial_work)(x, 0) for x in range(n))
    t_joblib = time.perf_counter() - t

    print(f"{n} trivial runs, {os.cpu_count()} cores; experiment catalog {t_discover:.3f} s (once per process)")
    print(f"{'method':34s} {'wall s':>8s} {'ms/run':>8s} {'vs loop':>9s} {'vs joblib':>10s}")
    for name, wall in [("plain loop (no storage)", t_loop), ("joblib loky (no storage)", t_joblib), *rows]:
        print(f"{name:34s} {wall:8.2f} {1000 * wall / n:8.2f} {wall / t_loop:9.1f} {wall / t_joblib:10.2f}")
    serial = dict(rows)["theorylab serial (warm)"]
    print(f"engine overhead per run (serial): {1000 * (serial - t_loop) / n:.2f} ms "
          "(planning, hashing, Parquet + manifest written atomically, SQLite index)")


if __name__ == "__main__":
    main()
