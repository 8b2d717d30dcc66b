"""Claim C: interpolation vs extrapolation in high dimension (Balestriero, Pesenti & LeCun 2021).

Balestriero, Pesenti & LeCun 2021, "Learning in High Dimension Always Amounts to
Extrapolation", arXiv 2110.09485 ("BPL"): a new sample lies in the convex hull of N training
samples with vanishing probability unless N grows exponentially with d*, the dimension of the
data's affine hull — in pixel space and in trained embeddings of ~30 dimensions alike.

Experiments (membership is always :func:`theorylab.geometry.in_hull`: exact and certified):

* ``hull-vs-dimension`` (claim, Fig. 1): N₅₀ per d against the published values, the growth
  factor per dimension, and the 4-dim affine-subspace control that must not grow.
* ``hull-oracles`` (instrument): Wendel, the box formula and Efron's identity against direct
  membership counts — exact results that check the measuring, not claims.
* ``hull-pixel-space`` (claim, Fig. 3): test images inside the hull of the whole training set at
  native resolution, the minimum-volume enclosing ellipsoid beside it, and the fall with kept
  dimension.
* ``hull-latent-space`` (claim, Table 1): every layer of trained nets, separately.
* ``dimred-illusion`` (claim, Fig. 5): hypercube vertices look interpolating in 2-D embeddings.
* ``augmentation-hull`` (theorylab's extension): each augmentation against fresh real samples.
* ``proximity-vs-error`` (Bonnasse-Gahot 2022's reading): farther from the training data →
  more errors, on a classifier above the MNIST-1D MLP baseline.

Departures from the sources: P(in hull) in ``hull-vs-dimension`` is measured leave-one-out (each
of N + 1 i.i.d. points against the hull of the other N — by exchangeability the probability that
a new sample falls in the hull of N, Efron 1965 — at N + 1 queries per draw instead of one); Fig. 3
uses scikit-learn digits and MNIST-1D (MNIST/CIFAR-10 from a user's ``data_root``); Table 1's
cell values could not be retrieved, so its threshold is the text's "almost never"; the MVEE and
augmentation studies are the lab's extensions.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

import numpy as np
from pydantic import Field, model_validator

from theorylab.engine.checks import Check, against_reference, interval_check, worst_of
from theorylab.engine.config import ExperimentConfig
from theorylab.engine.experiment import Experiment
from theorylab.engine.stats import Estimate
from theorylab.seeding import child_seed, rng

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from theorylab.engine.results import Results

__all__ = [
    "AugmentationHull",
    "DimRedIllusion",
    "HullLatentSpace",
    "HullOracles",
    "HullPixelSpace",
    "HullVsDimension",
    "ProximityVsError",
]

# N₅₀ (P(in hull) = 1/2, Gaussian train and query). Published: the reference table of
# shared/CLAIMS.md C (Delaunay find_simplex, 30 training sets × 2,000 queries, bisection:
# 10–11 / 27–28 / 60–61 / 133–136); Efron's identity with qhull vertex counts (1,500–6,000 draws
# per N) gives the values below, inside or next to each published range.
EFRON_N50: dict[int, float] = {2: 10.3, 3: 27.0, 4: 62.3, 5: 134.4}
PUBLISHED_N50: dict[int, tuple[float, float]] = {2: (10, 11), 3: (27, 28), 4: (60, 61), 5: (133, 136)}
N50_SOURCE = (
    "shared/CLAIMS.md C: published N₅₀ 10–11 / 27–28 / 60–61 / 133–136 (d = 2..5); Efron's identity "
    "with qhull vertex counts 10.3 / 27.0 / 62.3 / 134.4 (Monte Carlo, ±0.5 %)"
)
N50_REL_TOL = 0.075  # every published range lies inside Efron ± 7.5 %; the old logistic fit was +5–11 %
RUIS_D7 = 250.0  # Ruis's reproduction of BPL Fig. 1: at d = 7, N₅₀ > 10^2.4 ≈ 250
GROWTH_BAND = (2.2, 2.7)  # CLAIMS.md C: "≈ 2.2–2.7× per dimension" (d = 2..5)
GROWTH_MIN = 1.5  # exponential: a linear N₅₀ ≈ 2d (Wendel's centre) gives 1.28× over d = 2..7
CONTROL_BAND = (1 / 1.15, 1.15)  # "does not grow": within ±15 % per added ambient dimension

Dim = Annotated[int, Field(ge=1, le=10_000)]
Size = Annotated[int, Field(ge=2, le=1_000_000)]


# ================================================================================================
# shared helpers
# ================================================================================================
def _finite_mean(values: np.ndarray, *, bounds: tuple[float, float] | None = None) -> Estimate:
    """Mean over replicates with a t-interval; any non-finite replicate (a censored N₅₀, a failed
    fit) removes the interval instead of being silently dropped (dropping would bias)."""
    from theorylab.engine.stats import mean_interval

    v = np.asarray(values, dtype=float)
    if v.size and not np.all(np.isfinite(v)):
        ok = v[np.isfinite(v)]
        return Estimate(float(ok.mean()) if ok.size else math.nan, math.nan, math.nan, int(v.size))
    return mean_interval(v, bounds=bounds)


def _auroc(score: np.ndarray, positive: np.ndarray) -> np.ndarray:
    """Area under the ROC curve of each column of ``score`` (n, m) for the matching column of
    ``positive``: P(score of a positive > score of a negative), ties counting half (Mann–Whitney
    U / (n₁n₀)); NaN where a column has one class."""
    pos = np.asarray(positive, bool).reshape(len(positive), -1)
    score = np.asarray(score, float).reshape(pos.shape)
    out = np.full(pos.shape[1], math.nan)
    for j in range(pos.shape[1]):
        neg = np.sort(score[~pos[:, j], j])
        p = score[pos[:, j], j]
        if p.size and neg.size:
            below = np.searchsorted(neg, p, "left") + np.searchsorted(neg, p, "right")
            out[j] = 0.5 * float(below.sum()) / (p.size * neg.size)
    return out


def _load(name: str, root: str | None, seed: int):
    from theorylab.data import load_dataset

    return load_dataset(name, root=root, seed=seed)


# ================================================================================================
# 1. hull-vs-dimension (BPL Fig. 1)
# ================================================================================================
class HullVsDimensionConfig(ExperimentConfig):
    dims: tuple[Annotated[int, Field(ge=2, le=12)], ...] = Field(
        (2, 3, 4, 5, 6, 7), min_length=2, description="dimensions d of full-rank Gaussian data (d* = d)")
    control_dims: tuple[Annotated[int, Field(ge=2, le=64)], ...] = Field(
        (5, 6, 7), json_schema_extra={"allow_empty": True},
        description="ambient dimensions of the control: Gaussian data on a `control_rank`-dim affine "
                    "subspace (d* = control_rank); empty: no control")
    control_rank: int = Field(4, ge=1, le=8, description="d* of the control data (the paper's 4)")
    grid_ratio: float = Field(math.sqrt(2), gt=1.05, le=2.0,
                              description="ratio between consecutive training-set sizes N of the grid "
                                          "(sizes (d*+1)·ratio^k, rounded)")
    n_max: int = Field(4096, ge=16, le=200_000,
                       description="largest N tried; an N₅₀ above it is censored (count)")
    coarse_queries: int = Field(300, ge=20, le=10**6,
                                description="leave-one-out queries per grid size while locating the "
                                            "crossing (count; at least 2 draws of N+1 points)")
    queries: int = Field(6000, ge=20, le=10**7,
                         description="leave-one-out queries at each of the two sizes that bracket "
                                     "P = 1/2 (count; sets the precision of N₅₀)")
    control_queries: int = Field(2400, ge=20, le=10**7,
                                 description="as `queries`, for the affine-subspace control (count)")
    curve_top: float = Field(0.8, ge=0.5, le=0.95,
                             description="the coarse curve continues past N₅₀ until P(in hull) reaches this "
                                         "(for the Fig. 1 picture; costs larger N)")

    @model_validator(mode="after")
    def _control_embeds(self) -> HullVsDimensionConfig:
        low = [d for d in self.control_dims if d <= self.control_rank]
        if low:
            raise ValueError(f"control_dims {low} must exceed control_rank = {self.control_rank} "
                             "(the control embeds d*-dim data in a larger ambient space)")
        return self


def _grid(dstar: int, ratio: float, n_max: int) -> np.ndarray:
    """Training-set sizes (d*+1)·ratio^k ≤ n_max, rounded and deduplicated (N ≤ d* is never inside)."""
    k = math.floor(math.log(n_max / (dstar + 1)) / math.log(ratio)) + 1
    g = np.unique(np.round((dstar + 1) * ratio ** np.arange(k)).astype(int))
    return g[g <= n_max]


def _loo_inside(sample, n: int, draws: int) -> tuple[int, int]:
    """Leave-one-out membership over ``draws`` sets of n + 1 points: (points inside the hull of the
    other n, points tested). By exchangeability each test has P = P(new point ∈ hull of n)."""
    from theorylab.geometry.hull import extreme_points

    inside = 0
    for _ in range(draws):
        inside += int(np.count_nonzero(~extreme_points(sample(n + 1))))
    return inside, draws * (n + 1)


def n50_search(sample, dstar: int, *, ratio: float, n_max: int, coarse_queries: int,
               queries: int, curve_top: float = 0.5) -> tuple[list[dict[str, float]], dict[str, float]]:
    """Locate N₅₀ on a geometric grid and estimate it precisely.

    1. Coarse: P(in hull) at each grid size from ``coarse_queries`` leave-one-out tests, upwards
       until it reaches 1/2 (or ``n_max``: censored), then on to ``curve_top`` for the picture.
    2. Precise: the two bracketing sizes get ``queries`` tests each; if the precise values no longer
       bracket 1/2 the bracket moves one step (at most 4 times).
    3. N₅₀ = :func:`~theorylab.geometry.oracles.crossing` (linear in log N between the bracket).

    Returns the per-size counts and one summary row.
    """
    from theorylab.geometry.oracles import crossing

    grid = _grid(dstar, ratio, n_max)
    counts: dict[int, list[int]] = {}

    def measure(n: int, target: int) -> float:
        c = counts.setdefault(n, [0, 0, 0])
        missing = target - c[1]
        if missing > 0:
            draws = max(2 if c[2] == 0 else 1, math.ceil(missing / (n + 1)))
            k, t = _loo_inside(sample, n, draws)
            c[0] += k
            c[1] += t
            c[2] += draws
        return c[0] / c[1]

    b = None
    for i, n in enumerate(grid):
        p = measure(int(n), coarse_queries)
        if b is None and p >= 0.5:
            b = i
        if b is not None and p >= curve_top:
            break
    summary: dict[str, float] = {"n50": math.inf, "n_below": math.nan, "n_above": math.nan,
                                 "p_below": math.nan, "p_above": math.nan, "censored": True}
    if b is not None and b > 0:
        a = b - 1
        for _ in range(5):
            pa = measure(int(grid[a]), queries)
            pb = measure(int(grid[b]), queries)
            if pa >= 0.5 and a > 0:
                a, b = a - 1, a
            elif pb < 0.5 and b + 1 < len(grid):
                a, b = b, b + 1
            else:
                break
        ns = grid[[a, b]].astype(float)
        ps = np.array([counts[int(grid[a])][0] / counts[int(grid[a])][1],
                       counts[int(grid[b])][0] / counts[int(grid[b])][1]])
        n50 = crossing(ns, ps) if ps[0] < 0.5 <= ps[1] else _line_crossing(ns, ps)
        summary = {"n50": n50, "n_below": ns[0], "n_above": ns[1], "p_below": ps[0], "p_above": ps[1],
                   "censored": False}
    elif b == 0:
        summary["n50"] = math.nan  # already ≥ 1/2 at the smallest size: impossible for d* ≥ 1
    rows = [{"n_points": int(n), "inside": c[0], "total": c[1], "draws": c[2]}
            for n, c in sorted(counts.items())]
    return rows, summary


def _line_crossing(ns: np.ndarray, ps: np.ndarray) -> float:
    """Where the line through two (log N, p) points meets 1/2 (the rare unbracketed case)."""
    if ps[1] == ps[0]:
        return math.nan
    la, lb = np.log(ns)
    return float(np.exp(la + (0.5 - ps[0]) / (ps[1] - ps[0]) * (lb - la)))


class HullVsDimension(Experiment):
    name = "hull-vs-dimension"
    kind = "claim"
    claim = (
        "The probability that a new sample lies in the convex hull of N training samples collapses "
        "unless N grows exponentially with d*, the dimension of the smallest affine subspace "
        "containing the data (Gaussian data: N₅₀ ≈ 10 / 27 / 60 / 134 for d = 2..5, ≈ 2.2–2.7× per "
        "dimension); data on a 4-dim affine subspace need the same N whatever the ambient d."
    )
    source = "Balestriero, Pesenti & LeCun 2021, arXiv 2110.09485, Fig. 1 and Thm. 1"
    check_statement = (
        "Over seeds (t-intervals): (1) N₅₀(d) within ±7.5 % of the published/Efron value for each "
        "d = 2..5 (10.3 / 27.0 / 62.3 / 134.4; every published range lies in the band); (2) N₅₀(7) "
        "> 250 (Ruis's reproduction); (3) the growth factor of N₅₀ per dimension, fitted over the "
        "whole sweep, > 1.5 (exponential; a linear N₅₀ ≈ 2d gives 1.28×); (4) the same fit over "
        "d = 2..5 within the published 2.2–2.7×; (5) control: the growth factor of N₅₀ per ambient "
        "dimension for data on a 4-dim affine subspace within 1/1.15–1.15 (must not grow)."
    )
    Config = HullVsDimensionConfig
    presets: ClassVar[dict] = {
        "smoke": {"dims": (2, 3), "control_dims": (3, 4), "control_rank": 2, "n_max": 256,
                  "coarse_queries": 60, "queries": 150, "control_queries": 100},
        "quick": {},
        "full": {"dims": (2, 3, 4, 5, 6, 7, 8), "control_dims": (5, 6, 7, 8), "n_max": 8192,
                 "coarse_queries": 1000, "queries": 20_000, "control_queries": 10_000, "curve_top": 0.8},
    }
    default_seeds: ClassVar[dict] = {"smoke": 2, "quick": 5, "full": 5}
    budget_s = 10.0
    tables = ("n50", "curve")
    summary_keys = ("setting", "dim")

    def run(self, config: HullVsDimensionConfig, seed: int) -> dict[str, pd.DataFrame]:
        import pandas as pd

        settings = ([("gaussian", d, d) for d in config.dims]
                    + [("affine", d, config.control_rank) for d in config.control_dims])
        curve, n50 = [], []
        for key, (setting, d, dstar) in enumerate(settings):
            g = rng(seed, key, d)
            if setting == "gaussian":
                def sample(m: int, g: np.random.Generator = g, d: int = d) -> np.ndarray:
                    return g.standard_normal((m, d))
                q = config.queries
            else:
                # one random affine embedding R^{d*} → R^d per run (full rank with probability 1)
                A, b0 = g.standard_normal((dstar, d)), g.standard_normal(d)

                def sample(m: int, g: np.random.Generator = g, A: np.ndarray = A, b0: np.ndarray = b0,
                           r: int = dstar) -> np.ndarray:
                    return g.standard_normal((m, r)) @ A + b0
                q = config.control_queries
            rows, summary = n50_search(sample, dstar, ratio=config.grid_ratio, n_max=config.n_max,
                                       coarse_queries=config.coarse_queries, queries=q,
                                       curve_top=config.curve_top)
            curve += [{"setting": setting, "dim": d, "dstar": dstar, **r} for r in rows]
            n50.append({"setting": setting, "dim": d, "dstar": dstar, **summary})
        return {"curve": pd.DataFrame(curve), "n50": pd.DataFrame(n50)}

    # -- the checks ----------------------------------------------------------------------------
    @staticmethod
    def _growth(df: pd.DataFrame) -> Estimate:
        """exp(slope of log N₅₀ on d), one least-squares slope per seed, t-interval over seeds."""
        from theorylab.engine.stats import slope_interval

        if not np.all(np.isfinite(df.n50.to_numpy(float))):
            return Estimate(math.nan, math.nan, math.nan, int(df.seed.nunique()))
        return slope_interval(df.dim, df.n50, replicate=df.seed, log_y=True).map(math.exp)

    def check_point(self, results: Results) -> list[Check]:
        n50 = results.table("n50")
        gauss = n50[n50.setting == "gaussian"]
        checks: list[Check] = []
        for d in sorted(gauss.dim.unique()):
            vals = gauss[gauss.dim == d].n50.to_numpy(float)
            if d in EFRON_N50:
                lo, hi = PUBLISHED_N50[d]
                checks.append(against_reference(
                    f"d = {d}: N₅₀ matches the published value (published {lo:g}–{hi:g}, Efron {EFRON_N50[d]:g})",
                    "N₅₀: training-set size at which P(in hull) = 1/2 (count)", _finite_mean(vals),
                    EFRON_N50[d], rel_tol=N50_REL_TOL, source=N50_SOURCE, exact=False))
            if d == 7:
                checks.append(interval_check(
                    "d = 7: N₅₀ exceeds 10^2.4 ≈ 250 (Ruis's reproduction of BPL Fig. 1)",
                    "N₅₀ at d = 7 (count)", _finite_mean(vals), above=RUIS_D7,
                    effect="above the published lower bound", reference=RUIS_D7,
                    reference_source="Ruis 2021, LauraRuis/lauraruis.github.io, reproduction of BPL Fig. 1",
                    exact=False))
        if gauss.dim.nunique() >= 2:
            dims = sorted(gauss.dim.unique())
            checks.append(interval_check(
                f"N₅₀ grows exponentially with d (fit over d = {dims[0]}..{dims[-1]}, every d)",
                "growth factor of N₅₀ per added dimension (exp of the log-linear slope)",
                self._growth(gauss), above=GROWTH_MIN,
                effect=f"≥ {GROWTH_MIN}× per dimension; a linear N₅₀ ≈ 2d would give 1.28× over d = 2..7"))
            pub = gauss[gauss.dim.isin(list(EFRON_N50))]
            if pub.dim.nunique() >= 2:
                checks.append(interval_check(
                    "over d = 2..5 the growth factor is the published ≈ 2.2–2.7× per dimension",
                    "growth factor of N₅₀ per added dimension, d = 2..5", self._growth(pub),
                    within=GROWTH_BAND, effect="within the published band",
                    reference=float(np.mean(GROWTH_BAND)), reference_source="shared/CLAIMS.md C", exact=False))
        ctrl = n50[n50.setting == "affine"]
        if ctrl.dim.nunique() >= 2:
            r = int(ctrl.dstar.iloc[0])
            checks.append(interval_check(
                f"control: data on a {r}-dim affine subspace need the same N whatever the ambient d "
                f"(d = {ctrl.dim.min()}..{ctrl.dim.max()})",
                "growth factor of N₅₀ per added ambient dimension (affine-subspace data)",
                self._growth(ctrl), within=CONTROL_BAND,
                effect="no growth: within ±15 % per dimension (full-rank data grow ≈ 2×)"))
        return checks

    def evidence(self, results: Results) -> dict[str, Any]:
        n50 = results.table("n50")
        out: dict[str, Any] = {}
        for (setting, d), g in n50.groupby(["setting", "dim"]):
            v = g.n50.to_numpy(float)
            out[f"n50_{setting}_d{d}"] = round(float(np.mean(v)), 2) if np.all(np.isfinite(v)) else "censored"
        gauss = n50[n50.setting == "gaussian"].groupby("dim").n50.mean()
        out["growth_per_step"] = {f"{a}->{b}": round(float(gauss[b] / gauss[a]), 3)
                                  for a, b in zip(gauss.index[:-1], gauss.index[1:], strict=True)}
        return out

    def figures(self, results: Results) -> dict[str, Figure]:
        from matplotlib.figure import Figure

        cur = results.table("curve")
        figs: dict[str, Figure] = {}
        for setting, title in (("gaussian", "Gaussian data, d* = d"), ("affine", "data on an affine subspace")):
            s = cur[cur.setting == setting]
            if s.empty:
                continue
            fig = Figure(figsize=(6.4, 4.2))
            ax = fig.subplots()
            for d, g in s.groupby("dim"):
                a = g.groupby("n_points")[["inside", "total"]].sum()
                ax.semilogx(a.index, a.inside / a.total, "o-", ms=3, label=f"d = {d}")
            if setting == "gaussian":
                for d, n in EFRON_N50.items():
                    if d in set(s.dim):
                        ax.plot(n, 0.5, "kx", ms=6)
                ax.plot([], [], "kx", label="Efron / published N₅₀")
            ax.axhline(0.5, color="0.5", lw=0.8)
            ax.set_xlabel("training-set size N (count)")
            ax.set_ylabel("P(new point in hull of N)")
            ax.set_title(title)
            ax.legend(frameon=False, fontsize=8, ncol=2)
            fig.tight_layout()
            figs[f"P(in hull) vs N: {title} (Fig. 1)"] = fig
        n50 = results.table("n50")
        fig = Figure(figsize=(6.4, 4.2))
        ax = fig.subplots()
        for setting, lab in (("gaussian", "Gaussian, d* = d"), ("affine", "affine subspace, d* fixed")):
            g = n50[(n50.setting == setting) & np.isfinite(n50.n50)]
            if len(g):
                m = g.groupby("dim").n50.agg(["mean", "min", "max"])
                ax.errorbar(m.index, m["mean"], yerr=[m["mean"] - m["min"], m["max"] - m["mean"]],
                            fmt="o-", capsize=3, label=f"{lab} (mean, range over seeds)")
        ax.plot(list(EFRON_N50), list(EFRON_N50.values()), "kx", ms=7, label="Efron / published")
        ax.set_yscale("log")
        ax.set_xlabel("ambient dimension d")
        ax.set_ylabel("N₅₀ (count)")
        ax.legend(frameon=False, fontsize=8)
        fig.tight_layout()
        figs["N₅₀ vs dimension"] = fig
        return figs


# ================================================================================================
# 2. hull-oracles (instrument)
# ================================================================================================
Case = tuple[Dim, Size]


class HullOraclesConfig(ExperimentConfig):
    wendel_cases: tuple[Case, ...] = Field(
        ((10, 20), (10, 30)), description="(d, N): P(0 ∉ hull of N Gaussian points) vs Wendel's formula")
    wendel_trials: int = Field(1500, ge=1, le=10**7, description="training sets per Wendel case (count)")
    box_cases: tuple[Case, ...] = Field(
        ((5, 20), (50, 200)),
        description="(d, N): P(new Gaussian point in the training box) vs ((N−1)/(N+1))^d")
    box_trials: int = Field(2000, ge=1, le=10**7, description="training sets per box case (count)")
    range_cases: tuple[Case, ...] = Field(
        ((50, 20), (50, 200)),
        description="(d, N): mean in-range fraction vs (N−1)/(N+1) for strongly dependent coordinates "
                    "(data on a 4-dim affine subspace of R^d)")
    range_trials: int = Field(2000, ge=1, le=10**7, description="training sets per in-range case (count)")
    efron_cases: tuple[Case, ...] = Field(
        ((2, 10), (3, 27), (4, 62), (5, 134)),
        description="(d, N): fresh-query P(in hull of N) vs Efron's 1 − E[#vertices of N+1 points]/(N+1)")
    efron_sets: int = Field(200, ge=2, le=10**6, description="training sets for fresh queries per Efron case (count)")
    efron_queries: int = Field(20, ge=1, le=10_000, description="fresh queries per training set (count)")
    efron_draws: int = Field(300, ge=2, le=10**6, description="qhull vertex-count draws per Efron case (count)")
    agreement_draws: int = Field(20, ge=1, le=10**5,
                                 description="draws per Efron case on which the leave-one-out vertex count "
                                             "of in_hull is compared with qhull's (count)")
    tolerance: float = Field(0.03, gt=0, le=0.2, description="allowed |measured − exact| probability (absolute)")


class HullOracles(Experiment):
    name = "hull-oracles"
    kind = "instrument"
    claim = (
        "Exact results about random convex hulls hold for the lab's membership measurements: "
        "Wendel's P(0 ∉ conv of N symmetric points) = 2^{−(N−1)} Σ_{k<d} C(N−1, k); the box formula "
        "P(in box) = ((N−1)/(N+1))^d and the in-range fraction (N−1)/(N+1) under any dependence; "
        "Efron's P(X_{N+1} ∉ conv) = E[#vertices of N+1 points]/(N+1)."
    )
    source = (
        "Wendel 1962, Math. Scand. 11; Efron 1965, Biometrika 52; box formula by exchangeability "
        "(shared/references/interpolation.md §2)"
    )
    check_statement = (
        "Pooled over seeds, each interval lies within ±`tolerance` of the exact value: Wilson "
        "intervals of direct in_hull / in_box counts vs Wendel and the box formula; the t-interval "
        "of the mean in-range fraction vs (N−1)/(N+1); the Welch interval of (fresh-query in_hull "
        "membership − Efron's 1 − V/(N+1) from qhull vertex counts) vs 0. And the leave-one-out "
        "vertex count of in_hull (the estimator of hull-vs-dimension) differs from qhull's on < 2 % "
        "of draws (Wilson upper bound)."
    )
    Config = HullOraclesConfig
    presets: ClassVar[dict] = {
        "smoke": {"wendel_cases": ((6, 14),), "wendel_trials": 150, "box_cases": ((5, 20),), "box_trials": 300,
                  "range_cases": ((20, 20),), "range_trials": 300, "efron_cases": ((2, 10), (3, 27)),
                  "efron_sets": 60, "efron_draws": 100, "agreement_draws": 5, "tolerance": 0.1},
        "quick": {},
        "full": {"wendel_cases": ((10, 20), (10, 30), (50, 100), (50, 120), (100, 230)),
                 "wendel_trials": 10_000, "box_cases": ((5, 20), (50, 200), (100, 1000)), "box_trials": 20_000, "range_trials": 20_000,
                 "efron_cases": ((2, 10), (3, 27), (4, 62), (5, 134), (6, 270)),
                 "efron_sets": 2000, "efron_draws": 2000, "agreement_draws": 100, "tolerance": 0.015},
    }
    default_seeds: ClassVar[dict] = {"smoke": 2, "quick": 5, "full": 5}
    replicates = "independent draws (training sets), pooled over seeds"
    budget_s = 6.0
    tables = ("wendel", "box", "in_range", "efron", "agreement")
    summary_keys = ("dim", "n_points")

    def run(self, config: HullOraclesConfig, seed: int) -> dict[str, pd.DataFrame]:
        import pandas as pd

        from theorylab.geometry.box import in_box, in_range_fraction
        from theorylab.geometry.hull import extreme_points, in_hull
        from theorylab.geometry.oracles import (
            box_probability,
            efron_outside_draws,
            in_range_probability,
            qhull_vertex_count,
            wendel_outside,
        )

        wendel = []
        for i, (d, n) in enumerate(config.wendel_cases):
            g = rng(seed, 1, i)
            out = sum(not in_hull(g.standard_normal((n, d)), np.zeros((1, d)), distance=False).inside[0]
                      for _ in range(config.wendel_trials))
            wendel.append({"dim": d, "n_points": n, "outside": out, "trials": config.wendel_trials,
                           "exact": wendel_outside(n, d)})
        box = []
        for i, (d, n) in enumerate(config.box_cases):
            g = rng(seed, 2, i)
            inside = 0
            for _ in range(config.box_trials):
                P = g.standard_normal((n + 1, d))
                inside += int(in_box(P[:n], P[n:])[0])
            box.append({"dim": d, "n_points": n, "inside": inside, "trials": config.box_trials,
                        "exact": float(box_probability(n, d))})
        in_range = []
        for i, (d, n) in enumerate(config.range_cases):
            g = rng(seed, 3, i)
            A = g.standard_normal((4, d))  # rank-4 data: every coordinate depends on four
            fr = [float(in_range_fraction(*np.split(g.standard_normal((n + 1, 4)) @ A, [n]))[0])
                  for _ in range(config.range_trials)]
            in_range += [{"dim": d, "n_points": n, "fraction": f, "exact": float(in_range_probability(n))}
                         for f in fr]
        efron, agree = [], []
        for i, (d, n) in enumerate(config.efron_cases):
            g = rng(seed, 4, i)
            for _ in range(config.efron_sets):
                P = g.standard_normal((n + config.efron_queries, d))
                efron.append({"dim": d, "n_points": n, "method": "fresh in_hull",
                              "p_inside": in_hull(P[:n], P[n:], distance=False).fraction_inside})
            for v in efron_outside_draws(n, d, config.efron_draws, rng(seed, 5, i)):
                efron.append({"dim": d, "n_points": n, "method": "Efron (qhull)", "p_inside": 1.0 - float(v)})
            g = rng(seed, 6, i)
            for _ in range(config.agreement_draws):
                P = g.standard_normal((n + 1, d))
                agree.append({"dim": d, "n_points": n, "loo_vertices": int(extreme_points(P).sum()),
                              "qhull_vertices": qhull_vertex_count(P)})
        return {"wendel": pd.DataFrame(wendel), "box": pd.DataFrame(box), "in_range": pd.DataFrame(in_range),
                "efron": pd.DataFrame(efron), "agreement": pd.DataFrame(agree)}

    def check_point(self, results: Results) -> list[Check]:
        from theorylab.engine.stats import difference_interval, mean_interval, proportion_interval

        tol = float(results.common("tolerance"))
        reps = "training sets (pooled over seeds)"
        checks: list[Check | None] = []
        w = results.table("wendel").groupby(["dim", "n_points"]).agg(
            k=("outside", "sum"), n=("trials", "sum"), exact=("exact", "first")).reset_index()
        checks.append(worst_of(
            [against_reference(f"Wendel at d={r.dim}, N={r.n_points}", "P(0 ∉ hull of N Gaussian points)",
                               proportion_interval(r.k, r.n), r.exact, abs_tol=tol, exact=True,
                               source="Wendel 1962 (exact)", replicates=reps) for r in w.itertuples()],
            "P(0 ∉ hull) of N Gaussian points equals Wendel's 2^{−(N−1)} Σ_{k<d} C(N−1, k)",
            labels=[f"d={r.dim}, N={r.n_points}" for r in w.itertuples()]))
        b = results.table("box").groupby(["dim", "n_points"]).agg(
            k=("inside", "sum"), n=("trials", "sum"), exact=("exact", "first")).reset_index()
        checks.append(worst_of(
            [against_reference(f"box at d={r.dim}, N={r.n_points}", "P(new point in the training box)",
                               proportion_interval(r.k, r.n), r.exact, abs_tol=tol, exact=True,
                               source="exchangeability (exact)", replicates=reps) for r in b.itertuples()],
            "P(new point in the training box) equals ((N−1)/(N+1))^d for independent coordinates",
            labels=[f"d={r.dim}, N={r.n_points}" for r in b.itertuples()]))
        ir = results.table("in_range")
        groups = list(ir.groupby(["dim", "n_points"]))
        checks.append(worst_of(
            [against_reference(f"in-range fraction at d={d}, N={n}", "mean fraction of coordinates in range",
                               mean_interval(g.fraction, bounds=(0, 1)), float(g.exact.iloc[0]), abs_tol=tol,
                               exact=True, source="exchangeability (exact)", replicates=reps)
             for (d, n), g in groups],
            "the mean in-range fraction equals (N−1)/(N+1) even for strongly dependent coordinates",
            labels=[f"d={d}, N={n}" for (d, n), _ in groups]))
        ef = results.table("efron")
        cases = list(ef.groupby(["dim", "n_points"]))
        checks.append(worst_of(
            [against_reference(f"Efron at d={d}, N={n}", "P(in hull): fresh in_hull queries − Efron (qhull)",
                               difference_interval(g[g.method == "fresh in_hull"].p_inside,
                                                   g[g.method == "Efron (qhull)"].p_inside, paired=False),
                               0.0, abs_tol=tol, exact=True, source="Efron 1965 (exact identity)",
                               replicates=reps) for (d, n), g in cases],
            "fresh-query membership matches Efron's identity P(in) = 1 − E[#vertices of N+1]/(N+1)",
            labels=[f"d={d}, N={n}" for (d, n), _ in cases]))
        ag = results.table("agreement")
        if len(ag):
            mismatch = int((ag.loo_vertices != ag.qhull_vertices).sum())
            checks.append(interval_check(
                "in_hull's leave-one-out vertex count (the N₅₀ estimator's counts) equals qhull's",
                "fraction of draws whose vertex counts differ", proportion_interval(mismatch, len(ag)),
                below=0.02, effect="fewer than 2 % of draws differ (0 expected)", replicates="draws",
                exact=True))
        return [c for c in checks if c is not None]

    def evidence(self, results: Results) -> dict[str, Any]:
        ef = results.table("efron").groupby(["dim", "n_points", "method"]).p_inside.mean().unstack()
        return {"efron_p_inside": {f"d={d}, N={n}": {k: round(float(v), 4) for k, v in row.items()}
                                   for (d, n), row in ef.iterrows()}}

    def figures(self, results: Results) -> dict[str, Figure]:
        from matplotlib.figure import Figure

        rows = []
        for name, k, n in (("wendel", "outside", "trials"), ("box", "inside", "trials")):
            t = results.table(name).groupby(["dim", "n_points"]).agg(k=(k, "sum"), n=(n, "sum"),
                                                                     exact=("exact", "first"))
            rows += [(f"{name} d={d} N={m}", r.k / r.n, r.exact) for (d, m), r in t.iterrows()]
        ef = results.table("efron").groupby(["dim", "n_points", "method"]).p_inside.mean().unstack()
        rows += [(f"Efron d={d} N={m}", r["fresh in_hull"], r["Efron (qhull)"]) for (d, m), r in ef.iterrows()]
        fig = Figure(figsize=(6.4, 4.2))
        ax = fig.subplots()
        y = np.arange(len(rows))
        ax.scatter([r[2] for r in rows], y, marker="|", s=200, color="k", label="exact (Efron: qhull)")
        ax.scatter([r[1] for r in rows], y, marker="o", color="C0", label="measured (in_hull / in_box)")
        ax.set_yticks(y, [r[0] for r in rows], fontsize=7)
        ax.set_xlabel("probability")
        ax.legend(frameon=False, fontsize=8)
        fig.tight_layout()
        return {"Oracles vs measured probabilities": fig}


# ================================================================================================
# 3. hull-pixel-space (BPL Fig. 3)
# ================================================================================================
PIXEL_THRESHOLD = 0.01  # CLAIMS.md C: P(in hull) of test images at native resolution < 1 %
MVEE_MAJORITY = 0.5  # LeCun's remark, pre-registered: most test images lie inside the MVEE
FALL_PER_EFOLD = -0.05  # "falls": coverage drops ≥ 0.05 per e-fold of kept dimensions


def _reduce(X_tr: np.ndarray, X_te: np.ndarray, shape: tuple[int, ...], method: str,
            dim: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Keep about ``dim`` dimensions by central crop, blur + subsample, or PCA (BPL Fig. 3).

    ``shape`` is (C, H, W) for images or (L,) for 1-D signals. Returns the reduced training and
    test arrays and the kept dimension.
    """
    from scipy.ndimage import gaussian_filter, zoom

    if method == "pca":
        from sklearn.decomposition import PCA

        k = min(dim, X_tr.shape[1], X_tr.shape[0])
        pca = PCA(n_components=k, svd_solver="full").fit(X_tr)
        return pca.transform(X_tr), pca.transform(X_te), k
    if len(shape) == 1:
        L = shape[0]
        k = max(1, min(dim, L))
        if method == "crop":
            a = (L - k) // 2
            return X_tr[:, a : a + k], X_te[:, a : a + k], k

        def f1(X: np.ndarray) -> np.ndarray:
            if k == L:
                return X
            return np.stack([zoom(gaussian_filter(x, 0.5 * L / k), k / L, order=1)[:k] for x in X])
        return f1(X_tr), f1(X_te), k
    c, h, w = shape
    s = max(1, min(h, round(math.sqrt(dim / c))))
    if method == "crop":
        a = (h - s) // 2

        def f(X: np.ndarray) -> np.ndarray:
            return X.reshape(len(X), c, h, w)[:, :, a : a + s, a : a + s].reshape(len(X), -1)
    else:
        def f(X: np.ndarray) -> np.ndarray:
            if s == h:
                return X
            imgs = X.reshape(len(X), c, h, w)
            sig = 0.5 * h / s  # anti-aliasing blur, pixels
            return np.stack([
                np.stack([zoom(gaussian_filter(im[ch], sig), s / h, order=1)[:s, :s] for ch in range(c)])
                for im in imgs
            ]).reshape(len(X), -1)
    return f(X_tr), f(X_te), c * s * s


