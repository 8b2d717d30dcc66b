"""Claim E: the spline geometry of ReLU networks, measured exactly.

Three experiments on the exact region probes of :mod:`theorylab.probes.regions`:

* ``regions-per-neuron`` — regions met along segments grow linearly in the number of neurons
  N, ≈ θ/π ≈ 0.5 per neuron for random segments in high dimension at He init, and not
  exponentially in depth; they stay of the same order after training (Hanin & Rolnick 2019a).
* ``regions-2d-slice`` — exact region counts in a 2-D slice through three training points
  during training, with and without label corruption, against N²/2! (Hanin & Rolnick 2019b).
* ``local-complexity-dynamics`` — local complexity (neurons whose sign changes over a small
  cross-polytope) near training points, test points and the decision boundary over training,
  with test and PGD-robust accuracy alongside (Humayun, Balestriero & Baraniuk 2024).

Departures from the papers: digits (8×8, 64-d) or MNIST-1D (40-d) instead of MNIST; smaller
widths and far fewer steps in ``quick``; ``full`` uses the papers' architectures where a CPU
allows. Region counts are exact (up to float64), not sampled.
"""

from __future__ import annotations

import math
from typing import ClassVar, Literal

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure
from pydantic import Field

from theorylab.data.datasets import Dataset, load_digits, load_mnist1d, noisy_labels
from theorylab.engine.config import ExperimentConfig
from theorylab.engine.experiment import Check, Experiment, Results, Verdict, mean_ci, register
from theorylab.models.builders import mlp
from theorylab.models.train import accuracy, predict, train
from theorylab.probes.regions import (
    affine_program,
    decision_boundary_segments,
    local_complexity,
    partition_2d,
    regions_on_segments,
)

__all__ = [
    "LocalComplexityDynamics",
    "Regions2DSlice",
    "RegionsPerNeuron",
    "boundary_points",
    "phase_score",
]

DataName = Literal["digits", "mnist1d"]


def _data(name: str, n_train: int) -> Dataset:
    """The named built-in data set, first ``n_train`` training examples (fixed split)."""
    ds = load_digits(seed=0) if name == "digits" else load_mnist1d()
    return ds.subset(n_train=n_train)


def _ci(lo: float, hi: float, n: int) -> tuple[float, float] | None:
    return (lo, hi) if n > 1 else None


def _status_within(m: float, lo: float, hi: float, n: int, a: float, b: float) -> str:
    """Supported if the 95% interval (the value itself when n = 1) lies in [a, b]; not supported
    if it lies entirely outside; else inconclusive."""
    if n == 0:
        return "inconclusive"
    lo, hi = (lo, hi) if n > 1 else (m, m)
    if a <= lo and hi <= b:
        return "supported"
    if hi < a or lo > b:
        return "not supported"
    return "inconclusive"


def _checkpoint_training(model, X, y, steps: int, checkpoints: tuple[int, ...], measure, **kw) -> None:
    """Train ``model`` for ``steps`` and call ``measure(step)`` at each checkpoint (0 included)."""
    marks = sorted({int(c) for c in checkpoints if 0 <= c <= steps})
    if 0 in marks:
        measure(0)
    pos = [c for c in marks if c > 0]
    if not pos or steps == 0:
        return
    every = math.gcd(*pos)

    def cb(step: int, m) -> None:
        if step in pos:
            measure(step)

    train(model, X, y, steps=max(pos), eval_every=every, callback=cb, **kw)


# =============================================================================================
# 1. regions-per-neuron
# =============================================================================================
class RegionsPerNeuronConfig(ExperimentConfig):
    widths: tuple[int, ...] = Field((16, 32, 64), description="hidden widths w (neurons per layer)")
    depths: tuple[int, ...] = Field((1, 3), description="hidden-layer counts L; nets are [w]*L for every (w, L)")
    random_dim: int = Field(784, ge=2, description="input dimension of the random-segment nets (MNIST's 784)")
    n_segments: int = Field(8, ge=1, description="segments per architecture and kind (count)")
    bias_std: float = Field(1e-3, ge=0, description="std of N(0, bias_std²) biases at init (H&R: 1e-3)")
    data: DataName = Field("digits", description="data set for data segments and training")
    n_train: int = Field(1000, ge=10, description="training examples (count)")
    train_steps: int = Field(300, ge=0, description="Adam steps; the last measurement is 'trained'")
    n_measures: int = Field(3, ge=2, description="measurements on data segments during training (count, incl. init)")
    lr: float = Field(1e-3, gt=0, description="Adam learning rate (per step)")
    batch_size: int = Field(128, ge=1, description="examples per step")


