"""The one way to check: intervals (against independent computations) and the three-state rule."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from theorylab.engine.checks import (
    Verdict,
    against_reference,
    combine_status,
    interval_check,
    three_state,
    worst_of,
)
from theorylab.engine.stats import (
    Estimate,
    bootstrap_interval,
    difference_interval,
    exact,
    mean_interval,
    proportion_interval,
    ratio_interval,
    slope_interval,
)


# -- intervals ---------------------------------------------------------------------------------------
def test_mean_interval_matches_scipy_t_interval_and_respects_bounds():
    x = np.array([0.2, 0.5, 0.9, 0.4, 0.7])
    est = mean_interval(x)
    lo, hi = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
    assert est.value == pytest.approx(x.mean()) and (est.lo, est.hi) == pytest.approx((lo, hi))
    assert est.n == 5 and est.method == "t"
    # a fraction's interval never leaves [0, 1]
    b = mean_interval([0.0, 0.01, 0.0, 0.02, 0.0], bounds=(0, 1))
    assert b.lo == 0.0 and 0 < b.hi < 1
    one = mean_interval([3.0])
    assert one.n == 1 and not one.has_interval
    assert mean_interval([1.0, float("nan"), 3.0]).n == 2  # NaN dropped and not counted


def test_wilson_interval_against_closed_form_and_edges():
    # Wilson (1927) for 7/20 at 95%: centre (p + z²/2n)/(1 + z²/n), textbook value [0.181, 0.567]
    est = proportion_interval(7, 20)
    assert (est.lo, est.hi) == pytest.approx((0.1812, 0.5671), abs=1e-4)
    zero = proportion_interval(0, 449)
    assert zero.lo == 0.0 and zero.hi == pytest.approx(0.00848, abs=1e-4)  # the "< 1 %" upper bound
    full = proportion_interval(50, 50)
    assert full.hi == 1.0 and full.lo < 1.0


def test_slope_interval_per_replicate_and_pooled():
    rng = np.random.default_rng(0)
    x = np.tile(np.log([16, 64, 256, 1024]), 6)
    rep = np.repeat(np.arange(6), 4)
    y = -0.5 * x + 0.05 * rng.standard_normal(x.size) + rep * 0.1
    est = slope_interval(np.exp(x), np.exp(y), replicate=rep, log_x=True, log_y=True)
    per = [np.polyfit(x[rep == r], y[rep == r], 1)[0] for r in range(6)]
    lo, hi = stats.t.interval(0.95, 5, loc=np.mean(per), scale=stats.sem(per))
    assert est.n == 6 and est.value == pytest.approx(np.mean(per)) and (est.lo, est.hi) == pytest.approx((lo, hi))
    ols = slope_interval(x, y)
    res = stats.linregress(x, y)
    half = stats.t.ppf(0.975, x.size - 2) * res.stderr
    assert ols.value == pytest.approx(res.slope) and (ols.lo, ols.hi) == pytest.approx((res.slope - half, res.slope + half))


def test_ratio_difference_and_bootstrap():
    a, b = np.array([2.0, 4.0, 3.0, 5.0, 6.0]), np.array([1.0, 2.0, 1.5, 2.5, 3.0])
    r = ratio_interval(a, b)
    assert r.value == pytest.approx(2.0) and r.lo == pytest.approx(2.0) and r.hi == pytest.approx(2.0)
    d = difference_interval(a, b)
    assert d.value == pytest.approx(np.mean(a - b))
    w = difference_interval([1, 2, 3, 4], [0, 0, 1, 1, 2], paired=False)
    ci = stats.ttest_ind([1, 2, 3, 4], [0, 0, 1, 1, 2], equal_var=False).confidence_interval(0.95)
    assert w.value == pytest.approx(1.7) and (w.lo, w.hi) == pytest.approx((ci.low, ci.high))
    boot = bootstrap_interval(np.r_[np.zeros(30), np.ones(10)], np.mean, seed=1, bounds=(0, 1))
    assert 0 <= boot.lo < 0.25 < boot.hi <= 1 and boot.method == "bootstrap"


# -- the three-state rule ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("lo", "hi", "side", "t", "status"),
    [
        (0.6, 0.9, "above", 0.5, "supported"),
        (0.1, 0.4, "above", 0.5, "not supported"),
        (0.4, 0.6, "above", 0.5, "inconclusive"),
        (0.1, 0.4, "below", 0.5, "supported"),
        (0.6, 0.9, "below", 0.5, "not supported"),
        (0.3, 0.4, "within", (0.2, 0.5), "supported"),
        (0.6, 0.7, "within", (0.2, 0.5), "not supported"),
        (0.4, 0.6, "within", (0.2, 0.5), "inconclusive"),
        (math.nan, math.nan, "above", 0.5, "inconclusive"),
    ],
)
def test_three_state_rule(lo, hi, side, t, status):
    assert three_state(lo, hi, side, t) == status


def test_interval_check_needs_an_interval_unless_exact_and_says_what_would_decide():
    one = interval_check("s", "x", Estimate(0.9, math.nan, math.nan, 1), above=0.5)
    assert one.status == "inconclusive" and "no interval" in one.decide
    ex = interval_check("s", "x", exact(0.0), below=0.5)
    assert ex.status == "supported" and ex.decide is None
    straddle = interval_check("s", "x", Estimate(0.55, 0.45, 0.65, 5), above=0.5)
    # the half-width 0.1 must shrink to the gap 0.05: about 4× the replicates
    assert straddle.status == "inconclusive" and "about 21 seeds (now 5)" in straddle.decide
    against = interval_check("s", "x", Estimate(0.2, 0.1, 0.3, 5), above=0.5)
    assert against.status == "not supported" and "other side" in against.decide
    with pytest.raises(ValueError, match="exactly one"):
        interval_check("s", "x", exact(1.0), above=0.5, below=2.0)


def test_against_reference_band_and_worst_of():
    ok = against_reference("a", "x", Estimate(1.0, 0.99, 1.01, 5), 1.0, rel_tol=0.05, source="closed form", exact=True)
    off = against_reference("b", "x", Estimate(1.2, 1.15, 1.25, 5), 1.0, rel_tol=0.05, source="closed form", exact=True)
    edge = against_reference("c", "x", Estimate(1.05, 1.0, 1.1, 5), 1.0, rel_tol=0.05, source="closed form", exact=True)
    assert (ok.status, off.status, edge.status) == ("supported", "not supported", "inconclusive")
    assert ok.threshold == pytest.approx((0.95, 1.05)) and ok.exact and ok.reference_source == "closed form"
    w = worst_of([ok, edge, off], "all agree", labels=["d=1", "d=2", "d=3"])
    assert w.status == "not supported" and "worst of 3: d=3" in w.statistic and w.statement == "all agree"
    w2 = worst_of([ok, edge], "all agree", labels=["d=1", "d=2"])
    assert w2.status == "inconclusive" and "d=2" in w2.statistic
    assert worst_of([], "none") is None


def test_verdict_combines_and_handles_demonstrations_and_preconditions():
    sup = interval_check("s", "x", exact(1.0), above=0.5)
    bad = interval_check("s", "x", exact(0.0), above=0.5)
    amb = interval_check("s", "x", Estimate(0.5, 0.4, 0.6, 5), above=0.5)
    assert combine_status([]) == "inconclusive"
    v = Verdict(experiment="e", claim="c", checks=(sup, amb))
    assert v.status == "inconclusive"
    assert Verdict(experiment="e", claim="c", checks=(sup, bad)).status == "not supported"
    demo_bad = bad.model_copy(update={"demonstration": True})
    assert Verdict(experiment="e", claim="c", checks=(sup, demo_bad)).status == "supported"
    gate_fail = interval_check("gate", "acc", exact(0.5), above=0.68, precondition=True)
    gate_ok = interval_check("gate", "acc", exact(0.9), above=0.68, precondition=True)
    # a failed precondition: the test could not be run, whatever the other checks say
    assert Verdict(experiment="e", claim="c", checks=(gate_fail, bad)).status == "inconclusive"
    assert Verdict(experiment="e", claim="c", checks=(gate_ok, bad)).status == "not supported"
    assert Verdict(experiment="e", claim="c", checks=(gate_ok, sup)).status == "supported"
    d = Verdict(experiment="e", kind="instrument", claim="c", checks=(sup,)).to_json_dict()
    assert d["status"] == "supported" and d["kind"] == "instrument"