class HullPixelConfig(ExperimentConfig):
    datasets: tuple[Literal["digits", "mnist1d", "mnist", "cifar10"], ...] = Field(
        ("digits", "mnist1d"), min_length=1,
        description="data sets (mnist and cifar10 need data_root; nothing is downloaded)")
    data_root: str | None = Field(None, description="directory holding MNIST / CIFAR-10 files")
    n_test: int = Field(500, ge=10, le=100_000,
                        description="test images checked at native resolution against the hull of the "
                                    "whole training set (count; 0 of ≥ 385 puts the Wilson bound under 1 %)")
    reductions: tuple[Literal["crop", "subsample", "pca"], ...] = Field(
        ("crop", "subsample", "pca"), description="how dimensions are kept (BPL Fig. 3 a/b, and PCA)")
    kept_dims: tuple[Annotated[int, Field(ge=1, le=100_000)], ...] = Field(
        (4, 9, 16, 25, 36, 49, 64), min_length=3, description="target kept dimensions of the sweep")
    sweep_test: int = Field(200, ge=10, le=100_000, description="test images per kept dimension (count)")
    ellipsoid_tol: float = Field(1e-4, gt=0, le=0.01,
                                 description="MVEE stopping ε (relative duality gap; the ellipsoid is at "
                                             "most (1+ε)^{1/2} too wide, which favours 'inside' slightly)")
    sweep_ellipsoid: bool = Field(False, description="also fit the MVEE at every kept dimension (slow)")

    @model_validator(mode="after")
    def _files_for_real_data(self) -> HullPixelConfig:
        need = [d for d in self.datasets if d in ("mnist", "cifar10")]
        if need and self.data_root is None:
            raise ValueError(f"datasets {need} need data_root (a directory holding their files; "
                             "nothing is downloaded)")
        return self