@register
class RegionsPerNeuron(Experiment):
    name = "regions-per-neuron"
    claim = (
        "The number of linear regions a ReLU network meets along a 1-D segment grows linearly in "
        "the total number of neurons N (≈ θ/π ≈ 0.5 per neuron for random segments in high "
        "dimension at He init), not exponentially in depth, and stays of that order after training."
    )
    source = (
        "Hanin & Rolnick 2019, 'Complexity of linear regions in deep networks', ICML, "
        "arXiv 1901.09021; Balestriero & Baraniuk 2018 (max-affine splines)"
    )
    check_statement = (
        "Exact segment walks. Random segments at He init: regions/N (mean over architectures) in "
        "[0.35, 0.65]; log-log slope of regions vs N in [0.8, 1.2]; regions/N at the deepest vs "
        "shallowest depth (same width) in [0, 2]. Data segments: regions/N trained / init in "
        "[1/3, 3]. Each check is supported when its 95% interval over seeds lies inside the band, "
        "not supported when it lies entirely outside, else inconclusive."
    )
    Config = RegionsPerNeuronConfig
    presets: ClassVar[dict] = {
        "smoke": {"widths": (8, 16), "depths": (1, 2), "random_dim": 64, "n_segments": 3,
                  "n_train": 200, "train_steps": 20},
        "quick": {},
        "full": {"widths": (32, 64, 128), "depths": (1, 3, 6), "n_segments": 50, "data": "mnist1d",
                 "n_train": 4000, "train_steps": 5000, "n_measures": 6},
    }
    default_seeds: ClassVar[dict] = {"smoke": 1, "quick": 2, "full": 5}
    budget_s = 20.0
    tables = ("segments", "training")
    summary_keys = ("kind", "phase", "step", "width", "depth")

    def run(self, config: RegionsPerNeuronConfig, seed: int) -> dict[str, pd.DataFrame]:
        ds = _data(config.data, config.n_train)
        rows, trows = [], []
        for a, (w, L) in enumerate((w, L) for w in config.widths for L in config.depths):
            rng = np.random.default_rng(np.random.SeedSequence([seed, a]))  # one stream per architecture
            mseed = int(rng.integers(2**31))
            N = w * L
            # random Gaussian segments in high dimension: θ ≈ 90°, so θ/π ≈ 0.5 breaks per neuron
            net = mlp(config.random_dim, [w] * L, 10, seed=mseed, bias_std=config.bias_std)
            X0 = rng.standard_normal((config.n_segments, config.random_dim))
            X1 = rng.standard_normal((config.n_segments, config.random_dim))
            cos = (X0 * X1).sum(1) / np.linalg.norm(X0, axis=1) / np.linalg.norm(X1, axis=1)
            counts = [r.count for r in regions_on_segments(net, X0, X1, keep_patterns=False)]
            rows.append({**self._row("random", "init", w, L, N, counts, float(np.mean(np.arccos(cos)) / np.pi)),
                         "step": 0})
            # segments between pairs of training points, at init and after training
            netd = mlp(ds.dim, [w] * L, ds.n_classes, seed=mseed + 1, bias_std=config.bias_std)
            ia = rng.choice(len(ds.X_train), size=config.n_segments)
            ib = (ia + 1 + rng.choice(len(ds.X_train) - 1, size=config.n_segments)) % len(ds.X_train)
            A, B = ds.X_train[ia], ds.X_train[ib]
            marks = np.unique(np.linspace(0, config.train_steps, config.n_measures).round().astype(int))

            def measure(step: int, netd=netd, A=A, B=B, w=w, L=L, N=N) -> None:
                counts = [r.count for r in regions_on_segments(netd, A, B, keep_patterns=False)]
                phase = "init" if step == 0 else ("trained" if step == config.train_steps else "training")
                rows.append({**self._row("data", phase, w, L, N, counts, float("nan")), "step": step})

            _checkpoint_training(netd, ds.X_train, ds.y_train, config.train_steps, tuple(marks.tolist()), measure,
                                 lr=config.lr, batch_size=config.batch_size, seed=mseed + 2)
            trows.append({"width": w, "depth": L, "neurons": N,
                          "train_acc": accuracy(netd, ds.X_train, ds.y_train),
                          "test_acc": accuracy(netd, ds.X_test, ds.y_test)})
        return {"segments": pd.DataFrame(rows), "training": pd.DataFrame(trows)}

    @staticmethod
    def _row(kind: str, phase: str, w: int, L: int, N: int, counts: list[int], theta: float) -> dict:
        c = np.asarray(counts, float)
        return {"kind": kind, "phase": phase, "width": w, "depth": L, "neurons": N,
                "mean_regions": float(c.mean()), "std_regions": float(c.std()),
                "regions_per_neuron": float(c.mean() / N), "theta_over_pi": theta,
                "n_walked": len(c)}

    def check(self, results: Results) -> Verdict:
        df = results.table("segments")
        rnd = df[(df.kind == "random") & (df.phase == "init")]
        per_seed = rnd.groupby("seed")["regions_per_neuron"].mean()
        m, lo, hi, n = mean_ci(per_seed)
        checks = [Check(
            statement="random segments at He init: regions per neuron ≈ θ/π ≈ 0.5",
            quantity="regions / N (mean over architectures)", measured=m, interval=_ci(lo, hi, n),
            threshold="95% CI within [0.35, 0.65]", status=_status_within(m, lo, hi, n, 0.35, 0.65),
            n=n, reference=float(rnd["theta_over_pi"].mean()), exact=False)]
        slopes = []
        for _, g in rnd.groupby("seed"):
            if g["neurons"].nunique() > 1:
                slopes.append(np.polyfit(np.log(g["neurons"]), np.log(g["mean_regions"]), 1)[0])
        m, lo, hi, n = mean_ci(slopes)
        checks.append(Check(
            statement="regions grow linearly in N (log-log slope of regions vs N ≈ 1)",
            quantity="slope of log regions vs log N", measured=m if n else None, interval=_ci(lo, hi, n),
            threshold="95% CI within [0.8, 1.2]", status=_status_within(m, lo, hi, n, 0.8, 1.2), n=n,
            reference=1.0, exact=False))
        dmin, dmax = rnd["depth"].min(), rnd["depth"].max()
        ratios = []
        if dmax > dmin:
            for _, g in rnd.groupby("seed"):
                a = g[g.depth == dmax].set_index("width")["regions_per_neuron"]
                b = g[g.depth == dmin].set_index("width")["regions_per_neuron"]
                ratios.append(float((a / b).mean()))
        m, lo, hi, n = mean_ci(ratios)
        checks.append(Check(
            statement=f"no exponential growth in depth: regions/N at depth {dmax} vs depth {dmin}",
            quantity="ratio of regions per neuron (deep / shallow, same width)", measured=m if n else None,
            interval=_ci(lo, hi, n), threshold="95% CI within [0, 2]",
            status=_status_within(m, lo, hi, n, 0.0, 2.0), n=n, reference=1.0, exact=False))
        data = df[df.kind == "data"]
        ratios = []
        for _, g in data.groupby("seed"):
            i = g[g.phase == "init"].set_index(["width", "depth"])["regions_per_neuron"]
            t = g[g.phase == "trained"].set_index(["width", "depth"])["regions_per_neuron"]
            if len(t):
                ratios.append(float(np.exp(np.log(t / i).mean())))
        m, lo, hi, n = mean_ci(ratios)
        checks.append(Check(
            statement="after training, regions per neuron on data segments stays of the order at init",
            quantity="geometric-mean ratio regions/N trained / init", measured=m if n else None,
            interval=_ci(lo, hi, n), threshold="95% CI within [1/3, 3]",
            status=_status_within(m, lo, hi, n, 1 / 3, 3.0), n=n, reference=1.0, exact=False))
        ev = {"regions_per_neuron_random_init": {f"[{w}]x{L}": round(float(v), 4) for (w, L), v in
                                                  rnd.groupby(["width", "depth"])["regions_per_neuron"].mean().items()}}
        return self.verdict(checks, **ev)

    def figures(self, results: Results) -> dict[str, Figure]:
        df = results.table("segments")
        fig = Figure(figsize=(9, 3.6))
        ax1, ax2 = fig.subplots(1, 2)
        for (kind, phase), g in df.groupby(["kind", "phase"]):
            agg = g.groupby(["neurons", "depth"])["mean_regions"].mean().reset_index()
            for L, h in agg.groupby("depth"):
                ax1.plot(h["neurons"], h["mean_regions"], "o-", label=f"{kind}/{phase}, depth {L}")
            agg2 = g.groupby("depth")["regions_per_neuron"].mean()
            ax2.plot(agg2.index, agg2.values, "o-", label=f"{kind}/{phase}")
        nmax = df["neurons"].max()
        ax1.plot([0, nmax], [1, 1 + 0.5 * nmax], "k--", lw=1, label="1 + N/2")
        ax1.set_xlabel("neurons N")
        ax1.set_ylabel("regions on a segment (exact)")
        ax1.legend(fontsize=6, frameon=False)
        ax2.axhline(0.5, color="k", ls="--", lw=1)
        ax2.set_xlabel("depth (hidden layers)")
        ax2.set_ylabel("regions per neuron")
        ax2.set_ylim(bottom=0)
        ax2.legend(fontsize=7, frameon=False)
        fig.tight_layout()
        return {"Regions along segments vs neurons and depth": fig}


