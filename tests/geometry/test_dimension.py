"""IntrinsicDimension against scikit-dimension and benchmark manifolds of known dimension.

Tolerances: our vectorised MLE equals skdim's MLE(comb="mle") to 1e-10 relative; on manifolds
with d ≤ 6 at n = 1,500, TwoNN and MLE within 15% of the true d (the kNN bias is small there;
see references/robustness.md §4 for d ≳ 15).
"""

from __future__ import annotations

import numpy as np
import pytest
import skdim
from sklearn.datasets import make_swiss_roll

from theorylab.geometry.dimension import (
    METHODS,
    DimensionError,
    IntrinsicDimension,
    concentration_dimension,
    mle_levina_bickel,
)


def _linear(n: int, k: int, D: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((D, k)))
    return rng.standard_normal((n, k)) @ Q.T


MANIFOLDS = {
    "ball5": (lambda: skdim.datasets.hyperBall(1500, 5, random_state=0), 5),
    "sphere4": (lambda: skdim.datasets.hyperSphere(1500, 4, random_state=0), 4),
    "swiss_roll": (lambda: make_swiss_roll(1500, random_state=0)[0], 2),
    "linear3in20": (lambda: _linear(1500, 3, 20, 0), 3),
    "M4_Nonlinear": (lambda: skdim.datasets.BenchmarkManifolds(random_state=0).generate("M4_Nonlinear", n=1500, dim=8, d=4), 4),
}


@pytest.mark.parametrize("name", sorted(MANIFOLDS))
@pytest.mark.parametrize("method", ["twonn", "mle"])
def test_known_dimension(name, method):
    make, d = MANIFOLDS[name]
    est = IntrinsicDimension(method, k=(5, 10, 20) if method == "mle" else 20).fit(make()).dimension_
    assert abs(est - d) / d <= 0.15, (name, method, est)


@pytest.mark.parametrize("k", [5, 10, 20])
def test_mle_equals_skdim(k):
    X = skdim.datasets.hyperBall(800, 6, random_state=1)
    ours = IntrinsicDimension("mle", k=k).fit(X)
    ref = skdim.id.MLE().fit(X, n_neighbors=k, comb="mle")
    assert ours.dimension_ == pytest.approx(ref.dimension_, rel=1e-10)
    np.testing.assert_allclose(ours.dimension_pw_, ref.dimension_pw_, rtol=1e-10)


@pytest.mark.parametrize("method", ["twonn", "lpca", "corrint", "mind_ml", "tle"])
def test_wrapper_equals_direct_skdim(method):
    X = skdim.datasets.hyperBall(600, 4, random_state=2)
    cls = getattr(skdim.id, {"twonn": "TwoNN", "lpca": "lPCA", "corrint": "CorrInt", "mind_ml": "MiND_ML", "tle": "TLE"}[method])
    ref = cls().fit(X, n_neighbors=20).dimension_ if method == "tle" else cls().fit(X).dimension_
    assert IntrinsicDimension(method, k=20).fit(X).dimension_ == pytest.approx(ref, rel=1e-12)


def test_mle_k_sweep_and_pointwise():
    X = skdim.datasets.hyperBall(600, 3, random_state=0)
    e = IntrinsicDimension("mle", k=(20, 5, 10)).fit(X)
    assert sorted(e.dimension_k_) == [5, 10, 20]
    assert e.dimension_ == pytest.approx(np.median(list(e.dimension_k_.values())))
    assert e.dimension_pw_.shape == (600,)
    # pure function: the pointwise values average (by inverses) to the global one
    assert 1 / np.mean(1 / e.dimension_pw_) == pytest.approx(e.dimension_k_[20])


def test_bootstrap_interval_deterministic():
    X = skdim.datasets.hyperBall(500, 4, random_state=0)
    a = IntrinsicDimension("twonn", n_bootstrap=20, random_state=3).fit(X)
    b = IntrinsicDimension("twonn", n_bootstrap=20, random_state=3).fit(X)
    assert a.interval_ == b.interval_
    lo, hi = a.interval_
    assert lo < hi and lo < 4.6 and hi > 3.4
    assert IntrinsicDimension("twonn").fit(X).interval_ is None


def test_global_pointwise_via_fit_pw():
    X = skdim.datasets.hyperBall(300, 3, random_state=0)
    e = IntrinsicDimension("lpca", pointwise=True, pw_neighbors=50).fit(X)
    assert e.dimension_pw_.shape == (300,) and np.median(e.dimension_pw_) == pytest.approx(3, abs=1)


def test_duplicates_removed_and_errors():
    X = skdim.datasets.hyperBall(300, 3, random_state=0)
    e = IntrinsicDimension("mle", k=10).fit(np.vstack([X, X[:7]]))
    assert e.n_duplicates_ == 7 and np.isfinite(e.dimension_)
    with pytest.raises(DimensionError, match="unknown method"):
        IntrinsicDimension("pca").fit(X)
    with pytest.raises(DimensionError, match="NaN"):
        IntrinsicDimension().fit(np.full((10, 3), np.nan))
    with pytest.raises(DimensionError, match="2D array"):
        IntrinsicDimension().fit(np.zeros(10))
    with pytest.raises(DimensionError, match="k must"):
        IntrinsicDimension("mle", k=1).fit(X)
    with pytest.raises(DimensionError, match="distinct"):
        IntrinsicDimension().fit(np.zeros((10, 3)))
    with pytest.raises(DimensionError, match="2 ≤ k"):
        mle_levina_bickel(np.ones((5, 3)), 4)
    assert "danco" in METHODS and "mle" in METHODS


def test_concentration_dimension():
    rng = np.random.default_rng(0)
    assert concentration_dimension(rng.standard_normal((5000, 10))) == pytest.approx(10, rel=0.15)
    assert concentration_dimension(_linear(5000, 3, 40, 1)) == pytest.approx(3, rel=0.15)
