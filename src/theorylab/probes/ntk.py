"""Neural tangent kernels: empirical (any ``torch.nn.Module``) and analytic (ReLU MLPs).

Empirical NTK (Jacot, Gabriel & Hongler 2018): for a network f(θ, x) ∈ R^O,

    Θ(x, x')_{ab} = ⟨∂f_a(θ, x)/∂θ, ∂f_b(θ, x')/∂θ⟩,

summed over the trainable parameters (or a named subset). Two ways to compute it, both with
``torch.func`` as in PyTorch's ``neural_tangent_kernels`` tutorial:

* ``"jacobian"`` — Jacobian contraction: per-example Jacobians ``vmap(jacrev(f))`` on chunks
  of inputs, contracted over parameters. Cost ≈ N·O forward-backward passes + N²·O²·P
  multiply-adds; memory ≈ chunk·O·P numbers.
* ``"ntk_vp"`` — NTK-vector products: for each pair of inputs, ``vjp`` on x' of each output
  basis vector followed by ``jvp`` on x. Cost ≈ N²·O passes, memory independent of P; better
  for wide fully connected models with several outputs and few inputs.

Forms: ``"full"`` (N, M, O, O); ``"trace"`` (N, M), Σ_a Θ_aa; ``"diagonal"`` (N, M, O), Θ_aa.

Normalization layers: the kernel of one example must not depend on the rest of the batch, so
the model is evaluated in eval mode (BatchNorm uses its running statistics, dropout is off) with
its buffers passed through ``functional_call``. A BatchNorm without running statistics
(``track_running_stats=False``) has no per-example function and is refused.

Analytic kernels (fully connected ReLU nets in NTK parametrization, any depth): the NNGP /
NTK recursion of Jacot et al. (2018) and Arora, Du, Hu, Li, Salakhutdinov & Wang (2019, NeurIPS,
"On exact computation with an infinitely wide neural net", eqs. (9)–(11)), in the convention of
neural-tangents' ``stax.Dense(W_std, b_std, parameterization="ntk")``; the two-layer closed
form of CLAIMS.md F is :func:`relu_ntk_two_layer`; :func:`kernel_regression` turns a kernel
into the predictions of the linearized network trained by gradient flow on the squared loss.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, jacrev, jvp, vjp, vmap

from theorylab.errors import TheorylabError

__all__ = [
    "NTKError",
    "ReluKernels",
    "empirical_ntk",
    "kernel_regression",
    "relu_kernels",
    "relu_ntk_two_layer",
]

Method = Literal["jacobian", "ntk_vp"]
Form = Literal["full", "trace", "diagonal"]


class NTKError(TheorylabError, ValueError):
    """A model, parameter selection or input the NTK probes cannot use; the message says why."""


# -- empirical NTK ------------------------------------------------------------------------------
def _split_state(model: nn.Module, params: Sequence[str] | None
                 ) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """(differentiated parameters, everything else the forward needs: frozen params + buffers)."""
    named = dict(model.named_parameters())
    if params is None:
        chosen = [k for k, p in named.items() if p.requires_grad]
    else:
        missing = [k for k in params if k not in named]
        if missing:
            raise NTKError(f"model has no parameter {missing[0]!r} (parameters: {', '.join(named)})")
        chosen = list(params)
    if not chosen:
        raise NTKError("no parameters to differentiate (none requires grad and none was named)")
    diff = {k: named[k].detach() for k in chosen}
    rest = {k: v.detach() for k, v in named.items() if k not in diff}
    rest.update({k: b.detach() for k, b in model.named_buffers()})
    return diff, rest


def _refuse_batch_statistics(model: nn.Module) -> None:
    for name, m in model.named_modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm) and not m.track_running_stats:
            raise NTKError(
                f"layer {name!r} normalizes with batch statistics (track_running_stats=False): the "
                "output of one example depends on the batch, so a per-example NTK is undefined")


def _single(model: nn.Module, rest: dict[str, torch.Tensor]) -> Callable:
    """f(params, x) -> (O,) for one example x (no batch axis)."""

    def f(p: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        return functional_call(model, {**rest, **p}, (x.unsqueeze(0),)).reshape(-1)

    return f


def _contract(j1: dict[str, torch.Tensor], j2: dict[str, torch.Tensor], form: Form) -> torch.Tensor:
    """Σ over parameter tensors of the Jacobian products; j[k] has shape (n, O, *param_shape)."""
    spec = {"full": "naf,mbf->nmab", "trace": "naf,maf->nm", "diagonal": "naf,maf->nma"}[form]
    out = None
    for k in j1:
        a, b = j1[k], j2[k]
        term = torch.einsum(spec, a.reshape(a.shape[0], a.shape[1], -1), b.reshape(b.shape[0], b.shape[1], -1))
        out = term if out is None else out + term
    return out  # type: ignore[return-value]


def _blocks(n: int, size: int) -> list[slice]:
    return [slice(i, min(i + size, n)) for i in range(0, n, size)]


def empirical_ntk(
    model: nn.Module,
    x1: torch.Tensor | np.ndarray,
    x2: torch.Tensor | np.ndarray | None = None,
    *,
    method: Method = "jacobian",
    form: Form = "full",
    params: Sequence[str] | None = None,
    chunk: int | None = None,
    max_bytes: int = 2**28,
) -> torch.Tensor:
    """Empirical NTK Θ(x1, x2) of ``model`` at its current parameters.

    Parameters
    ----------
    model : any ``nn.Module`` mapping a batch (B, ...) to (B, O) or (B,); evaluated in eval mode
        (BatchNorm running statistics, no dropout) and left in the mode it was in.
    x1, x2 : inputs (N, ...) and (M, ...); ``x2=None`` uses ``x1`` and fills the symmetric half.
    method : ``"jacobian"`` (Jacobian contraction) or ``"ntk_vp"`` (NTK-vector products).
    form : ``"full"`` → (N, M, O, O); ``"trace"`` → (N, M), Σ_a Θ_aa; ``"diagonal"`` → (N, M, O).
    params : names (``model.named_parameters()`` keys) of the parameters the kernel sums over;
        default: every parameter with ``requires_grad`` (frozen layers do not count).
    chunk : inputs per block; default: as many as keep one block's Jacobians (``"jacobian"``) or
        one block's per-pair cotangents (``"ntk_vp"``) under ``max_bytes``.

    Returns
    -------
    Tensor in the model's dtype, on the CPU.

    References
    ----------
    Jacot, Gabriel & Hongler (2018), "Neural tangent kernel", NeurIPS; PyTorch tutorial
    "Neural Tangent Kernels" (torch.func).

    Example
    -------
    >>> from theorylab.models import mlp
    >>> net = mlp(3, [16], 2, seed=0)
    >>> empirical_ntk(net, torch.randn(5, 3), form="trace").shape
    torch.Size([5, 5])
    """
    if method not in ("jacobian", "ntk_vp"):
        raise NTKError(f"unknown method {method!r} (allowed: jacobian, ntk_vp)")
    if form not in ("full", "trace", "diagonal"):
        raise NTKError(f"unknown form {form!r} (allowed: full, trace, diagonal)")
    _refuse_batch_statistics(model)
    diff, rest = _split_state(model, params)
    dtype = next(iter(diff.values())).dtype
    a = torch.as_tensor(x1).to(dtype)
    symmetric = x2 is None
    b = a if symmetric else torch.as_tensor(x2).to(dtype)
    if len(a) == 0 or len(b) == 0:
        raise NTKError(f"empty inputs (shapes {tuple(a.shape)} and {tuple(b.shape)})")
    was_training = model.training
    model.eval()
    try:
        f = _single(model, rest)
        with torch.no_grad():
            n_out = int(f(diff, a[0]).numel())
        if method == "jacobian":
            return _ntk_jacobian(f, diff, a, b, form, n_out, symmetric, chunk, max_bytes)
        if chunk is None:  # a block of c × c pairs holds c²·O cotangents of all P parameters
            n_params = sum(p.numel() for p in diff.values())
            chunk = max(1, math.isqrt(max_bytes // max(n_out * n_params * a.element_size(), 1)))
        return _ntk_vp(f, diff, a, b, form, n_out, symmetric, chunk)
    except RuntimeError as e:
        raise NTKError(f"model cannot run on inputs of shape {tuple(a.shape[1:])}: {e}") from None
    finally:
        model.train(was_training)


def _out_shape(n: int, m: int, n_out: int, form: Form) -> tuple[int, ...]:
    return {"full": (n, m, n_out, n_out), "trace": (n, m), "diagonal": (n, m, n_out)}[form]


def _fill_symmetric(out: torch.Tensor, form: Form, blocks: list[slice]) -> None:
    """Copy the computed upper block triangle to the lower one (Θ(x, x') = Θ(x', x)ᵀ)."""
    for i, si in enumerate(blocks):
        for sj in blocks[:i]:
            blk = out[sj, si]
            out[si, sj] = blk.transpose(0, 1).transpose(2, 3) if form == "full" else blk.transpose(0, 1)


def _ntk_jacobian(f: Callable, diff: dict[str, torch.Tensor], a: torch.Tensor, b: torch.Tensor, form: Form,
                  n_out: int, symmetric: bool, chunk: int | None, max_bytes: int) -> torch.Tensor:
    n_params = sum(p.numel() for p in diff.values())
    per_example = n_out * n_params * a.element_size()
    size = chunk or max(1, min(len(a), max_bytes // max(per_example, 1)))
    jac = vmap(jacrev(f), (None, 0))

    def jacobian(x: torch.Tensor) -> dict[str, torch.Tensor]:
        return {k: v.detach() for k, v in jac(diff, x).items()}

    rows, cols = _blocks(len(a), size), _blocks(len(b), size)
    out = torch.empty(_out_shape(len(a), len(b), n_out, form), dtype=a.dtype)
    # keep the column Jacobians when they all fit in memory; recompute them per row block otherwise
    cache = len(b) * per_example <= max_bytes
    col_jac: dict[int, dict[str, torch.Tensor]] = {}

    def column(j: int) -> dict[str, torch.Tensor]:
        if j in col_jac:
            return col_jac[j]
        jb = jacobian(b[cols[j]])
        if cache:
            col_jac[j] = jb
        return jb

    for i, si in enumerate(rows):
        ja = column(i) if symmetric else jacobian(a[si])
        for j, sj in enumerate(cols):
            if symmetric and j < i:
                continue
            out[si, sj] = _contract(ja, ja if symmetric and j == i else column(j), form)
        if symmetric:
            col_jac.pop(i, None)  # block i is never needed again
    if symmetric:
        _fill_symmetric(out, form, rows)
    return out


def _ntk_vp(f: Callable, diff: dict[str, torch.Tensor], a: torch.Tensor, b: torch.Tensor, form: Form,
            n_out: int, symmetric: bool, chunk: int) -> torch.Tensor:
    basis = torch.eye(n_out, dtype=a.dtype)

    def pair(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        # column c of the O×O block: J(x) J(y)ᵀ e_c, by a vjp at y then a jvp at x
        _, vjp_fn = vjp(lambda p: f(p, y), diff)

        def column(v: torch.Tensor) -> torch.Tensor:
            (tangent,) = vjp_fn(v)
            return jvp(lambda p: f(p, x), (diff,), (tangent,))[1]

        return vmap(column)(basis).T  # rows a (output at x), columns b (output at y)

    batched = vmap(vmap(pair, (None, 0)), (0, None))
    rows, cols = _blocks(len(a), chunk), _blocks(len(b), chunk)
    out = torch.empty(_out_shape(len(a), len(b), n_out, form), dtype=a.dtype)
    for i, si in enumerate(rows):
        for j, sj in enumerate(cols):
            if symmetric and j < i:
                continue
            blk = batched(a[si], b[sj]).detach()
            if form == "trace":
                blk = blk.diagonal(dim1=2, dim2=3).sum(-1)
            elif form == "diagonal":
                blk = blk.diagonal(dim1=2, dim2=3)
            out[si, sj] = blk
    if symmetric:
        _fill_symmetric(out, form, rows)
    return out


# -- analytic kernels ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ReluKernels:
    """Infinite-width kernels of a ReLU MLP between two sets of inputs, per output unit.

    Attributes
    ----------
    nngp : (N, M) covariance of the output at initialization (the NNGP kernel, Σ).
    ntk : (N, M) neural tangent kernel Θ (the same for every output; across outputs Θ ⊗ I).
    """

    nngp: np.ndarray
    ntk: np.ndarray


def _relu_expectations(k12: np.ndarray, k11: np.ndarray, k22: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """E[relu(u) relu(v)] and E[relu'(u) relu'(v)] for (u, v) ~ N(0, [[k11, k12], [k12, k22]]).

    The arc-cosine kernels of Cho & Saul (2009): norm·(sin θ + (π − θ) cos θ)/(2π) and
    (π − θ)/(2π), θ the angle between u and v.
    """
    norm = np.sqrt(np.outer(k11, k22))
    cos = np.divide(k12, norm, out=np.zeros_like(norm), where=norm > 0)
    np.clip(cos, -1.0, 1.0, out=cos)
    rest = np.pi - np.arccos(cos)  # π − θ
    sin = np.sqrt(np.maximum(1.0 - cos * cos, 0.0))
    e_relu = norm * (sin + rest * cos) * (0.5 / np.pi)
    e_step = rest * (0.5 / np.pi)
    return e_relu, e_step


def relu_kernels(X1: np.ndarray, X2: np.ndarray | None = None, *, depth: int = 1, weight_std: float = 1.0,
                 bias_std: float = 0.0, first_weight_std: float | None = None) -> ReluKernels:
    """NNGP and NTK of an infinitely wide ReLU MLP with ``depth`` hidden layers (NTK parametrization).

    The network: z¹ = (σ₀/√d) W¹x + σ_b b¹, z^{h+1} = (σ_w/√n_h) W^{h+1} relu(z^h) + σ_b b^{h+1},
    output z^{L+1}, every W and b entry N(0, 1) and trainable (``theorylab.models.normalized.
    ntk_mlp`` builds it). The recursion (Jacot et al. 2018; Arora et al. 2019, eqs. 9–11):

        K¹ = σ₀² x·x'/d + σ_b²,                         Θ¹ = K¹,
        K^{h+1} = σ_w² E[relu(u) relu(v)] + σ_b²,       K̇^{h+1} = σ_w² E[relu'(u) relu'(v)],
        Θ^{h+1} = K^{h+1} + K̇^{h+1} Θ^h,                (u, v) ~ N(0, K^h).

    Arora et al.'s network (c_σ = 2, no scaling of the first layer) is ``weight_std=√2,
    first_weight_std=√d``; the two-layer net of CLAIMS.md F, f = m^{-1/2} Σ_r a_r relu(w_r·x),
    is ``depth=1, weight_std=1, first_weight_std=√d`` (see :func:`relu_ntk_two_layer`).

    Parameters
    ----------
    X1, X2 : (N, d) and (M, d) inputs (``X2=None``: X1).
    depth : number of hidden ReLU layers L ≥ 1 (a two-layer net has depth 1).
    weight_std, bias_std : σ_w and σ_b of every layer; ``first_weight_std`` overrides σ₀.

    Returns
    -------
    :class:`ReluKernels` with (N, M) float64 arrays.
    """
    if depth < 1:
        raise NTKError(f"depth must be ≥ 1 hidden layer, got {depth}")
    A = np.asarray(X1, dtype=np.float64)
    B = A if X2 is None else np.asarray(X2, dtype=np.float64)
    if A.ndim != 2 or B.ndim != 2 or A.shape[1] != B.shape[1]:
        raise NTKError(f"inputs must be (N, d) and (M, d) arrays, got {A.shape} and {B.shape}")
    d = A.shape[1]
    s0 = weight_std if first_weight_std is None else first_weight_std
    sw2, sb2 = weight_std**2, bias_std**2
    k12 = s0**2 * (A @ B.T) / d + sb2
    k11 = s0**2 * np.einsum("ij,ij->i", A, A) / d + sb2
    k22 = s0**2 * np.einsum("ij,ij->i", B, B) / d + sb2
    ntk = k12.copy()
    for _ in range(depth):
        e_relu, e_step = _relu_expectations(k12, k11, k22)
        k12 = sw2 * e_relu + sb2
        ntk = k12 + sw2 * e_step * ntk
        k11 = sw2 * k11 / 2 + sb2  # E[relu(u)²] = Var(u)/2
        k22 = sw2 * k22 / 2 + sb2
    return ReluKernels(nngp=k12, ntk=ntk)


def relu_ntk_two_layer(X1: np.ndarray, X2: np.ndarray | None = None) -> np.ndarray:
    """Closed-form NTK of f(x) = m^{-1/2} Σ_r a_r relu(w_r·x), w_r ~ N(0, I), a_r ~ N(0, 1), m → ∞.

        Θ(x, x') = ‖x‖‖x'‖(sin θ + (π − θ) cos θ)/(2π) + (x·x')(π − θ)/(2π),

    θ the angle between x and x' (CLAIMS.md F; Jacot et al. 2018; Du et al. 2019 for the first-
    layer part). Written out independently of :func:`relu_kernels` so each checks the other.
    """
    A = np.asarray(X1, dtype=np.float64)
    B = A if X2 is None else np.asarray(X2, dtype=np.float64)
    na, nb = np.linalg.norm(A, axis=1), np.linalg.norm(B, axis=1)
    dots = A @ B.T
    norms = np.outer(na, nb)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = np.clip(np.where(norms > 0, dots / np.where(norms > 0, norms, 1.0), 0.0), -1.0, 1.0)
    theta = np.arccos(cos)
    return (norms * (np.sin(theta) + (math.pi - theta) * cos) + dots * (math.pi - theta)) / (2 * math.pi)


def kernel_regression(k_train: np.ndarray, y_train: np.ndarray, k_test_train: np.ndarray, *,
                      ridge: float = 0.0, time: float | None = None,
                      f0_train: np.ndarray | None = None, f0_test: np.ndarray | None = None) -> np.ndarray:
    """Predictions of the linearized network trained on the squared loss, from its NTK.

    Gradient flow on L = (1/2n) Σ_i ‖f(x_i) − y_i‖² of the linearization around θ₀ moves the
    outputs as df/dt = −(1/n) Θ (f − y) (Lee et al. 2019, eq. 9), so at time t (learning rate ×
    steps)

        f_t(x) = f₀(x) + Θ(x, X) Θ⁻¹ (I − e^{−Θt/n}) (y − f₀(X)),

    and at t = ∞ (``time=None``) kernel regression f₀(x) + Θ(x, X)(Θ + ridge·I)⁻¹(y − f₀(X)).

    Parameters
    ----------
    k_train : (n, n) kernel on the training inputs; ``k_test_train`` (m, n).
    y_train : (n,) or (n, O) targets; ``f0_train`` / ``f0_test`` the network's outputs at
        initialization (zero if None: a centred network, or the NNGP mean).
    ridge : added to the diagonal (t = ∞ only).

    Returns
    -------
    (m,) or (m, O) predictions (float64).
    """
    K = np.asarray(k_train, dtype=np.float64)
    Kx = np.asarray(k_test_train, dtype=np.float64)
    y = np.asarray(y_train, dtype=np.float64)
    n = len(K)
    if K.shape != (n, n) or Kx.shape[1] != n or len(y) != n:
        raise NTKError(f"shapes do not match: k_train {K.shape}, k_test_train {Kx.shape}, y {y.shape}")
    r = y - (0.0 if f0_train is None else np.asarray(f0_train, dtype=np.float64).reshape(y.shape))
    base = 0.0 if f0_test is None else np.asarray(f0_test, dtype=np.float64)
    lam, V = np.linalg.eigh(0.5 * (K + K.T))
    if time is None:
        g = 1.0 / np.maximum(lam + ridge, 1e-300 if ridge > 0 else np.finfo(float).tiny)
        g[lam + ridge <= 1e-12 * max(lam.max(), 1e-300)] = 0.0  # pseudo-inverse on a singular kernel
    else:
        s = np.maximum(lam, 0.0) / n
        # (1 − e^{−s t}) / (n s), → t/n as s → 0
        g = np.where(s * time > 1e-12, -np.expm1(-s * time) / np.where(s > 0, n * s, 1.0), time / n)
    coef = V @ (g[:, None] * (V.T @ r.reshape(n, -1)))
    pred = Kx @ coef
    return (pred.reshape(len(Kx), *y.shape[1:]) + base)
