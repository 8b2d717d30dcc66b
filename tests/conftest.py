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


@pytest.fixture
def store_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "store"
    monkeypatch.setenv("THEORYLAB_HOME", str(d))
    return d
