"""Loss and error along the straight line between two parameter vectors (linear mode connectivity).

Frankle, Dziugaite, Roy & Carbin (ICML 2020, "Linear mode connectivity and the lottery ticket
hypothesis") train two copies of a network from the same weights with different SGD noise and
evaluate θ(α) = (1 − α)·θ_A + α·θ_B for α ∈ [0, 1]. The *error barrier* is the largest error on
the path minus the mean of the endpoints' errors; a pair is "stable" when it is below 2 %.
The talk's notion of convexity ("the average model does at least as well") is the same test at
α = 1/2.

Design choice (flagged in the references: open_lth has no interpolation branch): the running
statistics of BatchNorm layers are buffers, and the interpolation of two sets of statistics is
not the statistics of the interpolated network. With ``bn_data`` given, every point of the path
recomputes them from data (train-mode forward passes without gradient, the whole of ``bn_data``
in one batch by default, so the statistics are the data's exact mean and unbiased variance);
without it, floating buffers are interpolated like the weights.

Works on any ``torch.nn.Module``: the model passed in is a template that is copied, never changed.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from theorylab.errors import TheorylabError

if TYPE_CHECKING:
    import torch
    from torch import nn

__all__ = [
    "PathError",
    "PathResult",
    "barrier",
    "convexity_gap",
    "evaluate",
    "interpolate_states",
    "linear_path",
    "recompute_batchnorm",
]

Loss = Literal["ce", "mse"]


class PathError(TheorylabError, ValueError):
    """Two endpoints that do not fit the same model, or unusable path arguments."""


def barrier(values: Sequence[float] | np.ndarray) -> float:
    """max over the path − mean of the two endpoints (Frankle et al. 2020, "instability").

    ``values`` are ordered along the path, ``values[0]`` at α = 0 and ``values[-1]`` at α = 1.
    It is ≥ 0 by construction.
    """
    v = np.asarray(values, dtype=float)
    if v.ndim != 1 or v.size < 2:
        raise PathError("barrier needs the values at two or more points of the path")
    return float(v.max() - 0.5 * (v[0] + v[-1]))


def convexity_gap(alphas: np.ndarray, values: np.ndarray) -> float:
    """max over α of L(α) − [(1 − α)·L(0) + α·L(1)]: how far the path rises above the chord."""
    a = np.asarray(alphas, float)
    v = np.asarray(values, float)
    return float(np.max(v - ((1 - a) * v[0] + a * v[-1])))


@dataclass(frozen=True)
class PathResult:
    """Loss and error at each point α of the straight path θ(α) = (1 − α)θ_A + αθ_B.

    Attributes
    ----------
    alphas : (m,) interpolation coefficients, from 0 to 1.
    loss : (m,) mean loss on the evaluation data at each α.
    error : (m,) classification error (fraction of argmax ≠ label) for ``loss="ce"``; NaN for mse.
    bn_recomputed : whether BatchNorm statistics were recomputed at every point.
    """

    alphas: np.ndarray
    loss: np.ndarray
    error: np.ndarray
    bn_recomputed: bool

    @property
    def loss_barrier(self) -> float:
        return barrier(self.loss)

    @property
    def error_barrier(self) -> float:
        return barrier(self.error)

    @property
    def loss_convexity_gap(self) -> float:
        return convexity_gap(self.alphas, self.loss)

    def at(self, alpha: float) -> tuple[float, float]:
        """(loss, error) at the path point nearest to ``alpha``."""
        i = int(np.argmin(np.abs(self.alphas - alpha)))
        return float(self.loss[i]), float(self.error[i])


def _state(x: nn.Module | Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    from torch import nn

    if isinstance(x, nn.Module):
        return {k: v.detach() for k, v in x.state_dict().items()}
    return dict(x)


def interpolate_states(a: nn.Module | Mapping[str, torch.Tensor],
                       b: nn.Module | Mapping[str, torch.Tensor], alpha: float) -> dict[str, torch.Tensor]:
    """(1 − α)·a + α·b for every floating entry of two state dicts (or modules).

    Integer buffers (BatchNorm's ``num_batches_tracked``) are taken from ``a``. The two must
    have the same keys and shapes.
    """
    import torch

    sa, sb = _state(a), _state(b)
    if sa.keys() != sb.keys():
        extra = sorted(set(sa) ^ set(sb))
        raise PathError(f"the two endpoints have different entries: {extra[:5]}")
    out = {}
    for k, va in sa.items():
        vb = sb[k]
        if va.shape != vb.shape:
            raise PathError(f"entry {k!r} has shape {tuple(va.shape)} at A but {tuple(vb.shape)} at B")
        if torch.is_floating_point(va):
            out[k] = torch.lerp(va, vb.to(va.dtype), float(alpha))
        else:
            out[k] = va.clone()
    return out


def _batchnorms(model: nn.Module) -> list[nn.Module]:
    from torch.nn.modules.batchnorm import _BatchNorm

    return [m for m in model.modules() if isinstance(m, _BatchNorm) and m.track_running_stats]


def recompute_batchnorm(model: nn.Module, X: np.ndarray | torch.Tensor, *,
                        batch_size: int | None = None) -> int:
    """Reset and recompute the running statistics of every BatchNorm layer of ``model`` in place.

    Forward passes in train mode without gradient over ``X``; with ``batch_size=None`` all of
    ``X`` is one batch, so each layer's statistics are exactly the mean and unbiased variance of
    its input on ``X``; with batches, the cumulative average over batches (as
    ``torch.optim.swa_utils.update_bn``). The model's mode and momenta are restored. Returns the
    number of BatchNorm layers (0: nothing to do).
    """
    import torch

    bns = _batchnorms(model)
    if not bns:
        return 0
    dtype = next(model.parameters()).dtype
    Xt = torch.as_tensor(X).to(dtype)
    if len(Xt) < 2:
        raise PathError("recomputing BatchNorm statistics needs at least 2 examples")
    momenta = [m.momentum for m in bns]
    was_training = model.training
    for m in bns:
        m.reset_running_stats()
        m.momentum = None  # cumulative moving average: equal weight per batch
    bs = len(Xt) if batch_size is None else int(batch_size)
    model.train()
    with torch.no_grad():
        for i in range(0, len(Xt), bs):
            chunk = Xt[i : i + bs]
            if len(chunk) > 1:
                model(chunk)
    for m, mom in zip(bns, momenta, strict=True):
        m.momentum = mom
    model.train(was_training)
    return len(bns)


def evaluate(model: nn.Module, X: np.ndarray | torch.Tensor, y: np.ndarray | torch.Tensor, *,
             loss: Loss = "ce", batch_size: int = 4096) -> tuple[float, float]:
    """(mean loss, classification error) of ``model`` in eval mode; the error is NaN for ``mse``."""
    import torch
    from torch import nn

    was_training = model.training
    model.eval()
    dtype = next(model.parameters()).dtype
    Xt = torch.as_tensor(X).to(dtype)
    yt = torch.as_tensor(y)
    with torch.no_grad():
        out = torch.cat([model(Xt[i : i + batch_size]) for i in range(0, len(Xt), batch_size)])
    model.train(was_training)
    if loss == "ce":
        value = float(nn.functional.cross_entropy(out, yt.long()))
        err = float((out.argmax(dim=1) != yt).double().mean())
        return value, err
    if loss == "mse":
        target = yt.to(dtype).reshape(out.shape)
        return float(nn.functional.mse_loss(out, target)), float("nan")
    raise PathError(f"unknown loss {loss!r} (allowed: ce, mse)")


def linear_path(model: nn.Module, a: nn.Module | Mapping[str, torch.Tensor],
                b: nn.Module | Mapping[str, torch.Tensor], X: np.ndarray | torch.Tensor,
                y: np.ndarray | torch.Tensor, *, alphas: int | Sequence[float] | np.ndarray = 11,
                loss: Loss = "ce", bn_data: np.ndarray | torch.Tensor | None = None,
                bn_batch_size: int | None = None) -> PathResult:
    """Loss and error of θ(α) = (1 − α)θ_A + αθ_B on (X, y) for α on a grid.

    Parameters
    ----------
    model : template network (any ``nn.Module``; copied, not modified) whose state dict the
        endpoints ``a`` and ``b`` (modules or state dicts) fill.
    X, y : evaluation inputs (n, ...) and integer labels (``ce``) or targets (``mse``).
    alphas : number of evenly spaced points in [0, 1] (≥ 2), or the coefficients themselves.
    bn_data : inputs on which BatchNorm statistics are recomputed at every α (the training
        data, typically); None interpolates the stored statistics like the weights.

    Returns
    -------
    :class:`PathResult`; ``error_barrier`` is Frankle et al.'s instability.
    """
    if isinstance(alphas, (int, np.integer)):
        if alphas < 2:
            raise PathError(f"a path needs at least 2 points, got {alphas}")
        grid = np.linspace(0.0, 1.0, int(alphas))
    else:
        grid = np.asarray(alphas, dtype=float)
        if grid.ndim != 1 or grid.size < 2 or not np.isfinite(grid).all():
            raise PathError("alphas: expected a 1-D array of at least 2 finite values")
    net = copy.deepcopy(model)
    has_bn = bool(_batchnorms(net))
    losses, errors = [], []
    for alpha in grid:
        net.load_state_dict(interpolate_states(a, b, float(alpha)))
        if bn_data is not None and has_bn:
            recompute_batchnorm(net, bn_data, batch_size=bn_batch_size)
        value, err = evaluate(net, X, y, loss=loss)
        losses.append(value)
        errors.append(err)
    return PathResult(grid, np.asarray(losses), np.asarray(errors), bool(bn_data is not None and has_bn))
