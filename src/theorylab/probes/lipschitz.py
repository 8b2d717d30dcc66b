"""Lipschitz constants of a network, bracketed: lower ≤ Lip(f) ≤ upper, in the L2 norm.

The law of robustness (Bubeck & Sellke 2021, arXiv 2105.12806) is a statement about the
global L2 Lipschitz constant of a *scalar* function f: R^d -> R. For a network with several
outputs we measure the scalar ``f(x) = c · model(x)`` for a fixed vector ``c``: one logit
(``c = e_i``), a margin ``z_a - z_b`` (``c = e_a - e_b``) or any user vector. Computing
Lip(f) exactly is NP-hard even for two-layer ReLU nets (Scaman & Virmaux 2018), so we
report a bracket:

Lower bounds (valid for any differentiable-almost-everywhere model)
    * ``grad``: max over the data of ‖∇f(x_i)‖₂, batched with ``torch.func`` (vmap + grad);
      the whole distribution of norms is kept.
    * ``ascent``: projected ascent inside the ball B(x_i, radius) on ‖∇f(u)‖² (useful for
      smooth activations; its gradient vanishes a.e. for ReLU) plus the secant quotient
      |f(u) - f(v)| / ‖u - v‖ (useful for ReLU), keeping the best value met. Every value
      recorded is an exact lower bound on the local (hence global) Lipschitz constant.
Upper bounds (sequential models only)
    * ``spectral``: product of per-layer operator norms (AutoLip, Scaman & Virmaux 2018;
      the B(w) of Bubeck & Sellke §3). Linear layers: exact largest singular value (SVD).
      Conv layers: power iteration on the conv operator A (``conv``) and its adjoint Aᵀ
      (``conv_transpose``); other affine layers (pooling, batch norm in eval mode): power
      iteration through ``torch.func.jvp``/``vjp``. Activations contribute their maximal
      slope (ReLU 1, tanh 1, sigmoid 1/4, GELU ≈ 1.1289).
    * ``eclipse_fast``: ECLipsE-Fast (Xu & Sivaranjani, NeurIPS 2024, arXiv 2404.04375),
      the closed-form compositional bound for MLPs with slope-restricted activations,
      implemented here from the paper's Algorithm (no cvxpy). It is usually far tighter
      than the spectral product.

Departures: power iteration on conv layers converges from below, so for conv nets the
spectral "upper" bound is an estimate converged to ``tol`` (the exact SVD is used for
``nn.Linear``). Dropout is treated as the identity (eval mode).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.func import grad, vmap

from theorylab.errors import TheorylabError

__all__ = [
    "LipschitzBounds",
    "LipschitzError",
    "ParameterLipschitz",
    "eclipse_fast_bound",
    "gradient_norms",
    "lipschitz_bounds",
    "local_ascent",
    "operator_norm",
    "output_functional",
    "parameter_lipschitz",
    "spectral_product",
]

OutputSpec = None | int | tuple[int, int] | Sequence[float] | np.ndarray | torch.Tensor

# Max slope |σ'| of each activation (its Lipschitz constant), and the slope interval [α, β]
# ECLipsE needs (slope-restricted, α·β ≥ 0). GELU's max slope 1.1289 is attained at x ≈ 2.42.
_ACT_LIP = {nn.ReLU: 1.0, nn.Tanh: 1.0, nn.Sigmoid: 0.25, nn.GELU: 1.1289, nn.Identity: 1.0}
_ACT_SLOPES = {nn.ReLU: (0.0, 1.0), nn.Tanh: (0.0, 1.0), nn.Sigmoid: (0.0, 0.25)}
_SHAPE_ONLY = (nn.Flatten, nn.Unflatten, nn.Identity, nn.Dropout)


class LipschitzError(TheorylabError, ValueError):
    """A model or input that the Lipschitz probes cannot handle; the message says why."""


@dataclass(frozen=True)
class LipschitzBounds:
    """A bracket ``lower ≤ Lip₂(f) ≤ upper`` for the scalar ``f(x) = c · model(x)``.

    Attributes
    ----------
    lower : best lower bound (max of ``grad_max`` and ``ascent_max``).
    upper : best upper bound (min of ``spectral`` and ``eclipse_fast`` where available);
        ``inf`` when the model is not a sequential stack the upper bounds understand.
    grad_norms : (n,) ‖∇f(x_i)‖₂ over the data points, in output units per input unit.
    grad_max : max of ``grad_norms``.
    ascent_max : best value found by the local ascent (nan when not run).
    spectral : product of per-layer operator norms (nan when unavailable).
    eclipse_fast : ECLipsE-Fast bound (nan when the model is not an MLP it covers).
    norm : always ``"L2"`` (input and output Euclidean norms).
    notes : why a bound is missing, or which parts are estimates.
    """

    lower: float
    upper: float
    grad_norms: np.ndarray
    grad_max: float
    ascent_max: float
    spectral: float
    eclipse_fast: float
    norm: str = "L2"
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ratio(self) -> float:
        """upper / lower: how loose the bracket is (1 = exact)."""
        return self.upper / self.lower if self.lower > 0 else float("inf")

    def as_dict(self) -> dict[str, float]:
        """Scalars only (for tables)."""
        return {
            "lip_lower": self.lower,
            "lip_upper": self.upper,
            "lip_grad_max": self.grad_max,
            "lip_grad_median": float(np.median(self.grad_norms)) if self.grad_norms.size else math.nan,
            "lip_ascent": self.ascent_max,
            "lip_spectral": self.spectral,
            "lip_eclipse": self.eclipse_fast,
        }


# ----------------------------------------------------------------------------------------------
def _param_dtype(model: nn.Module) -> torch.dtype:
    p = next(iter(model.parameters()), None)
    return p.dtype if p is not None else torch.get_default_dtype()


def _as_input(model: nn.Module, X: Any) -> torch.Tensor:
    X = torch.as_tensor(np.asarray(X) if not isinstance(X, torch.Tensor) else X)
    if X.ndim < 2 or X.shape[0] == 0:
        raise LipschitzError(f"X must have shape (n, ...) with n ≥ 1, got {tuple(X.shape)}")
    X = X.to(_param_dtype(model))
    if not torch.isfinite(X).all():
        raise LipschitzError("X contains NaN or inf")
    return X.detach()


def output_functional(model: nn.Module, x0: torch.Tensor, output: OutputSpec) -> torch.Tensor:
    """The vector ``c`` with ``f(x) = c · model(x)``, validated against the model's output size.

    ``output``: None (the model must have one output), an int (that logit), a pair
    ``(a, b)`` (margin ``z_a - z_b``) or a vector of length n_outputs.
    """
    with torch.no_grad():
        out = model(x0[:1])
    k = int(out.reshape(1, -1).shape[1])
    dtype = out.dtype
    if output is None:
        if k != 1:
            raise LipschitzError(
                f"the model has {k} outputs; pass output=<index>, output=(a, b) for the margin "
                "z_a - z_b, or a vector c of that length"
            )
        return torch.ones(1, dtype=dtype)
    if isinstance(output, (int, np.integer)) and not isinstance(output, bool):
        if not 0 <= int(output) < k:
            raise LipschitzError(f"output index {output} out of range for {k} outputs")
        c = torch.zeros(k, dtype=dtype)
        c[int(output)] = 1.0
        return c
    if isinstance(output, tuple) and len(output) == 2 and all(isinstance(i, (int, np.integer)) for i in output):
        a, b = (int(i) for i in output)
        if not (0 <= a < k and 0 <= b < k) or a == b:
            raise LipschitzError(f"margin output {output} needs two distinct indices in [0, {k})")
        c = torch.zeros(k, dtype=dtype)
        c[a], c[b] = 1.0, -1.0
        return c
    c = torch.as_tensor(np.asarray(output, dtype=float), dtype=dtype).reshape(-1)
    if c.numel() != k:
        raise LipschitzError(f"output vector has length {c.numel()}, the model has {k} outputs")
    return c


def _scalar_fn(model: nn.Module, c: torch.Tensor):
    def f(x: torch.Tensor) -> torch.Tensor:
        return (model(x.unsqueeze(0)).reshape(-1) * c).sum()

    return f


def gradient_norms(
    model: nn.Module, X: Any, output: OutputSpec = None, *, batch_size: int = 4096
) -> np.ndarray:
    """‖∇ₓ f(x_i)‖₂ for every row of ``X``, batched with ``torch.func.vmap(grad(f))``.

    Parameters
    ----------
    model : any ``nn.Module`` mapping (batch, ...) -> (batch, k); evaluated in eval mode.
    X : (n, ...) inputs in the model's input layout.
    output : which scalar of the output (see :func:`output_functional`).

    Returns
    -------
    (n,) float64 array: the input-gradient norms (output units per input unit, L2).
    """
    X = _as_input(model, X)
    was = model.training
    model.eval()
    try:
        c = output_functional(model, X, output)
        g = vmap(grad(_scalar_fn(model, c)))
        norms = [g(X[i : i + batch_size]).reshape(min(batch_size, len(X) - i), -1).norm(dim=1)
                 for i in range(0, len(X), batch_size)]
    finally:
        model.train(was)
    return torch.cat(norms).detach().double().numpy()


def local_ascent(
    model: nn.Module,
    X: Any,
    output: OutputSpec = None,
    *,
    radius: float = 0.1,
    steps: int = 50,
    n_samples: int = 16,
    lr: float | None = None,
    seed: int = 0,
) -> float:
    """Best local Lipschitz lower bound found by sampling and projected ascent in B(x_i, radius).

    First ``n_samples`` points uniform in each ball B(x_i, radius) are scored by ‖∇f‖ (batched);
    the steepest becomes the start u (ReLU nets are piecewise affine, so ascent alone cannot
    leave the start's linear region). Then u and v ∈ B(x_i, radius) are optimised (Adam,
    projection onto the ball) to increase ‖∇f(u)‖² + (|f(u) - f(v)| / ‖u - v‖)². Every
    evaluated point gives exact lower bounds ‖∇f(u)‖ and |f(u) - f(v)|/‖u - v‖ on Lip(f);
    the maximum seen is returned. All starts run as one batch (samples do not interact in
    eval mode).

    Parameters
    ----------
    X : (m, ...) start points (the data, or a subset of it).
    radius : L2 radius of the search ball, in input units.
    steps : ascent steps.
    lr : Adam step size in input units (default radius / 10).
    seed : seeds the random initial offsets (a private ``torch.Generator``).
    """
    X = _as_input(model, X)
    if radius <= 0 or steps < 0:
        raise LipschitzError(f"local_ascent needs radius > 0 and steps ≥ 0, got {radius}, {steps}")
    was = model.training
    model.eval()
    gen = torch.Generator().manual_seed(int(seed))
    c = output_functional(model, X, output)
    flat = X.reshape(len(X), -1)

    def project(z: torch.Tensor) -> torch.Tensor:
        delta = z - flat
        nrm = delta.norm(dim=1, keepdim=True).clamp_min(1e-30)
        return flat + delta * torch.clamp(radius / nrm, max=1.0)

    def offset() -> torch.Tensor:
        d = torch.randn(flat.shape, generator=gen, dtype=flat.dtype)
        return d / d.norm(dim=1, keepdim=True) * (radius * 0.5)

    best, start = 0.0, flat.clone()
    if n_samples > 0:
        best, start = _steepest_in_balls(model, X, output, radius, n_samples, gen)
    u = project(start + offset() * 0.1).requires_grad_(True)
    v = project(flat + offset()).requires_grad_(True)
    try:
        best = max(best, _ascend(model, X.shape, c, u, v, project, radius, steps,
                                 lr if lr is not None else radius / 10))
    finally:
        model.train(was)
    return best


def _steepest_in_balls(model: nn.Module, X: torch.Tensor, output: OutputSpec, radius: float, n_samples: int,
                       gen: torch.Generator) -> tuple[float, torch.Tensor]:
    """``n_samples`` points uniform in each ball B(x_i, radius), scored by ‖∇f‖ in one batch:
    (the largest norm seen, the steepest point of each ball (m, D))."""
    flat = X.reshape(len(X), -1)
    m, D = flat.shape
    dirs = torch.randn((n_samples, m, D), generator=gen, dtype=flat.dtype)
    dirs = dirs / dirs.norm(dim=2, keepdim=True)
    # uniform in the ball: radius · U^{1/D} along a uniform direction
    rad = radius * torch.rand((n_samples, m, 1), generator=gen, dtype=flat.dtype) ** (1.0 / D)
    cand = flat[None] + dirs * rad
    gn = torch.as_tensor(gradient_norms(model, cand.reshape(n_samples * m, *X.shape[1:]), output)).reshape(n_samples, m)
    return float(gn.max()), cand[gn.argmax(dim=0), torch.arange(m)]


def _ascend(model: nn.Module, shape: torch.Size, c: torch.Tensor, u: torch.Tensor, v: torch.Tensor,
            project: Any, radius: float, steps: int, lr: float) -> float:
    """Projected Adam ascent of ‖∇f(u)‖² + (|f(u) − f(v)| / ‖u − v‖)² over (u, v), each row in
    its ball; returns the largest gradient norm or valid secant slope evaluated on the way."""
    best = 0.0
    n = shape[0]
    opt = torch.optim.Adam([u, v], lr=lr)
    for it in range(steps + 1):
        fu = (model(u.reshape(shape)).reshape(n, -1) * c).sum(dim=1)
        fv = (model(v.reshape(shape)).reshape(n, -1) * c).sum(dim=1)
        (gu,) = torch.autograd.grad(fu.sum(), u, create_graph=True)
        gnorm2 = (gu**2).sum(dim=1)
        gap = (u - v).norm(dim=1)
        # a secant over a tiny gap is dominated by rounding of f (float32: ~1e-7·|f|), so
        # pairs closer than 1% of the radius count neither as a bound nor in the objective
        secant = (fu - fv).abs() / gap.clamp_min(0.01 * radius)
        valid = gap >= 0.01 * radius
        best = max(best, float(gnorm2.detach().max().sqrt()),
                   float(secant.detach()[valid].max()) if bool(valid.any()) else 0.0)
        if it == steps:
            break
        opt.zero_grad()
        (-(gnorm2 + secant**2).sum()).backward()
        opt.step()
        with torch.no_grad():
            u.copy_(project(u))
            v.copy_(project(v))
    return best


# -- upper bounds --------------------------------------------------------------------------------
def _flatten_sequential(model: nn.Module) -> list[nn.Module] | None:
    if not isinstance(model, nn.Sequential):
        return None
    out: list[nn.Module] = []
    for m in model:
        if isinstance(m, nn.Sequential):
            sub = _flatten_sequential(m)
            if sub is None:
                return None
            out += sub
        else:
            out.append(m)
    return out


def _power_iteration(A, At, shape: tuple[int, ...], dtype: torch.dtype, *, n_iter: int, tol: float, seed: int) -> float:
    """Largest singular value of the linear map A (adjoint At) on tensors of ``shape``."""
    gen = torch.Generator().manual_seed(int(seed))
    v = torch.randn(shape, generator=gen, dtype=dtype)
    v = v / v.norm()
    sigma = 0.0
    for _ in range(n_iter):
        w = At(A(v))
        nrm = w.norm()
        if nrm == 0:
            return 0.0
        v = w / nrm
        new = float(A(v).norm())
        if abs(new - sigma) <= tol * max(new, 1e-300):
            sigma = new
            break
        sigma = new
    return sigma


def _matrix_norm(W: torch.Tensor) -> float:
    """Largest singular value of a matrix, exactly: sqrt(λ_max) of the smaller Gram matrix, float64.

    O(max·min²) instead of a full SVD, so a 16384 × 20 first layer costs a 20 × 20 eigenproblem.
    """
    W = W.detach().double()
    G = W @ W.T if W.shape[0] <= W.shape[1] else W.T @ W
    return float(torch.linalg.eigvalsh(G)[-1].clamp_min(0).sqrt())


def _conv_ops(m: nn.Module, in_shape: tuple[int, ...]):
    """A = conv without bias on one input of ``in_shape`` (C, *spatial); At = conv_transpose."""
    nd = len(in_shape) - 1
    conv = {1: nn.functional.conv1d, 2: nn.functional.conv2d}[nd]
    convt = {1: nn.functional.conv_transpose1d, 2: nn.functional.conv_transpose2d}[nd]
    W = m.weight.detach()
    kw = dict(stride=m.stride, padding=m.padding, dilation=m.dilation, groups=m.groups)

    def A(x: torch.Tensor) -> torch.Tensor:
        return conv(x.unsqueeze(0), W, **kw)

    out_spatial = A(torch.zeros(in_shape, dtype=W.dtype)).shape[2:]
    # output_padding makes conv_transpose return exactly the input's spatial size
    op = tuple(
        int(in_shape[1 + i] - ((out_spatial[i] - 1) * m.stride[i] - 2 * m.padding[i] + m.dilation[i] * (m.kernel_size[i] - 1) + 1))
        for i in range(nd)
    )

    def At(y: torch.Tensor) -> torch.Tensor:
        return convt(y, W, output_padding=op, **kw).squeeze(0)

    return A, At


def operator_norm(
    m: nn.Module, in_shape: tuple[int, ...], *, n_iter: int = 500, tol: float = 1e-7, seed: int = 0
) -> float:
    """L2 operator norm of the linear part of one affine layer acting on inputs of ``in_shape``.

    ``nn.Linear``: exact largest singular value. ``Conv1d/Conv2d`` (zero padding): power
    iteration with conv / conv_transpose. Any other affine module (``AvgPool``, ``BatchNorm``
    in eval mode, ...): power iteration through ``torch.func.jvp``/``vjp`` at 0.

    Parameters
    ----------
    in_shape : shape of ONE input (no batch axis), e.g. (784,) or (1, 28, 28).
    """
    with torch.no_grad():
        if isinstance(m, nn.Linear):
            return _matrix_norm(m.weight)
        if isinstance(m, (nn.Conv1d, nn.Conv2d)) and m.padding_mode == "zeros" and not isinstance(m.padding, str):
            A, At = _conv_ops(m, in_shape)
            return _power_iteration(A, At, in_shape, m.weight.dtype, n_iter=n_iter, tol=tol, seed=seed)
    dtype = next(iter(m.parameters()), torch.zeros(())).dtype
    x0 = torch.zeros((1, *in_shape), dtype=dtype)
    with torch.no_grad():
        b = m(x0)

    def lin(x: torch.Tensor) -> torch.Tensor:
        return m(x) - b

    def A(x: torch.Tensor) -> torch.Tensor:
        return lin(x.unsqueeze(0))

    def At(y: torch.Tensor) -> torch.Tensor:
        _, pull = torch.func.vjp(lin, x0)
        return pull(y)[0].squeeze(0)

    with torch.no_grad():
        return _power_iteration(A, At, tuple(in_shape), dtype, n_iter=n_iter, tol=tol, seed=seed)


def _layer_shapes(layers: list[nn.Module], x0: torch.Tensor) -> list[tuple[int, ...]]:
    shapes = []
    h = x0[:1]
    with torch.no_grad():
        for m in layers:
            shapes.append(tuple(h.shape[1:]))
            h = m(h)
    return shapes


def _is_affine(m: nn.Module) -> bool:
    return isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.AvgPool1d, nn.AvgPool2d, nn.BatchNorm1d, nn.BatchNorm2d))


def spectral_product(
    model: nn.Module, X: Any, output: OutputSpec = None, *, n_iter: int = 500, tol: float = 1e-7, seed: int = 0
) -> float:
    """Product of per-layer L2 operator norms of a sequential model (AutoLip, Scaman & Virmaux 2018).

    The output functional ``c`` is folded into the last affine layer (‖cᵀW_L‖ instead of
    ‖c‖·‖W_L‖), so the bound is for the scalar ``c · model(x)``.

    Parameters
    ----------
    model : ``nn.Sequential`` (nested allowed) of affine layers, activations, reshapes.
    X : (n, ...) inputs; only ``X[:1]`` is used to infer each layer's input shape.

    Returns
    -------
    The bound, in output units per input unit. Raises :class:`LipschitzError` for a layer it
    cannot bound.
    """
    X = _as_input(model, X)
    layers = _flatten_sequential(model)
    if layers is None:
        raise LipschitzError(f"upper bounds need an nn.Sequential model, got {type(model).__name__}")
    was = model.training
    model.eval()
    try:
        c = output_functional(model, X, output)
        shapes = _layer_shapes(layers, X)
        last_affine = max((i for i, m in enumerate(layers) if _is_affine(m)), default=-1)
        if last_affine >= 0 and not isinstance(layers[last_affine], nn.Linear):
            last_affine = -1  # fold c only into a final Linear; otherwise multiply by ‖c‖
        if last_affine >= 0 and any(not isinstance(m, _SHAPE_ONLY) for m in layers[last_affine + 1 :]):
            last_affine = -1
        total = 1.0 if last_affine >= 0 else float(c.norm())
        for i, m in enumerate(layers):
            if i == last_affine:
                total *= float(torch.linalg.vector_norm(c.double() @ m.weight.detach().double()))
            elif _is_affine(m):
                total *= operator_norm(m, shapes[i], n_iter=n_iter, tol=tol, seed=seed + i)
            elif isinstance(m, nn.LeakyReLU):
                total *= max(1.0, abs(m.negative_slope))
            elif type(m) in _ACT_LIP:
                total *= _ACT_LIP[type(m)]
            elif isinstance(m, _SHAPE_ONLY):
                continue
            elif isinstance(m, (nn.MaxPool1d, nn.MaxPool2d)):
                k = np.atleast_1d(m.kernel_size)
                s = np.atleast_1d(m.stride if m.stride is not None else m.kernel_size)
                if np.any(s < k):
                    raise LipschitzError("overlapping max pooling (stride < kernel) is not supported")
                continue  # non-overlapping max pooling is 1-Lipschitz in L2
            else:
                raise LipschitzError(f"no Lipschitz bound for layer {type(m).__name__}")
    finally:
        model.train(was)
    return total


def eclipse_fast_bound(weights: Sequence[torch.Tensor], slopes: Sequence[tuple[float, float]]) -> float:
    """ECLipsE-Fast upper bound on the L2 Lipschitz constant of an MLP (Xu & Sivaranjani 2024).

    The network is ``x -> W_l σ_{l-1}(... σ_1(W_1 x + b_1) ...) + b_l`` with each σ_i
    slope-restricted in [α_i, β_i], α_i·β_i ≥ 0 (ReLU [0, 1]). With m_i = (α_i + β_i)/2 the
    closed form is, from X_0 = I:

        M_i = W_i X_{i-1}^{-1} W_iᵀ,  λ_i = 1 / (2 m_i² λ_max(M_i)),  X_i = λ_i I - λ_i² m_i² M_i,
        Lip² ≤ λ_max(W_lᵀ W_l X_{l-1}^{-1}) = ‖W_l X_{l-1}^{-1/2}‖₂².

    X_i has eigenvalues in [λ_i/2, λ_i], so every inverse exists. Computed in float64.

    Parameters
    ----------
    weights : [W_1 (d_1, d_0), ..., W_l (d_l, d_{l-1})]; fold an output functional into W_l.
    slopes : [(α_i, β_i)] for the l - 1 activations.

    References
    ----------
    Y. Xu, S. Sivaranjani, "ECLipsE: Efficient Compositional Lipschitz Constant Estimation for
    Deep Neural Networks", NeurIPS 2024, arXiv 2404.04375 (Algorithm 2, ECLipsE-Fast).
    """
    Ws = [torch.as_tensor(w).detach().double() for w in weights]
    if len(slopes) != len(Ws) - 1:
        raise LipschitzError(f"{len(Ws)} weight matrices need {len(Ws) - 1} activation slopes, got {len(slopes)}")
    if len(Ws) == 1:
        return _matrix_norm(Ws[0])
    X = torch.eye(Ws[0].shape[1], dtype=torch.float64)
    for W, (a, b) in zip(Ws[:-1], slopes, strict=True):
        if a * b < 0:
            raise LipschitzError(f"ECLipsE-Fast needs slopes of one sign, got [{a}, {b}]")
        m = (a + b) / 2
        if m == 0:
            return 0.0
        Xinv_Wt = torch.linalg.solve(X, W.T)
        M = W @ Xinv_Wt
        M = (M + M.T) / 2
        lam = 1.0 / (2 * m**2 * float(torch.linalg.eigvalsh(M)[-1]))
        X = lam * torch.eye(W.shape[0], dtype=torch.float64) - lam**2 * m**2 * M
    L = torch.linalg.cholesky((X + X.T) / 2)  # X = L Lᵀ; ‖W_l X^{-1/2}‖ = ‖W_l L^{-T}‖
    WLt = torch.linalg.solve_triangular(L, Ws[-1].T, upper=False).T
    return _matrix_norm(WLt)


def _mlp_structure(layers: list[nn.Module]) -> tuple[list[torch.Tensor], list[tuple[float, float]]] | None:
    core = [m for m in layers if not isinstance(m, (nn.Flatten, nn.Identity, nn.Dropout))]
    if not core or not isinstance(core[-1], nn.Linear):
        return None
    weights, slopes = [], []
    expect_linear = True
    for m in core:
        if expect_linear:
            if not isinstance(m, nn.Linear):
                return None
            weights.append(m.weight.detach())
        else:
            if isinstance(m, nn.LeakyReLU) and 0 <= m.negative_slope <= 1:
                slopes.append((float(m.negative_slope), 1.0))
            elif type(m) in _ACT_SLOPES:
                slopes.append(_ACT_SLOPES[type(m)])
            else:
                return None
        expect_linear = not expect_linear
    return weights, slopes


def lipschitz_bounds(
    model: nn.Module,
    X: Any,
    output: OutputSpec = None,
    *,
    radius: float | None = 0.1,
    ascent_points: int = 64,
    ascent_steps: int = 30,
    ascent_samples: int = 16,
    upper: bool = True,
    eclipse_max_width: int = 4096,
    seed: int = 0,
) -> LipschitzBounds:
    """Bracket the global L2 Lipschitz constant of ``f(x) = c · model(x)``.

    Parameters
    ----------
    model : any ``nn.Module``; upper bounds need an ``nn.Sequential`` of known layers.
    X : (n, ...) data points (e.g. the training set) at which gradients are taken.
    output : None (one output), logit index, ``(a, b)`` margin, or a vector ``c``.
    radius : L2 radius of the local ascent around data points (input units); None skips it.
    ascent_points : how many data points (the ones with the largest gradient norm) start
        the ascent.
    ascent_steps : ascent iterations.
    ascent_samples : random points per ball scored before the ascent.
    upper : compute the upper bounds (spectral product and, for MLPs, ECLipsE-Fast).
    eclipse_max_width : skip ECLipsE-Fast (with a note) when a hidden layer is wider than this.
    seed : seeds the ascent's random starts and the power iterations.

    Returns
    -------
    :class:`LipschitzBounds` with ``lower ≤ Lip₂(f) ≤ upper``.

    Examples
    --------
    >>> import torch
    >>> lin = torch.nn.Sequential(torch.nn.Linear(3, 1))
    >>> b = lipschitz_bounds(lin, torch.randn(10, 3), radius=None)
    >>> abs(b.lower - b.upper) < 1e-5
    True
    """
    X = _as_input(model, X)
    notes: list[str] = []
    norms = gradient_norms(model, X, output)
    gmax = float(norms.max())
    ascent = math.nan
    if radius is not None and ascent_points > 0:
        top = np.argsort(-norms, kind="stable")[:ascent_points]
        ascent = local_ascent(model, X[torch.as_tensor(top)], output, radius=radius, steps=ascent_steps,
                              n_samples=ascent_samples, seed=seed)
    lower = max(gmax, 0.0 if math.isnan(ascent) else ascent)
    spec = ecl = math.nan
    if upper:
        layers = _flatten_sequential(model)
        if layers is None:
            notes.append(f"no upper bound: {type(model).__name__} is not nn.Sequential")
        else:
            try:
                spec = spectral_product(model, X, output, seed=seed)
            except LipschitzError as e:
                notes.append(f"no spectral bound: {e}")
            structure = _mlp_structure(layers)
            if structure is not None and max((w.shape[0] for w in structure[0][:-1]), default=0) > eclipse_max_width:
                notes.append(f"no ECLipsE-Fast bound: a hidden width exceeds eclipse_max_width={eclipse_max_width} "
                             "(it needs width × width eigenproblems)")
                structure = None
            elif structure is None:
                notes.append("no ECLipsE-Fast bound: not an MLP of Linear + slope-restricted activations")
            if structure is not None:
                weights, slopes = structure
                c = output_functional(model, X, output).double()
                weights = [*weights[:-1], (c @ weights[-1].double()).reshape(1, -1)]
                ecl = eclipse_fast_bound(weights, slopes)
            if any(isinstance(m, (nn.Conv1d, nn.Conv2d)) for m in layers):
                notes.append("conv operator norms by power iteration (converged estimate, not certified)")
    finite = [v for v in (spec, ecl) if not math.isnan(v)]
    up = min(finite) if finite else math.inf
    return LipschitzBounds(lower, up, norms, gmax, ascent, spec, ecl, "L2", tuple(notes))


# -- the model class of Theorem 3: W and J -----------------------------------------------------
@dataclass(frozen=True)
class ParameterLipschitz:
    """The constants of Bubeck & Sellke's Theorem 3 for an MLP's parameter ball.

    The class is F = {f_w : ‖w‖₂ ≤ r} (all weights and biases of the architecture, one vector),
    so diam(𝒲) = W = 2r, and on inputs with ‖x‖₂ ≤ R every f_w is within J‖w1 − w2‖ of f_w2.

    Attributes
    ----------
    weight_norm : ‖w‖₂ of the given model's parameters.
    radius : r, the ball's radius (``weight_norm`` rounded up to a power of 2 unless given).
    diameter : W = 2r.
    J : the parameter-Lipschitz bound sup_{‖w‖ ≤ r, ‖x‖ ≤ R} ‖∇_w f_w(x)‖₂.
    input_radius : R.
    """

    weight_norm: float
    radius: float
    diameter: float
    J: float
    input_radius: float


def parameter_lipschitz(model: nn.Module, input_radius: float, *, radius: float | None = None) -> ParameterLipschitz:
    """W and J of Theorem 3 (Bubeck & Sellke 2021, arXiv 2105.12806) for an MLP's parameter ball.

    For x ↦ W_L σ(⋯σ(W_1 x + b_1)⋯) + b_L with 1-Lipschitz activations, the gradient in the
    parameters of layer l is g_l ⊗ [h_{l−1}; 1] with ‖g_l‖ ≤ ∏_{j>l} ‖W_j‖_op ≤ r^{L−l} and
    ‖[h_l; 1]‖ ≤ A_l, A_0 = sqrt(R² + 1), A_l = sqrt(r² A_{l−1}² + 1) (every ‖[W_j b_j]‖_op is at
    most ‖w‖₂ ≤ r). Hence sup ‖∇_w f_w(x)‖₂ ≤ J = sqrt(Σ_l r^{2(L−l)} A_{l−1}²), and by the mean
    value theorem on the convex ball, |f_w1(x) − f_w2(x)| ≤ J ‖w1 − w2‖ for ‖x‖ ≤ R. A valid J
    that is too large only weakens Theorem 3's bound (it enters through log(60 W J / ε)).

    The class must be fixed before the data: with r a power of 2 chosen after training, a union
    bound over the 64 radii 2^k (k < 64) costs a factor 64 in δ (log 64 ≈ 4.2 added to
    log(4/δ)); the caller accounts for it.

    Parameters
    ----------
    model : an ``nn.Sequential`` MLP (``Linear`` and activations with slope ≤ 1), scalar or
        vector output (for a scalar functional c·f the same J holds with ‖c‖ ≤ 1).
    input_radius : R, the largest ‖x‖₂ the class is used on (e.g. the largest training input).
    radius : r; default the smallest power of 2 ≥ ‖w‖₂.

    Returns
    -------
    :class:`ParameterLipschitz`.
    """
    layers = _flatten_sequential(model)
    if layers is None:
        raise LipschitzError(f"parameter_lipschitz needs an nn.Sequential MLP, got {type(model).__name__}")
    linears = [m for m in layers if isinstance(m, nn.Linear)]
    for m in layers:
        if isinstance(m, nn.Linear) or isinstance(m, _SHAPE_ONLY):
            continue
        slope = max(1.0, abs(m.negative_slope)) if isinstance(m, nn.LeakyReLU) else _ACT_LIP.get(type(m))
        if slope is None or slope > 1.0:
            raise LipschitzError(f"parameter_lipschitz covers Linear layers with activations of slope ≤ 1, got "
                                 f"{type(m).__name__}")
    if not linears:
        raise LipschitzError("parameter_lipschitz found no Linear layer")
    if not (math.isfinite(input_radius) and input_radius >= 0):
        raise LipschitzError(f"input_radius must be a finite number ≥ 0, got {input_radius}")
    with torch.no_grad():
        norm = float(torch.sqrt(sum((p.detach().double() ** 2).sum() for p in model.parameters())))
    r = float(radius) if radius is not None else 2.0 ** math.ceil(math.log2(max(norm, 1e-300)))
    if r < norm * (1 - 1e-12):
        raise LipschitzError(f"radius {r} is smaller than the model's weight norm {norm:.6g}")
    L = len(linears)
    A = math.sqrt(input_radius**2 + 1)
    total = 0.0
    for layer in range(1, L + 1):
        total += r ** (2 * (L - layer)) * A**2
        A = math.sqrt(r**2 * A**2 + 1)
    return ParameterLipschitz(norm, r, 2 * r, math.sqrt(total), float(input_radius))
