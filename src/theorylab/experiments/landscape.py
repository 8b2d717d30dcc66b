"""Claim F: trajectories, not the landscape — linear mode connectivity and bad global minima.

Two experiments:

* ``mode-connectivity`` (Frankle, Dziugaite, Roy & Carbin, ICML 2020). Train a network for k
  steps, copy it, and train the two copies to the end with different data orders (the only SGD
  noise here). The *error barrier* on the straight line between the two results (largest test
  error on the path minus the mean of the endpoints') below 2 % means "stable": the two runs
  ended in one linearly connected basin. Frankle et al.: LeNet on MNIST is stable from
  initialization; larger nets (ResNet-20, VGG-16) become stable early in training. The talk's
  notion of convexity ("the average model does at least as well") is this test at α = 1/2.
  Control: two independently initialized runs, whose barrier must be large — otherwise the test
  could not tell stable from unstable.
* ``trajectory-not-landscape`` (Arora; Liu, Papailiopoulos & Achlioptas, NeurIPS 2020, "Bad
  global minima exist and SGD can reach them"). Zero-training-error solutions with very
  different test errors coexist: fitting the training set together with extra points of the
  same distribution under random labels gives a network that still classifies every training
  point correctly but generalizes much worse. Plain SGD from a random init does not land near
  those; which minimum training reaches is decided by the trajectory. Liu et al. (v1): vanilla
  SGD from an init pre-trained on randomly labelled copies of the training data (their
  "confusion set") reaches a zero-error solution with clearly worse test error; (v2) with data
  augmentation, weight decay and momentum the pre-training no longer hurts. Both versions are
  checked, separately.

Departures from the papers, stated: scikit-learn digits (8×8) or MNIST-1D stand in for MNIST /
CIFAR-10; an MLP with two hidden layers stands in for LeNet-300-100 and a two-layer CNN for the
larger convolutional nets. In ``mode-connectivity`` each copy starts a fresh optimizer at step k
(the momentum buffer is not copied). In ``trajectory-not-landscape`` the two helper fits that no
claim is about (the constructed bad minimum and the random-label pre-training) use Adam, for
speed; every run that a claim is about uses SGD. Augmentation is static: two copies of every
training image shifted by up to one pixel (digits) or sample (MNIST-1D). Every solution is
trained until it classifies the whole (true) training set correctly, checked every
``check_every`` steps; one that does not get there within ``max_steps`` is reported and left
out of the comparisons.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

import numpy as np
from pydantic import Field, model_validator

from theorylab.engine.checks import Check, interval_check, worst_of
from theorylab.engine.config import ExperimentConfig
from theorylab.engine.experiment import Experiment
from theorylab.engine.stats import difference_interval, mean_interval
from theorylab.seeding import child_seed
from theorylab.seeding import rng as child_rng

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure
    from torch import nn

    from theorylab.data.datasets import Dataset
    from theorylab.engine.results import Results

__all__ = [
    "ModeConnectivity",
    "ModeConnectivityConfig",
    "TrajectoryConfig",
    "TrajectoryNotLandscape",
]

DataName = Literal["digits", "mnist1d"]
Arch = Literal["mlp", "cnn"]


def _load(data: DataName, seed: int) -> Dataset:
    from theorylab.data import load_digits, load_mnist1d

    if data == "digits":
        return load_digits(seed=seed)
    return load_mnist1d()


def _network(arch: Arch, ds: Dataset, width: int, seed: int) -> nn.Module:
    """MLP (two hidden layers of ``width``, He init) or a small CNN fed the flattened inputs."""
    from torch import nn

    from theorylab.models import cnn1d, cnn2d, mlp

    if arch == "mlp":
        return mlp(ds.dim, (width, width), ds.n_classes, seed=seed)
    shape = ds.image_shape
    if shape is not None and len(shape) == 3:
        c, h, w = shape
        body = cnn2d(h, ds.n_classes, channels=(8, 16), hidden=32, in_channels=c, seed=seed, init="he")
        return nn.Sequential(nn.Unflatten(1, (c, h, w)), body)
    return cnn1d(ds.dim, ds.n_classes, channels=(16, 16, 16), seed=seed, init="he")


# =============================================================================================
# mode-connectivity
# =============================================================================================
class ModeConnectivityConfig(ExperimentConfig):
    data: DataName = Field("digits", description="data set (built in, offline)")
    archs: tuple[Arch, ...] = Field(("mlp", "cnn"), min_length=1, description="architectures (mlp: LeNet-300-100 analog)")
    width: int = Field(100, ge=4, le=4096, description="hidden width of the MLP")
    steps: int = Field(500, ge=10, le=1_000_000, description="total SGD steps T of each run (parent k + child T − k)")
    ks: tuple[Annotated[int, Field(ge=0)], ...] = Field(
        (0, 20, 100), min_length=1, description="steps k after which the two copies are split")
    lr: float = Field(0.05, gt=0, le=2, description="SGD learning rate")
    momentum: float = Field(0.9, ge=0, lt=1, description="SGD momentum")
    batch_size: int = Field(64, ge=1, le=8192, description="examples per step")
    alphas: int = Field(11, ge=3, le=201, description="evenly spaced points on the path, ends included")

    @model_validator(mode="after")
    def _ks_below_steps(self) -> ModeConnectivityConfig:
        if max(self.ks) >= self.steps:
            raise ValueError(f"every k must be below steps = {self.steps}, got {self.ks}")
        if self.alphas % 2 == 0:
            raise ValueError("alphas must be odd, so that α = 1/2 (the average model) is on the grid")
        return self


class ModeConnectivity(Experiment):
    name = "mode-connectivity"
    kind = "claim"
    claim = (
        "Two copies of a network trained from the same weights at step k with different SGD noise "
        "end in one linearly connected basin (error barrier on the straight line < 2 %): LeNet on "
        "MNIST from initialization, larger networks from early in training; 'the average model does "
        "at least as well' is this test."
    )
    source = (
        "Frankle, Dziugaite, Roy & Carbin 2020, 'Linear Mode Connectivity and the Lottery Ticket "
        "Hypothesis', ICML, arXiv 1912.05671, §3 (stability = barrier < 2 %)"
    )
    check_statement = (
        "Seeds as replicates; barrier = max test error on the path − mean of the endpoints' (fraction), "
        "t-interval kept in [0, 1]. (1) The MLP (LeNet-300-100 analog) is stable from init: barrier "
        "at k = 0 below 0.02. (2) Every architecture is stable by the largest k: barrier below 0.02. "
        "(3) The average model does at least as well (to 2 points) at the largest k: error at "
        "α = 1/2 − mean endpoint error below 0.02. (4) Control: two independently initialized runs "
        "have a barrier above 0.02 for every architecture (the test can see instability). The "
        "smallest k from which each architecture is stable is reported. Pairs whose endpoints did not "
        "learn (mean test error > 0.5) are not judged (inconclusive)."
    )
    Config = ModeConnectivityConfig
    presets: ClassVar[dict] = {
        "smoke": {"steps": 60, "ks": (0, 20), "width": 32, "alphas": 5},
        "quick": {},
        "full": {"data": "mnist1d", "steps": 6000, "ks": (0, 25, 50, 100, 200, 500, 1000, 2000),
                 "lr": 0.05, "batch_size": 100, "alphas": 21},
    }
    default_seeds: ClassVar[dict] = {"smoke": 2, "quick": 5, "full": 10}
    budget_s = 12.0
    tables = ("paths", "barriers")
    STABLE: ClassVar[float] = 0.02
    UNTRAINED: ClassVar[float] = 0.5  # mean endpoint test error above which a pair is not judged

    def run(self, config: ModeConnectivityConfig, seed: int) -> dict[str, pd.DataFrame]:
        import pandas as pd

        from theorylab.probes.paths import linear_path

        ds = _load(config.data, child_seed(seed, 0))
        X, y = ds.X_train.astype(np.float32), ds.y_train
        Xt, yt = ds.X_test.astype(np.float32), ds.y_test
        kw = {"optimizer": "sgd", "lr": config.lr, "momentum": config.momentum, "batch_size": config.batch_size}
        from theorylab.models import train

        path_rows, barrier_rows = [], []

        def record(arch: str, k: int | str, template: nn.Module, a: nn.Module, b: nn.Module) -> None:
            res = linear_path(template, a, b, Xt, yt, alphas=config.alphas)
            _, mid_err = res.at(0.5)
            barrier_rows.append({"arch": arch, "split": str(k), "k": -1 if k == "independent" else int(k),
                                 "error_barrier": res.error_barrier, "loss_barrier": res.loss_barrier,
                                 "loss_convexity_gap": res.loss_convexity_gap,
                                 "midpoint_gap": mid_err - 0.5 * (res.error[0] + res.error[-1]),
                                 "error_a": float(res.error[0]), "error_b": float(res.error[-1])})
            path_rows.extend({"arch": arch, "split": str(k), "alpha": float(al), "test_error": float(e),
                              "test_loss": float(lo)} for al, e, lo in zip(res.alphas, res.error, res.loss, strict=True))

        for ai, arch in enumerate(config.archs):
            parent = _network(arch, ds, config.width, child_seed(seed, 1, ai))
            done = 0
            for k in sorted(config.ks):
                if k > done:
                    # the parent's own data order continues across the ks (one run, split at each k)
                    train(parent, X, y, steps=k - done, seed=child_seed(seed, 2, ai, k), **kw)
                    done = k
                a, b = copy.deepcopy(parent), copy.deepcopy(parent)
                train(a, X, y, steps=config.steps - k, seed=child_seed(seed, 3, ai, k, 0), **kw)
                train(b, X, y, steps=config.steps - k, seed=child_seed(seed, 3, ai, k, 1), **kw)
                record(arch, k, parent, a, b)
            # control: independent inits and data orders
            a = _network(arch, ds, config.width, child_seed(seed, 4, ai, 0))
            b = _network(arch, ds, config.width, child_seed(seed, 4, ai, 1))
            train(a, X, y, steps=config.steps, seed=child_seed(seed, 5, ai, 0), **kw)
            train(b, X, y, steps=config.steps, seed=child_seed(seed, 5, ai, 1), **kw)
            record(arch, "independent", a, a, b)
        return {"paths": pd.DataFrame(path_rows), "barriers": pd.DataFrame(barrier_rows)}

    def _estimates(self, results: Results) -> dict[tuple[str, str], dict[str, Any]]:
        """Barrier and midpoint gap per (architecture, split) over seeds. A cell whose endpoints
        did not learn (mean test error above ``UNTRAINED``) has no estimate: a flat path between
        two untrained networks is no evidence of stability."""
        b = results.table("barriers")
        out = {}
        for (arch, split), g in b.groupby(["arch", "split"]):
            trained = float((0.5 * (g.error_a + g.error_b)).mean()) <= self.UNTRAINED
            out[(arch, split)] = {
                "barrier": mean_interval(g.error_barrier if trained else [], bounds=(0, 1)),
                "midpoint": mean_interval(g.midpoint_gap if trained else [], bounds=(-1, 1)),
                "endpoint_error": float((0.5 * (g.error_a + g.error_b)).mean()),
            }
        return out

    def stable_from(self, results: Results) -> dict[str, int | None]:
        """Per architecture: the smallest k with the barrier's upper bound below 2 % there and at
        every larger k (None if there is none)."""
        cfg = results.config
        est = self._estimates(results)
        out: dict[str, int | None] = {}
        for arch in cfg.archs:
            stable_k = None
            for k in sorted(cfg.ks, reverse=True):
                e = est[(arch, str(k))]["barrier"]
                if e.has_interval and e.hi < self.STABLE:
                    stable_k = k
                else:
                    break
            out[arch] = stable_k
        return out

    def check_point(self, results: Results) -> list[Check]:
        cfg = results.config
        est = self._estimates(results)
        kmax = str(max(cfg.ks))
        checks: list[Check | None] = []
        if "mlp" in cfg.archs and 0 in cfg.ks:
            checks.append(interval_check(
                "the MLP (LeNet-300-100 analog) is stable from initialization", "error barrier at k = 0 (fraction)",
                est[("mlp", "0")]["barrier"], below=self.STABLE, effect="barrier < 2 % (Frankle et al.'s 'stable')"))
        archs = list(cfg.archs)
        checks.append(worst_of(
            [interval_check("stable by the largest k", f"error barrier at k = {kmax} (fraction)",
                            est[(a, kmax)]["barrier"], below=self.STABLE, effect="barrier < 2 %") for a in archs],
            f"every architecture is stable after k = {kmax} steps", labels=archs))
        checks.append(worst_of(
            [interval_check("the average model does at least as well", "error(α = ½) − mean endpoint error (fraction)",
                            est[(a, kmax)]["midpoint"], below=self.STABLE, effect="no worse than the endpoints, to 2 points")
             for a in archs],
            f"the average of the two models does at least as well (k = {kmax})", labels=archs))
        checks.append(worst_of(
            [interval_check("control: independent runs are not linearly connected",
                            "error barrier between independently initialized runs (fraction)",
                            est[(a, "independent")]["barrier"], above=self.STABLE,
                            effect="barrier > 2 %: the test can see instability") for a in archs],
            "control: independently initialized runs show a barrier", labels=archs))
        return [c for c in checks if c is not None]

    def evidence(self, results: Results) -> dict[str, Any]:
        out = {}
        for point, res in results.by_point():
            est = self._estimates(res)
            tag = ", ".join(f"{k}={v}" for k, v in point.items())
            out[tag or "all"] = {
                "stable_from_k": self.stable_from(res),
                "barrier_mean": {f"{a} k={s}": round(v["barrier"].value, 4) for (a, s), v in est.items()},
                "endpoint_test_error": {f"{a} k={s}": round(v["endpoint_error"], 4) for (a, s), v in est.items()},
            }
        return out

    def figures(self, results: Results) -> dict[str, Figure]:
        from matplotlib.figure import Figure

        b = results.table("barriers")
        fig1 = Figure(figsize=(6.4, 4.2))
        ax = fig1.subplots()
        for i, (arch, g) in enumerate(b[b.split != "independent"].groupby("arch")):
            s = g.groupby("k").error_barrier.agg(["mean", "std", "count"])
            half = 1.96 * s["std"].fillna(0) / np.sqrt(s["count"])
            x = np.maximum(s.index.to_numpy(float), 0.5)
            ax.errorbar(x, 100 * s["mean"], yerr=100 * half, fmt="o-", color=f"C{i}", capsize=3, label=f"{arch}, split at k")
            ind = b[(b.arch == arch) & (b.split == "independent")].error_barrier
            ax.axhline(100 * float(ind.mean()), color=f"C{i}", ls=":", lw=1, label=f"{arch}, independent inits")
        ax.axhline(100 * self.STABLE, color="0.3", ls="--", lw=1, label="2 % (stable below)")
        ax.set_xscale("log")
        ax.set_yscale("symlog", linthresh=1.0)
        ax.set_xlabel("step k at which the copies split (k = 0 drawn at 0.5)")
        ax.set_ylabel("test-error barrier (percentage points)")
        ax.legend(frameon=False, fontsize=8)
        fig1.tight_layout()

        p = results.table("paths")
        fig2 = Figure(figsize=(6.4, 4.2))
        ax = fig2.subplots()
        for i, ((arch, split), g) in enumerate(p.groupby(["arch", "split"])):
            m = g.groupby("alpha").test_error.mean()
            ax.plot(m.index, 100 * m.values, "-" if split != "independent" else ":", color=f"C{i % 10}",
                    label=f"{arch}, {'k=' + split if split != 'independent' else 'independent'}")
        ax.set_xlabel("α on the path (1 − α)·θ_A + α·θ_B")
        ax.set_ylabel("test error (%), mean over seeds")
        ax.legend(frameon=False, fontsize=7, ncol=2)
        fig2.tight_layout()
        return {"Error barrier vs split step k": fig1, "Test error along the straight path": fig2}


# =============================================================================================
# trajectory-not-landscape
# =============================================================================================
def _shift_copies(X: np.ndarray, image_shape: tuple[int, ...] | None, copies: int,
                  rng: np.random.Generator) -> np.ndarray:
    """``copies`` shifted versions of every input (±1 pixel per axis for images, ±1 sample for 1-D)."""
    out = []
    for _ in range(copies):
        if image_shape is not None and len(image_shape) == 3:
            imgs = X.reshape(len(X), *image_shape)
            dy, dx = rng.integers(-1, 2, size=2)
            out.append(np.roll(np.roll(imgs, int(dy), axis=2), int(dx), axis=3).reshape(len(X), -1))
        else:
            out.append(np.roll(X, int(rng.integers(-1, 2)), axis=1))
    return np.vstack(out)


class TrajectoryConfig(ExperimentConfig):
    data: DataName = Field("digits", description="data set (built in, offline)")
    n_train: int = Field(900, ge=50, le=100_000, description="training examples (true labels)")
    n_extra: int = Field(448, ge=10, le=100_000, description="extra examples of the same distribution given random labels")
    width: int = Field(256, ge=8, le=4096, description="hidden width of the two-layer MLP")
    lr: float = Field(0.1, gt=0, le=2, description="SGD learning rate (vanilla and regularized)")
    batch_size: int = Field(128, ge=1, le=8192, description="examples per step")
    reg_momentum: float = Field(0.9, ge=0, lt=1, description="momentum of regularized SGD")
    reg_weight_decay: float = Field(5e-4, ge=0, le=0.1, description="weight decay of regularized SGD")
    reg_lr: float = Field(0.02, gt=0, le=2, description="learning rate of regularized SGD (with momentum 0.9: effective 0.2)")
    aug_copies: int = Field(2, ge=1, le=10, description="shifted copies per training example (regularized SGD)")
    confusion_noise: float = Field(0.1, ge=0, le=0.9, description="fraction of input entries zeroed in the confusion set")
    max_steps: int = Field(10_000, ge=50, le=2_000_000, description="most steps of any fit")
    check_every: int = Field(25, ge=1, le=10_000, description="steps between checks of zero training error")

    @model_validator(mode="after")
    def _sizes(self) -> TrajectoryConfig:
        if self.data == "digits" and self.n_train + self.n_extra > 1348:
            raise ValueError(f"digits has 1,348 training images; n_train + n_extra = {self.n_train + self.n_extra}")
        if self.data == "mnist1d" and self.n_train + self.n_extra > 4000:
            raise ValueError(f"MNIST-1D has 4,000 training samples; n_train + n_extra = {self.n_train + self.n_extra}")
        return self


class TrajectoryNotLandscape(Experiment):
    name = "trajectory-not-landscape"
    kind = "claim"
    claim = (
        "Global minima of the same (zero) training error with very different test errors coexist, "
        "and plain SGD from a random init does not land near the bad ones: which minimum training "
        "reaches is decided by the trajectory. Vanilla SGD from an init pre-trained on random "
        "labels reaches worse minima; with augmentation, weight decay and momentum it does not."
    )
    source = (
        "Arora (talk: 'the landscape viewpoint can be very misleading'); Liu, Papailiopoulos & "
        "Achlioptas 2020, 'Bad Global Minima Exist and SGD Can Reach Them', NeurIPS, arXiv 1906.02613 (v1 and v2)"
    )
    check_statement = (
        "Seeds as replicates; test errors as fractions; only solutions with zero error on the true "
        "training set enter, paired by seed. (1) Bad minima exist: test error of the net fitted to "
        "the training set plus random-labelled extra points − that of vanilla SGD from random init, "
        "above 0.10; (2) plain SGD lands near the best zero-error solution found in the seed: its "
        "test error − the best one, below 0.03; (3) Liu v1, vanilla SGD from the random-label "
        "pre-trained init − from random init, above 0.05; (4) Liu v2, regularized SGD (momentum, "
        "weight decay, augmentation) from that init − regularized SGD from random init, below 0.02."
    )
    Config = TrajectoryConfig
    presets: ClassVar[dict] = {
        "smoke": {"n_train": 200, "n_extra": 100, "width": 64, "max_steps": 800},
        "quick": {},
        "full": {"data": "mnist1d", "n_train": 2000, "n_extra": 2000, "width": 512, "max_steps": 100_000},
    }
    default_seeds: ClassVar[dict] = {"smoke": 2, "quick": 5, "full": 10}
    budget_s = 12.0
    tables = ("solutions",)

    BAD_GAP: ClassVar[float] = 0.10
    NEAR_BEST: ClassVar[float] = 0.03
    V1_GAP: ClassVar[float] = 0.05
    V2_GAP: ClassVar[float] = 0.02

    def run(self, config: TrajectoryConfig, seed: int) -> dict[str, pd.DataFrame]:
        import pandas as pd

        from theorylab.models import accuracy, fit_to_zero_error

        ds = _load(config.data, child_seed(seed, 0))
        rng = child_rng(seed, 1)
        order = rng.permutation(len(ds.X_train))
        tr, ex = order[: config.n_train], order[config.n_train : config.n_train + config.n_extra]
        X, y = ds.X_train[tr].astype(np.float32), ds.y_train[tr]
        Xe = ds.X_train[ex].astype(np.float32)
        ye = rng.integers(0, ds.n_classes, size=len(ex))
        Xt, yt = ds.X_test.astype(np.float32), ds.y_test
        # Liu et al.'s confusion set: the training inputs with a fraction of entries zeroed, random labels
        Xc = X.copy()
        Xc[rng.random(Xc.shape) < config.confusion_noise] = 0.0
        yc = rng.integers(0, ds.n_classes, size=len(Xc))
        Xa = np.vstack([X, _shift_copies(X, ds.image_shape, config.aug_copies, rng)]).astype(np.float32)
        ya = np.tile(y, config.aug_copies + 1)

        vanilla = {"optimizer": "sgd", "lr": config.lr, "batch_size": config.batch_size}
        regular = {"optimizer": "sgd", "lr": config.reg_lr, "batch_size": config.batch_size,
                   "momentum": config.reg_momentum, "weight_decay": config.reg_weight_decay}
        helper = {"optimizer": "adam", "lr": 1e-3, "batch_size": config.batch_size}
        common = {"max_steps": config.max_steps, "check_every": config.check_every}

        def fresh(key: int) -> nn.Module:
            return _network("mlp", ds, config.width, child_seed(seed, 2, key))

        rows = []

        def record(name: str, net: nn.Module, steps: int, reached: bool, init: str, sgd: str) -> None:
            rows.append({"solution": name, "init": init, "training": sgd, "steps": steps, "reached_zero_error": reached,
                         "train_error": 1.0 - accuracy(net, X, y), "test_error": 1.0 - accuracy(net, Xt, yt)})

        net = fresh(0)
        record("sgd", net, *fit_to_zero_error(net, X, y, seed=child_seed(seed, 3, 0), **common, **vanilla),
               "random", "vanilla")
        net = fresh(0)
        record("regularized", net, *fit_to_zero_error(net, Xa, ya, check_X=X, check_y=y, seed=child_seed(seed, 3, 1),
                                                       **common, **regular), "random", "regularized")
        net = fresh(0)
        Xb, yb = np.vstack([X, Xe]), np.concatenate([y, ye])
        steps, _ = fit_to_zero_error(net, Xb, yb, seed=child_seed(seed, 3, 2), **common, **helper)
        # the constructed minimum counts only if it classifies the true training set without error
        record("bad-minimum", net, steps, accuracy(net, X, y) == 1.0, "random", "fit train + random-labelled extra")
        pre = fresh(0)
        pre_steps, pre_ok = fit_to_zero_error(pre, Xc, yc, seed=child_seed(seed, 3, 3), **common, **helper)
        net = copy.deepcopy(pre)
        s, ok = fit_to_zero_error(net, X, y, seed=child_seed(seed, 3, 4), **common, **vanilla)
        record("adversarial-sgd", net, s, ok and pre_ok, "random-label pre-trained", "vanilla")
        net = copy.deepcopy(pre)
        s, ok = fit_to_zero_error(net, Xa, ya, check_X=X, check_y=y, seed=child_seed(seed, 3, 5), **common, **regular)
        record("adversarial-regularized", net, s, ok and pre_ok, "random-label pre-trained", "regularized")
        out = pd.DataFrame(rows)
        out["pretrain_steps"] = pre_steps
        return {"solutions": out}

    @staticmethod
    def _pair(df: pd.DataFrame, a: str, b: str) -> tuple[np.ndarray, np.ndarray]:
        ok = df[df.reached_zero_error]
        A = ok[ok.solution == a].set_index("seed").test_error
        B = ok[ok.solution == b].set_index("seed").test_error
        seeds = sorted(set(A.index) & set(B.index))
        return A.loc[seeds].to_numpy(float), B.loc[seeds].to_numpy(float)

    def check_point(self, results: Results) -> list[Check]:
        df = results.table("solutions")
        ok = df[df.reached_zero_error]
        best = ok.groupby("seed").test_error.min()
        sgd = ok[ok.solution == "sgd"].set_index("seed").test_error
        seeds = sorted(set(best.index) & set(sgd.index))
        gap_best = sgd.loc[seeds].to_numpy(float) - best.loc[seeds].to_numpy(float)
        return [
            interval_check("bad global minima exist (same zero training error, much worse test error)",
                           "test error: fitted with random-labelled extra points − vanilla SGD (fraction)",
                           difference_interval(*self._pair(df, "bad-minimum", "sgd")), above=self.BAD_GAP,
                           effect=f"≥ {100 * self.BAD_GAP:.0f} points worse, both with zero training error"),
            interval_check("plain SGD from random init does not land near them",
                           "test error: vanilla SGD − best zero-error solution found (fraction)",
                           mean_interval(gap_best, bounds=(0, 1)), below=self.NEAR_BEST,
                           effect=f"within {100 * self.NEAR_BEST:.0f} points of the best found"),
            interval_check("Liu v1: vanilla SGD from a random-label pre-trained init reaches worse minima",
                           "test error: vanilla SGD from pre-trained init − from random init (fraction)",
                           difference_interval(*self._pair(df, "adversarial-sgd", "sgd")), above=self.V1_GAP,
                           effect=f"≥ {100 * self.V1_GAP:.0f} points worse"),
            interval_check("Liu v2: with augmentation, weight decay and momentum the pre-training does not hurt",
                           "test error: regularized SGD from pre-trained init − from random init (fraction)",
                           difference_interval(*self._pair(df, "adversarial-regularized", "regularized")),
                           below=self.V2_GAP, effect=f"less than {100 * self.V2_GAP:.0f} points worse"),
        ]

    def evidence(self, results: Results) -> dict[str, Any]:
        df = results.table("solutions")
        g = df.groupby("solution")
        return {
            "test_error_mean": {k: round(float(v), 4) for k, v in g.test_error.mean().items()},
            "reached_zero_error": {k: f"{int(v.sum())}/{len(v)}" for k, v in g.reached_zero_error},
            "median_steps": {k: int(v) for k, v in g.steps.median().items()},
        }

    def figures(self, results: Results) -> dict[str, Figure]:
        from matplotlib.figure import Figure

        df = results.table("solutions")
        order = ["sgd", "regularized", "adversarial-sgd", "adversarial-regularized", "bad-minimum"]
        fig = Figure(figsize=(6.4, 4.2))
        ax = fig.subplots()
        for i, name in enumerate(order):
            q = df[df.solution == name]
            ok = q[q.reached_zero_error]
            ax.scatter(np.full(len(ok), i) + np.linspace(-0.15, 0.15, max(len(ok), 1))[: len(ok)],
                       100 * ok.test_error, color=f"C{i}", s=18)
            bad = q[~q.reached_zero_error]
            if len(bad):
                ax.scatter(np.full(len(bad), i), 100 * bad.test_error, color=f"C{i}", marker="x", s=18)
            if len(ok):
                ax.hlines(100 * ok.test_error.mean(), i - 0.25, i + 0.25, color=f"C{i}")
        ax.set_xticks(range(len(order)), ["SGD", "reg. SGD", "SGD from\nrandom-label init",
                                          "reg. SGD from\nrandom-label init", "fit + random-\nlabelled extra"], fontsize=8)
        ax.set_ylabel("test error (%) at zero training error")
        ax.set_title("one dot per seed (× = did not reach zero training error)", fontsize=9)
        fig.tight_layout()
        return {"Zero-training-error solutions and their test errors": fig}
