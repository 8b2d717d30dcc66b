"""Intrinsic dimension of a point cloud, scikit-learn style, on top of scikit-dimension.

Claim B of theorylab (Pope et al. 2021, ICLR, arXiv 2104.08894; Ansuini et al. 2019, NeurIPS,
arXiv 1905.12784): natural data and network representations have an intrinsic dimension far
below the ambient one. :class:`IntrinsicDimension` gives every estimator of
scikit-dimension (``skdim.id``: TwoNN, lPCA, DANCo, ESS, CorrInt, TLE, MiND_ML, FisherS, MADA,
MOM, KNN, GRIDE, PH) one interface with bootstrap intervals and pointwise estimates.

Our own code only where skdim lacks something:

* ``method="mle"``: Levina–Bickel MLE with a **k sweep** from ONE nearest-neighbour query,
  vectorised (skdim's ``MLE`` loops over points in Python and refits per k). Points are
  combined by the average of inverses (MacKay & Ghahramani 2005), as Pope et al.'s
  ``--average-inverse`` and skdim's ``comb="mle"`` do; the numbers equal skdim's
  ``MLE().fit(X, n_neighbors=k, comb="mle")`` (checked in tests and benchmarks/dimension.py).
* ``method="twonn"``: skdim's TwoNN fit, fed the two nearest-neighbour distances from one
  kNN query (skdim itself sorts whole distance rows for D > 25, O(n² log n)).
* Bootstrap intervals (skdim has none): resample points with replacement, drop repeated
  points (kNN estimators break on zero distances), refit; the percentile interval of the
  refits is ``interval_``. Each refit sees ≈ 63% distinct points, so the interval describes
  the estimator's spread at that size; kNN estimators read slightly lower at smaller n.

Known biases (see references/robustness.md §4): kNN estimators read low above d ≈ 15 at
n ≈ 2,500; DANCo and lPCA saturate at the ambient dimension; MiND_ML is capped at ``D=10``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.neighbors import NearestNeighbors

from theorylab.errors import TheorylabError

__all__ = [
    "METHODS",
    "DimensionError",
    "IntrinsicDimension",
    "concentration_dimension",
    "knn_distances",
    "mle_levina_bickel",
]

# our name -> skdim class name; "mle" is ours (vectorised k sweep)
_SKDIM = {
    "twonn": "TwoNN",
    "lpca": "lPCA",
    "danco": "DANCo",
    "ess": "ESS",
    "corrint": "CorrInt",
    "tle": "TLE",
    "mind_ml": "MiND_ML",
    "fishers": "FisherS",
    "mada": "MADA",
    "mom": "MOM",
    "knn": "KNN",
    "gride": "GRIDE",
    "ph": "PH",
}
_LOCAL = {"ess", "tle", "mada", "mom"}  # skdim local estimators: dimension_pw_ from fit(n_neighbors=k)
METHODS: tuple[str, ...] = ("mle", *_SKDIM)


class DimensionError(TheorylabError, ValueError):
    """Data or parameters an intrinsic-dimension estimator cannot use."""


def _check_X(X: Any, min_rows: int = 3, estimator: Any = None, min_features: int = 1) -> np.ndarray:
    """scikit-learn's validation (its messages), raised as :class:`DimensionError` (a ValueError)."""
    from sklearn.utils.validation import check_array, validate_data

    try:
        kw = {"dtype": np.float64, "ensure_min_samples": min_rows, "ensure_min_features": min_features}
        return validate_data(estimator, X, **kw) if estimator is not None else check_array(X, **kw)
    except ValueError as e:
        raise DimensionError(str(e)) from None


def knn_distances(X: np.ndarray, k: int, n_jobs: int | None = None) -> np.ndarray:
    """(n, k) sorted Euclidean distances from each point to its k nearest *other* points.

    Assumes no repeated points (``IntrinsicDimension.fit`` removes them).
    """
    nn = NearestNeighbors(n_neighbors=k + 1, n_jobs=n_jobs).fit(X)
    dist, idx = nn.kneighbors(X)
    self_col = idx == np.arange(len(X))[:, None]
    # drop the query point itself (normally column 0; ties at distance 0 cannot occur here)
    keep = ~self_col
    keep[keep.sum(1) > k, -1] = False
    return dist[keep].reshape(len(X), k)


