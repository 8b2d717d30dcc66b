"""Wall time of the read-only CLI commands against `python -c "import torch"`, in one run.

The bar (issue 10): `theorylab list`, `show`, `status` and `--help` each under 0.6× the time of
importing torch on the same machine. Each command runs in a fresh interpreter, best of
``--repeat`` (the first run of each warms the file cache).

Usage: python benchmarks/cli.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def best_of(cmd: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat + 1):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - t)
    return min(times[1:])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "store"
        subprocess.run([py, "-m", "theorylab", "run", "curse-of-dimensionality", "--preset", "smoke",
                        "--executor", "serial", "--store", str(store)], check=True, capture_output=True)
        torch_s = best_of([py, "-c", "import torch"], args.repeat)
        cmds = {
            "--help": ["--help"],
            "list": ["list"],
            "show curse-of-dimensionality": ["show", "curse-of-dimensionality"],
            "status": ["status", "--store", str(store)],
        }
        print(f"python -c 'import torch': {torch_s:.3f} s (best of {args.repeat})")
        print(f"{'command':32s} {'wall s':>8s} {'× import torch':>15s}  bar < 0.6")
        worst = 0.0
        for label, a in cmds.items():
            t = best_of([py, "-m", "theorylab", *a], args.repeat)
            worst = max(worst, t / torch_s)
            print(f"theorylab {label:22s} {t:8.3f} {t / torch_s:15.2f}  {'ok' if t / torch_s < 0.6 else 'OVER'}")
        print(f"worst ratio {worst:.2f}")


if __name__ == "__main__":
    main()