# =============================================================================================
# 2. regions-2d-slice
# =============================================================================================
class Regions2DConfig(ExperimentConfig):
    data: DataName = Field("digits", description="data set the slice passes through and the net trains on")
    n_train: int = Field(1000, ge=10, description="training examples (count)")
    hidden: tuple[int, ...] = Field((32, 32, 32), description="hidden widths (H&R: depth 3 × width 32)")
    corruptions: tuple[float, ...] = Field((0.0, 0.5), description="fractions of training labels randomised")
    train_steps: int = Field(1500, ge=0, description="Adam steps (lr 1e-3, H&R's best setting)")
    checkpoints: tuple[int, ...] = Field((0, 100, 500, 1500), description="steps at which the slice is partitioned")
    lr: float = Field(1e-3, gt=0, description="Adam learning rate (per step)")
    batch_size: int = Field(128, ge=1, description="examples per step")
    margin: float = Field(0.5, ge=0, description="box margin around the triangle (slice units; triangle side 1)")
    keep_polygons: bool = Field(True, description="store polygon vertices for the figures")


@register
class Regions2DSlice(Experiment):
    name = "regions-2d-slice"
    claim = (
        "The number of linear regions in a 2-D cross-section is about N²/2! (depth 3, width 32: "
        "N = 96, 4608) at init and stays so during training, even when the network memorises "
        "corrupted labels — far below exponential in depth."
    )
    source = (
        "Hanin & Rolnick 2019, 'Deep ReLU networks have surprisingly few activation patterns', "
        "NeurIPS, arXiv 1906.00904"
    )
    check_statement = (
        "Exact 2-D partitions of the slice through three training points (box = triangle ± margin): "
        "max over checkpoints of |log10(count / (N²/2!))| in [0, 1] (within a factor 10); growth "
        "during training (max / init) in [0, 3]; final count with label corruption / without in "
        "[1/3, 3]. Supported when the 95% interval over seeds lies inside the band, not supported "
        "when entirely outside, else inconclusive."
    )
    Config = Regions2DConfig
    presets: ClassVar[dict] = {
        "smoke": {"n_train": 200, "hidden": (8, 8), "corruptions": (0.0, 0.5), "train_steps": 20,
                  "checkpoints": (0, 20)},
        "quick": {},
        "full": {"data": "mnist1d", "n_train": 4000, "train_steps": 20000,
                 "checkpoints": (0, 500, 2000, 5000, 10000, 20000)},
    }
    default_seeds: ClassVar[dict] = {"smoke": 1, "quick": 2, "full": 3}
    budget_s = 20.0
    tables = ("counts", "polygons", "boundary")
    summary_keys = ("label_noise", "step")

    def run(self, config: Regions2DConfig, seed: int) -> dict[str, pd.DataFrame]:
        ds = _data(config.data, config.n_train)
        rng = np.random.default_rng(seed)
        N = int(sum(config.hidden))
        predicted = N**2 / math.factorial(2)
        ia, ib, ic = rng.choice(len(ds.X_train), size=3, replace=False)
        origin = ds.X_train[ia]
        u, v = ds.X_train[ib] - origin, ds.X_train[ic] - origin
        lo, hi = -config.margin, 1.0 + config.margin
        # area of the box in input units²: sqrt of the Gram determinant of (u, v)
        gram = np.array([[u @ u, u @ v], [u @ v, v @ v]])
        area = float(np.sqrt(max(np.linalg.det(gram), 0.0)) * (hi - lo) ** 2)
        mseed = int(rng.integers(2**31))
        rows, polys, bnds = [], [], []
        for noise in config.corruptions:
            y = noisy_labels(ds.y_train, noise, ds.n_classes, seed + 1) if noise > 0 else ds.y_train
            net = mlp(ds.dim, list(config.hidden), ds.n_classes, seed=mseed)

            def measure(step: int, net=net, y=y, noise=noise) -> None:
                part = partition_2d(net, origin, u, v, (lo, hi, lo, hi))
                rows.append({
                    "label_noise": float(noise), "step": step, "regions": part.count,
                    "predicted": predicted, "ratio": part.count / predicted, "slice_area": area,
                    "regions_per_area": part.count / area,
                    **{f"regions_after_layer{i + 1}": c for i, c in enumerate(part.counts_per_layer)},
                    "train_acc": accuracy(net, ds.X_train, y), "test_acc": accuracy(net, ds.X_test, ds.y_test),
                })
                if config.keep_polygons:
                    sizes = [len(V) for V in part.polygons]
                    st = np.concatenate(part.polygons)
                    polys.append(pd.DataFrame({"label_noise": float(noise), "step": step,
                                               "region": np.repeat(np.arange(part.count), sizes),
                                               "s": st[:, 0], "t": st[:, 1]}))
                    segs = decision_boundary_segments(part).reshape(-1, 4)
                    bnds.append(pd.DataFrame({"label_noise": float(noise), "step": step, "s0": segs[:, 0],
                                              "t0": segs[:, 1], "s1": segs[:, 2], "t1": segs[:, 3]}))

            _checkpoint_training(net, ds.X_train, y, config.train_steps, config.checkpoints, measure,
                                 lr=config.lr, batch_size=config.batch_size, seed=mseed + 1)
        poly_df = pd.concat(polys, ignore_index=True) if polys else pd.DataFrame(
            {"label_noise": [], "step": [], "region": [], "s": [], "t": []})
        bnd_df = pd.concat(bnds, ignore_index=True) if bnds else pd.DataFrame(
            {"label_noise": [], "step": [], "s0": [], "t0": [], "s1": [], "t1": []})
        return {"counts": pd.DataFrame(rows), "polygons": poly_df, "boundary": bnd_df}

    def check(self, results: Results) -> Verdict:
        df = results.table("counts")
        dev = df.groupby("seed").apply(lambda g: float(np.abs(np.log10(g["ratio"])).max()), include_groups=False)
        m, lo, hi, n = mean_ci(dev)
        checks = [Check(
            statement="region count in the slice is of the order N²/2! at every checkpoint",
            quantity="max over checkpoints of |log10(count / (N²/2!))|", measured=m,
            interval=_ci(lo, hi, n), threshold="95% CI within [0, 1] (a factor 10)",
            status=_status_within(m, lo, hi, n, 0.0, 1.0), n=n, reference=float(df["predicted"].iloc[0]),
            exact=False)]
        growth = []  # per seed: the largest growth over its label-noise levels
        for _, gs in df.groupby("seed"):
            gr = [float(g.sort_values("step")["regions"].max() / g.sort_values("step")["regions"].iloc[0])
                  for _, g in gs.groupby("label_noise") if len(g) > 1]
            if gr:
                growth.append(max(gr))
        m, lo, hi, n = mean_ci(growth)
        checks.append(Check(
            statement="training does not multiply the count (no blow-up during training)",
            quantity="max count over training / count at init (largest over label-noise levels)",
            measured=m if n else None, interval=_ci(lo, hi, n), threshold="95% CI within [0, 3]",
            status=_status_within(m, lo, hi, n, 0.0, 3.0), n=n, reference=1.0, exact=False))
        ratios = []
        noises = sorted(df["label_noise"].unique())
        if len(noises) > 1 and noises[0] == 0.0:
            for _, g in df.groupby("seed"):
                last = g[g.step == g.step.max()].set_index("label_noise")["regions"]
                ratios.append(float(last[noises[-1]] / last[0.0]))
        m, lo, hi, n = mean_ci(ratios)
        checks.append(Check(
            statement=f"memorising {noises[-1]:.0%} corrupted labels keeps the count of the same order",
            quantity="final count, corrupted / clean", measured=m if n else None,
            interval=_ci(lo, hi, n), threshold="95% CI within [1/3, 3]",
            status=_status_within(m, lo, hi, n, 1 / 3, 3.0), n=n, reference=1.0, exact=False))
        ev = {"mean_regions_by_noise_step": {f"noise={k[0]:g},step={k[1]}": round(float(v), 1) for k, v in
                                             df.groupby(["label_noise", "step"])["regions"].mean().items()},
              "predicted_N2_over_2": float(df["predicted"].iloc[0])}
        return self.verdict(checks, **ev)

    def figures(self, results: Results) -> dict[str, Figure]:
        df = results.table("counts")
        fig = Figure(figsize=(5.5, 3.6))
        ax = fig.subplots()
        for noise, g in df.groupby("label_noise"):
            agg = g.groupby("step")["regions"].agg(["mean", "min", "max"])
            x = np.maximum(agg.index.to_numpy(float), 1)
            ax.plot(x, agg["mean"], "o-", label=f"label noise {noise:.0%}")
            ax.fill_between(x, agg["min"], agg["max"], alpha=0.2)
        ax.axhline(df["predicted"].iloc[0], color="k", ls="--", lw=1, label="N²/2!")
        ax.set_xscale("log")
        ax.set_xlabel("training step (step 0 drawn at 1)")
        ax.set_ylabel("regions in the 2-D slice (exact)")
        ax.legend(fontsize=8, frameon=False)
        fig.tight_layout()
        out = {"Regions in a 2-D slice during training": fig}
        polys = results.table("polygons")
        if len(polys):
            from matplotlib.collections import LineCollection, PolyCollection

            seed0 = polys["seed"].min()
            p = polys[polys.seed == seed0]
            bnd = results.table("boundary")
            bnd = bnd[bnd.seed == seed0]
            noises = sorted(p["label_noise"].unique())
            steps = sorted(p["step"].unique())
            fig2 = Figure(figsize=(2.6 * len(steps), 2.8 * len(noises)))
            axes = np.asarray(fig2.subplots(len(noises), len(steps), squeeze=False))
            for r, noise in enumerate(noises):
                for c, step in enumerate(steps):
                    ax = axes[r, c]
                    q = p[(p.label_noise == noise) & (p.step == step)]
                    reg = q["region"].to_numpy()
                    cuts = np.flatnonzero(np.diff(reg)) + 1  # rows are grouped by region
                    verts = np.split(q[["s", "t"]].to_numpy(), cuts)
                    colours = np.random.default_rng(0).uniform(0.35, 0.95, size=(len(verts), 3))
                    ax.add_collection(PolyCollection(verts, facecolors=colours, edgecolors="k", linewidths=0.1))
                    b = bnd[(bnd.label_noise == noise) & (bnd.step == step)]
                    if len(b):
                        segs = b[["s0", "t0", "s1", "t1"]].to_numpy().reshape(-1, 2, 2)
                        ax.add_collection(LineCollection(segs, colors="red", linewidths=1.0))
                    ax.autoscale_view()
                    ax.plot([0, 1, 0], [0, 0, 1], "k*", ms=7)
                    ax.set_title(f"noise {noise:.0%}, step {step}: {len(verts)}", fontsize=8)
                    ax.set_xticks([])
                    ax.set_yticks([])
            fig2.tight_layout()
            out["Partitions of the slice (first seed; stars: the three training points; red: decision boundary)"] = fig2
        return out


