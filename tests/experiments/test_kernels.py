"""ntk-analytic and lazy-training: every check on hand-made results where the claim holds, is
contradicted, and is ambiguous (the smoke runs themselves are in the conformance test)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from theorylab.engine.registry import get_experiment
from theorylab.engine.testing import synthetic_results

SEEDS = 5
WIDTHS = {1: (32, 128, 512), 2: (32, 64, 128)}  # the smoke preset's widths


def _statuses(exp, runs):
    return [c.status for c in exp.check(synthetic_results(exp, runs)).checks]


def _ntk_run(slopes: dict[int, float], consts: dict[int, float]) -> dict[str, pd.DataFrame]:
    rows = [{"depth": L, "width": m, "rel_error": consts[L] * m ** slopes[L], "diag_rel_error": 0.0}
            for L, ws in WIDTHS.items() for m in ws]
    return {"errors": pd.DataFrame(rows),
            "analytic": pd.DataFrame([{"depth": L, "kernel_norm": 1.0, "nt_rel_diff": np.nan} for L in WIDTHS])}


def test_ntk_analytic_checks_three_ways():
    exp = get_experiment("ntk-analytic")
    j = np.linspace(-0.05, 0.05, SEEDS)
    # holds: error = 2·√(L/m) (CLT size), slope −1/2
    holds = [_ntk_run({1: -0.5 + j[s], 2: -0.5 - j[s]}, {1: 2.0 * (1 + j[s]), 2: 2.0 * np.sqrt(2)}) for s in range(SEEDS)]
    assert _statuses(exp, holds) == ["supported"] * 4
    # contradicted: an error floor (a wrong recursion): flat in width and far above 4·√(L/m)
    broken = [_ntk_run({1: 0.0 + j[s], 2: 0.0 + j[s]}, {1: 0.5, 2: 0.9}) for s in range(SEEDS)]
    assert _statuses(exp, broken) == ["not supported"] * 4
    # ambiguous: per-seed slopes straddle the band; top errors straddle the tolerance
    sl = [-0.9, -0.1, -0.8, -0.2, -0.5]
    top = {1: [0.12, 0.25, 0.1, 0.3, 0.17], 2: [0.3, 0.7, 0.35, 0.65, 0.5]}
    unsure = [_ntk_run({1: sl[s], 2: sl[s]}, {L: top[L][s] / max(WIDTHS[L]) ** sl[s] for L in WIDTHS})
              for s in range(SEEDS)]
    assert _statuses(exp, unsure) == ["inconclusive"] * 4


def _lazy_run(w_slope: float, k_slope: float, lin_slope: float, mse_rich: float, mse_lazy: float
              ) -> dict[str, pd.DataFrame]:
    widths = [{"width": m, "rel_weight_change": 1.5 * m**w_slope, "kernel_change": 2.0 * m**k_slope,
               "lin_rmse": m**lin_slope, "train_loss": 1e-3, "test_mse": 0.2, "test_mse_lin": 0.2}
              for m in (16, 64, 256)]
    alphas = [{"alpha": a, "train_loss": 1e-3, "test_mse": mse, "rel_weight_change": 0.1 / a}
              for a, mse in ((0.1, mse_rich), (10.0, mse_lazy))]
    return {"widths": pd.DataFrame(widths), "alphas": pd.DataFrame(alphas)}


def test_lazy_training_checks_three_ways():
    exp = get_experiment("lazy-training")
    j = np.linspace(-0.03, 0.03, SEEDS)
    holds = [_lazy_run(-0.5 + j[s], -0.75 + j[s], -0.6 + j[s], 0.05 * (1 + j[s]), 0.2) for s in range(SEEDS)]
    assert _statuses(exp, holds) == ["supported"] * 4
    # contradicted: weights move as m^-1.2, the kernel does not settle, the net leaves its
    # linearization, and the lazy model generalizes as well as the rich one
    broken = [_lazy_run(-1.2 + j[s], 0.0 + j[s], 0.2 + j[s], 0.2 * (1 + j[s]), 0.2) for s in range(SEEDS)]
    assert _statuses(exp, broken) == ["not supported"] * 4
    sl = [-0.9, -0.1, -0.8, -0.2, -0.5]
    ratio = [0.8, 3.0, 1.0, 2.5, 1.5]
    unsure = [_lazy_run(sl[s], sl[s] + 0.15, sl[s] + 0.25, 0.1, 0.1 * ratio[s]) for s in range(SEEDS)]
    assert _statuses(exp, unsure) == ["inconclusive"] * 4
