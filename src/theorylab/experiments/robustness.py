"""Claims A and B: the law of robustness (Bubeck & Sellke 2021) and intrinsic dimension.

Five experiments:

* ``robustness-law`` — noisy labels, nets of growing size p trained to fit below the noise;
  the bracket lower ≤ Lip ≤ upper vs p, the log–log slope past p ≈ n against the law's −1/2,
  and Theorem 3's bound.
* ``robustness-vs-size`` — PGD robust accuracy (L∞, L2; torchattacks) vs parameter count with
  standard and adversarial (Madry et al. 2018) training.
* ``isoperimetry`` — 1-Lipschitz functions of Gaussian / spherical data concentrate with O(1)
  fluctuations as d grows, against the exact Poincaré bounds.
* ``robustness-which-d`` — ambient, intrinsic or concentration dimension: which one makes
  Lip ∝ sqrt(n·d/p) collapse across data with different (intrinsic, ambient) dimensions.
* ``intrinsic-dimension`` — estimators on benchmark manifolds of known dimension, on digits and
  MNIST-1D, and across the layers of a trained network (Ansuini et al.'s hunchback).

Departures from the papers: CPU scale (n in the hundreds in ``quick``); real data sets are
digits (8×8) and MNIST-1D rather than MNIST / ImageNet; the fitting criterion is stated in
each config (train MSE ≤ (1 − eps_fraction)·σ²) and runs that miss it are dropped and counted.
"""

from __future__ import annotations

import math
from typing import ClassVar, Literal

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter
from pydantic import Field

from theorylab.data import gaussian, load_digits, load_mnist1d
from theorylab.engine.config import ExperimentConfig
from theorylab.engine.experiment import Check, Experiment, Results, Verdict, mean_ci, register
from theorylab.geometry.dimension import IntrinsicDimension, concentration_dimension
from theorylab.models import cnn1d, count_params, mlp, train
from theorylab.probes.attacks import pgd_attack, robust_accuracy
from theorylab.probes.lipschitz import lipschitz_bounds
from theorylab.robustness_bound import robustness_bound

__all__ = [
    "IntrinsicDimensionExperiment",
    "Isoperimetry",
    "RobustnessLaw",
    "RobustnessVsSize",
    "RobustnessWhichD",
]

SOURCE_BS = "Bubeck & Sellke 2021, 'A Universal Law of Robustness via Isoperimetry', NeurIPS, arXiv 2105.12806"


# -- shared helpers ------------------------------------------------------------------------------
def _radius_one(X: np.ndarray) -> np.ndarray:
    """Centre and scale so that E‖x‖² = 1 (the data radius the law assumes)."""
    Z = X - X.mean(axis=0)
    return Z / np.sqrt(np.mean(np.einsum("ij,ij->i", Z, Z)))


def _inputs(dataset: str, n: int, d: int, seed: int) -> np.ndarray:
    """n inputs at radius ≈ 1: N(0, I_d/d), or a random subset of digits / MNIST-1D (d ignored)."""
    if dataset == "gaussian":
        return gaussian(n, d, seed)
    rng = np.random.default_rng(seed)
    X = load_digits().X_train if dataset == "digits" else load_mnist1d().X_train
    if n > len(X):
        raise ValueError(f"{dataset} has only {len(X)} training points, asked for n={n}")
    return _radius_one(X[rng.choice(len(X), n, replace=False)])


