"""One training loop for every experiment: seeded batch order, SGD or Adam, CE or MSE."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

__all__ = ["TrainResult", "accuracy", "fit_to_zero_error", "predict", "train"]


@dataclass
class TrainResult:
    """What :func:`train` returns: per-evaluation history rows and the final losses."""

    history: list[dict[str, float]] = field(default_factory=list)
    final_train_loss: float = float("nan")
    steps: int = 0


def _as_tensor(x: np.ndarray | torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    t = torch.as_tensor(x)
    return t.to(dtype) if t.is_floating_point() else t


@torch.no_grad()
def predict(model: nn.Module, X: np.ndarray | torch.Tensor, batch_size: int = 4096) -> torch.Tensor:
    """Model outputs on ``X`` in eval mode, batched; returns a CPU tensor."""
    was_training = model.training
    model.eval()
    dtype = next(model.parameters()).dtype
    Xt = _as_tensor(X, dtype)
    out = torch.cat([model(Xt[i : i + batch_size]) for i in range(0, len(Xt), batch_size)])
    model.train(was_training)
    return out


def accuracy(model: nn.Module, X: np.ndarray | torch.Tensor, y: np.ndarray | torch.Tensor) -> float:
    """Fraction of ``argmax`` predictions equal to integer labels ``y``."""
    pred = predict(model, X).argmax(dim=1)
    return float((pred == torch.as_tensor(y)).float().mean())


def train(
    model: nn.Module,
    X: np.ndarray | torch.Tensor,
    y: np.ndarray | torch.Tensor,
    *,
    steps: int,
    lr: float = 1e-3,
    batch_size: int = 128,
    optimizer: Literal["adam", "sgd", "adamw"] = "adam",
    momentum: float = 0.0,
    weight_decay: float = 0.0,
    loss: Literal["ce", "mse"] = "ce",
    seed: int = 0,
    eval_every: int = 0,
    callback: Callable[[int, nn.Module], dict[str, float] | None] | None = None,
    stop_loss: float | None = None,
) -> TrainResult:
    """Train ``model`` in place for ``steps`` minibatch steps; deterministic given ``seed``.

    Parameters
    ----------
    X, y : inputs (n, ...) and targets: integer labels for ``ce``, floats (n,) or (n, k) for ``mse``.
    steps : optimiser steps (not epochs). Batches are drawn by reshuffling each epoch.
    batch_size : examples per step; ``batch_size >= n`` gives full-batch gradient descent.
    eval_every : every this many steps (and at the end) record the full-train loss and call
        ``callback(step, model)``, whose returned dict is merged into the history row; a
        callback returning ``{"stop": True}`` ends training after this step.
    stop_loss : stop early once the full-train loss falls below this (checked at evaluations).
    """
    dtype = next(model.parameters()).dtype
    Xt = _as_tensor(X, dtype)
    yt = torch.as_tensor(y)
    if loss == "mse":
        yt = yt.to(dtype)
    n = len(Xt)
    if n == 0:
        raise ValueError("train: empty training set")
    loss_fn = _loss_fn(loss)
    opt = _optimizer(optimizer, [p for p in model.parameters() if p.requires_grad], lr, momentum, weight_decay)
    result = TrainResult()

    def full_loss() -> float:
        with torch.no_grad():
            was = model.training
            model.eval()
            out = torch.cat([model(Xt[i : i + 4096]) for i in range(0, n, 4096)])
            model.train(was)
            return float(loss_fn(out, yt))

    model.train()
    for step, idx in enumerate(_batches(n, min(batch_size, n), steps, seed), start=1):
        opt.zero_grad(set_to_none=True)
        loss_fn(model(Xt[idx]), yt[idx]).backward()
        opt.step()
        result.steps = step
        if (eval_every and step % eval_every == 0) or step == steps:
            row: dict[str, float] = {"step": float(step), "train_loss": full_loss()}
            if callback is not None:
                row.update(callback(step, model) or {})
            stop = bool(row.pop("stop", False))
            result.history.append(row)
            if stop or (stop_loss is not None and row["train_loss"] < stop_loss):
                break
    result.final_train_loss = result.history[-1]["train_loss"] if result.history else full_loss()
    return result


def fit_to_zero_error(model: nn.Module, X: np.ndarray, y: np.ndarray, *, max_steps: int,
                      check_every: int, check_X: np.ndarray | None = None,
                      check_y: np.ndarray | None = None, **train_kw: Any) -> tuple[int, bool]:
    """Train ``model`` in place with :func:`train` until it classifies (``check_X``, ``check_y``)
    — by default the training data — without a single error.

    The stopping rule of the zero-training-error solutions of Liu, Papailiopoulos & Achlioptas
    2020 ("Bad Global Minima Exist and SGD Can Reach Them", NeurIPS, arXiv 1906.02613).

    Parameters
    ----------
    X, y : training inputs (n, ...) and integer labels (n,).
    max_steps : most optimiser steps.
    check_every : steps between checks of the criterion (through :func:`train`'s callback,
        which ends the loop as soon as it holds).
    check_X, check_y : the set that must be classified without error (e.g. the un-augmented
        training set when ``X`` holds augmented copies); default ``X``, ``y``.
    **train_kw : passed to :func:`train` (optimizer, lr, batch_size, seed, ...).

    Returns
    -------
    (steps taken, reached): ``reached`` is whether the criterion holds at the end.
    """
    cx = X if check_X is None else check_X
    cy = y if check_y is None else check_y

    def stop_when_fit(step: int, net: nn.Module) -> dict[str, float]:
        return {"stop": True} if accuracy(net, cx, cy) == 1.0 else {}

    res = train(model, X, y, steps=max_steps, eval_every=check_every, callback=stop_when_fit, **train_kw)
    return res.steps, accuracy(model, cx, cy) == 1.0


def _loss_fn(loss: str) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    if loss == "ce":
        return nn.functional.cross_entropy
    if loss == "mse":

        def mse(out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
            return nn.functional.mse_loss(out.reshape(target.shape), target)

        return mse
    raise ValueError(f"unknown loss {loss!r} (allowed: ce, mse)")


def _optimizer(name: str, params: list[torch.Tensor], lr: float, momentum: float,
               weight_decay: float) -> torch.optim.Optimizer:
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    raise ValueError(f"unknown optimizer {name!r} (allowed: adam, adamw, sgd)")


def _batches(n: int, bs: int, steps: int, seed: int):
    """``steps`` minibatch index tensors: a seeded permutation, reshuffled when it runs out."""
    g = torch.Generator().manual_seed(int(seed))
    perm = torch.randperm(n, generator=g)
    pos = 0
    for _ in range(steps):
        if pos + bs > n:
            perm = torch.randperm(n, generator=g)
            pos = 0
        yield perm[pos : pos + bs]
        pos += bs
