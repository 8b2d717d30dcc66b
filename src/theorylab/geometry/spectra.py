"""Spectra of matrices: effective rank, fractional powers of PSD matrices, and the end-to-end
preconditioner of deep linear networks.

* :func:`effective_rank` — exp of the Shannon entropy of the normalized singular values
  (Roy & Vetterli 2007), the measure Arora, Cohen, Hu & Luo (2019) use to show that deep matrix
  factorizations prefer low rank; :func:`stable_rank` beside it.
* :func:`psd_power` — ``S^p`` for a symmetric positive semi-definite ``S`` (eigenvalues clipped
  at 0, ``S^0 = I``), the building block of
* :func:`end_to_end_direction` — the preconditioned gradient of Arora, Cohen & Hazan (2018,
  Theorem 1): for a depth-N linear net with balanced factors, the end-to-end matrix
  W = W_N ⋯ W_1 moves as Ẇ = −η Σ_j (WWᵀ)^{(j−1)/N} ∇L(W) (WᵀW)^{(N−j)/N}.
* :func:`balanced_factors` — N factors whose product is a given W and that satisfy the
  balancedness condition W_{j+1}ᵀW_{j+1} = W_jW_jᵀ exactly (the theorem's assumption).

Pure NumPy; nothing here knows about torch models.
"""

from __future__ import annotations

import numpy as np

from theorylab.arrays import ArrayError

__all__ = [
    "balanced_factors",
    "effective_rank",
    "end_to_end_direction",
    "product",
    "psd_power",
    "singular_values",
    "spectral_entropy",
    "stable_rank",
]


def _matrix(W: object, what: str = "matrix") -> np.ndarray:
    A = np.asarray(W, dtype=np.float64)
    if A.ndim != 2 or 0 in A.shape:
        raise ArrayError(f"{what}: expected a non-empty 2-D array, got shape {A.shape}")
    if not np.isfinite(A).all():
        raise ArrayError(f"{what}: {int((~np.isfinite(A)).sum())} NaN/inf entries")
    return A


def singular_values(W: object) -> np.ndarray:
    """Singular values of a 2-D array, descending (float64)."""
    return np.linalg.svd(_matrix(W), compute_uv=False)


def _as_spectrum(W_or_s: object, spectrum: bool) -> np.ndarray:
    if spectrum:
        s = np.asarray(W_or_s, dtype=np.float64).ravel()
        if s.size == 0 or (s < 0).any() or not np.isfinite(s).all():
            raise ArrayError("spectrum: expected finite non-negative singular values")
        return s
    return singular_values(W_or_s)


def spectral_entropy(W_or_s: object, *, spectrum: bool = False) -> float:
    """Shannon entropy (nats) of p_i = σ_i / Σσ, the normalized singular values.

    ``spectrum=True`` reads the argument as singular values instead of a matrix. The zero
    matrix has nothing to normalize; its entropy is defined as 0 (so its effective rank is 1).
    """
    s = _as_spectrum(W_or_s, spectrum)
    total = s.sum()
    if total <= 0:
        return 0.0
    p = s[s > 0] / total
    return float(-(p * np.log(p)).sum())


def effective_rank(W_or_s: object, *, spectrum: bool = False) -> float:
    """Effective rank exp(H(p)), p_i = σ_i/Σσ (Roy & Vetterli 2007).

    Equals r for a matrix with r equal non-zero singular values and lies in [1, rank] otherwise;
    it is the measure of Arora, Cohen, Hu & Luo (2019, §4) for the implicit low-rank bias of
    deep matrix factorization.

    Examples
    --------
    >>> round(effective_rank(np.diag([1.0, 1.0, 1.0, 0.0])), 12)
    3.0
    """
    return float(np.exp(spectral_entropy(W_or_s, spectrum=spectrum)))


def stable_rank(W: object) -> float:
    """‖W‖_F² / ‖W‖_2², a rank surrogate insensitive to small singular values (0 for W = 0)."""
    s = singular_values(W)
    return float((s**2).sum() / s[0] ** 2) if s[0] > 0 else 0.0


