"""Experiment discovery: entry points, metadata read from source text, plugins, broken entries."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from theorylab.engine import registry

EXPERIMENTS = Path(registry.__file__).resolve().parent.parent / "experiments"


def test_every_builtin_experiment_class_is_registered_as_an_entry_point():
    eps = {ep.value for ep in registry._entry_points()}
    for path in sorted(EXPERIMENTS.glob("*.py")):
        if path.name.startswith("_"):
            continue
        module = f"theorylab.experiments.{path.stem}"
        for cls in registry._classes_in(module) or {}:
            assert f"{module}:{cls}" in eps, f"{module}:{cls} has no entry point in pyproject.toml (reinstall?)"


def test_catalog_reads_metadata_without_importing_the_modules():
    code = ("import json, sys; from theorylab.engine.registry import catalog; c = catalog();"
            "print(json.dumps([len(c), sorted(m for m in sys.modules if m.startswith('theorylab.experiments.')),"
            " sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'pandas'})]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    n, imported, heavy = json.loads(out)
    assert n >= 28 and imported == [] and heavy == []


def test_a_third_party_entry_point_joins_the_catalog(monkeypatch):
    real = registry._entry_points()
    extra = EntryPoint("toy-noise", "toy_experiments:ToyNoise", registry.ENTRY_POINT_GROUP)
    monkeypatch.setattr(registry, "_entry_points", lambda: [*real, extra])
    monkeypatch.delenv("THEORYLAB_PLUGINS", raising=False)
    registry._catalog.cache_clear()
    try:
        info = registry.catalog()["toy-noise"]
        assert info.target == "toy_experiments:ToyNoise" and info.kind == "claim"
        assert registry.get_experiment("toy-noise").name == "toy-noise"
    finally:
        registry._catalog.cache_clear()


def test_a_broken_entry_point_is_skipped_with_a_reason(monkeypatch):
    real = registry._entry_points()
    broken = EntryPoint("ghost", "theorylab_no_such_module:Ghost", registry.ENTRY_POINT_GROUP)
    monkeypatch.setattr(registry, "_entry_points", lambda: [*real, broken])
    registry._catalog.cache_clear()
    registry._BROKEN.clear()
    try:
        assert "ghost" not in registry.catalog()
        assert "theorylab_no_such_module" in registry.broken_entries()["ghost"]
        with pytest.raises(registry.UnknownExperimentError, match="unknown experiment 'ghost'"):
            registry.get_info("ghost")
    finally:
        registry._catalog.cache_clear()
        registry._BROKEN.clear()
