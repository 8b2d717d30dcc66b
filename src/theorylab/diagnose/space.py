"""Where queries stand relative to training points in one space (the input, or a layer's output).

Notions of "inside", side by side (Balestriero, Pesenti & LeCun 2021, arXiv 2110.09485, and
the readers who asked for softer ones):

* ``in_hull`` / ``hull_distance`` — convex-hull membership, certified
  (:func:`theorylab.geometry.in_hull`), and the Euclidean distance to the hull (data units);
  ``hull_distance_lower`` is the separating hyperplane's certified lower bound;
* ``in_ellipsoid`` / ``ellipsoid_mahalanobis`` — the minimum-volume enclosing ellipsoid
  (≤ 1 inside), fitted in the top principal components when the affine dimension is large;
* ``in_box`` / ``in_range_fraction`` — the bounding box and the per-coordinate in-range fraction;
* ``knn_distance`` / ``knn_percentile`` — distance to the k-th nearest training point, and its
  percentile among the training points' own leave-one-out k-th neighbour distances.

Plus the dimension of the training cloud: affine dimension d* (the paper's), and intrinsic
dimension by several estimators with bootstrap intervals (Pope et al. 2021; Ansuini et al. 2019).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from theorylab.arrays import subsample
from theorylab.seeding import child_seed

if TYPE_CHECKING:
    from theorylab.diagnose.options import DiagnoseOptions
    from theorylab.diagnose.progress import StageProgress

__all__ = ["SpaceResult", "auto_hull_queries", "measure_space", "space_costs"]

_HULL_WORK = 4e8  # queries × training points × (dim + 50) below which every query gets the hull
_MVEE_MAX_ITER = 20_000  # iterations of the ellipsoid fit; the result encloses every point regardless
_MVEE_START = 4000  # points of the first working set of the ellipsoid fit
_MVEE_ADD = 1000  # points left outside that join the working set per round (the farthest)
_MLE_KS = (5, 10, 20)  # the k sweep of Pope et al. 2021 (Levina–Bickel MLE)


@dataclass
class SpaceResult:
    """What :func:`measure_space` found in one space.

    Attributes
    ----------
    name : ``"input"`` or a layer label (``"3:ReLU"``).
    columns : per-query arrays (length M); hull columns are NaN off the hull sample.
    summary : scalars for the report (fractions are :class:`~theorylab.engine.stats.Estimate`).
    reference : training-side distributions (``knn_distance`` leave-one-out, ``ellipsoid``).
    dimension : rows (space, method, estimate, lo, hi, points, note).
    notes : what was approximated or sampled here, in words.
    """

    name: str
    columns: dict[str, np.ndarray] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    reference: dict[str, np.ndarray] = field(default_factory=dict)
    dimension: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def auto_hull_queries(n_train: int, n_query: int, dim: int, requested: int | None) -> int:
    """How many queries get the exact hull (membership and distance).

    ``requested`` if given; else all while queries × training points × (dim + 50) ≤ 4·10⁸ (an
    exact projection costs about N·(d + 50) per query), else a sample of that size, at least 200.
    """
    if requested is not None:
        return min(requested, n_query)
    per_query = max(n_train, 1) * (dim + 50)
    if n_query * per_query <= _HULL_WORK:
        return n_query
    return min(n_query, max(200, int(_HULL_WORK // per_query)))


def space_costs(n: int, m: int, d: int, n_hull: int, opts: DiagnoseOptions) -> dict[str, float]:
    """Rough seconds on one core for each stage of :func:`measure_space` (for the ETA only)."""
    flop = 5e-11  # seconds per multiply-add of a BLAS distance product, one core
    r = min(opts.reference_points, n)
    ids = min(opts.id_points, n)
    return {
        "hull": n_hull * n * (d + 50) * 4e-9 + n * m * d * flop,
        "knn": (m + r) * n * d * flop * 2,
        "ellipsoid": 2e-7 * n * min(d, opts.ellipsoid_max_dim) ** 1.5 + n * d * d * flop,
        "dimension": len(opts.id_methods) * (1 + opts.id_bootstrap) * ids * ids * d * flop * 2,
    }


def _enclosing_ellipsoid(Z: np.ndarray, tol: float, seed: int) -> Any:
    """The minimum-volume ellipsoid of all rows of ``Z``, fitted on a growing working set.

    If the MVEE of a subset S encloses every point, it is the MVEE of all of them (any ellipsoid
    enclosing all points encloses S, so none is smaller). So: fit on a seeded sample plus the
    extreme points along every coordinate, add the points left outside (the farthest first),
    refit, until none is outside. Exact for the same ε as one fit on all points, at the cost
    of fits on a few thousand.
    """
    from theorylab.geometry import MinVolumeEllipsoid

    n = len(Z)
    if n <= _MVEE_START:
        return MinVolumeEllipsoid(tol=tol, max_iter=_MVEE_MAX_ITER).fit(Z)
    rng = np.random.default_rng(seed)
    work = np.unique(np.concatenate([rng.choice(n, _MVEE_START, replace=False), Z.argmax(axis=0), Z.argmin(axis=0)]))
    for _ in range(20):
        ell = MinVolumeEllipsoid(tol=tol, max_iter=_MVEE_MAX_ITER).fit(Z[work])
        out = np.flatnonzero(~ell.contains(Z, tol=1e-9))
        if not len(out):
            return ell
        far = out[np.argsort(-ell.mahalanobis(Z[out]), kind="stable")[:_MVEE_ADD]]
        work = np.union1d(work, far)
    return MinVolumeEllipsoid(tol=tol, max_iter=_MVEE_MAX_ITER).fit(Z)


def _wilson(k: int, n: int):
    from theorylab.engine.stats import proportion_interval

    return proportion_interval(k, n)


def measure_space(name: str, Xtr: np.ndarray, Xq: np.ndarray, hull_idx: np.ndarray, opts: DiagnoseOptions,
                  key: int, prog: StageProgress, *, train_note: str | None = None) -> SpaceResult:
    """Every notion of "inside" and the dimension of ``Xtr``, for queries ``Xq``, in one space.

    Parameters
    ----------
    name : the space's label. Xtr : (N, d) training points (possibly a stated sample).
    Xq : (M, d) queries. hull_idx : sorted indices of the queries that get the exact hull.
    key : integer naming this space in the seed tree (samples differ between spaces).
    prog : progress; stages are ``f"{name}/hull"``, ``/knn``, ``/ellipsoid``, ``/dimension``.
    """
    n, d = Xtr.shape
    res = SpaceResult(name)
    if train_note:
        res.notes.append(train_note)
    res.summary.update({"dim": d, "n_train": n, "n_query": Xq.shape[0]})
    with prog.stage(f"{name}/hull"):
        dstar = _hull_and_box(res, Xtr, Xq, hull_idx, child_seed(opts.seed, key, 0))
    with prog.stage(f"{name}/knn"):
        ref_idx = _nearest_neighbours(res, Xtr, Xq, opts, key)
    with prog.stage(f"{name}/ellipsoid"):
        _ellipsoid(res, Xtr, Xq, ref_idx, dstar, opts, key)
    with prog.stage(f"{name}/dimension"):
        _dimension(res, Xtr, dstar, opts, key)
    return res


def _hull_and_box(res: SpaceResult, Xtr: np.ndarray, Xq: np.ndarray, hull_idx: np.ndarray, seed: int) -> int:
    """Affine dimension d*, certified hull membership and distance (on ``hull_idx``), box and
    in-range fraction (every query). Returns d*."""
    from theorylab.geometry import affine_dimension, in_box, in_hull, in_range_fraction

    n, d = Xtr.shape
    m = Xq.shape[0]
    dstar = affine_dimension(Xtr) if min(n, d) <= 4096 else affine_dimension(
        Xtr[np.random.default_rng(seed).choice(n, 4096, replace=False)])
    res.summary["affine_dim"] = int(dstar)
    hull = in_hull(Xtr, Xq[hull_idx], distance=True)
    cols = {k: np.full(m, np.nan) for k in ("in_hull", "hull_distance", "hull_distance_lower", "hull_certified")}
    cols["in_hull"][hull_idx] = hull.inside
    cols["hull_distance"][hull_idx] = hull.distance
    cols["hull_distance_lower"][hull_idx] = hull.distance_lower
    cols["hull_certified"][hull_idx] = hull.certified
    res.columns.update(cols)
    res.columns["in_box"] = in_box(Xtr, Xq).astype(float)
    res.columns["in_range_fraction"] = in_range_fraction(Xtr, Xq)
    nh = len(hull_idx)
    res.summary.update({
        "hull_queries": nh,
        "in_hull": _wilson(int(hull.inside.sum()), nh),
        "hull_distance_median": float(np.median(hull.distance)) if nh else np.nan,
        "hull_all_certified": bool(hull.certified.all()),
        "in_box": _wilson(int(res.columns["in_box"].sum()), m),
        "in_range_fraction_mean": float(res.columns["in_range_fraction"].mean()),
    })
    if nh < m:
        res.notes.append(f"hull membership and distance (exact, certified) on a seeded sample of {nh:,} "
                         f"of {m:,} queries: each costs a projection onto the hull of {n:,} points")
    return dstar


def _nearest_neighbours(res: SpaceResult, Xtr: np.ndarray, Xq: np.ndarray, opts: DiagnoseOptions,
                        key: int) -> np.ndarray:
    """k-th neighbour distances of the queries and their percentiles among the leave-one-out
    distances of a seeded sample of training points. Returns that sample's (sorted) indices."""
    from theorylab.geometry import knn_distance

    n = Xtr.shape[0]
    m = Xq.shape[0]
    k = min(opts.k, n - 1)
    ref_idx = subsample(n, opts.reference_points, child_seed(opts.seed, key, 1))
    ref = np.sort(knn_distance(Xtr, Xtr[ref_idx], k=k + 1))  # self is the 1st neighbour
    dq = knn_distance(Xtr, Xq, k=k)
    pct = 100.0 * np.searchsorted(ref, dq, side="right") / len(ref)
    res.columns["knn_distance"] = dq
    res.columns["knn_percentile"] = pct
    res.reference["knn_distance"] = ref
    scale = float(np.median(ref)) or 1.0
    res.columns["hull_distance_rel"] = res.columns["hull_distance"] / scale
    res.summary.update({
        "k": k,
        "knn_distance_median": float(np.median(dq)),
        "train_knn_distance_median": float(np.median(ref)),
        "knn_percentile_median": float(np.median(pct)),
        "beyond_train_p99": _wilson(int((pct >= 99.0).sum()), m),
    })
    if len(ref_idx) < n:
        res.notes.append(f"kNN percentiles against the leave-one-out distances of {len(ref_idx):,} sampled "
                         f"training points (query distances are to all {n:,})")
    return ref_idx


