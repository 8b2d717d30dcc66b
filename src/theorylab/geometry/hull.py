"""Exact, certified convex-hull membership and distance for many queries at once.

Implements the definition of interpolation of Balestriero, Pesenti & LeCun (2021),
"Learning in High Dimension Always Amounts to Extrapolation", arXiv 2110.09485, Def. 1:
a query q interpolates iff q ∈ conv{x_1, ..., x_N} (boundary included).

The verdict is the one of the linear program "find λ ≥ 0, Σλ = 1, Xᵀλ = q" (what one
``scipy.optimize.linprog(method="highs")`` call per query decides), made fast and certified:

1. **Affine-hull residual.** q − μ outside span(X − μ) ⇒ outside (the d* of the paper).
2. **Bounding box.** A coordinate beyond every training point's ⇒ outside.
3. **Hyperplanes** through the whitened direction Σ⁺(q − μ) and the plain direction q − μ:
   ⟨a, q⟩ > max_i ⟨a, x_i⟩ ⇒ outside, for one (N, d) × (d, M) product.
4. **Column generation** for the rest: the exact minimum-norm point of conv(X_S) − q on a
   small working set S by Lawson–Hanson least-distance programming (NNLS on [Yᵀ; 1ᵀ],
   Lawson & Hanson 1974, ch. 23), then one batched product finds the training points on the
   wrong side of the resulting hyperplane; they join S. The distance falls strictly at each
   round, so this terminates; it ends with convex weights (inside) or the projection onto
   the hull, whose normal separates q from every training point (outside).
5. **Certificates are verified in the original coordinates** against every training point;
   a query whose certificate fails verification (nearly never: borderline rounding) is
   decided by HiGHS on the full LP and flagged ``certified=False`` if still unverifiable.

"Inside" means dist(q, conv X) ≤ ``tol`` (absolute, in data units). The default
``tol = 1e-9 · radius`` (radius = max_i ‖x_i − μ‖) sits below HiGHS's primal feasibility
tolerance (1e-7), so verdicts can differ from the LP's only for queries whose distance to
the hull lies between the two tolerances.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog, nnls

from theorylab import arrays as _arrays
from theorylab.errors import TheorylabError

__all__ = [
    "GeometryError",
    "HullResult",
    "affine_dimension",
    "extreme_points",
    "in_hull",
    "in_hull_lp",
]

class GeometryError(TheorylabError, ValueError):
    """Arrays that cannot be used: wrong shape, NaN/inf, empty, mismatched widths."""


def as_points(X: np.ndarray, what: str, *, allow_empty: bool = False) -> np.ndarray:
    """``X`` as a C-contiguous float64 (n, d) array, or :class:`GeometryError` naming the problem."""
    return _arrays.as_points(X, what, min_rows=0 if allow_empty else 1, error=GeometryError)


def check_pair(X: np.ndarray, Q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Validate training points (N, d) and queries (M, d) with the same width."""
    return _arrays.check_pair(X, Q, error=GeometryError)


@dataclass(frozen=True)
class HullResult:
    """Verdicts, distances and verified certificates of :func:`in_hull`.

    Attributes
    ----------
    inside : (M,) bool — q ∈ conv X (within ``tol``).
    distance : (M,) float — Euclidean distance to the hull in data units; 0 inside; NaN for
        outside queries when ``in_hull(..., distance=False)``.
    distance_lower : (M,) float — a certified lower bound on the distance (the separating
        hyperplane's margin; 0 inside).
    support, weights : length-M tuples of int / float arrays — for inside queries the
        indices of training points and convex weights λ (λ ≥ 0, Σλ = 1,
        ‖X[support]ᵀλ − q‖ ≤ tol); for outside queries the convex weights of the nearest
        point of the hull when distances were computed, else empty arrays.
    normal, offset : (M, d) and (M,) — for outside queries a unit normal a and offset b with
        ⟨a, x_i⟩ ≤ b for every training point and ⟨a, q⟩ − b = ``distance_lower`` > tol;
        NaN rows for inside queries.
    residual : (M,) float — ‖X[support]ᵀλ − q‖ for inside queries, NaN outside.
    stage : (M,) str — which step decided: affine, box, hyperplane, solver or lp.
    certified : (M,) bool — the certificate passed the independent check (False only for
        the rare query the LP fallback decided without a verifiable certificate).
    tol : the absolute tolerance used (data units).
    """

    inside: np.ndarray
    distance: np.ndarray
    distance_lower: np.ndarray
    support: tuple[np.ndarray, ...]
    weights: tuple[np.ndarray, ...]
    normal: np.ndarray
    offset: np.ndarray
    residual: np.ndarray
    stage: np.ndarray
    certified: np.ndarray
    tol: float

    def __len__(self) -> int:
        return int(self.inside.shape[0])

    @property
    def fraction_inside(self) -> float:
        """Fraction of queries inside the hull (NaN for no queries)."""
        return float(self.inside.mean()) if len(self) else float("nan")

    def nearest_points(self, X: np.ndarray) -> np.ndarray:
        """(M, d) nearest points of conv X, from the stored weights (NaN rows where absent).

        Inside queries give X[support]ᵀλ ≈ q; outside queries give their projection onto the
        hull when distances were computed.
        """
        X = np.asarray(X, dtype=np.float64)
        out = np.full((len(self), X.shape[1]), np.nan)
        for i, (s, w) in enumerate(zip(self.support, self.weights, strict=True)):
            if s.size:
                out[i] = w @ X[s]
        return out


