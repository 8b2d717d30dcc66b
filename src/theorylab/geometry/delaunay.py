"""Delaunay (simplex) interpolation in moderate dimension without building the triangulation.

Lux, Watson, Chang et al. (2021), "Interpolation of sparse high-dimensional data",
Numerical Algorithms 88, doi 10.1007/s11075-020-01040-2, interpolate with the Delaunay
simplex containing the query (computed by DelaunaySparse, Chang et al., ACM TOMS 46(4), 2020).
Here the simplex comes from the lifted linear program

    minimise Σ λ_i ‖x_i − q‖²  subject to  Σ λ_i x_i = q,  Σ λ_i = 1,  λ ≥ 0,

whose optimal vertex is the Delaunay simplex containing q (the lower hull of the points
lifted onto the paraboloid; ‖x_i − q‖² differs from ‖x_i‖² by an affine function, which the
constraints make constant). It is solved by column generation: HiGHS on the query's nearest
neighbours, then every point's reduced cost is checked and violators join, so the answer is
the LP's optimum over all N points. Queries outside the hull are first projected onto it
(as DelaunaySparse does), which :func:`~theorylab.geometry.hull.in_hull` provides.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog
from sklearn.neighbors import NearestNeighbors

from theorylab.geometry.hull import GeometryError, _affine_basis, check_pair, in_hull

__all__ = ["DelaunayResult", "delaunay_interpolate", "delaunay_simplex"]


@dataclass(frozen=True)
class DelaunayResult:
    """Containing Delaunay simplices of :func:`delaunay_simplex`.

    Attributes
    ----------
    support : length-M tuple of int arrays — vertices of the simplex (≤ d* + 1 points).
    weights : length-M tuple of float arrays — barycentric coordinates (λ ≥ 0, Σλ = 1) of
        the query, or of its projection onto the hull when it lies outside.
    inside : (M,) bool — the query lies in the hull (no projection needed).
    distance : (M,) float — distance to the hull (0 inside), data units.
    """

    support: tuple[np.ndarray, ...]
    weights: tuple[np.ndarray, ...]
    inside: np.ndarray
    distance: np.ndarray


def _lifted_lp(Y: np.ndarray, c: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
    """min cᵀλ s.t. Yᵀλ = 0, 1ᵀλ = 1, λ ≥ 0 with HiGHS; (λ, duals) or (None, None) if infeasible."""
    k, r = Y.shape
    A = np.vstack([Y.T, np.ones((1, k))])
    b = np.zeros(r + 1)
    b[r] = 1.0
    res = linprog(c, A_eq=A, b_eq=b, bounds=(0, None), method="highs")
    if res.status != 0:
        return None, None
    return np.maximum(res.x, 0.0), np.asarray(res.eqlin.marginals)


def delaunay_simplex(X: np.ndarray, Q: np.ndarray, *, k0: int | None = None, max_rounds: int = 100) -> DelaunayResult:
    """The Delaunay simplex containing each query (or its projection onto the hull).

    Parameters
    ----------
    X : (N, d) data sites; Q : (M, d) queries.
    k0 : size of the first working set (nearest neighbours); default max(4(d* + 1), 32).
    max_rounds : column-generation rounds per query.

    Returns
    -------
    DelaunayResult

    References
    ----------
    Lux et al. 2021, Numer. Algorithms 88; Chang et al. 2020, ACM TOMS 46(4) Art. 38
    (DelaunaySparse); Edelsbrunner & Seidel 1986 (Delaunay = projected lower hull of the
    lifting onto the paraboloid).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> r = delaunay_simplex(X, np.array([[0.2, 0.1]]))
    >>> float(np.round(r.weights[0] @ X[r.support[0]], 12)[0])
    0.2
    """
    X, Q = check_pair(X, Q)
    n, _ = X.shape
    M = Q.shape[0]
    hull = in_hull(X, Q, distance=True)
    P = np.where(hull.inside[:, None], Q, hull.nearest_points(X))
    mu = X.mean(axis=0)
    V, _ = _affine_basis(X - mu, rtol=1e-7)
    r = V.shape[1]
    Z = (X - mu) @ V
    scale = float(np.abs(Z).max()) if Z.size and np.abs(Z).max() > 0 else 1.0
    Z = Z / scale
    Zq = ((P - mu) @ V) / scale
    k = min(n, k0 if k0 is not None else max(4 * (r + 1), 32))
    if M == 0:
        return DelaunayResult((), (), hull.inside, hull.distance)
    if r == 0:  # every site is the same point: it is the simplex
        return DelaunayResult(tuple(np.array([0]) for _ in range(M)), tuple(np.array([1.0]) for _ in range(M)),
                              hull.inside, hull.distance)
    nn = NearestNeighbors(n_neighbors=k).fit(Z)
    _, nbr = nn.kneighbors(Zq)
    supports: list[np.ndarray] = []
    weights: list[np.ndarray] = []
    for j in range(M):
        # outside: the projection lies on a face, whose outward normal is the direction to q
        outward = None if hull.inside[j] else ((Q[j] - P[j]) @ V) / scale
        universe, S = _candidate_sites(Z, Zq[j], nbr[j], k, outward)
        S, lam = _lifted_optimum(Z, Zq[j], S, universe, max_rounds)
        if lam is None or lam.size != S.size:
            raise GeometryError(f"query {j}: no containing Delaunay simplex found in {max_rounds} rounds")
        Sj, wj = _polished(Z, Zq[j], S, lam)
        supports.append(Sj)
        weights.append(wj)
    return DelaunayResult(tuple(supports), tuple(weights), hull.inside, hull.distance)


def _candidate_sites(Z: np.ndarray, zq: np.ndarray, nbr: np.ndarray, k: int,
                     outward: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """(sites that may carry weight, the first working set) for the (projected) query ``zq``.

    Inside: every site, and the ``k`` nearest neighbours ``nbr``. Outside (``outward`` the
    normal of the face holding the projection): only sites on the supporting hyperplane can
    carry weight, and restricting to them keeps the LP non-degenerate in that direction; the
    working set is the ``k`` nearest of them.
    """
    if outward is None:
        return np.arange(len(Z)), np.sort(nbr)
    nrm = outward / max(np.linalg.norm(outward), 1e-300)
    universe = np.flatnonzero((Z - zq) @ nrm >= -1e-9)
    return universe, universe[np.argsort(np.linalg.norm(Z[universe] - zq, axis=1))[:k]]


def _lifted_optimum(Z: np.ndarray, zq: np.ndarray, S: np.ndarray, universe: np.ndarray,
                    max_rounds: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Column generation for the lifted LP over ``universe``: (working set, λ on it; None if no
    working set held the query within ``max_rounds``)."""
    r = Z.shape[1]
    lam = None
    for _ in range(max_rounds):
        Y = Z[S] - zq
        lam, y = _lifted_lp(Y, np.einsum("ij,ij->i", Y, Y))
        if lam is None:  # q not in conv(S): widen the neighbourhood
            if S.size == universe.size:
                break
            kk = min(universe.size, 2 * S.size)
            dists = np.linalg.norm(Z[universe] - zq, axis=1)
            S = np.sort(universe[np.argpartition(dists, kk - 1)[:kk]])
            continue
        # reduced costs over every site: c_i − yᵀ(z_i − q) − y0 ≥ 0 at the global optimum
        Yall = Z[universe] - zq
        red = np.einsum("ij,ij->i", Yall, Yall) - Yall @ y[:r] - y[r]
        red[np.isin(universe, S)] = np.inf
        viol = np.flatnonzero(red < -1e-9)
        if viol.size == 0:
            break
        # the working set only grows, so the rounds terminate (at worst S = all sites)
        S = np.union1d(S, universe[viol[np.argsort(red[viol])[: max(r + 1, 8)]]])
    return S, lam


