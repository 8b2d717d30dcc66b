"""Claim D: sparse high-dimensional interpolation (Lux et al. 2021).

Lux, Watson, Chang et al. 2021, "Interpolation of sparse high-dimensional data", Numerical
Algorithms 88, doi 10.1007/s11075-020-01040-2: Delaunay (simplex) interpolation competes with
MLPs in low dimension, where its error keeps falling with N, but by ~20 dimensions the data stay
sparse, Delaunay barely improves, and the MLP wins. Their analytic test: f(x) = cos‖x‖ on [0, 1]^d,
N = 2·4^i, an MLP of 10 hidden layers × 32 ReLU units.

Delaunay interpolation here is :func:`theorylab.geometry.delaunay_interpolate` (the containing
simplex from the lifted LP, queries outside the hull projected onto it, as DelaunaySparse does).
Departures: uniform random sites instead of Fekete points; the MLP is Lux's architecture trained
with Adam for `mlp_steps` steps (Lux: 100k SGD steps); in `quick` the MLP is trained at the
largest N only (the ratio check), at every N in `full`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, ClassVar

import numpy as np
from pydantic import Field

from theorylab.engine.checks import Check, against_reference, interval_check
from theorylab.engine.config import ExperimentConfig
from theorylab.engine.experiment import Experiment
from theorylab.seeding import child_seed, rng

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from theorylab.engine.results import Results

__all__ = ["DelaunayConfig", "DelaunayVsMLP"]

COMPETITIVE_MAX_D = 4  # "competitive" is claimed at d ≤ 4 ...
COMPETITIVE_RATIO = 1.5  # ... as a Delaunay/MLP error ratio ≤ 1.5
LOSING_MIN_D = 20  # "losing" is claimed at d ≥ 20 as a ratio > 1 (whole interval)
RATE_TOL = 0.15  # the fitted exponent must lie within ±0.15 of −2/d


def _target(X: np.ndarray) -> np.ndarray:
    """Lux et al.'s analytic test function f(x) = cos‖x‖₂."""
    return np.cos(np.linalg.norm(X, axis=1))


class DelaunayConfig(ExperimentConfig):
    dims: tuple[Annotated[int, Field(ge=1, le=64)], ...] = Field(
        (2, 4, 20), min_length=1, description="input dimensions d")
    n_sizes: tuple[Annotated[int, Field(ge=4, le=100_000)], ...] = Field(
        (32, 128, 512, 2048), min_length=2, description="training sizes N (Lux: 2·4^i), increasing")
    n_test: int = Field(150, ge=10, le=100_000, description="test points, uniform in [0, 1]^d (count)")
    mlp_widths: tuple[Annotated[int, Field(ge=1, le=4096)], ...] = Field(
        (32,) * 10, min_length=1, description="MLP hidden widths (Lux: 10 layers × 32 ReLU)")
    mlp_steps: int = Field(3000, ge=1, le=10**6, description="Adam steps (batch `mlp_batch`)")
    mlp_lr: float = Field(1e-3, gt=0, le=1, description="Adam learning rate")
    mlp_batch: int = Field(256, ge=1, le=65_536, description="examples per step")
    mlp_at_every_n: bool = Field(False, description="train the MLP at every N (else only at the largest)")
    knn_k: int = Field(5, ge=1, le=100, description="neighbours of the distance-weighted kNN reference")