# =============================================================================================
# 3. local-complexity-dynamics
# =============================================================================================
def boundary_points(model, A: np.ndarray, B: np.ndarray, iters: int = 30) -> np.ndarray:
    """Points on the decision boundary between pairs (A_i, B_i) whose predicted classes differ.

    Bisection on the segment A→B keeping the class of A on the left; ``iters`` halvings put the
    point within 2^-iters of the segment length from a class change. Pairs with equal predicted
    classes are dropped. Returns (m, d).
    """
    ca = predict(model, A).argmax(1).numpy()
    cb = predict(model, B).argmax(1).numpy()
    keep = ca != cb
    A, B, ca = A[keep], B[keep], ca[keep]
    lo = np.zeros(len(A))
    hi = np.ones(len(A))
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        c = predict(model, A + mid[:, None] * (B - A)).argmax(1).numpy()
        same = c == ca
        lo = np.where(same, mid, lo)
        hi = np.where(same, hi, mid)
    return A + (0.5 * (lo + hi))[:, None] * (B - A)


def phase_score(lc: np.ndarray) -> tuple[float, int, int]:
    """How clearly a series shows descent → ascent → descent, relative to its first value.

    Returns ``(score, i_min, i_max)``: the best over i_min < i_max of
    min(L0 − L[i_min], L[i_max] − L[i_min], L[i_max] − L[-1]) / L0. A score above a few percent
    means all three phases are visible (Humayun et al. 2024, Fig. 1).
    """
    L = np.asarray(lc, float)
    if len(L) < 4 or L[0] <= 0:
        return float("nan"), -1, -1
    best, bi, bj = -np.inf, -1, -1
    for i in range(1, len(L) - 2):
        for j in range(i + 1, len(L) - 1):
            s = min(L[0] - L[i], L[j] - L[i], L[j] - L[-1]) / L[0]
            if s > best:
                best, bi, bj = s, i, j
    return float(best), bi, bj


