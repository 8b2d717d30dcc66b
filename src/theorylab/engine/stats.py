"""Intervals over independent replicates: the statistics every check is built on.

Each function returns an :class:`Estimate` — a point value, a two-sided interval at
``level``, the number of independent replicates ``n`` behind it and the method's name — so a
check never has to know how its interval was made. The choice of method follows the quantity:

* a mean over replicates (seeds, training sets): Student-t (:func:`mean_interval`), optionally
  intersected with the quantity's range (``bounds``): a fraction's interval stays in [0, 1];
* a proportion of independent Bernoulli trials: Wilson score (:func:`proportion_interval`);
* a statistic with no simple sampling law (a median, an AUROC): percentile bootstrap over
  replicates (:func:`bootstrap_interval`);
* a trend: the least-squares slope per replicate, then a t-interval over replicates
  (:func:`slope_interval`), or one pooled fit with its OLS interval when there are no replicates;
* an effect against a control: paired difference or paired log-ratio
  (:func:`difference_interval`, :func:`ratio_interval`).

Intersecting a confidence interval with the parameter space keeps its coverage (the true value
is in the space), so clipping to ``bounds`` is honest; it never makes an interval wider.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "Estimate",
    "bootstrap_interval",
    "difference_interval",
    "exact",
    "mean_interval",
    "proportion_interval",
    "ratio_interval",
    "slope_interval",
    "t_quantile",
]

ArrayLike = Sequence[float] | np.ndarray


@dataclass(frozen=True)
class Estimate:
    """A point estimate with a two-sided interval over ``n`` independent replicates.

    ``lo``/``hi`` are NaN when no interval exists (fewer than two replicates); ``method`` names
    how the interval was made (``t``, ``wilson``, ``bootstrap``, ``ols``, ``exact``).
    """

    value: float
    lo: float
    hi: float
    n: int
    level: float = 0.95
    method: str = "t"

    @property
    def has_interval(self) -> bool:
        return bool(np.isfinite(self.lo) and np.isfinite(self.hi))

    @property
    def half_width(self) -> float:
        return 0.5 * (self.hi - self.lo) if self.has_interval else math.nan

    def interval(self) -> tuple[float, float] | None:
        return (float(self.lo), float(self.hi)) if self.has_interval else None

    def map(self, f: Callable[[float], float]) -> Estimate:
        """The estimate under a monotone increasing transform ``f`` (e.g. ``exp``)."""
        return Estimate(f(self.value), f(self.lo) if self.has_interval else math.nan,
                        f(self.hi) if self.has_interval else math.nan, self.n, self.level, self.method)


def t_quantile(level: float, dof: float) -> float:
    """Two-sided Student-t quantile: the half-width factor of a ``level`` interval."""
    from scipy import stats

    return float(stats.t.ppf(0.5 + level / 2, dof))


def _finite(values: ArrayLike) -> np.ndarray:
    x = np.asarray(values, dtype=float).ravel()
    return x[np.isfinite(x)]


def _clip(value: float, lo: float, hi: float, bounds: tuple[float, float] | None) -> tuple[float, float, float]:
    if bounds is None:
        return value, lo, hi
    a, b = bounds
    return float(np.clip(value, a, b)), float(np.clip(lo, a, b)), float(np.clip(hi, a, b))


def exact(value: float) -> Estimate:
    """A value computed exactly (a certified count, a closed form): a zero-width interval."""
    v = float(value)
    return Estimate(v, v, v, 1, 1.0, "exact")


def mean_interval(values: ArrayLike, level: float = 0.95, *,
                  bounds: tuple[float, float] | None = None) -> Estimate:
    """Mean of independent replicates with a Student-t interval (NaN interval if n < 2).

    ``bounds`` is the quantity's range (``(0, 1)`` for a fraction): the interval is intersected
    with it. Non-finite values are dropped (and not counted in ``n``).
    """
    x = _finite(values)
    n = int(x.size)
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, 0, level, "t")
    m = float(x.mean())
    if n == 1:
        return Estimate(m, math.nan, math.nan, 1, level, "t")
    half = t_quantile(level, n - 1) * float(x.std(ddof=1)) / math.sqrt(n)
    m, lo, hi = _clip(m, m - half, m + half, bounds)
    return Estimate(m, lo, hi, n, level, "t")


def proportion_interval(successes: float, trials: float, level: float = 0.95) -> Estimate:
    """Fraction of ``trials`` independent Bernoulli trials that succeeded, Wilson score interval.

    The interval stays in [0, 1] and is sensible at 0 or ``trials`` successes (Wilson 1927).
    """
    from scipy import stats

    k, n = float(successes), float(trials)
    if n <= 0:
        return Estimate(math.nan, math.nan, math.nan, 0, level, "wilson")
    p = k / n
    z = float(stats.norm.ppf(0.5 + level / 2))
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(max(p * (1 - p) / n + z * z / (4 * n * n), 0.0)) / denom
    lo = 0.0 if k == 0 else max(0.0, centre - half)  # exact ends: rounding must not lift 0 or lower 1
    hi = 1.0 if k == n else min(1.0, centre + half)
    return Estimate(p, lo, hi, int(n), level, "wilson")


def bootstrap_interval(values: ArrayLike, statistic: Callable[[np.ndarray], float] = np.mean,
                       level: float = 0.95, *, n_boot: int = 4000, seed: int = 0,
                       bounds: tuple[float, float] | None = None) -> Estimate:
    """Percentile-bootstrap interval of ``statistic`` over independent replicates ``values``.

    ``values`` may be 2-D (rows are replicates, resampled together). The percentile interval
    of a statistic with a bounded range stays in that range.
    """
    x = np.asarray(values, dtype=float)
    if x.ndim == 1:
        x = x[np.isfinite(x)]
    n = len(x)
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, 0, level, "bootstrap")
    value = float(statistic(x))
    if n == 1:
        return Estimate(value, math.nan, math.nan, 1, level, "bootstrap")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(n_boot, n))
    boots = np.array([statistic(x[i]) for i in idx], dtype=float)
    boots = boots[np.isfinite(boots)]
    if boots.size == 0:
        return Estimate(value, math.nan, math.nan, n, level, "bootstrap")
    a = (1 - level) / 2
    lo, hi = (float(q) for q in np.quantile(boots, [a, 1 - a]))
    value, lo, hi = _clip(value, lo, hi, bounds)
    return Estimate(value, lo, hi, n, level, "bootstrap")


def difference_interval(a: ArrayLike, b: ArrayLike, level: float = 0.95, *, paired: bool = True) -> Estimate:
    """Mean of ``a − b``: paired t-interval over replicate pairs, or Welch's if unpaired."""
    if paired:
        x, y = np.asarray(a, float), np.asarray(b, float)
        if x.shape != y.shape:
            raise ValueError(f"paired difference needs equal shapes, got {x.shape} and {y.shape}")
        return mean_interval(x - y, level)
    x, y = _finite(a), _finite(b)
    if len(x) < 2 or len(y) < 2:
        return Estimate(float(np.mean(x) - np.mean(y)) if len(x) and len(y) else math.nan,
                        math.nan, math.nan, min(len(x), len(y)), level, "welch")
    va, vb = x.var(ddof=1) / len(x), y.var(ddof=1) / len(y)
    se = math.sqrt(va + vb)
    dof = (va + vb) ** 2 / (va**2 / (len(x) - 1) + vb**2 / (len(y) - 1)) if se > 0 else len(x) + len(y) - 2
    d = float(x.mean() - y.mean())
    half = t_quantile(level, dof) * se  # Welch–Satterthwaite: fractional degrees of freedom
    return Estimate(d, d - half, d + half, min(len(x), len(y)), level, "welch")


