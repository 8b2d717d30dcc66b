"""Which notion predicts the model's errors: AUROC of every score, geometry against PyOD.

Every score is oriented before any run so that *larger means more suspect* (farther from the
hull, outside the ellipsoid, farther from the nearest training points, more hyperplanes nearby,
steeper margin, PyOD's anomaly scores); the model's own margin enters as −margin. The AUROC of
a score as a detector of "this query is misclassified" is the Mann–Whitney probability that a
misclassified query scores higher than a correct one (ties count ½); an AUROC below 0.5 means
the notion points the wrong way on this model.

Intervals: a percentile bootstrap over queries (the independent draws), one set of resampled
queries shared by every score, so differences are paired. The pre-registered comparison is

    Δ = max AUROC(geometric scores) − max AUROC(PyOD detectors)

taken inside every bootstrap replicate (the selection of "the best" is part of the statistic),
checked three-state with the engine's rule: the whole interval above 0 → geometry beats the
off-the-shelf detectors on this model; wholly below 0 → it does not (PyOD is better);
straddling 0 → not resolved with these queries.

The detectors (Zhao, Nasrullah & Li 2019, PyOD; JMLR 20(96)): ``KNN`` (distance to the 5th
neighbour), ``LOF`` (novelty mode), ``IForest`` and ``ECOD``, with PyOD's defaults, fitted on the
training points of the same space and scored on the queries (ECOD scores all queries in one
batch: its scores depend on the batch).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from theorylab.arrays import subsample
from theorylab.seeding import child_seed

if TYPE_CHECKING:
    import pandas as pd

    from theorylab.engine.checks import Check
    from theorylab.engine.stats import Estimate

__all__ = ["auroc", "auroc_table", "compare_families", "run_detectors", "weighted_auroc"]

_BOOT_CHUNK = 100  # bootstrap replicates per block: (chunk, queries) weights in memory
DETECTOR_NAMES = {"knn": "PyOD KNN", "lof": "PyOD LOF", "iforest": "PyOD IForest", "ecod": "PyOD ECOD"}


def detector_cost(name: str, n_fit: int, m: int, d: int) -> float:
    """Rough seconds on one core (ETA only)."""
    flop = 5e-11
    return {"knn": (m + n_fit) * n_fit * d * flop * 2, "lof": (m + 2 * n_fit) * n_fit * d * flop * 2,
            "iforest": 2e-5 * (m + n_fit) + 1.0, "ecod": 2e-7 * (m + n_fit) * d}[name]


def run_detectors(Xtr: np.ndarray, Xq: np.ndarray, names: tuple[str, ...], fit_points: int, seed: int,
                  key: int) -> tuple[dict[str, np.ndarray], list[str]]:
    """PyOD anomaly scores of the queries (larger = more anomalous), each detector fitted on ``Xtr``.

    Returns ``({name: (M,) scores}, notes)``; a fit on more than ``fit_points`` training points
    uses a seeded sample of that many (said in the notes).
    """
    notes = []
    n = len(Xtr)
    if n < 21 and set(names) & {"knn", "lof"}:
        notes.append(f"PyOD KNN / LOF use min(default, {n - 1}) neighbours: only {n} training points")
    if n > fit_points:
        Xfit = Xtr[subsample(n, fit_points, child_seed(seed, key, 20))]
        notes.append(f"PyOD detectors fitted on a seeded sample of {fit_points:,} of {n:,} training points")
    else:
        Xfit = Xtr
    out = {}
    n_fit = len(Xfit)
    for name in names:
        if name == "knn":
            from pyod.models.knn import KNN

            det: Any = KNN(n_neighbors=min(5, n_fit - 1))  # PyOD's default 5, unless fewer points
        elif name == "lof":
            from pyod.models.lof import LOF

            det = LOF(n_neighbors=min(20, n_fit - 1), novelty=True)
        elif name == "iforest":
            from pyod.models.iforest import IForest

            det = IForest(random_state=child_seed(seed, key, 21), n_jobs=1)
        else:
            from pyod.models.ecod import ECOD

            det = ECOD()
        det.fit(Xfit)
        out[name] = np.asarray(det.decision_function(Xq), dtype=float)
    return out, notes


def weighted_auroc(score: np.ndarray, positive: np.ndarray, W: np.ndarray) -> np.ndarray:
    """AUROC of ``score`` for ``positive`` under each row of multiplicity weights ``W`` (B, n).

    Mann–Whitney with ties counted ½, computed from one sort of the scores: with weights w,
    AUROC = Σ_pos w_i (W⁻(s < s_i) + ½ W⁻(s = s_i)) / (W⁺ W⁻). A row of ones is the plain AUROC
    (equal to ``sklearn.metrics.roc_auc_score``); bootstrap counts give resampled AUROCs without
    re-sorting. Rows with no positive or no negative weight give NaN.
    """
    if len(score) == 0:  # a score measured at no query (e.g. regions of a non-piecewise-affine net)
        return np.full(len(W), np.nan)
    order = np.argsort(score, kind="stable")
    s = score[order]
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
    pos = positive[order]
    Wo = W[:, order]
    gp = np.add.reduceat(Wo * pos, starts, axis=1)
    gn = np.add.reduceat(Wo * ~pos, starts, axis=1)
    below = np.cumsum(gn, axis=1) - gn
    num = (gp * (below + 0.5 * gn)).sum(axis=1)
    den = gp.sum(axis=1) * gn.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def auroc(score: np.ndarray, positive: np.ndarray) -> float:
    """Plain AUROC (NaN-score rows dropped; NaN without both classes)."""
    ok = np.isfinite(score)
    return float(weighted_auroc(score[ok], positive[ok].astype(bool), np.ones((1, int(ok.sum()))))[0])


def _boot_matrix(scores: list[np.ndarray], positive: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    """(n_boot, n_scores) AUROCs on shared resamples of the queries (NaN rows of a score drop out)."""
    m = len(positive)
    rng = np.random.default_rng(child_seed(seed, 30))
    out = np.empty((n_boot, len(scores)))
    masks = [np.isfinite(s) for s in scores]
    for lo in range(0, n_boot, _BOOT_CHUNK):
        b = min(_BOOT_CHUNK, n_boot - lo)
        W = rng.multinomial(m, np.full(m, 1.0 / m), size=b).astype(float)  # counts of m draws with replacement
        for j, (s, ok) in enumerate(zip(scores, masks, strict=True)):
            out[lo : lo + b, j] = weighted_auroc(s[ok], positive[ok], W[:, ok])
    return out


def auroc_table(scores: list[dict[str, Any]], wrong: np.ndarray, n_boot: int, seed: int
                ) -> tuple[pd.DataFrame, np.ndarray]:
    """AUROC with a 95% bootstrap interval for each score as a detector of ``wrong``.

    ``scores``: dicts with ``column``, ``label``, ``family``, ``space`` and ``values`` (M,),
    oriented larger = more suspect. Returns the table and the (n_boot, n_scores) replicates.
    """
    import pandas as pd

    wrong = np.asarray(wrong, bool)
    boots = _boot_matrix([s["values"] for s in scores], wrong, n_boot, seed)
    rows = []
    for j, s in enumerate(scores):
        v = s["values"]
        ok = np.isfinite(v)
        b = boots[:, j][np.isfinite(boots[:, j])]
        lo, hi = (np.quantile(b, [0.025, 0.975]) if len(b) >= 10 else (np.nan, np.nan))
        rows.append({"column": s["column"], "score": s["label"], "family": s["family"], "space": s["space"],
                     "auroc": auroc(v, wrong), "lo": float(lo), "hi": float(hi), "n": int(ok.sum()),
                     "errors": int(wrong[ok].sum())})
    return pd.DataFrame(rows), boots


def _family_max(boots: np.ndarray, cols: list[int]) -> np.ndarray:
    sub = boots[:, cols]
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(sub).any(axis=1), np.nanmax(np.where(np.isfinite(sub), sub, -np.inf), axis=1),
                        np.nan)


def compare_families(table: pd.DataFrame, boots: np.ndarray) -> tuple[Check | None, Estimate | None]:
    """The pre-registered check: best geometric AUROC − best PyOD AUROC, bootstrap interval, three states."""
    from theorylab.engine.checks import interval_check
    from theorylab.engine.stats import Estimate

    geo = [i for i, f in enumerate(table.family) if f == "geometry"]
    pyod = [i for i, f in enumerate(table.family) if f == "PyOD"]
    if not geo or not pyod:
        return None, None
    point = float(np.nanmax(table.auroc.to_numpy()[geo]) - np.nanmax(table.auroc.to_numpy()[pyod])) \
        if np.isfinite(table.auroc.to_numpy()[geo]).any() and np.isfinite(table.auroc.to_numpy()[pyod]).any() \
        else float("nan")
    delta = _family_max(boots, geo) - _family_max(boots, pyod)
    delta = delta[np.isfinite(delta)]
    lo, hi = (np.quantile(delta, [0.025, 0.975]) if len(delta) >= 10 else (np.nan, np.nan))
    est = Estimate(point, float(lo), float(hi), int(table.n.max()), 0.95, "bootstrap")
    check = interval_check(
        "The best geometric score (hull distance, ellipsoid, kNN distance in any space; region density; "
        "local Lipschitz slope) detects this model's errors better than the best off-the-shelf PyOD "
        "detector (KNN, LOF, IForest, ECOD in the same spaces)",
        "ΔAUROC = max AUROC(geometry) − max AUROC(PyOD), errors on the labelled queries",
        est, above=0.0, effect="any resolved difference; both maxima are taken inside each bootstrap replicate",
        replicates="queries (bootstrap)")
    return check, est
