"""Hull membership against independent oracles: qhull, the HiGHS LP, shapely, Wendel, Efron.

Every result's certificates are re-checked here from the raw arrays (not by the library).
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from scipy.optimize import minimize
from scipy.spatial import ConvexHull, Delaunay

from theorylab.geometry import GeometryError, affine_dimension, extreme_points, in_hull, in_hull_lp
from theorylab.geometry.oracles import wendel_outside


def assert_certificates(X: np.ndarray, Q: np.ndarray, res) -> None:
    """Independent check: convex weights reproduce q; hyperplanes separate q from every x_i."""
    assert res.certified.all()
    for i in range(len(Q)):
        if res.inside[i]:
            S, w = res.support[i], res.weights[i]
            assert np.all(w >= 0) and abs(w.sum() - 1) < 1e-12
            assert np.linalg.norm(w @ X[S] - Q[i]) <= res.tol
            assert res.distance[i] == 0.0
        else:
            a, b = res.normal[i], res.offset[i]
            assert abs(np.linalg.norm(a) - 1) < 1e-12
            assert np.max(X @ a) <= b + 1e-12 * (1 + abs(b))
            assert Q[i] @ a - b > res.tol
            assert res.distance_lower[i] > res.tol


@pytest.mark.parametrize("d", [2, 3, 4, 5, 6])
def test_matches_qhull_find_simplex(d: int) -> None:
    rng = np.random.default_rng(d)
    # qhull's Delaunay (and find_simplex) grow fast with d: keep the oracle's share small
    X = rng.standard_normal((30 * d if d <= 4 else 45, d))
    Q = rng.standard_normal((150 if d <= 4 else 50, d)) * (1.2 if d <= 3 else 0.7)
    res = in_hull(X, Q)
    truth = Delaunay(X).find_simplex(Q, bruteforce=True) >= 0
    np.testing.assert_array_equal(res.inside, truth)
    assert 0 < truth.sum() < len(Q)
    # a second qhull oracle: the facet inequalities of the convex hull
    eq = ConvexHull(X).equations
    np.testing.assert_array_equal(res.inside, (Q @ eq[:, :d].T + eq[:, d]).max(axis=1) <= 1e-12)
    assert_certificates(X, Q, res)


def test_matches_lp_on_degenerate_data() -> None:
    rng = np.random.default_rng(0)
    B = rng.standard_normal((3, 7))
    X = rng.standard_normal((200, 3)) @ B + 2.0  # a 3-dim affine subspace of R^7
    on = 0.8 * rng.standard_normal((60, 3)) @ B + 2.0
    off = on[:30] + 1e-5 * rng.standard_normal((30, 7))  # just off the subspace
    Q = np.vstack([on, off, X[:10]])  # the training points themselves are inside
    res = in_hull(X, Q)
    np.testing.assert_array_equal(res.inside, in_hull_lp(X, Q))
    assert res.inside[60:90].sum() == 0 and res.inside[90:].all()
    assert 0 < res.inside[:60].sum() < 60
    assert_certificates(X, Q, res)
    assert affine_dimension(X) == 3


def test_boundary_and_near_boundary_queries() -> None:
    rng = np.random.default_rng(1)
    d = 4
    X = rng.standard_normal((60, d))
    hull = ConvexHull(X)
    facets = hull.simplices[:40]
    w = rng.dirichlet(np.ones(d), size=len(facets))
    on = np.einsum("fk,fkd->fd", w, X[facets])  # on facets: inside (boundary included)
    normals = hull.equations[:40, :d]
    for Q, expect in ((on, True), (on + 1e-6 * normals, False), (on - 1e-6 * normals, True), (X, True)):
        res = in_hull(X, Q)
        assert (res.inside == expect).all()
        np.testing.assert_array_equal(res.inside, in_hull_lp(X, Q))
        assert_certificates(X, Q, res)
    # pushed out by 1e-6 along the unit facet normal: the distance is 1e-6 exactly
    res = in_hull(X, on + 1e-6 * normals)
    np.testing.assert_allclose(res.distance, 1e-6, rtol=1e-6)


def test_distance_matches_shapely_in_2d() -> None:
    rng = np.random.default_rng(2)
    X = rng.standard_normal((40, 2))
    Q = 2.0 * rng.standard_normal((200, 2))
    poly = shapely.Polygon(X[ConvexHull(X).vertices])
    truth = np.array([poly.distance(shapely.Point(q)) for q in Q])
    res = in_hull(X, Q)
    np.testing.assert_allclose(res.distance, truth, atol=1e-12)
    near = res.nearest_points(X)
    np.testing.assert_allclose(np.linalg.norm(near - Q, axis=1), truth, atol=1e-12)


def test_distance_matches_a_qp_solver_in_5d() -> None:
    rng = np.random.default_rng(3)
    X = rng.standard_normal((15, 5))
    Q = 1.5 * rng.standard_normal((4, 5))
    res = in_hull(X, Q)
    for q, dist in zip(Q, res.distance, strict=True):
        obj = lambda lam, q=q: float(np.sum((lam @ X - q) ** 2))  # noqa: E731
        best = minimize(obj, np.full(15, 1 / 15), method="SLSQP", bounds=[(0, 1)] * 15,
                        constraints=[{"type": "eq", "fun": lambda lam: lam.sum() - 1}],
                        options={"ftol": 1e-15, "maxiter": 2000})
        assert abs(np.sqrt(best.fun) - dist) < 1e-5


def test_gaussian_high_dimension_agrees_with_lp() -> None:
    rng = np.random.default_rng(4)
    X = rng.standard_normal((600, 12))
    Q = np.vstack([rng.standard_normal((30, 12)), 0.4 * rng.standard_normal((30, 12))])
    res = in_hull(X, Q)
    np.testing.assert_array_equal(res.inside, in_hull_lp(X, Q))
    assert 0 < res.inside.sum() < len(Q)
    assert_certificates(X, Q, res)


def test_caratheodory_support() -> None:
    rng = np.random.default_rng(5)
    X = rng.standard_normal((300, 6))
    res = in_hull(X, 0.3 * rng.standard_normal((40, 6)))
    sizes = [len(s) for s, ins in zip(res.support, res.inside, strict=True) if ins]
    assert sizes and max(sizes) <= 7


def test_wendel_formula_exact_values_and_monte_carlo() -> None:
    assert wendel_outside(20, 10) == pytest.approx(0.5, abs=1e-12)
    assert wendel_outside(120, 50) == pytest.approx(0.0331, abs=5e-5)
    assert wendel_outside(3, 5) == 1.0  # fewer points than dimensions: never covered
    rng = np.random.default_rng(6)
    trials, d, n = 400, 6, 14
    out = sum(not in_hull(rng.standard_normal((n, d)), np.zeros((1, d)), distance=False).inside[0]
              for _ in range(trials))
    p = wendel_outside(n, d)
    se = np.sqrt(p * (1 - p) / trials)
    assert abs(out / trials - p) < 4 * se


def test_efron_identity_and_vertices() -> None:
    rng = np.random.default_rng(7)
    for d in (2, 3, 4):
        X = rng.standard_normal((70, d))
        truth = np.zeros(70, bool)
        truth[ConvexHull(X).vertices] = True
        np.testing.assert_array_equal(extreme_points(X), truth)
    # Efron: P(X_{N+1} ∉ conv X_1..X_N) = E[f0(conv X_1..X_{N+1})] / (N + 1)
    d, n, reps = 3, 30, 150
    f0 = np.mean([extreme_points(rng.standard_normal((n + 1, d))).sum() for _ in range(reps)])
    outside = np.mean([~in_hull(P[:n], P[n:], distance=False).inside
                       for P in (rng.standard_normal((n + 20, d)) for _ in range(reps))])
    assert abs(f0 / (n + 1) - outside) < 0.04  # two MC estimates, SE ≈ 0.012 combined


def test_exclude_equals_removing_the_point() -> None:
    rng = np.random.default_rng(8)
    X = rng.standard_normal((50, 3))
    res = in_hull(X, X, exclude=np.arange(50), distance=False)
    for i in range(0, 50, 7):
        assert res.inside[i] == in_hull(np.delete(X, i, axis=0), X[i : i + 1]).inside[0]


def test_small_and_odd_inputs() -> None:
    X = np.array([[1.0, 2.0]])
    r = in_hull(X, np.array([[1.0, 2.0], [1.0, 2.1]]))
    assert r.inside.tolist() == [True, False]
    assert r.distance[1] == pytest.approx(0.1)
    dup = np.array([[0.0, 0.0], [0.0, 0.0], [1.0, 1.0]])
    assert in_hull(dup, np.array([[0.5, 0.5], [0.5, 0.4]])).inside.tolist() == [True, False]
    assert len(in_hull(dup, np.zeros((0, 2)))) == 0
    r = in_hull(np.random.default_rng(0).standard_normal((30, 3)), 5 * np.ones((2, 3)), distance=False)
    assert np.isnan(r.distance).all() and (r.distance_lower > 0).all()


@pytest.mark.parametrize(
    ("X", "Q", "match"),
    [
        (np.array([[np.nan, 0.0]]), np.zeros((1, 2)), "NaN"),
        (np.zeros((3, 2)), np.zeros((1, 3)), "coordinates"),
        (np.zeros((0, 2)), np.zeros((1, 2)), "empty"),
        (np.zeros(4), np.zeros((1, 2)), "2-D"),
    ],
)
def test_bad_input_is_named(X: np.ndarray, Q: np.ndarray, match: str) -> None:
    with pytest.raises(GeometryError, match=match):
        in_hull(X, Q)