def ratio_interval(a: ArrayLike, b: ArrayLike, level: float = 0.95) -> Estimate:
    """Geometric-mean ratio ``a / b`` over paired replicates: t-interval of log(a/b), exponentiated.

    Pairs with a non-positive member are dropped (a ratio of sizes needs both positive).
    """
    x, y = np.asarray(a, float), np.asarray(b, float)
    ok = (x > 0) & (y > 0) & np.isfinite(x) & np.isfinite(y)
    est = mean_interval(np.log(x[ok] / y[ok]), level)
    return Estimate(math.exp(est.value) if est.n else math.nan,
                    math.exp(est.lo) if est.has_interval else math.nan,
                    math.exp(est.hi) if est.has_interval else math.nan, est.n, level, "t-log")


def _ols(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Least-squares slope and its standard error (NaN SE with fewer than 3 points)."""
    xm = x - x.mean()
    sxx = float(xm @ xm)
    if sxx == 0:
        return math.nan, math.nan
    slope = float(xm @ (y - y.mean())) / sxx
    if len(x) < 3:
        return slope, math.nan
    resid = y - y.mean() - slope * xm
    return slope, math.sqrt(float(resid @ resid) / (len(x) - 2) / sxx)


def slope_interval(x: ArrayLike, y: ArrayLike, replicate: ArrayLike | None = None, level: float = 0.95,
                   *, log_x: bool = False, log_y: bool = False) -> Estimate:
    """Fitted slope of ``y`` on ``x`` (log–log when both flags are set) with an interval.

    With ``replicate`` labels, one least-squares slope per replicate and a t-interval over the
    replicates (their independence is what the interval rests on). Without, one pooled fit with
    the OLS interval on ``len(x) − 2`` degrees of freedom.
    """
    X, Y = np.asarray(x, float).ravel(), np.asarray(y, float).ravel()
    ok = np.isfinite(X) & np.isfinite(Y)
    if log_x:
        ok &= X > 0
    if log_y:
        ok &= Y > 0
    X, Y = X[ok], Y[ok]
    if log_x:
        X = np.log(X)
    if log_y:
        Y = np.log(Y)
    if replicate is not None:
        R = np.asarray(replicate).ravel()[ok]
        slopes = []
        for r in np.unique(R):
            m = R == r
            if np.unique(X[m]).size >= 2:
                slopes.append(_ols(X[m], Y[m])[0])
        return mean_interval(slopes, level)
    if np.unique(X).size < 2:
        return Estimate(math.nan, math.nan, math.nan, 0, level, "ols")
    slope, se = _ols(X, Y)
    if not np.isfinite(se):
        return Estimate(slope, math.nan, math.nan, len(X), level, "ols")
    half = t_quantile(level, len(X) - 2) * se
    return Estimate(slope, slope - half, slope + half, len(X), level, "ols")
