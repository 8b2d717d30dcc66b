"""Empirical NTK against independent oracles: the closed-form ReLU kernels, a per-sample loop,
and its own forms; kernel regression against a direct solve and a simulated linear model."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from theorylab.models import mlp
from theorylab.models.normalized import normalized_mlp, ntk_mlp
from theorylab.probes.ntk import (
    NTKError,
    empirical_ntk,
    kernel_regression,
    relu_kernels,
    relu_ntk_two_layer,
)


def _loop_ntk(model: nn.Module, x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
    """The naive peer: one autograd call per (example, output), full (N, M, O, O) kernel."""
    params = [p for p in model.parameters() if p.requires_grad]

    def jac(x: torch.Tensor) -> torch.Tensor:
        out = model(x[None])[0]
        rows = []
        for a in range(out.numel()):
            g = torch.autograd.grad(out[a], params, retain_graph=True)
            rows.append(torch.cat([t.reshape(-1) for t in g]))
        return torch.stack(rows)

    J1 = torch.stack([jac(x) for x in x1])
    J2 = torch.stack([jac(x) for x in x2])
    return torch.einsum("naf,mbf->nmab", J1, J2)


@pytest.fixture(scope="module")
def small():
    g = torch.Generator().manual_seed(0)
    net = mlp(5, [16, 16], 3, seed=1, dtype=torch.float64)
    return net, torch.randn(7, 5, generator=g, dtype=torch.float64), torch.randn(4, 5, generator=g, dtype=torch.float64)


@pytest.mark.parametrize("method", ["jacobian", "ntk_vp"])
def test_full_kernel_matches_per_sample_loop(small, method):
    net, a, b = small
    ref = _loop_ntk(net, a, b)
    got = empirical_ntk(net, a, b, method=method, chunk=3)
    assert got.shape == (7, 4, 3, 3)
    torch.testing.assert_close(got, ref, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("method", ["jacobian", "ntk_vp"])
def test_trace_and_diagonal_forms_agree_with_full(small, method):
    net, a, b = small
    full = empirical_ntk(net, a, b, method=method)
    diag = empirical_ntk(net, a, b, method=method, form="diagonal")
    trace = empirical_ntk(net, a, b, method=method, form="trace")
    torch.testing.assert_close(diag, full.diagonal(dim1=2, dim2=3), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(trace, full.diagonal(dim1=2, dim2=3).sum(-1), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("form", ["full", "trace", "diagonal"])
def test_symmetric_call_fills_both_halves(small, form):
    net, a, _ = small
    sym = empirical_ntk(net, a, form=form, chunk=2)  # block-triangular, mirrored
    both = empirical_ntk(net, a, a, form=form, chunk=2)
    torch.testing.assert_close(sym, both, rtol=1e-12, atol=1e-12)


def test_frozen_parameters_and_named_subsets(small):
    net, a, _ = small
    last = net[-1]
    full = empirical_ntk(net, a, form="trace")
    only_last = empirical_ntk(net, a, form="trace", params=["4.weight", "4.bias"])
    for p in last.parameters():
        p.requires_grad_(False)
    try:
        frozen = empirical_ntk(net, a, form="trace")
    finally:
        for p in last.parameters():
            p.requires_grad_(True)
    torch.testing.assert_close(frozen + only_last, full, rtol=1e-10, atol=1e-10)
    with pytest.raises(NTKError, match="no parameter"):
        empirical_ntk(net, a, params=["nope"])


def test_eval_mode_batchnorm_and_refusal_of_batch_statistics():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(6, 4, generator=g, dtype=torch.float64)
    net = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2)).double()
    net.train()
    with torch.no_grad():
        net(torch.randn(32, 4, generator=g, dtype=torch.float64))  # moves the running statistics
    k = empirical_ntk(net, X, form="trace")
    assert net.training  # restored
    net.eval()
    torch.testing.assert_close(k, _loop_ntk(net, X, X).diagonal(dim1=2, dim2=3).sum(-1), rtol=1e-10, atol=1e-10)
    with pytest.raises(NTKError, match="batch statistics"):
        empirical_ntk(normalized_mlp(4, [8], 2), X)


def test_closed_form_two_layer_equals_the_recursion():
    X = np.random.default_rng(0).standard_normal((9, 5))
    d = X.shape[1]
    rec = relu_kernels(X, depth=1, weight_std=1.0, first_weight_std=math.sqrt(d)).ntk
    np.testing.assert_allclose(rec, relu_ntk_two_layer(X), rtol=1e-7, atol=1e-7)
    # Arora et al.'s c_σ = 2 net, depth 1: Θ = (x·x')(π−θ)/π + ‖x‖‖x'‖(sin θ + (π−θ)cos θ)/π = 2 × the above
    arora = relu_kernels(X, depth=1, weight_std=math.sqrt(2), first_weight_std=math.sqrt(d)).ntk
    np.testing.assert_allclose(arora, 2 * relu_ntk_two_layer(X), rtol=1e-7, atol=1e-7)


def test_recursion_keeps_the_diagonal_under_he_scaling():
    X = np.random.default_rng(1).standard_normal((4, 6))
    X *= math.sqrt(6) / np.linalg.norm(X, axis=1, keepdims=True)
    k = relu_kernels(X, depth=3, weight_std=math.sqrt(2))
    np.testing.assert_allclose(np.diag(k.nngp), 2.0, rtol=1e-12)  # σ_w² = 2 preserves E[z²] = 2
    np.testing.assert_allclose(np.diag(k.ntk), 2.0 * 4, rtol=1e-12)  # (L + 1) layers × 2


@pytest.mark.parametrize(("depth", "width", "tol"), [(1, 4096, 0.09), (2, 512, 0.25)])
def test_analytic_ntk_matches_monte_carlo_at_large_width(depth, width, tol):
    """Relative Frobenius error, mean over 3 nets: CLT size ≈ 2·√(L/m) (0.03 and 0.09 here); tol ≈ 3×."""
    d = 6
    X = np.random.default_rng(2).standard_normal((8, d))
    X *= math.sqrt(d) / np.linalg.norm(X, axis=1, keepdims=True)
    exact = relu_kernels(X, depth=depth, weight_std=math.sqrt(2), bias_std=0.2).ntk
    errs = []
    for seed in range(3):
        net = ntk_mlp(d, [width] * depth, 1, weight_std=math.sqrt(2), bias_std=0.2, seed=seed)
        emp = empirical_ntk(net, torch.as_tensor(X), form="trace").numpy()
        errs.append(np.linalg.norm(emp - exact) / np.linalg.norm(exact))
    assert np.mean(errs) < tol


def test_kernel_regression_limits_and_gradient_flow():
    rng = np.random.default_rng(3)
    A = rng.standard_normal((12, 5))
    K = A @ A.T + 0.5 * np.eye(12)  # a positive definite kernel
    y = rng.standard_normal(12)
    Kx = rng.standard_normal((3, 12))
    direct = Kx @ np.linalg.solve(K, y)
    np.testing.assert_allclose(kernel_regression(K, y, Kx), direct, rtol=1e-9)
    np.testing.assert_allclose(kernel_regression(K, y, Kx, time=1e9), direct, rtol=1e-6)
    np.testing.assert_allclose(kernel_regression(K, y, Kx, time=0.0), 0.0, atol=1e-15)
    # gradient descent of the linear model f = Jθ with Θ = JJᵀ, small steps: agrees with the flow
    J = rng.standard_normal((12, 30)) / 3
    Jx = rng.standard_normal((3, 30)) / 3
    theta = np.zeros(30)
    lr, steps = 1e-3, 4000
    for _ in range(steps):
        theta -= lr * J.T @ (J @ theta - y) / 12  # ∇ of ½·mean squared error
    flow = kernel_regression(J @ J.T, y, Jx @ J.T, time=lr * steps)
    np.testing.assert_allclose(Jx @ theta, flow, rtol=2e-3, atol=2e-3)
