"""Claim H (the curse of dimensionality, stated numerically) and Gaussian concentration.

An instrument: two exact facts, measured by Monte Carlo against their closed forms, that
check the lab's samplers and its pooled intervals.

* the fraction of the unit cube [0, 1]^d inside the inscribed ball of diameter 1 is
  V_d(1/2) = π^{d/2} / Γ(d/2 + 1) · 2^{-d} (0.785 in 2-D, 0.524 in 3-D), falling faster than
  exponentially;
* a 1-Lipschitz function of x ~ N(0, I_d) concentrates with O(1) fluctuations whatever d:
  ‖x‖ follows the chi distribution, with mean √2 Γ((d+1)/2)/Γ(d/2) ≈ √d and standard
  deviation → 1/√2 — the isoperimetric property the law of robustness rests on
  (Bubeck & Sellke 2021, section 1.2).

Every run's counts and moments are pooled over seeds and over any swept ``n_samples`` /
``conc_samples`` with the weights that match their standard errors (counts add; moments are
combined as one sample), and each pooled interval must lie within a stated relative tolerance of
the closed form. Dimensions where the pooled sample is too small for the interval to decide
(half-width above a third of the tolerance, fixed by the design, not by the outcome) are
reported, not checked.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from pydantic import Field

from theorylab.engine.checks import Check, against_reference, worst_of
from theorylab.engine.config import ExperimentConfig
from theorylab.engine.experiment import Experiment
from theorylab.engine.stats import Estimate

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from theorylab.engine.results import Results

__all__ = ["CurseConfig", "CurseOfDimensionality", "ball_fraction", "chi_moments", "pooled_moments"]

Z95 = 1.959963984540054  # two-sided 95% normal quantile


def ball_fraction(d: int | np.ndarray) -> np.ndarray:
    """Exact volume of the diameter-1 ball in d dimensions: π^{d/2}/Γ(d/2+1)·2^{-d}."""
    from scipy.special import gammaln

    d = np.asarray(d, dtype=float)
    return np.exp(0.5 * d * np.log(np.pi) - gammaln(0.5 * d + 1) - d * np.log(2.0))


def chi_moments(d: int | np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, standard deviation and 4th central moment of ‖x‖, x ~ N(0, I_d) (chi distribution).

    Raw moments E‖x‖^k = 2^{k/2} Γ((d+k)/2)/Γ(d/2); the 4th central moment sets the standard
    error of a sample standard deviation (Var s² ≈ (μ₄ − σ⁴)/N).
    """
    from scipy.special import gammaln

    d = np.asarray(d, dtype=float)
    raw = {k: np.exp(0.5 * k * np.log(2.0) + gammaln((d + k) / 2) - gammaln(d / 2)) for k in (1, 2, 3, 4)}
    m = raw[1]
    var = np.maximum(raw[2] - m**2, 0.0)
    mu4 = raw[4] - 4 * m * raw[3] + 6 * m**2 * raw[2] - 3 * m**4
    return m, np.sqrt(var), mu4


def pooled_moments(n: np.ndarray, mean: np.ndarray, std: np.ndarray) -> tuple[float, float, float]:
    """(N, mean, std) of the union of samples given per-sample sizes, means and stds (ddof = 1)."""
    n, mean, std = (np.asarray(a, float) for a in (n, mean, std))
    N = float(n.sum())
    m = float((n * mean).sum() / N)
    ss = float(((n - 1) * std**2).sum() + (n * (mean - m) ** 2).sum())
    return N, m, math.sqrt(ss / (N - 1))


class CurseConfig(ExperimentConfig):
    dims: tuple[int, ...] = Field(
        (1, 2, 3, 4, 5, 6, 8, 10, 12, 16), min_length=1, description="dimensions d for the ball-in-cube fraction"
    )
    n_samples: int = Field(400_000, ge=100, le=10**9, description="uniform points per dimension (count)")
    conc_dims: tuple[int, ...] = Field(
        (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024), min_length=1,
        description="dimensions d for the concentration of ‖x‖, x ~ N(0, I_d)",
    )
    conc_samples: int = Field(40_000, ge=100, le=10**8, description="Gaussian draws per dimension (count)")
    rel_tolerance: float = Field(
        0.02, gt=0, le=0.5,
        description="allowed relative deviation of a pooled MC estimate from its closed form (fraction)",
    )
    chunk: int = Field(50_000, ge=1000, le=10**7, description="rows per sampling chunk (memory bound)")