def _labels(X: np.ndarray, kind: str, flip: float, seed: int, teacher_y: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """±1 labels and their conditional variance σ² = E Var(y|x).

    ``noise``: independent uniform ±1 (σ² = 1). ``teacher``: sign of a fixed teacher
    (a random direction, or class parity for real data) flipped with probability ``flip``
    (σ² = 4·flip·(1 − flip)).
    """
    rng = np.random.default_rng(_sub(seed, 7_777))
    if kind == "noise":
        return rng.choice([-1.0, 1.0], size=len(X)), 1.0
    clean = teacher_y if teacher_y is not None else np.sign(X @ rng.standard_normal(X.shape[1]))
    clean = np.where(clean == 0, 1.0, clean)
    flips = rng.random(len(X)) < flip
    return np.where(flips, -clean, clean), 4 * flip * (1 - flip)


def _sub(seed: int, *keys: int) -> int:
    """A child seed in [0, 2³¹) from (seed, keys) via SeedSequence (torch generators need < 2⁶³)."""
    return int(np.random.SeedSequence([int(seed), *map(int, keys)]).generate_state(1)[0] >> 1)


def _loglog_slope(p: np.ndarray, v: np.ndarray) -> float:
    ok = (p > 0) & (v > 0) & np.isfinite(v)
    if ok.sum() < 2:
        return math.nan
    return float(np.polyfit(np.log(p[ok]), np.log(v[ok]), 1)[0])


def _fit_noise(model: torch.nn.Module, X: np.ndarray, y: np.ndarray, target_mse: float, steps: int, lr: float, seed: int) -> float:
    """Full-batch Adam on MSE until train MSE ≤ target (checked every 25 steps); returns the MSE."""
    res = train(model, X, y, steps=steps, lr=lr, batch_size=len(X), loss="mse", seed=seed,
                eval_every=25, stop_loss=target_mse)
    return float(res.final_train_loss)


# ================================================================================================
class RobustnessLawConfig(ExperimentConfig):
    dataset: Literal["gaussian", "digits", "mnist1d"] = Field("gaussian", description="input distribution (all scaled to E‖x‖² = 1)")
    label_kind: Literal["noise", "teacher"] = Field("noise", description="pure ±1 noise (σ² = 1) or a flipped teacher")
    flip: float = Field(0.2, gt=0, lt=0.5, description="teacher label-flip probability (σ² = 4·flip·(1 − flip))")
    n: int = Field(100, ge=10, description="training points (count)")
    d: int = Field(10, ge=1, description="input dimension for gaussian data (ignored for real data)")
    depth: int = Field(1, ge=1, le=6, description="hidden layers (1 = two-layer net)")
    widths: tuple[int, ...] = Field((1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024),
                                    description="hidden widths swept inside one run (p from ≈ 0.1·n to ≥ 10·n·d)")
    eps_fraction: float = Field(0.5, gt=0, lt=1, description="fit criterion: train MSE ≤ (1 − eps_fraction)·σ² (ε = eps_fraction·σ²)")
    steps: int = Field(2000, ge=1, description="max full-batch Adam steps per net")
    lr: float = Field(3e-3, gt=0, description="Adam learning rate")
    ascent_radius: float = Field(0.1, gt=0, description="local-ascent ball radius (data radius = 1)")
    ascent_steps: int = Field(20, ge=0, description="local-ascent iterations")
    delta: float = Field(0.01, gt=0, lt=1, description="Theorem 3 failure probability")


@register
class RobustnessLaw(Experiment):
    name = "robustness-law"
    claim = (
        "Fitting n noisy labels (conditional variance σ²) in d dimensions below the noise level with "
        "p parameters forces Lip(f) ≳ sqrt(n·d/p) (Theorem 3, with explicit constants): past p ≈ n "
        "the smallest achievable Lipschitz constant falls like p^(-1/2), and smooth fits need p ≳ n·d."
    )
    source = SOURCE_BS
    check_statement = (
        "Among nets that reach train MSE ≤ (1 − eps_fraction)·σ² (others dropped and counted), the "
        "least-squares slope of log(Lip lower bound) vs log p over p ≥ n, per seed, then mean and 95% "
        "t-interval over seeds: supported if |mean + 0.5| ≤ 0.25 and the interval contains −0.5; not "
        "supported if |mean + 0.5| > 0.25 and the interval excludes −0.5; else inconclusive. Second "
        "check: every fitted net's certified upper bound is ≥ Theorem 3's lower bound."
    )
    Config = RobustnessLawConfig
    presets: ClassVar[dict] = {
        "smoke": {"n": 40, "d": 5, "widths": (2, 16, 64, 256), "steps": 600, "lr": 1e-2, "ascent_steps": 5},
        "quick": {},
        "full": {"n": 1000, "d": 20, "widths": (2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384),
                 "steps": 20000, "ascent_steps": 50},
    }
    default_seeds: ClassVar[dict] = {"smoke": 1, "quick": 2, "full": 5}
    budget_s = 20.0
    tables = ("nets", "summary")
    summary_keys = ("width",)

    def run(self, config: RobustnessLawConfig, seed: int) -> dict[str, pd.DataFrame]:
        X = _inputs(config.dataset, config.n, config.d, seed)
        n, d = X.shape
        teacher = None
        if config.dataset != "gaussian" and config.label_kind == "teacher":
            ds = load_digits() if config.dataset == "digits" else load_mnist1d()
            rng = np.random.default_rng(seed)
            idx = rng.choice(len(ds.X_train), n, replace=False)  # same draw as _inputs
            teacher = np.where(ds.y_train[idx] % 2 == 0, 1.0, -1.0)  # class parity
        y, sigma2 = _labels(X, config.label_kind, config.flip, seed, teacher)
        target = (1 - config.eps_fraction) * sigma2
        eps = config.eps_fraction * sigma2
        Xt = torch.as_tensor(X, dtype=torch.float32)
        rows = []
        for i, w in enumerate(config.widths):
            net = mlp(d, [w] * config.depth, 1, seed=_sub(seed, 1, i))
            p = count_params(net)
            mse = _fit_noise(net, X, y, target, config.steps, config.lr, _sub(seed, 2, i))
            fitted = mse <= target
            row = {"width": w, "params": p, "train_mse": mse, "fitted": bool(fitted), "sigma2": sigma2,
                   "eps": eps, "n_points": n, "dim": d}
            if fitted:
                b = lipschitz_bounds(net, Xt, radius=config.ascent_radius, ascent_points=32,
                                     ascent_steps=config.ascent_steps, seed=_sub(seed, 3, i))
                row.update(b.as_dict())
                row["theorem3"] = robustness_bound(n, d, p, math.sqrt(sigma2), eps=eps, delta=config.delta).lip_lower
                row["informal"] = math.sqrt(n * d / p)
            rows.append(row)
        nets = pd.DataFrame(rows)
        fit = nets[nets["fitted"] & (nets["params"] >= n)] if "lip_lower" in nets else nets.iloc[0:0]
        slope = _loglog_slope(fit["params"].to_numpy(float), fit["lip_lower"].to_numpy(float)) if len(fit) else math.nan
        slope_up = _loglog_slope(fit["params"].to_numpy(float), fit["lip_upper"].to_numpy(float)) if len(fit) else math.nan
        summary = pd.DataFrame([{
            "slope_lower": slope, "slope_upper": slope_up, "n_fit_points": len(fit),
            "n_nets": len(nets), "n_dropped": int((~nets["fitted"]).sum()), "sigma2": sigma2,
            "bound_holds": bool((fit["lip_upper"] >= fit["theorem3"]).all()) if len(fit) else True,
            "c_informal": float(np.median(fit["lip_lower"] / fit["informal"])) if len(fit) else math.nan,
        }])
        return {"nets": nets, "summary": summary}

    def check(self, results: Results) -> Verdict:
        s = results.table("summary")
        nets = results.table("nets")
        m, lo, hi, k = mean_ci(s["slope_lower"])
        if k < 2:
            status = "inconclusive"
        elif abs(m + 0.5) <= 0.25 and lo <= -0.5 <= hi:
            status = "supported"
        elif abs(m + 0.5) > 0.25 and not lo <= -0.5 <= hi:
            status = "not supported"
        else:
            status = "inconclusive"
        fitted = nets[nets["fitted"]]
        holds = bool((fitted["lip_upper"] >= fitted["theorem3"]).all()) if len(fitted) else True
        checks = [
            Check(statement="log–log slope of the Lipschitz lower bound vs p, fitted nets with p ≥ n",
                  quantity="slope d log Lip / d log p", measured=m, interval=None if k < 2 else (lo, hi),
                  threshold="consistent with −0.5 (±0.25 band and 95% interval)", status=status, n=k,
                  reference=-0.5, exact=False),
            Check(statement="Theorem 3 holds: certified upper bound ≥ Theorem 3's lower bound on every fitted net",
                  quantity="fraction of fitted nets with upper ≥ bound",
                  measured=float((fitted["lip_upper"] >= fitted["theorem3"]).mean()) if len(fitted) else None,
                  threshold="= 1", status="supported" if len(fitted) and holds else ("inconclusive" if not len(fitted) else "not supported"),
                  n=len(fitted), reference=1.0, exact=True),
        ]
        return self.verdict(
            checks,
            nets_total=len(nets), nets_dropped_not_fitted=int((~nets["fitted"]).sum()),
            fit_criterion="train MSE ≤ (1 − eps_fraction)·σ²",
            slope_upper_mean=float(np.nanmean(s["slope_upper"])) if len(s) else None,
            c_informal_median=float(np.nanmedian(s["c_informal"])) if len(s) else None,
            note=("Theorem 3 is a lower bound on the smallest achievable Lip; gradient-trained nets need not "
                  "attain it, so a flatter slope of the measured bracket does not contradict the theorem, "
                  "only the bound's shape as a description of trained nets."),
        )

    def figures(self, results: Results) -> dict[str, Figure]:
        nets = results.table("nets")
        fit = nets[nets["fitted"]]
        fig = Figure(figsize=(5.5, 3.8))
        ax = fig.subplots()
        if len(fit):
            g = fit.groupby("params").agg(lo=("lip_lower", "mean"), up=("lip_upper", "mean"),
                                          thm=("theorem3", "mean"), inf=("informal", "mean"))
            p = g.index.to_numpy(float)
            ax.loglog(p, g["lo"], "o-", label="lower (grad max, ascent)")
            ax.loglog(p, g["up"], "s-", label="upper (min spectral, ECLipsE-Fast)")
            c = np.nanmedian(fit["lip_lower"] / fit["informal"])
            ax.loglog(p, c * g["inf"], ":", color="0.3", label=f"{c:.2g}·sqrt(n·d/p)")
            ax.loglog(p, g["thm"], "--", color="0.5", label="Theorem 3 bound")
            n = int(nets["n_points"].iloc[0])
            ax.axvline(n, color="0.8", lw=0.8)
        dropped = nets[~nets["fitted"]]
        ax.set_title(f"dropped (not fitted): {len(dropped)} of {len(nets)} nets", fontsize=9)
        ax.set_xlabel("parameters p")
        ax.set_ylabel("Lipschitz constant (L2)")
        ax.legend(frameon=False, fontsize=7)
        fig.tight_layout()
        return {"Lipschitz bracket vs parameters": fig}


# ================================================================================================
class RobustnessVsSizeConfig(ExperimentConfig):
    dataset: Literal["digits", "mnist1d"] = Field("digits", description="data set, inputs scaled to [0, 1]")
    widths: tuple[int, ...] = Field((8, 32, 128), description="hidden widths (two hidden layers) swept inside one run")
    training: tuple[str, ...] = Field(("standard", "adversarial"), description="training modes (adversarial: PGD L∞, Madry et al.)")
    steps: int = Field(200, ge=1, description="Adam steps (batch 128)")
    lr: float = Field(2e-3, gt=0, description="Adam learning rate")
    eps_linf: float = Field(0.1, gt=0, description="L∞ threat radius (pixel units of [0, 1] data)")
    eps_l2: float = Field(0.5, gt=0, description="L2 threat radius ([0, 1] units)")
    attack_steps: int = Field(20, ge=1, description="PGD steps at evaluation")
    train_attack_steps: int = Field(3, ge=1, description="PGD steps inside adversarial training")
    n_test: int = Field(200, ge=10, description="test points attacked (count)")


def _to_unit_interval(Xtr: np.ndarray, Xte: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = Xtr.min(), Xtr.max()
    return np.clip((Xtr - lo) / (hi - lo), 0, 1), np.clip((Xte - lo) / (hi - lo), 0, 1)


def _adv_train(net: torch.nn.Module, X: torch.Tensor, y: torch.Tensor, cfg: RobustnessVsSizeConfig, seed: int) -> None:
    """Madry et al. (2018) adversarial training: each minibatch replaced by its PGD-L∞ examples."""
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    g = torch.Generator().manual_seed(_sub(seed, 0))
    for step in range(cfg.steps):
        idx = torch.randint(0, len(X), (128,), generator=g)
        xb = pgd_attack(net, X[idx], y[idx], norm="Linf", eps=cfg.eps_linf, steps=cfg.train_attack_steps, seed=_sub(seed, 1, step))
        net.train()
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(xb), y[idx]).backward()
        opt.step()


@register
class RobustnessVsSize(Experiment):
    name = "robustness-vs-size"
    claim = (
        "Capacity helps robustness: under adversarial training, PGD robust accuracy rises with the "
        "number of parameters (Madry et al. 2018, MNIST: ~10% → ~90% near 2×10⁵ parameters), as the "
        "law of robustness requires p ≫ n for smooth fits."
    )
    source = ("Madry et al. 2018, 'Towards Deep Learning Models Resistant to Adversarial Attacks', ICLR, "
              "arXiv 1706.06083, Fig. 4; " + SOURCE_BS + ", §1.1")
    check_statement = (
        "For adversarially trained nets, robust L∞ accuracy at the largest width minus at the smallest, "
        "per seed, mean and 95% t-interval over seeds: supported if the interval lies above 0, not "
        "supported if it lies below or the mean is ≤ 0, else inconclusive."
    )
    Config = RobustnessVsSizeConfig
    presets: ClassVar[dict] = {
        "smoke": {"widths": (8, 64), "steps": 60, "attack_steps": 5, "train_attack_steps": 2, "n_test": 100},
        "quick": {},
        "full": {"dataset": "mnist1d", "widths": (8, 16, 32, 64, 128, 256, 512, 1024), "steps": 4000,
                 "attack_steps": 50, "train_attack_steps": 10, "n_test": 1000},
    }
    default_seeds: ClassVar[dict] = {"smoke": 1, "quick": 2, "full": 5}
    budget_s = 20.0
    tables = ("accuracy",)
    summary_keys = ("mode", "width")

    def run(self, config: RobustnessVsSizeConfig, seed: int) -> dict[str, pd.DataFrame]:
        ds = load_digits(seed=_sub(seed, 0)) if config.dataset == "digits" else load_mnist1d()
        Xtr, Xte = _to_unit_interval(ds.X_train, ds.X_test)
        Xtr_t = torch.as_tensor(Xtr, dtype=torch.float32)
        ytr = torch.as_tensor(ds.y_train)
        Xte_t = torch.as_tensor(Xte[: config.n_test], dtype=torch.float32)
        yte = torch.as_tensor(ds.y_test[: config.n_test])
        rows = []
        for mode in config.training:
            if mode not in ("standard", "adversarial"):
                raise ValueError(f"unknown training mode {mode!r} (allowed: standard, adversarial)")
            for i, w in enumerate(config.widths):
                net = mlp(Xtr.shape[1], [w, w], ds.n_classes, seed=_sub(seed, 1, i))
                if mode == "standard":
                    train(net, Xtr_t, ytr, steps=config.steps, lr=config.lr, batch_size=128, seed=_sub(seed, 2, i))
                else:
                    _adv_train(net, Xtr_t, ytr, config, _sub(seed, 2, i))
                linf = robust_accuracy(net, Xte_t, yte, norm="Linf", eps=config.eps_linf, steps=config.attack_steps, seed=_sub(seed, 3, i))
                l2 = robust_accuracy(net, Xte_t, yte, norm="L2", eps=config.eps_l2, steps=config.attack_steps, seed=_sub(seed, 4, i))
                rows.append({"mode": mode, "width": w, "params": count_params(net), "clean_acc": linf.clean,
                             "robust_linf": linf.robust, "robust_l2": l2.robust})
        return {"accuracy": pd.DataFrame(rows)}

    def check(self, results: Results) -> Verdict:
        acc = results.table("accuracy")
        adv = acc[acc["mode"] == "adversarial"]
        gains = []
        for _, g in adv.groupby("run_id"):
            g = g.sort_values("params")
            gains.append(float(g["robust_linf"].iloc[-1] - g["robust_linf"].iloc[0]))
        m, lo, hi, k = mean_ci(gains)
        if k < 2:
            status = "inconclusive"
        elif lo > 0:
            status = "supported"
        elif hi < 0 or m <= 0:
            status = "not supported"
        else:
            status = "inconclusive"
        std_rob = acc[acc["mode"] == "standard"]["robust_linf"].mean() if (acc["mode"] == "standard").any() else math.nan
        adv_rob = adv["robust_linf"].mean() if len(adv) else math.nan
        checks = [Check(statement="adversarial training: robust L∞ accuracy gain from smallest to largest net",
                        quantity="robust accuracy (largest) − (smallest)", measured=m,
                        interval=None if k < 2 else (lo, hi), threshold="> 0 (interval above 0)",
                        status=status, n=k, reference=None, exact=False)]
        return self.verdict(checks, mean_robust_linf_standard=float(std_rob), mean_robust_linf_adversarial=float(adv_rob))

    def figures(self, results: Results) -> dict[str, Figure]:
        acc = results.table("accuracy")
        fig = Figure(figsize=(5.5, 3.8))
        ax = fig.subplots()
        for mode, g in acc.groupby("mode"):
            g = g.groupby("params").mean(numeric_only=True)
            ax.semilogx(g.index, g["clean_acc"], "o:", label=f"{mode}: clean")
            ax.semilogx(g.index, g["robust_linf"], "s-", label=f"{mode}: PGD L∞")
            ax.semilogx(g.index, g["robust_l2"], "^--", label=f"{mode}: PGD L2")
        ax.set_xlabel("parameters p")
        ax.set_ylabel("test accuracy")
        ax.legend(frameon=False, fontsize=7)
        fig.tight_layout()
        return {"Robust accuracy vs size": fig}


# ================================================================================================
class IsoperimetryConfig(ExperimentConfig):
    dims: tuple[int, ...] = Field((4, 16, 64, 256, 1024), description="dimensions d swept inside one run")
    n_samples: int = Field(20_000, ge=100, description="draws per (distribution, d) (count)")
    net_width: int = Field(64, ge=1, description="hidden width of the random 1-Lipschitz ReLU net")
    tolerance_se: float = Field(4.0, gt=0, description="allowed excess of a sample std over its Poincaré bound, in standard errors")


def _one_lip_functions(x: np.ndarray, rng: np.random.Generator, width: int) -> dict[str, np.ndarray]:
    """1-Lipschitz (L2) test functions evaluated on the rows of x."""
    d = x.shape[1]
    u = rng.standard_normal(d)
    u /= np.linalg.norm(u)
    a = rng.standard_normal(d)
    W1 = rng.standard_normal((width, d))
    w2 = rng.standard_normal(width)
    lip = np.linalg.norm(W1, 2) * np.linalg.norm(w2)  # ‖w2‖·‖W1‖ ≥ Lip of w2·relu(W1 x)
    return {
        "norm": np.linalg.norm(x, axis=1),
        "projection": x @ u,
        "dist_to_anchor": np.linalg.norm(x - a, axis=1),
        "max_coord": x.max(axis=1),
        "relu_net": np.maximum(x @ W1.T, 0) @ w2 / lip,
    }


@register
class Isoperimetry(Experiment):
    name = "isoperimetry"
    claim = (
        "A 1-Lipschitz function of d-dimensional Gaussian or uniform-sphere data (scale √d) fluctuates "
        "by O(1) whatever d, while the data's scale grows as √d: the isoperimetry the law's proof rests on."
    )
    source = SOURCE_BS + ", Definition 1.1 and §1.2; Gaussian Poincaré inequality; Poincaré on S^{d−1}"
    check_statement = (
        "Exact oracles: for x ~ N(0, I_d), Var f ≤ 1 (Gaussian Poincaré); for x uniform on the sphere of "
        "radius √d, Var f ≤ d/(d − 1) (spectral gap (d − 1)/r²). Supported if no sample std exceeds its "
        "bound by more than tolerance_se standard errors (pooled over seeds), and the log–log slope of the "
        "largest std vs d is below 0.1 while mean ‖x‖ grows with slope 0.5 ± 0.05."
    )
    Config = IsoperimetryConfig
    presets: ClassVar[dict] = {
        "smoke": {"dims": (4, 64, 512), "n_samples": 1000},
        "quick": {},
        "full": {"dims": (2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096), "n_samples": 50_000},
    }
    default_seeds: ClassVar[dict] = {"smoke": 1, "quick": 2, "full": 5}
    budget_s = 15.0
    tables = ("fluctuations",)
    summary_keys = ("distribution", "dim", "function")

    def run(self, config: IsoperimetryConfig, seed: int) -> dict[str, pd.DataFrame]:
        rng = np.random.default_rng(seed)
        rows = []
        for d in config.dims:
            g = rng.standard_normal((config.n_samples, d))
            s = g / np.linalg.norm(g, axis=1, keepdims=True) * np.sqrt(d)
            for dist, x in (("gaussian", g), ("sphere", s)):
                bound = 1.0 if dist == "gaussian" else d / (d - 1) if d > 1 else math.inf
                for fname, v in _one_lip_functions(x, rng, config.net_width).items():
                    rows.append({"distribution": dist, "dim": d, "function": fname, "mean_value": float(v.mean()),
                                 "std_value": float(v.std(ddof=1)), "var_bound": bound, "n_draws": config.n_samples})
        return {"fluctuations": pd.DataFrame(rows)}

    def check(self, results: Results) -> Verdict:
        f = results.table("fluctuations")
        g = f.groupby(["distribution", "dim", "function"]).agg(
            std=("std_value", "mean"), bound=("var_bound", "first"), n=("n_draws", "sum"), mean=("mean_value", "mean"))
        # SE of a sample std ≈ std/√(2n) (normal theory; conservative-enough for these near-normal f)
        excess = (g["std"] - np.sqrt(g["bound"])) / (g["std"] / np.sqrt(2 * g["n"]))
        worst = float(excess.max())
        top = g.groupby(level="dim")["std"].max()
        slope_std = _loglog_slope(top.index.to_numpy(float), top.to_numpy(float))
        norms = g.xs(("gaussian", "norm"), level=("distribution", "function"))
        slope_mean = _loglog_slope(norms.index.to_numpy(float), norms["mean"].to_numpy(float))
        k = results.n_seeds
        checks = [
            Check(statement="every 1-Lipschitz test function obeys the Poincaré variance bound",
                  quantity="max over (distribution, d, f) of (std − √bound)/SE", measured=worst,
                  threshold=f"≤ {results.first_config().tolerance_se:g} standard errors",
                  status="supported" if worst <= results.first_config().tolerance_se else "not supported",
                  n=k, reference=0.0, exact=True),
            Check(statement="fluctuations stay O(1): log–log slope of the largest std vs d",
                  quantity="slope d log std / d log d", measured=slope_std, threshold="< 0.1",
                  status="supported" if slope_std < 0.1 else "not supported", n=k, reference=0.0, exact=False),
            Check(statement="while the scale grows: log–log slope of mean ‖x‖ vs d (Gaussian)",
                  quantity="slope d log E‖x‖ / d log d", measured=slope_mean, threshold="0.5 ± 0.05",
                  status="supported" if abs(slope_mean - 0.5) <= 0.05 else "not supported", n=k, reference=0.5, exact=False),
        ]
        return self.verdict(checks, largest_std=float(g["std"].max()))

    def figures(self, results: Results) -> dict[str, Figure]:
        f = results.table("fluctuations").groupby(["distribution", "function", "dim"]).mean(numeric_only=True).reset_index()
        fig = Figure(figsize=(6, 3.6))
        axes = fig.subplots(1, 2, sharey=True)
        for ax, dist in zip(axes, ("gaussian", "sphere"), strict=True):
            for fname, g in f[f["distribution"] == dist].groupby("function"):
                ax.loglog(g["dim"], g["std_value"], "o-", ms=3, label=fname)
            ax.axhline(1.0, color="0.5", ls="--", lw=0.8)
            ax.set_title(dist, fontsize=9)
            ax.set_xlabel("dimension d")
        axes[0].set_ylabel("std of f(x), Lip(f) ≤ 1")
        axes[0].legend(frameon=False, fontsize=7)
        fig.tight_layout()
        return {"Fluctuations of 1-Lipschitz functions": fig}


# ================================================================================================
class WhichDConfig(ExperimentConfig):
    pairs: tuple[tuple[int, int], ...] = Field(((2, 8), (8, 8), (2, 32), (8, 32)),
                                               description="(intrinsic k, ambient D) pairs swept inside one run")
    embedding: Literal["linear", "curved"] = Field("linear", description="k-dim Gaussian embedded linearly, or through random cosine features")
    n: int = Field(100, ge=10, description="training points (count)")
    width: int = Field(64, ge=1, description="hidden width of the two-layer net")
    eps_fraction: float = Field(0.5, gt=0, lt=1, description="fit criterion: train MSE ≤ (1 − eps_fraction)·σ², σ² = 1")
    steps: int = Field(2000, ge=1, description="max full-batch Adam steps")
    lr: float = Field(3e-3, gt=0, description="Adam learning rate")
    ascent_steps: int = Field(20, ge=0, description="local-ascent iterations")


def _embedded(n: int, k: int, D: int, embedding: str, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, k))
    if embedding == "linear":
        Q, _ = np.linalg.qr(rng.standard_normal((D, k)))
        X = z @ Q.T
    else:  # a curved k-manifold: random cosine features of z (smooth, D-dimensional span)
        B = rng.standard_normal((k, D)) / math.sqrt(k)
        X = np.cos(z @ B + rng.uniform(0, 2 * math.pi, D))
    return _radius_one(X)


