"""mode-connectivity and trajectory-not-landscape: each check's three outcomes on hand-made
results (the stop-at-zero-error helper is tested in tests/models/test_train.py)."""

from __future__ import annotations

import pandas as pd
import pytest

from theorylab.engine.registry import get_experiment
from theorylab.engine.testing import status_of, synthetic_results

SEEDS = 5




# -- mode-connectivity ------------------------------------------------------------------------
# smoke preset: archs (mlp, cnn), ks (0, 20)
MC_GOOD = {"mlp0": 0.004, "k20": 0.005, "mid": -0.002, "indep": 0.2}


def _mc_runs(values: list[dict]) -> list[dict]:
    runs = []
    for v in values:
        rows = []
        for arch in ("mlp", "cnn"):
            for split, barrier, mid in (("0", v["mlp0"] if arch == "mlp" else 0.1, 0.0),
                                        ("20", v["k20"], v["mid"]), ("independent", v["indep"], 0.1)):
                rows.append({"arch": arch, "split": split, "k": -1 if split == "independent" else int(split),
                             "error_barrier": barrier, "loss_barrier": barrier, "loss_convexity_gap": barrier,
                             "midpoint_gap": mid, "error_a": 0.05, "error_b": 0.05})
        paths = pd.DataFrame([{"arch": "mlp", "split": "0", "alpha": a, "test_error": 0.05, "test_loss": 0.2}
                              for a in (0.0, 0.5, 1.0)])
        runs.append({"barriers": pd.DataFrame(rows), "paths": paths})
    return runs


def _mc_verdict(values):
    exp = get_experiment("mode-connectivity")
    return exp.check(synthetic_results(exp, _mc_runs(values)))


@pytest.mark.parametrize(("key", "fragment", "bad", "ambiguous"), [
    ("mlp0", "stable from initialization", 0.06, [0.0, 0.04, 0.01, 0.035, 0.02]),
    ("k20", "is stable after", 0.08, [0.0, 0.04, 0.01, 0.035, 0.02]),
    ("mid", "does at least as well", 0.1, [-0.02, 0.06, 0.0, 0.05, 0.02]),
    ("indep", "show a barrier", 0.005, [0.0, 0.04, 0.005, 0.035, 0.02]),
])
def test_mode_connectivity_checks_have_three_outcomes(key, fragment, bad, ambiguous):
    good = _mc_verdict([MC_GOOD] * SEEDS)
    assert good.status == "supported", good.summary()
    jitter = [0.0, 0.001, 0.002, 0.001, 0.0]
    assert status_of(_mc_verdict([{**MC_GOOD, key: bad + j} for j in jitter]), fragment) == "not supported"
    assert status_of(_mc_verdict([{**MC_GOOD, key: a} for a in ambiguous]), fragment) == "inconclusive"


def test_mode_connectivity_reports_the_k_from_which_training_is_stable():
    exp = get_experiment("mode-connectivity")
    res = synthetic_results(exp, _mc_runs([{**MC_GOOD, "mlp0": 0.004 + 0.001 * i} for i in range(SEEDS)]))
    # the cnn's barrier at k = 0 is 10 % in _mc_runs: stable only from k = 20
    assert exp.stable_from(res) == {"mlp": 0, "cnn": 20}


# -- trajectory-not-landscape -----------------------------------------------------------------
TNL_GOOD = {"sgd": 0.03, "regularized": 0.025, "bad-minimum": 0.2, "adversarial-sgd": 0.15,
            "adversarial-regularized": 0.027}


def _tnl_verdict(values: list[dict], reached: bool = True):
    exp = get_experiment("trajectory-not-landscape")
    runs = []
    for i, v in enumerate(values):
        rows = [{"solution": k, "init": "x", "training": "x", "steps": 10, "reached_zero_error": reached,
                 "train_error": 0.0, "test_error": e + 0.002 * i, "pretrain_steps": 5} for k, e in v.items()]
        runs.append({"solutions": pd.DataFrame(rows)})
    return exp.check(synthetic_results(exp, runs))


@pytest.mark.parametrize(("key", "fragment", "bad", "ambiguous"), [
    ("bad-minimum", "bad global minima exist", 0.06, [0.05, 0.25, 0.08, 0.2, 0.13]),
    ("sgd", "does not land near", 0.1, [0.03, 0.06, 0.035, 0.07, 0.05]),
    ("adversarial-sgd", "Liu v1", 0.04, [0.01, 0.15, 0.02, 0.12, 0.08]),
    ("adversarial-regularized", "Liu v2", 0.1, [0.0, 0.09, 0.01, 0.08, 0.04]),
])
def test_trajectory_checks_have_three_outcomes(key, fragment, bad, ambiguous):
    good = _tnl_verdict([TNL_GOOD] * SEEDS)
    assert good.status == "supported", good.summary()
    assert status_of(_tnl_verdict([{**TNL_GOOD, key: bad}] * SEEDS), fragment) == "not supported"
    assert status_of(_tnl_verdict([{**TNL_GOOD, key: a} for a in ambiguous]), fragment) == "inconclusive"


def test_trajectory_solutions_without_zero_training_error_are_left_out():
    v = _tnl_verdict([TNL_GOOD] * SEEDS, reached=False)
    assert v.status == "inconclusive"


def test_mode_connectivity_does_not_judge_pairs_of_untrained_networks():
    runs = _mc_runs([MC_GOOD] * SEEDS)
    for r in runs:
        r["barriers"]["error_a"] = 0.9
        r["barriers"]["error_b"] = 0.9
    exp = get_experiment("mode-connectivity")
    v = exp.check(synthetic_results(exp, runs))
    assert v.status == "inconclusive" and all(c.status == "inconclusive" for c in v.checks)
