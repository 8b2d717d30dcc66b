"""The one validator and the one subsampler of point arrays, shared by every layer.

Bad user arrays are refused here with a message that names the problem (shape, dtype, NaN/inf,
empty, complex), as a :class:`~theorylab.errors.TheorylabError` subclass the caller chooses,
so the CLI prints one line and exits with code 2.
"""

from __future__ import annotations

import numpy as np

from theorylab.errors import TheorylabError

__all__ = ["ArrayError", "as_points", "check_pair", "subsample"]


class ArrayError(TheorylabError, ValueError):
    """An array that cannot be used as points: the message names the problem."""


def as_points(X: object, what: str, *, min_rows: int = 1, allow_1d: bool = False,
              error: type[TheorylabError] = ArrayError) -> np.ndarray:
    """``X`` as a C-contiguous float64 (n, d) array, or ``error`` naming the problem.

    Parameters
    ----------
    what : how the message names the array ("training points", "queries", "X").
    min_rows : fewest rows accepted (0 allows an empty array).
    allow_1d : read a 1-D array as one column (n, 1).
    """
    A = np.asarray(X)
    if A.ndim == 1 and allow_1d:
        A = A[:, None]
    if A.ndim != 2:
        raise error(f"{what}: expected a 2-D array (n points, d features), got shape {A.shape}")
    if np.iscomplexobj(A):
        raise error(f"{what}: complex dtype {A.dtype} (points must be real)")
    if not (np.issubdtype(A.dtype, np.number) or A.dtype == bool):
        raise error(f"{what}: non-numeric dtype {A.dtype}")
    if A.shape[0] < min_rows:
        raise error(f"{what}: {A.shape[0]} rows, need at least {min_rows}")
    if A.shape[1] == 0:
        raise error(f"{what}: points have 0 coordinates")
    A = np.ascontiguousarray(A, dtype=np.float64)
    bad = ~np.isfinite(A)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise error(f"{what}: {int(bad.sum())} NaN/inf values (first at row {r}, column {c})")
    return A


def check_pair(X: object, Q: object, *, what: tuple[str, str] = ("training points", "queries"),
               error: type[TheorylabError] = ArrayError) -> tuple[np.ndarray, np.ndarray]:
    """Validate reference points (N, d) and queries (M, d) of the same width (a 1-D query is one row)."""
    A = as_points(X, what[0], error=error)
    B = np.asarray(Q)
    if B.ndim == 1 and B.shape[0] == A.shape[1]:
        B = B[None, :]
    B = as_points(B, what[1], min_rows=0, error=error)
    if B.shape[1] != A.shape[1]:
        raise error(f"{what[1]} have {B.shape[1]} coordinates but {what[0]} have {A.shape[1]}")
    return A, B


def subsample(n: int, k: int | None, seed: int) -> np.ndarray:
    """Indices of ``min(k, n)`` rows drawn without replacement (all rows, in order, if k is None or ≥ n)."""
    if k is None or k >= n:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=k, replace=False))
