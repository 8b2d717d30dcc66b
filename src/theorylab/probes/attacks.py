"""Adversarial robust accuracy under PGD (L2 and L∞), through ``torchattacks``.

We use the attack library a practitioner would (torchattacks 3.5, Harry24k), not a home-made
PGD: ``torchattacks.PGD`` (L∞, Madry et al. 2018, ICLR, arXiv 1706.06083) and
``torchattacks.PGDL2``. This module only validates inputs, adapts any input layout to the
NCHW tensors torchattacks expects (its L2 projection broadcasts over 4-D inputs), makes the
random start reproducible without touching the caller's global RNG (``torch.random.fork_rng``
around a seeded draw), and counts.

Contract (torchattacks and AutoAttack alike): inputs in [0, 1]; the model returns logits
(n, classes); any normalisation lives inside the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from theorylab.errors import TheorylabError

__all__ = ["AttackError", "RobustAccuracy", "pgd_attack", "pgd_linf_examples", "robust_accuracy"]

Norm = Literal["Linf", "L2"]


class AttackError(TheorylabError, ValueError):
    """Inputs, labels or attack parameters that an attack cannot use."""


@dataclass(frozen=True)
class RobustAccuracy:
    """Clean and robust accuracy of one attack on one set of points.

    Attributes
    ----------
    clean : fraction of points classified correctly without attack.
    robust : fraction still classified correctly after the attack (≤ clean up to
        attack noise; a point misclassified clean counts as non-robust).
    correct : (n,) bool, robust correctness per point.
    norm, eps, steps : the threat model (eps in input units of [0, 1] data).
    """

    clean: float
    robust: float
    correct: np.ndarray
    norm: str
    eps: float
    steps: int


class _FlatToNCHW(nn.Module):
    """Present a model taking (n, *shape) as one taking (n, 1, 1, prod(shape)) images."""

    def __init__(self, model: nn.Module, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.model = model
        self.shape = shape

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x.reshape(len(x), *self.shape))


def _validate(model: nn.Module, X: Any, y: Any, norm: str, eps: float, steps: int) -> tuple[torch.Tensor, torch.Tensor]:
    if norm not in ("Linf", "L2"):
        raise AttackError(f"unknown norm {norm!r} (allowed: Linf, L2)")
    if not (np.isfinite(eps) and eps >= 0):
        raise AttackError(f"eps must be a finite number ≥ 0, got {eps}")
    if steps < 1:
        raise AttackError(f"steps must be ≥ 1, got {steps}")
    first = next(iter(model.parameters()), None)
    if first is None:
        raise AttackError("the model has no parameters (torchattacks reads the device from them)")
    dtype = first.dtype
    Xt = torch.as_tensor(np.asarray(X) if not isinstance(X, torch.Tensor) else X).detach().to(dtype)
    yt = torch.as_tensor(np.asarray(y) if not isinstance(y, torch.Tensor) else y).detach()
    if Xt.ndim < 2 or len(Xt) == 0:
        raise AttackError(f"X must have shape (n, ...) with n ≥ 1, got {tuple(Xt.shape)}")
    if not torch.isfinite(Xt).all():
        raise AttackError("X contains NaN or inf")
    lo, hi = float(Xt.min()), float(Xt.max())
    if lo < 0 or hi > 1:
        raise AttackError(f"inputs must lie in [0, 1] (got range [{lo:.3g}, {hi:.3g}]); put any rescaling inside the model")
    if yt.shape != (len(Xt),) or yt.is_floating_point():
        raise AttackError(f"y must be integer labels of shape ({len(Xt)},), got {tuple(yt.shape)} {yt.dtype}")
    with torch.no_grad():
        out = model(Xt[:1])
    if out.ndim != 2:
        raise AttackError(f"the model must return logits of shape (n, classes), got {tuple(out.shape)}")
    k = out.shape[1]
    if int(yt.min()) < 0 or int(yt.max()) >= k:
        raise AttackError(f"labels must lie in [0, {k}) for a model with {k} outputs")
    return Xt, yt.long()


def pgd_attack(
    model: nn.Module,
    X: Any,
    y: Any,
    *,
    norm: Norm = "Linf",
    eps: float,
    steps: int = 10,
    alpha: float | None = None,
    random_start: bool = True,
    seed: int = 0,
) -> torch.Tensor:
    """Adversarial examples by PGD (torchattacks ``PGD`` for L∞, ``PGDL2`` for L2).

    Parameters
    ----------
    model : returns logits (n, classes); evaluated in eval mode during the attack.
    X : (n, ...) inputs in [0, 1]; y : (n,) integer labels.
    eps : radius of the threat ball (L∞ or L2) in input units.
    steps : PGD iterations; alpha : step size (default 2.5·eps/steps, Madry et al.).
    seed : seeds the random start; the caller's global RNG state is restored afterwards.

    Returns
    -------
    (n, ...) adversarial inputs, same layout as ``X``.
    """
    import torchattacks

    Xt, yt = _validate(model, X, y, norm, eps, steps)
    if eps == 0:
        return Xt.clone()
    shape = tuple(Xt.shape[1:])
    wrapped = _FlatToNCHW(model, shape)
    step = alpha if alpha is not None else 2.5 * eps / steps
    if norm == "Linf":
        atk = torchattacks.PGD(wrapped, eps=eps, alpha=step, steps=steps, random_start=random_start)
    else:
        atk = torchattacks.PGDL2(wrapped, eps=eps, alpha=step, steps=steps, random_start=random_start)
    flat = Xt.reshape(len(Xt), 1, 1, -1)
    with torch.random.fork_rng(devices=[]):
        # CPU generator only (torch.manual_seed also seeds every accelerator backend, ~4 ms a call);
        # inside fork_rng the caller's state is restored on exit
        torch.default_generator.manual_seed(int(seed))
        adv = atk(flat, yt)
    return adv.reshape(Xt.shape).detach()


def robust_accuracy(
    model: nn.Module,
    X: Any,
    y: Any,
    *,
    norm: Norm = "Linf",
    eps: float,
    steps: int = 20,
    alpha: float | None = None,
    restarts: int = 1,
    seed: int = 0,
    batch_size: int = 1024,
) -> RobustAccuracy:
    """Clean and PGD-robust accuracy; a point is robust only if it survives every restart.

    Parameters
    ----------
    norm : ``"Linf"`` or ``"L2"``; eps : threat radius in [0, 1]-input units
        (MNIST customs: L∞ 0.3, L2 2.0).
    restarts : independent random starts (seeds ``seed, seed+1, ...``); the pointwise worst
        case is reported, as AutoAttack does.

    Returns
    -------
    :class:`RobustAccuracy`.
    """
    Xt, yt = _validate(model, X, y, norm, eps, steps)
    if restarts < 1:
        raise AttackError(f"restarts must be ≥ 1, got {restarts}")
    was = model.training
    model.eval()
    try:
        with torch.no_grad():
            clean_ok = torch.cat([model(Xt[i : i + batch_size]).argmax(1) == yt[i : i + batch_size]
                                  for i in range(0, len(Xt), batch_size)])
        ok = clean_ok.clone()
        for r in range(restarts):
            for i in range(0, len(Xt), batch_size):
                sl = slice(i, i + batch_size)
                adv = pgd_attack(model, Xt[sl], yt[sl], norm=norm, eps=eps, steps=steps, alpha=alpha,
                                 seed=seed + 7919 * r + i)
                with torch.no_grad():
                    ok[sl] &= model(adv).argmax(1) == yt[sl]
    finally:
        model.train(was)
    return RobustAccuracy(float(clean_ok.float().mean()), float(ok.float().mean()), ok.numpy(), norm, float(eps), steps)


def pgd_linf_examples(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    *,
    eps: float,
    steps: int,
    alpha: float | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """PGD-L∞ examples for adversarial *training* (Madry et al. 2018), lean and in-place-free.

    The inner loop of adversarial training calls the attack once per minibatch, so this skips
    :func:`pgd_attack`'s validation and torchattacks' wrapping (≈2× faster on small nets); it
    is the same algorithm — uniform random start in the L∞ ball, ``steps`` signed-gradient
    ascent steps of size ``alpha`` (default 2.5·eps/steps) on the cross-entropy, projection onto
    the ball and onto [0, 1]. Evaluate robustness with :func:`robust_accuracy`, not with this.

    Parameters
    ----------
    X : (n, ...) float inputs in [0, 1]; y : (n,) integer labels.
    generator : seeds the random start (a private ``torch.Generator``; global state untouched).

    Returns
    -------
    (n, ...) adversarial inputs, detached; the model is left in eval mode.
    """
    if not (np.isfinite(eps) and eps >= 0) or steps < 1:
        raise AttackError(f"need eps ≥ 0 and steps ≥ 1, got eps={eps}, steps={steps}")
    model.eval()
    step = alpha if alpha is not None else 2.5 * eps / steps
    X = X.detach()
    delta = (torch.rand(X.shape, generator=generator, dtype=X.dtype) * 2 - 1) * eps
    adv = (X + delta).clamp(0, 1)
    for _ in range(steps):
        adv.requires_grad_(True)
        loss = nn.functional.cross_entropy(model(adv), y)
        (grad,) = torch.autograd.grad(loss, adv)
        with torch.no_grad():
            adv = adv + step * grad.sign()
            adv = torch.min(torch.max(adv, X - eps), X + eps).clamp(0, 1)
    return adv.detach()
