"""Claim E: the spline geometry of ReLU networks, measured exactly.

Three experiments on the exact region probes of :mod:`theorylab.probes.regions`:

* ``regions-per-neuron`` — along a segment, a He-initialised ReLU net changes activation
  pattern about θ/π ≈ 1/2 times per neuron (θ the angle the segment subtends at the origin,
  ≈ 90° for two random points in d = 784), so the count grows linearly in the number of
  neurons N and not exponentially in depth; training leaves it of the same order
  (Hanin & Rolnick 2019a).
* ``regions-2d-slice`` — regions per unit AREA of a 2-D slice through three training points
  against Hanin & Rolnick's (T·N)²/2! (2019b), with T·N measured on the same slice as the
  region-boundary length per unit area; at init and after training to ≥ 99 % train accuracy,
  with and without label corruption.
* ``local-complexity-dynamics`` — local complexity (neurons whose sign changes over a small
  cross-polytope) around training points rises, peaks strictly inside the run and falls, and
  PGD-robust accuracy rises after the peak ("delayed robustness"; Humayun, Balestriero &
  Baraniuk 2024).

Where the numbers come from. θ/π per neuron is derived, not published: a first-layer neuron
with (near-)zero bias is a hyperplane through the origin, crossed by the segment x₀ → x₁ with
probability θ/π; a deeper neuron's pre-activation, as a function of the angle, is (wide limit)
a Gaussian process with the iterated arc-cosine correlation (Cho & Saul 2009), whose
curvature at 0 is the same at every layer, so Kac–Rice gives θ/π per neuron at every depth.
The lab's sanity numbers ([32]×3: ~51 regions, [64]×3: ~96, [128]×3: ~179, [64]×6: ~207 in
d = 784; ``shared/references/geometry_trajectories.md`` §A3) are tagged there as the lab's own
computation [D], not Hanin & Rolnick's figures, so they are quoted as a sanity anchor, never as
a reference. Hanin & Rolnick 2019b state the per-unit-volume count as ≤ (T·#neurons)^{n_in}
/ n_in! with T a gradient-norm × bias-density constant, and report it tight; the published
anchor "96²/2! = 4608 regions" (depth 3 × width 32 on MNIST) is a raw count for their slice,
whose size we do not know, so it is shown as evidence beside our area-normalised check.

Departures from the papers: scikit-learn digits (8×8, 64-d) or MNIST-1D (40-d) stand in for
MNIST unless the user points ``data_root`` at MNIST's IDX files (``data="mnist"``); smaller
nets and runs in ``quick``. The ``quick`` local-complexity run keeps the paper's AdamW + MSE
recipe but raises the learning rate and weight decay (lr 1e-2, wd 0.3, 4,000 steps: a
decoupled-decay exponent lr·wd·steps = 12, against the paper's 1e-3 · 0.01 · 10⁶ = 10), so the
slow weight-decay phase fits in seconds; ``full`` uses the paper's recipe (width 200, three
hidden layers = the repository's MNIST "depth 4", lr 1e-3, wd 0.01, 10⁵ steps).
Region counts are exact (float64 walks and polygon splitting), not sampled.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
from pydantic import Field, field_validator, model_validator

from theorylab.engine.checks import Check, interval_check, worst_of
from theorylab.engine.config import ExperimentConfig
from theorylab.engine.experiment import Experiment
from theorylab.engine.stats import Estimate, mean_interval, ratio_interval, slope_interval
from theorylab.seeding import child_seed
from theorylab.seeding import rng as child_rng

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure
    from torch import nn

    from theorylab.data.datasets import Dataset
    from theorylab.engine.results import Results

__all__ = [
    "LCDynamicsConfig",
    "LocalComplexityDynamics",
    "Regions2DConfig",
    "Regions2DSlice",
    "RegionsPerNeuron",
    "RegionsPerNeuronConfig",
]

DataName = Literal["digits", "mnist1d", "mnist"]
MAX_WIDTH, MAX_DEPTH = 4096, 64  # neurons per layer, hidden layers: bounds on user sizes


def _sizes(values: tuple[int, ...], hi: int, what: str) -> tuple[int, ...]:
    """Refuse sizes outside [1, hi] before any work (a width of 0 or 10⁶ is a typo)."""
    bad = [v for v in values if not 1 <= v <= hi]
    if bad:
        raise ValueError(f"{what} must lie in [1, {hi}], got {bad}")
    return values


# -- shared helpers -----------------------------------------------------------------------------
class _DataConfig(ExperimentConfig):
    """The data-set choice every claim-E experiment shares."""

    data: DataName = Field("digits", description="data set: digits (8×8, built in), mnist1d (built in) or mnist")
    data_root: str | None = Field(None, description="directory holding MNIST's IDX files (needed for data='mnist')")

    @model_validator(mode="after")
    def _mnist_needs_files(self) -> _DataConfig:
        if self.data == "mnist" and not self.data_root:
            raise ValueError("data='mnist' needs data_root (a directory with MNIST's IDX files; nothing is downloaded)")
        return self


def _data(config: _DataConfig, n_train: int, *, unit_range: bool = False) -> Dataset:
    """The configured data set, first ``n_train`` training examples (fixed, shuffled split).

    ``unit_range`` rescales MNIST-1D (which is not in [0, 1]) by the training set's min and
    max, and clips the test set to [0, 1], so that an L∞ attack radius means what it means on
    pixels; digits and MNIST are already in [0, 1].
    """
    from dataclasses import replace

    from theorylab.data.datasets import load_dataset

    ds = load_dataset(config.data, root=config.data_root).subset(n_train=n_train)
    if unit_range and config.data == "mnist1d":
        lo, hi = float(ds.X_train.min()), float(ds.X_train.max())
        ds = replace(ds, X_train=(ds.X_train - lo) / (hi - lo),
                     X_test=np.clip((ds.X_test - lo) / (hi - lo), 0.0, 1.0))
    return ds


def _train_with_checkpoints(model: nn.Module, X: np.ndarray, y: np.ndarray, marks: list[int], measure, **kw) -> None:
    """Train ``model`` once, calling ``measure(step)`` at every step in ``marks`` (0 included).

    One optimiser for the whole run (checkpoints must not reset Adam's moments): the training
    loop evaluates every gcd(marks) steps and ``measure`` is called at the marked ones.
    """
    from theorylab.models.train import train

    if 0 in marks:
        measure(0)
    pos = sorted(m for m in set(marks) if m > 0)
    if not pos:
        return

    def cb(step: int, _model: nn.Module) -> None:
        if step in pos:
            measure(step)

    train(model, X, y, steps=pos[-1], eval_every=math.gcd(*pos), callback=cb, **kw)


def _nothing(statement: str, statistic: str, why: str, **side: Any) -> Check:
    """An inconclusive check for a family with no member to test (e.g. a single depth)."""
    est = Estimate(math.nan, math.nan, math.nan, 0)
    return interval_check(statement, statistic, est, **side).model_copy(update={"decide": why})


def _by_seed(df: pd.DataFrame, value: str) -> pd.Series:
    return df.groupby("seed")[value].mean()


# =============================================================================================
# 1. regions-per-neuron
# =============================================================================================
PER_NEURON_TOLERANCE = 0.1  # crossings per neuron: θ/π ± 0.1 (see RegionsPerNeuron.check_statement)
SLOPE_BAND = (0.9, 1.1)  # log-log slope of crossings vs N: linear
DEPTH_FACTOR_MAX = 1.1  # crossings per neuron may grow by < 10 % per added layer
TRAINED_BAND = (0.5, 2.0)  # crossings per neuron, trained / init: same order (factor 2)


class RegionsPerNeuronConfig(_DataConfig):
    widths: tuple[int, ...] = Field((32, 64, 128), min_length=1, description="hidden widths w (neurons per layer)")
    depths: tuple[int, ...] = Field((1, 3, 6), min_length=1,
                                    description="hidden-layer counts L; nets are [w]×L for every (w, L)")
    random_dim: int = Field(784, ge=2, le=100_000, description="input dimension of the random-segment nets (MNIST's 784)")
    n_segments: int = Field(10, ge=2, le=100_000, description="segments per architecture and kind (count)")
    bias_std: float = Field(1e-3, ge=0, le=10, description="std of the N(0, bias_std²) biases at init (H&R: variance 1e-6)")
    n_train: int = Field(1000, ge=10, le=70_000, description="training examples for the trained nets (count)")
    train_steps: int = Field(500, ge=1, le=10_000_000, description="Adam steps of the trained nets")
    lr: float = Field(1e-3, gt=0, le=1, description="Adam learning rate (H&R: 1e-3)")
    batch_size: int = Field(128, ge=1, le=100_000, description="examples per step")

    _widths = field_validator("widths")(lambda v: _sizes(v, MAX_WIDTH, "widths"))
    _depths = field_validator("depths")(lambda v: _sizes(v, MAX_DEPTH, "depths"))


class RegionsPerNeuron(Experiment):
    name = "regions-per-neuron"
    kind = "claim"
    claim = (
        "The number of linear regions a ReLU network meets along a 1-D segment grows linearly in "
        "the total number of neurons N, not exponentially in depth: at He init with tiny biases "
        "about θ/π ≈ 0.5 pattern changes per neuron for random segments in d = 784; after training "
        "it stays of the same order."
    )
    source = (
        "Hanin & Rolnick 2019, 'Complexity of linear regions in deep networks', ICML, "
        "arXiv 1901.09021 (Thm. 1, Figs. 3–4); θ/π derived (module docstring)"
    )
    check_statement = (
        "Exact segment walks, replicates = seeds, every architecture [w]×L of the sweep. "
        "(1) Random Gaussian segments at He init (biases N(0, bias_std²)): pattern changes per "
        "neuron, (regions − 1)/N, within θ/π ± 0.1 at EVERY architecture (θ/π from the sampled "
        "segments, ≈ 0.5 in d = 784; ± 0.1 covers the finite-width spread of the lab's own sanity "
        "numbers, 0.47–0.54, and excludes the ≥ 1.5× per-neuron excess an exponential depth "
        "dependence would give over these depths). (2) Linear in N: the log–log slope of "
        "(regions − 1) vs N over all architectures, per seed, within [0.9, 1.1]. (3) Not "
        "exponential in depth: at every width with ≥ 2 depths, the per-layer growth factor "
        "exp(d log(crossings/N) / dL) below 1.1 (exponential growth means a factor ≥ 2 per layer). "
        "(4) Training (Adam, the data set's training pairs as segments): crossings per neuron "
        "trained / init (paired geometric mean over seeds) within [1/2, 2] at every architecture."
    )
    Config = RegionsPerNeuronConfig
    presets: ClassVar[dict] = {
        "smoke": {"widths": (8, 16), "depths": (1, 2), "random_dim": 64, "n_segments": 3, "n_train": 200,
                  "train_steps": 20},
        "quick": {},
        "full": {"widths": (32, 64, 128, 256), "depths": (1, 2, 4, 6), "n_segments": 50,
                 "n_train": 4000, "data": "mnist1d", "train_steps": 5000},
    }
    default_seeds: ClassVar[dict] = {"smoke": 2, "quick": 5, "full": 5}
    budget_s = 9.0
    tables = ("segments", "training")
    summary_keys = ("kind", "phase", "width", "depth")

    def run(self, config: RegionsPerNeuronConfig, seed: int) -> dict[str, pd.DataFrame]:
        import pandas as pd

        from theorylab.models.builders import mlp
        from theorylab.models.train import accuracy
        from theorylab.probes.regions import regions_on_segments

        ds = _data(config, config.n_train)
        rows, trows = [], []
        for a, (w, L) in enumerate((w, L) for w in config.widths for L in config.depths):
            N = w * L
            # random Gaussian segments in high dimension: θ ≈ 90°, so θ/π ≈ 0.5 changes per neuron
            net = mlp(config.random_dim, [w] * L, 10, seed=child_seed(seed, a, 0), bias_std=config.bias_std)
            g = child_rng(seed, a, 1)
            X0 = g.standard_normal((config.n_segments, config.random_dim))
            X1 = g.standard_normal((config.n_segments, config.random_dim))
            cos = np.einsum("ij,ij->i", X0, X1) / np.linalg.norm(X0, axis=1) / np.linalg.norm(X1, axis=1)
            theta = float(np.mean(np.arccos(np.clip(cos, -1, 1))) / np.pi)
            rows.append(self._row("random", "init", w, L, regions_on_segments(net, X0, X1, keep_patterns=False),
                                  theta))
            # segments between pairs of training points, at init and after training
            netd = mlp(ds.dim, [w] * L, ds.n_classes, seed=child_seed(seed, a, 2), bias_std=config.bias_std)
            g = child_rng(seed, a, 3)
            ia = g.choice(len(ds.X_train), size=config.n_segments)
            ib = (ia + 1 + g.choice(len(ds.X_train) - 1, size=config.n_segments)) % len(ds.X_train)
            A, B = ds.X_train[ia], ds.X_train[ib]
            cos = np.einsum("ij,ij->i", A, B) / np.linalg.norm(A, axis=1) / np.linalg.norm(B, axis=1)
            theta = float(np.mean(np.arccos(np.clip(cos, -1, 1))) / np.pi)

            def measure(step: int, netd=netd, A=A, B=B, w=w, L=L, theta=theta) -> None:
                phase = "init" if step == 0 else "trained"
                rows.append(self._row("data", phase, w, L, regions_on_segments(netd, A, B, keep_patterns=False),
                                      theta))

            _train_with_checkpoints(netd, ds.X_train, ds.y_train, [0, config.train_steps], measure, lr=config.lr,
                                    batch_size=config.batch_size, seed=child_seed(seed, a, 4))
            trows.append({"width": w, "depth": L, "neurons": N, "train_acc": accuracy(netd, ds.X_train, ds.y_train),
                          "test_acc": accuracy(netd, ds.X_test, ds.y_test)})
        return {"segments": pd.DataFrame(rows), "training": pd.DataFrame(trows)}

    @staticmethod
    def _row(kind: str, phase: str, w: int, L: int, walks: list, theta: float) -> dict[str, Any]:
        c = np.array([r.count for r in walks], float)
        lengths = np.array([r.length for r in walks], float)
        N = w * L
        return {"kind": kind, "phase": phase, "width": w, "depth": L, "neurons": N,
                "mean_regions": float(c.mean()), "std_regions": float(c.std()),
                "crossings_per_neuron": float((c - 1).mean() / N), "theta_over_pi": theta,
                "crossings_per_length": float(((c - 1) / lengths).mean()), "n_walked": len(c)}

    def check_point(self, results: Results) -> list[Check]:
        seg = results.table("segments")
        rnd = seg[(seg.kind == "random") & (seg.phase == "init")]
        archs = sorted({(int(w), int(L)) for w, L in zip(rnd.width, rnd.depth, strict=True)})
        label = [f"[{w}]×{L}" for w, L in archs]
        checks: list[Check | None] = []

        # (1) θ/π per neuron at every architecture
        fam = []
        for w, L in archs:
            g = rnd[(rnd.width == w) & (rnd.depth == L)]
            ref = float(g["theta_over_pi"].mean())
            est = mean_interval(_by_seed(g, "crossings_per_neuron"))
            fam.append(interval_check(
                "pattern changes per neuron on random segments ≈ θ/π", "(regions − 1)/N", est,
                within=(ref - PER_NEURON_TOLERANCE, ref + PER_NEURON_TOLERANCE), effect="θ/π ± 0.1",
                reference=ref, exact=False,
                reference_source="derived: θ/π, θ the mean angle of the sampled segments at the origin "
                                 "(first-layer hyperplanes through 0; iterated arc-cosine kernel keeps the "
                                 "rate at depth); the lab's own ≈0.5 sanity numbers, not a published figure"))
        checks.append(worst_of(fam, "He init: pattern changes per neuron on random segments ≈ θ/π "
                                    "at every architecture", labels=label))

        # (2) linear in N, fitted over the whole sweep of architectures
        if rnd["neurons"].nunique() >= 2:
            est = slope_interval(rnd["neurons"], rnd["mean_regions"] - 1, replicate=rnd["seed"], log_x=True,
                                 log_y=True)
            checks.append(interval_check(
                "the count grows linearly in the number of neurons N (all architectures, all depths)",
                "log–log slope of (regions − 1) vs N", est, within=SLOPE_BAND, effect="exponent 1 ± 0.1",
                reference=1.0, reference_source="Hanin & Rolnick 2019a, Thm. 1 (linear in N)", exact=False))
        else:
            checks.append(_nothing("the count grows linearly in N", "log–log slope of (regions − 1) vs N",
                                   "one value of N in the sweep: give several widths or depths", within=SLOPE_BAND))

        # (3) no exponential growth in depth, at every width with two or more depths
        fam, labels = [], []
        for w in sorted(rnd["width"].unique()):
            g = rnd[rnd.width == w]
            if g["depth"].nunique() < 2:
                continue
            est = slope_interval(g["depth"], g["crossings_per_neuron"], replicate=g["seed"], log_y=True).map(math.exp)
            fam.append(interval_check(
                "crossings per neuron do not grow exponentially in depth",
                "per-layer growth factor of (regions − 1)/N", est, below=DEPTH_FACTOR_MAX,
                effect="< 10 % per added layer (exponential growth: ≥ 2× per layer)", reference=1.0,
                reference_source="Hanin & Rolnick 2019a (depth-independent per-neuron density)", exact=False))
            labels.append(f"width {int(w)}")
        checks.append(worst_of(fam, "no exponential growth in depth (per-neuron count, every width)", labels=labels)
                      or _nothing("no exponential growth in depth", "per-layer growth factor of (regions − 1)/N",
                                  "every width has a single depth: give ≥ 2 depths", below=DEPTH_FACTOR_MAX))

        # (4) trained vs init on data segments, every architecture
        dat = seg[seg.kind == "data"]
        fam, labels = [], []
        for w, L in archs:
            g = dat[(dat.width == w) & (dat.depth == L)].pivot_table(index="seed", columns="phase",
                                                                     values="crossings_per_neuron")
            if not {"init", "trained"} <= set(g.columns):
                continue
            est = ratio_interval(g["trained"].to_numpy(), g["init"].to_numpy())
            fam.append(interval_check(
                "after training, crossings per neuron on data segments stay of the order at init",
                "crossings per neuron, trained / init (geometric mean)", est, within=TRAINED_BAND,
                effect="within a factor 2 of the same net at init (control: the untrained net)", reference=1.0,
                reference_source="Hanin & Rolnick 2019a, §5 (counts stay near their init value in training)",
                exact=False))
            labels.append(f"[{w}]×{L}")
        checks.append(worst_of(fam, "training keeps the per-neuron count of the same order (every architecture)",
                               labels=labels))
        return [c for c in checks if c is not None]

    def evidence(self, results: Results) -> dict[str, Any]:
        seg = results.table("segments")
        out: dict[str, Any] = {}
        for (kind, phase), g in seg.groupby(["kind", "phase"]):
            agg = g.groupby(["width", "depth"])[["crossings_per_neuron", "mean_regions"]].mean()
            out[f"{kind}_{phase}"] = {f"[{w}]x{L}": {"per_neuron": round(float(r.crossings_per_neuron), 4),
                                                     "regions": round(float(r.mean_regions), 1)}
                                      for (w, L), r in agg.iterrows()}
        tr = results.table("training").groupby(["width", "depth"])[["train_acc", "test_acc"]].mean()
        out["trained_accuracy"] = {f"[{w}]x{L}": {"train": round(float(r.train_acc), 4),
                                                  "test": round(float(r.test_acc), 4)} for (w, L), r in tr.iterrows()}
        out["sanity_numbers_lab_D"] = {"[32]x3": 51, "[64]x3": 96, "[128]x3": 179, "[64]x6": 207}
        return out

    def figures(self, results: Results) -> dict[str, Figure]:
        from matplotlib.figure import Figure

        seg = results.table("segments")
        rnd = seg[(seg.kind == "random") & (seg.phase == "init")]
        fig1 = Figure(figsize=(6.4, 4.2))
        ax = fig1.subplots()
        for L, g in rnd.groupby("depth"):
            agg = g.groupby("neurons")["mean_regions"].agg(["mean", "std"])
            ax.errorbar(agg.index, agg["mean"], yerr=agg["std"].fillna(0), fmt="o-", ms=4, label=f"depth {L}")
        nmax = float(rnd["neurons"].max())
        theta = float(rnd["theta_over_pi"].mean())
        ax.plot([1, nmax], [1 + theta, 1 + theta * nmax], "k--", lw=1, label=f"1 + (θ/π)·N, θ/π = {theta:.3f}")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("neurons N (count)")
        ax.set_ylabel("regions met on a random segment (count)")
        ax.legend(frameon=False, fontsize=8)
        fig1.tight_layout()

        fig2 = Figure(figsize=(6.4, 4.2))
        ax = fig2.subplots()
        for w, g in rnd.groupby("width"):
            agg = g.groupby("depth")["crossings_per_neuron"].agg(["mean", "std"])
            ax.errorbar(agg.index, agg["mean"], yerr=agg["std"].fillna(0), fmt="o-", ms=4, label=f"width {w}")
        ax.axhspan(theta - PER_NEURON_TOLERANCE, theta + PER_NEURON_TOLERANCE, color="0.9", label="θ/π ± 0.1")
        ax.axhline(theta, color="k", ls="--", lw=1)
        ax.set_ylim(0, max(1.0, float(rnd["crossings_per_neuron"].max()) * 1.1))
        ax.set_xlabel("depth L (hidden layers)")
        ax.set_ylabel("pattern changes per neuron, (regions − 1)/N")
        ax.legend(frameon=False, fontsize=8)
        fig2.tight_layout()

        fig3 = Figure(figsize=(6.4, 4.2))
        ax = fig3.subplots()
        dat = seg[seg.kind == "data"].groupby(["width", "depth", "phase"])["crossings_per_neuron"].mean().unstack()
        if {"init", "trained"} <= set(dat.columns):
            x = np.arange(len(dat))
            ax.bar(x - 0.2, dat["init"], 0.4, label="at init")
            ax.bar(x + 0.2, dat["trained"], 0.4, label="after training")
            ax.set_xticks(x, [f"[{w}]×{L}" for w, L in dat.index], rotation=45, fontsize=8)
        ax.set_ylabel("pattern changes per neuron on data segments")
        ax.legend(frameon=False)
        fig3.tight_layout()
        return {"Regions on random segments vs neurons": fig1, "Pattern changes per neuron vs depth": fig2,
                "Data segments: at init and after training": fig3}


# =============================================================================================
# 2. regions-2d-slice
# =============================================================================================
TARGET_TRAIN_ACC = 0.99  # "after training" means every replicate fits ≥ 99 % of its training labels
SLICE_BAND = (0.5, 2.0)  # regions per unit area / ((T·N)²/2!): within a factor 2
DENSITY_CHANGE_BAND = (0.5, 2.0)  # regions per unit area, trained / init: within a factor 2


class Regions2DConfig(_DataConfig):
    n_train: int = Field(300, ge=10, le=70_000, description="training examples (count)")
    hidden: tuple[int, ...] = Field((32, 32, 32), min_length=1, max_length=MAX_DEPTH,
                                    description="hidden widths (H&R: depth 3 × width 32)")
    label_noise: float = Field(0.5, ge=0, lt=1, description="fraction of training labels replaced by random other "
                                                            "classes in the corrupted run (0: no corrupted run)")
    bias_std: float = Field(1e-3, ge=0, le=10, description="std of the N(0, bias_std²) biases at init (H&R: variance 1e-6)")
    train_steps: int = Field(2000, ge=1, le=10_000_000, description="Adam steps of each run")
    lr: float = Field(1e-3, gt=0, le=1, description="Adam learning rate (H&R: 1e-3, their most regions)")
    batch_size: int = Field(128, ge=1, le=100_000, description="examples per step")
    margin: float = Field(0.5, ge=0, le=100, description="box margin around the triangle (slice units; triangle legs 1)")

    _hidden = field_validator("hidden")(lambda v: _sizes(v, MAX_WIDTH, "hidden widths"))


class Regions2DSlice(Experiment):
    name = "regions-2d-slice"
    kind = "claim"
    claim = (
        "The number of activation regions per unit area of a 2-D slice is about (T·N)²/2!, N the "
        "number of neurons and T a gradient-norm × bias-density constant, independent of depth "
        "(depth 3 × width 32 on MNIST: 96²/2! = 4608), at init and during training, even when the "
        "network memorises corrupted labels."
    )
    source = (
        "Hanin & Rolnick 2019, 'Deep ReLU networks have surprisingly few activation patterns', "
        "NeurIPS, arXiv 1906.00904 (Thm. 1 and the 2-D cross-section experiments)"
    )
    check_statement = (
        "Exact partition of the slice through three training points (box = triangle ± margin); "
        "prediction (T·N)²/2! per unit area, where T·N = Σ_z E[‖∇z‖ ρ_b] is measured on the same "
        "slice as the region-boundary length per unit area (Hanin & Rolnick 2019a, Thm. 3; the "
        "paper's constant 1/2! kept, input units throughout). Statistic: regions per unit area ÷ "
        "(T·N)²/2!, paired geometric mean over seeds, claimed within [1/2, 2] (a factor 2; "
        "independent isotropic boundaries give 2/π ≈ 0.64, derived; boundaries crowded into a "
        "quarter of the slice would give ≈ 4× that, aligned ones far less). Checked (1) at init, "
        "(2) after training on clean labels and (3) after training with `label_noise` of the labels "
        "corrupted. (4) Control for (2)–(3): regions per unit area after training ÷ the same net at "
        "init within [1/2, 2] for both label sets. (2)–(4) count only if EVERY replicate reached "
        "≥ 99 % training accuracy on the labels it was trained on, else they are inconclusive "
        "(train longer), never supported."
    )
    Config = Regions2DConfig
    presets: ClassVar[dict] = {
        "smoke": {"n_train": 100, "hidden": (8, 8), "train_steps": 30},
        "quick": {},
        "full": {"n_train": 1000, "train_steps": 20_000},
    }
    default_seeds: ClassVar[dict] = {"smoke": 2, "quick": 5, "full": 10}
    budget_s = 6.0
    tables = ("density", "polygons")
    summary_keys = ("condition",)

    def run(self, config: Regions2DConfig, seed: int) -> dict[str, pd.DataFrame]:
        import pandas as pd

        from theorylab.data import noisy_labels
        from theorylab.models.builders import mlp
        from theorylab.models.train import accuracy
        from theorylab.probes.regions import decision_boundary_segments, partition_2d, slice_density

        ds = _data(config, config.n_train)
        ia, ib, ic = child_rng(seed, 0).choice(len(ds.X_train), size=3, replace=False)
        origin = ds.X_train[ia]
        u, v = ds.X_train[ib] - origin, ds.X_train[ic] - origin
        bounds = (-config.margin, 1.0 + config.margin, -config.margin, 1.0 + config.margin)
        N = int(sum(config.hidden))
        rows, geom = [], []

        def measure(net: nn.Module, condition: str, step: int, labels: np.ndarray) -> None:
            part = partition_2d(net, origin, u, v, bounds)
            d = slice_density(part)
            predicted = d.boundary_density**2 / 2  # (T·N)²/2!, T·N = boundary length per unit area
            rows.append({"condition": condition, "step": step, "neurons": N, "regions": d.count,
                         "area": d.area, "boundary_length": d.boundary_length, "density": d.density,
                         "boundary_density": d.boundary_density, "predicted_density": predicted,
                         "ratio": d.density / predicted if predicted > 0 else math.nan,
                         "count_over_N2_half": d.count / (N**2 / 2),
                         "train_acc": accuracy(net, ds.X_train, labels),
                         "test_acc": accuracy(net, ds.X_test, ds.y_test)})
            sizes = [len(V) for V in part.polygons]
            st = np.concatenate(part.polygons)
            geom.append(pd.DataFrame({"condition": condition, "item": "region",
                                      "index": np.repeat(np.arange(part.count), sizes), "s": st[:, 0], "t": st[:, 1]}))
            segs = decision_boundary_segments(part).reshape(-1, 2)
            geom.append(pd.DataFrame({"condition": condition, "item": "decision boundary",
                                      "index": np.repeat(np.arange(len(segs) // 2), 2), "s": segs[:, 0],
                                      "t": segs[:, 1]}))

        net_seed = child_seed(seed, 1)
        measure(mlp(ds.dim, list(config.hidden), ds.n_classes, seed=net_seed, bias_std=config.bias_std), "init", 0,
                ds.y_train)
        runs = [("clean", ds.y_train)]
        if config.label_noise > 0:
            runs.append(("corrupted", noisy_labels(ds.y_train, config.label_noise, ds.n_classes, child_seed(seed, 2))))
        for k, (condition, labels) in enumerate(runs):
            net = mlp(ds.dim, list(config.hidden), ds.n_classes, seed=net_seed, bias_std=config.bias_std)
            _train_with_checkpoints(net, ds.X_train, labels, [config.train_steps],
                                    lambda step, net=net, c=condition, y=labels: measure(net, c, step, y),
                                    lr=config.lr, batch_size=config.batch_size, seed=child_seed(seed, 3, k))
        return {"density": pd.DataFrame(rows), "polygons": pd.concat(geom, ignore_index=True)}

    def check_point(self, results: Results) -> list[Check]:
        df = results.table("density")
        checks = []
        what = {"init": "at He init",
                "clean": "after training to ≥ 99 % train accuracy on clean labels",
                "corrupted": "after memorising corrupted labels to ≥ 99 % train accuracy"}
        for condition in ("init", "clean", "corrupted"):
            g = df[df.condition == condition].sort_values("seed")
            if not len(g):
                continue
            est = ratio_interval(g["density"].to_numpy(), g["predicted_density"].to_numpy())
            short = int((g["train_acc"] < TARGET_TRAIN_ACC).sum()) if condition != "init" else 0
            if short:
                # a net that has not fitted its labels is not "after training": no verdict either way
                est = Estimate(est.value, math.nan, math.nan, est.n, est.level, est.method)
            c = interval_check(
                f"regions per unit area ≈ (T·N)²/2! {what[condition]}",
                "regions per unit area ÷ (T·N)²/2! (T·N = boundary length per unit area)", est,
                within=SLICE_BAND, effect="within a factor 2 of the prediction",
                reference=1.0, exact=False,
                reference_source="Hanin & Rolnick 2019b, Thm. 1: per unit volume ≤ (T·#neurons)^n_in / n_in!, "
                                 "reported tight; independent isotropic boundaries give 2/π (derived)")
            if short:
                c = c.model_copy(update={"decide": (
                    f"{short} of {len(g)} replicates stayed below {TARGET_TRAIN_ACC:.0%} train accuracy "
                    f"(lowest {g['train_acc'].min():.3f}): train longer (train_steps) before this can be decided")})
            checks.append(c)

        # (4) training does not multiply the density itself (control: the same net at init)
        init = df[df.condition == "init"].set_index("seed")["density"]
        fam, labels = [], []
        for condition in ("clean", "corrupted"):
            g = df[df.condition == condition].set_index("seed")
            if not len(g):
                continue
            est = ratio_interval(g["density"].to_numpy(), init.reindex(g.index).to_numpy())
            short = int((g["train_acc"] < TARGET_TRAIN_ACC).sum())
            if short:
                est = Estimate(est.value, math.nan, math.nan, est.n, est.level, est.method)
            c = interval_check(
                "training keeps regions per unit area of the order at init", "regions per unit area, trained / init",
                est, within=DENSITY_CHANGE_BAND, effect="within a factor 2 of the same net at init (control)",
                reference=1.0, exact=False,
                reference_source="Hanin & Rolnick 2019b, §4 (counts stay near their init value in training, "
                                 "with memorisation too)")
            if short:
                c = c.model_copy(update={"decide": f"{short} of {len(g)} replicates below {TARGET_TRAIN_ACC:.0%} "
                                                   "train accuracy: train longer (train_steps)"})
            fam.append(c)
            labels.append(condition)
        family = worst_of(fam, "training (clean and corrupted labels) keeps regions per unit area within a "
                               "factor 2 of init", labels=labels)
        return [*checks, family] if family is not None else checks

    def evidence(self, results: Results) -> dict[str, Any]:
        df = results.table("density")
        N = int(df["neurons"].iloc[0])
        agg = df.groupby("condition")[["regions", "area", "density", "boundary_density", "predicted_density", "ratio",
                                       "train_acc", "test_acc"]].mean()
        return {
            "by_condition": {c: {k: round(float(v), 4) for k, v in r.items()} for c, r in agg.iterrows()},
            "lowest_train_acc": {c: round(float(g["train_acc"].min()), 4) for c, g in df.groupby("condition")},
            "N": N,
            "published_anchor_N2_over_2": N**2 / 2,
            "note": "the raw counts depend on the slice's size (ours: triangle ± margin); Hanin & Rolnick's "
                    "4608 = 96²/2! is a raw count for their MNIST slice, shown for orientation only",
        }

    def figures(self, results: Results) -> dict[str, Figure]:
        from matplotlib.collections import LineCollection, PolyCollection
        from matplotlib.figure import Figure

        df = results.table("density")
        order = [c for c in ("init", "clean", "corrupted") if c in set(df.condition)]
        fig1 = Figure(figsize=(6.4, 4.2))
        ax = fig1.subplots()
        for i, c in enumerate(order):
            r = df[df.condition == c]["ratio"].to_numpy()
            ax.plot(np.full(len(r), i) + np.linspace(-0.1, 0.1, len(r)), r, "o", color=f"C{i}", alpha=0.7)
            ax.plot([i - 0.25, i + 0.25], [np.exp(np.log(r).mean())] * 2, "-", color=f"C{i}", lw=2)
        ax.axhspan(*SLICE_BAND, color="0.92", label="claimed band (factor 2)")
        ax.axhline(1.0, color="k", ls="--", lw=1, label="(T·N)²/2!")
        ax.axhline(2 / np.pi, color="0.4", ls=":", lw=1, label="2/π (isotropic boundaries)")
        ax.set_xticks(range(len(order)), order)
        ax.set_yscale("log")
        ax.set_ylabel("regions per unit area ÷ (T·N)²/2!")
        ax.legend(frameon=False, fontsize=8)
        fig1.tight_layout()

        geom = results.table("polygons")
        seed0 = geom["seed"].min()
        geom = geom[geom.seed == seed0]
        fig2 = Figure(figsize=(2.4 * len(order) + 0.4, 2.8))
        axes = np.atleast_1d(fig2.subplots(1, len(order)))
        for ax, c in zip(axes, order, strict=True):
            q = geom[(geom.condition == c) & (geom["item"] == "region")]
            verts = [g[["s", "t"]].to_numpy() for _, g in q.groupby("index", sort=False)]
            colours = np.random.default_rng(0).uniform(0.35, 0.95, size=(len(verts), 3))
            ax.add_collection(PolyCollection(verts, facecolors=colours, edgecolors="k", linewidths=0.1))
            b = geom[(geom.condition == c) & (geom["item"] == "decision boundary")]
            if len(b):
                ax.add_collection(LineCollection(b[["s", "t"]].to_numpy().reshape(-1, 2, 2), colors="red",
                                                 linewidths=0.8))
            ax.autoscale_view()
            ax.plot([0, 1, 0], [0, 0, 1], "k*", ms=6)
            ax.set_title(f"{c}: {len(verts)} regions", fontsize=8)
            ax.set_xticks([])
            ax.set_yticks([])
        fig2.tight_layout()
        return {"Region density against (T·N)²/2!": fig1,
                "Partitions of one slice (stars: the three training points; red: decision boundary)": fig2}


# =============================================================================================
# 3. local-complexity-dynamics
# =============================================================================================
MIN_RISE = 0.10  # ascent to the peak, as a fraction of LC at init
MIN_FALL = 0.10  # descent from the peak to the end, as a fraction of LC at init
MIN_ROBUST_GAIN = 0.02  # robust-accuracy gain after the LC peak beyond any clean gain (accuracy, 0–1)


def _lc_peak(steps: np.ndarray, lc: np.ndarray) -> dict[str, Any]:
    """Where LC around training points peaks, and how far it rose before and fell after.

    The peak is the largest LC after step 0; rise = (peak − lowest LC before it) / LC₀ (the
    ascent out of the initial descent, Humayun et al.'s phase 2), fall = (peak − LC at the last
    checkpoint) / LC₀ (the final descent, phase 3). ``at_end`` flags a peak at the last
    checkpoint: LC may still be rising, so the run cannot show a fall.
    """
    order = np.argsort(steps)
    s, L = np.asarray(steps)[order], np.asarray(lc, float)[order]
    if len(L) < 3 or not L[0] > 0:
        return {"peak_step": -1, "at_end": True, "rise": math.nan, "fall": math.nan, "lc0": float(L[0])}
    p = 1 + int(np.argmax(L[1:]))
    return {"peak_step": int(s[p]), "at_end": p == len(L) - 1, "lc0": float(L[0]), "lc_peak": float(L[p]),
            "rise": float((L[p] - L[:p].min()) / L[0]), "fall": float((L[p] - L[-1]) / L[0])}


class LCDynamicsConfig(_DataConfig):
    hidden: tuple[int, ...] = Field((64, 64, 64), min_length=1, max_length=MAX_DEPTH,
                                    description="hidden widths (paper: 200, 1–5 hidden layers; MNIST 'depth 4' = 3)")
    init: Literal["torch", "he"] = Field("torch", description="weight init (paper's code: PyTorch default)")
    init_scale: float = Field(1.0, gt=0, le=100, description="multiplier on every initial parameter (paper's α)")
    n_train: int = Field(1000, ge=10, le=70_000, description="training examples (paper: 1000 MNIST digits)")
    train_steps: int = Field(4000, ge=10, le=10_000_000, description="AdamW steps (paper: 10⁶)")
    n_checkpoints: int = Field(16, ge=4, le=1000, description="log-spaced measurement steps (count, step 0 included)")
    lr: float = Field(1e-2, gt=0, le=1, description="AdamW learning rate (paper: 1e-3)")
    weight_decay: float = Field(0.3, ge=0, le=100, description="AdamW decoupled weight decay (paper: 0.01)")
    batch_size: int = Field(200, ge=1, le=100_000, description="examples per step (paper: 200)")
    radius: float = Field(0.25, gt=0, le=100, description="cross-polytope radius r (input units; pixels in [0, 1])")
    n_frame: int = Field(8, ge=1, le=1000, description="random orthonormal directions per point (2·n_frame vertices)")
    n_points: int = Field(200, ge=2, le=100_000, description="training and test points where LC is measured (each)")
    n_pairs: int = Field(100, ge=1, le=100_000, description="test-point pairs searched for decision-boundary points")
    pgd_eps: float = Field(0.1, ge=0, le=1, description="L∞ PGD radius (inputs in [0, 1])")
    pgd_steps: int = Field(10, ge=1, le=1000, description="PGD iterations")
    n_attack: int = Field(300, ge=1, le=100_000, description="test points attacked at each checkpoint (count)")

    _hidden = field_validator("hidden")(lambda v: _sizes(v, MAX_WIDTH, "hidden widths"))


class LocalComplexityDynamics(Experiment):
    name = "local-complexity-dynamics"
    kind = "claim"
    claim = (
        "Over training, the local complexity (density of linear regions) around training points "
        "rises, peaks and then falls as regions migrate away from the data towards the decision "
        "boundary; adversarial robustness rises late, after that peak ('delayed robustness')."
    )
    source = (
        "Humayun, Balestriero & Baraniuk 2024, 'Deep networks always grok and here is why', "
        "ICML, arXiv 2310.12977 (Fig. 1; recipe from the authors' grok-adversarial configs)"
    )
    check_statement = (
        "LC = neurons (all layers) whose sign changes over a cross-polytope of radius r around a "
        "training point, mean over points, at log-spaced steps; peak = largest LC after step 0. "
        "(1) Rise: (LC at the peak − the lowest LC before it) / LC at init > 0.10 (95 % t-interval "
        "over seeds). (2) Fall: (LC at the peak − LC at the last checkpoint) / LC at init > 0.10; "
        "if any replicate peaks at its last checkpoint the fall (and (3)) is inconclusive — LC may "
        "still be rising: train longer — never supported. (3) Delayed robustness: PGD-robust test "
        "accuracy at the end minus at the LC peak, less any gain of clean test accuracy over the "
        "same steps (control: plain generalisation), > 0.02."
    )
    Config = LCDynamicsConfig
    presets: ClassVar[dict] = {
        "smoke": {"hidden": (16, 16), "n_train": 200, "train_steps": 60, "n_checkpoints": 5, "n_frame": 4,
                  "n_points": 30, "n_pairs": 30, "n_attack": 30, "pgd_steps": 3},
        "quick": {},
        "full": {"hidden": (200, 200, 200), "train_steps": 100_000, "lr": 1e-3, "weight_decay": 0.01,
                 "n_checkpoints": 40, "n_frame": 25, "n_points": 1000, "n_pairs": 500, "n_attack": 1000,
                 "pgd_steps": 20},
    }
    default_seeds: ClassVar[dict] = {"smoke": 2, "quick": 5, "full": 5}
    budget_s = 8.0
    tables = ("accuracy", "lc")
    summary_keys = ("step",)

    def run(self, config: LCDynamicsConfig, seed: int) -> dict[str, pd.DataFrame]:
        import pandas as pd
        import torch

        from theorylab.models.builders import mlp
        from theorylab.models.train import accuracy
        from theorylab.probes.attacks import robust_accuracy
        from theorylab.probes.regions import (
            affine_program,
            decision_boundary_points,
            local_complexity,
        )

        ds = _data(config, config.n_train, unit_range=True)
        net = mlp(ds.dim, list(config.hidden), ds.n_classes, seed=child_seed(seed, 0), init=config.init)
        if config.init_scale != 1.0:
            with torch.no_grad():
                for p in net.parameters():
                    p.mul_(config.init_scale)
        Y = np.eye(ds.n_classes)[ds.y_train]  # one-hot targets for the MSE loss, as the paper
        g = child_rng(seed, 1)
        itr = g.choice(len(ds.X_train), size=min(config.n_points, len(ds.X_train)), replace=False)
        ite = g.choice(len(ds.X_test), size=min(config.n_points, len(ds.X_test)), replace=False)
        pa, pb = g.choice(len(ds.X_test), size=config.n_pairs), g.choice(len(ds.X_test), size=config.n_pairs)
        iat = g.choice(len(ds.X_test), size=min(config.n_attack, len(ds.X_test)), replace=False)
        frame_seed, attack_seed = child_seed(seed, 2), child_seed(seed, 3)
        # log-spaced steps on a grid of `unit` steps (the loop evaluates the training loss at every
        # multiple of the grid, so a unit of 1 would add a full pass per step)
        unit = max(1, config.train_steps // 200)
        grid = np.geomspace(unit, config.train_steps, config.n_checkpoints - 1) / unit
        marks = sorted({0, config.train_steps, *(np.rint(grid).astype(int) * unit).tolist()})
        acc_rows, lc_rows = [], []

        def measure(step: int) -> None:
            prog = affine_program(net, (ds.dim,))
            where = {"train": ds.X_train[itr], "test": ds.X_test[ite],
                     "boundary": decision_boundary_points(net, ds.X_test[pa], ds.X_test[pb])}
            for loc, X in where.items():
                if not len(X):
                    continue
                # the same frames at every checkpoint: LC differences over time are paired
                lc = local_complexity(prog, X, radius=config.radius, n_frame=config.n_frame,
                                      seed=frame_seed)
                for layer in range(lc.shape[1]):
                    lc_rows.append({"step": step, "location": loc, "layer": layer + 1,
                                    "lc": float(lc[:, layer].mean()), "n_measured": len(X)})
            rob = robust_accuracy(net, ds.X_test[iat], ds.y_test[iat], norm="Linf", eps=config.pgd_eps,
                                  steps=config.pgd_steps, seed=attack_seed)
            acc_rows.append({"step": step, "train_acc": accuracy(net, ds.X_train, ds.y_train),
                             "test_acc": accuracy(net, ds.X_test, ds.y_test), "clean_attacked": rob.clean,
                             "robust_acc": rob.robust, "n_boundary": len(where["boundary"])})

        _train_with_checkpoints(net, ds.X_train, Y, marks, measure, lr=config.lr,
                                weight_decay=config.weight_decay, optimizer="adamw", loss="mse",
                                batch_size=config.batch_size, seed=child_seed(seed, 4))
        return {"accuracy": pd.DataFrame(acc_rows), "lc": pd.DataFrame(lc_rows)}

    @staticmethod
    def per_seed(results: Results) -> pd.DataFrame:
        """One row per replicate: the LC peak, rise, fall and the accuracy changes after the peak."""
        import pandas as pd

        lc = results.table("lc")
        acc = results.table("accuracy")
        rows = []
        for s, g in lc[lc.location == "train"].groupby("seed"):
            series = g.groupby("step")["lc"].sum().sort_index()
            pk = _lc_peak(series.index.to_numpy(), series.to_numpy())
            a = acc[acc.seed == s].set_index("step").sort_index()
            if pk["peak_step"] in a.index:
                end, at = a.iloc[-1], a.loc[pk["peak_step"]]
                pk["robust_gain"] = float(end["robust_acc"] - at["robust_acc"])
                pk["clean_gain"] = float(end["clean_attacked"] - at["clean_attacked"])
            else:
                pk["robust_gain"] = pk["clean_gain"] = math.nan
            pk["delayed_robustness"] = pk["robust_gain"] - max(pk["clean_gain"], 0.0)
            pk["last_step"] = int(series.index.max())
            rows.append({"seed": s, **pk})
        return pd.DataFrame(rows)

    def check_point(self, results: Results) -> list[Check]:
        ps = self.per_seed(results)
        at_end = int(ps["at_end"].sum())
        src = "Humayun, Balestriero & Baraniuk 2024, Fig. 1 (descent, ascent, final descent; delayed robustness)"
        rise = interval_check(
            "LC around training points rises to a peak", "(LC peak − lowest LC before it) / LC at init",
            mean_interval(ps["rise"]), above=MIN_RISE, effect="ascent ≥ 10 % of LC at init",
            reference_source=src, exact=False)

        def gated(c: Check) -> Check:
            return c.model_copy(update={"decide": (
                f"{at_end} of {len(ps)} replicates peak at their last checkpoint (step "
                f"{int(ps['last_step'].max())}): LC may still be rising; train longer (train_steps)")})

        fall_est = mean_interval(ps["fall"])
        rob_est = mean_interval(ps["delayed_robustness"])
        if at_end:  # a peak at the end cannot show a fall: inconclusive, never supported
            fall_est = Estimate(fall_est.value, math.nan, math.nan, fall_est.n)
            rob_est = Estimate(rob_est.value, math.nan, math.nan, rob_est.n)
        fall = interval_check(
            "LC around training points falls after a peak strictly inside the run",
            "(LC peak − LC at the last checkpoint) / LC at init", fall_est, above=MIN_FALL,
            effect="final descent ≥ 10 % of LC at init", reference_source=src, exact=False)
        robust = interval_check(
            "robust accuracy rises after the LC peak (delayed robustness)",
            "PGD-robust accuracy gain from the LC peak to the end, minus any clean-accuracy gain", rob_est,
            above=MIN_ROBUST_GAIN, effect="≥ 2 accuracy points beyond the clean-accuracy change (control)",
            reference_source=src, exact=False)
        return [rise, gated(fall) if at_end else fall, gated(robust) if at_end else robust]

    def evidence(self, results: Results) -> dict[str, Any]:
        ps = self.per_seed(results)
        acc = results.table("accuracy")
        final = acc[acc.step == acc.step.max()]
        return {
            "per_seed": [{k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()}
                         for r in ps.drop(columns=["seed"]).to_dict("records")],
            "final_train_acc": round(float(final["train_acc"].mean()), 4),
            "final_test_acc": round(float(final["test_acc"].mean()), 4),
            "final_robust_acc": round(float(final["robust_acc"].mean()), 4),
        }

    def figures(self, results: Results) -> dict[str, Figure]:
        from matplotlib.figure import Figure

        lc = results.table("lc")
        acc = results.table("accuracy")
        tot = lc.groupby(["seed", "location", "step"])["lc"].sum().reset_index()
        fig1 = Figure(figsize=(6.4, 4.2))
        ax = fig1.subplots()
        for i, (loc, g) in enumerate(tot.groupby("location")):
            agg = g.groupby("step")["lc"].agg(["mean", "min", "max"])
            x = np.maximum(agg.index.to_numpy(float), 1)
            ax.plot(x, agg["mean"], "o-", ms=3, color=f"C{i}", label=f"{loc} points (mean over seeds)")
            ax.fill_between(x, agg["min"], agg["max"], color=f"C{i}", alpha=0.15)
        for p in self.per_seed(results)["peak_step"]:
            ax.axvline(max(p, 1), color="C0", lw=0.6, ls=":")
        ax.set_xscale("log")
        ax.set_xlabel("training step (step 0 drawn at 1)")
        ax.set_ylabel("local complexity (neurons cut, all layers)")
        ax.legend(frameon=False, fontsize=8)
        fig1.tight_layout()

        fig2 = Figure(figsize=(6.4, 4.2))
        ax = fig2.subplots()
        a = acc.groupby("step")[["train_acc", "test_acc", "robust_acc"]].mean()
        x = np.maximum(a.index.to_numpy(float), 1)
        for col, lab in (("train_acc", "train"), ("test_acc", "test (clean)"), ("robust_acc", "test, PGD-robust")):
            ax.plot(x, a[col], "o-", ms=3, label=lab)
        ax.set_xscale("log")
        ax.set_xlabel("training step (step 0 drawn at 1)")
        ax.set_ylabel("accuracy (fraction)")
        ax.set_ylim(0, 1.02)
        ax.legend(frameon=False, fontsize=8)
        fig2.tight_layout()
        return {"Local complexity over training (dotted: each seed's LC peak)": fig1,
                "Clean and robust accuracy over training": fig2}
