"""Box, in-range fraction, MVEE and kNN distance against exact formulas and small references."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize

from theorylab.geometry import (
    GeometryError,
    MinVolumeEllipsoid,
    box_probability,
    in_box,
    in_range_fraction,
    knn_distance,
    mvee,
)


def test_box_formula_values() -> None:
    assert float(box_probability(60_000, 784)) == pytest.approx(0.974, abs=5e-4)
    assert float(box_probability(50_000, 3072)) == pytest.approx(0.884, abs=5e-4)
    assert float(box_probability(9, 1)) == pytest.approx(0.8)


def test_box_formula_monte_carlo() -> None:
    # exchangeability: per coordinate P(in range) = (N−1)/(N+1) for any continuous law;
    # independent coordinates: P(in box) = ((N−1)/(N+1))^d
    rng = np.random.default_rng(0)
    n, d, reps = 9, 3, 4000
    frac, box = np.empty(reps), np.empty(reps)
    for r in range(reps):
        P = rng.exponential(size=(n + 1, d))  # skewed on purpose: the result is distribution-free
        frac[r] = in_range_fraction(P[:n], P[n:])[0]
        box[r] = in_box(P[:n], P[n:])[0]
    p1, pd = 0.8, 0.8**3
    assert abs(frac.mean() - p1) < 4 * np.sqrt(p1 * (1 - p1) / (reps * d)) * 1.8  # ≤ 1.8× for within-row correlation
    assert abs(box.mean() - pd) < 4 * np.sqrt(pd * (1 - pd) / reps)


def test_in_box_and_fraction_basics() -> None:
    X = np.array([[0.0, 0.0], [1.0, 2.0]])
    Q = np.array([[0.5, 1.0], [0.5, 3.0], [-1.0, 3.0]])
    assert in_box(X, Q).tolist() == [True, False, False]
    np.testing.assert_allclose(in_range_fraction(X, Q), [1.0, 0.5, 0.0])
    with pytest.raises(GeometryError):
        in_box(X, np.zeros((1, 3)))


def test_mvee_of_cube_vertices_is_the_circumscribed_ball() -> None:
    for d in (2, 3, 5):
        V = np.array(np.meshgrid(*[[-1.0, 1.0]] * d)).reshape(d, -1).T
        e = MinVolumeEllipsoid(tol=1e-9).fit(V)
        np.testing.assert_allclose(e.shape_, np.eye(d) / d, atol=1e-7)
        np.testing.assert_allclose(e.center_, 0.0, atol=1e-8)


def test_mvee_matches_log_det_dual_reference() -> None:
    # The D-optimal design dual: maximise log det Σ u_i q_i q_iᵀ over the simplex, q_i = (x_i, 1).
    rng = np.random.default_rng(1)
    for n, d in ((12, 2), (15, 3)):
        Z = rng.standard_normal((n, d))
        L = np.hstack([Z, np.ones((n, 1))])
        obj = lambda u, L=L: -np.linalg.slogdet((L * u[:, None]).T @ L)[1]  # noqa: E731
        ref = minimize(obj, np.full(n, 1 / n), method="SLSQP", bounds=[(0, 1)] * n,
                       constraints=[{"type": "eq", "fun": lambda u: u.sum() - 1}],
                       options={"ftol": 1e-15, "maxiter": 2000})
        c, A, u, gap, _ = mvee(Z, tol=1e-10)
        assert gap <= 1e-10
        assert obj(u) == pytest.approx(ref.fun, abs=1e-7)
        # KKT of the dual: ω_i ≤ n+1 everywhere, = n+1 on the support (Todd 2016, Thm 2.2)
        omega = np.einsum("ij,jk,ik->i", L, np.linalg.inv((L * u[:, None]).T @ L), L)
        assert omega.max() <= (d + 1) * (1 + 1e-9)
        np.testing.assert_allclose(omega[u > 1e-6], d + 1, rtol=1e-6)
        D = Z - c
        assert np.einsum("ij,jk,ik->i", D, A, D).max() <= 1 + 1e-12


def test_mvee_encloses_and_handles_degenerate_data() -> None:
    rng = np.random.default_rng(2)
    B = rng.standard_normal((2, 4))
    X = rng.standard_normal((200, 2)) @ B + 3.0  # a plane in R^4
    e = MinVolumeEllipsoid(tol=1e-7).fit(X)
    assert e.basis_.shape == (4, 2) and e.converged_
    assert e.contains(X).all()
    assert not e.contains(X[:5] + 1e-3 * rng.standard_normal((5, 4))).any()  # off the plane
    far = e.center_ + 10 * (X[0] - e.center_)
    assert not e.contains(far[None])[0]
    with pytest.raises(GeometryError, match="not fitted"):
        MinVolumeEllipsoid().contains(X)


def test_knn_distance_against_brute_force() -> None:
    rng = np.random.default_rng(3)
    X, Q = rng.standard_normal((50, 4)), rng.standard_normal((7, 4))
    D = np.linalg.norm(Q[:, None] - X[None], axis=2)
    np.testing.assert_allclose(knn_distance(X, Q, k=3), np.sort(D, axis=1)[:, 2])
    np.testing.assert_allclose(knn_distance(X, Q, k=3, reduce="mean"), np.sort(D, axis=1)[:, :3].mean(1))
    DX = np.linalg.norm(X[:, None] - X[None], axis=2) + np.diag(np.full(50, np.inf))
    np.testing.assert_allclose(knn_distance(X, X, k=1, exclude_self=True), DX.min(1))
    with pytest.raises(GeometryError):
        knn_distance(X, Q, k=51)