def mle_levina_bickel(dists: np.ndarray, k: int) -> tuple[float, np.ndarray]:
    """Levina–Bickel MLE of intrinsic dimension from sorted kNN distances.

    Pointwise (Levina & Bickel 2004, NeurIPS): m̂_k(x_i) = (k - 1) / Σ_{j≤k} log(T_k(x_i)/T_j(x_i)),
    with T_j the distance to the j-th neighbour. Global: 1 / mean_i(1 / m̂_k(x_i))
    (MacKay & Ghahramani 2005; Pope et al. 2021's ``--average-inverse``).

    Parameters
    ----------
    dists : (n, K) sorted neighbour distances, K ≥ k ≥ 2, all > 0.
    k : number of neighbours.

    Returns
    -------
    (global estimate, (n,) pointwise estimates)
    """
    if not 2 <= k <= dists.shape[1]:
        raise DimensionError(f"MLE needs 2 ≤ k ≤ {dists.shape[1]}, got k={k}")
    T = dists[:, :k]
    logs = np.log(T[:, -1:] / T).sum(axis=1)  # the j = k term is log 1 = 0
    with np.errstate(divide="ignore"):
        pw = (k - 1) / logs
    inv = np.mean(logs / (k - 1))
    return float(1.0 / inv), pw


class IntrinsicDimension(BaseEstimator):
    """Intrinsic dimension estimator: ``IntrinsicDimension(method="twonn").fit(X).dimension_``.

    Parameters
    ----------
    method : one of :data:`METHODS` (``"mle"``, ``"twonn"``, ``"lpca"``, ``"danco"``, ...).
    k : neighbours for kNN methods. For ``"mle"`` an int or a sequence (the k sweep of
        Pope et al., e.g. ``(3, 5, 10, 20)``); for skdim's local estimators (ESS, TLE, MADA,
        MOM) the neighbourhood size. Ignored by global estimators (pass ``params``).
    n_bootstrap : bootstrap refits for ``interval_`` (0: no interval).
    ci : coverage of the percentile bootstrap interval.
    pointwise : for global skdim estimators, also compute ``dimension_pw_`` with skdim's
        ``fit_pw`` (each point's ``pw_neighbors`` neighbourhood; slow). Local estimators and
        MLE always give ``dimension_pw_``.
    pw_neighbors : neighbourhood size of ``fit_pw``.
    params : extra keyword arguments for the skdim estimator's constructor
        (e.g. ``{"discard_fraction": 0.1}`` for TwoNN, ``{"D": 20}`` for MiND_ML).
    random_state : seeds the bootstrap resampling.

    Attributes
    ----------
    dimension_ : float, the estimate (for an MLE k sweep: the median over k).
    dimension_k_ : dict k -> estimate (MLE only).
    dimension_pw_ : (n_unique,) pointwise estimates, or None.
    interval_ : (lo, hi) bootstrap interval, or None.
    bootstrap_ : (n_bootstrap,) refit estimates.
    n_duplicates_ : repeated points removed before fitting.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).standard_normal((1000, 3)) @ np.eye(3, 10)
    >>> round(IntrinsicDimension("mle", k=10).fit(X).dimension_)
    3
    """

    def __init__(
        self,
        method: str = "twonn",
        k: int | Sequence[int] = 20,
        n_bootstrap: int = 0,
        ci: float = 0.95,
        pointwise: bool = False,
        pw_neighbors: int = 100,
        params: dict[str, Any] | None = None,
        random_state: int | None = 0,
    ) -> None:
        self.method = method
        self.k = k
        self.n_bootstrap = n_bootstrap
        self.ci = ci
        self.pointwise = pointwise
        self.pw_neighbors = pw_neighbors
        self.params = params
        self.random_state = random_state

    # -- validation ----------------------------------------------------------------------------
    def _ks(self) -> tuple[int, ...]:
        ks = (self.k,) if isinstance(self.k, (int, np.integer)) else tuple(self.k)
        if not ks or any(int(k) < 2 for k in ks):
            raise DimensionError(f"k must be an int ≥ 2 or a non-empty sequence of them, got {self.k!r}")
        return tuple(sorted(int(k) for k in ks))

    def _validate_params(self) -> None:
        if self.method not in METHODS:
            raise DimensionError(f"unknown method {self.method!r} (allowed: {', '.join(METHODS)})")
        self._ks()
        if self.method != "mle" and self.method in _LOCAL and not isinstance(self.k, (int, np.integer)):
            raise DimensionError(f"method {self.method!r} takes one k, got {self.k!r}")
        if int(self.n_bootstrap) < 0:
            raise DimensionError(f"n_bootstrap must be ≥ 0, got {self.n_bootstrap}")
        if not 0 < self.ci < 1:
            raise DimensionError(f"ci must lie in (0, 1), got {self.ci}")

    # -- core: a pure function of X (never touches fitted state) ----------------------------------
    def _estimate(self, X: np.ndarray, *, with_pw: bool) -> tuple[float, dict[int, float], np.ndarray | None]:
        if self.method == "mle":
            ks = self._ks()
            if ks[-1] >= len(X):
                raise DimensionError(f"MLE with k={ks[-1]} needs more than {ks[-1]} distinct points, got {len(X)}")
            dists = knn_distances(X, ks[-1])
            per_k, pw = {}, None
            for k in ks:
                per_k[k], pw = mle_levina_bickel(dists, k)
            return float(np.median(list(per_k.values()))), per_k, pw
        import skdim

        est = getattr(skdim.id, _SKDIM[self.method])(**(self.params or {}))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # skdim warns about n_neighbors clipping and FisherS internals
            if self.method in _LOCAL:
                k = min(self._ks()[0], len(X) - 1)
                est.fit(X, n_neighbors=k)
                pw = np.asarray(est.dimension_pw_, dtype=float)
            elif self.method == "twonn" and not est.dist:
                # skdim's TwoNN sorts full distance rows when D > 25 (O(n² log n)); we hand it
                # the two nearest-neighbour distances from one kNN query instead (its dist=True
                # input), so the estimate is skdim's own fit on identical (r1, r2)
                est.set_params(dist=True).fit(knn_distances(X, 2))
                pw = None
                if with_pw and self.pointwise:
                    pw_est = skdim.id.TwoNN(**(self.params or {}))
                    pw_est.fit_pw(X, n_neighbors=min(self.pw_neighbors, len(X) - 1))
                    pw = np.asarray(pw_est.dimension_pw_, dtype=float)
            else:
                est.fit(X)
                pw = None
                if with_pw and self.pointwise:
                    est.fit_pw(X, n_neighbors=min(self.pw_neighbors, len(X) - 1))
                    pw = np.asarray(est.dimension_pw_, dtype=float)
        return float(est.dimension_), {}, pw

    # -- estimator API -----------------------------------------------------------------------------
    def fit(self, X: Any, y: Any = None) -> IntrinsicDimension:
        """Estimate the intrinsic dimension of the rows of ``X`` (n_points, n_features)."""
        self._validate_params()
        # scikit-dimension's estimators need ≥ 2 features; every kNN estimator ≥ 3 points
        X = _check_X(X, 3, self, min_features=1 if self.method == "mle" else 2)
        # repeated points give zero neighbour distances (log 0 in kNN estimators): drop them,
        # keeping first occurrences in the original order; rows compared as raw bytes (fast)
        rows = np.ascontiguousarray(X).view(np.dtype((np.void, X.dtype.itemsize * X.shape[1]))).ravel()
        _, first = np.unique(rows, return_index=True)
        if len(first) < 3:
            raise DimensionError(f"X has only {len(first)} distinct points")
        self.n_duplicates_ = len(X) - len(first)
        Xu = X if len(first) == len(X) else X[np.sort(first)]
        self.dimension_, self.dimension_k_, self.dimension_pw_ = self._estimate(Xu, with_pw=True)
        self.bootstrap_ = np.empty(0)
        self.interval_ = None
        if self.n_bootstrap:
            rng = np.random.default_rng(self.random_state)
            reps = []
            for _ in range(int(self.n_bootstrap)):
                idx = np.unique(rng.integers(0, len(Xu), len(Xu)))
                reps.append(self._estimate(Xu[idx], with_pw=False)[0])
            self.bootstrap_ = np.asarray(reps)
            a = (1 - self.ci) / 2
            self.interval_ = (float(np.quantile(self.bootstrap_, a)), float(np.quantile(self.bootstrap_, 1 - a)))
        return self


