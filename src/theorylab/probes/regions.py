"""Spline geometry of piecewise-affine networks (claim E): exact affine maps and regions.

A network built from affine layers and ReLU/LeakyReLU is a continuous piecewise-affine map
(a max-affine spline, Balestriero & Baraniuk 2018): every input x lies in a convex polyhedral
region, fixed by its *activation pattern* (the sign of every pre-activation), on which
``f(x) = A_x x + b_x``. This module computes, in float64:

* :func:`activation_pattern` and :func:`local_affine_map` — the pattern and (A_x, b_x) at x;
* :func:`regions_on_segment` — the exact sequence of regions met on the segment x0 → x1
  (Hanin & Rolnick 2019a): inside a region every pre-activation is affine in t, so the walk
  jumps straight to the smallest sign change and recomputes the pattern there;
* :func:`partition_2d` — the exact partition of a bounded 2-D affine slice
  ``origin + s·u + t·v`` into convex polygons, by splitting polygons layer by layer with each
  neuron's line (the per-layer half-plane splitting of SplineCam, Humayun et al. CVPR 2023,
  done here with convex polygon clipping instead of a graph search);
* :func:`local_complexity` — the number of neurons per layer whose sign is not constant over a
  cross-polytope of radius r around each point (Humayun, Balestriero & Baraniuk 2024);
* :func:`patterns_on_grid` — patterns at many points (the dense-sampling oracle);
* :func:`slice_density` — regions and region-boundary length per unit area of a partitioned
  slice, in input units (the two sides of Hanin & Rolnick's (T·N)²/2! relation);
* :func:`decision_boundary_points` — points on the decision boundary between pairs of inputs;
* :func:`plot_partition` — a partition drawn, regions coloured, exact decision boundary overlaid.

Compile once with :func:`affine_program` and pass the :class:`AffineProgram` instead of the
model when probing the same network many times.

Supported layers: ``nn.Sequential``, :class:`Residual` (skip connections), ``Linear``,
``Conv1d``/``Conv2d``, eval-mode ``BatchNorm1d``/``BatchNorm2d``, ``AvgPool1d``/``AvgPool2d``,
``AdaptiveAvgPool1d``/``2d``, ``Flatten``, ``Unflatten``, ``Identity``, eval-mode ``Dropout``,
``ReLU`` and ``LeakyReLU``. Anything else raises :class:`UnsupportedLayerError` naming the
layer. A "layer" of neurons below is one call of a ReLU/LeakyReLU module; its neurons are the
entries of that module's input.

Departures from the papers: breaks closer than ``eps`` (relative to the segment length, 1e-9
by default) are merged; polygons are exact up to float64 rounding (vertices within a relative
1e-10 of a line are taken to lie on it).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from theorylab.errors import TheorylabError

__all__ = [
    "AffineProgram",
    "Partition2D",
    "Residual",
    "SegmentRegions",
    "SliceDensity",
    "UnsupportedLayerError",
    "activation_pattern",
    "affine_program",
    "decision_boundary_points",
    "decision_boundary_segments",
    "local_affine_map",
    "local_complexity",
    "partition_2d",
    "patterns_on_grid",
    "plot_partition",
    "regions_on_segment",
    "regions_on_segments",
    "slice_density",
]

DTYPE = torch.float64


class UnsupportedLayerError(TheorylabError, TypeError):
    """The network holds a layer that is not piecewise affine (or not one we can read)."""


class Residual(nn.Module):
    """A residual block ``y = block(x) + shortcut(x)`` that the region probes understand.

    ``nn.Sequential`` has no skips; wrap a block in ``Residual`` to express one. ``shortcut``
    defaults to the identity; any supported (piecewise-)affine module may be given instead
    (e.g. a 1×1 ``Conv2d`` when the channel count changes).

    Example
    -------
    >>> net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(),
    ...                     Residual(nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 8))),
    ...                     nn.ReLU(), nn.Linear(8, 2))
    >>> net(torch.zeros(3, 4)).shape
    torch.Size([3, 2])
    """

    def __init__(self, block: nn.Module, shortcut: nn.Module | None = None) -> None:
        super().__init__()
        self.block = block
        self.shortcut = shortcut

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skip = x if self.shortcut is None else self.shortcut(x)
        return self.block(x) + skip


# ---------------------------------------------------------------------------------------------
# The affine program: the network compiled to float64 ops that push an affine map through.
#
# State S has shape (B, 1 + k, *features): row 0 is the value at the current origin (biases
# included), rows 1..k the linear part along k input directions (no biases). On a fixed
# activation pattern the network maps origin + Σ z_i dir_i to S[:, 0] + Σ z_i S[:, i].
# ---------------------------------------------------------------------------------------------
MaskFn = Callable[[int, torch.Tensor, torch.Tensor], torch.Tensor]


class _Stop(Exception):
    """Raised by a mask function to stop the forward pass at a layer (partition building)."""


class _Ctx:
    def __init__(self, mask_fn: MaskFn) -> None:
        self.mask_fn = mask_fn
        self.layer = 0


class _Op:
    def apply(self, S: torch.Tensor, ctx: _Ctx) -> torch.Tensor:  # pragma: no cover - interface
        raise NotImplementedError


class _Affine(_Op):
    """An affine layer: ``linear`` acts on every row, ``bias`` is added to row 0 only.

    ``channelwise`` biases (conv, BatchNorm) index the channel axis (the first feature axis);
    otherwise the bias broadcasts over the last axis (Linear).
    """

    def __init__(
        self, linear: Callable[[torch.Tensor], torch.Tensor], bias: torch.Tensor | None, channelwise: bool = False
    ) -> None:
        self.linear = linear
        self.bias = bias
        self.channelwise = channelwise

    def apply(self, S: torch.Tensor, ctx: _Ctx) -> torch.Tensor:
        B, R = S.shape[:2]
        out = self.linear(S.reshape(B * R, *S.shape[2:]))
        out = out.reshape(B, R, *out.shape[1:])
        if self.bias is not None:
            bias = self.bias.reshape(-1, *([1] * (out.dim() - 3))) if self.channelwise else self.bias
            out = out.clone()
            out[:, 0] = out[:, 0] + bias
        return out


class _Act(_Op):
    """ReLU (negative_slope 0) or LeakyReLU: slope 1 where the mask is on, else negative_slope."""

    def __init__(self, negative_slope: float, name: str) -> None:
        self.negative_slope = float(negative_slope)
        self.name = name

    def apply(self, S: torch.Tensor, ctx: _Ctx) -> torch.Tensor:
        B, R = S.shape[:2]
        feat = S.shape[2:]
        c = S[:, 0].reshape(B, -1)
        D = S[:, 1:].reshape(B, R - 1, c.shape[1])
        mask = ctx.mask_fn(ctx.layer, c, D)
        ctx.layer += 1
        # built in S's dtype: a float32 0.01 would put a 1e-10 error into every leaky slope
        one = torch.ones((), dtype=S.dtype)
        slope = torch.where(mask, one, torch.full((), self.negative_slope, dtype=S.dtype))
        return S * slope.reshape(B, 1, *feat)


class _Seq(_Op):
    def __init__(self, ops: list[_Op]) -> None:
        self.ops = ops

    def apply(self, S: torch.Tensor, ctx: _Ctx) -> torch.Tensor:
        for op in self.ops:
            S = op.apply(S, ctx)
        return S


class _Res(_Op):
    def __init__(self, block: _Op, shortcut: _Op | None) -> None:
        self.block = block
        self.shortcut = shortcut

    def apply(self, S: torch.Tensor, ctx: _Ctx) -> torch.Tensor:
        skip = S if self.shortcut is None else self.shortcut.apply(S, ctx)
        return self.block.apply(S, ctx) + skip


def _t(p: torch.Tensor | None) -> torch.Tensor | None:
    return None if p is None else p.detach().to(DTYPE)


def _compile(m: nn.Module, name: str) -> _Op:
    label = f"layer {name or '<root>'!r} ({type(m).__name__})"
    if isinstance(m, nn.Sequential):
        return _Seq([_compile(sub, f"{name}.{k}" if name else k) for k, sub in m.named_children()])
    if isinstance(m, Residual):
        sc = None if m.shortcut is None else _compile(m.shortcut, f"{name}.shortcut")
        return _Res(_compile(m.block, f"{name}.block"), sc)
    if isinstance(m, nn.Linear):
        W, b = _t(m.weight), _t(m.bias)
        return _Affine(lambda x, W=W: torch.nn.functional.linear(x, W), b)
    if isinstance(m, (nn.Conv1d, nn.Conv2d)):
        W, b = _t(m.weight), _t(m.bias)
        return _Affine(lambda x, W=W, m=m: m._conv_forward(x, W, None), b, channelwise=True)
    if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
        if m.training:
            raise UnsupportedLayerError(f"{label} is in training mode; call model.eval() first")
        if m.running_mean is None or m.running_var is None:
            raise UnsupportedLayerError(f"{label} keeps no running statistics (track_running_stats=False)")
        # eval-mode BatchNorm is the per-channel affine map x -> scale * x + shift
        scale = 1.0 / torch.sqrt(_t(m.running_var) + m.eps)
        if m.weight is not None:
            scale = scale * _t(m.weight)
        shift = -_t(m.running_mean) * scale
        if m.bias is not None:
            shift = shift + _t(m.bias)
        return _Affine(lambda x, s=scale: x * s.reshape(-1, *([1] * (x.dim() - 2))), shift, channelwise=True)
    if isinstance(m, (nn.AvgPool1d, nn.AvgPool2d, nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.Flatten,
                      nn.Unflatten, nn.Identity)):
        if isinstance(m, (nn.Flatten, nn.Unflatten)) and getattr(m, "start_dim", getattr(m, "dim", 1)) == 0:
            raise UnsupportedLayerError(f"{label} acts on the batch dimension (dim 0)")
        return _Affine(m, None)  # linear and homogeneous: applies to every row as is
    if isinstance(m, nn.Dropout):
        if m.training and m.p > 0:
            raise UnsupportedLayerError(f"{label} is in training mode; call model.eval() first")
        return _Affine(lambda x: x, None)
    if isinstance(m, nn.ReLU):
        return _Act(0.0, name)
    if isinstance(m, nn.LeakyReLU):
        return _Act(m.negative_slope, name)
    raise UnsupportedLayerError(
        f"{label} is not supported by the region probes (supported: Sequential, Residual, Linear, "
        "Conv1d/2d, eval BatchNorm1d/2d, AvgPool1d/2d, AdaptiveAvgPool1d/2d, Flatten, Unflatten, "
        "Identity, Dropout(eval), ReLU, LeakyReLU)"
    )


@dataclass(frozen=True)
class AffineProgram:
    """A network compiled for affine propagation (float64 copies of its parameters)."""

    root: _Op
    in_shape: tuple[int, ...]
    layer_names: tuple[str, ...]
    layer_sizes: tuple[int, ...]
    out_size: int

    @property
    def n_neurons(self) -> int:
        return int(sum(self.layer_sizes))

    def run(self, origin: torch.Tensor, dirs: torch.Tensor, mask_fn: MaskFn) -> torch.Tensor:
        """Push ``origin`` (B, *in) and ``dirs`` (B, k, *in) through; returns S (B, 1+k, n_out)."""
        S = torch.cat([origin.unsqueeze(1), dirs], dim=1).to(DTYPE)
        ctx = _Ctx(mask_fn)
        out = self.root.apply(S, ctx)
        return out.reshape(out.shape[0], out.shape[1], -1)


def _value_mask(layer: int, c: torch.Tensor, D: torch.Tensor) -> torch.Tensor:
    return c > 0


def affine_program(model: nn.Module, in_shape: Sequence[int]) -> AffineProgram:
    """Compile ``model`` for inputs of shape ``in_shape`` (no batch axis).

    Raises :class:`UnsupportedLayerError` naming the first layer that is not supported.
    """
    root = _compile(model, "")
    in_shape = tuple(int(s) for s in in_shape)
    names: list[str] = []
    sizes: list[int] = []

    def record(layer: int, c: torch.Tensor, D: torch.Tensor) -> torch.Tensor:
        sizes.append(int(c.shape[1]))
        return c > 0

    # a dry run on one zero input discovers the layer sizes; the names come from the ops
    def collect(op: _Op) -> None:
        if isinstance(op, _Act):
            names.append(op.name)
        elif isinstance(op, _Seq):
            for o in op.ops:
                collect(o)
        elif isinstance(op, _Res):
            if op.shortcut is not None:
                collect(op.shortcut)
            collect(op.block)

    collect(root)
    with torch.no_grad():
        S = torch.zeros((1, 1, *in_shape), dtype=DTYPE)
        try:
            out = root.apply(S, _Ctx(record))
        except RuntimeError as e:
            raise TheorylabError(f"the network does not accept inputs of shape {in_shape}: {e}") from None
    if len(names) != len(sizes):  # a ReLU module called more than once: name by call order
        names = [f"act{i}" for i in range(len(sizes))]
    return AffineProgram(root, in_shape, tuple(names), tuple(sizes), int(out[0, 0].numel()))


def _as_input(x: np.ndarray | torch.Tensor) -> torch.Tensor:
    t = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x.detach()).to(DTYPE)
    if not torch.isfinite(t).all():
        raise TheorylabError("input holds NaN or inf values")
    return t


def _program(model: nn.Module | AffineProgram, in_shape: Sequence[int]) -> AffineProgram:
    if isinstance(model, AffineProgram):
        if tuple(model.in_shape) != tuple(in_shape):
            raise TheorylabError(f"program compiled for input shape {model.in_shape}, got {tuple(in_shape)}")
        return model
    return affine_program(model, in_shape)


# ---------------------------------------------------------------------------------------------
# Pattern and local affine map at a point
# ---------------------------------------------------------------------------------------------
def activation_pattern(model: nn.Module | AffineProgram, x: np.ndarray | torch.Tensor) -> np.ndarray:
    """Activation pattern at a single input ``x`` (shape = the model's input shape, no batch).

    Returns a bool array (N,): True where the pre-activation is > 0, layers concatenated in
    forward order (sizes in ``affine_program(model, x.shape).layer_sizes``).
    """
    xt = _as_input(x)
    prog = _program(model, xt.shape)
    masks: list[torch.Tensor] = []

    def fn(layer: int, c: torch.Tensor, D: torch.Tensor) -> torch.Tensor:
        m = c > 0
        masks.append(m[0])
        return m

    with torch.no_grad():
        prog.run(xt.unsqueeze(0), xt.new_zeros((1, 0, *xt.shape)), fn)
    return torch.cat(masks).numpy() if masks else np.zeros(0, bool)


def local_affine_map(model: nn.Module | AffineProgram, x: np.ndarray | torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """The exact affine map of the region holding ``x``: ``f(x') = A x' + b`` there.

    Parameters
    ----------
    model : a supported network (see module docstring) or a compiled :class:`AffineProgram`.
    x : one input, shape = the model's input shape without the batch axis (any dtype).

    Returns
    -------
    A : (n_out, n_in) float64, acting on the flattened input (n_in = x.size).
    b : (n_out,) float64.

    Notes
    -----
    Balestriero & Baraniuk 2018 (max-affine spline operators). Computed by pushing the identity
    basis through the network with the pattern frozen at ``x``; ``A x + b`` equals ``f(x)`` to
    float64 rounding (~1e-12 relative).
    """
    xt = _as_input(x)
    prog = _program(model, xt.shape)
    n_in = xt.numel()
    eye = torch.eye(n_in, dtype=DTYPE).reshape(1, n_in, *xt.shape)
    with torch.no_grad():
        S = prog.run(xt.unsqueeze(0), eye, _value_mask)[0]  # (1 + n_in, n_out)
    A = S[1:].T.numpy()
    b = (S[0] - S[1:].T @ xt.reshape(-1)).numpy()
    return A, b


# ---------------------------------------------------------------------------------------------
# Exact regions on a segment
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SegmentRegions:
    """Regions met on the segment x(t) = x0 + t (x1 − x0), t ∈ [0, 1].

    Attributes
    ----------
    breaks : (count − 1,) sorted t values in (0, 1) where the pattern changes.
    patterns : (count, N) bool, the pattern of each piece (layers concatenated).
    layer_sizes : neurons per layer.
    length : ‖x1 − x0‖ (input units).
    """

    breaks: np.ndarray
    patterns: np.ndarray
    layer_sizes: tuple[int, ...]
    length: float

    @property
    def count(self) -> int:
        """Number of regions (pieces) met on the segment."""
        return int(len(self.breaks) + 1)

    @property
    def edges(self) -> np.ndarray:
        """(count + 1,) piece boundaries 0 = t_0 < ... < t_count = 1."""
        return np.concatenate([[0.0], self.breaks, [1.0]])

    def piece_of(self, t: np.ndarray) -> np.ndarray:
        """Index of the piece holding each t (a break belongs to the piece on its right)."""
        return np.searchsorted(self.breaks, np.asarray(t, float), side="right")


def regions_on_segments(
    model: nn.Module | AffineProgram,
    X0: np.ndarray | torch.Tensor,
    X1: np.ndarray | torch.Tensor,
    *,
    eps: float = 1e-9,
    keep_patterns: bool = True,
    max_steps: int = 1_000_000,
) -> list[SegmentRegions]:
    """Exact regions on B segments at once (batched walk); see :func:`regions_on_segment`.

    ``X0``, ``X1`` : (B, *input_shape). Returns one :class:`SegmentRegions` per row.
    """
    X0t, X1t = _as_input(X0), _as_input(X1)
    if X0t.shape != X1t.shape or X0t.dim() < 2:
        raise TheorylabError(f"X0 and X1 must have the same shape (B, *input), got {tuple(X0t.shape)}, {tuple(X1t.shape)}")
    prog = _program(model, X0t.shape[1:])
    B = X0t.shape[0]
    dirs = (X1t - X0t).unsqueeze(1)
    t = torch.zeros(B, dtype=DTYPE)
    active = torch.arange(B)
    breaks: list[list[float]] = [[] for _ in range(B)]
    pats: list[list[np.ndarray]] = [[] for _ in range(B)]
    steps = 0
    with torch.no_grad():
        while len(active):
            steps += 1
            if steps > max_steps:
                raise RuntimeError("regions_on_segments: step limit reached (degenerate network?)")
            ta = t[active]
            origin = X0t[active] + ta.reshape(-1, *[1] * (X0t.dim() - 1)) * dirs[active, 0]
            masks: list[torch.Tensor] = []
            step = torch.full((len(active),), torch.inf, dtype=DTYPE)

            def fn(layer: int, c: torch.Tensor, D: torch.Tensor, masks=masks, step=step) -> torch.Tensor:
                d = D[:, 0]
                # t* = −c/d is where this neuron's sign changes (in segment units)
                tstar = torch.where(d != 0, -c / d, torch.inf)
                at_zero = tstar.abs() <= eps
                # the pattern just to the right of the current point: on a break, the slope decides
                m = torch.where(at_zero, d > 0, c > 0)
                masks.append(m)
                cand = torch.where(tstar > eps, tstar, torch.inf)
                torch.minimum(step, cand.min(dim=1).values if cand.shape[1] else step, out=step)
                return m

            prog.run(origin, dirs[active], fn)
            pattern = torch.cat(masks, dim=1).numpy() if masks else np.zeros((len(active), 0), bool)
            t_next = ta + step
            done = t_next >= 1.0 - eps
            for i, b in enumerate(active.tolist()):
                if keep_patterns or not pats[b]:
                    pats[b].append(pattern[i])
                if not bool(done[i]):
                    breaks[b].append(float(t_next[i]))
            t[active] = torch.where(done, torch.ones_like(t_next), t_next)
            active = active[~done]
    lengths = dirs.reshape(B, -1).norm(dim=1).numpy()
    out = []
    for b in range(B):
        P = np.stack(pats[b]) if keep_patterns else np.stack(pats[b][:1])
        out.append(SegmentRegions(np.asarray(breaks[b], float), P, prog.layer_sizes, float(lengths[b])))
    return out


def regions_on_segment(
    model: nn.Module | AffineProgram,
    x0: np.ndarray | torch.Tensor,
    x1: np.ndarray | torch.Tensor,
    *,
    eps: float = 1e-9,
) -> SegmentRegions:
    """Exact sequence of linear regions met on the segment x0 → x1 (Hanin & Rolnick 2019a).

    Parameters
    ----------
    model : a supported network or compiled program.
    x0, x1 : two inputs of the model's input shape (no batch axis).
    eps : breaks closer than ``eps`` (fraction of the segment) are merged; on a break the
        pattern of the piece to its right is read from the sign of each neuron's slope.

    Returns
    -------
    SegmentRegions with ``.count``, ``.breaks`` (t values) and ``.patterns``.

    Notes
    -----
    On a fixed pattern every pre-activation is affine in t, c + d·t, so the next sign change
    is ``min_{t* > t} −c/d`` over all neurons of all layers: one forward pass per region.

    Example
    -------
    >>> net = nn.Sequential(nn.Linear(1, 3), nn.ReLU(), nn.Linear(3, 1))
    >>> with torch.no_grad():
    ...     _ = net[0].weight.copy_(torch.ones(3, 1)); _ = net[0].bias.copy_(torch.tensor([0., -1., -2.]))
    >>> r = regions_on_segment(net, np.array([-1.0]), np.array([3.0]))
    >>> r.count, np.round(r.breaks, 6).tolist()
    (4, [0.25, 0.5, 0.75])
    """
    X0 = _as_input(x0).unsqueeze(0)
    X1 = _as_input(x1).unsqueeze(0)
    return regions_on_segments(model, X0, X1, eps=eps)[0]


def patterns_on_grid(model: nn.Module | AffineProgram, points: np.ndarray | torch.Tensor) -> np.ndarray:
    """Activation patterns (n, N) bool at each row of ``points`` (n, *input) — the dense oracle."""
    P = _as_input(points)
    prog = _program(model, P.shape[1:])
    masks: list[torch.Tensor] = []

    def fn(layer: int, c: torch.Tensor, D: torch.Tensor) -> torch.Tensor:
        m = c > 0
        masks.append(m)
        return m

    with torch.no_grad():
        prog.run(P, P.new_zeros((P.shape[0], 0, *P.shape[1:])), fn)
    return torch.cat(masks, dim=1).numpy() if masks else np.zeros((len(P), 0), bool)


# ---------------------------------------------------------------------------------------------
# Exact partition of a 2-D slice
# ---------------------------------------------------------------------------------------------
def _clip(V: np.ndarray, vals: np.ndarray, tol: float) -> tuple[np.ndarray, np.ndarray]:
    """Split convex polygon V (m, 2) by the line where ``vals`` (affine values at V) is 0.

    Returns (positive part, negative part), each a vertex array in the same orientation.
    """
    m = len(V)
    pos: list[np.ndarray] = []
    neg: list[np.ndarray] = []
    for i in range(m):
        j = (i + 1) % m
        vi, vj = vals[i], vals[j]
        if vi > tol:
            pos.append(V[i])
        elif vi < -tol:
            neg.append(V[i])
        else:  # on the line: belongs to both parts
            pos.append(V[i])
            neg.append(V[i])
        if (vi > tol and vj < -tol) or (vi < -tol and vj > tol):
            p = V[i] + (vi / (vi - vj)) * (V[j] - V[i])
            pos.append(p)
            neg.append(p)
    return np.asarray(pos), np.asarray(neg)


def _split_polygon(
    V: np.ndarray, c: np.ndarray, D: np.ndarray, tol: np.ndarray
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Split convex polygon V by the lines c_j + D_j·z = 0; return [(vertices, signs (n,) bool)].

    ``D`` is (n, 2). Lines that do not cut a piece give it their sign (True: positive side).
    """
    out: list[tuple[np.ndarray, np.ndarray]] = []
    vals = c[None, :] + V @ D.T
    cut = (vals.max(axis=0) > tol) & (vals.min(axis=0) < -tol)
    signs = vals.sum(axis=0) > 0
    stack = [(V, np.flatnonzero(cut), signs)]
    while stack:
        W, idx, s = stack.pop()
        if len(idx) == 0:
            out.append((W, s))
            continue
        j, rest = idx[0], idx[1:]
        vals_j = c[j] + W @ D[j]
        for part, side in zip(_clip(W, vals_j, tol[j]), (True, False), strict=True):
            if len(part) < 3:
                continue
            s2 = s.copy()
            s2[j] = side
            if len(rest):
                v = c[rest][None, :] + part @ D[rest].T
                still = (v.max(axis=0) > tol[rest]) & (v.min(axis=0) < -tol[rest])
                s2[rest[~still]] = v[:, ~still].sum(axis=0) > 0
                stack.append((part, rest[still], s2))
            else:
                stack.append((part, rest, s2))
    return out


def _area(V: np.ndarray) -> float:
    x, y = V[:, 0], V[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))


@dataclass
class Partition2D:
    """Exact partition of the slice ``origin + s·u + t·v``, (s, t) in ``bounds``, into regions.

    Attributes
    ----------
    polygons : list of (m_i, 2) vertex arrays in slice coordinates (s, t), counter-clockwise.
    patterns : (count, N) bool activation pattern of each polygon.
    out_offset : (count, n_out) network output at (s, t) = (0, 0) under each polygon's map.
    out_linear : (count, n_out, 2); on polygon i, ``f = out_offset[i] + out_linear[i] @ (s, t)``.
    layer_sizes : neurons per layer.
    origin, u, v : the slice (flattened input vectors); bounds = (s_min, s_max, t_min, t_max).
    """

    polygons: list[np.ndarray]
    patterns: np.ndarray
    out_offset: np.ndarray
    out_linear: np.ndarray
    layer_sizes: tuple[int, ...]
    origin: np.ndarray
    u: np.ndarray
    v: np.ndarray
    bounds: tuple[float, float, float, float]
    counts_per_layer: tuple[int, ...] = field(default=())
    _tree: object = field(default=None, repr=False, compare=False)

    @property
    def count(self) -> int:
        """Number of regions (polygons) in the slice."""
        return len(self.polygons)

    def areas(self) -> np.ndarray:
        """(count,) polygon areas in slice units (s·t)."""
        return np.array([_area(V) for V in self.polygons])

    def locate(self, st: np.ndarray, tol: float = 1e-9) -> np.ndarray:
        """Index of a polygon holding each point (n, 2) in slice coordinates, −1 if none."""
        import shapely

        st = np.asarray(st, float).reshape(-1, 2)
        idx = np.full(len(st), -1)
        if self._tree is None:
            self._tree = shapely.STRtree([shapely.Polygon(V) for V in self.polygons])
        # candidates from bounding boxes (shapely), membership by our own half-plane test:
        # inside a CCW convex polygon means left of (or within tol of) every edge
        pt, poly = self._tree.query(shapely.points(st), predicate=None)
        best = np.full(len(st), len(self.polygons))  # lowest index of a polygon holding the point
        M = max(len(V) for V in self.polygons)
        # pad every polygon to M vertices by repeating its last one (zero-length edges pass)
        Vp = np.stack([np.concatenate([V, np.repeat(V[-1:], M - len(V), axis=0)]) for V in self.polygons])
        for lo in range(0, len(pt), 200_000):  # chunks bound the memory (pairs × M × 2 floats)
            p, i = pt[lo : lo + 200_000], poly[lo : lo + 200_000]
            V = Vp[i]
            E = np.roll(V, -1, axis=1) - V
            d = st[p][:, None, :] - V
            cross = E[..., 0] * d[..., 1] - E[..., 1] * d[..., 0]
            inside = (cross >= -tol * np.linalg.norm(E, axis=2)).all(axis=1)
            np.minimum.at(best, p[inside], i[inside])
        idx[best < len(self.polygons)] = best[best < len(self.polygons)]
        return idx

    def evaluate(self, st: np.ndarray) -> np.ndarray:
        """Network output (n, n_out) at slice points (n, 2) from the polygons' affine maps."""
        st = np.asarray(st, float)
        i = self.locate(st)
        if (i < 0).any():
            raise TheorylabError("some points lie outside the partitioned slice")
        return self.out_offset[i] + np.einsum("nok,nk->no", self.out_linear[i], st)

    def to_input(self, st: np.ndarray) -> np.ndarray:
        """Slice coordinates (n, 2) → flattened inputs (n, n_in)."""
        st = np.asarray(st, float)
        return self.origin[None, :] + st[:, :1] * self.u[None, :] + st[:, 1:2] * self.v[None, :]


def partition_2d(
    model: nn.Module | AffineProgram,
    origin: np.ndarray | torch.Tensor,
    u: np.ndarray | torch.Tensor,
    v: np.ndarray | torch.Tensor,
    bounds: Sequence[float] = (-1.0, 1.0, -1.0, 1.0),
    *,
    rtol: float = 1e-10,
    max_regions: int = 2_000_000,
) -> Partition2D:
    """Exact partition of a bounded 2-D affine slice into linear regions (convex polygons).

    Parameters
    ----------
    model : a supported network or compiled program.
    origin, u, v : inputs of the model's input shape; the slice is origin + s·u + t·v.
    bounds : (s_min, s_max, t_min, t_max), the box of slice coordinates.
    rtol : vertices within ``rtol``·(|c| + ‖D‖·R) of a neuron's line count as on it
        (R = largest |coordinate| of the box), guarding against float64 slivers.
    max_regions : stop with an error beyond this many polygons (memory guard).

    Returns
    -------
    Partition2D with ``.count``, polygons, patterns and per-polygon output maps.

    Notes
    -----
    Layer by layer (Humayun et al. 2023, SplineCam, steps 1–4): every polygon of the partition
    induced by layers < l has fixed earlier patterns, so layer l's pre-activations are affine
    on it; each neuron's zero line splits it (convex clipping in float64). The pre-activation
    maps of all polygons are computed in one batched forward pass per layer.
    """
    o, ut, vt, (s0, s1, t0, t1) = _slice_inputs(origin, u, v, bounds)
    prog = _program(model, o.shape)
    R = max(abs(s0), abs(s1), abs(t0), abs(t1), s1 - s0, t1 - t0)
    polys = [np.array([[s0, t0], [s1, t0], [s1, t1], [s0, t1]], float)]
    layer_masks: list[torch.Tensor] = []  # per layer: (P, n_l) bool, rows follow `polys`
    dirs1 = torch.stack([ut, vt])
    counts: list[int] = []
    for layer in range(len(prog.layer_sizes)):
        c_all, D_all = _slice_forward(prog, o, dirs1, len(polys), layer_masks, layer)  # (P, n), (P, 2, n)
        polys, parent, signs = _split_by_layer(polys, c_all.numpy(), D_all.numpy(), rtol, R, max_regions)
        idx = torch.as_tensor(parent, dtype=torch.long)
        layer_masks = [m[idx] for m in layer_masks] + [torch.as_tensor(np.stack(signs))]
        counts.append(len(polys))
    S = _slice_forward(prog, o, dirs1, len(polys), layer_masks, None)  # (P, 3, n_out)
    Sn = S.numpy()
    patterns = torch.cat(layer_masks, dim=1).numpy() if layer_masks else np.zeros((len(polys), 0), bool)
    return Partition2D(
        polygons=polys,
        patterns=patterns,
        out_offset=Sn[:, 0, :],
        out_linear=np.transpose(Sn[:, 1:, :], (0, 2, 1)),
        layer_sizes=prog.layer_sizes,
        origin=o.reshape(-1).numpy(),
        u=ut.reshape(-1).numpy(),
        v=vt.reshape(-1).numpy(),
        bounds=(s0, s1, t0, t1),
        counts_per_layer=tuple(counts),
    )


def _slice_inputs(origin: np.ndarray | torch.Tensor, u: np.ndarray | torch.Tensor, v: np.ndarray | torch.Tensor,
                  bounds: Sequence[float]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor,
                                                    tuple[float, float, float, float]]:
    """The slice's origin and directions as float64 tensors of one shape, and its checked bounds."""
    o = _as_input(origin)
    ut, vt = _as_input(u), _as_input(v)
    if ut.shape != o.shape or vt.shape != o.shape:
        raise TheorylabError(f"origin, u, v must share a shape; got {tuple(o.shape)}, {tuple(ut.shape)}, {tuple(vt.shape)}")
    s0, s1, t0, t1 = (float(b) for b in bounds)
    if not (s1 > s0 and t1 > t0) or not np.isfinite([s0, s1, t0, t1]).all():
        raise TheorylabError(f"bounds must be (s_min, s_max, t_min, t_max) with min < max, got {tuple(bounds)}")
    return o, ut, vt, (s0, s1, t0, t1)


def _slice_forward(prog: AffineProgram, o: torch.Tensor, dirs1: torch.Tensor, P: int,
                   layer_masks: list[torch.Tensor],
                   stop_at: int | None) -> tuple[torch.Tensor, torch.Tensor] | torch.Tensor:
    """One batched pass over the ``P`` polygons with their fixed activation patterns.

    ``stop_at`` a layer: that layer's pre-activation maps (c (P, n), D (P, 2, n)), affine in the
    slice coordinates on each polygon. None: the output maps (P, 3, n_out).
    """
    got: dict[str, torch.Tensor] = {}

    def fn(layer: int, c: torch.Tensor, D: torch.Tensor) -> torch.Tensor:
        if layer == stop_at:
            got["c"], got["D"] = c, D
            raise _Stop
        return layer_masks[layer]

    with torch.no_grad():
        try:
            S = prog.run(o.expand(P, *o.shape), dirs1.expand(P, *dirs1.shape), fn)
        except _Stop:
            return got["c"], got["D"]
    return S


def _split_by_layer(polys: list[np.ndarray], c_np: np.ndarray, D_np: np.ndarray, rtol: float, R: float,
                    max_regions: int) -> tuple[list[np.ndarray], list[int], list[np.ndarray]]:
    """Split every polygon by the zero lines of one layer's neurons (c + D·z on that polygon).

    Returns (new polygons, the index of each one's parent, each one's sign pattern for the layer).
    """
    new_polys: list[np.ndarray] = []
    parent: list[int] = []
    signs: list[np.ndarray] = []
    for p, V in enumerate(polys):
        c, D = c_np[p], D_np[p].T  # (n,), (n, 2)
        tol = rtol * (np.abs(c) + np.linalg.norm(D, axis=1) * R) + 1e-300
        for W, s in _split_polygon(V, c, D, tol):
            new_polys.append(W)
            parent.append(p)
            signs.append(s)
        if len(new_polys) > max_regions:
            raise TheorylabError(f"partition_2d: more than max_regions={max_regions} polygons")
    return new_polys, parent, signs


def decision_boundary_segments(part: Partition2D, rtol: float = 1e-10) -> np.ndarray:
    """Exact decision-boundary segments (n, 2, 2) in slice coordinates.

    One output: the zero level set of f. Several outputs: where the argmax changes. Within a
    polygon the outputs are affine, so a class whose logit is largest at every vertex is largest
    on the whole (convex) polygon; only polygons with mixed vertex argmax are clipped.
    """
    segs: list[np.ndarray] = []
    R = max(abs(b) for b in part.bounds)
    for i, V in enumerate(part.polygons):
        C, G = part.out_offset[i], part.out_linear[i]  # (k,), (k, 2)
        if C.shape[0] == 1:
            vals = C[0] + V @ G[0]
            tol = rtol * (abs(C[0]) + np.linalg.norm(G[0]) * R) + 1e-300
            if vals.max() > tol and vals.min() < -tol:
                pos, _ = _clip(V, vals, tol)
                segs.extend(_edges_on_line(pos, C[0], G[0], tol))
            continue
        out = C[None, :] + V @ G.T  # (m, k)
        top = out.argmax(axis=1)
        if (top == top[0]).all():
            continue
        for k in range(C.shape[0]):
            cell = V
            for k2 in range(C.shape[0]):
                if k2 == k or len(cell) < 3:
                    continue
                cd, gd = C[k] - C[k2], G[k] - G[k2]
                tol = rtol * (abs(cd) + np.linalg.norm(gd) * R) + 1e-300
                cell, _ = _clip(cell, cd + cell @ gd, tol)
            if len(cell) < 3 or abs(_area(cell)) <= 0:
                continue
            # an edge of class k's cell is on the boundary where another logit ties with k
            for a, b in zip(cell, np.roll(cell, -1, axis=0), strict=True):
                mid = 0.5 * (a + b)
                logits = C + G @ mid
                gap = logits[k] - np.delete(logits, k).max()
                scale = rtol * (np.abs(C).max() + np.abs(G).max() * R) * 1e3 + 1e-300
                if abs(gap) <= scale and k < int(np.delete(np.arange(len(C)), k)[np.argmax(np.delete(logits, k))]):
                    segs.append(np.stack([a, b]))
    return np.asarray(segs).reshape(-1, 2, 2)


def _edges_on_line(W: np.ndarray, c: float, g: np.ndarray, tol: float) -> list[np.ndarray]:
    out = []
    for a, b in zip(W, np.roll(W, -1, axis=0), strict=True):
        if abs(c + a @ g) <= tol and abs(c + b @ g) <= tol:
            out.append(np.stack([a, b]))
    return out


@dataclass(frozen=True)
class SliceDensity:
    """How densely a partitioned 2-D slice is cut into regions, in input units.

    Attributes
    ----------
    count : number of regions in the slice's box.
    area : area of the box in input units² (box area in slice units × sqrt(det G), G the Gram
        matrix of the slice vectors u, v).
    boundary_length : total length of the region boundaries strictly inside the box, each
        boundary counted once (input units). Every boundary is a piece of some neuron's zero
        set, so ``boundary_density`` is the co-area quantity Σ_z E[‖∇z‖ ρ_b] of Hanin & Rolnick
        2019a (Thm. 3), restricted to the slice: the "T·N" of their (T·N)^{n_in}/n_in! bound.
    """

    count: int
    area: float
    boundary_length: float

    @property
    def density(self) -> float:
        """Regions per unit area (input units⁻²)."""
        return self.count / self.area

    @property
    def boundary_density(self) -> float:
        """Region-boundary length per unit area (input units⁻¹)."""
        return self.boundary_length / self.area


def slice_density(part: Partition2D) -> SliceDensity:
    """Regions and region-boundary length per unit area of a partitioned slice (input units).

    Lengths and areas are measured in the input space, not in slice coordinates: an edge
    (Δs, Δt) has length sqrt((Δs, Δt) G (Δs, Δt)ᵀ) with G = [[u·u, u·v], [u·v, v·v]]. Interior
    boundary length = (Σ polygon perimeters − box perimeter) / 2, since every interior edge
    bounds two polygons.

    Example
    -------
    >>> net = nn.Sequential(nn.Linear(2, 1), nn.ReLU())  # one neuron: one line through the box
    >>> with torch.no_grad():
    ...     _ = net[0].weight.copy_(torch.tensor([[1.0, 0.0]])); _ = net[0].bias.zero_()
    >>> d = slice_density(partition_2d(net, np.zeros(2), np.array([2.0, 0]), np.array([0, 1.0])))
    >>> d.count, round(d.area, 12), round(d.boundary_length, 12)
    (2, 8.0, 2.0)
    """
    G = np.array([[part.u @ part.u, part.u @ part.v], [part.u @ part.v, part.v @ part.v]])
    det = float(np.linalg.det(G))
    if not det > 0:
        raise TheorylabError("the slice vectors u and v are collinear: the slice has no area")
    s0, s1, t0, t1 = part.bounds
    area = math.sqrt(det) * (s1 - s0) * (t1 - t0)
    perimeter = 0.0
    for V in part.polygons:
        E = np.roll(V, -1, axis=0) - V
        perimeter += float(np.sqrt(np.maximum(np.einsum("ni,ij,nj->n", E, G, E), 0.0)).sum())
    box = 2.0 * ((s1 - s0) * math.sqrt(G[0, 0]) + (t1 - t0) * math.sqrt(G[1, 1]))
    return SliceDensity(part.count, area, max(0.5 * (perimeter - box), 0.0))


def decision_boundary_points(model: nn.Module, A: np.ndarray, B: np.ndarray, *, iters: int = 30) -> np.ndarray:
    """Points on the decision boundary (argmax change) between pairs (A_i, B_i) of inputs.

    Bisection on each segment A_i → B_i whose end points are classified differently, keeping
    A_i's class on the left: after ``iters`` halvings the point lies within 2^-iters of the
    segment's length from a class change. Pairs classified alike are dropped.

    Parameters
    ----------
    model : a classifier, ``model(X)`` → (n, n_classes) logits.
    A, B : (m, *input) arrays.

    Returns
    -------
    (k, *input) float64 array, k ≤ m.
    """
    dtype = next(model.parameters()).dtype
    was = model.training
    model.eval()

    def cls(X: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return model(torch.as_tensor(X, dtype=dtype)).argmax(dim=1).numpy()

    try:
        A, B = np.asarray(A, float), np.asarray(B, float)
        ca = cls(A)
        keep = ca != cls(B)
        A, B, ca = A[keep], B[keep], ca[keep]
        shape = (-1, *([1] * (A.ndim - 1)))
        lo, hi = np.zeros(len(A)), np.ones(len(A))
        for _ in range(iters if len(A) else 0):
            mid = 0.5 * (lo + hi)
            same = cls(A + mid.reshape(shape) * (B - A)) == ca
            lo, hi = np.where(same, mid, lo), np.where(same, hi, mid)
        return A + (0.5 * (lo + hi)).reshape(shape) * (B - A)
    finally:
        model.train(was)


def plot_partition(
    part: Partition2D,
    *,
    ax=None,
    boundary: bool = True,
    points: np.ndarray | None = None,
    seed: int = 0,
    title: str | None = None,
):
    """Draw the partition: regions in random colours, region edges thin, decision boundary red.

    Parameters
    ----------
    part : a :class:`Partition2D`.
    ax : a matplotlib Axes to draw into; None creates a new ``Figure``.
    boundary : overlay the exact decision boundary (:func:`decision_boundary_segments`).
    points : optional (n, 2) slice coordinates to mark (e.g. the data points spanning the slice).
    seed : colour seed.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.collections import LineCollection, PolyCollection
    from matplotlib.figure import Figure

    if ax is None:
        fig = Figure(figsize=(5, 5))
        ax = fig.subplots()
    else:
        fig = ax.figure
    rng = np.random.default_rng(seed)
    colours = rng.uniform(0.35, 0.95, size=(part.count, 3))
    ax.add_collection(PolyCollection(part.polygons, facecolors=colours, edgecolors="k", linewidths=0.15))
    if boundary:
        segs = decision_boundary_segments(part)
        if len(segs):
            ax.add_collection(LineCollection(segs, colors="red", linewidths=1.5))
    if points is not None:
        pts = np.asarray(points)
        ax.plot(pts[:, 0], pts[:, 1], "k*", ms=9)
    s0, s1, t0, t1 = part.bounds
    ax.set_xlim(s0, s1)
    ax.set_ylim(t0, t1)
    ax.set_aspect("equal")
    ax.set_title(title or f"{part.count} regions")
    return fig


# ---------------------------------------------------------------------------------------------
# Local complexity
# ---------------------------------------------------------------------------------------------
def local_complexity(
    model: nn.Module | AffineProgram,
    X: np.ndarray | torch.Tensor,
    *,
    radius: float,
    n_frame: int = 8,
    seed: int = 0,
    include_center: bool = True,
) -> np.ndarray:
    """Local complexity per layer: neurons whose sign changes over a cross-polytope around x.

    Parameters
    ----------
    X : (n, *input_shape) points.
    radius : cross-polytope radius r (input units).
    n_frame : number of random orthonormal directions o_i (≤ input dimension); the polytope
        has the 2·n_frame vertices x ± r·o_i (plus x itself with ``include_center``).
    seed : seed of the random frame (one frame per point).

    Returns
    -------
    (n, n_layers) int array: for each point and layer the number of neurons whose sign is not
    constant over the vertices, an estimate of how many of that layer's hyperplanes cut the
    neighbourhood.

    References
    ----------
    Humayun, Balestriero & Baraniuk, "Deep networks always grok and here is why", ICML 2024
    (arXiv 2310.12977); recipe from their ``local_complexity.py``.
    """
    Xt = _as_input(X)
    if Xt.dim() < 2 or len(Xt) == 0:
        raise TheorylabError(f"X must have shape (n, *input) with n >= 1, got {tuple(Xt.shape)}")
    if radius <= 0:
        raise TheorylabError(f"radius must be > 0, got {radius}")
    n, in_shape = Xt.shape[0], Xt.shape[1:]
    d = int(np.prod(in_shape))
    if not 1 <= n_frame <= d:
        raise TheorylabError(f"n_frame must be in [1, {d}] (the input dimension), got {n_frame}")
    prog = _program(model, in_shape)
    rng = np.random.default_rng(seed)
    G = rng.standard_normal((n, d, n_frame))
    Q = np.linalg.qr(G)[0]  # (n, d, n_frame): orthonormal columns per point
    frame = torch.as_tensor(np.transpose(Q, (0, 2, 1)) * radius, dtype=DTYPE)  # (n, n_frame, d)
    Xf = Xt.reshape(n, 1, d)
    verts = [Xf + frame, Xf - frame] + ([Xf] if include_center else [])
    V = torch.cat(verts, dim=1)  # (n, nv, d)
    nv = V.shape[1]
    lc: list[np.ndarray] = []

    def fn(layer: int, c: torch.Tensor, D: torch.Tensor) -> torch.Tensor:
        m = c > 0
        mm = m.reshape(n, nv, -1)
        changed = mm.any(dim=1) & ~mm.all(dim=1)
        lc.append(changed.sum(dim=1).numpy())
        return m

    with torch.no_grad():
        flat = V.reshape(n * nv, *in_shape)
        prog.run(flat, flat.new_zeros((n * nv, 0, *in_shape)), fn)
    return np.stack(lc, axis=1) if lc else np.zeros((n, 0), int)
