"""The one validator and the one subsampler of point arrays, shared by every layer.

Bad user arrays are refused here with a message that names the problem (shape, dtype, NaN/inf,
empty, complex), as a :class:`~theorylab.errors.TheorylabError` subclass the caller chooses,
so the CLI prints one line and exits with code 2.
"""

from __future__ import annotations

import numpy as np

from theorylab.errors import TheorylabError

__all__ = ["ArrayError", "as_labels", "as_points", "check_pair", "subsample"]


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
        raise error(f"{what}: empty (0 rows)" if A.shape[0] == 0 else
                    f"{what}: {A.shape[0]} row{'s' if A.shape[0] != 1 else ''}, need at least {min_rows}")
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


def as_labels(y: object, what: str = "labels", *, n: int | None = None, n_classes: int | None = None,
              error: type[TheorylabError] = ArrayError) -> np.ndarray:
    """``y`` as int64 class indices of shape (n,), or ``error`` naming the problem.

    Accepts a 1-D array or one column (n, 1) of integers, or of floats that are whole numbers
    (``1.0``); refuses other shapes, text, NaN/inf, fractions, negative labels, a count other
    than ``n`` (the rows of the points they label) and labels ``>= n_classes``.
    """
    A = np.asarray(y)
    if A.ndim == 2 and A.shape[1] == 1:
        A = A[:, 0]
    if A.ndim != 1:
        raise error(f"{what}: expected one label per point (a 1-D array or one column), got shape {A.shape}")
    if A.size == 0:
        raise error(f"{what}: empty (0 labels)")
    if n is not None and A.shape[0] != n:
        raise error(f"{what}: {A.shape[0]} labels for {n} points")
    if np.iscomplexobj(A) or not (np.issubdtype(A.dtype, np.number) or A.dtype == bool):
        raise error(f"{what}: labels must be integer class indices, got dtype {A.dtype}")
    if np.issubdtype(A.dtype, np.floating):
        bad = ~np.isfinite(A) | (A != np.round(A))
        if bad.any():
            i = int(np.argmax(bad))
            raise error(f"{what}: labels must be integer class indices; row {i} is {A[i].item()!r}")
    A = A.astype(np.int64)
    if (A < 0).any():
        i = int(np.argmax(A < 0))
        raise error(f"{what}: labels must be class indices >= 0; row {i} is {A[i]}")
    if n_classes is not None and (A >= n_classes).any():
        i = int(np.argmax(A >= n_classes))
        raise error(f"{what}: row {i} has label {A[i]}, outside 0..{n_classes - 1} ({n_classes} classes)")
    return A


def subsample(n: int, k: int | None, seed: int) -> np.ndarray:
    """Indices of ``min(k, n)`` rows drawn without replacement (all rows, in order, if k is None or ≥ n)."""
    if k is None or k >= n:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=k, replace=False))
