"""Lipschitz brackets against networks whose constant is known exactly.

Oracles: a linear layer (Lip = spectral norm of cᵀW); compositions with an orthogonal first
layer (Lip = ‖a‖); two-layer ReLU nets on a 1-D input, whose Lipschitz constant is the largest
|slope| over the finitely many pieces between breakpoints (computed exactly); conv layers
against the SVD of their dense matrix; ECLipsE-Fast against a literal transcription of the
paper's recursion. Tolerances: 1e-5 relative in float32, 1e-10 in float64.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from theorylab.models import mlp
from theorylab.probes.lipschitz import (
    LipschitzError,
    eclipse_fast_bound,
    gradient_norms,
    lipschitz_bounds,
    local_ascent,
    operator_norm,
    spectral_product,
)


def _linear(W: torch.Tensor) -> nn.Sequential:
    lin = nn.Linear(W.shape[1], W.shape[0]).double()
    with torch.no_grad():
        lin.weight.copy_(W)
        lin.bias.normal_(generator=torch.Generator().manual_seed(1))
    return nn.Sequential(lin)


@pytest.mark.parametrize("output", [0, (1, 2), [0.5, -1.0, 2.0]])
def test_linear_layer_is_exact(output):
    g = torch.Generator().manual_seed(0)
    W = torch.randn(3, 7, generator=g, dtype=torch.float64)
    model = _linear(W)
    c = {0: torch.tensor([1.0, 0, 0]), (1, 2): torch.tensor([0, 1.0, -1.0])}.get(
        output if not isinstance(output, list) else None, torch.tensor(output if isinstance(output, list) else [0.0]))
    true = float(torch.linalg.vector_norm(c.double() @ W))
    X = torch.randn(50, 7, generator=g, dtype=torch.float64)
    b = lipschitz_bounds(model, X, output=output, radius=0.5, seed=0)
    assert b.norm == "L2"
    assert b.lower == pytest.approx(true, rel=1e-10)
    assert b.upper == pytest.approx(true, rel=1e-10)
    assert b.spectral == pytest.approx(true, rel=1e-10)
    assert b.eclipse_fast == pytest.approx(true, rel=1e-10)


def test_scalar_linear_layer_spectral_norm():
    W = torch.randn(1, 5, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    b = lipschitz_bounds(_linear(W), torch.randn(10, 5, dtype=torch.float64), radius=None)
    assert b.lower == pytest.approx(float(W.norm()), rel=1e-12)
    assert b.ratio == pytest.approx(1.0, rel=1e-12)


@pytest.mark.parametrize("act", [nn.ReLU, nn.Tanh])
def test_orthogonal_composition_known_constant(act):
    # f(x) = a · σ(Qx + 0) with Q orthogonal, σ ∈ {ReLU, tanh}: Lip = ‖a‖ (all units active
    # with slope 1 at x = Qᵀ·1 for ReLU, at x = 0 for tanh).
    g = torch.Generator().manual_seed(0)
    d = 6
    Q, _ = torch.linalg.qr(torch.randn(d, d, generator=g, dtype=torch.float64))
    a = torch.randn(1, d, generator=g, dtype=torch.float64)
    l1, l2 = nn.Linear(d, d).double(), nn.Linear(d, 1).double()
    with torch.no_grad():
        l1.weight.copy_(Q)
        l1.bias.zero_()
        l2.weight.copy_(a)
    model = nn.Sequential(l1, act(), l2)
    x_star = Q.T @ torch.ones(d, dtype=torch.float64) if act is nn.ReLU else torch.zeros(d, dtype=torch.float64)
    X = torch.cat([torch.randn(20, d, generator=g, dtype=torch.float64), x_star[None]])
    b = lipschitz_bounds(model, X, radius=0.1, seed=0)
    true = float(a.norm())
    assert b.lower == pytest.approx(true, rel=1e-10)
    assert b.eclipse_fast == pytest.approx(true, rel=1e-10)  # ECLipsE-Fast is exact here
    assert b.spectral == pytest.approx(true, rel=1e-10)
    assert b.upper == pytest.approx(true, rel=1e-10)


def _exact_lip_1d_two_layer(model: nn.Sequential) -> float:
    """Exact Lip of x -> w2·relu(w1 x + b1) + b2 on R: max |slope| over pieces between breakpoints."""
    w1 = model[0].weight.detach().double().reshape(-1)
    b1 = model[0].bias.detach().double()
    bps = torch.sort((-b1 / w1)[w1 != 0]).values
    pts = torch.cat([bps[:1] - 1.0, (bps[1:] + bps[:-1]) / 2, bps[-1:] + 1.0])
    h = 1e-3 * (1 + (bps[1:] - bps[:-1]).min().abs()) if len(bps) > 1 else torch.tensor(1e-3)
    slopes = []
    with torch.no_grad():
        for x in pts:
            # both points lie strictly inside one piece: midpoints are ≥ gap/2 from any breakpoint
            gap = (bps - x).abs().min()
            e = min(float(h), float(gap) / 4)
            f = model(torch.stack([x - e, x + e]).reshape(2, 1).to(model[0].weight.dtype)).reshape(-1).double()
            slopes.append(abs(float(f[1] - f[0])) / (2 * e))
    return max(slopes)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), width=st.integers(1, 12))
def test_bracket_contains_exact_constant_1d(seed, width):
    model = mlp(1, [width], 1, seed=seed, bias_std=1.0, dtype=torch.float64)
    true = _exact_lip_1d_two_layer(model)
    X = torch.randn(40, 1, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) * 3
    b = lipschitz_bounds(model, X, radius=1.0, ascent_steps=20, seed=seed)
    assert b.lower <= true * (1 + 1e-9) + 1e-12
    assert true <= b.upper * (1 + 1e-9) + 1e-12
    assert true <= b.eclipse_fast * (1 + 1e-9) + 1e-12
    assert true <= b.spectral * (1 + 1e-9) + 1e-12


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 10_000), depth=st.integers(1, 3), width=st.integers(2, 24), d=st.integers(1, 8))
def test_lower_below_upper_random_nets(seed, depth, width, d):
    model = mlp(d, [width] * depth, 3, seed=seed, bias_std=0.5, dtype=torch.float64)
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(64, d, generator=g, dtype=torch.float64)
    b = lipschitz_bounds(model, X, output=(0, 2), radius=0.5, ascent_points=16, ascent_steps=5, seed=seed)
    assert 0 <= b.lower <= b.upper * (1 + 1e-9)  # 0 when every unit is dead
    # an independent lower bound: secant quotients of random pairs never exceed the upper bound
    U, V = torch.randn(200, d, generator=g, dtype=torch.float64), torch.randn(200, d, generator=g, dtype=torch.float64)
    with torch.no_grad():
        fu, fv = model(U)[:, 0] - model(U)[:, 2], model(V)[:, 0] - model(V)[:, 2]
    assert float(((fu - fv).abs() / (U - V).norm(dim=1)).max()) <= b.upper * (1 + 1e-9)


def test_gradient_norms_match_per_sample_autograd():
    model = mlp(5, [16, 16], 1, seed=0)
    X = torch.randn(30, 5, generator=torch.Generator().manual_seed(0))
    batched = gradient_norms(model, X)
    loop = []
    for x in X:
        x = x[None].clone().requires_grad_(True)
        (gx,) = torch.autograd.grad(model(x).sum(), x)
        loop.append(float(gx.norm()))
    np.testing.assert_allclose(batched, loop, rtol=1e-5)


def _dense(m: nn.Module, shape: tuple[int, ...]) -> torch.Tensor:
    n = int(np.prod(shape))
    with torch.no_grad():
        base = m(torch.zeros(1, *shape, dtype=torch.float64)).reshape(-1)
        cols = [m(e.reshape(1, *shape)).reshape(-1) - base for e in torch.eye(n, dtype=torch.float64)]
    return torch.stack(cols, 1)


@pytest.mark.parametrize(
    "layer, shape",
    [
        (nn.Conv2d(2, 3, 3, stride=1, padding=1), (2, 6, 6)),
        (nn.Conv2d(2, 4, 3, stride=2, padding=1), (2, 7, 7)),
        (nn.Conv2d(1, 2, 5, stride=2, padding=0, dilation=1), (1, 9, 8)),
        (nn.Conv1d(3, 2, 5, stride=2, padding=2), (3, 17)),
        (nn.AvgPool2d(2), (2, 6, 6)),
        (nn.BatchNorm1d(5).eval(), (5,)),
    ],
)
def test_operator_norm_matches_dense_svd(layer, shape):
    layer = layer.double()
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for prm in layer.parameters():
            prm.copy_(torch.randn(prm.shape, generator=g, dtype=prm.dtype))
    if isinstance(layer, nn.BatchNorm1d):
        with torch.no_grad():
            layer.running_var.uniform_(0.5, 2.0, generator=g)
    exact = float(torch.linalg.matrix_norm(_dense(layer, shape), ord=2))
    assert operator_norm(layer, shape, tol=1e-12, n_iter=5000) == pytest.approx(exact, rel=1e-6)


def test_conv_net_bracket():
    from theorylab.models import cnn2d

    model = cnn2d(8, 10, seed=0).double()
    X = torch.rand(20, 1, 8, 8, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    b = lipschitz_bounds(model, X, output=3, radius=0.2, ascent_points=4, ascent_steps=5, ascent_samples=4, seed=0)
    assert 0 < b.lower <= b.upper < np.inf
    assert np.isnan(b.eclipse_fast) and any("power iteration" in s for s in b.notes)


def _eclipse_fast_literal(weights, m=0.5):
    """The paper's Algorithm 2 transcribed literally (general eigensolver, explicit inverses)."""
    X = torch.eye(weights[0].shape[1], dtype=torch.float64)
    for W in weights[:-1]:
        M = W @ torch.linalg.inv(X) @ W.T
        lam = 1 / (2 * m**2 * torch.linalg.eigvals(M).real.max())
        X = lam * torch.eye(W.shape[0], dtype=torch.float64) - lam**2 * m**2 * M
    Wl = weights[-1]
    return float(torch.sqrt(torch.linalg.eigvals(Wl.T @ Wl @ torch.linalg.inv(X)).real.max()))