def _ellipsoid(res: SpaceResult, Xtr: np.ndarray, Xq: np.ndarray, ref_idx: np.ndarray, dstar: int,
               opts: DiagnoseOptions, key: int) -> None:
    """Mahalanobis radius in the minimum-volume enclosing ellipsoid (in the top principal
    components when d* exceeds ``ellipsoid_max_dim``)."""
    if dstar > opts.ellipsoid_max_dim:
        from sklearn.decomposition import PCA

        pca = PCA(opts.ellipsoid_max_dim, svd_solver="randomized", random_state=child_seed(opts.seed, key, 2))
        Ztr, Zq = pca.fit_transform(Xtr), pca.transform(Xq)
        kept = float(pca.explained_variance_ratio_.sum())
        res.notes.append(f"minimum-volume ellipsoid of the top {opts.ellipsoid_max_dim} principal components "
                         f"({kept:.1%} of the variance), not of all {dstar} affine dimensions")
        res.summary["ellipsoid_space"] = f"PCA-{opts.ellipsoid_max_dim}"
    else:
        Ztr, Zq = Xtr, Xq
        res.summary["ellipsoid_space"] = "exact"
    ell = _enclosing_ellipsoid(Ztr, opts.ellipsoid_tol, child_seed(opts.seed, key, 5))
    if not ell.converged_:
        res.notes.append(f"ellipsoid fit stopped at ε = {ell.gap_:.2g} after {ell.n_iter_} steps (it still "
                         "encloses every training point; slightly larger than the minimum)")
    res.columns["ellipsoid_mahalanobis"] = ell.mahalanobis(Zq)
    res.columns["in_ellipsoid"] = ell.contains(Zq).astype(float)
    res.reference["ellipsoid_mahalanobis"] = ell.mahalanobis(Ztr[ref_idx])
    res.summary["in_ellipsoid"] = _wilson(int(res.columns["in_ellipsoid"].sum()), Xq.shape[0])