@register
class RobustnessWhichD(Experiment):
    name = "robustness-which-d"
    claim = (
        "The d in the law of robustness is effectively the data's intrinsic (concentration) dimension, "
        "not the ambient one: on a k-dimensional manifold in D dimensions, fitting noise costs "
        "Lip ≈ C·sqrt(n·k/p), independent of D."
    )
    source = SOURCE_BS + "; Pope et al. 2021, arXiv 2104.08894 (talk comments)"
    check_statement = (
        "Per seed, for each candidate d (ambient D, TwoNN intrinsic, concentration d_iso), the spread "
        "(std) over (k, D) configurations of log(Lip lower / sqrt(n·d/p)); the claim predicts a smaller "
        "spread for intrinsic d than for ambient d. Supported if the paired difference spread(ambient) − "
        "spread(intrinsic) has a 95% interval above 0; not supported if below 0; else inconclusive."
    )
    Config = WhichDConfig
    presets: ClassVar[dict] = {
        "smoke": {"pairs": ((2, 8), (2, 32), (8, 32)), "n": 40, "steps": 600, "lr": 1e-2, "ascent_steps": 5},
        "quick": {},
        "full": {"pairs": ((2, 16), (4, 16), (8, 16), (16, 16), (2, 64), (4, 64), (8, 64), (16, 64), (2, 256), (8, 256)),
                 "n": 500, "width": 512, "steps": 20000, "ascent_steps": 50},
    }
    default_seeds: ClassVar[dict] = {"smoke": 1, "quick": 2, "full": 5}
    budget_s = 15.0
    tables = ("configs", "spread")
    summary_keys = ("k_latent", "d_ambient")

    def run(self, config: WhichDConfig, seed: int) -> dict[str, pd.DataFrame]:
        rows = []
        for i, (k, D) in enumerate(config.pairs):
            if not 1 <= k <= D:
                raise ValueError(f"pair (k={k}, D={D}) needs 1 ≤ k ≤ D")
            X = _embedded(config.n, k, D, config.embedding, _sub(seed, 0, i))
            y, sigma2 = _labels(X, "noise", 0.0, _sub(seed, 1, i))
            net = mlp(D, [config.width], 1, seed=_sub(seed, 2, i))
            p = count_params(net)
            mse = _fit_noise(net, X, y, (1 - config.eps_fraction) * sigma2, config.steps, config.lr, _sub(seed, 3, i))
            row = {"k_latent": k, "d_ambient": D, "params": p, "train_mse": mse,
                   "fitted": bool(mse <= (1 - config.eps_fraction) * sigma2),
                   "d_twonn": IntrinsicDimension("twonn").fit(X).dimension_,
                   "d_iso": concentration_dimension(X, seed=_sub(seed, 4, i))}
            if row["fitted"]:
                b = lipschitz_bounds(net, torch.as_tensor(X, dtype=torch.float32), radius=0.1, ascent_points=32,
                                     ascent_steps=config.ascent_steps, seed=_sub(seed, 5, i))
                row["lip_lower"], row["lip_upper"] = b.lower, b.upper
            else:
                row["lip_lower"] = row["lip_upper"] = math.nan
            rows.append(row)
        cf = pd.DataFrame(rows)
        fit = cf[cf["fitted"]]
        spread = []
        for cand, col in (("ambient", "d_ambient"), ("intrinsic", "d_twonn"), ("concentration", "d_iso")):
            r = np.log(fit["lip_lower"] / np.sqrt(config.n * fit[col] / fit["params"]))
            spread.append({"candidate": cand, "log_spread": float(r.std(ddof=1)) if len(r) >= 2 else math.nan,
                           "n_configs": len(fit), "n_dropped": int(len(cf) - len(fit))})
        return {"configs": cf, "spread": pd.DataFrame(spread)}

    def check(self, results: Results) -> Verdict:
        s = results.table("spread").pivot_table(index="run_id", columns="candidate", values="log_spread")
        diff = (s["ambient"] - s["intrinsic"]).dropna() if len(s) else pd.Series(dtype=float)
        m, lo, hi, k = mean_ci(diff)
        status = "inconclusive" if k < 2 else "supported" if lo > 0 else "not supported" if hi < 0 else "inconclusive"
        cf = results.table("configs")
        best = s.mean().idxmin() if len(s) else None
        checks = [Check(statement="Lip·sqrt(p/(n·d)) collapses better with intrinsic d than with ambient d",
                        quantity="spread(ambient) − spread(intrinsic) of log(Lip/sqrt(n·d/p))", measured=m,
                        interval=None if k < 2 else (lo, hi), threshold="> 0 (interval above 0)", status=status, n=k,
                        reference=None, exact=False)]
        return self.verdict(checks, best_candidate=best, mean_spread={c: float(v) for c, v in s.mean().items()},
                            dropped_not_fitted=int((~cf["fitted"]).sum()), configs_total=len(cf))

    def figures(self, results: Results) -> dict[str, Figure]:
        cf = results.table("configs")
        cf = cf[cf["fitted"]]
        fig = Figure(figsize=(7.5, 3.2))
        axes = fig.subplots(1, 3, sharey=True)
        for ax, (lab, col) in zip(axes, (("ambient D", "d_ambient"), ("TwoNN ID", "d_twonn"), ("concentration d", "d_iso")), strict=True):
            x = np.sqrt(cf["n"] * cf[col] / cf["params"])
            ax.loglog(x, cf["lip_lower"], "o")
            for xi, yi, k, D in zip(x, cf["lip_lower"], cf["k_latent"], cf["d_ambient"], strict=True):
                ax.annotate(f"({k},{D})", (xi, yi), fontsize=6, alpha=0.7)
            ax.xaxis.set_minor_formatter(NullFormatter())
            ax.set_xlabel(f"sqrt(n·d/p), d = {lab}", fontsize=8)
        axes[0].set_ylabel("Lipschitz lower bound (labels: k, D)")
        fig.tight_layout()
        return {"Which d collapses the trade-off": fig}


