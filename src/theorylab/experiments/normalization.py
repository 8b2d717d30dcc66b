"""Claim F, normalization: exponential learning rates and "LR and initial scale are one knob".

Two experiments on scale-invariant networks (:mod:`theorylab.models.normalized`: BatchNorm with
batch statistics and no affine parameters after every bias-free conv/linear layer, output layer
frozen at init), trained in float64 with one shared batch order per seed:

* ``exp-lr-equivalence`` (Li & Arora, ICLR 2020, Thm 1.1 and 1.2) — SGD with momentum γ,
  weight decay λ and a step-decay LR (η for the first half, η/C after) against SGD with the
  same momentum, no weight decay and the learning rates of
  :func:`~theorylab.models.normalized.exp_lr_schedule`: η̃_t = η·α^{−2t−1} during the constant
  phase (α the root near 1 of x² − (1+γ−λη)x + γ = 0), the tapered exponential (TEXP) after
  the decay. The normalized weights w/‖w‖ of every layer and the logits on held-out inputs must
  agree along the whole trajectory; two controls must depart: the same pair on a net that is
  not scale-invariant (BatchNorm affine and output layer trainable), and the twin run with
  the wrong α (the momentum-free α = 1 − λη used with momentum). Li & Arora also report that
  ‖w̃_t‖²/η̃_t settles to a constant (the effective LR η̃/‖w̃‖² reaches an equilibrium); that
  is checked over the second half of the constant-LR phase.
* ``lr-init-scale`` (Arora, Li & Lyu, ICLR 2019, Lemma 2.4 and §3) — SGD from (c·w₀, c²·η,
  λ/c²) is exactly c times SGD from (w₀, η, λ), with and without weight decay (a control
  without normalization must depart); and the test accuracy reached after a fixed number of
  steps is flat across three decades of LR (0.1–100) for the scale-invariant net, while the
  same net without BatchNorm is not.

Departures from the papers: scikit-learn digits (or MNIST-1D) instead of CIFAR-10, a two-layer
CNN / MLP instead of PreResNet-32, a few hundred steps. ``quick`` uses λ = 1e-2 (the paper:
5e-4) so that the weight norm reaches its equilibrium — relaxation time ≈ (1 − γ)/(4ηλ) = 25
steps — within the run; the paper's λ = 5e-4 (×1.0010053 per step) is ``full``'s, with 6,000
steps. The identity holds for any λ; larger λ makes the test harder (the LR grows ×e^{2.0} per
100 steps instead of ×e^{0.1}).
"""

from __future__ import annotations

import copy
import math
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
from pydantic import Field

from theorylab.engine.checks import Check, interval_check
from theorylab.engine.config import ExperimentConfig
from theorylab.engine.experiment import Experiment
from theorylab.engine.stats import difference_interval, mean_interval
from theorylab.seeding import child_seed

if TYPE_CHECKING:
    import pandas as pd
    import torch
    from matplotlib.figure import Figure
    from torch import nn

    from theorylab.data import Dataset
    from theorylab.engine.results import Results

__all__ = ["ExpLRConfig", "ExpLREquivalence", "LRInitScale", "LRInitScaleConfig"]

# pre-registered thresholds (fixed before any run)
EQUIVALENCE_TOL = 1e-5  # max gap between the twin trajectories (unit-vector distance, relative logits)
RATIO_DRIFT_MAX = 0.25  # |Δ log(‖w̃‖²/η̃)| / Δ log η̃ over the window: the norm absorbs ≥ 75% of the LR growth
IDENTITY_TOL = 1e-9  # max ‖w'_t − c·w_t‖ / (c‖w_t‖) along the trajectory (float64)
FLAT_SPREAD_MAX = 0.05  # max − min test accuracy across the LR grid, scale-invariant net
SPREAD_EFFECT_MIN = 0.25  # control spread − scale-invariant spread
LOGIT_GAP_CAP = 1e3  # a diverged run (inf/nan logits) counts as this gap, so every replicate stays finite

