"""The Ray executor on a local 2-CPU instance gives the same stored results as serial."""

from __future__ import annotations

import pandas as pd
import pytest

ray = pytest.importorskip("ray", reason="ray is part of the dev extra; CI installs it")

from theorylab.engine.registry import get_experiment  # noqa: E402
from theorylab.engine.runner import run_sweep  # noqa: E402
from theorylab.engine.store import Store  # noqa: E402


def _tables(root):
    (name,) = Store(root).sweep_names()
    res = Store(root).load_results(get_experiment("curse-of-dimensionality"), name)
    return {k: v.sort_values(["run_id", "dim"]).reset_index(drop=True) for k, v in res.tables.items()}


def test_ray_matches_serial(tmp_path):
    kw = {"preset": "smoke", "seeds": 2, "sweep": {"n_samples": [20000, 30000]}}
    a = run_sweep("curse-of-dimensionality", executor="serial", store=tmp_path / "serial", **kw)
    b = run_sweep("curse-of-dimensionality", executor="ray", max_workers=2, store=tmp_path / "ray", **kw)
    assert a.complete and b.complete and b.done == 4
    ta, tb = _tables(tmp_path / "serial"), _tables(tmp_path / "ray")
    for k in ta:
        pd.testing.assert_frame_equal(ta[k], tb[k])
    assert a.verdict == b.verdict
    assert not ray.is_initialized()  # the executor shut down the instance it started
