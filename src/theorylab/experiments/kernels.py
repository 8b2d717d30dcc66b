"""Claim F, wide nets as kernels: the empirical NTK against its closed form, and lazy training.

* ``ntk-analytic`` (an instrument) — the empirical NTK (:func:`theorylab.probes.ntk.empirical_ntk`)
  of a ReLU MLP in NTK parametrization, at random initialization, converges to the analytic
  infinite-width kernel (:func:`theorylab.probes.ntk.relu_kernels`: the recursion of Jacot et al.
  2018 / Arora et al. 2019) as the width m grows. The relative Frobenius error on a fixed set of
  inputs is a sum of m independent terms per layer, so it falls as m^{-1/2} (central limit
  theorem); its size at width m grows with depth L (Hanin & Nica 2020: fluctuations ∝ √(L/m)).
  Checks: the fitted log–log slope is −1/2 ± 0.15 at every depth, and at the largest width the
  error is below 4·√(L/m). This checks our NTK probe and our recursion against each other;
  ``neural-tangents``' ``kernel_fn`` is compared as well when it is importable (optional).
* ``lazy-training`` (a claim) — for a two-layer ReLU net in NTK parametrization trained by full-
  batch gradient descent on the squared loss, the relative weight change and the relative
  change of the empirical NTK shrink with width (Jacot et al. 2018; Lee et al. 2019, Thm 2.1:
  O(m^{-1/2})), and the trained net's predictions approach those of its linearization — kernel
  regression with its NTK at init, at the same gradient-flow time (Lee et al. 2019, eq. 9).
  Chizat, Oyallon & Bach (2019): the α-scaled centred model α(h(w) − h(w₀)) trained on the
  loss ÷ α² becomes lazy as α grows, and its test error degrades on a task where features must
  be learned (a single-index teacher relu(v·x) in d = 16 from 128 examples).

Reading of the rates. Lee et al.'s O(m^{-1/2}) for the kernel change is an upper bound; for
smooth nets the change is O(1/m) (Dyer & Gur-Ari 2020; Huang & Yau 2020) and ReLU nets fall in
between, so the kernel-change check is one-sided (at least as fast as m^{-1/2}, slope < −0.35)
while the weight change, whose rate is exact (‖Δθ‖ = O(1), ‖θ₀‖ ∝ √m), is checked two-sided.

Departures: synthetic data on the sphere of radius √d instead of CIFAR-10; widths 16–4,096 in
``quick`` (``full``: to 8,192); the neural-tangents README's "agreement by width 512, RMSE ≈ 0.05"
is for its own example and is shown as evidence, not checked.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
from pydantic import Field

from theorylab.engine.checks import Check, against_reference, interval_check
from theorylab.engine.config import ExperimentConfig
from theorylab.engine.experiment import Experiment
from theorylab.engine.stats import mean_interval, ratio_interval, slope_interval
from theorylab.seeding import child_seed, rng

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from theorylab.engine.results import Results

__all__ = ["LazyTraining", "LazyTrainingConfig", "NTKAnalytic", "NTKAnalyticConfig", "sphere_points"]

# pre-registered thresholds
RATE = -0.5  # CLT / Lee et al. 2019: width^{-1/2}
RATE_TOL = 0.15  # band around −1/2 for a fitted log–log slope
ERROR_CONSTANT = 4.0  # largest-width error must be below 4·√(L/m)
LIN_SLOPE_MAX = -0.25  # net-vs-linearization RMSE must fall at least as fast as m^{-1/4}
LAZY_RATIO_MIN = 1.5  # test MSE at the largest α ≥ 1.5 × test MSE at the smallest α
NT_README_RMSE_512 = 0.05  # neural-tangents README: MLP vs its linearization by width 512


def sphere_points(n: int, d: int, seed: int) -> np.ndarray:
    """``n`` points uniform on the sphere of radius √d in R^d (so x·x/d = 1, NTK-friendly)."""
    X = rng(seed).standard_normal((n, d))
    return X * (math.sqrt(d) / np.linalg.norm(X, axis=1, keepdims=True))


# -- ntk-analytic --------------------------------------------------------------------------------
class NTKAnalyticConfig(ExperimentConfig):
    dim: int = Field(8, ge=1, le=4096, description="input dimension d")
    n_points: int = Field(10, ge=2, le=512, description="inputs on which the kernel is compared (count)")
    depths: tuple[int, ...] = Field((1, 2), min_length=1, max_length=6,
                                    description="hidden layers L (1 = a two-layer net)")
    widths: tuple[int, ...] = Field((64, 256, 1024, 4096, 8192), min_length=3,
                                    description="hidden widths m for depth 1 (count)")
    deep_widths: tuple[int, ...] = Field((32, 64, 128, 256, 512, 1024), min_length=3,
                                         description="hidden widths m for depth ≥ 2 (count; Jacobians are m² per layer)")
    weight_std: float = Field(math.sqrt(2), gt=0, le=10, description="σ_w of every layer (NTK parametrization)")
    bias_std: float = Field(0.1, ge=0, le=10, description="σ_b of every layer")
    nets_per_width: int = Field(3, ge=1, le=100, description="independent nets per width, errors averaged in log")
    method: Literal["jacobian", "ntk_vp"] = Field("jacobian", description="empirical NTK algorithm")


class NTKAnalytic(Experiment):
    name = "ntk-analytic"
    kind = "instrument"
    claim = (
        "The empirical NTK of a ReLU MLP in NTK parametrization converges, as the width m grows, "
        "to the analytic infinite-width kernel (for two layers: Θ(x,x') = ‖x‖‖x'‖(sin θ + (π−θ) cos θ)/(2π) "
        "+ (x·x')(π−θ)/(2π)), with fluctuations of order m^{-1/2}."
    )
    source = (
        "Jacot, Gabriel & Hongler 2018, 'Neural tangent kernel', NeurIPS, Thm 1; Arora, Du, Hu, Li, "
        "Salakhutdinov & Wang 2019, 'On exact computation with an infinitely wide neural net', "
        "NeurIPS, eqs. (9)–(11)"
    )
    check_statement = (
        "Per depth L, over 5 seeds (independent inputs; each width's error the geometric mean over "
        "`nets_per_width` independent nets): (1) the per-seed log–log slope of "
        "the relative Frobenius error ‖Θ_emp − Θ_analytic‖/‖Θ_analytic‖ against width lies within "
        "−1/2 ± 0.15; (2) at the largest width m the error is below 4·√(L/m). An interval wholly "
        "outside is 'not supported' (a wrong recursion or a wrong probe leaves an error floor)."
    )
    Config = NTKAnalyticConfig
    presets: ClassVar[dict] = {
        "smoke": {"n_points": 6, "widths": (32, 128, 512), "deep_widths": (32, 64, 128), "nets_per_width": 1},
        "quick": {},
        "full": {"n_points": 32, "depths": (1, 2, 3), "widths": (64, 256, 1024, 4096, 16384, 65536),
                 "deep_widths": (64, 128, 256, 512, 1024, 2048)},
    }
    default_seeds: ClassVar[dict] = {"smoke": 2, "quick": 5, "full": 5}
    budget_s = 4.0
    tables = ("errors", "analytic")
    summary_keys = ("depth", "width")

    def run(self, config: NTKAnalyticConfig, seed: int) -> dict[str, pd.DataFrame]:
        import pandas as pd
        import torch

        from theorylab.models.normalized import ntk_mlp
        from theorylab.probes.ntk import empirical_ntk, relu_kernels

        X = sphere_points(config.n_points, config.dim, child_seed(seed, 1))
        Xt = torch.as_tensor(X)
        rows, arows = [], []
        for depth in config.depths:
            exact = relu_kernels(X, depth=depth, weight_std=config.weight_std, bias_std=config.bias_std).ntk
            norm = float(np.linalg.norm(exact))
            arows.append({"depth": depth, "kernel_norm": norm, "nt_rel_diff": _neural_tangents_diff(X, exact, depth, config)})
            for width in config.widths if depth == 1 else config.deep_widths:
                errs, diag = [], []
                for k in range(config.nets_per_width):
                    net = ntk_mlp(config.dim, [width] * depth, 1, weight_std=config.weight_std,
                                  bias_std=config.bias_std, seed=child_seed(seed, 2, depth, width, k))
                    emp = empirical_ntk(net, Xt, method=config.method, form="trace").numpy()
                    errs.append(float(np.linalg.norm(emp - exact)) / norm)
                    diag.append(float(np.abs(np.diag(emp) / np.diag(exact) - 1).max()))
                # geometric mean over the nets: one replicate per seed (the interval is over seeds)
                rows.append({"depth": depth, "width": width, "rel_error": float(np.exp(np.mean(np.log(errs)))),
                             "diag_rel_error": float(np.mean(diag))})
        return {"errors": pd.DataFrame(rows), "analytic": pd.DataFrame(arows)}

    def check_point(self, results: Results) -> list[Check]:
        err = results.table("errors")
        checks = []
        for depth, g in err.groupby("depth"):
            slope = slope_interval(g["width"], g["rel_error"], replicate=g["seed"], log_x=True, log_y=True)
            checks.append(against_reference(
                f"depth {depth}: the empirical NTK's relative error falls as width^(-1/2)",
                "log–log slope of the relative Frobenius error against width", slope, RATE, abs_tol=RATE_TOL,
                source="central limit theorem over the m units of a layer (Jacot et al. 2018)", exact=False))
            m = int(g["width"].max())
            tol = ERROR_CONSTANT * math.sqrt(depth / m)
            top = g[g.width == m]["rel_error"].to_numpy()
            checks.append(interval_check(
                f"depth {depth}: at width {m} the empirical NTK matches the analytic kernel",
                "relative Frobenius error ‖Θ_emp − Θ‖/‖Θ‖ at the largest width", mean_interval(top, bounds=(0, math.inf)),
                below=tol, effect=f"below 4·√(L/m) = {tol:.3g}", reference=0.0,
                reference_source="analytic NTK recursion (exact oracle)", exact=True))
        return checks

    def evidence(self, results: Results) -> dict[str, Any]:
        err = results.table("errors")
        mean = err.groupby(["depth", "width"])["rel_error"].mean()
        nt = results.table("analytic").groupby("depth")["nt_rel_diff"].max()
        return {"mean_rel_error": {f"L={d}, m={m}": round(float(v), 5) for (d, m), v in mean.items()},
                "neural_tangents_rel_diff": {f"L={d}": (None if not np.isfinite(v) else float(f"{v:.3g}"))
                                             for d, v in nt.items()}}

    def figures(self, results: Results) -> dict[str, Figure]:
        from matplotlib.figure import Figure

        err = results.table("errors")
        fig = Figure(figsize=(6.4, 4.2))
        ax = fig.subplots()
        for i, (depth, g) in enumerate(err.groupby("depth")):
            agg = g.groupby("width")["rel_error"]
            gm = np.exp(agg.apply(lambda v: np.log(v).mean()))
            ax.loglog(gm.index, gm.to_numpy(), "o-", color=f"C{i}", label=f"depth {depth} (geometric mean over seeds)")
            ax.loglog(g["width"], g["rel_error"], ".", color=f"C{i}", alpha=0.4)
            w = gm.index.to_numpy(float)
            ax.loglog(w, ERROR_CONSTANT * np.sqrt(depth / w), ":", color=f"C{i}", lw=1, label=f"4·√({depth}/m)")
        w = np.array([err.width.min(), err.width.max()], float)
        ax.loglog(w, float(err.rel_error.max()) * (w / w[0]) ** -0.5, "k--", lw=1, label="slope −1/2")
        ax.set_xlabel("width m (units per hidden layer)")
        ax.set_ylabel("‖Θ_emp − Θ_analytic‖_F / ‖Θ_analytic‖_F")
        ax.legend(frameon=False, fontsize=8)
        fig.tight_layout()
        return {"Empirical NTK against the analytic kernel": fig}


def _neural_tangents_diff(X: np.ndarray, exact: np.ndarray, depth: int, config: NTKAnalyticConfig) -> float:
    """max |Θ_nt − Θ_ours| / max |Θ_ours| from neural-tangents' kernel_fn; NaN when not installed."""
    try:
        from neural_tangents import stax
    except ImportError:
        return math.nan
    layers = []
    for _ in range(depth):
        layers += [stax.Dense(512, W_std=config.weight_std, b_std=config.bias_std), stax.Relu()]
    layers.append(stax.Dense(1, W_std=config.weight_std, b_std=config.bias_std))
    _, _, kernel_fn = stax.serial(*layers)
    nt = np.asarray(kernel_fn(X, X, "ntk"), dtype=np.float64)
    return float(np.abs(nt - exact).max() / np.abs(exact).max())