def _polished(Z: np.ndarray, zq: np.ndarray, S: np.ndarray, lam: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The simplex's vertices (λ > 1e-12) and barycentric coordinates, re-solved on the simplex
    (LP solutions carry ~1e-9 error) when that keeps them non-negative; normalised to sum 1."""
    keep = lam > 1e-12
    Sj, wj = S[keep], lam[keep]
    A = np.vstack([Z[Sj].T, np.ones((1, Sj.size))])
    w2 = np.linalg.lstsq(A, np.append(zq, 1.0), rcond=None)[0]
    if np.all(w2 >= -1e-12):
        wj = np.maximum(w2, 0.0)
    return Sj, wj / wj.sum()


def delaunay_interpolate(X: np.ndarray, y: np.ndarray, Q: np.ndarray, **kwargs) -> np.ndarray:
    """Piecewise-linear Delaunay interpolant f̂(q) = Σ λ_i y_i on the containing simplex.

    Parameters
    ----------
    X : (N, d) sites; y : (N,) or (N, k) values; Q : (M, d) queries. Queries outside the
        hull get the interpolant at their projection onto the hull.
    kwargs : passed to :func:`delaunay_simplex`.

    Returns
    -------
    (M,) or (M, k) interpolated values. Exact for affine functions.
    """
    y = np.asarray(y, dtype=np.float64)
    X = np.asarray(X)
    if y.shape[0] != X.shape[0]:
        raise GeometryError(f"y has {y.shape[0]} values for {X.shape[0]} sites")
    if not np.all(np.isfinite(y)):
        raise GeometryError("y contains NaN/inf")
    res = delaunay_simplex(X, Q, **kwargs)
    out = [w @ y[s] for s, w in zip(res.support, res.weights, strict=True)]
    return np.asarray(out).reshape((len(out), *y.shape[1:]))
