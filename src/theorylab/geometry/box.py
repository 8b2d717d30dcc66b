"""Axis-aligned bounding-box notions of "inside": membership and per-coordinate in-range fraction.

Not in Balestriero, Pesenti & LeCun (2021), arXiv 2110.09485: the lab's own contrast with
their convex-hull definition. For continuous i.i.d. data each coordinate of a new point
lies in that coordinate's training range with probability exactly (N − 1)/(N + 1)
(exchangeability of N + 1 draws: the new one is neither the smallest nor the largest), so
the box says "interpolation" almost always where the hull says almost never.
"""

from __future__ import annotations

import numpy as np

from theorylab.geometry.hull import check_pair

__all__ = ["box_probability", "in_box", "in_range_fraction"]


def _ranges(X: np.ndarray, Q: np.ndarray, tol: float) -> np.ndarray:
    lo = X.min(axis=0) - tol
    hi = X.max(axis=0) + tol
    return (Q >= lo) & (Q <= hi)


def in_box(X: np.ndarray, Q: np.ndarray, *, tol: float = 0.0) -> np.ndarray:
    """Membership of queries in the training set's axis-aligned bounding box.

    Parameters
    ----------
    X : (N, d) training points; Q : (M, d) queries.
    tol : slack added to each coordinate range (data units).

    Returns
    -------
    (M,) bool — every coordinate of q within [min_i x_ik − tol, max_i x_ik + tol].

    Examples
    --------
    >>> import numpy as np
    >>> in_box(np.array([[0.0, 0.0], [1.0, 2.0]]), np.array([[0.5, 1.0], [0.5, 3.0]])).tolist()
    [True, False]
    """
    X, Q = check_pair(X, Q)
    return _ranges(X, Q, tol).all(axis=1)


def in_range_fraction(X: np.ndarray, Q: np.ndarray, *, tol: float = 0.0) -> np.ndarray:
    """Per-query fraction of coordinates inside the training range (the "in-range fraction").

    Parameters
    ----------
    X : (N, d) training points; Q : (M, d) queries; tol : slack per coordinate (data units).

    Returns
    -------
    (M,) float in [0, 1]. Its expectation for continuous i.i.d. data is (N − 1)/(N + 1)
    whatever the dependence between coordinates.
    """
    X, Q = check_pair(X, Q)
    return _ranges(X, Q, tol).mean(axis=1)


def box_probability(n: int | np.ndarray, d: int | np.ndarray) -> np.ndarray:
    """P(a new i.i.d. point lies in the box of n points) for independent continuous coordinates.

    Exactly ((n − 1)/(n + 1))^d; the per-coordinate probability is the d = 1 case.

    Examples
    --------
    >>> round(float(box_probability(60_000, 784)), 3)
    0.974
    """
    n = np.asarray(n, dtype=float)
    return ((n - 1.0) / (n + 1.0)) ** np.asarray(d, dtype=float)
