"""Network builders with explicit, seeded initialisation.

Library code never touches torch's global RNG: every builder takes ``seed`` and
initialises parameters from its own ``torch.Generator``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import torch
from torch import nn

__all__ = ["cnn1d", "cnn2d", "count_params", "init_params", "mlp"]

Init = Literal["he", "torch", "ntk", "lecun"]


def count_params(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def _fan_in(w: torch.Tensor) -> int:
    return int(w.shape[1] * (w[0, 0].numel() if w.dim() > 2 else 1))


@torch.no_grad()
def init_params(
    model: nn.Module, seed: int, scheme: Init = "he", bias_std: float | None = None
) -> nn.Module:
    """Re-initialise every Linear/Conv layer of ``model`` in place from ``seed``.

    Parameters
    ----------
    scheme : ``"he"`` weights N(0, 2/fan_in) (He et al. 2015, as in Hanin & Rolnick 2019);
        ``"lecun"`` N(0, 1/fan_in); ``"torch"`` PyTorch's default U(±1/sqrt(fan_in));
        ``"ntk"`` N(0, 1) (use with an NTK-parametrised forward that divides by sqrt(fan_in)).
    bias_std : standard deviation of N(0, bias_std²) biases; None uses the scheme's default
        (zero for he/lecun/ntk, U(±1/sqrt(fan_in)) for torch).
    """
    g = torch.Generator().manual_seed(int(seed))
    for m in model.modules():
        if isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d)):
            w = m.weight
            fan_in = _fan_in(w)
            if scheme == "he":
                w.copy_(torch.randn(w.shape, generator=g, dtype=w.dtype) * math.sqrt(2.0 / fan_in))
            elif scheme == "lecun":
                w.copy_(torch.randn(w.shape, generator=g, dtype=w.dtype) * math.sqrt(1.0 / fan_in))
            elif scheme == "ntk":
                w.copy_(torch.randn(w.shape, generator=g, dtype=w.dtype))
            elif scheme == "torch":
                bound = 1.0 / math.sqrt(fan_in)
                w.copy_((torch.rand(w.shape, generator=g, dtype=w.dtype) * 2 - 1) * bound)
            else:
                raise ValueError(f"unknown init scheme {scheme!r} (allowed: he, lecun, ntk, torch)")
            if m.bias is not None:
                b = m.bias
                if bias_std is not None:
                    b.copy_(torch.randn(b.shape, generator=g, dtype=b.dtype) * bias_std)
                elif scheme == "torch":
                    bound = 1.0 / math.sqrt(fan_in)
                    b.copy_((torch.rand(b.shape, generator=g, dtype=b.dtype) * 2 - 1) * bound)
                else:
                    b.zero_()
    return model


def _activation(name: str) -> nn.Module:
    acts = {"relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "tanh": nn.Tanh, "gelu": nn.GELU}
    if name not in acts:
        raise ValueError(f"unknown activation {name!r} (allowed: {', '.join(acts)})")
    return acts[name]()


def mlp(
    in_dim: int,
    widths: Sequence[int],
    out_dim: int,
    *,
    activation: str = "relu",
    seed: int = 0,
    init: Init = "he",
    bias_std: float | None = None,
    dtype: torch.dtype = torch.float32,
) -> nn.Sequential:
    """Fully connected network ``in_dim -> widths... -> out_dim`` as an ``nn.Sequential``.

    Layers alternate ``Linear`` and the activation; the last layer is linear. Deterministic
    given ``seed``.
    """
    if in_dim < 1 or out_dim < 1 or any(w < 1 for w in widths):
        raise ValueError(f"mlp needs positive sizes, got in={in_dim}, widths={list(widths)}, out={out_dim}")
    layers: list[nn.Module] = []
    prev = in_dim
    for w in widths:
        layers += [nn.Linear(prev, w), _activation(activation)]
        prev = w
    layers.append(nn.Linear(prev, out_dim))
    net = nn.Sequential(*layers).to(dtype)
    return init_params(net, seed, init, bias_std)


def cnn1d(
    length: int,
    out_dim: int,
    *,
    channels: Sequence[int] = (25, 25, 25),
    kernels: Sequence[int] = (5, 3, 3),
    strides: Sequence[int] = (2, 2, 2),
    in_channels: int = 1,
    seed: int = 0,
    init: Init = "torch",
) -> nn.Sequential:
    """1-D CNN of the MNIST-1D reference (Greydanus 2020): Conv1d stack, ReLU, flatten, Linear.

    Input shape (batch, length) or (batch, in_channels, length); a leading ``Unflatten`` adds
    the channel axis for 2-D inputs.
    """
    layers: list[nn.Module] = [nn.Unflatten(1, (in_channels, length))] if in_channels == 1 else []
    c_prev, n = in_channels, length
    for c, k, s in zip(channels, kernels, strides, strict=True):
        pad = k // 2
        layers += [nn.Conv1d(c_prev, c, k, stride=s, padding=pad), nn.ReLU()]
        n = (n + 2 * pad - k) // s + 1
        c_prev = c
    layers += [nn.Flatten(), nn.Linear(c_prev * n, out_dim)]
    return init_params(nn.Sequential(*layers), seed, init)


def cnn2d(
    side: int,
    out_dim: int,
    *,
    channels: Sequence[int] = (16, 32),
    kernel: int = 3,
    hidden: int = 64,
    in_channels: int = 1,
    seed: int = 0,
    init: Init = "torch",
) -> nn.Sequential:
    """Small 2-D CNN: [Conv2d(k, pad k//2) -> ReLU -> AvgPool2d(2)] × len(channels) -> FC(hidden) -> out.

    Input shape (batch, in_channels, side, side); average pooling keeps the net piecewise affine.
    With ``channels=(2s, 4s)``, ``kernel=5``, ``hidden=64s`` this is Madry et al.'s MNIST
    capacity family (scaled).
    """
    layers: list[nn.Module] = []
    c_prev, n = in_channels, side
    for c in channels:
        layers += [nn.Conv2d(c_prev, c, kernel, padding=kernel // 2), nn.ReLU(), nn.AvgPool2d(2)]
        c_prev, n = c, n // 2
    layers += [nn.Flatten(), nn.Linear(c_prev * n * n, hidden), nn.ReLU(), nn.Linear(hidden, out_dim)]
    return init_params(nn.Sequential(*layers), seed, init)
