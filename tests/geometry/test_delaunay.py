"""Delaunay simplices from the lifted LP against qhull; exact reproduction of affine functions."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial import Delaunay

from theorylab.geometry import GeometryError, delaunay_interpolate, delaunay_simplex, in_hull


@pytest.mark.parametrize("d", [2, 3, 4, 5, 6])
def test_simplex_equals_qhull(d: int) -> None:
    rng = np.random.default_rng(10 + d)
    # general position: the triangulation is unique; small sizes keep qhull's share short
    X = rng.standard_normal((25 * d if d <= 4 else 40, d))
    Q = 0.5 * rng.standard_normal((40 if d <= 4 else 20, d))
    tri = Delaunay(X)
    s = tri.find_simplex(Q, bruteforce=True)
    res = delaunay_simplex(X, Q)
    for i in range(len(Q)):
        if s[i] >= 0:
            assert res.inside[i]
            assert set(res.support[i].tolist()) == set(tri.simplices[s[i]].tolist())
            bary = tri.transform[s[i], :d] @ (Q[i] - tri.transform[s[i], d])
            bary = np.append(bary, 1 - bary.sum())
            got = dict(zip(res.support[i].tolist(), res.weights[i], strict=True))
            want = dict(zip(tri.simplices[s[i]].tolist(), bary, strict=True))
            for k, v in want.items():
                assert got.get(k, 0.0) == pytest.approx(v, abs=1e-9)
        else:
            assert not res.inside[i]


@pytest.mark.parametrize("d", [3, 12])
def test_affine_functions_are_reproduced_exactly(d: int) -> None:
    rng = np.random.default_rng(d)
    X = rng.random((300, d))
    a, b = rng.standard_normal(d), 0.7
    Q = rng.random((30, d))
    y = delaunay_interpolate(X, X @ a + b, Q)
    res = delaunay_simplex(X, Q)
    hull = in_hull(X, Q)
    # inside: the interpolant at q; outside: at q's projection onto the hull
    P = np.where(hull.inside[:, None], Q, hull.nearest_points(X))
    np.testing.assert_allclose(y, P @ a + b, atol=1e-9)
    for s, w in zip(res.support, res.weights, strict=True):
        assert np.all(w >= 0) and abs(w.sum() - 1) < 1e-12 and len(s) <= d + 1


def test_vector_values_and_errors() -> None:
    rng = np.random.default_rng(0)
    X = rng.random((40, 2))
    Y = np.stack([X[:, 0], 2 * X[:, 1]], axis=1)
    out = delaunay_interpolate(X, Y, np.array([[0.5, 0.5]]))
    assert out.shape == (1, 2)
    with pytest.raises(GeometryError):
        delaunay_interpolate(X, np.ones(3), X[:2])
    with pytest.raises(GeometryError):
        delaunay_interpolate(X, np.full(40, np.nan), X[:2])