# ================================================================================================
def _hump(g: pd.DataFrame) -> float:
    """Largest hidden-layer ID minus the larger of the input's and the last hidden layer's (one run)."""
    g = g.sort_values("depth_index")
    hidden = g[g["layer"].str.startswith("layer")]["id_twonn"]
    if len(hidden) == 0:
        return math.nan
    return float(hidden.max() - max(g["id_twonn"].iloc[0], hidden.iloc[-1]))


_MANIFOLDS = {
    # name -> (intrinsic d, ambient D)
    "ball5": (5, 5), "sphere5": (5, 6), "swiss_roll": (2, 3), "linear4in16": (4, 16),
    "M4_Nonlinear": (4, 8), "M6_Nonlinear": (6, 36), "M1_Sphere": (10, 11), "M10a_Cubic": (10, 11),
    "M8_Nonlinear": (12, 72), "M12_Norm": (20, 20),
}


def _manifold(name: str, n: int, seed: int) -> np.ndarray:
    import skdim
    from sklearn.datasets import make_swiss_roll

    if name == "ball5":
        return skdim.datasets.hyperBall(n, 5, random_state=seed)
    if name == "sphere5":
        return skdim.datasets.hyperSphere(n, 5, random_state=seed)
    if name == "swiss_roll":
        return make_swiss_roll(n, random_state=seed)[0]
    if name == "linear4in16":
        rng = np.random.default_rng(seed)
        Q, _ = np.linalg.qr(rng.standard_normal((16, 4)))
        return rng.standard_normal((n, 4)) @ Q.T
    if name not in _MANIFOLDS:
        raise ValueError(f"unknown manifold {name!r} (allowed: {', '.join(_MANIFOLDS)})")
    bm = skdim.datasets.BenchmarkManifolds(random_state=seed)
    d, D, _ = bm._dict_truth[name]
    return bm.generate(name, n=n, dim=D, d=d)