@pytest.mark.parametrize("seed", range(4))
def test_eclipse_fast_matches_literal_transcription(seed):
    g = torch.Generator().manual_seed(seed)
    sizes = [5, 12, 9, 7, 1]
    Ws = [torch.randn(b, a, generator=g, dtype=torch.float64) for a, b in itertools.pairwise(sizes)]
    ours = eclipse_fast_bound(Ws, [(0.0, 1.0)] * 3)
    assert ours == pytest.approx(_eclipse_fast_literal(Ws), rel=1e-8)
    # never looser than the trivial product here (and always ≥ the lower bound)
    assert ours <= np.prod([float(torch.linalg.matrix_norm(W, 2)) for W in Ws]) * (1 + 1e-9)


def test_local_ascent_finds_steeper_points_than_the_data():
    # f(x) = relu(x - 1)·10 + x: slope 1 at the data (x ≈ 0), 11 beyond x = 1 (within radius 1.5)
    l1, l2 = nn.Linear(1, 2).double(), nn.Linear(2, 1).double()
    with torch.no_grad():
        l1.weight.copy_(torch.tensor([[1.0], [1.0]]))
        l1.bias.copy_(torch.tensor([-1.0, 10.0]))
        l2.weight.copy_(torch.tensor([[10.0, 1.0]]))
    model = nn.Sequential(l1, nn.ReLU(), l2)
    X = torch.zeros(4, 1, dtype=torch.float64)
    assert gradient_norms(model, X).max() == pytest.approx(1.0)
    assert local_ascent(model, X, radius=1.5, steps=60, seed=0) > 5.0


def test_errors_are_clear():
    model = mlp(3, [4], 2, seed=0)
    X = torch.randn(5, 3)
    with pytest.raises(LipschitzError, match="2 outputs"):
        lipschitz_bounds(model, X)
    with pytest.raises(LipschitzError, match="out of range"):
        lipschitz_bounds(model, X, output=5)
    with pytest.raises(LipschitzError, match="NaN"):
        lipschitz_bounds(model, X * float("nan"), output=0)
    with pytest.raises(LipschitzError, match=r"nn\.Sequential"):
        spectral_product(nn.ModuleList([nn.Linear(3, 1)]), X)  # type: ignore[arg-type]

    class Odd(nn.Module):
        def forward(self, x):
            return x.sum(1, keepdim=True)

    b = lipschitz_bounds(nn.Sequential(nn.Linear(3, 3), Odd()), X, radius=None)
    assert b.upper == np.inf and any("no spectral bound" in s for s in b.notes)