def _dimension(res: SpaceResult, Xtr: np.ndarray, dstar: int, opts: DiagnoseOptions, key: int) -> None:
    """Rows of ``res.dimension``: d* (exact), then each intrinsic-dimension estimator with its
    bootstrap interval on a seeded sample of ``id_points`` training points."""
    from theorylab.errors import TheorylabError
    from theorylab.geometry import IntrinsicDimension

    n = Xtr.shape[0]
    ids = subsample(n, opts.id_points, child_seed(opts.seed, key, 3))
    Xs = Xtr[ids]
    res.dimension.append({"space": res.name, "method": "affine", "estimate": float(dstar), "lo": np.nan,
                          "hi": np.nan, "points": n, "note": "exact (rank of the centred data)"})
    for method in opts.id_methods:
        kk: Any = _MLE_KS if method == "mle" else 20
        row = {"space": res.name, "method": method, "points": len(ids), "note": ""}
        try:
            est = IntrinsicDimension(method, k=kk, n_bootstrap=opts.id_bootstrap,
                                     random_state=child_seed(opts.seed, key, 4)).fit(Xs)
            lo, hi = est.interval_ or (np.nan, np.nan)
            row.update(estimate=float(est.dimension_), lo=float(lo), hi=float(hi))
        except TheorylabError as e:  # the estimator cannot read this cloud: the row says why
            row.update(estimate=np.nan, lo=np.nan, hi=np.nan, note=str(e))
        res.dimension.append(row)
    if len(ids) < n:
        res.notes.append(f"intrinsic dimension on a seeded sample of {len(ids):,} training points, "
                         f"{opts.id_bootstrap} bootstrap refits per interval")