# -- the affine hull ---------------------------------------------------------------------------
def affine_dimension(X: np.ndarray, tol: float | None = None) -> int:
    """Dimension d* of the smallest affine subspace containing the points (the paper's d*).

    Parameters
    ----------
    X : (N, d) points.
    tol : singular values of X − mean(X) at or below ``tol`` (data units) count as zero;
        default ``σ_max · max(N, d) · eps`` (the ``numpy.linalg.matrix_rank`` convention).

    Returns
    -------
    int in [0, min(N − 1, d)].

    References
    ----------
    Balestriero, Pesenti & LeCun 2021, arXiv 2110.09485, sec. 2 (d* governs hull membership).

    Examples
    --------
    >>> import numpy as np
    >>> affine_dimension(np.random.default_rng(0).standard_normal((50, 4)) @ np.ones((4, 7)))
    1
    """
    X = as_points(X, "points")
    Xc = X - X.mean(axis=0)
    s = np.linalg.svd(Xc, compute_uv=False)
    if s.size == 0 or s[0] == 0.0:
        return 0
    if tol is None:
        tol = float(s[0]) * max(X.shape) * np.finfo(float).eps
    return int(np.count_nonzero(s > tol))


def _affine_basis(Xc: np.ndarray, rtol: float) -> tuple[np.ndarray, np.ndarray]:
    """Orthonormal basis V (d, r) of span(Xc) and its squared singular values (r,).

    Uses the smaller Gram matrix (d×d or N×N): O(N d min(N, d)) instead of an SVD's larger
    constant. Directions with σ ≤ rtol·σ_max are dropped; rtol ≥ 1e-7 because the Gram
    matrix resolves σ only down to about √eps·σ_max. Any error here only costs speed: every
    certificate is verified against the original points.
    """
    n, d = Xc.shape
    if d <= n:
        lam, V = np.linalg.eigh(Xc.T @ Xc)
    else:
        lam, U = np.linalg.eigh(Xc @ Xc.T)
        V = Xc.T @ U
    lam = np.maximum(lam[::-1], 0.0)
    V = V[:, ::-1]
    if lam.size == 0 or lam[0] <= 0.0:
        return np.zeros((d, 0)), np.zeros(0)
    keep = lam > (rtol**2) * lam[0]
    V, lam = V[:, keep], lam[keep]
    if d > n:
        V = V / np.sqrt(lam)
        # one re-orthonormalisation: V from Xcᵀ U loses orthogonality like κ·eps
        V, _ = np.linalg.qr(V)
    return V, lam


