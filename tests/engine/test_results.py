"""Grid-aware results: every grid point is seen, and no check can read one point as the sweep."""

from __future__ import annotations

import pandas as pd
import pytest

from theorylab.engine.config import ConfigError
from theorylab.engine.registry import get_experiment
from theorylab.engine.testing import synthetic_results


def _summary(err: float) -> dict[str, pd.DataFrame]:
    return {"draws": pd.DataFrame({"i": [0], "value": [err]}), "summary": pd.DataFrame({"mean": [err], "err": [err]})}


def test_points_by_point_and_the_refusal_of_a_single_config():
    exp = get_experiment("toy-noise")
    runs = [_summary(e) for e in (0.01, -0.02, 0.0, 0.9, 1.1, 1.0)]
    res = synthetic_results(exp, runs, points=[{"x": 1.0}] * 3 + [{"x": 2.0}] * 3)
    assert res.points() == [{"x": 1.0}, {"x": 2.0}] and res.n_replicates == 3
    at2 = res.at({"x": 2.0})
    assert at2.n_runs == 3 and at2.config.x == 2.0 and set(at2.table("summary")["x"]) == {2.0}
    with pytest.raises(ConfigError, match="2 grid points"):
        _ = res.config
    assert res.common("n") == exp.make_config("smoke").n
    with pytest.raises(ConfigError, match="differs across the sweep"):
        res.common("x")
    # the default check runs at every point and labels each check with its point
    v = exp.check(res)
    assert [c.point for c in v.checks] == [{"x": 1.0}, {"x": 2.0}]
    assert [c.status for c in v.checks] == ["supported", "not supported"] and v.status == "not supported"


def test_an_unswept_sweep_is_one_point_without_labels():
    exp = get_experiment("toy-noise")
    res = synthetic_results(exp, [_summary(e) for e in (0.01, -0.02, 0.0)])
    assert res.points() == [{}] and res.config.x == 1.0
    v = exp.check(res)
    assert len(v.checks) == 1 and v.checks[0].point is None and v.status == "supported"
