"""Claim H (the curse of dimensionality, stated numerically) and Gaussian concentration.

Two exact facts, measured by Monte Carlo against their closed forms:

* the fraction of the unit cube [0, 1]^d inside the inscribed ball of diameter 1 is
  V_d(1/2) = π^{d/2} / Γ(d/2 + 1) · 2^{-d} (0.785 in 2-D, 0.524 in 3-D), falling faster than
  exponentially;
* a 1-Lipschitz function of x ~ N(0, I_d) concentrates with O(1) fluctuations whatever d:
  ‖x‖ follows the chi distribution, with mean √2 Γ((d+1)/2)/Γ(d/2) ≈ √d and standard
  deviation → 1/√2 — the isoperimetric property the law of robustness rests on
  (Bubeck & Sellke 2021, section 1.2).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from pydantic import Field
from scipy.special import gammaln

from theorylab.engine.config import ExperimentConfig
from theorylab.engine.experiment import Check, Experiment, Results, Verdict, register

__all__ = ["CurseConfig", "CurseOfDimensionality", "ball_fraction", "chi_mean_std"]


def ball_fraction(d: int | np.ndarray) -> np.ndarray:
    """Exact volume of the diameter-1 ball in d dimensions: π^{d/2}/Γ(d/2+1)·2^{-d}."""
    d = np.asarray(d, dtype=float)
    return np.exp(0.5 * d * np.log(np.pi) - gammaln(0.5 * d + 1) - d * np.log(2.0))


def chi_mean_std(d: int | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of ‖x‖ for x ~ N(0, I_d) (the chi distribution)."""
    d = np.asarray(d, dtype=float)
    mean = np.sqrt(2.0) * np.exp(gammaln((d + 1) / 2) - gammaln(d / 2))
    return mean, np.sqrt(np.maximum(d - mean**2, 0.0))


class CurseConfig(ExperimentConfig):
    dims: tuple[int, ...] = Field(
        (1, 2, 3, 4, 5, 6, 8, 10, 12, 16), description="dimensions d for the ball-in-cube fraction"
    )
    n_samples: int = Field(200_000, ge=100, description="uniform points per dimension (count)")
    conc_dims: tuple[int, ...] = Field(
        (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024),
        description="dimensions d for the concentration of ‖x‖, x ~ N(0, I_d)",
    )
    conc_samples: int = Field(20_000, ge=100, description="Gaussian draws per dimension (count)")
    tolerance_se: float = Field(
        4.0, gt=0, description="pass threshold on |MC − exact| in pooled standard errors"
    )
    chunk: int = Field(50_000, ge=1000, description="rows per sampling chunk (memory bound)")