def psd_power(S: np.ndarray, p: float) -> np.ndarray:
    """``S^p`` for symmetric positive semi-definite ``S`` (…, n, n), batched over leading axes.

    Eigenvalues below 0 (rounding) are clipped to 0; ``p = 0`` gives the identity, also on the
    null space (the convention the end-to-end formula needs at j = 1 and j = N).
    """
    S = np.asarray(S, dtype=np.float64)
    if p == 0:
        return np.broadcast_to(np.eye(S.shape[-1]), S.shape).copy()
    w, V = np.linalg.eigh(0.5 * (S + np.swapaxes(S, -1, -2)))
    w = np.clip(w, 0.0, None) ** p
    return (V * w[..., None, :]) @ np.swapaxes(V, -1, -2)


def end_to_end_direction(W: np.ndarray, grad: np.ndarray, depth: int) -> np.ndarray:
    """Σ_{j=1..N} (WWᵀ)^{(j−1)/N} ∇L(W) (WᵀW)^{(N−j)/N}: the end-to-end preconditioned gradient.

    Arora, Cohen & Hazan (ICML 2018, Theorem 1): gradient flow on the factors of a depth-N
    linear net from a balanced start moves the product W = W_N ⋯ W_1 as Ẇ = −η·(this). For
    N = 1 it is ∇L(W) itself. Batched over leading axes of ``W`` and ``grad`` (…, k, d).

    Parameters
    ----------
    W : (…, k, d) end-to-end matrix.
    grad : (…, k, d) gradient of the loss at W.
    depth : number of factors N ≥ 1.
    """
    if depth < 1:
        raise ValueError(f"depth must be ≥ 1, got {depth}")
    W = np.asarray(W, dtype=np.float64)
    G = np.asarray(grad, dtype=np.float64)
    if depth == 1:
        return G.copy()
    Wt = np.swapaxes(W, -1, -2)
    left, right = W @ Wt, Wt @ W
    out = np.zeros_like(G)
    for j in range(1, depth + 1):
        out += psd_power(left, (j - 1) / depth) @ G @ psd_power(right, (depth - j) / depth)
    return out


def product(factors: list[np.ndarray]) -> np.ndarray:
    """W_N ⋯ W_1 for ``factors = [W_1, …, W_N]`` (W_1 acts first)."""
    out = factors[0]
    for F in factors[1:]:
        out = F @ out
    return out


def balanced_factors(W: np.ndarray, depth: int, rng: np.random.Generator, *,
                     width: int | None = None) -> list[np.ndarray]:
    """Factors [W_1, …, W_N] with W_N ⋯ W_1 = W and W_{j+1}ᵀW_{j+1} = W_jW_jᵀ exactly.

    With W = UΣVᵀ (thin SVD, rank r), W_j = U_j Σ^{1/N} U_{j−1}ᵀ, where U_0 = V, U_N = U and the
    hidden U_j (width × r) have random orthonormal columns (Arora, Cohen, Golowich & Hu 2019,
    "balanced initialization"). ``width`` (default max(k, d)) must be ≥ min(k, d).
    """
    W = _matrix(W, "W")
    k, d = W.shape
    if depth < 1:
        raise ValueError(f"depth must be ≥ 1, got {depth}")
    if depth == 1:
        return [W.copy()]
    U, s, Vt = np.linalg.svd(W, full_matrices=False)
    r = s.size
    h = width if width is not None else max(k, d)
    if h < r:
        raise ValueError(f"hidden width {h} is below the rank bound min(k, d) = {r}")
    bases = [Vt.T]
    for _ in range(depth - 1):
        Q, _ = np.linalg.qr(rng.standard_normal((h, r)))
        bases.append(Q)
    bases.append(U)
    root = s ** (1.0 / depth)
    return [(bases[j + 1] * root) @ bases[j].T for j in range(depth)]