class DelaunayVsMLP(Experiment):
    name = "delaunay-vs-mlp"
    kind = "claim"
    claim = (
        "Delaunay interpolation is competitive with neural networks in low dimension, where its error "
        "keeps falling as data are added (at the −2/d rate of piecewise-linear interpolation), but by "
        "~20 dimensions the data stay sparse, Delaunay barely improves with N and the MLP wins."
    )
    source = (
        "Lux, Watson, Chang et al. 2021, Numer. Algorithms 88, doi 10.1007/s11075-020-01040-2 "
        "(analytic test f = cos‖x‖ on [0, 1]^d)"
    )
    check_statement = (
        "At the largest N, the Delaunay/MLP mean-absolute-error ratio (paired geometric mean over "
        "seeds, t-interval): ≤ 1.5 at every d ≤ 4 (competitive), > 1 at every d ≥ 20 (losing). At "
        "every d, Delaunay's fitted exponent of MAE ∝ N^a (log–log slope per seed, t-interval) within "
        "±0.15 of −2/d. An interval that straddles a threshold is inconclusive."
    )
    Config = DelaunayConfig
    presets: ClassVar[dict] = {
        "smoke": {"dims": (2, 20), "n_sizes": (32, 128), "n_test": 30, "mlp_steps": 50, "mlp_widths": (32, 32)},
        "quick": {},
        "full": {"dims": (2, 4, 8, 12, 16, 20, 25, 30), "n_sizes": (8, 32, 128, 512, 2048, 8192), "n_test": 500,
                 "mlp_steps": 20_000, "mlp_at_every_n": True},
    }
    default_seeds: ClassVar[dict] = {"smoke": 2, "quick": 8, "full": 8}
    budget_s = 20.0
    tables = ("errors",)
    summary_keys = ("method", "dim", "n_points")

    def run(self, config: DelaunayConfig, seed: int) -> dict[str, pd.DataFrame]:
        import pandas as pd
        import torch
        from sklearn.neighbors import KNeighborsRegressor

        from theorylab.geometry.delaunay import delaunay_interpolate
        from theorylab.geometry.hull import in_hull
        from theorylab.models import mlp, predict, train

        sizes = sorted(config.n_sizes)
        rows = []
        for d in config.dims:
            g = rng(seed, d)
            X_te = g.random((config.n_test, d))
            y_te = _target(X_te)
            for n in sizes:
                X = g.random((n, d))
                y = _target(X)
                inside = in_hull(X, X_te, distance=False).fraction_inside
                preds = {"delaunay": delaunay_interpolate(X, y, X_te),
                         "knn": KNeighborsRegressor(n_neighbors=min(config.knn_k, n), weights="distance")
                         .fit(X, y).predict(X_te)}
                if config.mlp_at_every_n or n == sizes[-1]:
                    net = mlp(d, config.mlp_widths, 1, seed=child_seed(seed, d, n))
                    train(net, torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(y, dtype=torch.float32),
                          steps=config.mlp_steps, lr=config.mlp_lr, batch_size=config.mlp_batch, loss="mse",
                          seed=child_seed(seed, d, n, 1))
                    preds["mlp"] = predict(net, torch.as_tensor(X_te, dtype=torch.float32)).double().numpy().ravel()
                for method, p in preds.items():
                    rows.append({"method": method, "dim": d, "n_points": n,
                                 "mae": float(np.mean(np.abs(p - y_te))), "frac_test_in_hull": inside})
        return {"errors": pd.DataFrame(rows)}

    def check_point(self, results: Results) -> list[Check]:
        from theorylab.engine.stats import ratio_interval, slope_interval

        df = results.table("errors")
        checks: list[Check] = []
        for d in sorted(df.dim.unique()):
            g = df[df.dim == d]
            dl = g[g.method == "delaunay"]
            slope = slope_interval(dl.n_points, dl.mae, replicate=dl.seed, log_x=True, log_y=True)
            checks.append(against_reference(
                f"d = {d}: Delaunay's error falls as N^(−2/d) (piecewise-linear interpolation)",
                "fitted exponent a of MAE ∝ N^a (log–log slope)", slope, -2.0 / d, abs_tol=RATE_TOL,
                source="piecewise-linear interpolation error O(h²), h ∝ N^(−1/d)", exact=False))
            top = g[g.n_points == g.n_points.max()].pivot_table(index="seed", columns="method", values="mae")
            if "mlp" not in top:
                continue
            ratio = ratio_interval(top["delaunay"], top["mlp"])
            n = int(g.n_points.max())
            if d <= COMPETITIVE_MAX_D:
                checks.append(interval_check(
                    f"d = {d}: Delaunay is competitive with the MLP at N = {n}",
                    "Delaunay MAE / MLP MAE (geometric mean over seeds)", ratio, below=COMPETITIVE_RATIO,
                    effect="ratio ≤ 1.5", reference_source=self.source))
            if d >= LOSING_MIN_D:
                checks.append(interval_check(
                    f"d = {d}: the MLP beats Delaunay at N = {n} (the curse wins)",
                    "Delaunay MAE / MLP MAE (geometric mean over seeds)", ratio, above=1.0,
                    effect="ratio > 1 over the whole interval", reference_source=self.source))
        return checks

    def evidence(self, results: Results) -> dict[str, Any]:
        df = results.table("errors")
        top = df[df.n_points == df.n_points.max()]
        mae = top.groupby(["dim", "method"]).mae.mean()
        return {"mae_at_largest_n": {f"d={d}/{m}": round(float(v), 5) for (d, m), v in mae.items()},
                "test_fraction_in_hull_at_largest_n": {int(d): round(float(v), 3) for d, v in
                                                       top.groupby("dim").frac_test_in_hull.mean().items()}}

    def figures(self, results: Results) -> dict[str, Figure]:
        from matplotlib.figure import Figure

        df = results.table("errors")
        fig = Figure(figsize=(6.4, 4.2))
        ax = fig.subplots()
        for i, d in enumerate(sorted(df.dim.unique())):
            g = df[df.dim == d].groupby(["method", "n_points"]).mae.mean()
            ax.loglog(g["delaunay"].index, g["delaunay"].to_numpy(), "o-", color=f"C{i}", label=f"Delaunay, d={d}")
            if "mlp" in g:
                ax.loglog(g["mlp"].index, g["mlp"].to_numpy(), "s--", color=f"C{i}", label=f"MLP, d={d}")
            n = np.asarray(sorted(df.n_points.unique()), float)
            ref = float(g["delaunay"].iloc[0]) * (n / n[0]) ** (-2.0 / d)
            ax.loglog(n, ref, ":", color=f"C{i}", lw=0.8)
        ax.set_xlabel("training-set size N (count)")
        ax.set_ylabel("mean absolute error on cos‖x‖ (dotted: N^(−2/d))")
        ax.legend(frameon=False, fontsize=7, ncol=2)
        fig.tight_layout()
        return {"Delaunay vs MLP on cos‖x‖ (Lux et al.)": fig}