class LCDynamicsConfig(ExperimentConfig):
    hidden: tuple[int, ...] = Field((64, 64, 64), description="hidden widths (paper: 200 × depth 2–6)")
    n_train: int = Field(1000, ge=10, description="training examples (paper: 1000 MNIST digits)")
    train_steps: int = Field(4000, ge=1, description="AdamW steps (paper: 1e6)")
    n_checkpoints: int = Field(12, ge=4, description="log-spaced measurement steps (count, step 0 included)")
    lr: float = Field(1e-3, gt=0, description="AdamW learning rate (per step)")
    weight_decay: float = Field(0.01, ge=0, description="AdamW weight decay (paper: 0.01)")
    batch_size: int = Field(200, ge=1, description="examples per step (paper: 200)")
    init_scale: float = Field(1.0, gt=0, description="multiplier on He-init weights (larger → later grokking)")
    radius: float = Field(0.25, gt=0, description="cross-polytope radius r (input units; pixels in [0, 1])")
    n_frame: int = Field(16, ge=1, description="random orthonormal directions per point (2·n_frame vertices)")
    n_points: int = Field(200, ge=1, description="train and test points where LC is measured (each)")
    n_pairs: int = Field(200, ge=1, description="test-point pairs searched for decision-boundary points")
    pgd_eps: float = Field(0.1, ge=0, description="L∞ PGD radius (pixels in [0, 1])")
    pgd_steps: int = Field(10, ge=1, description="PGD iterations")
    n_attack: int = Field(300, ge=1, description="test points attacked (count)")
    phase_threshold: float = Field(0.05, gt=0, description="min phase depth as a fraction of LC at init")