class CurseOfDimensionality(Experiment):
    name = "curse-of-dimensionality"
    kind = "instrument"
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
        "Pooled over seeds and sweep points (counts added, moments combined): at every d where the "
        "design makes the 95% interval narrower than a third of `rel_tolerance`, (1) the Wilson "
        "interval of the ball fraction and (2) the z-intervals of the mean and of the std of ‖x‖ "
        "lie within ±rel_tolerance (relative) of the closed forms (exact oracles); (3) the std of "
        "‖x‖ at the largest d lies within 1/√2 ± 0.02. An interval wholly outside its band is "
        "'not supported' (a biased sampler); one that overlaps a band edge is inconclusive."
    )
    Config = CurseConfig
    presets: ClassVar[dict] = {
        "smoke": {"dims": (1, 2, 3, 5, 8), "n_samples": 20_000, "conc_dims": (1, 4, 16, 64, 256),
                  "conc_samples": 4_000, "rel_tolerance": 0.05},
        "quick": {},
        "full": {
            "dims": (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 14, 16, 20),
            "n_samples": 10_000_000,
            "conc_dims": (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096),
            "conc_samples": 200_000,
            "rel_tolerance": 0.01,
        },
    }
    default_seeds: ClassVar[dict] = {"smoke": 2, "quick": 5, "full": 5}
    budget_s = 8.0
    tables = ("ball", "concentration")
    summary_keys = ("dim",)

    def run(self, config: CurseConfig, seed: int) -> dict[str, pd.DataFrame]:
        import pandas as pd

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
            ball_rows.append({"dim": d, "inside": inside, "n_points": config.n_samples,
                              "mc_fraction": inside / config.n_samples, "exact_fraction": float(ball_fraction(d))})
        conc_rows = []
        for d in config.conc_dims:
            norms = np.empty(config.conc_samples)
            maxes = np.empty(config.conc_samples)
            step = max(1, config.chunk // max(d, 1))
            for i in range(0, config.conc_samples, step):
                x = rng.standard_normal((min(step, config.conc_samples - i), d))
                norms[i : i + len(x)] = np.sqrt(np.einsum("ij,ij->i", x, x))
                maxes[i : i + len(x)] = x.max(axis=1)  # also 1-Lipschitz in L2
            mean, std, _ = chi_moments(d)
            conc_rows.append(
                {"dim": d, "mean_norm": float(norms.mean()), "std_norm": float(norms.std(ddof=1)),
                 "exact_mean": float(mean), "exact_std": float(std),
                 "std_max_coord": float(maxes.std(ddof=1)), "n_draws": config.conc_samples}
            )
        return {"ball": pd.DataFrame(ball_rows), "concentration": pd.DataFrame(conc_rows)}

    # -- the check: pooled over the whole sweep ---------------------------------------------------
    def pooled(self, results: Results) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Per-d pooled estimates with 95% intervals, and whether the design can decide them."""
        import pandas as pd

        from theorylab.engine.stats import proportion_interval

        tol = float(results.common("rel_tolerance"))
        ball = results.table("ball").groupby("dim").agg(inside=("inside", "sum"), n=("n_points", "sum"),
                                                         exact=("exact_fraction", "first"))
        brows = []
        for d, r in ball.iterrows():
            est = proportion_interval(r.inside, r.n)
            p = r.exact
            half_design = Z95 * math.sqrt(p * (1 - p) / r.n) / p  # relative, under the closed form
            brows.append({"dim": int(d), "estimate": est, "exact": p, "n": int(r.n),
                          "informative": half_design <= tol / 3})
        conc = results.table("concentration")
        crows = []
        for d, g in conc.groupby("dim"):
            N, m, s = pooled_moments(g["n_draws"], g["mean_norm"], g["std_norm"])
            em, es, mu4 = (float(v) for v in chi_moments(d))
            se_m = es / math.sqrt(N)
            se_s = math.sqrt(max(mu4 - es**4, 0.0) / N) / (2 * es)  # delta method on s² (null SE)
            crows.append({"dim": int(d), "n": int(N),
                          "mean": Estimate(m, m - Z95 * se_m, m + Z95 * se_m, int(N), 0.95, "z"),
                          "std": Estimate(s, s - Z95 * se_s, s + Z95 * se_s, int(N), 0.95, "z"),
                          "exact_mean": em, "exact_std": es,
                          "mean_informative": Z95 * se_m / em <= tol / 3,
                          "std_informative": Z95 * se_s / es <= tol / 3})
        return pd.DataFrame(brows), pd.DataFrame(crows)

    def check(self, results: Results) -> Any:
        tol = float(results.common("rel_tolerance"))
        ball, conc = self.pooled(results)
        src = "closed form (exact oracle)"

        def family(rows: pd.DataFrame, est_col: str, exact_col: str, flag: str, what: str) -> list[Check]:
            return [against_reference(what, what, r[est_col], r[exact_col], rel_tol=tol, source=src, exact=True,
                                      replicates="pooled draws") for _, r in rows[rows[flag]].iterrows()]

        checks: list[Check | None] = []
        b = family(ball, "estimate", "exact", "informative", "fraction of the cube inside the ball")
        checks.append(worst_of(b, "MC fraction of the cube inside the inscribed ball matches π^{d/2}/Γ(d/2+1)/2^d",
                               labels=[f"d={d}" for d in ball[ball.informative].dim]))
        mm = family(conc, "mean", "exact_mean", "mean_informative", "mean of ‖x‖")
        checks.append(worst_of(mm, "mean of ‖x‖, x ~ N(0, I_d), matches the chi distribution's",
                               labels=[f"d={d}" for d in conc[conc.mean_informative].dim]))
        ss = family(conc, "std", "exact_std", "std_informative", "std of ‖x‖")
        checks.append(worst_of(ss, "std of ‖x‖, x ~ N(0, I_d), matches the chi distribution's",
                               labels=[f"d={d}" for d in conc[conc.std_informative].dim]))
        top = conc.loc[conc.dim.idxmax()]
        checks.append(against_reference(
            f"fluctuations stay O(1): std ‖x‖ at d = {int(top.dim)} is near 1/√2 ≈ 0.7071",
            "std of ‖x‖ (units of the per-coordinate std)", top["std"], 2**-0.5, abs_tol=0.02,
            source="limit of the chi distribution's std as d → ∞", exact=False, replicates="pooled draws"))
        return self.verdict([c for c in checks if c is not None], **self._evidence(ball, conc))

    @staticmethod
    def _evidence(ball: pd.DataFrame, conc: pd.DataFrame) -> dict[str, Any]:
        frac = {int(r.dim): round(r.estimate.value, 6) for r in ball.itertuples()}
        return {
            "ball_fraction_by_d": frac,
            "dims_not_checked_ball": [int(d) for d in ball[~ball.informative].dim],
            "dims_not_checked_std": [int(d) for d in conc[~conc.std_informative].dim],
            "mean_norm_over_sqrt_d_at_max_d": round(float(conc["mean"].iloc[-1].value / math.sqrt(conc.dim.iloc[-1])), 5),
            "grid_points_10_per_axis_100d": "1e100",
        }

    def figures(self, results: Results) -> dict[str, Figure]:
        from matplotlib.figure import Figure

        ball, conc = self.pooled(results)
        fig1 = Figure(figsize=(6.4, 4.2))
        ax = fig1.subplots()
        d = ball.dim.to_numpy(float)
        ax.semilogy(d, ball.exact, "-", color="0.3", label=r"closed form $\pi^{d/2}/\Gamma(d/2+1)/2^d$")
        est = np.array([e.value for e in ball.estimate])
        lo = np.array([e.lo for e in ball.estimate])
        hi = np.array([e.hi for e in ball.estimate])
        ok = est > 0
        ax.errorbar(d[ok], est[ok], yerr=np.maximum([est[ok] - lo[ok], hi[ok] - est[ok]], 0), fmt="o", color="C0",
                    label="Monte Carlo, pooled (95% Wilson)")
        ax.set_xlabel("dimension d")
        ax.set_ylabel("fraction of the unit cube inside the ball")
        ax.legend(frameon=False)
        fig1.tight_layout()

        fig2 = Figure(figsize=(6.4, 4.2))
        ax = fig2.subplots()
        d = conc.dim.to_numpy(float)
        ax.loglog(d, [e.value for e in conc["mean"]], "o-", label="mean ‖x‖ (MC)")
        ax.loglog(d, np.sqrt(d), ":", color="0.4", label=r"$\sqrt{d}$")
        ax.loglog(d, [e.value for e in conc["std"]], "s-", label="std ‖x‖ (MC)")
        smax = results.table("concentration").groupby("dim")["std_max_coord"].mean()
        ax.loglog(smax.index.to_numpy(float), smax.to_numpy(), "^-", label=r"std of $\max_i x_i$ (MC)")
        ax.axhline(2**-0.5, color="0.6", lw=0.8, ls="--", label=r"$1/\sqrt{2}$")
        ax.set_xlabel("dimension d")
        ax.set_ylabel("value (units of the per-coordinate std)")
        ax.legend(frameon=False)
        fig2.tight_layout()
        return {"Ball inside the cube": fig1, "Concentration of 1-Lipschitz functions of a Gaussian": fig2}