Data = Literal["digits", "mnist1d"]


def _load(name: Data) -> Dataset:
    from theorylab.data import load_digits, load_mnist1d

    return load_digits(seed=0) if name == "digits" else load_mnist1d()


def _train_tensors(name: Data, n_train: int) -> tuple[Dataset, torch.Tensor, torch.Tensor]:
    """The data set, and its first ``n_train`` training examples as float64 inputs and labels."""
    import torch

    ds = _load(name)
    return ds, torch.as_tensor(ds.X_train[:n_train], dtype=torch.float64), torch.as_tensor(ds.y_train[:n_train])


def _batches(n: int, batch_size: int, steps: int, seed: int) -> np.ndarray:
    """(steps, batch) indices: a fresh permutation each epoch, as ``theorylab.models.train`` draws them."""
    from theorylab.seeding import rng

    g = rng(seed)
    bs = min(batch_size, n)
    out = np.empty((steps, bs), dtype=np.int64)
    perm, pos = g.permutation(n), 0
    for t in range(steps):
        if pos + bs > n:
            perm, pos = g.permutation(n), 0
        out[t] = perm[pos : pos + bs]
        pos += bs
    return out


def sgd_run(net: nn.Module, X: torch.Tensor, y: torch.Tensor, batches: np.ndarray, lrs: np.ndarray, *,
            weight_decay: float, momentum: float, initial_buffer: float = 0.0, record_every: int,
            X_eval: torch.Tensor) -> list[dict[str, Any]]:
    """PyTorch SGD (buffer b ← γb + ∇L + λw, w ← w − η_t b) on cross-entropy with per-step LRs.

    The momentum buffer starts at ``initial_buffer``·w₀ (0: from rest). Returns records at
    steps 0, ``record_every``, ..., T: the trainable tensors, the logits on ``X_eval`` and the
    step's batch loss.
    """
    import torch

    params = [p for p in net.parameters() if p.requires_grad]
    opt = torch.optim.SGD(params, lr=float(lrs[0]), momentum=momentum, weight_decay=weight_decay)
    if momentum > 0 and initial_buffer != 0.0:
        for p in params:
            opt.state[p]["momentum_buffer"] = initial_buffer * p.detach().clone()
    T = len(lrs)
    net.train()
    records: list[dict[str, Any]] = []
    loss = math.nan
    for t in range(T + 1):
        if t % record_every == 0 or t == T:
            with torch.no_grad():
                records.append({"step": t, "params": [p.detach().clone() for p in params],
                                "logits": net(X_eval).detach(), "loss": loss})
        if t == T:
            break
        for group in opt.param_groups:
            group["lr"] = float(lrs[t])
        idx = torch.as_tensor(batches[t])
        opt.zero_grad(set_to_none=True)
        batch_loss = torch.nn.functional.cross_entropy(net(X[idx]), y[idx])
        batch_loss.backward()
        opt.step()
        loss = float(batch_loss.detach())
    return records


def _direction_gap(a: list[torch.Tensor], b: list[torch.Tensor]) -> float:
    """max over layers of ‖a/‖a‖ − b/‖b‖‖ (distance of unit vectors, ≤ 2)."""
    gaps = [float((x / x.norm() - z / z.norm()).norm()) for x, z in zip(a, b, strict=True)]
    g = max(gaps)
    return g if math.isfinite(g) else 2.0


def _logit_gap(a: torch.Tensor, b: torch.Tensor) -> float:
    """max|a − b| / max|a| on the evaluation inputs, capped (a diverged run gives the cap)."""
    g = float((a - b).abs().max() / a.abs().max())
    return min(g, LOGIT_GAP_CAP) if math.isfinite(g) else LOGIT_GAP_CAP


def _log10_interval(values: Any) -> Any:
    return mean_interval(np.log10(np.maximum(np.asarray(values, dtype=float), 1e-300)))