def concentration_dimension(X: Any, *, n_anchors: int = 32, seed: int = 0) -> float:
    """The dimension d at which the data concentrate like a c = 1 isoperimetric law.

    Bubeck & Sellke's Definition 1.1 with c = 1 bounds the variance of any 1-Lipschitz f by
    about 1/d once the data are scaled to E‖x - E x‖² = 1 (for N(0, I_d / d) a unit
    projection has variance exactly 1/d). We therefore report
    d_iso = 1 / max_f Var f over 1-Lipschitz test functions: every linear functional (the
    maximum, λ_max of the covariance, is attained by the top principal direction) and the
    distances ‖x - a‖ to ``n_anchors`` random data points a. Larger test families can only
    lower d_iso: this is an upper estimate of the concentration dimension.

    Parameters
    ----------
    X : (n, D) data. seed : picks the anchors.

    Returns
    -------
    d_iso (dimensionless). N(0, I_D) gives ≈ D; k-dim data embedded linearly in R^D gives ≈ k.
    """
    X = _check_X(X)
    Z = X - X.mean(axis=0)
    scale = np.sqrt(np.mean(np.einsum("ij,ij->i", Z, Z)))
    if scale == 0:
        raise DimensionError("X has zero spread")
    Z = Z / scale  # E‖x‖² = 1: the radius-1 normalisation of the law of robustness
    lam_max = float(np.linalg.eigvalsh(np.cov(Z, rowvar=False, bias=True).reshape(Z.shape[1], Z.shape[1]))[-1])
    rng = np.random.default_rng(seed)
    anchors = Z[rng.choice(len(Z), size=min(n_anchors, len(Z)), replace=False)]
    dist_var = max(float(np.var(np.linalg.norm(Z - a, axis=1))) for a in anchors)
    return 1.0 / max(lam_max, dist_var)