# -- the exact column-generation solver ---------------------------------------------------------
def _min_norm_point(Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Minimum-norm point of conv(rows of Y) by least-distance programming via NNLS.

    Lawson & Hanson (1974), ch. 23: with E = [Yᵀ; 1ᵀ] and f = e_{r+1}, the NNLS solution u
    of min_{u ≥ 0} ‖E u − f‖ has residual 0 iff 0 ∈ conv(Y), and otherwise λ = u / Σu gives
    the minimum-norm point p = Yᵀλ (‖E u − f‖² = ‖p‖² / (1 + ‖p‖²)).

    Parameters
    ----------
    Y : (k, r) points relative to the query, in units where the data radius is ~1.

    Returns
    -------
    λ : (k,) convex weights (λ ≥ 0, Σλ = 1); p : (r,) the point Yᵀλ.
    """
    k, r = Y.shape
    E = np.empty((r + 1, k))
    E[:r] = Y.T
    E[r] = 1.0
    f = np.zeros(r + 1)
    f[r] = 1.0
    u, _ = nnls(E, f, maxiter=50 * (k + r + 1))
    s = u.sum()
    lam = u / s if s > 0 else np.full(k, 1.0 / k)
    return lam, Y.T @ lam


def _solve(
    Z: np.ndarray,
    zq: np.ndarray,
    init: list[np.ndarray],
    exclude: np.ndarray | None,
    tol: float,
    max_iter: int,
    add: int,
) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray, np.ndarray]:
    """Column generation for the projection of each query onto conv(Z), batched over queries.

    Parameters
    ----------
    Z : (N, r) training points in reduced, scaled coordinates; zq : (m, r) queries.
    init : m initial working sets (index arrays); exclude : (m,) index to ignore or -1.
    tol : inside tolerance in the same units; add : violators added per round.

    Returns
    -------
    support, weights : per query, the working-set indices with λ > 0 and their λ.
    p : (m, r) projection minus query (zero rows inside); converged : (m,) bool.
    """
    m, r = zq.shape
    support: list[np.ndarray] = [np.empty(0, np.int64)] * m
    weights: list[np.ndarray] = [np.empty(0)] * m
    p_all = np.zeros((m, r))
    converged = np.zeros(m, dtype=bool)
    work = [np.unique(s) for s in init]
    active = np.arange(m)
    best = np.full(m, np.inf)  # smallest ‖p‖² so far
    stale = np.zeros(m, dtype=np.int64)  # rounds without a strict decrease
    for _ in range(max_iter):
        if active.size == 0:
            break
        P = _project_working_sets(Z, zq, work, active, support, weights, p_all)
        pn2 = np.einsum("ij,ij->i", P, P)
        done_in = pn2 <= tol**2
        converged[active[done_in]] = True
        # rounding floor: near the boundary NNLS can cycle between faces without progress
        better = pn2 < best[active] * (1 - 1e-12)
        best[active] = np.minimum(best[active], pn2)
        stale[active] = np.where(better, 0, stale[active] + 1)
        stuck = (stale[active] >= 5) & ~done_in
        converged[active[stuck]] = True
        keep = ~done_in & ~stuck
        active, P, pn2 = active[keep], P[keep], pn2[keep]
        if active.size == 0:
            break
        active = _add_violators(Z, zq, P, pn2, active, exclude, add, support, work, converged)
    return support, weights, p_all, converged


def _project_working_sets(Z: np.ndarray, zq: np.ndarray, work: list[np.ndarray], active: np.ndarray,
                          support: list[np.ndarray], weights: list[np.ndarray], p_all: np.ndarray) -> np.ndarray:
    """Minimum-norm point of conv(Z[S]) − q for each active query's working set S.

    Stores each query's support, weights and point (in ``support``, ``weights``, ``p_all``);
    returns the points of the active queries, (len(active), r).
    """
    P = np.empty((active.size, zq.shape[1]))
    for a, j in enumerate(active):
        S = work[j]
        lam, p = _min_norm_point(Z[S] - zq[j])
        pos = lam > 0
        support[j], weights[j] = S[pos], lam[pos]
        p_all[j] = p
        P[a] = p
    return P


def _add_violators(Z: np.ndarray, zq: np.ndarray, P: np.ndarray, pn2: np.ndarray, active: np.ndarray,
                   exclude: np.ndarray | None, add: int, support: list[np.ndarray], work: list[np.ndarray],
                   converged: np.ndarray) -> np.ndarray:
    """Add up to ``add`` training points on the wrong side of each active query's hyperplane to
    its working set; a query with none (or no new one) is converged. Returns the still-active queries."""
    n = Z.shape[0]
    # Every point of conv(Z) satisfies ⟨z − q, p⟩ ≥ ‖p‖² at the optimum; violators join S.
    G = Z @ P.T - np.einsum("ij,ij->i", zq[active], P)[None, :] - pn2[None, :]
    if exclude is not None:
        ex = exclude[active]
        has = ex >= 0
        G[ex[has], np.flatnonzero(has)] = np.inf
    # relative slack: rounding in G is ~eps·(|z|·|p|) with |z| ≲ 1
    slack = 1e-12 * np.sqrt(pn2)
    still = []
    for a, j in enumerate(active):
        g = G[:, a]
        k = min(add, n)
        cand = np.argpartition(g, k - 1)[:k] if k < n else np.arange(n)
        cand = cand[g[cand] < -slack[a]]
        if cand.size == 0:
            converged[j] = True
            continue
        new = np.union1d(support[j], cand)
        if new.size == support[j].size:
            converged[j] = True  # no progress possible: rounding floor reached
            continue
        work[j] = new
        still.append(j)
    return np.asarray(still, dtype=np.int64)


# -- the public entry point --------------------------------------------------------------------
def in_hull(
    X: np.ndarray,
    Q: np.ndarray,
    *,
    tol: float | None = None,
    distance: bool = True,
    exclude: np.ndarray | None = None,
    max_iter: int = 500,
    batch: int | None = None,
) -> HullResult:
    """Certified membership of queries in the convex hull of training points, with distances.

    Parameters
    ----------
    X : (N, d) training points.
    Q : (M, d) queries (a single (d,) query is accepted).
    tol : absolute tolerance in data units: inside iff dist(q, conv X) ≤ tol. Default
        ``1e-9 · max_i ‖x_i − mean(X)‖`` plus a rounding floor for data far from the origin.
    distance : compute the exact Euclidean distance to the hull for outside queries too
        (costs a projection per query, expensive for d in the hundreds). When False, outside
        queries get ``distance = NaN`` and only the certified lower bound.
    exclude : optional (M,) indices; query i ignores training point ``exclude[i]`` (-1: none).
        Leave-one-out membership, e.g. to count the vertices of conv X.
    max_iter : cap on column-generation rounds per query before the LP fallback.
    batch : queries processed per block; default keeps N × batch ≤ 2·10⁷ floats (160 MB).

    Returns
    -------
    HullResult
        Verdicts, distances and certificates (convex weights / separating hyperplanes), each
        verified against every training point before it is returned.

    References
    ----------
    Balestriero, Pesenti & LeCun 2021, arXiv 2110.09485 (Definition 1); Lawson & Hanson 1974,
    "Solving Least Squares Problems", ch. 23 (least-distance programming by NNLS);
    Wolfe 1976, "Finding the nearest point in a polytope" (working-set projection).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    >>> r = in_hull(X, np.array([[0.2, 0.2], [1.0, 1.0]]))
    >>> r.inside.tolist(), round(float(r.distance[1]), 6)
    ([True, False], 0.707107)
    """
    X, Q = check_pair(X, Q)
    n, d = X.shape
    M = Q.shape[0]
    if exclude is not None:
        exclude = _checked_exclude(exclude, n, M)
    mu = X.mean(axis=0)
    Xc = X - mu
    radius = float(np.sqrt(np.einsum("ij,ij->i", Xc, Xc).max()))
    if tol is None:
        floor = 64 * np.finfo(float).eps * float(np.abs(X).max(initial=0.0))
        tol = 1e-9 * radius + floor
    tol = float(tol)
    if not np.isfinite(tol) or tol < 0:
        raise GeometryError(f"tol must be finite and >= 0, got {tol}")
    V, lam = _affine_basis(Xc, rtol=1e-7)
    scale = radius if radius > 0 else 1.0
    Z = (Xc @ V) / scale  # (N, r), radius ~1 for conditioning of the NNLS
    if batch is None:
        batch = int(min(2048, max(16, 20_000_000 // n)))
    frame = _Frame(X, Xc, Z, V, lam, mu, scale, tol, max_iter)
    parts = [
        _in_hull_block(frame, Q[i : i + batch], None if exclude is None else exclude[i : i + batch], distance)
        for i in range(0, M, batch)
    ]
    return _joined(parts, d, tol)


def _checked_exclude(exclude: np.ndarray, n: int, M: int) -> np.ndarray:
    """``exclude`` as (M,) int64 indices in [-1, N − 1], or :class:`GeometryError`."""
    exclude = np.asarray(exclude, dtype=np.int64).reshape(-1)
    if exclude.shape[0] != M:
        raise GeometryError(f"exclude has {exclude.shape[0]} entries for {M} queries")
    if np.any(exclude >= n) or np.any(exclude < -1):
        raise GeometryError(f"exclude indices must lie in [-1, {n - 1}]")
    if n == 1 and np.any(exclude >= 0):
        raise GeometryError("exclude leaves no training point")
    return exclude


def _joined(parts: list[dict], d: int, tol: float) -> HullResult:
    """One :class:`HullResult` from the blocks' results, in query order (empty for no blocks)."""
    if not parts:
        return HullResult(
            np.zeros(0, bool), np.zeros(0), np.zeros(0), (), (), np.zeros((0, d)), np.zeros(0),
            np.zeros(0), np.zeros(0, dtype="<U10"), np.zeros(0, bool), tol,
        )
    cat = lambda k: np.concatenate([p[k] for p in parts])  # noqa: E731
    return HullResult(
        inside=cat("inside"), distance=cat("distance"), distance_lower=cat("lower"),
        support=tuple(s for p in parts for s in p["support"]),
        weights=tuple(w for p in parts for w in p["weights"]),
        normal=cat("normal"), offset=cat("offset"), residual=cat("residual"),
        stage=cat("stage"), certified=cat("certified"), tol=tol,
    )


def _max_excluding(S: np.ndarray, exclude: np.ndarray | None) -> np.ndarray:
    """Column maxima of S (N, m), ignoring row exclude[j] in column j."""
    if exclude is None or not np.any(exclude >= 0):
        return S.max(axis=0)
    S = S.copy()
    has = exclude >= 0
    S[exclude[has], np.flatnonzero(has)] = -np.inf
    return S.max(axis=0) if S.shape[0] > 0 else np.full(S.shape[1], -np.inf)


@dataclass
class _Frame:
    """The training points in the coordinates every stage shares (built once per call)."""

    X: np.ndarray  # (N, d) original points
    Xc: np.ndarray  # (N, d) centred
    Z: np.ndarray  # (N, r) in the affine basis, scaled to radius ~1
    V: np.ndarray  # (d, r) orthonormal basis of the affine hull's directions
    lam: np.ndarray  # (r,) squared singular values along V
    mu: np.ndarray  # (d,) the mean
    scale: float  # the data radius (data units)
    tol: float  # inside tolerance (data units)
    max_iter: int


class _Block:
    """One block of queries through the five stages of :func:`in_hull` (module docstring).

    Each stage decides some queries and records a verified certificate; ``result`` packs them.
    """

    def __init__(self, f: _Frame, Q: np.ndarray, exclude: np.ndarray | None, want_distance: bool) -> None:
        m, d = Q.shape
        self.f, self.Q, self.exclude, self.want_distance = f, Q, exclude, want_distance
        self.Qc = Q - f.mu
        self.inside = np.zeros(m, bool)
        self.decided = np.zeros(m, bool)
        self.lower = np.zeros(m)
        self.normal = np.full((m, d), np.nan)
        self.offset = np.full(m, np.nan)
        self.stage = np.full(m, "", dtype="<U10")
        self.support: list[np.ndarray] = [np.empty(0, np.int64)] * m
        self.weights: list[np.ndarray] = [np.empty(0)] * m
        self.dist = np.full(m, np.nan)
        self.resid = np.full(m, np.nan)
        self.certified = np.zeros(m, bool)
        self.zq = (self.Qc @ f.V) / f.scale  # queries in the affine basis
        self.res = self.Qc - (self.zq * f.scale) @ f.V.T  # off-subspace residuals
        self.rn = np.linalg.norm(self.res, axis=1)

    def take(self, idx: np.ndarray, A: np.ndarray, name: str) -> None:
        """Record verified hyperplane certificates A (len(idx), d) with margin > tol."""
        A = A / np.linalg.norm(A, axis=1, keepdims=True)
        b = _max_excluding(self.f.Xc @ A.T, None if self.exclude is None else self.exclude[idx])
        margin = np.einsum("ij,ij->i", self.Qc[idx], A) - b
        ok = (margin > self.f.tol) & (margin > self.lower[idx])
        sel = idx[ok]
        first = ~self.decided[sel]
        self.lower[sel] = margin[ok]
        self.normal[sel] = A[ok]
        self.offset[sel] = b[ok] + A[ok] @ self.f.mu
        self.stage[sel[first]] = name
        self.decided[sel] = True

    def affine_stage(self) -> None:
        """1. A residual off the affine hull of the data certifies "outside"."""
        idx = np.flatnonzero(self.rn > self.f.tol)
        if idx.size:
            self.take(idx, self.res[idx], "affine")

    def box_stage(self) -> None:
        """2. Bounding box: the most violated coordinate gives the normal ±e_k."""
        idx = np.flatnonzero(~self.decided)
        if not idx.size:
            return
        Xc, ex_all = self.f.Xc, self.exclude
        n, d = Xc.shape
        if ex_all is None:
            hi = np.broadcast_to(Xc.max(axis=0), (idx.size, d))
            lo = np.broadcast_to(Xc.min(axis=0), (idx.size, d))
        else:  # per-query box without the excluded point: top-2 per coordinate
            srt = np.sort(Xc, axis=0) if n > 1 else np.vstack([Xc, Xc])
            ex = ex_all[idx]
            xe = Xc[np.maximum(ex, 0)]
            hi = np.where((ex[:, None] >= 0) & (xe >= srt[-1]), srt[-2], srt[-1])
            lo = np.where((ex[:, None] >= 0) & (xe <= srt[0]), srt[1], srt[0])
        up, down = self.Qc[idx] - hi, lo - self.Qc[idx]
        over = np.maximum(up, down)
        k = over.argmax(axis=1)
        bad = over[np.arange(idx.size), k] > self.f.tol
        if bad.any():
            sel, kk = idx[bad], k[bad]
            rows = np.arange(sel.size)
            A = np.zeros((sel.size, d))
            # +1 when above the maximum, −1 when below the minimum
            A[rows, kk] = np.where(up[bad][rows, kk] >= down[bad][rows, kk], 1.0, -1.0)
            self.take(sel, A, "box")

    def hyperplane_stage(self) -> None:
        """3. Whitened and plain hyperplanes through the query's direction."""
        idx = np.flatnonzero(~self.decided)
        if not idx.size or self.f.V.shape[1] == 0:
            return
        zi = self.zq[idx] * self.f.scale
        for A in ((zi / self.f.lam) @ self.f.V.T, zi @ self.f.V.T):
            good = np.linalg.norm(A, axis=1) > 0
            if good.any():
                self.take(idx[good], A[good], "hyperplane")

    def _initial_sets(self, todo: np.ndarray) -> list[np.ndarray]:
        """Working sets to start column generation: the best-scoring points per direction."""
        f = self.f
        n, r = f.Z.shape
        zt = self.zq[todo]
        if r > 0:
            lamz = f.lam / f.scale**2
            scores = f.Z @ np.vstack([zt / lamz, zt]).T  # whitened and plain scores
        k0 = min(n, max(2 * (r + 1), 16))
        ex_t = None if self.exclude is None else self.exclude[todo]
        init = []
        for a in range(todo.size):
            if r == 0:
                cand = np.arange(min(n, 2))
            else:
                s1, s2 = scores[:, a], scores[:, todo.size + a]
                if ex_t is not None and ex_t[a] >= 0:
                    s1, s2 = s1.copy(), s2.copy()
                    s1[ex_t[a]] = s2[ex_t[a]] = -np.inf
                cand = np.union1d(_top(s1, k0), _top(s2, k0))
            if ex_t is not None and ex_t[a] >= 0:
                cand = cand[cand != ex_t[a]]
                if cand.size == 0:
                    cand = np.array([0 if ex_t[a] != 0 else 1])
            init.append(cand)
        return init

    def solver_stage(self) -> None:
        """4. Exact column generation on what is left (and, for distances, on all outside)."""
        f = self.f
        self.certified = self.decided.copy()
        todo = np.flatnonzero(~self.decided | (self.want_distance & self.decided))
        if not todo.size:
            return
        ex_t = None if self.exclude is None else self.exclude[todo]
        r = f.V.shape[1]
        sup, wts, P, _ = _solve(f.Z, self.zq[todo], self._initial_sets(todo), ex_t, f.tol / f.scale,
                                f.max_iter, add=max(r + 1, 8))
        for a, j in enumerate(todo):
            self._settle(j, sup[a], wts[a], P[a] * f.scale)

    def _settle(self, j: int, S: np.ndarray, w: np.ndarray, p: np.ndarray) -> None:
        """Turn query j's projection p (data units, in the basis) into a verified verdict."""
        f, Q = self.f, self.Q
        pn = float(np.linalg.norm(p))
        if np.sqrt(pn**2 + self.rn[j] ** 2) <= f.tol and not self.decided[j]:
            # inside candidate: verify the convex weights on the original points
            w = w / w.sum()
            rr = float(np.linalg.norm(w @ f.X[S] - Q[j]))
            if rr <= f.tol and (self.exclude is None or self.exclude[j] not in S):
                self.inside[j] = self.decided[j] = self.certified[j] = True
                self.support[j], self.weights[j], self.resid[j] = S, w, rr
                self.lower[j], self.dist[j], self.stage[j] = 0.0, 0.0, "solver"
            return
        # outside: normal from the projection (plus the off-subspace residual)
        A = self.res[j] - p @ f.V.T
        if float(np.linalg.norm(A)) == 0.0:
            return
        if self.want_distance:
            w = w / w.sum()
            self.dist[j] = float(np.linalg.norm(w @ f.X[S] - Q[j]))  # upper bound = exact
            self.support[j], self.weights[j] = S, w  # convex weights of the nearest hull point
        before = self.decided[j]
        self.take(np.array([j]), A[None, :], "solver")
        if not self.decided[j]:
            # near the boundary the NNLS direction is too coarse (its error ~eps/distance):
            # recompute the face and its normal in the original coordinates
            nrm = _polish_face(f.X, S, Q[j], None if self.exclude is None else int(self.exclude[j]))
            if nrm is not None:
                self.take(np.array([j]), nrm[None, :], "solver")
        if self.decided[j] and not before:
            self.certified[j] = True
        if self.want_distance and self.decided[j]:
            # the exact projection also certifies the lower bound; keep the larger
            self.dist[j] = max(self.dist[j], self.lower[j])

    def lp_stage(self) -> None:
        """5. The LP decides what no certificate could (borderline rounding)."""
        left = np.flatnonzero(~self.decided)
        if not left.size:
            return
        X, Q = self.f.X, self.Q
        ex_l = None if self.exclude is None else self.exclude[left]
        verdicts, lams = _lp_verdicts(X, Q[left], ex_l)
        for a, j in enumerate(left):
            self.stage[j] = "lp"
            self.decided[j] = True
            if verdicts[a]:
                lamv = lams[a]
                S = np.flatnonzero(lamv > 0)
                w = lamv[S] / lamv[S].sum()
                rr = float(np.linalg.norm(w @ X[S] - Q[j]))
                self.inside[j], self.support[j], self.weights[j], self.resid[j] = True, S, w, rr
                self.lower[j], self.dist[j] = 0.0, 0.0
                self.certified[j] = rr <= self.f.tol
            else:
                self.certified[j] = False
                self.lower[j] = max(self.lower[j], 0.0)

    def result(self) -> dict:
        self.dist[self.inside] = 0.0
        if self.want_distance:
            # prefilter-certified queries whose projection did not converge keep the lower bound
            miss = ~self.inside & np.isnan(self.dist)
            self.dist[miss] = self.lower[miss]
        return {
            "inside": self.inside, "distance": self.dist, "lower": self.lower, "support": self.support,
            "weights": self.weights, "normal": self.normal, "offset": self.offset, "residual": self.resid,
            "stage": self.stage, "certified": self.certified,
        }


def _in_hull_block(f: _Frame, Q: np.ndarray, exclude: np.ndarray | None, want_distance: bool) -> dict:
    b = _Block(f, Q, exclude, want_distance)
    b.affine_stage()
    b.box_stage()
    b.hyperplane_stage()
    b.solver_stage()
    b.lp_stage()
    return b.result()


def _polish_face(X: np.ndarray, S: np.ndarray, q: np.ndarray, exclude: int | None,
                 max_iter: int = 200) -> np.ndarray | None:
    """Refine a near-optimal support into the exact projection face (Wolfe 1976 style).

    Least squares on the face's affine hull in the original coordinates gives barycentric
    coordinates β and the residual normal n = q − p precisely; a negative β drops a point, a
    training point beyond the hyperplane through p joins. Returns n, or None if it stalls.
    """
    S = list(np.unique(S))
    scale = float(np.abs(X).max()) + float(np.abs(q).max())
    for _ in range(max_iter):
        x0 = X[S[0]]
        y = q - x0
        if len(S) > 1:
            B = X[S[1:]] - x0
            c, *_ = np.linalg.lstsq(B.T, y, rcond=None)
            r = y - B.T @ c
            c2, *_ = np.linalg.lstsq(B.T, r, rcond=None)  # one step of iterative refinement
            c, r = c + c2, r - B.T @ c2
            beta = np.concatenate([[1.0 - c.sum()], c])
            k = int(np.argmin(beta))
            if beta[k] < -1e-12:
                S.pop(k)
                continue
        else:
            r = y
        nn = float(r @ r)
        if nn == 0.0:
            return None
        g = X @ r - (q @ r - nn)  # > 0: beyond the hyperplane through p = q − r
        if exclude is not None and exclude >= 0:
            g[exclude] = -np.inf
        g[S] = -np.inf
        i = int(np.argmax(g))
        if g[i] <= 1e-13 * scale * np.sqrt(nn):
            return r
        S.append(i)
    return None


def _top(s: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k largest entries of s (unordered)."""
    if k >= s.size:
        return np.arange(s.size)
    return np.argpartition(s, s.size - k)[s.size - k :]


# -- the LP, for fallbacks, tests and benchmarks --------------------------------------------------
def _lp_verdicts(
    X: np.ndarray, Q: np.ndarray, exclude: np.ndarray | None = None
) -> tuple[np.ndarray, list[np.ndarray | None]]:
    n = X.shape[0]
    out = np.zeros(len(Q), bool)
    lams: list[np.ndarray | None] = []
    for i, q in enumerate(Q):
        keep = np.ones(n, bool)
        if exclude is not None and exclude[i] >= 0:
            keep[exclude[i]] = False
        A = np.vstack([X[keep].T, np.ones((1, int(keep.sum())))])
        res = linprog(np.zeros(A.shape[1]), A_eq=A, b_eq=np.append(q, 1.0), bounds=(0, None),
                      method="highs")
        if res.status not in (0, 2):
            # HiGHS's dual simplex sometimes ends with model status "Unknown" on these
            # feasibility problems (seen at N = 10⁴, d = 64); its interior-point solver decides
            res = linprog(np.zeros(A.shape[1]), A_eq=A, b_eq=np.append(q, 1.0), bounds=(0, None),
                          method="highs-ipm")
        out[i] = res.status == 0
        if out[i]:
            lam = np.zeros(n)
            lam[keep] = np.maximum(res.x, 0.0)
            lams.append(lam)
        else:
            lams.append(None)
    return out, lams


def in_hull_lp(X: np.ndarray, Q: np.ndarray) -> np.ndarray:
    """Reference membership by one HiGHS LP per query (the baseline the paper's claim needs).

    Solves find λ ≥ 0, 1ᵀλ = 1, Xᵀλ = q with ``scipy.optimize.linprog(method="highs")``;
    status 0 (feasible) means inside. When HiGHS's simplex ends undecided (status 4, which
    happens on a few per cent of queries at N = 10⁴, d = 64) the query is re-solved with
    ``method="highs-ipm"``. Slow (seconds per query at N = 10⁴, d = 64).

    Parameters
    ----------
    X : (N, d) training points; Q : (M, d) queries.

    Returns
    -------
    (M,) bool.
    """
    X, Q = check_pair(X, Q)
    return _lp_verdicts(X, Q)[0]


def extreme_points(X: np.ndarray, *, tol: float | None = None) -> np.ndarray:
    """Mask of the vertices of conv X: x_i is a vertex iff x_i ∉ conv(X without x_i).

    By Efron's identity (Efron 1965), for N + 1 i.i.d. points
    P(X_{N+1} ∉ conv(X_1..X_N)) = E[#vertices of conv(X_1..X_{N+1})] / (N + 1).
    Duplicated points are never vertices here (each lies in the hull of its copy).

    Parameters
    ----------
    X : (N, d) points. tol : as in :func:`in_hull`.

    Returns
    -------
    (N,) bool.
    """
    X = as_points(X, "points")
    if X.shape[0] == 1:
        return np.ones(1, bool)
    res = in_hull(X, X, tol=tol, distance=False, exclude=np.arange(X.shape[0]))
    return ~res.inside
