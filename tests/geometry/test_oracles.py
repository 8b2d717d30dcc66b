"""Exact oracles of hull membership (Wendel, box, Efron) and the N₅₀ estimator they validate."""

from __future__ import annotations

import math

import numpy as np
import pytest

from theorylab.geometry import extreme_points
from theorylab.geometry.oracles import (
    box_probability,
    crossing,
    efron_outside_draws,
    in_range_probability,
    qhull_vertex_count,
    wendel_outside,
)


def test_wendel_reference_values() -> None:
    # shared/references/interpolation.md §2 (exact column)
    for (d, n), p in {(10, 20): 0.500, (10, 30): 0.0307, (50, 100): 0.500, (50, 120): 0.0331,
                      (100, 230): 0.0236}.items():
        assert wendel_outside(n, d) == pytest.approx(p, abs=6e-4)
    assert wendel_outside(3, 5) == 1.0  # fewer points than dimensions: 0 is never covered
    assert wendel_outside(2, 1) == pytest.approx(0.5)  # two points on a line straddle 0 half the time
    with pytest.raises(ValueError):
        wendel_outside(0, 3)


def test_box_and_in_range_formulas() -> None:
    assert float(in_range_probability(9)) == pytest.approx(0.8)
    assert float(box_probability(60_000, 784)) == pytest.approx(0.974, abs=5e-4)
    assert float(box_probability(20, 5)) == pytest.approx(float(in_range_probability(20)) ** 5)


def test_qhull_vertex_count_matches_in_hull_leave_one_out() -> None:
    g = np.random.default_rng(0)
    for d, n in ((2, 15), (3, 30), (4, 40)):
        P = g.standard_normal((n, d))
        assert qhull_vertex_count(P) == int(extreme_points(P).sum())
    assert qhull_vertex_count(g.standard_normal((3, 4))) == 3  # ≤ d + 1 points: all vertices


def test_efron_identity_reproduces_the_published_probability() -> None:
    # CLAIMS.md C: P(in hull of N = 10) = 0.489 at d = 2 (Efron with qhull vertex counts)
    v = efron_outside_draws(10, 2, 4000, np.random.default_rng(1))
    se = v.std(ddof=1) / math.sqrt(v.size)
    assert abs((1 - v.mean()) - 0.489) < 4 * se + 1e-3


def test_crossing_interpolates_in_log_n_and_flags_censoring() -> None:
    assert crossing(np.array([8.0, 16.0]), np.array([0.25, 0.75])) == pytest.approx(math.sqrt(8 * 16))
    assert crossing(np.array([4, 8, 16]), np.array([0.1, 0.2, 0.3])) == math.inf  # never reaches 1/2
    assert math.isnan(crossing(np.array([4, 8]), np.array([0.6, 0.7])))  # already above at the start
    with pytest.raises(ValueError):
        crossing(np.array([8, 4]), np.array([0.1, 0.9]))


@pytest.mark.parametrize(("d", "grid", "n50"), [(2, (8, 12), 10.3), (3, (23, 32), 27.0), (4, (57, 80), 62.3)])
def test_n50_estimator_on_efron_curve_matches_efron_n50(d: int, grid: tuple[int, int], n50: float) -> None:
    """The N₅₀ estimator fed Efron's curve at the bracketing sizes of hull-vs-dimension's √2 grid
    ((d+1)·√2^k) returns Efron's N₅₀ (CLAIMS.md C) within 2 % — the old logistic-in-log-N fit gave
    +5–8 % on the same exact curve."""
    g = np.random.default_rng(d)
    draws = {2: 3000, 3: 2000, 4: 1200}[d]
    p = np.array([1 - efron_outside_draws(n, d, draws, g).mean() for n in grid])
    assert p[0] < 0.5 <= p[1]
    assert crossing(np.asarray(grid, float), p) == pytest.approx(n50, rel=0.02)
