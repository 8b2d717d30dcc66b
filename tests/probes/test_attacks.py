"""PGD robust accuracy (torchattacks) against the exact robustness of linear classifiers.

For a two-class linear model with logit difference g(x) = (w0 − w1)·x + (b0 − b1), a correctly
classified point is robust at radius ε iff its distance to the boundary exceeds ε: |g(x)|/‖w0 − w1‖₂
in L2, |g(x)|/‖w0 − w1‖₁ in L∞ (dual norm). Points within 5% of ε of the boundary are left
out (PGD's finite step count); the box [0, 1] never binds (points near 0.5, ε small).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from theorylab.probes.attacks import AttackError, pgd_attack, robust_accuracy


def _linear_problem(d: int = 6, n: int = 400, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    lin = nn.Linear(d, 2).double()
    with torch.no_grad():
        lin.weight.copy_(torch.randn(2, d, generator=g, dtype=torch.float64))
        lin.bias.zero_()
        lin.bias[0] = -float(lin.weight[0].sum() - lin.weight[1].sum()) * 0.5  # boundary through the centre
    X = 0.5 + 0.08 * torch.randn(n, d, generator=g, dtype=torch.float64)
    with torch.no_grad():
        y = lin(X).argmax(1)
    return nn.Sequential(lin), X, y


@pytest.mark.parametrize("norm, eps", [("L2", 0.05), ("Linf", 0.02)])
def test_pgd_matches_exact_linear_robustness(norm, eps):
    model, X, y = _linear_problem()
    w = model[0].weight.detach()
    b = model[0].bias.detach()
    gx = X @ (w[0] - w[1]) + (b[0] - b[1])
    dual = torch.linalg.vector_norm(w[0] - w[1], ord=2 if norm == "L2" else 1)
    dist = gx.abs() / dual
    keep = (dist - eps).abs() > 0.05 * eps
    res = robust_accuracy(model, X, y, norm=norm, eps=eps, steps=50, seed=0)
    assert res.clean == 1.0
    exact = (dist > eps)[keep].numpy()
    np.testing.assert_array_equal(res.correct[keep.numpy()], exact)
    assert 0.05 < exact.mean() < 0.95  # the test is not trivial


def test_eps_zero_is_clean_accuracy_and_adv_stays_in_ball():
    model, X, y = _linear_problem()
    res = robust_accuracy(model, X, y, norm="Linf", eps=0.0, steps=3)
    assert res.robust == res.clean
    adv = pgd_attack(model, X[:20], y[:20], norm="Linf", eps=0.03, steps=5, seed=1)
    assert float((adv - X[:20]).abs().max()) <= 0.03 + 1e-12
    adv2 = pgd_attack(model, X[:20], y[:20], norm="L2", eps=0.1, steps=5, seed=1)
    assert float((adv2 - X[:20]).norm(dim=1).max()) <= 0.1 + 1e-9


def test_deterministic_and_global_rng_untouched():
    model, X, y = _linear_problem(n=50)
    state = torch.get_rng_state()
    a = pgd_attack(model, X, y, norm="L2", eps=0.05, steps=5, seed=3)
    assert torch.equal(state, torch.get_rng_state())
    b = pgd_attack(model, X, y, norm="L2", eps=0.05, steps=5, seed=3)
    assert torch.equal(a, b)


def test_image_layout_and_restarts():
    from theorylab.models import cnn2d

    model = cnn2d(8, 10, seed=0).double()
    X = torch.rand(16, 1, 8, 8, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    y = torch.arange(16) % 10
    res = robust_accuracy(model, X, y, norm="L2", eps=0.5, steps=5, restarts=2)
    assert res.correct.shape == (16,) and res.robust <= res.clean


def test_validation_errors():
    model, X, y = _linear_problem(n=10)
    with pytest.raises(AttackError, match=r"\[0, 1\]"):
        robust_accuracy(model, X * 3, y, eps=0.1)
    with pytest.raises(AttackError, match="integer labels"):
        robust_accuracy(model, X, y.double(), eps=0.1)
    with pytest.raises(AttackError, match="labels must lie"):
        robust_accuracy(model, X, y + 5, eps=0.1)
    with pytest.raises(AttackError, match="unknown norm"):
        robust_accuracy(model, X, y, norm="L1", eps=0.1)  # type: ignore[arg-type]
    with pytest.raises(AttackError, match="eps"):
        robust_accuracy(model, X, y, eps=-1.0)
    with pytest.raises(AttackError, match="logits"):
        robust_accuracy(nn.Sequential(nn.Linear(6, 2), nn.Flatten(0)).double(), X, y, eps=0.1)
    with pytest.raises(AttackError, match="no parameters"):
        robust_accuracy(nn.Sequential(nn.Flatten()), X, y, eps=0.1)