# -- lazy-training -------------------------------------------------------------------------------
class LazyTrainingConfig(ExperimentConfig):
    dim: int = Field(8, ge=1, le=1024, description="input dimension d (width sweep)")
    n_train: int = Field(64, ge=4, le=4096, description="training examples (count, width sweep)")
    n_test: int = Field(64, ge=4, le=4096, description="test examples (count, width sweep)")
    teacher_units: int = Field(3, ge=1, le=64, description="ReLU units of the teacher Σ_j relu(v_j·x)")
    widths: tuple[int, ...] = Field((16, 64, 256, 1024, 4096), min_length=3,
                                    description="hidden widths m of the two-layer net (count)")
    steps: int = Field(300, ge=1, le=1_000_000, description="full-batch gradient steps (width sweep)")
    lr: float = Field(1.0, gt=0, le=10, description="learning rate on ½·mean squared error")
    alphas: tuple[float, ...] = Field((0.1, 1.0, 10.0, 100.0), min_length=2,
                                      description="output scales α of Chizat's model α(h(w) − h(w₀))")
    alpha_dim: int = Field(16, ge=1, le=1024, description="input dimension of the α experiment")
    alpha_width: int = Field(256, ge=2, le=65536, description="hidden width of the α experiment")
    alpha_n_train: int = Field(128, ge=4, le=4096, description="training examples of the α experiment")
    alpha_n_test: int = Field(512, ge=4, le=10_000, description="test examples of the α experiment")
    alpha_steps: int = Field(400, ge=1, le=1_000_000, description="gradient steps on the loss ÷ α²")


