"""Nearest-neighbour distance: the soft "how far from the training data" score.

A proximity notion readers of Balestriero, Pesenti & LeCun (2021) asked for alongside hull
membership (Bonnasse-Gahot 2022, arXiv 2207.08648, found such proximity measures track
accuracy better than membership). Backed by :class:`sklearn.neighbors.NearestNeighbors`.
"""

from __future__ import annotations

import numpy as np
from sklearn.neighbors import NearestNeighbors

from theorylab.geometry.hull import GeometryError, check_pair

__all__ = ["knn_distance"]


def knn_distance(
    X: np.ndarray, Q: np.ndarray, *, k: int = 1, reduce: str = "kth", exclude_self: bool = False
) -> np.ndarray:
    """Euclidean distance from each query to its k nearest training points.

    Parameters
    ----------
    X : (N, d) training points; Q : (M, d) queries.
    k : number of neighbours (1 ≤ k ≤ N, or N − 1 with ``exclude_self``).
    reduce : ``"kth"`` the distance to the k-th neighbour, ``"mean"`` the mean over the k.
    exclude_self : Q is X itself: skip each point's own entry (leave-one-out).

    Returns
    -------
    (M,) float, data units.

    Examples
    --------
    >>> import numpy as np
    >>> knn_distance(np.array([[0.0], [3.0]]), np.array([[1.0]])).tolist()
    [1.0]
    """
    X, Q = check_pair(X, Q)
    if reduce not in ("kth", "mean"):
        raise GeometryError(f"reduce must be 'kth' or 'mean', got {reduce!r}")
    if exclude_self and Q.shape != X.shape:
        raise GeometryError("exclude_self needs Q to be the training points themselves")
    kk = k + int(exclude_self)
    if not 1 <= k or kk > X.shape[0]:
        raise GeometryError(f"k={k} needs 1 ≤ k ≤ {X.shape[0] - int(exclude_self)} training points")
    if Q.shape[0] == 0:
        return np.zeros(0)
    nn = NearestNeighbors(n_neighbors=kk).fit(X)
    dist, idx = nn.kneighbors(Q)
    if exclude_self:
        # drop each query's own index (ties at distance 0 may put it anywhere among the first)
        own = idx == np.arange(Q.shape[0])[:, None]
        first = np.where(own.any(axis=1), own.argmax(axis=1), kk - 1)
        keep = np.ones_like(own)
        keep[np.arange(Q.shape[0]), first] = False
        dist = dist[keep].reshape(Q.shape[0], k)
    return dist[:, -1] if reduce == "kth" else dist.mean(axis=1)
