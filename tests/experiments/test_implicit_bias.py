"""implicit-bias-logistic: each check's three outcomes on hand-made trajectories (the planted
data and the SVC oracle are tested in tests/test_data_synthetic.py and tests/models/test_linear.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from theorylab.engine.registry import get_experiment
from theorylab.engine.testing import status_of, synthetic_results

SEEDS = 5
GOOD = {"intercept": 0.0, "slope": 0.1, "norm_rate": 1.0, "drift": 0.0, "loss_exp": -1.0, "control_rate": 0.0}


def _trajectory(i: int, p: dict) -> pd.DataFrame:
    t = np.unique(np.geomspace(1, 1e5, 40).astype(int))
    lt = np.log(t)
    jitter = 0.002 * (i - 2)  # differs between seeds, so intervals have width
    rows = []
    for data in ("separable", "non-separable"):
        if data == "separable":
            par = p["norm_rate"] * lt + 1.0
            perp = (p["drift"] + jitter) * lt + 0.5
            angle = p["intercept"] + jitter + p["slope"] / np.maximum(lt, 1e-9)
            loss = t.astype(float) ** (p["loss_exp"] + jitter)
            norm = p["norm_rate"] * (1 + jitter) * lt + 1.0
        else:
            par = perp = angle = np.zeros_like(lt)
            loss = np.full_like(lt, 2.0)
            norm = (p["control_rate"] + jitter) * lt + 3.0
        rows += [{"data": data, "step": int(s), "loss": float(lo), "norm": float(n), "w_parallel": float(a),
                  "w_perp": float(b), "angle": float(g)} for s, lo, n, a, b, g in zip(t, loss, norm, par, perp, angle, strict=True)]
    return pd.DataFrame(rows)


def _verdict(per_seed: list[dict]):
    exp = get_experiment("implicit-bias-logistic")
    runs = [{"trajectory": _trajectory(i, p),
             "summary": pd.DataFrame([{"w_hat_norm": 1.0, "t_loss_limit": 1.0, "svc_vs_planted": 0.0}])}
            for i, p in enumerate(per_seed)]
    return exp.check(synthetic_results(exp, runs))




CASES = [
    # key, statement fragment, contradicting value, values that straddle the threshold
    ("drift", "ρ bounded", 0.5, [0.0, 0.2, 0.02, 0.18, 0.1]),
    ("intercept", "converges to the hard-margin", 0.1, [-0.01, 0.02, 0.0, 0.015, 0.005]),
    ("slope", "angle falls", -0.2, [-0.05, 0.06, -0.03, 0.05, 0.0]),
    ("norm_rate", "grows like", 0.5, [0.85, 1.0, 0.8, 0.95, 0.9]),
    ("loss_exp", "loss falls like 1/t", -0.5, [-1.0, -0.85, -0.95, -0.8, -0.9]),
    ("control_rate", "stays bounded", 0.8, [0.0, 0.2, 0.05, 0.15, 0.1]),
]


def test_all_supported_on_the_theorem_s_trajectories():
    v = _verdict([GOOD] * SEEDS)
    assert v.status == "supported", v.summary()


@pytest.mark.parametrize(("key", "fragment", "bad", "ambiguous"), CASES)
def test_each_check_has_three_outcomes(key, fragment, bad, ambiguous):
    assert status_of(_verdict([{**GOOD, key: bad}] * SEEDS), fragment) == "not supported"
    assert status_of(_verdict([{**GOOD, key: a} for a in ambiguous]), fragment) == "inconclusive"
