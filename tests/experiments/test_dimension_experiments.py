"""Isoperimetry, intrinsic-dimension calibration and the intrinsic-dimension claim: three states per check."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from theorylab.engine.registry import get_experiment
from theorylab.engine.testing import status_of, synthetic_results


# -- isoperimetry (instrument) ----------------------------------------------------------------------
def _fluct(proj_var: float, other_var: float, n: int = 20_000) -> pd.DataFrame:
    rows = []
    for dist in ("gaussian", "sphere"):
        for d in (4, 64):
            bound = 1.0 if dist == "gaussian" else d / (d - 1)
            rows.append({"distribution": dist, "dim": d, "function": "projection", "n_draws": n, "mean_value": 0.0,
                         "var_value": proj_var, "m4_value": 3 * proj_var**2, "var_bound": bound})
            rows.append({"distribution": dist, "dim": d, "function": "norm", "n_draws": n, "mean_value": 2.0,
                         "var_value": other_var * bound, "m4_value": 3 * (other_var * bound) ** 2, "var_bound": bound})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("proj, other, expected", [
    (1.0, 0.5, ("supported", "supported")),
    (1.3, 1.3, ("not supported", "not supported")),  # a mis-scaled sampler
    (1.1, 1.0, ("inconclusive", "inconclusive")),  # on the tolerance edge / on the bound
])
def test_isoperimetry_three_states(proj, other, expected):
    exp = get_experiment("isoperimetry")
    res = synthetic_results(exp, [{"fluctuations": _fluct(proj, other)}] * 2)
    v = exp.check(res)
    assert (status_of(v, "unit projection"), status_of(v, "Poincaré bound at every d")) == expected, v.summary()
    assert v.kind == "instrument"


# -- id-calibration (instrument) ----------------------------------------------------------------------
def _estimates(scale: float, noise: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for name, d in (("ball5", 5), ("swiss_roll", 2), ("M12_Norm", 20)):
        for method in ("twonn", "mle", "lpca"):
            est = d * scale * (1 + noise * rng.standard_normal())
            rows.append({"manifold": name, "true_dim": d, "ambient": d + 1, "method": method, "estimate": est,
                         "rel_error": est / d - 1, "checked": method != "lpca" and d <= 10})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("scale, noise, expected", [(1.0, 0.02, "supported"), (0.5, 0.02, "not supported"),
                                                    (0.8, 0.05, "inconclusive")])
def test_id_calibration_three_states(scale, noise, expected):
    exp = get_experiment("id-calibration")
    v = exp.check(synthetic_results(exp, [{"estimates": _estimates(scale, noise, s)} for s in range(5)]))
    assert [c.status for c in v.checks] == [expected, expected], v.summary()
    assert "M12_Norm/twonn" in exp.evidence(synthetic_results(exp, [{"estimates": _estimates(1, 0, 0)}]))[
        "reported_not_checked"]  # d = 20: reported with its known bias, not checked


# -- intrinsic-dimension (claim) ------------------------------------------------------------------
def _layers(peak: float, untrained_peak: float, noise: float, rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for state, pk in (("trained", peak), ("untrained", untrained_peak)):
        ids = [8.0, 8.0 * pk * float(np.exp(noise * rng.standard_normal())), 7.0, 5.0]
        for i, v in enumerate(ids):
            role = "input" if i == 0 else ("output" if i == len(ids) - 1 else "hidden")
            rows.append({"state": state, "block": f"b{i}", "depth_index": i, "role": role, "units": 64,
                         "id_twonn": v, "test_acc": 0.95})
    return pd.DataFrame(rows)


def _data(frac: float, noise: float, rng: np.random.Generator, name: str = "digits", ambient: int = 64) -> pd.DataFrame:
    return pd.DataFrame([{"data": name, "split": s, "points": 300, "ambient": ambient,
                          "mle": ambient * frac * (1 + noise * rng.standard_normal()), "twonn": 7.0} for s in range(5)])


def _id_runs(peak, untrained, noise, frac, frac_noise, **kw) -> list[dict]:
    rng = np.random.default_rng(0)
    return [{"layers": _layers(peak, untrained, noise, rng), "data": _data(frac, frac_noise, rng, **kw)}
            for _ in range(5)]


@pytest.mark.parametrize("peak, expected", [(1.6, "supported"), (0.9, "not supported"), (1.25, "inconclusive")])
def test_hunchback_three_states(peak, expected):
    exp = get_experiment("intrinsic-dimension")
    v = exp.check(synthetic_results(exp, _id_runs(peak, 1.0, 0.05, 0.1, 0.02)))
    assert status_of(v, "hunchback") == expected, v.summary()


@pytest.mark.parametrize("peak, untrained, noise, expected", [
    (1.6, 1.0, 0.02, "supported"), (1.0, 1.6, 0.02, "not supported"), (1.3, 1.3, 0.1, "inconclusive")])
def test_untrained_control_three_states(peak, untrained, noise, expected):
    exp = get_experiment("intrinsic-dimension")
    v = exp.check(synthetic_results(exp, _id_runs(peak, untrained, noise, 0.1, 0.02)))
    assert status_of(v, "product of training") == expected, v.summary()


@pytest.mark.parametrize("frac, noise, expected", [(0.1, 0.02, "supported"), (0.5, 0.02, "not supported"),
                                                   (0.25, 0.1, "inconclusive")])
def test_natural_data_far_below_ambient_three_states(frac, noise, expected):
    exp = get_experiment("intrinsic-dimension")
    v = exp.check(synthetic_results(exp, _id_runs(1.6, 1.0, 0.02, frac, noise)))
    assert status_of(v, "far below ambient") == expected, v.summary()


@pytest.mark.parametrize("mle, noise, expected", [(10.0, 0.02, "supported"), (20.0, 0.02, "not supported"),
                                                  (13.0, 0.05, "inconclusive")])
def test_mnist_against_pope_three_states(mle, noise, expected):
    exp = get_experiment("intrinsic-dimension")
    runs = _id_runs(1.6, 1.0, 0.02, mle / 784, noise, name="mnist", ambient=784)
    v = exp.check(synthetic_results(exp, runs, overrides={"real_data": ["mnist"], "data_root": "/nowhere"}))
    pope = next(c for c in v.checks if "Pope" in c.statement)
    assert pope.status == expected and pope.reference_source and "7–13" in pope.reference_source, v.summary()


def test_intrinsic_dimension_config_refuses_mnist_without_files():
    from theorylab.engine.config import ConfigError

    with pytest.raises(ConfigError, match="data_root"):
        get_experiment("intrinsic-dimension").make_config("quick", {"real_data": ["mnist"]})