class IntrinsicDimConfig(ExperimentConfig):
    manifolds: tuple[str, ...] = Field(("ball5", "sphere5", "swiss_roll", "linear4in16", "M4_Nonlinear", "M6_Nonlinear"),
                                       description=f"benchmark manifolds (known d): {', '.join(_MANIFOLDS)}")
    methods: tuple[str, ...] = Field(("twonn", "mle", "lpca", "corrint", "mind_ml", "gride"), description="estimators (IntrinsicDimension methods)")
    n_points: int = Field(1000, ge=50, description="points per manifold / data set (count)")
    mle_ks: tuple[int, ...] = Field((5, 10, 20), description="MLE k sweep (Pope et al.)")
    tolerance: float = Field(0.2, gt=0, description="allowed relative error of TwoNN and MLE on manifolds with d ≤ 10")
    real_data: tuple[str, ...] = Field(("digits", "mnist1d"), description="real data sets")
    mnist1d_samples: int = Field(1500, ge=100, description="MNIST-1D samples generated (count)")
    layer_model: Literal["cnn1d", "mlp"] = Field("cnn1d", description="net whose layers are probed: 1-D CNN on MNIST-1D, or MLP on digits")
    layer_width: int = Field(32, ge=2, description="channels (cnn1d, 3 conv layers) or hidden width (mlp) of that net")
    layer_depth: int = Field(4, ge=2, description="hidden layers of the mlp (the cnn1d has 3 conv layers)")
    train_steps: int = Field(600, ge=1, description="Adam steps training it (batch 128)")


