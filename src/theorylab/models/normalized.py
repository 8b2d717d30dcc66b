"""Scale-invariant and NTK-parametrized networks, and the exponential-LR map of Li & Arora.

Scale invariance (Arora, Li & Lyu 2019, Def. 2.1): a loss L is scale-invariant in the weights w
if L(c·w) = L(w) for every c > 0. A network is, in all its trainable parameters, when

* every trainable layer is followed by a normalization (here BatchNorm with batch statistics,
  ``track_running_stats=False``, so eval and train use the same function of the batch);
* the normalization has no trainable scale and bias (``affine=False``), the linear and conv
  layers before it have no bias, and the output layer is frozen at its random initialization
  (Li & Arora 2020, §1.1 and Appendix: "the preconditions for scale invariance").

BatchNorm divides by √(var + eps); ``eps`` breaks invariance by a relative O(eps/var). PyTorch
refuses ``eps=0`` in training, so the builders default to ``eps=1e-30`` (below float64 resolution
next to any variance ≥ 1e-14: invariance to rounding) and float64.

Consequences used by the experiments (Arora, Li & Lyu 2019, Lemma 2.4): ⟨∇L(w), w⟩ = 0,
∇L(c·w) = ∇L(w)/c, and SGD from (c·w₀, c²·η, λ/c²) is exactly c times SGD from (w₀, η, λ).

:func:`exp_lr_schedule` maps SGD with weight decay λ, momentum γ and any LR schedule η_t onto
SGD without weight decay whose trajectory is the same up to a scalar factor per step (Li & Arora,
ICLR 2020, Theorem 1.1; step decay → their TEXP schedule, Theorem 1.2).

:func:`ntk_mlp` is the fully connected ReLU net in NTK parametrization whose infinite-width
kernels are :func:`theorylab.probes.ntk.relu_kernels`; :class:`LazyScaled` is Chizat, Oyallon &
Bach's (2019) α-scaled, centred model α·(h(w, x) − h(w₀, x)).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from torch import nn

from theorylab.models.builders import init_params

__all__ = [
    "ExpLRSchedule",
    "LazyScaled",
    "NTKLinear",
    "exp_lr_rate",
    "exp_lr_schedule",
    "normalized_cnn",
    "normalized_mlp",
    "ntk_mlp",
    "scale_invariance_gap",
]

Norm = Literal["batch", "none"]


# -- scale-invariant builders -------------------------------------------------------------------
def _norm_layer(kind: Norm, dims: int, width: int, *, affine: bool, eps: float) -> nn.Module:
    if kind == "none":
        return nn.Identity()
    if kind != "batch":
        raise ValueError(f"unknown normalization {kind!r} (allowed: batch, none)")
    cls = {1: nn.BatchNorm1d, 2: nn.BatchNorm2d}[dims]
    return cls(width, eps=eps, affine=affine, track_running_stats=False)


def _finish(layers: list[nn.Module], seed: int, dtype: torch.dtype, freeze_last: bool) -> nn.Sequential:
    # no biases anywhere: one before a normalization is cancelled by it, one after breaks invariance
    net = nn.Sequential(*layers).to(dtype)
    init_params(net, seed, "he")
    if freeze_last:
        for p in layers[-1].parameters():
            p.requires_grad_(False)
    return net


def normalized_mlp(in_dim: int, widths: Sequence[int], out_dim: int, *, seed: int = 0, norm: Norm = "batch",
                   affine: bool = False, freeze_last: bool = True, eps: float = 1e-30,
                   dtype: torch.dtype = torch.float64) -> nn.Sequential:
    """[Linear (no bias) → BatchNorm1d → ReLU] × len(widths) → Linear (no bias).

    With the defaults (``norm="batch"``, ``affine=False``, ``freeze_last=True``) the loss is
    scale-invariant in all trainable parameters. ``norm="none"`` gives the same net without
    normalization (a control that is not scale-invariant); ``affine=True`` / ``freeze_last=False``
    break invariance through trainable scale-variant parameters. He-normal init from ``seed``.
    """
    if in_dim < 1 or out_dim < 1 or not widths or any(w < 1 for w in widths):
        raise ValueError(f"normalized_mlp needs positive sizes, got in={in_dim}, widths={list(widths)}, out={out_dim}")
    layers: list[nn.Module] = []
    prev = in_dim
    for w in widths:
        layers += [nn.Linear(prev, w, bias=False), _norm_layer(norm, 1, w, affine=affine, eps=eps), nn.ReLU()]
        prev = w
    layers.append(nn.Linear(prev, out_dim, bias=False))
    return _finish(layers, seed, dtype, freeze_last)


def normalized_cnn(input_shape: tuple[int, ...], out_dim: int, *, channels: Sequence[int] = (8, 16),
                   kernel: int = 3, stride: int = 2, seed: int = 0, norm: Norm = "batch", affine: bool = False,
                   freeze_last: bool = True, eps: float = 1e-30, dtype: torch.dtype = torch.float64) -> nn.Sequential:
    """[Conv (no bias, stride) → BatchNorm → ReLU] × len(channels) → Flatten → Linear (no bias).

    ``input_shape`` is a dataset's ``image_shape``: ``(length,)`` for 1-D signals (MNIST-1D:
    Conv1d) or ``(channels, height, width)`` for images (digits: Conv2d); flat input rows are
    reshaped by a leading ``Unflatten``. Scale-invariance switches as in :func:`normalized_mlp`.
    """
    if len(input_shape) == 1:
        dims, shape = 1, (1, int(input_shape[0]))
    elif len(input_shape) == 3:
        dims, shape = 2, tuple(int(s) for s in input_shape)
    else:
        raise ValueError(f"input_shape must be (length,) or (channels, height, width), got {input_shape}")
    if not channels or any(c < 1 for c in channels) or kernel < 1 or stride < 1:
        raise ValueError(f"normalized_cnn needs positive channels/kernel/stride, got {channels}, {kernel}, {stride}")
    conv = {1: nn.Conv1d, 2: nn.Conv2d}[dims]
    layers: list[nn.Module] = [nn.Unflatten(1, shape)]
    c_prev, sizes = shape[0], list(shape[1:])
    for c in channels:
        layers += [conv(c_prev, c, kernel, stride=stride, padding=kernel // 2, bias=False),
                   _norm_layer(norm, dims, c, affine=affine, eps=eps), nn.ReLU()]
        sizes = [(s + 2 * (kernel // 2) - kernel) // stride + 1 for s in sizes]
        c_prev = c
    layers += [nn.Flatten(), nn.Linear(c_prev * math.prod(sizes), out_dim, bias=False)]
    return _finish(layers, seed, dtype, freeze_last)


@torch.no_grad()
def scale_invariance_gap(model: nn.Module, X: torch.Tensor | np.ndarray, factors: Sequence[float] = (0.5, 3.0)) -> float:
    """max over c in ``factors`` of max|f(c·θ; X) − f(θ; X)| / max|f(θ; X)|, θ the trainable parameters.

    Zero (to rounding) for a scale-invariant network; the model's train/eval mode is used as is.
    """
    from torch.func import functional_call

    params = {k: p for k, p in model.named_parameters() if p.requires_grad}
    dtype = next(model.parameters()).dtype
    Xt = torch.as_tensor(X).to(dtype)
    base = model(Xt)
    scale = float(base.abs().max()) or 1.0
    gap = 0.0
    for c in factors:
        out = functional_call(model, {k: c * p for k, p in params.items()}, (Xt,))
        gap = max(gap, float((out - base).abs().max()) / scale)
    return gap


# -- exponential learning rates (Li & Arora 2020) ----------------------------------------------
def exp_lr_rate(lr: float, weight_decay: float, momentum: float = 0.0) -> float:
    """α, the root near 1 of x² − (1 + γ − λη) x + γ = 0 (Li & Arora 2020, Theorem 1.1).

    With γ = 0, α = 1 − λη. With λ = 5e-4, η = 0.1, γ = 0.9: α = 0.99949773, α⁻² = 1.0010053
    per step (≈ ×1.481 per 391-step epoch).
    """
    b = 1.0 + momentum - weight_decay * lr
    disc = b * b - 4.0 * momentum
    if disc < 0:
        raise ValueError(f"no real root: λη = {weight_decay * lr:g} exceeds (1 − √γ)² = {(1 - math.sqrt(momentum)) ** 2:g}")
    return 0.5 * (b + math.sqrt(disc))


@dataclass(frozen=True)
class ExpLRSchedule:
    """The no-weight-decay twin of an SGD run with weight decay.

    Attributes
    ----------
    lrs : (T,) learning rates η̃_t of the twin (no weight decay, same momentum).
    scale : (T + 1,) P_t with θ_t(weight decay run) = P_t · θ̃_t(twin), P₀ = 1.
    initial_buffer : c such that the twin's momentum buffer starts at c·θ₀ (PyTorch convention:
        buffer b, step θ ← θ − η̃_t (γ b + g)); 0 when it starts from rest.
    """

    lrs: np.ndarray
    scale: np.ndarray
    initial_buffer: float


def exp_lr_schedule(lrs: Sequence[float] | np.ndarray, weight_decay: float, momentum: float = 0.0, *,
                    start: Literal["stationary", "rest"] = "stationary") -> ExpLRSchedule:
    """Learning rates η̃_t that make SGD without weight decay equal SGD with weight decay λ.

    For a scale-invariant loss and PyTorch's SGD (momentum buffer b ← γb + ∇L + λθ, θ ← θ − η_t b),
    θ_t = P_t θ̃_t for all t when the twin runs b̃ ← γb̃ + ∇L, θ̃ ← θ̃ − η̃_t b̃ with

        η̃_t = η_t / (P_t P_{t+1}),   P_{t+1} = q_t P_t,
        q_t = 1 + γ r_t − η_t λ − γ r_t / q_{t−1},   r_t = η_t / η_{t−1}

    (derived as in Li & Arora 2020, Thm 1.1, for a varying η_t; the momentum of the twin is
    rescaled by r̃_t = η̃_t/η̃_{t−1} automatically, which is what PyTorch's convention does).
    For constant η, ``start="stationary"`` takes q₀ = α (:func:`exp_lr_rate`) so that
    η̃_t = η α^{−2t−1} exactly, the paper's schedule, and starts the twin's buffer at
    (α − 1)θ₀/(αη) (the weight decay run starts from rest). ``start="rest"`` starts both from
    rest: q₀ = 1 − η₀λ, and q_t → α geometrically (rate γ/α² per step). With γ = 0 both are
    η̃_t = η(1 − λη)^{−2t−1}. A step decay η → η/C maps to the tapered exponential (TEXP) of
    Li & Arora (Thm 1.2): the LR drops by ≈ C at the switch and grows at the new rate after.
    """
    eta = np.asarray(lrs, dtype=np.float64)
    if eta.ndim != 1 or len(eta) == 0 or np.any(eta <= 0):
        raise ValueError("lrs must be a non-empty 1-D sequence of positive learning rates")
    if weight_decay < 0 or not 0 <= momentum < 1:
        raise ValueError(f"need weight_decay ≥ 0 and 0 ≤ momentum < 1, got {weight_decay}, {momentum}")
    lam, gam = float(weight_decay), float(momentum)
    T = len(eta)
    q = np.empty(T)
    if start == "stationary" and gam > 0:
        q[0] = exp_lr_rate(eta[0], lam, gam)
    elif start in ("stationary", "rest"):
        q[0] = 1.0 - eta[0] * lam
    else:
        raise ValueError(f"unknown start {start!r} (allowed: stationary, rest)")
    for t in range(1, T):
        r = eta[t] / eta[t - 1]
        q[t] = 1.0 + gam * r - eta[t] * lam - gam * r / q[t - 1]
    scale = np.concatenate([[1.0], np.cumprod(q)])
    twin = eta / (scale[:-1] * scale[1:])
    # buffer b with η̃₀γb = θ₀(1 − (1 − η₀λ)/q₀), i.e. b = θ₀(q₀ − 1 + η₀λ)/(η₀γ)
    c = (q[0] - 1.0 + eta[0] * lam) / (eta[0] * gam) if gam > 0 else 0.0
    return ExpLRSchedule(lrs=twin, scale=scale, initial_buffer=float(c))


# -- NTK parametrization and the lazy regime ----------------------------------------------------
class NTKLinear(nn.Module):
    """y = (σ_w/√fan_in) W x + σ_b b with W, b ~ N(0, 1): the NTK parametrization (Jacot et al. 2018)."""

    def __init__(self, in_features: int, out_features: int, *, weight_std: float = 1.0, bias_std: float = 0.0,
                 generator: torch.Generator | None = None, dtype: torch.dtype = torch.float64) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight_scale = weight_std / math.sqrt(in_features)
        self.bias_std = bias_std
        self.weight = nn.Parameter(torch.randn(out_features, in_features, generator=generator, dtype=dtype))
        self.bias = (nn.Parameter(torch.randn(out_features, generator=generator, dtype=dtype))
                     if bias_std > 0 else None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b = None if self.bias is None else self.bias * self.bias_std
        return nn.functional.linear(x, self.weight * self.weight_scale, b)

    def extra_repr(self) -> str:
        return f"{self.in_features}, {self.out_features}, weight_scale={self.weight_scale:.4g}, bias_std={self.bias_std}"


def ntk_mlp(in_dim: int, widths: Sequence[int], out_dim: int, *, weight_std: float = 1.0, bias_std: float = 0.0,
            first_weight_std: float | None = None, seed: int = 0, dtype: torch.dtype = torch.float64) -> nn.Sequential:
    """ReLU MLP in NTK parametrization: [NTKLinear → ReLU] × len(widths) → NTKLinear.

    Its infinite-width NNGP/NTK are ``relu_kernels(X, depth=len(widths), weight_std=...,
    bias_std=..., first_weight_std=...)`` (:mod:`theorylab.probes.ntk`).
    """
    if in_dim < 1 or out_dim < 1 or not widths or any(w < 1 for w in widths):
        raise ValueError(f"ntk_mlp needs positive sizes, got in={in_dim}, widths={list(widths)}, out={out_dim}")
    g = torch.Generator().manual_seed(int(seed))
    layers: list[nn.Module] = []
    prev, std = in_dim, weight_std if first_weight_std is None else first_weight_std
    for w in widths:
        layers += [NTKLinear(prev, w, weight_std=std, bias_std=bias_std, generator=g, dtype=dtype), nn.ReLU()]
        prev, std = w, weight_std
    layers.append(NTKLinear(prev, out_dim, weight_std=weight_std, bias_std=bias_std, generator=g, dtype=dtype))
    return nn.Sequential(*layers)


class LazyScaled(nn.Module):
    """α·(h(w, x) − h(w₀, x)): Chizat, Oyallon & Bach's (2019) scaled, centred model.

    Train it on the loss divided by α² (their §2): the linearized dynamics are then the same for
    every α, and as α grows the model stays closer to its linearization ("lazy"). The copy at
    initialization, ``reference``, is frozen (its parameters do not require grad, so NTK probes
    and optimizers see only ``model``'s).
    """

    def __init__(self, model: nn.Module, alpha: float) -> None:
        super().__init__()
        if not alpha > 0:
            raise ValueError(f"alpha must be > 0, got {alpha}")
        self.alpha = float(alpha)
        self.model = model
        self.reference = copy.deepcopy(model)
        for p in self.reference.parameters():
            p.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.alpha * (self.model(x) - self.reference(x))
