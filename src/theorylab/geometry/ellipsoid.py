"""Minimum-volume enclosing ellipsoid (MVEE) of training points, and membership in it.

Not a notion of Balestriero, Pesenti & LeCun (2021): the lab's more permissive contrast to
their convex hull (John: (1/d)·E ⊆ conv X ⊆ E around the centre), reported side by side.

Algorithm: Todd & Yildirim (2007), "On Khachiyan's algorithm for the computation of
minimum-volume enclosing ellipsoids", Discrete Appl. Math. 155, with Wolfe–Atwood away
steps (linear convergence: Ahipasaoglu, Sun & Todd 2008) and a Kumar–Yildirim style start.
It maximises log det Σ u_i q_i q_iᵀ over the simplex (q_i = (x_i, 1), the D-optimal design
dual) and stops at the ε-approximate optimality conditions of Todd's ``minvol``:
max_i ω_i ≤ (1 + ε)(n + 1) and min_{u_i > 0} ω_i ≥ (1 − ε)(n + 1), ω_i = q_iᵀ M(u)⁻¹ q_i.
Data that do not span R^d are first projected onto their affine hull.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError

from theorylab.geometry.hull import GeometryError, _affine_basis, check_pair

__all__ = ["MinVolumeEllipsoid", "mvee"]


def mvee(
    Z: np.ndarray, *, tol: float = 1e-7, max_iter: int = 100_000, refresh: int = 500
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, int]:
    """Todd–Yildirim MVEE with away steps for points spanning R^n.

    Parameters
    ----------
    Z : (N, n) points whose affine hull is R^n (N ≥ n + 1).
    tol : ε of the stopping rule (relative duality gap; ε/n gives a (1 + ε)-volume MVEE).
    max_iter : iteration cap. refresh : recompute M(u)⁻¹ from scratch every this many steps
        (the rank-one updates drift like eps per step).

    Returns
    -------
    center : (n,); A : (n, n) positive definite with (z − c)ᵀ A (z − c) ≤ 1 for every point
        (scaled to enclose all points exactly); u : (N,) design weights; gap : the achieved
        ε; n_iter : steps taken.
    """
    N, n = Z.shape
    if N < n + 1:
        raise GeometryError(f"MVEE in R^{n} needs at least {n + 1} affinely spanning points, got {N}")
    Qm = np.hstack([Z, np.ones((N, 1))])  # lifted points (N, n+1)
    m = n + 1
    # Kumar–Yildirim style start: the extreme points along each principal axis
    Zc = Z - Z.mean(axis=0)
    _, _, Vt = np.linalg.svd(Zc[: min(N, 20 * m)] if N > 20 * m else Zc, full_matrices=False)
    proj = Zc @ Vt.T
    start = np.unique(np.concatenate([proj.argmax(axis=0), proj.argmin(axis=0)]))
    u = np.zeros(N)
    u[start] = 1.0 / start.size
    Mu = (Qm * u[:, None]).T @ Qm
    if np.linalg.cond(Mu) > 1e12:
        u[:] = 1.0 / N
        Mu = (Qm * u[:, None]).T @ Qm
    Minv = np.linalg.inv(Mu)
    omega = np.einsum("ij,jk,ik->i", Qm, Minv, Qm)
    gap = np.inf
    it = 0
    for it in range(1, max_iter + 1):
        j = int(np.argmax(omega))
        pos = np.flatnonzero(u > 0)
        i = int(pos[np.argmin(omega[pos])])
        eps_plus = omega[j] / m - 1.0
        eps_minus = 1.0 - omega[i] / m
        gap = max(eps_plus, eps_minus)
        if gap <= tol:
            break
        if eps_plus >= eps_minus:  # Khachiyan (toward) step
            w = omega[j]
            beta = (w - m) / (m * (w - 1.0))
            v = Minv @ Qm[j]
            denom = 1.0 - beta + beta * w
            omega = (omega - beta * (Qm @ v) ** 2 / denom) / (1.0 - beta)
            Minv = (Minv - beta * np.outer(v, v) / denom) / (1.0 - beta)
            u *= 1.0 - beta
            u[j] += beta
        else:  # Wolfe–Atwood away step; a drop step when it empties u_i
            w = omega[i]
            beta = min((m - w) / (m * (w - 1.0)), u[i] / (1.0 - u[i]))
            v = Minv @ Qm[i]
            denom = 1.0 + beta - beta * w
            omega = (omega + beta * (Qm @ v) ** 2 / denom) / (1.0 + beta)
            Minv = (Minv + beta * np.outer(v, v) / denom) / (1.0 + beta)
            u *= 1.0 + beta
            u[i] -= beta
            if u[i] < 1e-14:
                u[i] = 0.0
        if it % refresh == 0:
            u /= u.sum()
            Minv = np.linalg.inv((Qm * u[:, None]).T @ Qm)
            omega = np.einsum("ij,jk,ik->i", Qm, Minv, Qm)
    u = u / u.sum()
    c = u @ Z
    S = (Z * u[:, None]).T @ Z - np.outer(c, c)
    A = np.linalg.inv(S) / n
    D = Z - c
    r2 = np.einsum("ij,jk,ik->i", D, A, D).max()
    if r2 > 1.0:
        A = A / r2  # enlarge just enough to enclose every point
    return c, A, u, float(gap), it


class EllipsoidNotFittedError(GeometryError, NotFittedError):
    """``contains`` / ``mahalanobis`` before ``fit`` (scikit-learn's NotFittedError, and ours)."""


class MinVolumeEllipsoid(BaseEstimator):
    """Minimum-volume ellipsoid enclosing training points (Todd–Yildirim with away steps).

    Parameters
    ----------
    tol : ε of the stopping rule (Todd's ``minvol`` default 1e-7).
    max_iter : iteration cap.
    rank_tol : relative singular-value cut for the affine hull (directions with
        σ ≤ rank_tol·σ_max are dropped; queries off that subspace are outside).

    Attributes
    ----------
    mean_, basis_ : (d,), (d, r) — the affine hull x = mean_ + basis_ z.
    center_ : (d,) centre; shape_ : (r, r) matrix A of {z : (z − c)ᵀA(z − c) ≤ 1}.
    weights_ : (N,) design weights u (the core set is where u > 0).
    gap_ : achieved ε; n_iter_ : steps; volume_log_ : log volume in the r-dim hull.

    References
    ----------
    Todd & Yildirim 2007, Discrete Appl. Math. 155(13):1731–1744; Ahipasaoglu, Sun & Todd
    2008, Optim. Methods Softw. 23(1); Kumar & Yildirim 2005, JOTA 126(1).

    Examples
    --------
    >>> import numpy as np
    >>> cube = np.array([[a, b] for a in (-1, 1) for b in (-1, 1)], float)
    >>> e = MinVolumeEllipsoid().fit(cube)
    >>> e.contains(np.array([[1.4, 0.0], [1.5, 0.0]])).tolist()  # the disc of radius √2
    [True, False]
    """

    def __init__(self, tol: float = 1e-7, max_iter: int = 100_000, rank_tol: float = 1e-9) -> None:
        self.tol = tol
        self.max_iter = max_iter
        self.rank_tol = rank_tol

    def fit(self, X: np.ndarray, y: object = None) -> MinVolumeEllipsoid:
        """Fit the ellipsoid to the rows of ``X`` (N, d); ``y`` is ignored."""
        from sklearn.utils.validation import validate_data

        try:  # scikit-learn's checks and messages (sparse, complex, NaN, empty), as GeometryError
            X = validate_data(self, X, dtype=np.float64, ensure_min_samples=1)
        except ValueError as e:
            raise GeometryError(f"training points: {e}") from None
        X = np.ascontiguousarray(X)
        if not (self.tol > 0 and self.max_iter >= 1):
            raise GeometryError(f"need tol > 0 and max_iter ≥ 1, got {self.tol}, {self.max_iter}")
        self.mean_ = X.mean(axis=0)
        Xc = X - self.mean_
        V, _ = _affine_basis(Xc, rtol=max(self.rank_tol, 1e-7))
        self.basis_ = V
        self.radius_ = float(np.sqrt(np.einsum("ij,ij->i", Xc, Xc).max()))
        Z = Xc @ V
        if V.shape[1] == 0:
            c, A, u, gap, it = np.zeros(0), np.zeros((0, 0)), np.full(len(X), 1.0 / len(X)), 0.0, 0
        else:
            c, A, u, gap, it = mvee(Z, tol=self.tol, max_iter=self.max_iter)
        self.center_z_, self.shape_, self.weights_, self.gap_, self.n_iter_ = c, A, u, gap, it
        self.center_ = self.mean_ + V @ c
        r = V.shape[1]
        _, logdet = np.linalg.slogdet(A) if r else (1.0, 0.0)
        # vol = vol(unit r-ball) / sqrt(det A)
        from scipy.special import gammaln

        self.volume_log_ = float(0.5 * r * np.log(np.pi) - gammaln(r / 2 + 1) - 0.5 * logdet)
        self.converged_ = bool(gap <= self.tol)
        return self

    def mahalanobis(self, Q: np.ndarray) -> np.ndarray:
        """(z − c)ᵀA(z − c) of each query's projection onto the affine hull (≤ 1 inside)."""
        self._check_fitted()
        _, Q = check_pair(np.zeros((1, self.mean_.size)), Q)
        D = (Q - self.mean_) @ self.basis_ - self.center_z_
        return np.einsum("ij,jk,ik->i", D, self.shape_, D)

    def contains(self, Q: np.ndarray, *, tol: float = 1e-9) -> np.ndarray:
        """(M,) bool: inside the ellipsoid (relative slack ``tol``) and on its affine hull."""
        self._check_fitted()
        _, Q = check_pair(np.zeros((1, self.mean_.size)), Q)
        Qc = Q - self.mean_
        off = np.linalg.norm(Qc - (Qc @ self.basis_) @ self.basis_.T, axis=1)
        return (self.mahalanobis(Q) <= 1.0 + tol) & (off <= tol * max(self.radius_, 1e-300))

    def _check_fitted(self) -> None:
        if not hasattr(self, "shape_"):
            raise EllipsoidNotFittedError("MinVolumeEllipsoid is not fitted: call fit(X) first")