@register
class IntrinsicDimensionExperiment(Experiment):
    name = "intrinsic-dimension"
    claim = (
        "Natural data have intrinsic dimension far below the ambient one (MNIST ≈ 7–13 by MLE), and "
        "trained networks' representations follow a hunchback profile across layers (ID rises, then falls)."
    )
    source = ("Pope et al. 2021, 'The Intrinsic Dimension of Images and Its Impact on Learning', ICLR, arXiv 2104.08894; "
              "Ansuini et al. 2019, 'Intrinsic dimension of data representations in deep neural networks', NeurIPS, arXiv 1905.12784")
    check_statement = (
        "(1) Calibration: on benchmark manifolds with d ≤ 10, TwoNN and MLE (k sweep) within `tolerance` relative "
        "error of the true d (mean over seeds). (2) digits and MNIST-1D: MLE and TwoNN estimates ≤ ambient/3. "
        "(3) Hunchback: per seed, hump = (largest hidden-layer TwoNN ID) − max(input ID, last hidden-layer ID) "
        "in the trained net; supported if its 95% t-interval over seeds lies above 0, not supported if the mean "
        "is ≤ 0, else inconclusive (the untrained net's hump is reported as the control)."
    )
    Config = IntrinsicDimConfig
    presets: ClassVar[dict] = {
        "smoke": {"manifolds": ("ball5", "swiss_roll"), "methods": ("twonn", "mle", "lpca"), "n_points": 400,
                  "real_data": ("digits",), "layer_model": "mlp", "layer_width": 32, "layer_depth": 3, "train_steps": 100},
        "quick": {},
        "full": {"manifolds": tuple(_MANIFOLDS), "methods": ("twonn", "mle", "lpca", "corrint", "mind_ml", "gride", "danco", "tle", "fishers", "ess"),
                 "n_points": 2500, "mnist1d_samples": 5000, "layer_width": 64, "train_steps": 6000},
    }
    default_seeds: ClassVar[dict] = {"smoke": 1, "quick": 2, "full": 5}
    budget_s = 20.0
    tables = ("manifolds", "data", "layers")
    summary_keys = ("manifold", "method")

    def _est(self, method: str, X: np.ndarray, cfg: IntrinsicDimConfig) -> float:
        k = cfg.mle_ks if method == "mle" else 20
        return IntrinsicDimension(method, k=k).fit(X).dimension_

    def run(self, config: IntrinsicDimConfig, seed: int) -> dict[str, pd.DataFrame]:
        man_rows = []
        for name in config.manifolds:
            if name not in _MANIFOLDS:
                raise ValueError(f"unknown manifold {name!r} (allowed: {', '.join(_MANIFOLDS)})")
            d, D = _MANIFOLDS[name]
            X = _manifold(name, config.n_points, _sub(seed, 0))
            for method in config.methods:
                est = self._est(method, X, config)  # (timings live in benchmarks/dimension.py: tables stay deterministic)
                man_rows.append({"manifold": name, "true_dim": d, "ambient": D, "method": method, "estimate": est,
                                 "rel_error": (est - d) / d})
        data_rows = []
        rng = np.random.default_rng(seed)
        for name in config.real_data:
            ds = load_digits() if name == "digits" else load_mnist1d(n_samples=config.mnist1d_samples)
            X = ds.X_train[rng.choice(len(ds.X_train), min(config.n_points, len(ds.X_train)), replace=False)]
            for method in config.methods:
                data_rows.append({"data": name, "ambient": X.shape[1], "method": method, "estimate": self._est(method, X, config)})
        # layers of a trained net and of the same architecture untrained (the control)
        if config.layer_model == "cnn1d":
            ds = load_mnist1d(n_samples=config.mnist1d_samples)

            def build() -> torch.nn.Module:
                return cnn1d(ds.dim, 10, channels=(config.layer_width,) * 3, seed=_sub(seed, 2))
        else:
            ds = load_digits(seed=_sub(seed, 1))

            def build() -> torch.nn.Module:
                return mlp(ds.dim, [config.layer_width] * config.layer_depth, 10, seed=_sub(seed, 2))
        Xtr = torch.as_tensor(ds.X_train, dtype=torch.float32)
        layer_rows = []
        for state in ("trained", "untrained"):
            net = build()
            if state == "trained":
                train(net, Xtr, torch.as_tensor(ds.y_train), steps=config.train_steps, lr=3e-3, seed=_sub(seed, 3))
            net.eval()
            h = Xtr
            reps = [("input", h)]
            with torch.no_grad():
                for j, m in enumerate(net):
                    h = m(h)
                    if isinstance(m, torch.nn.ReLU) or j == len(net) - 1:
                        reps.append((f"layer{len(reps)}" if j < len(net) - 1 else "logits", h.reshape(len(h), -1)))
            for depth_idx, (lname, r) in enumerate(reps):
                layer_rows.append({"state": state, "layer": lname, "depth_index": depth_idx, "width_units": r.shape[1],
                                   "id_twonn": IntrinsicDimension("twonn").fit(r.double().numpy()).dimension_})
        return {"manifolds": pd.DataFrame(man_rows), "data": pd.DataFrame(data_rows), "layers": pd.DataFrame(layer_rows)}

    def check(self, results: Results) -> Verdict:
        cfg = results.first_config()
        man = results.table("manifolds")
        k = results.n_seeds
        cal = man[(man["true_dim"] <= 10) & man["method"].isin(["twonn", "mle"])]
        per = cal.groupby(["manifold", "method"])["rel_error"].mean().abs()
        worst = float(per.max()) if len(per) else math.nan
        data = results.table("data")
        dd = data[data["method"].isin(["twonn", "mle"])].groupby(["data", "method"]).agg(est=("estimate", "mean"), amb=("ambient", "first"))
        frac = float((dd["est"] / dd["amb"]).max()) if len(dd) else math.nan
        lay = results.table("layers")
        humps = {state: [_hump(g) for _, g in lay[lay["state"] == state].groupby("run_id")] for state in ("trained", "untrained")}
        hm, hlo, hhi, hk = mean_ci(humps["trained"])
        if hk < 2:
            h_status = "inconclusive"
        elif hlo > 0:
            h_status = "supported"
        elif hm <= 0:
            h_status = "not supported"
        else:
            h_status = "inconclusive"
        tr = lay[lay["state"] == "trained"].groupby("depth_index")["id_twonn"].mean()
        checks = [
            Check(statement="TwoNN and MLE recover known d ≤ 10 on benchmark manifolds",
                  quantity="max over (manifold, method) of |relative error| (mean over seeds)", measured=worst,
                  threshold=f"≤ {cfg.tolerance:g}", status="supported" if worst <= cfg.tolerance else "not supported",
                  n=k, reference=0.0, exact=True),
            Check(statement="digits / MNIST-1D intrinsic dimension far below ambient",
                  quantity="max over (data, method) of estimate / ambient", measured=frac, threshold="≤ 1/3",
                  status="supported" if frac <= 1 / 3 else "not supported", n=k, reference=None, exact=False),
            Check(statement=f"hunchback ({cfg.layer_model}): the largest hidden-layer ID exceeds the input's and the last hidden layer's (trained net)",
                  quantity="hump = max hidden ID − max(input ID, last hidden ID)", measured=hm,
                  interval=None if hk < 2 else (hlo, hhi), threshold="> 0 (interval above 0)", status=h_status,
                  n=hk, reference=None, exact=False),
        ]
        ests = {f"{r.data}/{r.method}": round(float(r.est), 2) for r in dd.reset_index().itertuples()}
        return self.verdict(checks, real_data_estimates=ests,
                            trained_layer_ids=[round(float(v), 2) for v in tr],
                            untrained_hump_mean=float(np.mean(humps["untrained"])) if humps["untrained"] else None)

    def figures(self, results: Results) -> dict[str, Figure]:
        man = results.table("manifolds").groupby(["manifold", "method"]).agg(est=("estimate", "mean"), d=("true_dim", "first")).reset_index()
        fig1 = Figure(figsize=(5.5, 3.8))
        ax = fig1.subplots()
        for method, g in man.groupby("method"):
            ax.plot(g["d"], g["est"], "o", alpha=0.7, label=method)
        lim = max(man["d"].max(), man["est"].max()) + 1
        ax.plot([0, lim], [0, lim], ":", color="0.4")
        ax.set_xlabel("true intrinsic dimension")
        ax.set_ylabel("estimate")
        ax.legend(frameon=False, fontsize=7)
        fig1.tight_layout()
        lay = results.table("layers").groupby(["state", "depth_index"]).agg(id=("id_twonn", "mean")).reset_index()
        fig2 = Figure(figsize=(5.5, 3.5))
        ax = fig2.subplots()
        for state, g in lay.groupby("state"):
            ax.plot(g["depth_index"], g["id"], "o-", label=state)
        ax.set_xlabel("layer (0 = input, last = logits)")
        ax.set_ylabel("TwoNN intrinsic dimension")
        ax.legend(frameon=False, fontsize=8)
        fig2.tight_layout()
        return {"Estimators on benchmark manifolds": fig1, "ID across layers (hunchback)": fig2}