@register
class CurseOfDimensionality(Experiment):
    name = "curse-of-dimensionality"
    claim = (
        "The fraction of the unit cube inside its inscribed ball is 0.785 in 2-D, 0.524 in 3-D "
        "and falls faster than exponentially with d; a 1-Lipschitz function of a d-dimensional "
        "Gaussian (here ‖x‖) fluctuates by O(1) (std → 1/√2) while its mean grows as √d."
    )
    source = (
        "MLST episode on the curse of dimensionality (claim H); Bubeck & Sellke 2021, "
        "'A universal law of robustness via isoperimetry', arXiv 2105.12806, §1.2"
    )
    check_statement = (
        "Monte Carlo estimates pooled over seeds agree with the closed forms (ball volume; chi "
        "mean and std) within `tolerance_se` pooled standard errors at every d, and the std of "
        "‖x‖ at the largest d is within 0.02 of 1/√2 while mean/√d is within 1% of 1."
    )
    Config = CurseConfig
    presets: ClassVar[dict] = {
        "smoke": {"dims": (1, 2, 3, 5, 8), "n_samples": 20_000, "conc_dims": (1, 4, 16, 64, 256), "conc_samples": 2_000},
        "quick": {},
        "full": {
            "dims": (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 14, 16, 20),
            "n_samples": 10_000_000,
            "conc_dims": (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096),
            "conc_samples": 100_000,
        },
    }
    default_seeds: ClassVar[dict] = {"smoke": 1, "quick": 2, "full": 5}
    budget_s = 20.0
    tables = ("ball", "concentration")
    summary_keys = ("dim",)

    def run(self, config: CurseConfig, seed: int) -> dict[str, pd.DataFrame]:
        rng = np.random.default_rng(seed)
        ball_rows = []
        for d in config.dims:
            inside = 0
            left = config.n_samples
            while left:
                m = min(left, config.chunk)
                # squared distance to the cube centre vs radius² = 1/4
                u = rng.random((m, d)) - 0.5
                inside += int(np.count_nonzero(np.einsum("ij,ij->i", u, u) <= 0.25))
                left -= m
            p_hat = inside / config.n_samples
            ball_rows.append(
                {"dim": d, "mc_fraction": p_hat, "exact_fraction": float(ball_fraction(d)),
                 "n_points": config.n_samples}
            )
        conc_rows = []
        for d in config.conc_dims:
            norms = np.empty(config.conc_samples)
            maxes = np.empty(config.conc_samples)
            step = max(1, config.chunk // max(d, 1))
            for i in range(0, config.conc_samples, step):
                x = rng.standard_normal((min(step, config.conc_samples - i), d))
                norms[i : i + len(x)] = np.sqrt(np.einsum("ij,ij->i", x, x))
                maxes[i : i + len(x)] = x.max(axis=1)  # also 1-Lipschitz in L2
            mean, std = chi_mean_std(d)
            conc_rows.append(
                {"dim": d, "mean_norm": float(norms.mean()), "std_norm": float(norms.std(ddof=1)),
                 "exact_mean": float(mean), "exact_std": float(std),
                 "std_max_coord": float(maxes.std(ddof=1)), "n_draws": config.conc_samples}
            )
        return {"ball": pd.DataFrame(ball_rows), "concentration": pd.DataFrame(conc_rows)}

    def check(self, results: Results) -> Verdict:
        cfg = results.first_config()
        tol = cfg.tolerance_se
        n_seeds = results.n_seeds
        ball = results.table("ball")
        g = ball.groupby("dim").agg(p=("mc_fraction", "mean"), exact=("exact_fraction", "first"),
                                    n=("n_points", "sum"))
        # Pooled binomial standard error of the mean fraction over all seeds' points.
        se = np.sqrt(np.maximum(g["exact"] * (1 - g["exact"]), 1e-300) / g["n"])
        z_ball = ((g["p"] - g["exact"]) / se).abs()
        conc = results.table("concentration")
        c = conc.groupby("dim").agg(mean=("mean_norm", "mean"), std=("std_norm", "mean"),
                                    emean=("exact_mean", "first"), estd=("exact_std", "first"),
                                    n=("n_draws", "sum"))
        # SE of a sample mean of ‖x‖ is std/√n; of a sample std approx std/√(2n) (normal theory,
        # accurate here since ‖x‖ is nearly normal for d ≥ 2).
        z_mean = ((c["mean"] - c["emean"]) / (c["estd"] / np.sqrt(c["n"]))).abs()
        z_std = ((c["std"] - c["estd"]) / (c["estd"] / np.sqrt(2 * c["n"]))).abs()
        d_max = int(c.index.max())
        std_top = float(c.loc[d_max, "std"])
        ratio_top = float(c.loc[d_max, "mean"] / np.sqrt(d_max))
        checks = [
            Check(
                statement="MC fraction of the cube inside the inscribed ball matches π^{d/2}/Γ(d/2+1)/2^d at every d",
                quantity="max over d of |MC − exact| / pooled SE",
                measured=float(z_ball.max()), threshold=f"≤ {tol:g}",
                status="supported" if z_ball.max() <= tol else "not supported",
                n=n_seeds, reference=0.0, exact=True,
            ),
            Check(
                statement="mean and std of ‖x‖, x ~ N(0, I_d), match the chi distribution at every d",
                quantity="max over d of |MC − exact| / SE (mean and std)",
                measured=float(max(z_mean.max(), z_std.max())), threshold=f"≤ {tol:g}",
                status="supported" if max(z_mean.max(), z_std.max()) <= tol else "not supported",
                n=n_seeds, reference=0.0, exact=True,
            ),
            Check(
                statement=f"fluctuations stay O(1): std ‖x‖ at d = {d_max} is near 1/√2 ≈ 0.7071",
                quantity="std of ‖x‖ (units of the Gaussian's per-coordinate std)",
                measured=std_top, threshold="within 0.02 of 1/√2",
                status="supported" if abs(std_top - 2**-0.5) <= 0.02 else "not supported",
                n=n_seeds, reference=2**-0.5, exact=False,
            ),
            Check(
                statement=f"while the scale grows: mean ‖x‖ / √d at d = {d_max} is near 1",
                quantity="mean ‖x‖ / √d", measured=ratio_top, threshold="within 0.01 of 1",
                status="supported" if abs(ratio_top - 1) <= 0.01 else "not supported",
                n=n_seeds, reference=1.0, exact=False,
            ),
        ]
        evidence = {
            "ball_fraction_2d": float(g.loc[2, "p"]) if 2 in g.index else None,
            "ball_fraction_3d": float(g.loc[3, "p"]) if 3 in g.index else None,
            "grid_points_10_per_axis_100d": "1e100",
        }
        return self.verdict(checks, **evidence)

    def figures(self, results: Results) -> dict[str, Figure]:
        ball = results.table("ball").groupby("dim").agg(p=("mc_fraction", "mean"), exact=("exact_fraction", "first"))
        fig1 = Figure(figsize=(5.5, 3.6))
        ax = fig1.subplots()
        ax.semilogy(ball.index, ball["exact"], "-", color="0.3", label="closed form π^{d/2}/Γ(d/2+1)/2^d")
        mc = ball["p"].where(ball["p"] > 0)
        ax.semilogy(ball.index, mc, "o", color="C0", label="Monte Carlo (mean over seeds)")
        ax.set_xlabel("dimension d")
        ax.set_ylabel("fraction of cube inside ball")
        ax.legend(frameon=False, fontsize=8)
        fig1.tight_layout()

        conc = results.table("concentration").groupby("dim").agg(
            mean=("mean_norm", "mean"), std=("std_norm", "mean"), smax=("std_max_coord", "mean"))
        fig2 = Figure(figsize=(5.5, 3.6))
        ax = fig2.subplots()
        d = conc.index.to_numpy(dtype=float)
        ax.loglog(d, conc["mean"], "o-", label="mean ‖x‖")
        ax.loglog(d, np.sqrt(d), ":", color="0.4", label="√d")
        ax.loglog(d, conc["std"], "s-", label="std ‖x‖")
        ax.loglog(d, conc["smax"], "^-", label="std max_i x_i")
        ax.axhline(2**-0.5, color="0.6", lw=0.8, ls="--", label="1/√2")
        ax.set_xlabel("dimension d")
        ax.set_ylabel("value")
        ax.legend(frameon=False, fontsize=8)
        fig2.tight_layout()
        return {"Ball inside the cube": fig1, "Concentration of 1-Lipschitz functions": fig2}
