"""Spectral helpers against matrices with known spectra and the end-to-end formula against
gradient descent on the factors (Arora, Cohen & Hazan 2018, Theorem 1)."""

from __future__ import annotations

import numpy as np
import pytest

from theorylab.arrays import ArrayError
from theorylab.geometry.spectra import (
    balanced_factors,
    effective_rank,
    end_to_end_direction,
    product,
    psd_power,
    spectral_entropy,
    stable_rank,
)


def _with_spectrum(s, n=7, m=5, seed=0):
    rng = np.random.default_rng(seed)
    U, _ = np.linalg.qr(rng.standard_normal((n, n)))
    V, _ = np.linalg.qr(rng.standard_normal((m, m)))
    S = np.zeros((n, m))
    S[: len(s), : len(s)] = np.diag(s)
    return U @ S @ V.T


@pytest.mark.parametrize("r", [1, 2, 3, 5])
def test_effective_rank_of_r_equal_singular_values_is_r(r):
    W = _with_spectrum([2.5] * r + [0.0] * (5 - r))
    assert effective_rank(W) == pytest.approx(r, rel=1e-10)


def test_effective_rank_known_spectrum_and_bounds():
    s = np.array([4.0, 2.0, 1.0, 1.0])
    p = s / s.sum()
    expected = float(np.exp(-(p * np.log(p)).sum()))
    W = _with_spectrum(s)
    assert effective_rank(W) == pytest.approx(expected, rel=1e-10)
    assert effective_rank(s, spectrum=True) == pytest.approx(expected, rel=1e-12)
    assert 1.0 <= effective_rank(W) <= 4.0
    assert spectral_entropy(W) == pytest.approx(np.log(expected), rel=1e-10)
    # scale-free: only the normalized spectrum counts
    assert effective_rank(1e-6 * W) == pytest.approx(expected, rel=1e-9)
    assert stable_rank(W) == pytest.approx((s**2).sum() / 16.0, rel=1e-10)
    assert effective_rank(np.zeros((3, 3))) == 1.0


def test_effective_rank_refuses_bad_input():
    with pytest.raises(ArrayError):
        effective_rank(np.ones(3))
    with pytest.raises(ArrayError):
        effective_rank(np.array([[1.0, np.nan]]))
    with pytest.raises(ArrayError):
        effective_rank([1.0, -1.0], spectrum=True)


def test_psd_power_matches_eigendecomposition_and_identity_at_zero():
    rng = np.random.default_rng(1)
    A = rng.standard_normal((4, 2))
    S = A @ A.T  # rank 2, PSD
    half = psd_power(S, 0.5)
    np.testing.assert_allclose(half @ half, S, atol=1e-12)
    np.testing.assert_allclose(psd_power(S, 0.0), np.eye(4))
    np.testing.assert_allclose(psd_power(S, 1.0), S, atol=1e-12)
    batch = np.stack([S, 2 * S])
    np.testing.assert_allclose(psd_power(batch, 0.5)[1], np.sqrt(2) * half, atol=1e-12)


def test_balanced_factors_multiply_to_w_and_are_balanced():
    rng = np.random.default_rng(2)
    W = rng.standard_normal((3, 5))
    for depth in (1, 2, 3, 4):
        F = balanced_factors(W, depth, rng)
        np.testing.assert_allclose(product(F), W, atol=1e-12)
        for j in range(depth - 1):
            np.testing.assert_allclose(F[j + 1].T @ F[j + 1], F[j] @ F[j].T, atol=1e-12)
    with pytest.raises(ValueError):
        balanced_factors(W, 3, rng, width=2)


def test_end_to_end_direction_is_the_first_order_change_of_the_product():
    """One small GD step on balanced factors moves W = W_N⋯W_1 by −η·(formula) + O(η²)."""
    rng = np.random.default_rng(3)
    k, d, depth = 3, 4, 3
    X = rng.standard_normal((d, 20))
    Y = rng.standard_normal((k, 20))
    W = 0.5 * rng.standard_normal((k, d))
    F = balanced_factors(W, depth, rng)

    def grad(M):
        return (M @ X - Y) @ X.T / 20

    G = grad(W)
    predicted = end_to_end_direction(W, G, depth)
    for eta in (1e-3, 1e-4):
        stepped = []
        for j in range(depth):
            left = product(F[j + 1 :]) if j < depth - 1 else np.eye(k)
            right = product(F[:j]) if j > 0 else np.eye(d)
            stepped.append(F[j] - eta * left.T @ G @ right.T)
        moved = (W - product(stepped)) / eta
        # the O(η) remainder shrinks tenfold with η
        assert np.linalg.norm(moved - predicted) / np.linalg.norm(predicted) < 50 * eta
    # depth 1 is plain gradient descent; the formula is not plain GD for depth > 1
    np.testing.assert_allclose(end_to_end_direction(W, G, 1), G)
    assert np.linalg.norm(predicted - G) > 0.1 * np.linalg.norm(G)


def test_end_to_end_flow_tracks_factor_gradient_descent_on_a_tiny_case():
    """Small-LR GD on balanced factors follows the preconditioned flow over many steps."""
    rng = np.random.default_rng(4)
    k, d, depth, n = 2, 3, 3, 15
    X = rng.standard_normal((d, n))
    Y = np.diag([2.0, 0.7]) @ rng.standard_normal((k, d)) @ X

    def grad(M):
        return (M @ X - Y) @ X.T / n

    W0 = 0.3 * rng.standard_normal((k, d))
    F = balanced_factors(W0, depth, rng)
    E, G = W0.copy(), W0.copy()
    eta = 2e-3
    worst_e2e, worst_gd = 0.0, 0.0
    for _ in range(3000):
        P = product(F)
        g = grad(P)
        F = [F[j] - eta * (product(F[j + 1 :]) if j < depth - 1 else np.eye(k)).T @ g
             @ (product(F[:j]) if j > 0 else np.eye(d)).T for j in range(depth)]
        E = E - eta * end_to_end_direction(E, grad(E), depth)
        G = G - eta * grad(G)
        P = product(F)
        worst_e2e = max(worst_e2e, np.linalg.norm(P - E))
        worst_gd = max(worst_gd, np.linalg.norm(P - G))
    scale = np.linalg.norm(E)
    assert worst_e2e / scale < 0.01
    assert worst_gd / scale > 0.1
