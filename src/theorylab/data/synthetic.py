"""Synthetic data as deterministic functions of their arguments (a seed or a generator).

* :func:`gaussian` — isotropic N(0, I_d / d): radius ≈ 1, the Bubeck–Sellke normalisation.
* :func:`noisy_labels` — a fraction of labels replaced by random other classes.
* :func:`planted_margin_data` — 2-D linearly separable data whose hard-margin SVM direction is
  planted (Soudry et al. 2018, Fig. 1, made asymmetric).
"""

from __future__ import annotations

import numpy as np

__all__ = ["gaussian", "noisy_labels", "planted_margin_data"]


def gaussian(n: int, d: int, seed: int, *, scale: float | None = None) -> np.ndarray:
    """``n`` i.i.d. draws of N(0, scale² I_d); ``scale=None`` uses 1/sqrt(d) so that ‖x‖ ≈ 1."""
    rng = np.random.default_rng(seed)
    s = 1.0 / np.sqrt(d) if scale is None else scale
    return rng.standard_normal((n, d)) * s


def noisy_labels(y: np.ndarray, fraction: float, n_classes: int, seed: int) -> np.ndarray:
    """Replace a ``fraction`` of labels by uniformly random *other* classes."""
    rng = np.random.default_rng(seed)
    y = np.array(y, copy=True)
    k = round(fraction * len(y))
    idx = rng.choice(len(y), size=k, replace=False)
    y[idx] = (y[idx] + rng.integers(1, n_classes, size=k)) % n_classes
    return y


def planted_margin_data(rng: np.random.Generator, n_points: int, margin_gap: float,
                        sv_spread: tuple[float, float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """2-D separable data whose hard-margin SVM (no intercept) is a planted unit vector u.

    Following the data of Soudry, Hoffer, Nacson, Gunasekar & Srebro 2018 ("The Implicit Bias
    of Gradient Descent on Separable Data", Fig. 1) — two support vectors and random points off
    the margin — but asymmetric, so that the residual ρ(t) of gradient descent is not parallel
    to the max-margin direction.

    Parameters
    ----------
    rng : draws the direction, the offsets, the off-margin points and the labels.
    n_points : points in all (two of them support vectors).
    margin_gap : every other point has margin uᵀz ≥ 1 + ``margin_gap``.
    sv_spread : (low, high) range of the support vectors' offsets |s| along the separator.

    Returns
    -------
    X : (n, 2) points; y : (n,) labels in {−1, +1}; u : (2,) the planted max-margin direction.
        The support vectors are z = u + s·u⊥ (s ∈ ±``sv_spread``) with z = y·x, so ŵ = u exactly
        (KKT: u = α₁z₁ + α₂z₂ with α ≥ 0).
    """
    theta = rng.uniform(0.0, 2 * np.pi)
    u = np.array([np.cos(theta), np.sin(theta)])
    perp = np.array([-u[1], u[0]])
    s1 = rng.uniform(*sv_spread)
    s2 = -rng.uniform(*sv_spread)
    Z = [u + s1 * perp, u + s2 * perp]
    for _ in range(n_points - 2):
        Z.append((1.0 + margin_gap + rng.exponential(1.0)) * u + rng.normal(0.0, 1.5) * perp)
    Z = np.asarray(Z)
    y = rng.choice(np.array([-1.0, 1.0]), size=n_points)
    y[0], y[1] = 1.0, -1.0
    return Z * y[:, None], y, u