@register
class LocalComplexityDynamics(Experiment):
    name = "local-complexity-dynamics"
    claim = (
        "Over a long training run, local complexity (density of linear regions) around training "
        "points goes through three phases — descent, ascent, then a final descent as regions "
        "migrate to the decision boundary — and adversarial robustness rises late ('grokking')."
    )
    source = (
        "Humayun, Balestriero & Baraniuk 2024, 'Deep networks always grok and here is why', "
        "ICML, arXiv 2310.12977"
    )
    check_statement = (
        "LC summed over layers, mean over training points, at log-spaced steps: the phase score "
        "min(descent, ascent, final descent)/LC₀ above `phase_threshold`; PGD robust accuracy at "
        "the end above that at the LC peak. Supported when the 95% interval over seeds lies above "
        "the threshold, not supported when entirely below, else inconclusive."
    )
    Config = LCDynamicsConfig
    presets: ClassVar[dict] = {
        "smoke": {"hidden": (16, 16), "n_train": 200, "train_steps": 60, "n_checkpoints": 5, "n_frame": 4,
                  "n_points": 30, "n_pairs": 30, "n_attack": 30, "pgd_steps": 3},
        "quick": {},
        "full": {"hidden": (200, 200, 200, 200), "train_steps": 100_000, "n_checkpoints": 30,
                 "n_frame": 25, "n_points": 1000, "n_pairs": 1000, "n_attack": 1000, "pgd_steps": 20},
    }
    default_seeds: ClassVar[dict] = {"smoke": 1, "quick": 2, "full": 3}
    budget_s = 20.0
    tables = ("accuracy", "lc")
    summary_keys = ("step",)

    def run(self, config: LCDynamicsConfig, seed: int) -> dict[str, pd.DataFrame]:
        from theorylab.probes.attacks import robust_accuracy

        ds = _data("digits", config.n_train)
        rng = np.random.default_rng(seed)
        mseed = int(rng.integers(2**31))
        net = mlp(ds.dim, list(config.hidden), ds.n_classes, seed=mseed)
        if config.init_scale != 1.0:
            with torch.no_grad():
                for p in net.parameters():
                    p.mul_(config.init_scale)
        Y = np.eye(ds.n_classes)[ds.y_train]  # one-hot MSE targets, as the paper
        itr = rng.choice(len(ds.X_train), size=min(config.n_points, len(ds.X_train)), replace=False)
        ite = rng.choice(len(ds.X_test), size=min(config.n_points, len(ds.X_test)), replace=False)
        pa = rng.choice(len(ds.X_test), size=config.n_pairs)
        pb = rng.choice(len(ds.X_test), size=config.n_pairs)
        iat = rng.choice(len(ds.X_test), size=min(config.n_attack, len(ds.X_test)), replace=False)
        # log-spaced measurement steps on a grid of `unit` steps: the train loop evaluates the
        # full training loss at every multiple of gcd(steps), so a unit of 1 would cost one extra
        # full pass per step; 10 keeps that cheap and still resolves the early LC descent
        unit = max(1, min(10, config.train_steps // 400))
        grid = np.geomspace(unit, config.train_steps, config.n_checkpoints - 1)
        steps = np.unique(np.clip(np.round(grid / unit) * unit, unit, config.train_steps).astype(int))
        acc_rows, lc_rows = [], []

        def measure(step: int) -> None:
            net.eval()
            bnd = boundary_points(net, ds.X_test[pa], ds.X_test[pb])
            where = {"train": ds.X_train[itr], "test": ds.X_test[ite], "boundary": bnd}
            prog = affine_program(net, (ds.dim,))
            for loc, X in where.items():
                if len(X) == 0:
                    continue
                lc = local_complexity(prog, X, radius=config.radius, n_frame=config.n_frame, seed=seed + 17)
                for layer in range(lc.shape[1]):
                    lc_rows.append({"step": step, "location": loc, "layer": layer + 1,
                                    "lc": float(lc[:, layer].mean()), "n_measured": len(X)})
            rob = robust_accuracy(net, ds.X_test[iat], ds.y_test[iat], norm="Linf", eps=config.pgd_eps,
                                  steps=config.pgd_steps, seed=seed)
            acc_rows.append({"step": step, "train_acc": accuracy(net, ds.X_train, ds.y_train),
                             "test_acc": accuracy(net, ds.X_test, ds.y_test), "robust_acc": rob.robust,
                             "n_boundary": len(bnd)})
            net.train()

        _checkpoint_training(net, ds.X_train, Y, config.train_steps, (0, *steps.tolist()), measure,
                             lr=config.lr, weight_decay=config.weight_decay, optimizer="adamw", loss="mse",
                             batch_size=config.batch_size, seed=mseed + 1)
        return {"accuracy": pd.DataFrame(acc_rows), "lc": pd.DataFrame(lc_rows)}

    def check(self, results: Results) -> Verdict:
        cfg = results.first_config()
        thr = cfg.phase_threshold
        lc = results.table("lc")
        acc = results.table("accuracy")
        scores, gains, evidence = [], [], {}
        for s, g in lc[lc.location == "train"].groupby("seed"):
            series = g.groupby("step")["lc"].sum().sort_index()
            score, i, j = phase_score(series.to_numpy())
            scores.append(score)
            a = acc[acc.seed == s].set_index("step")["robust_acc"]
            if len(series) >= 2:
                # delayed robustness is measured from the global LC peak, whether or not an
                # initial descent preceded it
                peak = int(series.index[int(np.argmax(series.to_numpy()))])
                gains.append(float(a.iloc[-1] - a.loc[peak]))
                evidence[f"seed{s}"] = {"lc_peak_step": peak, "lc_init": round(float(series.iloc[0]), 3),
                                        "lc_peak": round(float(series.max()), 3),
                                        "lc_final": round(float(series.iloc[-1]), 3),
                                        "phase_score": round(score, 4),
                                        "best_split_steps": [int(series.index[i]), int(series.index[j])]
                                        if j >= 0 else None}
        m, lo, hi, n = mean_ci(scores)
        checks = [Check(
            statement="LC near training points shows descent, ascent, then descent",
            quantity="phase score min(descent, ascent, final descent) / LC at init", measured=m if n else None,
            interval=_ci(lo, hi, n), threshold=f"95% CI above {thr:g}",
            status=_status_within(m, lo, hi, n, thr, np.inf), n=n, reference=None, exact=False)]
        m, lo, hi, n = mean_ci(gains)
        checks.append(Check(
            statement="robust accuracy rises after the LC peak (delayed robustness)",
            quantity="PGD robust accuracy at the end − at the LC peak", measured=m if n else None,
            interval=_ci(lo, hi, n), threshold="95% CI above 0",
            status=_status_within(m, lo, hi, n, 1e-12, np.inf), n=n, reference=None, exact=False))
        final = acc[acc.step == acc.step.max()]
        evidence["final_test_acc"] = round(float(final["test_acc"].mean()), 4)
        evidence["final_robust_acc"] = round(float(final["robust_acc"].mean()), 4)
        return self.verdict(checks, **evidence)

    def figures(self, results: Results) -> dict[str, Figure]:
        lc = results.table("lc")
        acc = results.table("accuracy")
        fig = Figure(figsize=(6, 5.5))
        ax1, ax2 = fig.subplots(2, 1, sharex=True)
        tot = lc.groupby(["seed", "location", "step"])["lc"].sum().reset_index()
        for loc, g in tot.groupby("location"):
            agg = g.groupby("step")["lc"].mean()
            ax1.plot(np.maximum(agg.index.to_numpy(float), 1), agg.values, "o-", ms=3, label=loc)
        ax1.set_ylabel("local complexity (neurons cut)")
        ax1.legend(fontsize=8, frameon=False)
        a = acc.groupby("step")[["train_acc", "test_acc", "robust_acc"]].mean()
        x = np.maximum(a.index.to_numpy(float), 1)
        for col in a.columns:
            ax2.plot(x, a[col], "o-", ms=3, label=col.replace("_", " "))
        ax2.set_xscale("log")
        ax2.set_xlabel("training step (step 0 drawn at 1)")
        ax2.set_ylabel("accuracy")
        ax2.legend(fontsize=8, frameon=False)
        fig.tight_layout()
        return {"Local complexity and accuracy over training": fig}

