"""Claim G (implicit bias): gradient descent on separable data goes to the max-margin direction.

Soudry, Hoffer, Nacson, Gunasekar & Srebro (ICLR / JMLR 2018), Theorem 3: for almost every
linearly separable data set, a smooth loss with an exponential tail (logistic), and a step
η < 2β⁻¹σ_max⁻²(X), gradient descent on L(w) = Σ_n ℓ(y_n wᵀx_n) gives
w(t) = ŵ·log t + ρ(t) with ρ bounded, where ŵ = argmin ‖w‖² s.t. y_n wᵀx_n ≥ 1 (the
hard-margin SVM). Consequences: ‖w(t)‖ grows like ‖ŵ‖·log t, the direction converges to ŵ with an
angle of order 1/log t, and the loss falls like 1/t. Without separability the loss has a finite
minimizer and ‖w(t)‖ stays bounded.

The data are :func:`theorylab.data.planted_margin_data`; gradient descent and the oracle are
:func:`theorylab.models.linear.logistic_gd` and :func:`~theorylab.models.linear.max_margin_direction`.
The oracle is scikit-learn's linear SVM without intercept (``LinearSVC(loss="hinge",
fit_intercept=False)`` with a large C): the paper's predictor is homogeneous.

Data (following the paper's Fig. 1 — two support vectors and random points off the margin — but
asymmetric, because the symmetric Fig. 1 data make ρ(t) parallel to ŵ and the angle then falls
faster than 1/log t): in 2-D, a random max-margin direction u with margin 1; two support
vectors z = u + s·u⊥ with s drawn from ``sv_spread`` on either side; ``n_points − 2`` points
with margin at least 1 + ``margin_gap``; labels random, x = y·z. The spread of the support
vectors sets how fast ρ(t) settles (its orthogonal part relaxes at rate |s₁s₂| per unit of
log t), so the asymptotic regime is reached within 10⁵ steps. The non-separable control adds
the mirror images of the two support vectors with the same labels, so that the points z_n
positively span the plane and the loss is coercive.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from pydantic import Field, model_validator

from theorylab.engine.checks import Check, interval_check
from theorylab.engine.config import ExperimentConfig
from theorylab.engine.experiment import Experiment
from theorylab.engine.stats import mean_interval
from theorylab.seeding import rng as child_rng

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from theorylab.engine.results import Results

__all__ = ["ImplicitBiasConfig", "ImplicitBiasLogistic"]


class ImplicitBiasConfig(ExperimentConfig):
    n_points: int = Field(20, ge=4, le=10_000, description="training points (two of them support vectors)")
    margin_gap: float = Field(1.0, gt=0, le=100, description="non-support points have margin ≥ 1 + margin_gap")
    sv_spread: tuple[float, float] = Field((1.5, 3.0), description="range of the support vectors' offsets along the separator")
    steps: int = Field(100_000, ge=1000, le=100_000_000, description="gradient steps T")
    lr_factor: float = Field(4.0, gt=0, lt=8.0,
                             description="η = lr_factor/σ_max(X)²; the theorem needs < 8 for the logistic loss (β = 1/4)")
    svc_C: float = Field(1e4, ge=1.0, le=1e8, description="C of the linear SVC oracle (large: hard margin)")
    n_records: int = Field(60, ge=20, le=1000, description="log-spaced steps at which w_t is recorded")

    @model_validator(mode="after")
    def _spread(self) -> ImplicitBiasConfig:
        lo, hi = self.sv_spread
        if not 0 < lo <= hi:
            raise ValueError(f"sv_spread must satisfy 0 < low ≤ high, got {self.sv_spread}")
        return self


class ImplicitBiasLogistic(Experiment):
    name = "implicit-bias-logistic"
    kind = "claim"
    claim = (
        "Gradient descent on the logistic loss over linearly separable data diverges in norm like "
        "log t while its direction converges to the hard-margin SVM direction, with the angle "
        "falling like 1/log t and the loss like 1/t; on non-separable data the norm stays bounded."
    )
    source = (
        "Soudry, Hoffer, Nacson, Gunasekar & Srebro 2018, 'The Implicit Bias of Gradient Descent on "
        "Separable Data', ICLR / JMLR 19(70), Theorem 3 and Fig. 1"
    )
    check_statement = (
        "Seeds as replicates (a fresh data set each), all statistics on the last decade of steps "
        "[T/10, T], angles against scikit-learn's hard-margin SVC direction ŵ: (1) w_t − ŵ·ln t "
        "stays bounded: ‖Δw − ŵ·Δln t‖ / (‖ŵ‖·Δln t) below 0.1; (2) the angle fitted as a + c/ln t "
        "extrapolates to a within ±0.01 rad of 0 (the direction converges to ŵ) and (3) falls "
        "(c > 0); (4) ‖w_t‖ grows like log t: the slope of ‖w_t‖ on ln t over ‖ŵ‖ within "
        "[0.9, 1.1]; (5) the loss falls like 1/t: log–log slope within [−1.1, −0.9]; (6) control: "
        "on the non-separable twin (support vectors mirrored) the slope of ‖w_t‖ on ln t over ‖ŵ‖ "
        "is below 0.1."
    )
    Config = ImplicitBiasConfig
    presets: ClassVar[dict] = {
        "smoke": {"steps": 5000, "n_records": 30},
        "quick": {},
        "full": {"steps": 1_000_000, "n_records": 120},
    }
    default_seeds: ClassVar[dict] = {"smoke": 2, "quick": 5, "full": 10}
    budget_s = 3.0
    tables = ("trajectory", "summary")

    def run(self, config: ImplicitBiasConfig, seed: int) -> dict[str, pd.DataFrame]:
        import pandas as pd

        from theorylab.data import planted_margin_data
        from theorylab.models.linear import logistic_gd, max_margin_direction

        X, y, planted = planted_margin_data(child_rng(seed, 0), config.n_points, config.margin_gap, config.sv_spread)
        w_hat = max_margin_direction(X, y, config.svc_C)
        u = w_hat / np.linalg.norm(w_hat)
        perp = np.array([-u[1], u[0]])
        # non-separable twin: mirror the support vectors with the same labels (z and −z both present)
        Xc = np.vstack([X, -X[:2]])
        yc = np.concatenate([y, y[:2]])
        record_at = np.unique(np.geomspace(1, config.steps, config.n_records).astype(int))
        rows, summary = [], {}
        for data, (Xd, yd) in (("separable", (X, y)), ("non-separable", (Xc, yc))):
            Z = Xd * yd[:, None]
            eta = config.lr_factor / float(np.linalg.norm(Z, 2)) ** 2
            for t, w, loss in logistic_gd(Xd, yd, eta, config.steps, record_at):
                norm = float(np.linalg.norm(w))
                rows.append({"data": data, "step": t, "loss": loss, "norm": norm,
                             "w_parallel": float(w @ u), "w_perp": float(w @ perp),
                             "angle": float(np.arctan2(abs(w @ perp), w @ u))})
            summary[f"eta_{data.replace('-', '_')}"] = eta
        Z = X * y[:, None]
        margins = Z @ w_hat
        sv = margins < 1 + 1e-3
        # t·L(t) → Σα/η (Soudry et al. §3); α from ŵ = Σ_sv α_n z_n
        alpha = np.linalg.lstsq(Z[sv].T, w_hat, rcond=None)[0]
        summary.update({
            "w_hat_norm": float(np.linalg.norm(w_hat)),
            "svc_vs_planted": float(np.linalg.norm(u - planted)),
            "min_margin": float(margins.min()),
            "n_support": int(sv.sum()),
            "t_loss_limit": float(alpha.sum() / summary["eta_separable"]),
        })
        return {"trajectory": pd.DataFrame(rows), "summary": pd.DataFrame([summary])}

    # -- per-run statistics on the last decade ---------------------------------------------------
    @staticmethod
    def late_statistics(traj: pd.DataFrame, w_hat_norm: float) -> dict[str, float]:
        """Statistics of one run's separable and non-separable trajectories on [T/10, T]."""
        out: dict[str, float] = {}
        sep = traj[traj.data == "separable"].sort_values("step")
        T = float(sep.step.max())
        late = sep[sep.step >= T / 10]
        lt = np.log(late.step.to_numpy(float))
        first, last = late.iloc[0], late.iloc[-1]
        dlog = math.log(last.step / first.step)
        dpar = last.w_parallel - first.w_parallel - w_hat_norm * dlog
        dperp = last.w_perp - first.w_perp
        out["residual_drift"] = math.hypot(dpar, dperp) / (w_hat_norm * dlog) if dlog > 0 else math.nan
        A = np.vstack([np.ones_like(lt), 1.0 / lt]).T
        (a, c), *_ = np.linalg.lstsq(A, late.angle.to_numpy(float), rcond=None)
        out["angle_intercept"], out["angle_slope"] = float(a), float(c)
        out["norm_rate"] = float(np.polyfit(lt, late.norm.to_numpy(float), 1)[0]) / w_hat_norm
        out["loss_slope"] = float(np.polyfit(lt, np.log(late.loss.to_numpy(float)), 1)[0])
        out["final_angle"] = float(last.angle)
        out["t_loss_final"] = float(last.step * last.loss)
        ctrl = traj[traj.data == "non-separable"].sort_values("step")
        cl = ctrl[ctrl.step >= T / 10]
        out["control_norm_rate"] = float(np.polyfit(np.log(cl.step.to_numpy(float)), cl.norm.to_numpy(float), 1)[0]) / w_hat_norm
        return out

    def _per_run(self, results: Results) -> pd.DataFrame:
        import pandas as pd

        traj = results.table("trajectory")
        summ = results.table("summary").set_index("run_id")
        rows = []
        for rid, g in traj.groupby("run_id"):
            rows.append({"run_id": rid, **summ.loc[rid, ["w_hat_norm", "t_loss_limit", "svc_vs_planted"]].to_dict(),
                         **self.late_statistics(g, float(summ.loc[rid, "w_hat_norm"]))})
        return pd.DataFrame(rows)

    def check_point(self, results: Results) -> list[Check]:
        s = self._per_run(results)
        return [
            interval_check("w_t = ŵ·log t + ρ(t) with ρ bounded (so the angle is O(1/log t))",
                           "‖Δw − ŵ·Δln t‖ / (‖ŵ‖·Δln t) over the last decade",
                           mean_interval(s.residual_drift, bounds=(0, math.inf)), below=0.1,
                           effect="the residual moves < 10% as far as ŵ·ln t does"),
            interval_check("the direction converges to the hard-margin SVM's (angle fitted against 1/log t)",
                           "angle extrapolated to 1/ln t → 0 (rad), fit a + c/ln t on the last decade",
                           mean_interval(s.angle_intercept), within=(-0.01, 0.01),
                           effect="|a| < 0.01 rad (0.57°)"),
            interval_check("the angle falls with 1/log t", "slope c of the angle on 1/ln t (rad)",
                           mean_interval(s.angle_slope), above=0.0, effect="c > 0: the angle decreases"),
            interval_check("‖w_t‖ grows like ‖ŵ‖·log t", "slope of ‖w_t‖ on ln t / ‖ŵ‖",
                           mean_interval(s.norm_rate), within=(0.9, 1.1), effect="within ±10% of ‖ŵ‖"),
            interval_check("the loss falls like 1/t", "log–log slope of L(w_t) on t",
                           mean_interval(s.loss_slope), within=(-1.1, -0.9), effect="exponent within ±0.1 of −1"),
            interval_check("control: without separability ‖w_t‖ stays bounded",
                           "slope of ‖w_t‖ on ln t / ‖ŵ‖ (non-separable twin)",
                           mean_interval(s.control_norm_rate), below=0.1,
                           effect="< 10% of the separable growth rate ‖ŵ‖"),
        ]

    def evidence(self, results: Results) -> dict[str, Any]:
        s = self._per_run(results)
        return {
            "final_angle_rad_mean": round(float(s.final_angle.mean()), 5),
            "t_times_loss_over_theory": round(float((s.t_loss_final / s.t_loss_limit).mean()), 4),
            "svc_vs_planted_direction_max": float(s.svc_vs_planted.max()),
        }

    def figures(self, results: Results) -> dict[str, Figure]:
        from matplotlib.figure import Figure

        traj = results.table("trajectory")
        sep = traj[traj.data == "separable"]
        figs = {}
        fig = Figure(figsize=(6.4, 4.2))
        ax = fig.subplots()
        for i, (_, g) in enumerate(sep.groupby("seed")):
            g = g[g.step >= 10]
            ax.plot(1.0 / np.log(g.step), g.angle, "-", color=f"C{i % 10}", lw=1, label=f"run {i + 1}" if i < 6 else None)
        ax.set_xlabel("1 / ln t")
        ax.set_ylabel("angle between w_t and the SVM direction (rad)")
        ax.set_xlim(left=0)
        ax.legend(frameon=False, fontsize=8)
        fig.tight_layout()
        figs["Angle to the max-margin direction vs 1/log t"] = fig

        fig = Figure(figsize=(6.4, 4.2))
        ax = fig.subplots()
        for i, (data, g) in enumerate(traj.groupby("data")):
            m = g.groupby("step").norm.mean()
            ax.semilogx(m.index, m.values, "-", color=f"C{i}", label=f"‖w_t‖, {data} (mean over seeds)")
        ax.set_xlabel("gradient step t")
        ax.set_ylabel("‖w_t‖")
        ax.legend(frameon=False)
        fig.tight_layout()
        figs["Norm grows like log t only on separable data"] = fig

        fig = Figure(figsize=(6.4, 4.2))
        ax = fig.subplots()
        m = sep.groupby("step").loss.mean()
        ax.loglog(m.index, m.values, "-", label="L(w_t), separable (mean over seeds)")
        t = m.index.to_numpy(float)
        ax.loglog(t, m.values[-1] * t[-1] / t, ":", color="0.4", label="∝ 1/t")
        ax.set_xlabel("gradient step t")
        ax.set_ylabel("training loss (sum of logistic losses)")
        ax.legend(frameon=False)
        fig.tight_layout()
        figs["Loss falls like 1/t"] = fig
        return figs