class HullPixelSpace(Experiment):
    name = "hull-pixel-space"
    kind = "claim"
    claim = (
        "In pixel space test images are almost never inside the convex hull of the training set, "
        "and the fraction inside falls towards zero as more dimensions are kept (central crop, "
        "smoothing + subsampling, principal components); an ellipsoid notion of 'inside' can hold "
        "where the hull notion fails (LeCun)."
    )
    source = "Balestriero, Pesenti & LeCun 2021, arXiv 2110.09485, Fig. 3 and §4; LeCun's remark on ellipsoids"
    check_statement = (
        "Per data set and run, at native resolution against the whole training set: (1) the Wilson "
        "upper bound of the fraction of test images inside the hull < 1 %; (2) pre-registered: the "
        "Wilson interval of the fraction inside the minimum-volume enclosing ellipsoid > 0.5. Per "
        "reduction, over every kept dimension: (3) the slope of the hull fraction against log(kept "
        "dim) < −0.05 per e-fold (bootstrap over test images)."
    )
    Config = HullPixelConfig
    presets: ClassVar[dict] = {
        "smoke": {"datasets": ("digits",), "n_test": 60, "reductions": ("crop", "pca"),
                  "kept_dims": (4, 16, 64), "sweep_test": 40},
        "quick": {},
        "full": {"n_test": 1000, "sweep_test": 1000, "ellipsoid_tol": 1e-6, "sweep_ellipsoid": True,
                 "kept_dims": (1, 4, 9, 16, 25, 36, 49, 64, 100, 196, 400, 784)},
    }
    default_seeds: ClassVar[dict] = {"smoke": 1, "quick": 1, "full": 1}
    replicates = "test images (conditional on the whole training set)"
    budget_s = 20.0
    tables = ("native", "sweep", "sweep_summary")
    summary_keys = ("dataset", "reduction", "kept_dim")

    def run(self, config: HullPixelConfig, seed: int) -> dict[str, pd.DataFrame]:
        import pandas as pd

        from theorylab.geometry.box import in_box, in_range_fraction
        from theorylab.geometry.ellipsoid import MinVolumeEllipsoid
        from theorylab.geometry.hull import affine_dimension, in_hull

        native, sweep, summary = [], [], []
        for di, name in enumerate(config.datasets):
            ds = _load(name, config.data_root, seed)
            X_tr = ds.X_train
            te = rng(seed, 1, di).permutation(len(ds.X_test))
            X_te = ds.X_test[te[: config.n_test]]
            hull = in_hull(X_tr, X_te, distance=False)
            ell = MinVolumeEllipsoid(tol=config.ellipsoid_tol).fit(X_tr)
            native.append({
                "dataset": name, "n_train": len(X_tr), "n_tested": len(X_te), "dim": X_tr.shape[1],
                "dstar": affine_dimension(X_tr), "hull_inside": int(hull.inside.sum()),
                "mvee_inside": int(ell.contains(X_te).sum()), "box_inside": int(in_box(X_tr, X_te).sum()),
                "in_range": float(in_range_fraction(X_tr, X_te).mean()),
                "all_certified": bool(hull.certified.all()), "mvee_converged": bool(ell.converged_),
            })
            X_sw = ds.X_test[te[: config.sweep_test]]
            shape = ds.image_shape or (X_tr.shape[1],)
            for method in config.reductions:
                seen: set[int] = set()
                for target in config.kept_dims:
                    A, B, k = _reduce(X_tr, X_sw, shape, method, target)
                    if k in seen:
                        continue
                    seen.add(k)
                    res = in_hull(A, B, distance=False)
                    sweep += [{"dataset": name, "reduction": method, "kept_dim": k, "test_index": int(i),
                               "inside": bool(v)} for i, v in zip(te[: len(B)], res.inside, strict=True)]
                    f_ell = (float(MinVolumeEllipsoid(tol=config.ellipsoid_tol).fit(A).contains(B).mean())
                             if config.sweep_ellipsoid else math.nan)
                    summary.append({"dataset": name, "reduction": method, "kept_dim": k,
                                    "dstar": affine_dimension(A), "frac_hull": res.fraction_inside,
                                    "frac_box": float(in_box(A, B).mean()), "frac_ellipsoid": f_ell})
        return {"native": pd.DataFrame(native), "sweep": pd.DataFrame(sweep),
                "sweep_summary": pd.DataFrame(summary)}

    @staticmethod
    def _fall(sweep: pd.DataFrame) -> Estimate:
        """Slope of the hull fraction on log(kept dim), bootstrap over test images (rows)."""
        from theorylab.engine.stats import bootstrap_interval

        M = sweep.pivot_table(index=["run_id", "test_index"], columns="kept_dim", values="inside",
                              aggfunc="first").to_numpy(float)
        x = np.log(np.asarray(sorted(sweep.kept_dim.unique()), float))
        xc = x - x.mean()

        def slope(rows: np.ndarray) -> float:
            return float(xc @ (rows.mean(axis=0) - rows.mean())) / float(xc @ xc)

        return bootstrap_interval(M, slope, n_boot=2000, seed=0)

    def check_point(self, results: Results) -> list[Check]:
        from theorylab.engine.stats import proportion_interval

        native = results.table("native")
        reps = "test images"
        checks: list[Check | None] = []
        for name, g in native.groupby("dataset", sort=False):
            labels = [f"run {i + 1}" for i in range(len(g))]
            d = int(g["dim"].iloc[0])
            checks.append(worst_of(
                [interval_check(f"{name}: test images are outside the hull of the training set", "",
                                proportion_interval(r.hull_inside, r.n_tested), below=PIXEL_THRESHOLD,
                                effect="fewer than 1 % inside (upper Wilson bound)", replicates=reps)
                 for r in g.itertuples()],
                f"{name} at native resolution (d = {d}, all {int(g.n_train.iloc[0])} training images): "
                "test images lie outside the training hull",
                "fraction of test images inside the convex hull", labels=labels))
            checks.append(worst_of(
                [interval_check(f"{name}: most test images are inside the MVEE", "",
                                proportion_interval(r.mvee_inside, r.n_tested), above=MVEE_MAJORITY,
                                effect="more than half inside (pre-registered side of LeCun's remark)",
                                replicates=reps) for r in g.itertuples()],
                f"{name} at native resolution: the minimum-volume enclosing ellipsoid of the training set "
                "contains most test images (the ellipsoid notion holds where the hull's fails)",
                "fraction of test images inside the MVEE", labels=labels))
        sweep = results.table("sweep")
        for (name, method), g in sweep.groupby(["dataset", "reduction"], sort=False):
            if g.kept_dim.nunique() < 3:
                continue
            dims = sorted(g.kept_dim.unique())
            checks.append(interval_check(
                f"{name}/{method}: the fraction inside the hull falls as dimensions are kept "
                f"(every kept dim {dims[0]}..{dims[-1]})",
                "slope of the fraction inside on log(kept dimension) (per e-fold)", self._fall(g),
                below=FALL_PER_EFOLD, effect="a drop of ≥ 0.05 per e-fold of kept dimensions",
                replicates="test images (bootstrap)"))
        return [c for c in checks if c is not None]

    def evidence(self, results: Results) -> dict[str, Any]:
        nat = results.table("native")
        out: dict[str, Any] = {}
        for name, g in nat.groupby("dataset", sort=False):
            n = g.n_tested.sum()
            out[f"{name}_native"] = {
                "dstar": int(g.dstar.min()), "hull": round(g.hull_inside.sum() / n, 4),
                "mvee": round(g.mvee_inside.sum() / n, 4), "box": round(g.box_inside.sum() / n, 4),
                "in_range_fraction": round(float(g.in_range.mean()), 4),
                "all_certified": bool(g.all_certified.all()), "mvee_converged": bool(g.mvee_converged.all())}
        return out

    def figures(self, results: Results) -> dict[str, Figure]:
        from matplotlib.figure import Figure

        df = results.table("sweep_summary")
        figs: dict[str, Figure] = {}
        for name, g in df.groupby("dataset", sort=False):
            fig = Figure(figsize=(6.4, 4.2))
            ax = fig.subplots()
            for i, (method, h) in enumerate(g.groupby("reduction", sort=False)):
                m = h.groupby("kept_dim")[["frac_hull", "frac_box", "frac_ellipsoid"]].mean()
                ax.plot(m.index, m.frac_hull, "o-", color=f"C{i}", ms=3, label=f"hull, {method}")
                ax.plot(m.index, m.frac_box, ":", color=f"C{i}", label=f"box, {method}")
                if m.frac_ellipsoid.notna().any():
                    ax.plot(m.index, m.frac_ellipsoid, "--", color=f"C{i}", label=f"MVEE, {method}")
            ax.set_xlabel("kept dimensions")
            ax.set_ylabel("fraction of test images inside")
            ax.set_title(name)
            ax.legend(frameon=False, fontsize=7, ncol=2)
            fig.tight_layout()
            figs[f"Pixel space: {name} (Fig. 3)"] = fig
        return figs


