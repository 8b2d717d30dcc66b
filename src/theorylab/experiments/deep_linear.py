"""Claim F: deep linear networks — the trajectory, not the loss, decides where they go.

Two experiments:

* ``deep-matrix-factorization`` (Arora, Cohen, Hu & Luo, NeurIPS 2019). Matrix completion of a
  100×100 rank-5 matrix from 2,000–5,000 observed entries by gradient descent on a depth-N
  product W = W_N ⋯ W_1 of square factors from a small init, against nuclear-norm minimization
  (the convex relaxation, solved by cvxpy/SCS). Every method fits the observed entries; they
  differ in which completion they pick. Claim: with few observations, deeper factorizations
  reach lower effective rank (exp of the entropy of the normalized singular values) and lower
  error on the unobserved entries than depth 2 and than the nuclear norm.
* ``deep-linear-preconditioning`` (Arora, Cohen & Hazan, ICML 2018). (a) Small-LR gradient
  descent on the factors of a depth-N linear net from a balanced start moves the end-to-end
  matrix along the preconditioned flow Ẇ = −η Σ_j (WWᵀ)^{(j−1)/N} ∇L(W) (WᵀW)^{(N−j)/N},
  which is not gradient descent on W; (b) on ℓ4 regression the over-parameterization
  w = (∏ a_i)·v (N − 1 extra scalars) converges faster than GD on w, while on ℓ2 it does not.

The algorithms (gradient descent on the factors, nuclear-norm completion, over-parameterized
ℓp regression) are in :mod:`theorylab.models.linear`; this module sets up the problems and checks.

Departures from the papers, stated:

* Deep matrix factorization: the paper trains with "GroupRMSprop" (one adaptive learning rate
  for all parameters). We use gradient descent with one scalar step per iteration as well —
  the smaller of a curvature bound (lr_factor / (N·‖W‖₂^{2−2/N}), the end-to-end flow's
  stability limit) and a bound on the relative motion of the factors (``max_rel_step``, which
  matters near the saddle at the origin). A scalar step rescales time and keeps the gradient
  direction, so the path is the gradient-flow path. Init: i.i.d. Gaussian factors rescaled so
  that the end-to-end matrix has RMS entry ``init_scale``. Runs stop at training MSE below
  ``tol`` (the paper: 1e-6; ``quick`` uses 1e-4 to fit the budget); runs that do not get there
  within ``max_steps`` are reported and left out of the paired ratios. Test error is the
  relative Frobenius error on the unobserved entries.
* Preconditioning: a synthetic regression (the paper's ℓ4 experiment uses the UCI "gas sensor
  array drift" ethanol data, 2,565 × 128, which we cannot download): 500 samples, 20 Gaussian
  features whose scales span ``lp_condition`` (sensor-like, un-normalized), y = Xw* + noise.
  Learning rates are tuned per depth on the same grid (the best loss after T steps), as the
  paper does. The path comparison uses a 4-in, 3-out least-squares problem with target
  singular values (3, 1.5, 0.75) and balanced factors built exactly (the theorem's hypothesis),
  so the init scale need not be tiny. Paths are compared as curves, sampled by arc length
  (distance from each point of one path to the nearest point of the other, the larger of the
  two directions), so a small shift in the time at which a saddle is escaped is not counted as
  disagreement; the matched-time deviation is reported beside it.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

import numpy as np
from pydantic import Field, model_validator

from theorylab.engine.checks import Check, interval_check, worst_of
from theorylab.engine.config import ExperimentConfig
from theorylab.engine.experiment import Experiment
from theorylab.engine.stats import mean_interval, ratio_interval
from theorylab.seeding import rng as child_rng

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from theorylab.engine.results import Results

__all__ = [
    "DeepLinearPreconditioning",
    "DeepMatrixFactorization",
    "MatrixFactorizationConfig",
    "PreconditioningConfig",
]

Depth = Annotated[int, Field(ge=1, le=8)]


# =============================================================================================
# deep-matrix-factorization
# =============================================================================================
def _low_rank_target(n: int, rank: int, rng: np.random.Generator) -> np.ndarray:
    """W* = UVᵀ with U, V ~ N(0, 1)^{n×r}, rescaled to ‖W*‖_F = n (RMS entry 1), as the paper's
    code rescales to ‖W*‖_F = 100 for n = 100."""
    W = rng.standard_normal((n, rank)) @ rng.standard_normal((rank, n))
    return W * (n / np.linalg.norm(W))


class MatrixFactorizationConfig(ExperimentConfig):
    n: int = Field(100, ge=10, le=400, description="side of the square matrix to complete (rows = columns)")
    rank: int = Field(5, ge=1, le=50, description="rank of the ground-truth matrix")
    n_observed: tuple[Annotated[int, Field(ge=10)], ...] = Field(
        (2000,), min_length=1, description="numbers of observed entries (each a separate mask per seed)")
    depths: tuple[Depth, ...] = Field(
        (1, 2, 3, 4), min_length=2, description="factorization depths N (must include 2 and one ≥ 3)")
    init_scales: tuple[Annotated[float, Field(gt=0, le=1)], ...] = Field(
        (1e-3,), min_length=1, description="RMS entry of the end-to-end matrix at init (units of W*'s RMS entry)")
    tol: float = Field(1e-4, gt=0, le=1e-2, description="stop when the training MSE (observed entries) is below this")
    max_steps: int = Field(20_000, ge=10, le=5_000_000, description="most gradient steps per factorization run")
    lr_factor: float = Field(0.5, gt=0, le=1.5,
                             description="step = lr_factor / (N‖W‖₂^{2−2/N}) (fraction of the stability limit)")
    max_rel_step: float = Field(0.02, gt=0, le=0.5,
                                description="largest relative change of the factors per step (fraction)")
    nuclear_norm: bool = Field(True, description="also solve nuclear-norm minimization (cvxpy/SCS) as the convex baseline")
    solver_eps: float = Field(1e-7, gt=0, le=1e-3, description="SCS absolute and relative tolerance")

    @model_validator(mode="after")
    def _needs_baseline(self) -> MatrixFactorizationConfig:
        if 2 not in self.depths or not any(d >= 3 for d in self.depths):
            raise ValueError(f"depths must include 2 (the baseline) and at least one depth ≥ 3, got {self.depths}")
        if max(self.n_observed) >= self.n * self.n:
            raise ValueError(f"n_observed must be below n² = {self.n * self.n}")
        if self.rank >= self.n:
            raise ValueError("rank must be below n")
        return self


class DeepMatrixFactorization(Experiment):
    name = "deep-matrix-factorization"
    kind = "claim"
    claim = (
        "Deep matrix factorizations prefer low rank: completing a 100×100 rank-5 matrix from few "
        "observed entries, gradient descent from a small init on deeper factorizations (depth ≥ 3) "
        "reaches lower effective rank and lower error than depth 2 and than nuclear-norm minimization."
    )
    source = (
        "Arora, Cohen, Hu & Luo 2019, 'Implicit Regularization in Deep Matrix Factorization', "
        "NeurIPS, arXiv 1905.13655, §4 and Fig. 2"
    )
    check_statement = (
        "In the few-observations regime (observed fraction ≤ 0.3 of the entries; larger counts are "
        "reported only, all methods recover there), at every init scale and every depth N ≥ 3, with "
        "seeds as replicates (same target and mask per seed, pairs where both runs reached the "
        "training tolerance): (1) the paired geometric-mean ratio of the unobserved-entry error, "
        "depth N / depth 2, below 0.8 (≥ 20% lower); (2) the ratio of effective ranks, depth N / "
        "depth 2, below 0.95; (3, 4) the same two ratios against nuclear-norm minimization. Each "
        "family is judged by its worst member. Control: depth 1 (plain GD on W) leaves the "
        "unobserved entries at init (error ≈ 1), shown beside."
    )
    Config = MatrixFactorizationConfig
    presets: ClassVar[dict] = {
        "smoke": {"n": 30, "rank": 2, "n_observed": (250,), "depths": (1, 2, 3), "tol": 1e-3,
                  "max_steps": 3000},
        "quick": {},
        "full": {"n_observed": (2000, 2500, 3000, 5000), "init_scales": (1e-3, 1e-4, 1e-5, 1e-6),
                 "tol": 1e-6, "max_steps": 300_000},
    }
    default_seeds: ClassVar[dict] = {"smoke": 2, "quick": 5, "full": 5}
    budget_s = 12.0
    tables = ("completion",)
    summary_keys = ("n_observed", "method", "init_scale")

    FEW_FRACTION: ClassVar[float] = 0.3  # observed fraction at or below which the claim is checked
    ERROR_RATIO: ClassVar[float] = 0.8
    RANK_RATIO: ClassVar[float] = 0.95

    def run(self, config: MatrixFactorizationConfig, seed: int) -> dict[str, pd.DataFrame]:
        import pandas as pd

        from theorylab.geometry.spectra import effective_rank, singular_values
        from theorylab.models.linear import complete_by_factorization, complete_by_nuclear_norm

        n = config.n
        target = _low_rank_target(n, config.rank, child_rng(seed, 0))
        rows = []
        for i, m in enumerate(config.n_observed):
            mrng = child_rng(seed, 1, i)
            mask = np.zeros(n * n, dtype=bool)
            mask[mrng.choice(n * n, size=m, replace=False)] = True
            mask = mask.reshape(n, n)
            unobserved = ~mask
            ref = float(np.linalg.norm(target[unobserved]))

            def record(W: np.ndarray, method: str, depth: int, init: float, extra: dict[str, Any],
                       _m: int = m, _unobserved: np.ndarray = unobserved, _ref: float = ref) -> None:
                s = singular_values(W)
                rows.append({
                    "n_observed": _m, "method": method, "depth": depth, "init_scale": init,
                    "test_error": float(np.linalg.norm((W - target)[_unobserved])) / _ref,  # relative
                    "effective_rank": effective_rank(s, spectrum=True),
                    "sigma_rank_plus_1": float(s[config.rank] / s[0]) if s[0] > 0 else math.nan,
                    **extra,
                })

            if config.nuclear_norm:
                X = complete_by_nuclear_norm(target, mask, eps=config.solver_eps)
                record(X, "nuclear-norm", 0, 0.0,
                       {"train_mse": float(np.mean((X - target)[mask] ** 2)), "steps": 0, "converged": True})
            for a, init in enumerate(config.init_scales):
                for depth in config.depths:
                    out = complete_by_factorization(
                        target, mask, depth, init, child_rng(seed, 2, i, a, depth), tol=config.tol,
                        max_steps=config.max_steps, lr_factor=config.lr_factor, max_rel_step=config.max_rel_step)
                    record(out["W"], f"depth-{depth}", depth, init,
                           {"train_mse": out["train_mse"], "steps": out["steps"], "converged": out["converged"]})
        return {"completion": pd.DataFrame(rows)}

    # -- checks ---------------------------------------------------------------------------------
    @staticmethod
    def _paired(df: pd.DataFrame, n_obs: int, method: str, init: float, base: str,
                base_init: float | None, col: str) -> tuple[np.ndarray, np.ndarray]:
        sel = df[(df.n_observed == n_obs)]
        a = sel[(sel.method == method) & np.isclose(sel.init_scale, init)].set_index("seed")
        b = sel[sel.method == base]
        if base_init is not None:
            b = b[np.isclose(b.init_scale, base_init)]
        b = b.set_index("seed")
        seeds = sorted(set(a.index) & set(b.index))
        ok = [s for s in seeds if bool(a.loc[s, "converged"]) and bool(b.loc[s, "converged"])]
        return a.loc[ok, col].to_numpy(float), b.loc[ok, col].to_numpy(float)

    def check_point(self, results: Results) -> list[Check]:
        cfg = results.config
        df = results.table("completion")
        few = [m for m in cfg.n_observed if m <= self.FEW_FRACTION * cfg.n**2]
        deep = [d for d in cfg.depths if d >= 3]
        fams: dict[tuple[str, str], list[tuple[Check, str]]] = {}
        bases = [("depth 2", "depth-2")] + ([("nuclear norm", "nuclear-norm")] if cfg.nuclear_norm else [])
        for m in few:
            for init in cfg.init_scales:
                for d in deep:
                    for base_name, base in bases:
                        base_init = init if base == "depth-2" else None
                        label = f"n_obs={m}, init={init:g}, N={d}"
                        for col, thr, what in (("test_error", self.ERROR_RATIO, "error"),
                                               ("effective_rank", self.RANK_RATIO, "effective rank")):
                            a, b = self._paired(df, m, f"depth-{d}", init, base, base_init, col)
                            est = ratio_interval(a, b)
                            c = interval_check(
                                f"depth ≥ 3 reaches lower {what} than {base_name}",
                                f"{what} ratio depth N / {base_name}", est, below=thr,
                                effect=f"≥ {100 * (1 - thr):.0f}% lower than {base_name}, paired by seed")
                            fams.setdefault((what, base_name), []).append((c, label))
        checks = []
        for (what, base_name), members in fams.items():
            w = worst_of([c for c, _ in members],
                         f"deeper factorizations reach lower {what} than {base_name} (few observations)",
                         labels=[lab for _, lab in members])
            if w is not None:
                checks.append(w)
        if not checks:
            checks.append(interval_check(
                "deeper factorizations reach lower error than depth 2 (few observations)",
                "no observation count in the few-observations regime", mean_interval([]), below=self.ERROR_RATIO))
        return checks

    def evidence(self, results: Results) -> dict[str, Any]:
        df = results.table("completion")
        g = df.groupby(["n_observed", "method", "init_scale"], dropna=False)
        out = {}
        for (m, method, init), q in g:
            key = f"n_obs={m} {method}" + (f" init={init:g}" if init > 0 else "")
            out[key] = {"test_error": round(float(q.test_error.mean()), 5),
                        "effective_rank": round(float(q.effective_rank.mean()), 3),
                        "converged": f"{int(q.converged.sum())}/{len(q)}",
                        "median_steps": int(q.steps.median())}
        return {"by_method": out}

    def figures(self, results: Results) -> dict[str, Figure]:
        from matplotlib.figure import Figure

        df = results.table("completion")
        figs = {}
        for col, label, title in (("test_error", "relative error on unobserved entries", "Completion error vs depth"),
                                  ("effective_rank", "effective rank (exp entropy of σ/Σσ)", "Effective rank vs depth")):
            fig = Figure(figsize=(6.4, 4.2))
            ax = fig.subplots()
            fac = df[df.method != "nuclear-norm"]
            for i, ((m, init), q) in enumerate(fac.groupby(["n_observed", "init_scale"])):
                s = q.groupby("depth")[col].agg(["mean", "std", "count"])
                half = 1.96 * s["std"].fillna(0) / np.sqrt(s["count"])
                ax.errorbar(s.index, s["mean"], yerr=half, fmt="o-", color=f"C{i}", capsize=3,
                            label=f"GD on factors, {m} observed, init {init:g}")
                nn_ = df[(df.method == "nuclear-norm") & (df.n_observed == m)][col]
                if len(nn_):
                    ax.axhline(float(nn_.mean()), color=f"C{i}", ls="--", lw=1,
                               label=f"nuclear norm, {m} observed")
            ax.set_yscale("log")
            ax.set_xticks(sorted(fac.depth.unique()))
            ax.set_xlabel("depth N (number of factors)")
            ax.set_ylabel(label)
            ax.legend(frameon=False, fontsize=8)
            fig.tight_layout()
            figs[title] = fig
        return figs


# =============================================================================================
# deep-linear-preconditioning
# =============================================================================================
class _ArcCurve:
    """A path sampled by arc length: a point is kept whenever it moved ≥ ``step`` from the last."""

    def __init__(self, step: float) -> None:
        self.step = step
        self.points: list[np.ndarray] = []

    def add(self, W: np.ndarray, force: bool = False) -> None:
        w = np.asarray(W, dtype=float).ravel()
        if force or not self.points or np.linalg.norm(w - self.points[-1]) >= self.step:
            self.points.append(w.copy())

    def array(self) -> np.ndarray:
        return np.asarray(self.points)


def _directed_distance(A: np.ndarray, B: np.ndarray) -> float:
    """max over points a of A of min over points b of B of ‖a − b‖ (A, B: (m, k) point clouds)."""
    d2 = (A**2).sum(1)[:, None] + (B**2).sum(1)[None, :] - 2.0 * A @ B.T
    return float(np.sqrt(np.maximum(d2.min(axis=1), 0.0)).max())


class PreconditioningConfig(ExperimentConfig):
    path_depth: int = Field(3, ge=2, le=6, description="number of factors N in the path comparison")
    in_dim: int = Field(4, ge=2, le=20, description="input dimension d of the path-comparison regression")
    out_dim: int = Field(3, ge=2, le=20, description="output dimension k of the path-comparison regression")
    target_spectrum: tuple[Annotated[float, Field(gt=0, le=100)], ...] = Field(
        (3.0, 1.5, 0.75), min_length=2, description="singular values of the teacher matrix (≤ min(d, k) of them)")
    n_samples: int = Field(30, ge=5, le=10_000, description="regression samples in the path comparison")
    init_scale: float = Field(0.2, gt=0, le=1, description="‖W(0)‖_F relative to the least-squares solution's norm")
    lr_factor: float = Field(0.05, gt=0, le=0.5,
                             description="η = lr_factor / (N·σ_max(W_ls)^{2−2/N}·λ_max(XXᵀ/n)) (fraction of the stability limit)")
    steps: int = Field(3000, ge=100, le=2_000_000, description="gradient steps of the path comparison")
    arc_step: float = Field(1e-3, gt=0, le=0.05, description="arc-length sampling of the paths (relative to ‖W_ls‖)")
    lp_depths: tuple[Annotated[int, Field(ge=2, le=8)], ...] = Field(
        (2, 3), min_length=1, description="over-parameterization depths N compared with depth 1 (N − 1 extra scalars)")
    lp_problems: int = Field(4, ge=1, le=100,
                             description="independent ℓp regression problems per seed (each one replicate)")
    lp_samples: int = Field(500, ge=20, le=100_000, description="samples of the ℓp regression")
    lp_features: int = Field(20, ge=2, le=1000, description="features of the ℓp regression")
    lp_condition: float = Field(100.0, ge=1, le=1e4, description="ratio of the largest to the smallest feature scale")
    lp_noise: float = Field(0.1, ge=0, le=10, description="label noise standard deviation of the ℓp regression")
    lp_init: float = Field(0.25, gt=0, le=2, description="‖w(0)‖ relative to ‖w*‖ in the ℓp regression")
    lp_steps: int = Field(1000, ge=10, le=1_000_000, description="gradient steps T after which the ℓp losses are compared")
    lp_lr_range: tuple[float, float] = Field((1e-4, 10.0), description="smallest and largest learning rate of the grid")
    lp_lr_points: int = Field(21, ge=3, le=200, description="log-spaced learning rates in the grid (best one per depth)")

    @model_validator(mode="after")
    def _shapes(self) -> PreconditioningConfig:
        if len(self.target_spectrum) > min(self.in_dim, self.out_dim):
            raise ValueError(f"target_spectrum has {len(self.target_spectrum)} values; at most min(in_dim, out_dim)")
        lo, hi = self.lp_lr_range
        if not 0 < lo < hi:
            raise ValueError(f"lp_lr_range must be 0 < low < high, got {self.lp_lr_range}")
        return self


class DeepLinearPreconditioning(Experiment):
    name = "deep-linear-preconditioning"
    kind = "claim"
    claim = (
        "Gradient descent on the factors of a depth-N linear network from a balanced start moves "
        "the end-to-end matrix along the preconditioned flow Ẇ = −η Σ_j (WWᵀ)^{(j−1)/N} ∇L(W) "
        "(WᵀW)^{(N−j)/N}, which is not gradient descent on W; on ℓ4 regression this "
        "over-parameterization accelerates convergence (on ℓ2 it does not)."
    )
    source = (
        "Arora, Cohen & Hazan 2018, 'On the Optimization of Deep Networks: Implicit Acceleration "
        "by Overparameterization', ICML, arXiv 1802.06509, Theorem 1 and §8"
    )
    check_statement = (
        "Seeds as replicates for the paths; independent regression problems (several per seed) for "
        "the ℓp part. (1) The factor path stays within 0.05·‖W_ls‖ of the preconditioned "
        "flow's path (curve distance, the larger of the two directions; mean with t-interval "
        "below 0.05); (2) it departs from plain GD's path on W by more than 0.15·‖W_ls‖ "
        "(3× the tolerance; interval above 0.15). (3) ℓ4 regression: excess loss after T steps "
        "at the best learning rate of a common grid, depth N / depth 1, paired geometric-mean "
        "ratio below 0.8 at every N; (4) control: the same ratio for ℓ4 divided by the one for "
        "ℓ2 (where the paper found no gain) below 1 — depth helps ℓ4 more than ℓ2."
    )
    Config = PreconditioningConfig
    presets: ClassVar[dict] = {
        "smoke": {"steps": 600, "lp_depths": (2,), "lp_problems": 1, "lp_steps": 150, "lp_samples": 100,
                  "lp_lr_points": 9, "arc_step": 3e-3},
        "quick": {},
        "full": {"lr_factor": 0.01, "steps": 15_000, "lp_depths": (2, 3, 4), "lp_steps": 3000, "lp_lr_points": 41},
    }
    default_seeds: ClassVar[dict] = {"smoke": 2, "quick": 5, "full": 10}
    budget_s = 4.0
    tables = ("paths", "lp", "lp_curves")

    AGREE_TOL: ClassVar[float] = 0.05
    GD_MIN_DISTANCE: ClassVar[float] = 0.15
    LP_RATIO: ClassVar[float] = 0.8

    # -- (a) the path comparison ---------------------------------------------------------------
    def _paths(self, config: PreconditioningConfig, seed: int) -> tuple[dict[str, float], list[dict[str, Any]]]:
        from theorylab.geometry.spectra import balanced_factors, end_to_end_direction, product

        rng = child_rng(seed, 0)
        d, k, N, n = config.in_dim, config.out_dim, config.path_depth, config.n_samples
        X = rng.standard_normal((d, n))
        U, _, Vt = np.linalg.svd(rng.standard_normal((k, d)), full_matrices=False)
        s = np.zeros(min(k, d))
        s[: len(config.target_spectrum)] = config.target_spectrum
        Y = (U * s) @ Vt @ X + 0.1 * rng.standard_normal((k, n))

        def grad(W: np.ndarray) -> np.ndarray:
            return (W @ X - Y) @ X.T / n

        W_ls = np.linalg.lstsq(X.T, Y.T, rcond=None)[0].T
        scale = float(np.linalg.norm(W_ls))
        W0 = rng.standard_normal((k, d))
        W0 *= config.init_scale * scale / np.linalg.norm(W0)
        F = balanced_factors(W0, N, rng)
        lam = float(np.linalg.eigvalsh(X @ X.T / n).max())
        eta = config.lr_factor / (N * np.linalg.norm(W_ls, 2) ** (2 - 2 / N) * lam)
        E, G = W0.copy(), W0.copy()
        curves = {key: _ArcCurve(config.arc_step * scale) for key in ("factors", "flow", "gd")}
        record_at = set(np.unique(np.geomspace(1, config.steps, 40).astype(int)).tolist()) | {0}
        rows: list[dict[str, Any]] = []
        matched = 0.0
        P = W0
        for t in range(config.steps + 1):
            P = product(F)
            for key, W in (("factors", P), ("flow", E), ("gd", G)):
                curves[key].add(W)
            matched = max(matched, float(np.linalg.norm(P - E)) / scale)
            if t in record_at:
                for key, W in (("factors", P), ("flow", E), ("gd", G)):
                    sv = np.linalg.svd(W, compute_uv=False)
                    rows += [{"step": t, "path": key, "index": i, "sigma": float(v)} for i, v in enumerate(sv)]
            if t == config.steps:
                break
            g = grad(P)
            F = [F[j] - eta * (product(F[j + 1:]) if j < N - 1 else np.eye(k)).T @ g
                 @ (product(F[:j]) if j > 0 else np.eye(d)).T for j in range(N)]
            E = E - eta * end_to_end_direction(E, grad(E), N)
            G = G - eta * grad(G)
        # plain GD converges much sooner; finish its path so the comparison sees all of it
        for _ in range(50 * config.steps):
            if np.linalg.norm(G - W_ls) <= 1e-3 * scale:
                break
            G = G - eta * grad(G)
            curves["gd"].add(G)
        for key, W in (("factors", P), ("flow", E), ("gd", G)):
            curves[key].add(W, force=True)
        fa, fl, gd = (curves[key].array() for key in ("factors", "flow", "gd"))
        agree = max(_directed_distance(fa, fl), _directed_distance(fl, fa)) / scale
        away = _directed_distance(fa, gd) / scale
        summary = {"curve_distance_flow": agree, "curve_distance_gd": away, "matched_time_distance": matched,
                   "final_distance_to_ls": float(np.linalg.norm(P - W_ls)) / scale, "eta": eta,
                   "balance_drift": float(max(np.linalg.norm(F[j + 1].T @ F[j + 1] - F[j] @ F[j].T)
                                              for j in range(N - 1))) / scale ** (2 / N)}
        return summary, rows

    # -- (b) ℓp regression ---------------------------------------------------------------------
    def _lp(self, config: PreconditioningConfig, seed: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        rows, curves = [], []
        for problem in range(config.lp_problems):
            r, c = self._lp_problem(config, child_rng(seed, 1, problem))
            rows += [{"problem": problem, **row} for row in r]
            curves += [{"problem": problem, **row} for row in c]
        return rows, curves

    def _lp_problem(self, config: PreconditioningConfig,
                    rng: np.random.Generator) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """One ℓp problem: both p, every depth, the best learning rate of the grid for each."""
        from theorylab.models.linear import lp_loss, lp_minimum, overparameterized_gd

        n, d = config.lp_samples, config.lp_features
        scales = config.lp_condition ** (-np.linspace(0.0, 1.0, d))
        X = rng.standard_normal((n, d)) * scales
        w_star = rng.standard_normal(d)
        y = X @ w_star + config.lp_noise * rng.standard_normal(n)
        w0 = rng.standard_normal(d)
        w0 *= config.lp_init * np.linalg.norm(w_star) / np.linalg.norm(w0)
        lrs = np.geomspace(*config.lp_lr_range, config.lp_lr_points)
        every = max(1, config.lp_steps // 50)
        rows, curves = [], []
        for p in (2, 4):
            best_l = lp_minimum(X, y, p)
            start = float(lp_loss(w0[None], X, y, p)[0])
            for depth in (1, *config.lp_depths):
                final, curve = overparameterized_gd(w0, X, y, p, depth, lrs, config.lp_steps, every)
                i = int(np.argmin(final))
                rows.append({"p": p, "depth": depth, "best_lr": float(lrs[i]), "lr_at_grid_edge": i in (0, len(lrs) - 1),
                             "loss": float(final[i]), "min_loss": best_l, "initial_excess": start - best_l,
                             "excess_loss": max(float(final[i]) - best_l, 1e-300)})
                steps = np.minimum(np.arange(curve.shape[0]) * every, config.lp_steps)
                curves += [{"p": p, "depth": depth, "step": int(t), "excess_loss": float(v - best_l)}
                           for t, v in zip(steps, curve[:, i], strict=True)]
        return rows, curves

    def run(self, config: PreconditioningConfig, seed: int) -> dict[str, pd.DataFrame]:
        import pandas as pd

        summary, sv_rows = self._paths(config, seed)
        lp_rows, lp_curves = self._lp(config, seed)
        paths = pd.DataFrame(sv_rows)
        for key, value in summary.items():
            paths[key] = value
        return {"paths": paths, "lp": pd.DataFrame(lp_rows), "lp_curves": pd.DataFrame(lp_curves)}

    def check_point(self, results: Results) -> list[Check]:
        cfg = results.config
        per_run = results.table("paths").groupby("seed")[["curve_distance_flow", "curve_distance_gd"]].first()
        checks = [
            interval_check(
                "GD on balanced factors follows the end-to-end preconditioned flow",
                "curve distance factor path ↔ preconditioned flow (fraction of ‖W_ls‖)",
                mean_interval(per_run.curve_distance_flow, bounds=(0, math.inf)), below=self.AGREE_TOL,
                effect=f"within {self.AGREE_TOL:g}·‖W_ls‖ along the whole path"),
            interval_check(
                "the preconditioned flow is not gradient descent on W",
                "largest distance from the factor path to plain GD's path (fraction of ‖W_ls‖)",
                mean_interval(per_run.curve_distance_gd, bounds=(0, math.inf)), above=self.GD_MIN_DISTANCE,
                effect=f"> {self.GD_MIN_DISTANCE:g}·‖W_ls‖ (3× the agreement tolerance)"),
        ]
        lp = results.table("lp")
        reps = "regression problems (independent draws, several per seed)"
        acc, ctrl = [], []
        for N in cfg.lp_depths:
            ratios = {}
            for p in (2, 4):
                q = lp[lp.p == p]
                a = q[q.depth == N].set_index(["seed", "problem"]).excess_loss
                b = q[q.depth == 1].set_index(["seed", "problem"]).excess_loss
                seeds = sorted(set(a.index) & set(b.index))
                ratios[p] = (a.loc[seeds].to_numpy(float) / b.loc[seeds].to_numpy(float))
            acc.append(interval_check(
                "depth accelerates ℓ4 regression", f"excess ℓ4 loss after {cfg.lp_steps} steps, depth N / depth 1",
                ratio_interval(ratios[4], np.ones_like(ratios[4])), below=self.LP_RATIO, replicates=reps,
                effect=f"≥ {100 * (1 - self.LP_RATIO):.0f}% lower excess loss, each depth at its best learning rate"))
            ctrl.append(interval_check(
                "the acceleration is specific to p > 2 (control: ℓ2)",
                "(depth-N/depth-1 ratio for ℓ4) / (the same ratio for ℓ2)",
                ratio_interval(ratios[4], ratios[2]), below=1.0, replicates=reps,
                effect="depth's gain on ℓ4 exceeds its gain on ℓ2"))
        labels = [f"N={N}" for N in cfg.lp_depths]
        for fam, statement in ((acc, "depth accelerates ℓ4 regression (every N)"),
                               (ctrl, "depth helps ℓ4 more than ℓ2 (every N)")):
            w = worst_of(fam, statement, labels=labels)
            if w is not None:
                checks.append(w)
        return checks

    def evidence(self, results: Results) -> dict[str, Any]:
        paths = results.table("paths").groupby("seed").first()
        lp = results.table("lp")
        return {
            "matched_time_distance_mean": round(float(paths.matched_time_distance.mean()), 4),
            "matched_time_distance_max": round(float(paths.matched_time_distance.max()), 4),
            "balance_drift_max": float(paths.balance_drift.max()),
            "final_distance_to_ls_max": round(float(paths.final_distance_to_ls.max()), 4),
            "lp_best_lr_at_grid_edge": int(lp.lr_at_grid_edge.sum()),
            "lp_excess_by_p_depth": {f"p={p}, N={d}": float(q.excess_loss.mean())
                                     for (p, d), q in lp.groupby(["p", "depth"])},
        }

    def figures(self, results: Results) -> dict[str, Figure]:
        from matplotlib.figure import Figure

        paths = results.table("paths")
        first = sorted(paths.seed.unique())[0]
        q = paths[paths.seed == first]
        fig1 = Figure(figsize=(6.4, 4.2))
        ax = fig1.subplots()
        styles = {"factors": ("-", "GD on factors"), "flow": (":", "preconditioned flow"), "gd": ("--", "GD on W")}
        for key, (ls, lab) in styles.items():
            for i, g in q[q.path == key].groupby("index"):
                ax.plot(g.step.clip(lower=1), g.sigma, ls, color=f"C{i}", label=f"{lab}" if i == 0 else None)
        ax.set_xscale("log")
        ax.set_xlabel("gradient step")
        ax.set_ylabel("singular values of the end-to-end matrix")
        ax.legend(frameon=False, title="first run; colour = singular value index")
        fig1.tight_layout()

        curves = results.table("lp_curves")
        fig2 = Figure(figsize=(6.4, 4.2))
        ax = fig2.subplots()
        for p, ls in ((4, "-"), (2, ":")):
            for j, (depth, g) in enumerate(curves[curves.p == p].groupby("depth")):
                m = g.groupby("step").excess_loss.apply(lambda v: float(np.exp(np.mean(np.log(np.maximum(v, 1e-300))))))
                ax.semilogy(m.index, m.values, ls, color=f"C{j}", label=f"ℓ{p}, depth {depth}")
        ax.set_xlabel("gradient step")
        ax.set_ylabel("excess loss (geometric mean over problems)")
        ax.legend(frameon=False)
        fig2.tight_layout()
        return {"Singular values along the three paths": fig1, "ℓp regression: depth vs depth 1": fig2}
