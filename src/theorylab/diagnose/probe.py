"""The model's smoothness and geometry around the data, at queries and at training points.

Per point (queries, and a seeded sample of training points as the reference):

* ``margin`` — top logit minus runner-up (logit units; |z| for a one-output model);
* ``jacobian_norm`` — ‖J(x)‖₂, the spectral norm of the logits' Jacobian: for a ReLU network
  the norm of the local affine map A_x of the region holding x (Balestriero & Baraniuk 2018);
* ``local_lipschitz`` — ‖∇ₓ(z_top1 − z_top2)‖₂, the slope of the margin at x: a lower bound on
  the margin's Lipschitz constant near x;
* ``local_complexity`` — neurons whose hyperplane cuts a cross-polytope of radius r around x,
  summed over layers (Humayun, Balestriero & Baraniuk 2024): the density of linear regions near x.

For the whole model: a Lipschitz bracket of one margin z_a − z_b (the pair most often on top
at the training points): a certified upper bound (ECLipsE-Fast for MLPs, else the spectral
product) and the best lower bounds found by gradients and local ascent at training points
and, separately, at queries (:func:`theorylab.probes.lipschitz_bounds`). And an exact 2-D slice
of the partition through one query and its two nearest training points
(:func:`theorylab.probes.partition_2d`).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from theorylab.arrays import subsample
from theorylab.seeding import child_seed

if TYPE_CHECKING:
    from torch import nn

    from theorylab.diagnose.options import DiagnoseOptions

__all__ = ["ModelResult", "jacobian_stats", "logits", "probe_model"]

_JAC_BATCH = 512  # points per batch of Jacobians: (batch, outputs, inputs) doubles in memory
_LC_BATCH = 256  # points per local-complexity call (each with 2·frame + 1 vertices)
_ASCENT_POINTS = 32  # starts of the local Lipschitz ascent at training points (the steepest ones)
_SLICE_BOUNDS = (-0.25, 1.25, -0.25, 1.25)  # slice coordinates: query (0,0), neighbours (1,0), (0,1)
_SLICE_MAX_NEURONS = 4096  # piecewise-affine neurons above which the slice is not attempted
_SLICE_MAX_REGIONS = 5_000  # beyond this the slice is skipped with a note (memory: regions × 3 × neurons)


@dataclass
class ModelResult:
    """Per-query model columns, training-side references, whole-model numbers and notes."""

    columns: dict[str, np.ndarray] = field(default_factory=dict)
    reference: dict[str, np.ndarray] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    partition: Any = None  # Partition2D of the slice, or None
    slice_info: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _net64(model: nn.Module) -> nn.Module:
    return copy.deepcopy(model).double().eval()


def logits(model: nn.Module, X: np.ndarray, input_shape: tuple[int, ...] | None) -> np.ndarray:
    """(n, k) float64 outputs of ``model`` (a float64 copy, eval mode, batched)."""
    from theorylab.probes.activations import layer_outputs

    return layer_outputs(model, X, [""], input_shape=input_shape)[""]


def jacobian_stats(net64: nn.Module, X: np.ndarray, input_shape: tuple[int, ...] | None
                   ) -> dict[str, np.ndarray]:
    """``jacobian_norm``, ``margin`` and ``local_lipschitz`` per row of ``X`` (see module docstring).

    ``net64`` is a float64 model in eval mode, where examples do not interact, so row c of
    every example's Jacobian is the input gradient of the batch sum of output c: one backward
    pass per output for a whole batch. For a piecewise-affine net ``jacobian_norm`` is exactly
    ‖A_x‖₂ of :func:`theorylab.probes.local_affine_map` (checked in the tests).
    """
    import torch

    out: dict[str, list[np.ndarray]] = {"jacobian_norm": [], "margin": [], "local_lipschitz": []}
    shape = input_shape or (X.shape[1],)
    for i in range(0, len(X), _JAC_BATCH):
        xb = torch.as_tensor(X[i : i + _JAC_BATCH], dtype=torch.float64).reshape(-1, *shape).requires_grad_(True)
        z = net64(xb).reshape(len(xb), -1)
        k = z.shape[1]
        J = torch.stack([torch.autograd.grad(z[:, c].sum(), xb, retain_graph=c < k - 1)[0].reshape(len(xb), -1)
                         for c in range(k)], dim=1).detach()  # (b, k, d)
        z = z.detach()
        # ‖J‖₂ = sqrt(λ_max(J Jᵀ)): a k×k eigenproblem per example instead of a k×d SVD
        out["jacobian_norm"].append(torch.linalg.eigvalsh(J @ J.mT)[:, -1].clamp_min(0).sqrt().numpy())
        if k == 1:  # one output: the decision is its sign
            out["margin"].append(z[:, 0].abs().numpy())
            out["local_lipschitz"].append(J[:, 0].norm(dim=1).numpy())
            continue
        top = z.topk(2, dim=1)
        out["margin"].append((top.values[:, 0] - top.values[:, 1]).numpy())
        rows = torch.arange(len(xb))
        g = J[rows, top.indices[:, 0]] - J[rows, top.indices[:, 1]]
        out["local_lipschitz"].append(g.norm(dim=1).numpy())
    return {k: np.concatenate(v) if v else np.zeros(0) for k, v in out.items()}


def _local_complexity(prog: Any, X: np.ndarray, shape: tuple[int, ...], radius: float, frame: int,
                      seed: int, key: int) -> np.ndarray:
    from theorylab.probes.regions import local_complexity

    parts = []
    for j, i in enumerate(range(0, len(X), _LC_BATCH)):
        xb = X[i : i + _LC_BATCH].reshape(-1, *shape)
        parts.append(local_complexity(prog, xb, radius=radius, n_frame=frame,
                                      seed=child_seed(seed, key, j)).sum(axis=1))
    return np.concatenate(parts).astype(float)


def probe_model(model: nn.Module, Xtr: np.ndarray, Xq: np.ndarray, input_shape: tuple[int, ...] | None,
                ref_idx: np.ndarray, opts: DiagnoseOptions, radius: float, prog: Any,
                slice_query: int | None, slice_neighbours: tuple[int, int] | None) -> ModelResult:
    """Margins, Jacobian norms, local Lipschitz slopes, local complexity and the Lipschitz bracket.

    Parameters
    ----------
    Xtr, Xq : flattened training points and queries (rows reshaped to ``input_shape``).
    ref_idx : the training points probed as the reference.
    radius : local-complexity radius and local-ascent radius (input units).
    slice_query, slice_neighbours : the query and its two nearest training points spanning the
        2-D slice (None: no slice).
    """
    res = ModelResult()
    shape = input_shape or (Xtr.shape[1],)
    net64 = _net64(model)
    Xref = Xtr[ref_idx]
    with prog.stage("model/jacobian"):
        res.columns.update(jacobian_stats(net64, Xq, input_shape))
        res.reference.update(jacobian_stats(net64, Xref, input_shape))
    with prog.stage("model/regions"):
        program = _regions(res, net64, Xq, Xref, shape, radius, opts)
    with prog.stage("model/lipschitz"):
        _lipschitz(res, model, Xq, Xref, input_shape, shape, radius, opts.seed)
    if program is not None and opts.partition and sum(program.layer_sizes) > _SLICE_MAX_NEURONS:
        res.notes.append(f"2-D slice not drawn: {sum(program.layer_sizes):,} neurons (> {_SLICE_MAX_NEURONS:,}) "
                         "would cut it into too many regions to draw or afford")
        slice_query = None
    if slice_query is not None and slice_neighbours is not None and program is not None and opts.partition:
        with prog.stage("model/slice"):
            _slice(res, program, Xtr, Xq, shape, slice_query, slice_neighbours)
    else:
        prog.skip("model/slice")
    return res


def _regions(res: ModelResult, net64: nn.Module, Xq: np.ndarray, Xref: np.ndarray, shape: tuple[int, ...],
             radius: float, opts: DiagnoseOptions) -> Any:
    """Local complexity at queries and reference points (NaN, with a note, for a network that is
    not piecewise affine). Returns the compiled affine program, or None."""
    from theorylab.probes.regions import UnsupportedLayerError, affine_program

    try:
        program = affine_program(net64, shape)
    except UnsupportedLayerError as e:
        program = None
        res.notes.append(f"no linear-region measures: {e} (local complexity and the 2-D slice need a "
                         "piecewise-affine network: ReLU/LeakyReLU, Linear, Conv, average pooling)")
    frame = min(opts.lc_frame, Xq.shape[1])  # orthonormal directions: at most the input dimension
    if program is not None:
        res.columns["local_complexity"] = _local_complexity(program, Xq, shape, radius, frame, opts.seed, 11)
        res.reference["local_complexity"] = _local_complexity(program, Xref, shape, radius, frame, opts.seed, 12)
    else:
        res.columns["local_complexity"] = np.full(len(Xq), np.nan)
        res.reference["local_complexity"] = np.full(len(Xref), np.nan)
    res.summary["lc_radius"] = radius
    res.summary["lc_vertices"] = 2 * frame + 1
    return program


def _lipschitz(res: ModelResult, model: nn.Module, Xq: np.ndarray, Xref: np.ndarray,
               input_shape: tuple[int, ...] | None, shape: tuple[int, ...], radius: float, seed: int) -> None:
    """The Lipschitz bracket of the margin most often on top at the reference points: a certified
    upper bound, and lower bounds at reference points and at as many sampled queries."""
    import torch

    from theorylab.probes.lipschitz import lipschitz_bounds

    z = logits(model, Xref, input_shape)
    if z.shape[1] >= 2:
        top = np.argsort(-z, axis=1, kind="stable")[:, :2]
        pairs, counts = np.unique(np.sort(top, axis=1), axis=0, return_counts=True)
        a, b = (int(v) for v in pairs[np.argmax(counts)])
        output: Any = (a, b)
        res.summary["lipschitz_of"] = f"margin z_{a} − z_{b}"
    else:
        output = 0
        res.summary["lipschitz_of"] = "the output z_0"
    Xr_t = torch.as_tensor(Xref.reshape(-1, *shape), dtype=torch.float32)
    qs = subsample(len(Xq), len(Xref), child_seed(seed, 13))
    Xq_t = torch.as_tensor(Xq[qs].reshape(-1, *shape), dtype=torch.float32)
    m32 = copy.deepcopy(model).float().eval()
    bt = lipschitz_bounds(m32, Xr_t, output, radius=radius, ascent_points=_ASCENT_POINTS, seed=seed)
    bq = lipschitz_bounds(m32, Xq_t, output, radius=radius, ascent_points=_ASCENT_POINTS // 2, upper=False,
                          seed=child_seed(seed, 14))
    res.summary.update({
        "lipschitz_upper": bt.upper,
        "lipschitz_upper_method": ("ECLipsE-Fast" if np.isfinite(bt.eclipse_fast) and bt.upper == bt.eclipse_fast
                                   else "spectral product" if np.isfinite(bt.spectral) else "none"),
        "lipschitz_lower_train": bt.lower,
        "lipschitz_lower_query": bq.lower,
        "lipschitz_grad_median_train": float(np.median(bt.grad_norms)),
        "lipschitz_grad_median_query": float(np.median(bq.grad_norms)),
    })
    res.notes.extend(f"Lipschitz: {n}" for n in bt.notes)


def _slice(res: ModelResult, program: Any, Xtr: np.ndarray, Xq: np.ndarray, shape: tuple[int, ...],
           query: int, neighbours: tuple[int, int]) -> None:
    """The exact 2-D slice of the partition through a query and its two nearest training points."""
    from theorylab.errors import TheorylabError
    from theorylab.probes.regions import partition_2d

    o = Xq[query]
    u, v = Xtr[neighbours[0]] - o, Xtr[neighbours[1]] - o
    try:
        res.partition = partition_2d(program, o.reshape(shape), u.reshape(shape), v.reshape(shape),
                                     _SLICE_BOUNDS, max_regions=_SLICE_MAX_REGIONS)
        res.slice_info = {"query": int(query), "neighbours": [int(i) for i in neighbours],
                          "regions": res.partition.count}
    except TheorylabError as e:
        res.notes.append(f"2-D slice not drawn: {e}")