# ================================================================================================
# 4. hull-latent-space (BPL Table 1)
# ================================================================================================
LATENT_THRESHOLD = 0.05  # "interpolation remains elusive": fewer than 5 % of test embeddings inside


class HullLatentConfig(ExperimentConfig):
    dataset: Literal["digits", "mnist1d"] = Field("digits", description="built-in data set")
    models: tuple[Literal["mlp", "cnn"], ...] = Field(("mlp", "cnn"), min_length=1,
                                                      description="classifiers trained and embedded")
    mlp_widths: tuple[Annotated[int, Field(ge=1, le=4096)], ...] = Field(
        (128, 64, 32), min_length=1, description="MLP hidden widths (each a layer checked)")
    steps: int = Field(800, ge=1, le=10**6, description="Adam steps per model")
    lr: float = Field(2e-3, gt=0, le=1, description="Adam learning rate")
    batch_size: int = Field(128, ge=1, le=65_536, description="examples per step")
    n_test: int = Field(1000, ge=10, le=100_000, description="test points embedded (count; capped by the split)")
    min_dim: int = Field(30, ge=1, le=10_000,
                         description="layers whose training embeddings have affine dimension ≥ this are "
                                     "checked (BPL: 'embedding spaces of only 30 dimensions')")


class HullLatentSpace(Experiment):
    name = "hull-latent-space"
    kind = "claim"
    claim = (
        "In the embedding spaces of trained classifiers test samples are also almost never inside "
        "the convex hull of the training embeddings: interpolation remains elusive even for "
        "embedding spaces of only 30 dimensions."
    )
    source = "Balestriero, Pesenti & LeCun 2021, arXiv 2110.09485, Table 1 (cell values not retrieved)"
    check_statement = (
        "For every model and every layer whose training embedding has affine dimension ≥ `min_dim`, "
        "separately: the fraction of test embeddings inside the training-embedding hull, mean over "
        "seeds (independently trained nets and splits) with a t-interval in [0, 1], upper bound "
        "< 0.05. Lower-dimensional layers and each net's test accuracy are reported."
    )
    Config = HullLatentConfig
    presets: ClassVar[dict] = {
        "smoke": {"models": ("mlp",), "mlp_widths": (32, 8), "steps": 60, "n_test": 60, "min_dim": 16},
        "quick": {},
        "full": {"dataset": "mnist1d", "mlp_widths": (256, 128, 64, 32), "steps": 6000},
    }
    default_seeds: ClassVar[dict] = {"smoke": 2, "quick": 5, "full": 5}
    budget_s = 8.0
    tables = ("layers",)
    summary_keys = ("model", "layer")

    def run(self, config: HullLatentConfig, seed: int) -> dict[str, pd.DataFrame]:
        import pandas as pd
        import torch

        from theorylab.geometry.hull import affine_dimension, in_hull
        from theorylab.models import accuracy, cnn1d, cnn2d, mlp, train
        from theorylab.probes.activations import block_outputs

        ds = _load(config.dataset, None, seed)
        X_tr, y_tr = ds.X_train, ds.y_train
        X_te, y_te = ds.X_test[: config.n_test], ds.y_test[: config.n_test]
        rows = []
        for mi, kind in enumerate(config.models):
            shape: tuple[int, ...] | None = None
            if kind == "mlp":
                net = mlp(ds.dim, config.mlp_widths, ds.n_classes, seed=child_seed(seed, mi))
            elif ds.image_shape is not None and len(ds.image_shape) == 3:
                shape = ds.image_shape
                net = cnn2d(shape[1], ds.n_classes, channels=(8, 16), hidden=32, in_channels=shape[0],
                            seed=child_seed(seed, mi))
            else:
                net = cnn1d(ds.dim, ds.n_classes, seed=child_seed(seed, mi))
            Xa = X_tr.reshape(-1, *shape) if shape else X_tr
            Xb = X_te.reshape(-1, *shape) if shape else X_te
            train(net, torch.as_tensor(Xa, dtype=torch.float32), torch.as_tensor(y_tr), steps=config.steps,
                  lr=config.lr, batch_size=config.batch_size, seed=child_seed(seed, mi, 1))
            acc = accuracy(net, torch.as_tensor(Xb, dtype=torch.float32), torch.as_tensor(y_te))
            emb_tr = block_outputs(net, X_tr, input_shape=shape)
            emb_te = block_outputs(net, X_te, input_shape=shape)
            for li, ((label, A), (_, B)) in enumerate(zip(emb_tr, emb_te, strict=True)):
                res = in_hull(A, B, distance=False)
                rows.append({"model": kind, "layer": label, "layer_index": li, "width": A.shape[1],
                             "dstar": affine_dimension(A), "inside": int(res.inside.sum()), "n_tested": len(B),
                             "test_acc": acc, "all_certified": bool(res.certified.all())})
        return {"layers": pd.DataFrame(rows)}

    def check_point(self, results: Results) -> list[Check]:
        min_dim = int(results.common("min_dim"))
        df = results.table("layers").assign(frac=lambda t: t.inside / t.n_tested)
        checks: list[Check | None] = []
        for model, g in df.groupby("model", sort=False):
            layers = g.groupby(["layer_index", "layer"]).agg(dstar=("dstar", "min")).reset_index()
            big = layers[layers.dstar >= min_dim]
            per = [interval_check(f"{model} layer {r.layer}", "", _finite_mean(
                g[g.layer == r.layer].frac.to_numpy(), bounds=(0, 1)), below=LATENT_THRESHOLD,
                effect="fewer than 5 % of test embeddings inside")
                for r in big.itertuples()]
            checks.append(worst_of(
                per, f"{model}: at every layer of affine dimension ≥ {min_dim}, test embeddings lie outside "
                     "the training-embedding hull",
                "fraction of test embeddings inside the hull",
                labels=[f"layer {r.layer} (d* ≥ {r.dstar})" for r in big.itertuples()]))
        return [c for c in checks if c is not None]

    def evidence(self, results: Results) -> dict[str, Any]:
        df = results.table("layers").assign(frac=lambda t: t.inside / t.n_tested)
        per = df.groupby(["model", "layer_index", "layer"]).agg(
            frac=("frac", "mean"), dstar=("dstar", "min"), width=("width", "first")).reset_index()
        return {
            "test_accuracy": {m: round(float(g.groupby("seed").test_acc.first().mean()), 4)
                              for m, g in df.groupby("model")},
            "fraction_inside_by_layer": {f"{r.model} {r.layer} (width {r.width}, d*≥{r.dstar})": round(r.frac, 4)
                                         for r in per.itertuples()},
            "all_certified": bool(df.all_certified.all()),
        }

    def figures(self, results: Results) -> dict[str, Figure]:
        from matplotlib.figure import Figure

        df = results.table("layers").assign(frac=lambda t: t.inside / t.n_tested)
        fig = Figure(figsize=(6.4, 4.2))
        ax = fig.subplots()
        for i, (model, g) in enumerate(df.groupby("model")):
            ax.semilogx(g.dstar.clip(lower=1), g.frac, "o", ms=4, alpha=0.7, color=f"C{i}", label=model)
        ax.axvline(float(results.common("min_dim")), color="0.6", ls="--", lw=0.8, label="min_dim")
        ax.axhline(LATENT_THRESHOLD, color="k", lw=0.8, label="threshold")
        ax.set_xlabel("affine dimension d* of the training embedding")
        ax.set_ylabel("fraction of test embeddings inside the hull")
        ax.legend(frameon=False, fontsize=8)
        fig.tight_layout()
        return {"Latent space, every layer (Table 1)": fig}


