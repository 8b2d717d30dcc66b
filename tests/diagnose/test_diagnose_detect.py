"""AUROC from one sort (against scikit-learn), paired bootstrap by weights (against explicit
resampling), and the pre-registered geometry-vs-PyOD check in each of its three states."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from theorylab.diagnose.detect import (
    auroc,
    auroc_table,
    compare_families,
    run_detectors,
    weighted_auroc,
)


def test_auroc_equals_sklearn_with_ties() -> None:
    rng = np.random.default_rng(0)
    for _ in range(20):
        s = rng.integers(0, 6, 80).astype(float)  # many ties
        y = rng.random(80) < 0.3
        assert auroc(s, y) == pytest.approx(roc_auc_score(y, s))
    s[:5] = np.nan  # NaN scores drop out
    assert auroc(s, y) == pytest.approx(roc_auc_score(y[5:], s[5:]))
    assert np.isnan(auroc(s, np.zeros(80, bool)))


def test_weights_equal_explicit_resampling() -> None:
    rng = np.random.default_rng(1)
    s, y = rng.standard_normal(50), rng.random(50) < 0.4
    idx = rng.integers(0, 50, (30, 50))
    W = np.stack([np.bincount(i, minlength=50) for i in idx]).astype(float)
    got = weighted_auroc(s, y, W)
    want = [roc_auc_score(y[i], s[i]) for i in idx]
    np.testing.assert_allclose(got, want)


def _scores(geo_shift: float, pyod_shift: float, m: int = 400, seed: int = 2) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    wrong = rng.random(m) < 0.3
    scores = [
        {"column": "g", "label": "geo", "family": "geometry", "space": "input",
         "values": rng.standard_normal(m) + geo_shift * wrong},
        {"column": "p", "label": "pyod", "family": "PyOD", "space": "input",
         "values": rng.standard_normal(m) + pyod_shift * wrong},
        {"column": "c", "label": "-margin", "family": "model confidence", "space": "model",
         "values": rng.standard_normal(m) + 5.0 * wrong},
    ]
    return auroc_table(scores, wrong, 500, 0)


@pytest.mark.parametrize(("geo", "pyod", "status"), [
    (2.0, 0.0, "supported"),        # geometry separates the errors, PyOD does not
    (0.0, 2.0, "not supported"),    # the other way round
    (1.0, 1.0, "inconclusive"),     # the same effect: the interval straddles 0
])
def test_comparison_has_three_states(geo: float, pyod: float, status: str) -> None:
    table, boots = _scores(geo, pyod)
    check, est = compare_families(table, boots)
    assert check.status == status
    assert est.lo <= est.value <= est.hi
    # the model's own confidence is shown but belongs to neither family
    assert est.value == pytest.approx(table.auroc[0] - table.auroc[1])


def test_detectors_score_larger_for_outliers() -> None:
    rng = np.random.default_rng(3)
    X = rng.standard_normal((300, 4))
    Q = np.vstack([rng.standard_normal((20, 4)), 6 + rng.standard_normal((20, 4))])
    out, notes = run_detectors(X, Q, ("knn", "lof", "iforest", "ecod"), 100, 0, 0)
    assert notes and "100 of 300" in notes[0]
    truth = np.r_[np.zeros(20, bool), np.ones(20, bool)]
    for name, s in out.items():
        assert auroc(s, truth) > 0.9, name
    again, _ = run_detectors(X, Q, ("iforest",), 100, 0, 0)
    np.testing.assert_array_equal(again["iforest"], out["iforest"])  # seeded