class LazyTraining(Experiment):
    name = "lazy-training"
    kind = "claim"
    claim = (
        "Wide nets behave like kernels: the relative weight change and the change of the empirical "
        "NTK during training shrink with width (≈ width^{-1/2}), the trained net follows its "
        "linearization (kernel regression with the NTK at init) ever more closely, and a model "
        "scaled to be lazy (α(h(w) − h(w₀)), α large) loses test accuracy on a task that needs features."
    )
    source = (
        "Jacot, Gabriel & Hongler 2018 (NeurIPS); Lee et al. 2019, 'Wide neural networks of any depth "
        "evolve as linear models under gradient descent', NeurIPS, Thm 2.1 and eq. 9; Chizat, "
        "Oyallon & Bach 2019, 'On lazy training in differentiable programming', NeurIPS, §2 and Fig. 2"
    )
    check_statement = (
        "Over 5 seeds, per-seed log–log fits against width m: (1) relative weight change "
        "‖θ_T − θ₀‖/‖θ₀‖, slope within −1/2 ± 0.15; (2) relative kernel change ‖Θ_T − Θ₀‖/‖Θ₀‖, slope "
        "below −0.35 (at least as fast as the m^{-1/2} bound); (3) RMSE between the trained net and "
        "its linearization on test inputs, slope below −0.25 (agreement improving with width). "
        "(4) Test MSE at the largest α ÷ at the smallest α (paired geometric mean) above 1.5: "
        "lazy training degrades test error (a control where the rich regime is absent would give ≈ 1)."
    )
    Config = LazyTrainingConfig
    presets: ClassVar[dict] = {
        "smoke": {"widths": (16, 64, 256), "steps": 40, "n_train": 16, "n_test": 16, "alphas": (0.1, 10.0),
                  "alpha_width": 32, "alpha_n_train": 32, "alpha_n_test": 64, "alpha_steps": 40},
        "quick": {},
        "full": {"widths": (16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192), "steps": 1000, "n_train": 128,
                 "n_test": 256, "alphas": (0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 100.0, 1000.0), "alpha_width": 1024,
                 "alpha_steps": 2000},
    }
    default_seeds: ClassVar[dict] = {"smoke": 2, "quick": 5, "full": 5}
    budget_s = 10.0
    tables = ("widths", "alphas")
    summary_keys = ("width", "alpha")

    def run(self, config: LazyTrainingConfig, seed: int) -> dict[str, pd.DataFrame]:
        import pandas as pd

        return {"widths": pd.DataFrame(self._width_sweep(config, seed)),
                "alphas": pd.DataFrame(self._alpha_sweep(config, seed))}

    @staticmethod
    def _teacher(n: int, d: int, units: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        X = sphere_points(n, d, child_seed(seed, 0))
        V = rng(seed, 1).standard_normal((units, d)) / math.sqrt(d)
        y = np.maximum(X @ V.T, 0.0).sum(axis=1)
        return X, (y - y.mean()) / y.std()

    @staticmethod
    def _gd(model: Any, X: Any, y: Any, steps: int, lr: float, loss_scale: float = 1.0) -> float:
        """Full-batch gradient descent on loss_scale · ½·mean((f − y)²); returns the last loss ÷ loss_scale."""
        import torch

        params = [p for p in model.parameters() if p.requires_grad]
        opt = torch.optim.SGD(params, lr=lr)
        loss = math.nan
        for _ in range(steps):
            opt.zero_grad(set_to_none=True)
            out = 0.5 * (model(X).squeeze(1) - y).pow(2).mean()
            (loss_scale * out).backward()
            opt.step()
            loss = float(out.detach())
        return loss

    def _width_sweep(self, config: LazyTrainingConfig, seed: int) -> list[dict[str, float]]:
        import torch

        from theorylab.models.normalized import ntk_mlp
        from theorylab.probes.ntk import kernel_regression
        from theorylab.probes.trajectory import TrajectoryRecorder, kernel_change

        n = config.n_train
        X, y = self._teacher(n + config.n_test, config.dim, config.teacher_units, child_seed(seed, 1))
        Xt, yt = torch.as_tensor(X), torch.as_tensor(y)
        rows = []
        for width in config.widths:
            net = ntk_mlp(config.dim, [width], 1, weight_std=math.sqrt(2), seed=child_seed(seed, 2, width))
            rec = TrajectoryRecorder(net, kernel_inputs=Xt, per_parameter=False)
            K0 = rec.kernel0_.numpy()  # type: ignore[union-attr]
            with torch.no_grad():
                f0 = net(Xt).squeeze(1).numpy()
            loss = self._gd(net, Xt[:n], yt[:n], config.steps, config.lr)
            K = rec.kernel(net).numpy()
            row = rec.measure(net)
            with torch.no_grad():
                f = net(Xt).squeeze(1).numpy()
            t = config.lr * config.steps  # gradient-flow time of the ½·mean loss
            lin = kernel_regression(K0[:n, :n], y[:n], K0[n:, :n], time=t, f0_train=f0[:n], f0_test=f0[n:])
            rows.append({"width": width, "rel_weight_change": row["relative_change"],
                         "kernel_change": kernel_change(K[:n, :n], K0[:n, :n]),
                         "lin_rmse": float(np.sqrt(np.mean((f[n:] - lin) ** 2))),
                         "train_loss": loss, "test_mse": float(np.mean((f[n:] - y[n:]) ** 2)),
                         "test_mse_lin": float(np.mean((lin - y[n:]) ** 2))})
        return rows

    def _alpha_sweep(self, config: LazyTrainingConfig, seed: int) -> list[dict[str, float]]:
        import torch

        from theorylab.models.normalized import LazyScaled, ntk_mlp
        from theorylab.probes.trajectory import parameter_snapshot, relative_change

        n = config.alpha_n_train
        X, y = self._teacher(n + config.alpha_n_test, config.alpha_dim, 1, child_seed(seed, 3))
        Xt, yt = torch.as_tensor(X), torch.as_tensor(y)
        rows = []
        for alpha in config.alphas:
            # the same initial net for every α: only the scale differs
            base = ntk_mlp(config.alpha_dim, [config.alpha_width], 1, weight_std=math.sqrt(2), seed=child_seed(seed, 4))
            model = LazyScaled(base, alpha)
            init = parameter_snapshot(model)
            loss = self._gd(model, Xt[:n], yt[:n], config.alpha_steps, config.lr, loss_scale=1.0 / alpha**2)
            with torch.no_grad():
                f = model(Xt).squeeze(1).numpy()
            rows.append({"alpha": alpha, "train_loss": loss, "test_mse": float(np.mean((f[n:] - y[n:]) ** 2)),
                         "rel_weight_change": float(relative_change(model, init))})
        return rows

    def check_point(self, results: Results) -> list[Check]:
        w = results.table("widths")

        def slope(col: str) -> Any:
            return slope_interval(w["width"], w[col], replicate=w["seed"], log_x=True, log_y=True)

        checks = [
            against_reference("relative weight change shrinks as width^(-1/2)",
                              "log–log slope of ‖θ_T − θ₀‖/‖θ₀‖ against width", slope("rel_weight_change"),
                              RATE, abs_tol=RATE_TOL, source="Jacot et al. 2018; Lee et al. 2019, Thm 2.1", exact=False),
            interval_check("the empirical NTK changes less with width, at least as fast as width^(-1/2)",
                           "log–log slope of ‖Θ_T − Θ₀‖_F/‖Θ₀‖_F against width", slope("kernel_change"),
                           below=RATE + RATE_TOL, effect="slope below −0.35 (the O(m^{-1/2}) bound of Lee et al.)",
                           reference=RATE, reference_source="Lee et al. 2019, Thm 2.1 (upper bound)"),
            interval_check("the trained net approaches its linearization (NTK regression at init) as width grows",
                           "log–log slope of the test RMSE between net and linearization against width",
                           slope("lin_rmse"), below=LIN_SLOPE_MAX, effect="falls at least as fast as width^(-1/4)"),
        ]
        a = results.table("alphas")
        lo, hi = a["alpha"].min(), a["alpha"].max()
        pair = a[a.alpha.isin([lo, hi])].pivot_table(index="seed", columns="alpha", values="test_mse")
        checks.append(interval_check(
            f"lazy training degrades test error: α = {hi:g} against α = {lo:g}",
            "test MSE at the largest α ÷ test MSE at the smallest α (paired by seed)",
            ratio_interval(pair[hi].to_numpy(), pair[lo].to_numpy()), above=LAZY_RATIO_MIN,
            effect="the lazy model's test MSE ≥ 1.5 × the rich model's (same init, same data)"))
        return checks

    def evidence(self, results: Results) -> dict[str, Any]:
        w = results.table("widths")
        mean = w.groupby("width")[["rel_weight_change", "kernel_change", "lin_rmse"]].mean()
        a = results.table("alphas").groupby("alpha")[["test_mse", "rel_weight_change"]].mean()
        near = int(min(mean.index, key=lambda m: abs(math.log(m / 512))))
        return {
            "mean_by_width": {int(m): {k: round(float(v), 5) for k, v in r.items()} for m, r in mean.iterrows()},
            "mean_by_alpha": {float(al): {k: round(float(v), 5) for k, v in r.items()} for al, r in a.iterrows()},
            f"lin_rmse_at_width_{near}": round(float(mean.loc[near, "lin_rmse"]), 4),
            "neural_tangents_readme_rmse_width_512": NT_README_RMSE_512,
        }

    def figures(self, results: Results) -> dict[str, Figure]:
        from matplotlib.figure import Figure

        w = results.table("widths")
        fig1 = Figure(figsize=(6.4, 4.2))
        ax = fig1.subplots()
        labels = {"rel_weight_change": "‖θ_T − θ₀‖/‖θ₀‖", "kernel_change": "‖Θ_T − Θ₀‖/‖Θ₀‖",
                  "lin_rmse": "RMSE(net, linearization), test"}
        for i, (col, lab) in enumerate(labels.items()):
            gm = np.exp(w.groupby("width")[col].apply(lambda v: np.log(v).mean()))
            ax.loglog(gm.index, gm.to_numpy(), "o-", color=f"C{i}", label=lab)
        m = np.array([w.width.min(), w.width.max()], float)
        ax.loglog(m, float(w.rel_weight_change.max()) * (m / m[0]) ** -0.5, "k--", lw=1, label="slope −1/2")
        ax.set_xlabel("width m (hidden units)")
        ax.set_ylabel("after training (geometric mean over seeds)")
        ax.legend(frameon=False, fontsize=8)
        fig1.tight_layout()

        a = results.table("alphas")
        fig2 = Figure(figsize=(6.4, 4.2))
        ax = fig2.subplots()
        agg = a.groupby("alpha")["test_mse"].agg(["mean", "std"])
        ax.errorbar(agg.index, agg["mean"], yerr=agg["std"].fillna(0), fmt="o-", label="test MSE")
        agg = a.groupby("alpha")["rel_weight_change"].mean()
        ax.plot(agg.index, agg.to_numpy(), "s:", color="C1", label="‖θ_T − θ₀‖/‖θ₀‖")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("output scale α (model α(h(w) − h(w₀)), loss ÷ α²)")
        ax.set_ylabel("value (mean ± sd over seeds)")
        ax.legend(frameon=False)
        fig2.tight_layout()
        return {"Lazy training against width": fig1, "Chizat's α: test error as the model turns lazy": fig2}