# -- exp-lr-equivalence --------------------------------------------------------------------------
class ExpLRConfig(ExperimentConfig):
    data: Data = Field("digits", description="dataset: scikit-learn digits (8×8) or MNIST-1D (generated offline)")
    n_train: int = Field(1000, ge=64, le=100_000, description="training examples (count)")
    n_eval: int = Field(256, ge=16, le=10_000, description="held-out inputs on which logits are compared (count)")
    channels: tuple[int, ...] = Field((8, 16), min_length=1, max_length=6,
                                      description="conv channels per block (count)")
    steps: int = Field(400, ge=20, le=1_000_000, description="SGD steps in all (the LR decays at half)")
    batch_size: int = Field(32, ge=1, le=4096, description="examples per step")
    lr: float = Field(0.1, gt=0, le=10, description="learning rate η of the weight-decay run (constant phase)")
    weight_decay: float = Field(1e-2, gt=0, le=0.1, description="weight decay λ of the weight-decay run")
    momentum: float = Field(0.9, ge=0, lt=1, description="momentum γ of both runs")
    decay_factor: float = Field(10.0, ge=1, le=1000, description="step decay: the LR is divided by this at half")
    record_every: int = Field(10, ge=1, le=100_000, description="steps between recorded states")


class ExpLREquivalence(Experiment):
    name = "exp-lr-equivalence"
    kind = "claim"
    claim = (
        "For a scale-invariant loss, SGD with LR η, weight decay λ and momentum γ is the same "
        "trajectory in function space as SGD with momentum γ, no weight decay and the exponentially "
        "growing LR η̃_t = η·α^{−2t−1} (α the root near 1 of x² − (1+γ−λη)x + γ = 0); a step decay "
        "maps to a tapered exponential schedule (TEXP); and ‖w̃_t‖²/η̃_t settles to a constant."
    )
    source = (
        "Li & Arora 2020, 'An exponential learning rate schedule for deep learning', ICLR, "
        "arXiv 1910.07454, Theorems 1.1 and 1.2, Fig. 2"
    )
    check_statement = (
        "Over 5 seeds (same init and batch order for both runs of a pair), log10 of the largest "
        "gap along the trajectory — max over layers of ‖w/‖w‖ − w̃/‖w̃‖‖ and max|z − z̃|/max|z| of the "
        "logits on held-out inputs — (1) in the constant-LR phase and (2) after the step decay "
        "(TEXP) must be below log10(1e-5); two controls must exceed it (the check can fail): "
        "(3) the same pair on a net with trainable BatchNorm affine and output layers, (4) the "
        "twin run with the momentum-free α = 1 − λη. (5) Over the second half of the constant "
        "phase, |Δ log(‖w̃‖²/η̃)| / Δ log η̃ (mean over layers) must be below 0.25: the squared "
        "norm absorbs ≥ 75% of the LR growth (a norm that did not adapt gives 1)."
    )
    Config = ExpLRConfig
    presets: ClassVar[dict] = {
        "smoke": {"steps": 60, "n_train": 256, "n_eval": 64, "channels": (4, 8), "record_every": 5},
        "quick": {},
        "full": {"steps": 6000, "weight_decay": 5e-4, "n_train": 1347, "channels": (16, 32, 32),
                 "batch_size": 128, "record_every": 50},
    }
    default_seeds: ClassVar[dict] = {"smoke": 2, "quick": 5, "full": 5}
    budget_s = 8.0
    tables = ("gaps", "norms")
    summary_keys = ("pair", "phase")

    def run(self, config: ExpLRConfig, seed: int) -> dict[str, pd.DataFrame]:
        import pandas as pd
        import torch

        from theorylab.models.normalized import exp_lr_schedule, normalized_cnn

        ds, X, y = _train_tensors(config.data, config.n_train)
        Xe = torch.as_tensor(ds.X_test[: config.n_eval], dtype=torch.float64)
        T, half = config.steps, config.steps // 2
        lrs = np.where(np.arange(T) < half, config.lr, config.lr / config.decay_factor)
        lam, gam = config.weight_decay, config.momentum
        twin = exp_lr_schedule(lrs, lam, gam)
        wrong = exp_lr_schedule(lrs, lam, 0.0)  # α = 1 − λη, ignoring momentum
        batches = _batches(len(X), config.batch_size, T, child_seed(seed, 1))
        init_seed = child_seed(seed, 2)

        def build(invariant: bool) -> nn.Module:
            return normalized_cnn(ds.image_shape, ds.n_classes, channels=config.channels, seed=init_seed,
                                  affine=not invariant, freeze_last=invariant)

        kw = {"record_every": config.record_every, "X_eval": Xe, "momentum": gam}
        net = build(True)
        wd = sgd_run(copy.deepcopy(net), X, y, batches, lrs, weight_decay=lam, **kw)
        ex = sgd_run(copy.deepcopy(net), X, y, batches, twin.lrs, weight_decay=0.0,
                     initial_buffer=twin.initial_buffer, **kw)
        bad = sgd_run(copy.deepcopy(net), X, y, batches, wrong.lrs, weight_decay=0.0, **kw)
        ctrl = build(False)
        c_wd = sgd_run(copy.deepcopy(ctrl), X, y, batches, lrs, weight_decay=lam, **kw)
        c_ex = sgd_run(copy.deepcopy(ctrl), X, y, batches, twin.lrs, weight_decay=0.0,
                       initial_buffer=twin.initial_buffer, **kw)

        rows = []
        for pair, (ra, rb) in {"exp-lr": (wd, ex), "control: not scale-invariant": (c_wd, c_ex),
                               "control: wrong alpha": (wd, bad)}.items():
            for a, b in zip(ra, rb, strict=True):
                t = a["step"]
                rows.append({"pair": pair, "step": t, "phase": "constant" if t <= half else "after decay",
                             "weight_gap": _direction_gap(a["params"], b["params"]),
                             "logit_gap": _logit_gap(a["logits"], b["logits"]),
                             "loss_wd": a["loss"], "loss_twin": b["loss"]})
        norm_rows = []
        for a, b in zip(wd, ex, strict=True):
            t = a["step"]
            if t >= T:
                continue
            for i, (pa, pb) in enumerate(zip(a["params"], b["params"], strict=True)):
                n2 = float(pb.pow(2).sum())
                norm_rows.append({"step": t, "layer": i, "norm2_wd": float(pa.pow(2).sum()), "norm2_twin": n2,
                                  "lr_twin": float(twin.lrs[t]), "scale": float(twin.scale[t]),
                                  "ratio": n2 / float(twin.lrs[t])})
        return {"gaps": pd.DataFrame(rows), "norms": pd.DataFrame(norm_rows)}

    @staticmethod
    def max_gaps(results: Results) -> pd.DataFrame:
        """Per seed, pair and phase: the largest of the weight and logit gaps along the trajectory."""
        g = results.table("gaps").copy()
        g["gap"] = g[["weight_gap", "logit_gap"]].max(axis=1)
        return g.groupby(["seed", "pair", "phase"], as_index=False)["gap"].max()

    @staticmethod
    def ratio_drift(results: Results) -> pd.DataFrame:
        """Per seed: |Δ log(‖w̃‖²/η̃)| / Δ log η̃ over [T/4, T/2) (second half of the constant phase)."""
        import pandas as pd

        nm = results.table("norms")
        rows = []
        for seed, g in nm.groupby("seed"):
            steps = int(g["steps"].iloc[0])
            win = g[(g.step >= steps // 4) & (g.step < steps // 2)]
            if win.step.nunique() < 2:
                continue
            first, last = win.step.min(), win.step.max()
            a, b = win[win.step == first].set_index("layer"), win[win.step == last].set_index("layer")
            growth = float(np.log(b.lr_twin.iloc[0] / a.lr_twin.iloc[0]))
            drift = np.abs(np.log(b.ratio / a.ratio)) / growth
            rows.append({"seed": seed, "drift": float(drift.mean()), "lr_growth_log": growth})
        return pd.DataFrame(rows)

    def check_point(self, results: Results) -> list[Check]:
        mg = self.max_gaps(results)
        bound = math.log10(EQUIVALENCE_TOL)

        def gaps(pair: str, phase: str | None = None) -> np.ndarray:
            sel = mg[mg.pair == pair]
            if phase is not None:
                sel = sel[sel.phase == phase]
            return sel.groupby("seed")["gap"].max().to_numpy()

        stat = "log10 of the largest gap along the trajectory (unit-vector distance / relative logit gap)"
        checks = [
            interval_check("constant LR: SGD + weight decay + momentum and its exponential-LR twin "
                           "are the same trajectory", stat, _log10_interval(gaps("exp-lr", "constant")),
                           below=bound, effect="agreement to 1e-5 along the whole constant phase",
                           reference=bound, reference_source="Li & Arora 2020, Thm 1.1 (exact identity)"),
            interval_check("step decay: the weight-decay run and its TEXP twin stay the same trajectory",
                           stat, _log10_interval(gaps("exp-lr", "after decay")), below=bound,
                           effect="agreement to 1e-5 after the LR decay", reference=bound,
                           reference_source="Li & Arora 2020, Thm 1.2 (exact identity)"),
            interval_check("control: on a net that is not scale-invariant (BatchNorm affine and output "
                           "layer trainable) the same pair departs", stat,
                           _log10_interval(gaps("control: not scale-invariant")), above=bound,
                           effect="gap above the 1e-5 tolerance: the equivalence check can fail"),
            interval_check("control: the twin with the momentum-free α = 1 − λη departs", stat,
                           _log10_interval(gaps("control: wrong alpha")), above=bound,
                           effect="gap above the 1e-5 tolerance: the α of the theorem matters"),
        ]
        rd = self.ratio_drift(results)
        checks.append(interval_check(
            "‖w̃_t‖²/η̃_t settles to a constant (equilibrium of the effective LR)",
            "|Δ log(‖w̃‖²/η̃)| / Δ log η̃ over the 2nd half of the constant phase, mean over layers",
            mean_interval(rd["drift"].to_numpy() if len(rd) else []), below=RATIO_DRIFT_MAX,
            effect="the norm absorbs ≥ 75% of the LR growth; a norm that did not adapt gives 1"))
        return checks

    def evidence(self, results: Results) -> dict[str, Any]:
        from theorylab.models.normalized import exp_lr_rate

        mg = self.max_gaps(results)
        med = mg.groupby(["pair", "phase"])["gap"].max()
        a = exp_lr_rate(0.1, 5e-4, 0.9)
        return {
            "max_gap_by_pair_phase": {f"{p} / {ph}": float(f"{v:.3g}") for (p, ph), v in med.items()},
            "alpha_paper_setting": round(a, 8),  # λ=5e-4, η=0.1, γ=0.9: 0.99949773 (Li & Arora)
            "lr_factor_per_step_paper_setting": round(a**-2, 7),  # 1.0010053
            "lr_factor_per_epoch_391_steps": round(a ** (-2 * 391), 4),  # 1.4812
        }

    def figures(self, results: Results) -> dict[str, Figure]:
        from matplotlib.figure import Figure

        g = results.table("gaps").copy()
        g["gap"] = g[["weight_gap", "logit_gap"]].max(axis=1).clip(lower=1e-17)
        fig1 = Figure(figsize=(6.4, 4.2))
        ax = fig1.subplots()
        for i, (pair, q) in enumerate(g.groupby("pair", sort=False)):
            agg = q.groupby("step")["gap"].max()
            ax.semilogy(agg.index, agg.to_numpy(), "-", color=f"C{i}", label=f"{pair} (max over seeds)")
        ax.axhline(EQUIVALENCE_TOL, color="k", ls="--", lw=1, label="tolerance 1e-5")
        half = int(g["steps"].iloc[0]) // 2
        ax.axvline(half, color="0.6", ls=":", lw=1, label="LR step decay")
        ax.set_xlabel("SGD step")
        ax.set_ylabel("gap between the twin runs (unit-vector / relative logit)")
        ax.legend(frameon=False, fontsize=8)
        fig1.tight_layout()

        nm = results.table("norms")
        fig2 = Figure(figsize=(6.4, 4.2))
        ax = fig2.subplots()
        for layer, q in nm.groupby("layer"):
            agg = q.groupby("step")[["ratio", "lr_twin"]].mean()
            ax.semilogy(agg.index, agg["ratio"] / agg["ratio"].iloc[0], "-", color=f"C{layer}",
                        label=f"‖w̃‖²/η̃, layer {layer} (÷ value at step 0)")
        agg = nm.groupby("step")["lr_twin"].mean()
        ax.semilogy(agg.index, agg / agg.iloc[0], "k--", lw=1, label="η̃_t (÷ η̃_0)")
        ax.set_xlabel("SGD step")
        ax.set_ylabel("relative to step 0 (mean over seeds)")
        ax.legend(frameon=False, fontsize=8)
        fig2.tight_layout()
        return {"Weight decay vs exponential LR: gap between twin runs": fig1,
                "Squared weight norm over the exponential LR": fig2}


# -- lr-init-scale -------------------------------------------------------------------------------
class LRInitScaleConfig(ExperimentConfig):
    data: Data = Field("digits", description="dataset: scikit-learn digits (8×8) or MNIST-1D (generated offline)")
    n_train: int = Field(1347, ge=64, le=100_000, description="training examples (count)")
    widths: tuple[int, ...] = Field((64, 64), min_length=1, max_length=6, description="hidden widths of the MLP")
    steps: int = Field(300, ge=10, le=1_000_000, description="SGD steps per run")
    batch_size: int = Field(32, ge=1, le=4096, description="examples per step")
    lr: float = Field(0.5, gt=0, le=100, description="learning rate η of the identity runs")
    scale: float = Field(10.0, gt=0, le=1e3, description="factor c of the rescaled start c·w₀ (with LR c²η)")
    weight_decay: float = Field(1e-3, gt=0, le=0.1, description="weight decay λ of the identity runs with decay")
    momentum: float = Field(0.0, ge=0, lt=1, description="momentum of every run")
    lr_grid: tuple[float, ...] = Field((0.1, 1.0, 10.0, 100.0), min_length=2,
                                       description="learning rates for the flatness sweep (three decades)")
    record_every: int = Field(10, ge=1, le=100_000, description="steps between recorded states")


class LRInitScale(Experiment):
    name = "lr-init-scale"
    kind = "claim"
    claim = (
        "With a scale-invariant loss, the learning rate and the initial scale are one knob: SGD "
        "from (c·w₀, c²·η, λ/c²) is exactly c times the trajectory from (w₀, η, λ), and a wide "
        "range of learning rates for the scale-invariant weights converges, because ‖w‖ adapts "
        "the effective LR η/‖w‖² (auto rate-tuning); a net without normalization has no such range."
    )
    source = (
        "Arora, Li & Lyu 2019, 'Theoretical analysis of auto rate-tuning by batch normalization', "
        "ICLR, arXiv 1812.03981, Lemma 2.4 and Theorem 4.2"
    )
    check_statement = (
        "Over 5 seeds: log10 of the largest ‖w'_t − c·w_t‖/(c‖w_t‖) along the run (c = 10) must be "
        "below log10(1e-9) (1) without and (2) with weight decay (λ/c² for the rescaled run), and "
        "(3) above it for the same rescaling of the net without BatchNorm (the check can fail). "
        "Across the LR grid 0.1–100: (4) the spread (max − min) of test accuracy of the "
        "scale-invariant net must be below 0.05, and (5) the spread of the same net without "
        "BatchNorm minus it (paired over seeds) must exceed 0.25."
    )
    Config = LRInitScaleConfig
    presets: ClassVar[dict] = {
        "smoke": {"steps": 40, "n_train": 256, "widths": (16, 16), "lr_grid": (0.1, 10.0), "record_every": 5},
        "quick": {},
        "full": {"steps": 3000, "widths": (256, 256), "lr_grid": (0.01, 0.1, 1.0, 10.0, 100.0)},
    }
    default_seeds: ClassVar[dict] = {"smoke": 2, "quick": 5, "full": 5}
    budget_s = 6.0
    tables = ("identity", "lr_sweep")
    summary_keys = ("case", "net", "learning_rate")

    def run(self, config: LRInitScaleConfig, seed: int) -> dict[str, pd.DataFrame]:
        import pandas as pd
        import torch

        from theorylab.models.normalized import normalized_mlp

        ds, X, y = _train_tensors(config.data, config.n_train)
        Xt = torch.as_tensor(ds.X_test, dtype=torch.float64)
        yt = torch.as_tensor(ds.y_test)
        T, c = config.steps, config.scale
        batches = _batches(len(X), config.batch_size, T, child_seed(seed, 1))
        init_seed = child_seed(seed, 2)

        def build(norm: Literal["batch", "none"]) -> nn.Module:
            return normalized_mlp(ds.dim, config.widths, ds.n_classes, seed=init_seed, norm=norm)

        def scaled(net: nn.Module) -> nn.Module:
            out = copy.deepcopy(net)
            with torch.no_grad():
                for p in out.parameters():
                    if p.requires_grad:
                        p.mul_(c)
            return out

        kw = {"record_every": config.record_every, "X_eval": Xt[:256], "momentum": config.momentum}
        rows = []
        for case, norm, lam in (("no weight decay", "batch", 0.0), ("weight decay", "batch", config.weight_decay),
                                ("control: no BatchNorm", "none", 0.0)):
            net = build(norm)  # type: ignore[arg-type]
            base = sgd_run(copy.deepcopy(net), X, y, batches, np.full(T, config.lr), weight_decay=lam, **kw)
            big = sgd_run(scaled(net), X, y, batches, np.full(T, c * c * config.lr), weight_decay=lam / c**2, **kw)
            for a, b in zip(base, big, strict=True):
                gaps = [float((pb - c * pa).norm() / (c * pa.norm())) for pa, pb in zip(a["params"], b["params"], strict=True)]
                gap = max(gaps)
                rows.append({"case": case, "step": a["step"], "gap": gap if math.isfinite(gap) else LOGIT_GAP_CAP})

        sweep = []
        for norm in ("batch", "none"):
            for lr in config.lr_grid:
                net = build(norm)  # type: ignore[arg-type]
                rec = sgd_run(net, X, y, batches, np.full(T, lr), weight_decay=0.0, record_every=T, X_eval=Xt,
                              momentum=config.momentum)[-1]
                z = rec["logits"]
                ok = torch.isfinite(z).all(dim=1)  # a diverged run's predictions count as wrong
                acc = float(((z.argmax(dim=1) == yt) & ok).double().mean())
                sweep.append({"net": "scale-invariant" if norm == "batch" else "no BatchNorm", "learning_rate": lr,
                              "test_accuracy": acc, "last_batch_loss": rec["loss"],
                              "weight_norm": float(torch.sqrt(sum(p.pow(2).sum() for p in rec["params"])))})
        return {"identity": pd.DataFrame(rows), "lr_sweep": pd.DataFrame(sweep)}

    @staticmethod
    def spreads(results: Results) -> pd.DataFrame:
        """Per seed and net: max − min test accuracy across the LR grid."""
        sw = results.table("lr_sweep")
        s = sw.groupby(["seed", "net"])["test_accuracy"].agg(lambda a: float(a.max() - a.min()))
        return s.unstack("net")

    def check_point(self, results: Results) -> list[Check]:
        idt = results.table("identity")
        per = idt.groupby(["case", "seed"])["gap"].max()
        bound = math.log10(IDENTITY_TOL)
        stat = "log10 max_t ‖w'_t − c·w_t‖ / (c‖w_t‖)"

        def est(case: str) -> Any:
            return _log10_interval(per.loc[case].to_numpy() if case in per.index.get_level_values(0) else [])

        checks = [
            interval_check("(c·w₀, c²η) gives exactly c × the trajectory of (w₀, η), no weight decay", stat,
                           est("no weight decay"), below=bound, effect="agreement to 1e-9 (float64)",
                           reference=bound, reference_source="Arora, Li & Lyu 2019, Lemma 2.4 (exact identity)"),
            interval_check("(c·w₀, c²η, λ/c²) gives exactly c × the trajectory of (w₀, η, λ)", stat,
                           est("weight decay"), below=bound, effect="agreement to 1e-9 (float64)",
                           reference=bound, reference_source="Arora, Li & Lyu 2019, Lemma 2.4 (exact identity)"),
            interval_check("control: without BatchNorm the same rescaling departs", stat,
                           est("control: no BatchNorm"), above=bound,
                           effect="gap above the 1e-9 tolerance: the identity check can fail"),
        ]
        sp = self.spreads(results)
        inv = sp["scale-invariant"].to_numpy() if "scale-invariant" in sp else np.array([])
        ctl = sp["no BatchNorm"].to_numpy() if "no BatchNorm" in sp else np.array([])
        checks.append(interval_check(
            "the scale-invariant net reaches the same test accuracy across the LR grid",
            "max − min test accuracy across the LR grid (fraction)", mean_interval(inv, bounds=(0, 1)),
            below=FLAT_SPREAD_MAX, effect="within 5 accuracy points across the grid"))
        checks.append(interval_check(
            "a net without BatchNorm is not flat across the same LR grid",
            "spread without BatchNorm − spread of the scale-invariant net (accuracy, paired by seed)",
            difference_interval(ctl, inv), above=SPREAD_EFFECT_MIN,
            effect="≥ 25 accuracy points more spread than the scale-invariant net (the control)"))
        return checks

    def evidence(self, results: Results) -> dict[str, Any]:
        sw = results.table("lr_sweep")
        acc = sw.groupby(["net", "learning_rate"])["test_accuracy"].mean()
        return {"mean_test_accuracy": {f"{n} @ lr={lr:g}": round(float(v), 4) for (n, lr), v in acc.items()},
                "max_identity_gap": {k: float(f"{v:.3g}") for k, v in
                                     results.table("identity").groupby("case")["gap"].max().items()}}

    def figures(self, results: Results) -> dict[str, Figure]:
        from matplotlib.figure import Figure

        sw = results.table("lr_sweep")
        fig1 = Figure(figsize=(6.4, 4.2))
        ax = fig1.subplots()
        for i, (net, q) in enumerate(sw.groupby("net")):
            agg = q.groupby("learning_rate")["test_accuracy"].agg(["mean", "std"])
            ax.errorbar(agg.index, agg["mean"], yerr=agg["std"].fillna(0), fmt="o-", color=f"C{i}", label=net)
        ax.set_xscale("log")
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("learning rate η (constant)")
        ax.set_ylabel("test accuracy after the run (fraction; mean ± sd over seeds)")
        ax.legend(frameon=False)
        fig1.tight_layout()

        idt = results.table("identity")
        fig2 = Figure(figsize=(6.4, 4.2))
        ax = fig2.subplots()
        for i, (case, q) in enumerate(idt.groupby("case", sort=False)):
            agg = q.groupby("step")["gap"].max().clip(lower=1e-17)
            ax.semilogy(agg.index, agg.to_numpy(), "-", color=f"C{i}", label=f"{case} (max over seeds)")
        ax.axhline(IDENTITY_TOL, color="k", ls="--", lw=1, label="tolerance 1e-9")
        ax.set_xlabel("SGD step")
        ax.set_ylabel("‖w'_t − c·w_t‖ / (c‖w_t‖)")
        ax.legend(frameon=False, fontsize=8)
        fig2.tight_layout()
        return {"Accuracy across learning rates": fig1, "Rescaled start vs rescaled trajectory": fig2}