# ================================================================================================
# 5. dimred-illusion (BPL Fig. 5)
# ================================================================================================
ManifoldMethod = Literal["lle", "modified_lle", "hessian_lle", "ltsa", "isomap", "spectral", "tsne", "mds"]
ILLUSION_THRESHOLD = 0.6  # "mostly interpolating": a majority (0.5) plus a margin of 0.1


def _embed_2d(method: str, X: np.ndarray, k: int, seed: int) -> np.ndarray:
    """The 2-D embedding of ``X`` by one ``sklearn.manifold`` method (errors propagate)."""
    from sklearn import manifold

    lle = {"lle": "standard", "modified_lle": "modified", "hessian_lle": "hessian", "ltsa": "ltsa"}
    if method in lle:
        return manifold.LocallyLinearEmbedding(n_neighbors=k, n_components=2, method=lle[method],
                                               eigen_solver="dense", random_state=seed).fit_transform(X)
    if method == "isomap":
        return manifold.Isomap(n_neighbors=k, n_components=2).fit_transform(X)
    if method == "spectral":
        return manifold.SpectralEmbedding(n_components=2, n_neighbors=k, random_state=seed).fit_transform(X)
    if method == "tsne":
        return manifold.TSNE(n_components=2, perplexity=min(30.0, (len(X) - 1) / 3), random_state=seed,
                             init="pca").fit_transform(X)
    return manifold.MDS(n_components=2, random_state=seed, n_init=1, max_iter=150, init="random").fit_transform(X)


