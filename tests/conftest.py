"""Shared fixtures. Tests never write outside their tmp dirs; toy experiments come in as a plugin."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
# The toy experiments are a plugin module; process/Ray workers find it through these two.
sys.path.insert(0, str(HERE))
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")]))
os.environ["THEORYLAB_PLUGINS"] = "toy_experiments"
os.environ.setdefault("MPLBACKEND", "Agg")
# One BLAS/OpenMP/torch thread per test worker (set before torch is imported): `-n 2` already
# uses both cores, and small torch work is slower with threads competing for them.
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")


@pytest.fixture
def store_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "store"
    monkeypatch.setenv("THEORYLAB_HOME", str(d))
    return d


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]):
    """Run the ``theorylab`` command in-process: ``code, stdout, stderr = cli("list", "--json")``."""
    from theorylab.cli import main

    def run(*args: str) -> tuple[int, str, str]:
        with pytest.raises(SystemExit) as ei:
            main(list(args))
            raise SystemExit(0)
        cap = capsys.readouterr()
        return int(ei.value.code or 0), cap.out, cap.err

    return run
