"""Trajectory recorders for any training loop: weight norms, distance from init, kernel change.

Wide networks in the NTK regime barely move: the relative weight change ‖θ_t − θ₀‖/‖θ₀‖ and the
relative change of the empirical NTK ‖Θ_t − Θ₀‖_F/‖Θ₀‖_F shrink with width (Jacot et al. 2018;
Lee et al. 2019, Thm 2.1: O(width^{-1/2})); scale-invariant networks trained with weight decay
reach an equilibrium of their weight norms (Li & Arora 2020). The pure functions here measure
those quantities on parameter snapshots; :class:`TrajectoryRecorder` keeps the snapshot at
initialization and returns one row per call, so it plugs into
``theorylab.models.train(..., callback=recorder)`` or a hand-written loop alike.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from theorylab.probes.ntk import Form, Method, empirical_ntk

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "TrajectoryRecorder",
    "kernel_change",
    "parameter_snapshot",
    "relative_change",
    "weight_norms",
]


def parameter_snapshot(model: nn.Module, *, trainable_only: bool = True) -> dict[str, torch.Tensor]:
    """Detached copies of the model's parameters (only those that require grad by default)."""
    return {k: p.detach().clone() for k, p in model.named_parameters() if p.requires_grad or not trainable_only}


def _params(x: nn.Module | Mapping[str, torch.Tensor]) -> Mapping[str, torch.Tensor]:
    return parameter_snapshot(x) if isinstance(x, nn.Module) else x


def weight_norms(model: nn.Module | Mapping[str, torch.Tensor]) -> dict[str, float]:
    """Frobenius norm of every (trainable) parameter tensor, keyed by parameter name."""
    return {k: float(v.detach().norm()) for k, v in _params(model).items()}


def relative_change(current: nn.Module | Mapping[str, torch.Tensor], initial: Mapping[str, torch.Tensor], *,
                    by_parameter: bool = False) -> float | dict[str, float]:
    """‖θ − θ₀‖ / ‖θ₀‖ over all parameters in ``initial`` (or per parameter tensor).

    A parameter whose initial norm is zero gets ``nan`` in the per-parameter form.
    """
    cur = _params(current)
    missing = [k for k in initial if k not in cur]
    if missing:
        raise KeyError(f"no parameter {missing[0]!r} in the current state (have: {', '.join(cur)})")
    diff2 = {k: float((cur[k].detach() - v).pow(2).sum()) for k, v in initial.items()}
    base2 = {k: float(v.pow(2).sum()) for k, v in initial.items()}
    if by_parameter:
        return {k: math.sqrt(diff2[k] / base2[k]) if base2[k] > 0 else math.nan for k in initial}
    total = sum(base2.values())
    return math.sqrt(sum(diff2.values()) / total) if total > 0 else math.nan


def kernel_change(kernel: torch.Tensor | np.ndarray, initial: torch.Tensor | np.ndarray) -> float:
    """‖Θ − Θ₀‖_F / ‖Θ₀‖_F for two kernels of the same shape (any form of :func:`empirical_ntk`)."""
    a = np.asarray(kernel.detach() if isinstance(kernel, torch.Tensor) else kernel, dtype=np.float64)
    b = np.asarray(initial.detach() if isinstance(initial, torch.Tensor) else initial, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"kernels of different shapes: {a.shape} vs {b.shape}")
    denom = float(np.linalg.norm(b))
    return float(np.linalg.norm(a - b)) / denom if denom > 0 else math.nan


class TrajectoryRecorder:
    """Record norms, distance from initialization and NTK change along training.

    Parameters
    ----------
    model : the network at initialization (its trainable parameters are snapshotted now).
    kernel_inputs : inputs (N, ...) on which to track the empirical NTK; None skips the kernel.
    ntk_method, ntk_form : passed to :func:`~theorylab.probes.ntk.empirical_ntk`.
    per_parameter : also record each tensor's norm and relative change (keys ``norm/<name>``,
        ``change/<name>``).
    every : record on calls whose ``step`` is a multiple of this (others return ``None``).

    Attributes
    ----------
    initial_ : the parameter snapshot at construction.
    kernel0_ : Θ₀ on ``kernel_inputs`` (None without kernel inputs).
    history_ : one dict per recorded step.

    Example
    -------
    >>> from theorylab.models import mlp, train
    >>> net = mlp(2, [8], 1, seed=0)
    >>> rec = TrajectoryRecorder(net, kernel_inputs=torch.randn(4, 2))
    >>> _ = train(net, torch.randn(16, 2), torch.randn(16), steps=4, loss="mse", eval_every=2, callback=rec)
    >>> [round(r["step"]) for r in rec.history_]
    [2, 4]
    """

    def __init__(self, model: nn.Module, *, kernel_inputs: torch.Tensor | np.ndarray | None = None,
                 ntk_method: Method = "jacobian", ntk_form: Form = "trace", per_parameter: bool = True,
                 every: int = 1) -> None:
        if every < 1:
            raise ValueError(f"every must be ≥ 1, got {every}")
        self.kernel_inputs = kernel_inputs
        self.ntk_method: Method = ntk_method
        self.ntk_form: Form = ntk_form
        self.per_parameter = per_parameter
        self.every = every
        self.initial_ = parameter_snapshot(model)
        self.kernel0_ = self.kernel(model) if kernel_inputs is not None else None
        self.history_: list[dict[str, float]] = []

    def kernel(self, model: nn.Module) -> torch.Tensor:
        """The empirical NTK of ``model`` on the recorder's kernel inputs."""
        if self.kernel_inputs is None:
            raise ValueError("this recorder tracks no kernel (kernel_inputs=None)")
        return empirical_ntk(model, self.kernel_inputs, method=self.ntk_method, form=self.ntk_form)

    def measure(self, model: nn.Module) -> dict[str, float]:
        """The row for ``model`` now (not stored)."""
        cur = parameter_snapshot(model)
        row: dict[str, float] = {
            "weight_norm": math.sqrt(sum(float(v.pow(2).sum()) for v in cur.values())),
            "relative_change": float(relative_change(cur, self.initial_)),
        }
        if self.per_parameter:
            per = relative_change(cur, self.initial_, by_parameter=True)
            for k, v in cur.items():
                row[f"norm/{k}"] = float(v.norm())
                row[f"change/{k}"] = float(per[k])  # type: ignore[index]
        if self.kernel0_ is not None:
            row["kernel_change"] = kernel_change(self.kernel(model), self.kernel0_)
        return row

    def __call__(self, step: int, model: nn.Module) -> dict[str, float] | None:
        """Record at ``step`` (a training-loop callback); returns the row, or None between records."""
        if step % self.every:
            return None
        row = {"step": float(step), **self.measure(model)}
        self.history_.append(row)
        return row

    def frame(self) -> pd.DataFrame:
        """The history as a DataFrame (one row per recorded step)."""
        import pandas as pd

        return pd.DataFrame(self.history_)