class DimRedConfig(ExperimentConfig):
    cube_dims: tuple[Annotated[int, Field(ge=3, le=14)], ...] = Field(
        (8,), min_length=1, description="hypercube dimensions d (2^d vertices)")
    methods: tuple[ManifoldMethod, ...] = Field(
        ("lle", "modified_lle", "hessian_lle", "ltsa", "isomap", "spectral", "tsne", "mds"), min_length=1,
        description="sklearn.manifold methods (the set of BPL Fig. 5)")
    n_neighbors: int = Field(12, ge=5, le=200, description="neighbours of the graph-based methods")
    jitter: float = Field(1e-6, ge=0, le=0.01, description="std of Gaussian jitter on the vertices (breaks ties)")


class DimRedIllusion(Experiment):
    name = "dimred-illusion"
    kind = "claim"
    claim = (
        "Low-dimensional visualisations mislead: the vertices of a hypercube, every one outside "
        "the hull of the others, look mostly interpolating once embedded in 2-D by standard "
        "dimensionality-reduction methods."
    )
    source = "Balestriero, Pesenti & LeCun 2021, arXiv 2110.09485, Fig. 5"
    check_statement = (
        "For every method and cube dimension: the fraction of vertices inside the 2-D hull of the "
        "others, mean over seeds (jitter and the methods' random states) with a t-interval in [0, 1], "
        "> 0.6 (a majority plus a margin of 0.1). That no vertex is inside the hull of the others in "
        "the original space is exact and shown as a demonstration."
    )
    Config = DimRedConfig
    presets: ClassVar[dict] = {
        "smoke": {"cube_dims": (6,), "methods": ("lle", "isomap", "spectral")},
        "quick": {},
        "full": {"cube_dims": (8, 10, 12)},
    }
    default_seeds: ClassVar[dict] = {"smoke": 2, "quick": 5, "full": 5}
    budget_s = 4.0
    tables = ("embedded",)
    summary_keys = ("method", "cube_dim")

    def run(self, config: DimRedConfig, seed: int) -> dict[str, pd.DataFrame]:
        import pandas as pd

        from theorylab.geometry.hull import extreme_points

        rows = []
        for d in config.cube_dims:
            g = rng(seed, d)
            V = np.array(np.meshgrid(*[[0.0, 1.0]] * d, indexing="ij")).reshape(d, -1).T
            V = V + config.jitter * g.standard_normal(V.shape)
            rows.append({"method": "original", "cube_dim": d, "frac_inside": 1.0 - float(extreme_points(V).mean())})
            for mi, method in enumerate(config.methods):
                E = _embed_2d(method, V, config.n_neighbors, child_seed(seed, d, mi))
                if not np.all(np.isfinite(E)):
                    raise ValueError(f"{method} returned a non-finite embedding of the {d}-cube")
                rows.append({"method": method, "cube_dim": d, "frac_inside": 1.0 - float(extreme_points(E).mean())})
        return {"embedded": pd.DataFrame(rows)}

    def check_point(self, results: Results) -> list[Check]:
        from theorylab.engine.stats import exact

        df = results.table("embedded")
        checks: list[Check | None] = []
        orig = df[df.method == "original"]
        checks.append(interval_check(
            "in the original space no vertex lies in the hull of the others (exact)",
            "largest fraction of vertices inside the hull of the others, over runs",
            exact(float(orig.frac_inside.max())), below=1e-9, effect="exactly 0 (certified)",
            reference=0.0, reference_source="every vertex of a cube is extreme", exact=True,
            demonstration=True))
        for d, g in df[df.method != "original"].groupby("cube_dim"):
            methods = list(dict.fromkeys(g.method))
            checks.append(worst_of(
                [interval_check(f"{m}", "", _finite_mean(g[g.method == m].frac_inside.to_numpy(), bounds=(0, 1)),
                                above=ILLUSION_THRESHOLD, effect="a majority plus a margin of 0.1")
                 for m in methods],
                f"{d}-cube: every 2-D embedding makes most vertices look interpolating",
                "fraction of vertices inside the 2-D hull of the others", labels=methods))
        return [c for c in checks if c is not None]

    def evidence(self, results: Results) -> dict[str, Any]:
        df = results.table("embedded")
        return {"mean_fraction_inside": {f"{m} (d={d})": round(float(v), 4) for (m, d), v in
                                         df.groupby(["method", "cube_dim"]).frac_inside.mean().items()}}

    def figures(self, results: Results) -> dict[str, Figure]:
        from matplotlib.figure import Figure

        df = results.table("embedded")
        m = df.groupby("method").frac_inside.agg(["mean", "min", "max"]).sort_values("mean")
        fig = Figure(figsize=(6.4, 4.2))
        ax = fig.subplots()
        ax.barh(m.index, m["mean"], xerr=[m["mean"] - m["min"], m["max"] - m["mean"]],
                color=["C3" if k == "original" else "C0" for k in m.index])
        ax.axvline(ILLUSION_THRESHOLD, color="k", lw=0.8)
        ax.set_xlabel("fraction of vertices inside the hull of the others (mean, range over runs)")
        ax.set_xlim(0, 1)
        fig.tight_layout()
        return {"Dimensionality reduction misleads (Fig. 5)": fig}


