"""deep-matrix-factorization and deep-linear-preconditioning: every check says supported, not
supported and inconclusive on hand-made results (the numerical pieces are tested against known
cases in tests/models/test_linear.py)."""

from __future__ import annotations

import pandas as pd
import pytest

from theorylab.engine.registry import get_experiment
from theorylab.engine.testing import status_of, synthetic_results

SEEDS = 5




# -- deep-matrix-factorization ---------------------------------------------------------------
def _completion(err_d2: list[float], err_d3: list[float], rank_d2: list[float], rank_d3: list[float],
                err_nn: list[float], rank_nn: list[float], converged: bool = True) -> list[dict]:
    runs = []
    for i in range(SEEDS):
        rows = [
            {"n_observed": 250, "method": "depth-2", "depth": 2, "init_scale": 1e-3,
             "test_error": err_d2[i], "effective_rank": rank_d2[i], "converged": True, "steps": 100},
            {"n_observed": 250, "method": "depth-3", "depth": 3, "init_scale": 1e-3,
             "test_error": err_d3[i], "effective_rank": rank_d3[i], "converged": converged, "steps": 100},
            {"n_observed": 250, "method": "nuclear-norm", "depth": 0, "init_scale": 0.0,
             "test_error": err_nn[i], "effective_rank": rank_nn[i], "converged": True, "steps": 0},
        ]
        runs.append({"completion": pd.DataFrame(rows)})
    return runs


def _dmf_verdict(d3_err_factor, d3_rank_factor, converged=True):
    exp = get_experiment("deep-matrix-factorization")
    base_err = [0.4, 0.42, 0.38, 0.41, 0.39]
    base_rank = [10.0, 11.0, 9.5, 10.5, 10.2]
    err3 = [b * f for b, f in zip(base_err, d3_err_factor, strict=True)]
    rank3 = [b * f for b, f in zip(base_rank, d3_rank_factor, strict=True)]
    runs = _completion(base_err, err3, base_rank, rank3, [0.3] * SEEDS, [8.0, 8.2, 7.9, 8.1, 8.0], converged)
    return exp.check(synthetic_results(exp, runs, overrides={"depths": (1, 2, 3)}))


def test_dmf_supported_when_deeper_is_better():
    v = _dmf_verdict([0.1, 0.12, 0.11, 0.09, 0.1], [0.5, 0.52, 0.49, 0.51, 0.5])
    assert v.status == "supported"
    assert status_of(v, "lower error than depth 2") == "supported"
    assert status_of(v, "lower effective rank than nuclear norm") == "supported"


def test_dmf_not_supported_when_deeper_is_worse():
    v = _dmf_verdict([1.5, 1.6, 1.4, 1.55, 1.5], [1.2, 1.25, 1.2, 1.22, 1.21])
    for frag in ("lower error than depth 2", "lower effective rank than depth 2",
                 "lower error than nuclear norm", "lower effective rank than nuclear norm"):
        assert status_of(v, frag) == "not supported", frag
    assert v.status == "not supported"


def test_dmf_inconclusive_when_the_ratio_straddles_the_threshold():
    v = _dmf_verdict([0.5, 1.1, 0.6, 1.2, 0.8], [0.7, 1.2, 0.8, 1.3, 0.95])
    assert status_of(v, "lower error than depth 2") == "inconclusive"
    assert status_of(v, "lower effective rank than depth 2") == "inconclusive"


def test_dmf_unconverged_runs_are_left_out_and_make_it_inconclusive():
    v = _dmf_verdict([0.1] * SEEDS, [0.5] * SEEDS, converged=False)
    assert v.status == "inconclusive"
    assert all(c.n == 0 for c in v.checks)


# -- deep-linear-preconditioning -------------------------------------------------------------
def _dlp_runs(flow: list[float], gd: list[float], r4: list[float], r2: list[float]) -> list[dict]:
    runs = []
    for i in range(SEEDS):
        paths = pd.DataFrame([{"step": 0, "path": "factors", "index": 0, "sigma": 1.0,
                               "curve_distance_flow": flow[i], "curve_distance_gd": gd[i],
                               "matched_time_distance": flow[i], "final_distance_to_ls": 0.1,
                               "eta": 0.01, "balance_drift": 1e-3}])
        lp = pd.DataFrame([
            {"problem": 0, "p": 4, "depth": 1, "excess_loss": 1.0, "lr_at_grid_edge": False},
            {"problem": 0, "p": 4, "depth": 2, "excess_loss": r4[i], "lr_at_grid_edge": False},
            {"problem": 0, "p": 2, "depth": 1, "excess_loss": 1.0, "lr_at_grid_edge": False},
            {"problem": 0, "p": 2, "depth": 2, "excess_loss": r2[i], "lr_at_grid_edge": False},
        ])
        curves = pd.DataFrame([{"problem": 0, "p": 4, "depth": 1, "step": 0, "excess_loss": 1.0}])
        runs.append({"paths": paths, "lp": lp, "lp_curves": curves})
    return runs


def _dlp_verdict(flow, gd, r4, r2):
    exp = get_experiment("deep-linear-preconditioning")
    return exp.check(synthetic_results(exp, _dlp_runs(flow, gd, r4, r2)))


GOOD = {"flow": [0.01, 0.012, 0.008, 0.011, 0.009], "gd": [0.3, 0.35, 0.32, 0.28, 0.31],
        "r4": [0.4, 0.45, 0.38, 0.42, 0.41], "r2": [1.1, 1.0, 1.2, 1.05, 0.95]}


@pytest.mark.parametrize(("key", "fragment", "bad", "ambiguous"), [
    ("flow", "follows the end-to-end", [0.2, 0.25, 0.22, 0.21, 0.23], [0.01, 0.09, 0.02, 0.1, 0.05]),
    ("gd", "not gradient descent on W", [0.05, 0.06, 0.04, 0.05, 0.05], [0.05, 0.3, 0.1, 0.25, 0.15]),
    ("r4", "accelerates ℓ4", [1.3, 1.4, 1.2, 1.35, 1.3], [0.4, 1.2, 0.6, 1.1, 0.8]),
    ("r2", "more than ℓ2", [0.2, 0.22, 0.19, 0.21, 0.2], [0.3, 0.9, 0.35, 0.8, 0.41]),
])
def test_dlp_each_check_has_three_outcomes(key, fragment, bad, ambiguous):
    v = _dlp_verdict(**GOOD)
    assert v.status == "supported"
    assert status_of(_dlp_verdict(**{**GOOD, key: bad}), fragment) == "not supported"
    assert status_of(_dlp_verdict(**{**GOOD, key: ambiguous}), fragment) == "inconclusive"
