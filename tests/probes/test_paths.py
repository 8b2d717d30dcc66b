"""The straight-path probe: endpoints reproduce the endpoint models, BatchNorm statistics are
recomputed at every point, and the barrier is what Frankle et al. (2020) define."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from theorylab.probes.paths import (
    PathError,
    barrier,
    convexity_gap,
    evaluate,
    interpolate_states,
    linear_path,
    recompute_batchnorm,
)


def _bn_net(seed: int) -> nn.Sequential:
    g = torch.Generator().manual_seed(seed)
    net = nn.Sequential(nn.Linear(5, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3)).double()
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=g, dtype=p.dtype))
    return net


def _data(seed: int = 0, n: int = 64):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 5)), rng.integers(0, 3, n)


def _trained_bn_stats(net: nn.Module, X: np.ndarray, shift: float) -> None:
    """Give the endpoint stored BatchNorm statistics that differ from those of any path point."""
    net.train()
    with torch.no_grad():
        for _ in range(3):
            net(torch.as_tensor(X + shift))
    net.eval()


def test_barrier_and_convexity_gap():
    assert barrier([0.1, 0.5, 0.3]) == pytest.approx(0.3)
    assert barrier([0.2, 0.1, 0.2]) == pytest.approx(0.0)  # never below 0: the max includes the ends
    a = np.linspace(0, 1, 3)
    assert convexity_gap(a, np.array([1.0, 1.0, 0.0])) == pytest.approx(0.5)
    with pytest.raises(PathError):
        barrier([0.1])


def test_interpolation_endpoints_and_midpoint():
    a, b = _bn_net(0), _bn_net(1)
    s0, s1 = interpolate_states(a, b, 0.0), interpolate_states(a, b, 1.0)
    for k, v in a.state_dict().items():
        assert torch.equal(s0[k], v)
        if torch.is_floating_point(v):
            assert torch.allclose(s1[k], b.state_dict()[k])
    mid = interpolate_states(a, b, 0.5)
    w = "0.weight"
    assert torch.allclose(mid[w], 0.5 * (a.state_dict()[w] + b.state_dict()[w]))
    # integer buffers are not interpolated
    assert mid["1.num_batches_tracked"].dtype == torch.long


def test_path_without_bn_recompute_equals_endpoint_losses_at_0_and_1():
    X, y = _data()
    a, b = _bn_net(0), _bn_net(1)
    _trained_bn_stats(a, X, 0.3)
    _trained_bn_stats(b, X, -0.2)
    res = linear_path(a, a, b, X, y, alphas=5)
    la, ea = evaluate(a, X, y)
    lb, eb = evaluate(b, X, y)
    assert res.loss[0] == pytest.approx(la, abs=1e-12) and res.error[0] == pytest.approx(ea)
    assert res.loss[-1] == pytest.approx(lb, abs=1e-12) and res.error[-1] == pytest.approx(eb)
    assert not res.bn_recomputed
    assert res.error_barrier >= 0
    assert res.at(0.5)[0] == pytest.approx(res.loss[2])


def test_path_with_bn_recompute_equals_endpoints_after_their_own_recompute():
    X, y = _data()
    Xbn, _ = _data(1, n=200)
    a, b = _bn_net(0), _bn_net(1)
    _trained_bn_stats(a, X, 0.3)
    _trained_bn_stats(b, X, -0.2)
    res = linear_path(a, a, b, X, y, alphas=3, bn_data=Xbn)
    assert res.bn_recomputed
    # stored statistics differ from the recomputed ones, so the endpoint losses change ...
    assert abs(res.loss[0] - evaluate(a, X, y)[0]) > 1e-6
    # ... and equal the endpoint's own loss once its statistics are recomputed on the same data
    for net, i in ((a, 0), (b, -1)):
        recompute_batchnorm(net, Xbn)
        assert res.loss[i] == pytest.approx(evaluate(net, X, y)[0], abs=1e-12)


def test_recompute_batchnorm_gives_the_data_statistics_and_restores_the_model():
    Xbn, _ = _data(2, n=100)
    net = _bn_net(3)
    net.eval()
    bn = net[1]
    bn.momentum = 0.1
    assert recompute_batchnorm(net, Xbn) == 1
    with torch.no_grad():
        pre = net[0](torch.as_tensor(Xbn))
    np.testing.assert_allclose(bn.running_mean.numpy(), pre.mean(0).numpy(), atol=1e-12)
    np.testing.assert_allclose(bn.running_var.numpy(), pre.var(0, unbiased=True).numpy(), atol=1e-12)
    assert bn.momentum == 0.1 and not net.training
    # a model without BatchNorm is left alone
    plain = nn.Sequential(nn.Linear(5, 2)).double()
    assert recompute_batchnorm(plain, Xbn) == 0


def test_path_rejects_mismatched_endpoints_and_bad_grids():
    X, y = _data()
    a = _bn_net(0)
    other = nn.Sequential(nn.Linear(5, 3)).double()
    with pytest.raises(PathError):
        linear_path(a, a, other, X, y)
    with pytest.raises(PathError):
        linear_path(a, a, a, X, y, alphas=1)