# ================================================================================================
# 6. augmentation-hull (theorylab's extension)
# ================================================================================================
AUG_MARGIN = 0.02  # augmentation may add at most 0.02 more coverage than fresh real images
AUG_BASE_BAND = (0.05, 0.95)  # a setting where coverage can move either way


def _augment(X: np.ndarray, shape: tuple[int, int, int], kind: str, g: np.random.Generator,
             noise: float) -> np.ndarray:
    """One augmented copy of each image: pixel noise, ±1-pixel shift, crop (¾ side, resized) or mixup."""
    from scipy.ndimage import shift as nd_shift
    from scipy.ndimage import zoom

    n = len(X)
    if kind == "noise":
        return X + noise * g.standard_normal(X.shape)
    if kind == "mixup":  # convex combinations of training images: inside their hull by construction
        lam = g.beta(0.4, 0.4, size=(n, 1))
        return lam * X + (1 - lam) * X[g.permutation(n)]
    imgs = X.reshape(n, *shape)
    out = np.empty_like(imgs)
    h = shape[-1]
    for i in range(n):
        if kind == "shift":
            dy, dx = g.integers(-1, 2, size=2)
            out[i] = np.stack([nd_shift(ch, (dy, dx), order=0, mode="constant") for ch in imgs[i]])
        else:
            s = h - max(1, h // 4)
            a, b = g.integers(0, h - s + 1, size=2)
            out[i] = np.stack([zoom(ch[a : a + s, b : b + s], h / s, order=1)[:h, :h] for ch in imgs[i]])
    return out.reshape(n, -1)


class AugmentationConfig(ExperimentConfig):
    dataset: Literal["digits"] = Field("digits", description="built-in image data set")
    pca_dim: int = Field(5, ge=1, le=64,
                         description="input-space PCA dimension (fitted on the base training images); "
                                     "5 puts the base coverage near 0.5, the middle of 0.05–0.95")
    n_base: int = Field(300, ge=10, le=10_000, description="base training images (count)")
    n_test: int = Field(300, ge=10, le=10_000, description="test images (count)")
    copies: int = Field(2, ge=1, le=10,
                        description="augmented copies per base image; the control adds the same number "
                                    "of fresh real images")
    augmentations: tuple[Literal["noise", "shift", "crop", "mixup"], ...] = Field(
        ("noise", "shift", "crop", "mixup"), min_length=1, description="augmentation types")
    noise_std: float = Field(0.1, gt=0, le=1, description="Gaussian pixel noise std (pixels in [0, 1])")


class AugmentationHull(Experiment):
    name = "augmentation-hull"
    kind = "claim"
    claim = (
        "Data augmentation does not make test samples interpolate more than fresh data would: "
        "adding noisy, shifted or cropped copies of the training images raises the fraction of "
        "test images inside the training hull no more than adding the same number of new real "
        "images; input-space mixup samples lie inside the hull by construction."
    )
    source = (
        "theorylab's extension of Balestriero, Pesenti & LeCun 2021, arXiv 2110.09485 (the "
        "definition); not a claim of the paper"
    )
    check_statement = (
        "In PCA-k input space of digits (k fitted on the base images), over seeds: (0) the base "
        "coverage lies within 0.05–0.95 (a setting where coverage can move); (1) for each of noise, "
        "shift, crop: coverage gain of the augmentation minus the gain of a control of fresh real "
        "images of the same count, paired t-interval, < +0.02. Mixup samples inside the hull and "
        "its zero gain are exact: a demonstration."
    )
    Config = AugmentationConfig
    presets: ClassVar[dict] = {
        "smoke": {"n_base": 120, "n_test": 60, "copies": 1, "augmentations": ("noise", "mixup"), "pca_dim": 4},
        "quick": {},
        "full": {"n_base": 400, "n_test": 400, "copies": 2, "pca_dim": 6},
    }
    default_seeds: ClassVar[dict] = {"smoke": 2, "quick": 20, "full": 40}
    budget_s = 2.0
    tables = ("coverage",)
    summary_keys = ("augmentation",)

    def run(self, config: AugmentationConfig, seed: int) -> dict[str, pd.DataFrame]:
        import pandas as pd
        from sklearn.decomposition import PCA

        from theorylab.geometry.hull import in_hull

        ds = _load(config.dataset, None, 0)
        X = np.vstack([ds.X_train, ds.X_test])
        need = config.n_test + config.n_base * (1 + config.copies)
        if need > len(X):
            raise ValueError(f"{config.dataset} has {len(X)} images; n_test + n_base·(1 + copies) = {need}")
        perm = rng(seed, 0).permutation(len(X))
        te, base = perm[: config.n_test], perm[config.n_test : config.n_test + config.n_base]
        fresh = perm[config.n_test + config.n_base : need]
        pca = PCA(n_components=min(config.pca_dim, X.shape[1]), svd_solver="full").fit(X[base])
        Zb, Zt = pca.transform(X[base]), pca.transform(X[te])
        cov0 = in_hull(Zb, Zt, distance=False).fraction_inside
        rows = [{"augmentation": "none", "coverage": cov0, "added": 0, "added_inside_base_hull": math.nan}]
        added = {"fresh": X[fresh]}
        for ai, kind in enumerate(config.augmentations):
            g = rng(seed, 1, ai)
            added[kind] = np.vstack([_augment(X[base], ds.image_shape, kind, g, config.noise_std)
                                     for _ in range(config.copies)])
        for kind, Xa in added.items():
            Za = pca.transform(Xa)
            rows.append({"augmentation": kind, "coverage": in_hull(np.vstack([Zb, Za]), Zt,
                                                                   distance=False).fraction_inside,
                         "added": len(Xa),
                         "added_inside_base_hull": in_hull(Zb, Za, distance=False).fraction_inside})
        return {"coverage": pd.DataFrame(rows)}

    def check_point(self, results: Results) -> list[Check]:
        from theorylab.engine.stats import difference_interval, exact

        df = results.table("coverage")
        w = df.pivot_table(index="seed", columns="augmentation", values="coverage")
        checks: list[Check] = [interval_check(
            "the setting is informative: base coverage lies within 0.05–0.95",
            "fraction of test images inside the hull of the base images (PCA space)",
            _finite_mean(w["none"].to_numpy(), bounds=(0, 1)), within=AUG_BASE_BAND,
            effect="coverage can rise or fall")]
        for kind in ("noise", "shift", "crop"):
            if kind in w:
                checks.append(interval_check(
                    f"{kind}: augmentation raises coverage no more than the same number of fresh real images",
                    "coverage gain of the augmentation − gain of fresh real images",
                    difference_interval(w[kind], w["fresh"], paired=True), below=AUG_MARGIN,
                    effect="at most +0.02 above the fresh-data control"))
        if "mixup" in w:
            mix = df[df.augmentation == "mixup"]
            checks.append(interval_check(
                "mixup samples lie inside the base hull (convex combinations), so coverage is unchanged",
                "largest |coverage gain| of mixup over runs",
                exact(float(np.max(np.abs(w["mixup"] - w["none"])))), below=1e-12,
                effect=f"exactly 0 (all {int(mix.added.iloc[0])} mixup samples certified inside: "
                       f"{bool((mix.added_inside_base_hull == 1.0).all())})",
                demonstration=True))
        return checks

    def evidence(self, results: Results) -> dict[str, Any]:
        df = results.table("coverage")
        m = df.groupby("augmentation").agg(coverage=("coverage", "mean"),
                                           added_inside=("added_inside_base_hull", "mean"))
        return {"mean_coverage": {k: round(float(v), 4) for k, v in m.coverage.items()},
                "added_inside_base_hull": {k: round(float(v), 4) for k, v in m.added_inside.dropna().items()}}

    def figures(self, results: Results) -> dict[str, Figure]:
        from matplotlib.figure import Figure

        df = results.table("coverage")
        m = df.groupby("augmentation").coverage.agg(["mean", "min", "max"])
        fig = Figure(figsize=(6.4, 4.2))
        ax = fig.subplots()
        ax.bar(m.index, m["mean"], yerr=[m["mean"] - m["min"], m["max"] - m["mean"]],
               color=["0.5" if k in ("none", "fresh") else "C0" for k in m.index])
        ax.set_ylabel("fraction of test images inside the hull (PCA space)")
        ax.set_xlabel("what was added to the base training images")
        fig.tight_layout()
        return {"Augmentation vs fresh data: coverage by the training hull": fig}


# ================================================================================================
# 7. proximity-vs-error
# ================================================================================================
MNIST1D_MLP_BASELINE = 0.68  # Greydanus 2020, MNIST-1D: MLP test accuracy ≈ 68 %
AUROC_MIN = 0.55  # chance (0.5) plus a minimum effect of 0.05


class ProximityConfig(ExperimentConfig):
    dataset: Literal["mnist1d"] = Field("mnist1d", description="built-in data set (its MLP baseline is published)")
    model: Literal["cnn", "mlp"] = Field("cnn", description="classifier: the MNIST-1D reference CNN or an MLP")
    mlp_widths: tuple[Annotated[int, Field(ge=1, le=4096)], ...] = Field(
        (256, 256), min_length=1, description="MLP hidden widths (model = mlp)")
    steps: int = Field(1000, ge=1, le=10**6, description="Adam steps")
    lr: float = Field(1e-2, gt=0, le=1, description="Adam learning rate")
    batch_size: int = Field(100, ge=1, le=65_536, description="examples per step")
    k: int = Field(5, ge=1, le=1000, description="neighbours of the kNN distance (mean over the k)")
    scores: tuple[Literal["knn_input", "knn_embedding", "hull_distance_embedding"], ...] = Field(
        ("knn_input", "knn_embedding"), min_length=1,
        description="proximity scores: kNN distance in input space or in the last hidden layer; exact "
                    "distance to the training-embedding hull (slow)")
    n_test: int = Field(1000, ge=50, le=100_000, description="test points (count; the same in every run)")


class ProximityVsError(Experiment):
    name = "proximity-vs-error"
    kind = "claim"
    claim = (
        "Test samples farther from the training data are more often misclassified: graded proximity "
        "(nearest-neighbour distance, distance to the hull) predicts a trained model's errors."
    )
    source = (
        "Bonnasse-Gahot 2022, arXiv 2207.08648 (proximity tracks accuracy); Balestriero, Pesenti & "
        "LeCun 2021, arXiv 2110.09485 (membership); baseline: Greydanus 2020, MNIST-1D"
    )
    check_statement = (
        "Pre-registered direction: farther → more errors. For each score, the AUROC of the distance "
        "for 'misclassified', mean over seeds (independently trained nets), percentile-bootstrap "
        "interval over test points resampled jointly, > 0.55 (chance 0.5 + 0.05). Valid only on a "
        "classifier at least at the MNIST-1D MLP baseline (test accuracy 0.68, t-interval over seeds "
        "> 0.68), a precondition: below it the verdict is inconclusive."
    )
    Config = ProximityConfig
    presets: ClassVar[dict] = {
        "smoke": {"steps": 60, "n_test": 200, "scores": ("knn_input", "knn_embedding")},
        "quick": {},
        "full": {"steps": 6000, "lr": 3e-3, "scores": ("knn_input", "knn_embedding", "hull_distance_embedding")},
    }
    default_seeds: ClassVar[dict] = {"smoke": 2, "quick": 5, "full": 10}
    budget_s = 6.0
    tables = ("model", "scores")

    def run(self, config: ProximityConfig, seed: int) -> dict[str, pd.DataFrame]:
        import pandas as pd
        import torch

        from theorylab.geometry.neighbors import knn_distance
        from theorylab.models import accuracy, cnn1d, mlp, predict, train
        from theorylab.probes.activations import block_outputs

        ds = _load(config.dataset, None, 0)
        X_tr, y_tr = ds.X_train, ds.y_train
        X_te, y_te = ds.X_test[: config.n_test], ds.y_test[: config.n_test]
        if config.model == "cnn":
            net = cnn1d(ds.dim, ds.n_classes, seed=child_seed(seed, 0))
        else:
            net = mlp(ds.dim, config.mlp_widths, ds.n_classes, seed=child_seed(seed, 0))
        train(net, torch.as_tensor(X_tr, dtype=torch.float32), torch.as_tensor(y_tr), steps=config.steps,
              lr=config.lr, batch_size=config.batch_size, seed=child_seed(seed, 1))
        Xte_t = torch.as_tensor(X_te, dtype=torch.float32)
        wrong = predict(net, Xte_t).argmax(1).numpy() != y_te
        out = {"test_index": np.arange(len(X_te)), "wrong": wrong}
        # the last hidden block (the block before the logits), read the one way
        label, E_tr = block_outputs(net, X_tr)[-2]
        _, E_te = block_outputs(net, X_te)[-2]
        if "knn_input" in config.scores:
            out["knn_input"] = knn_distance(X_tr, X_te, k=config.k, reduce="mean")
        if "knn_embedding" in config.scores:
            out["knn_embedding"] = knn_distance(E_tr, E_te, k=config.k, reduce="mean")
        if "hull_distance_embedding" in config.scores:
            from theorylab.geometry.hull import in_hull

            out["hull_distance_embedding"] = in_hull(E_tr, E_te, distance=True).distance
        meta = {"test_acc": accuracy(net, Xte_t, torch.as_tensor(y_te)),
                "train_acc": accuracy(net, torch.as_tensor(X_tr, dtype=torch.float32), torch.as_tensor(y_tr)),
                "embedding": label, "embedding_dim": E_tr.shape[1]}
        return {"scores": pd.DataFrame(out), "model": pd.DataFrame([meta])}

    def check_point(self, results: Results) -> list[Check]:
        from theorylab.engine.stats import bootstrap_interval, mean_interval

        acc = results.table("model").test_acc.to_numpy()
        gate = interval_check(
            "the classifier is at least at the MNIST-1D MLP baseline (a precondition of the test)",
            "test accuracy", mean_interval(acc, bounds=(0, 1)), above=MNIST1D_MLP_BASELINE,
            effect="≥ the published MLP baseline", reference=MNIST1D_MLP_BASELINE,
            reference_source="Greydanus 2020, MNIST-1D (MLP ≈ 68 %)", exact=False, precondition=True)
        sc = results.table("scores").sort_values(["run_id", "test_index"])
        runs = list(dict.fromkeys(sc.run_id))
        wrong = np.stack([sc[sc.run_id == r].wrong.to_numpy(float) for r in runs], axis=1)
        checks = [gate]
        for score in (c for c in ("knn_input", "knn_embedding", "hull_distance_embedding") if c in sc):
            s = np.stack([sc[sc.run_id == r][score].to_numpy(float) for r in runs], axis=1)
            M = np.hstack([s, wrong])  # rows: test points, resampled jointly across the nets

            def mean_auroc(rows: np.ndarray, m: int = len(runs)) -> float:
                return float(np.nanmean(_auroc(rows[:, :m], rows[:, m:] > 0.5)))

            checks.append(interval_check(
                f"farther from the training data → more errors ({score})",
                f"AUROC of {score} for misclassification (mean over {len(runs)} nets)",
                bootstrap_interval(M, mean_auroc, n_boot=1000, seed=0, bounds=(0, 1)), above=AUROC_MIN,
                effect="chance 0.5 + 0.05", replicates="test points (bootstrap; nets pooled)"))
        return checks  # below the baseline the gate makes the verdict inconclusive

    def evidence(self, results: Results) -> dict[str, Any]:
        m = results.table("model")
        sc = results.table("scores")
        return {"test_accuracy": round(float(m.test_acc.mean()), 4),
                "train_accuracy": round(float(m.train_acc.mean()), 4),
                "error_rate": round(float(sc.wrong.mean()), 4),
                "embedding": f"{m.embedding.iloc[0]} ({int(m.embedding_dim.iloc[0])} dims)"}

    def figures(self, results: Results) -> dict[str, Figure]:
        from matplotlib.figure import Figure

        sc = results.table("scores")
        scores = [c for c in ("knn_input", "knn_embedding", "hull_distance_embedding") if c in sc]
        fig = Figure(figsize=(6.4, 4.2))
        ax = fig.subplots()
        for i, s in enumerate(scores):
            rank = sc.groupby("run_id")[s].rank(pct=True)
            bins = np.clip((rank * 10).astype(int), 0, 9)
            err = sc.wrong.groupby(bins).mean()
            ax.plot((err.index + 0.5) / 10, err.to_numpy(), "o-", color=f"C{i}", label=s)
        ax.set_xlabel("distance to the training data (percentile within a run)")
        ax.set_ylabel("error rate")
        ax.legend(frameon=False, fontsize=8)
        fig.tight_layout()
        return {"Error rate vs distance to the training data": fig}
