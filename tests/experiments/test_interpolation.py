"""Claims C and D: helper formulas and checks that can fail.

The conformance suite runs every experiment's smoke preset; here the checks are fed
hand-made results so that a wrong measurement must turn into "not supported".
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from theorylab.engine.experiment import Results, get_experiment
from theorylab.engine.results import run_in_memory
from theorylab.experiments.interpolation import N50_REFERENCE, _reduce, fit_n50, wendel_outside


def test_wendel_reference_values() -> None:
    # shared/references/interpolation.md §2
    for (d, n), p in {(10, 20): 0.500, (10, 30): 0.0307, (50, 100): 0.500, (50, 120): 0.0331,
                      (100, 230): 0.0236}.items():
        assert wendel_outside(n, d) == pytest.approx(p, abs=6e-4)


def test_fit_n50_recovers_a_logistic_curve() -> None:
    ns = np.array([4, 8, 16, 32, 64, 128, 256])
    true_n50, slope = 40.0, 2.0
    p = 1 / (1 + np.exp(-slope * (np.log(ns) - np.log(true_n50))))
    total = np.full(ns.size, 100_000)
    assert fit_n50(ns, np.round(p * total), total) == pytest.approx(true_n50, rel=0.01)
    assert fit_n50(ns, np.zeros(ns.size), total) == np.inf  # never reached: censored


def _results(name: str, tables: dict[str, pd.DataFrame], n_seeds: int = 2) -> Results:
    exp = get_experiment(name)
    cfg = exp.make_config("quick")
    runs = pd.DataFrame({"run_id": [f"r{i}" for i in range(n_seeds)], "seed": range(n_seeds)})
    return Results(name, tables, runs, {f"r{i}": cfg for i in range(n_seeds)})


def _curve_rows(setting: str, d: int, n50: float, seeds: int = 2) -> list[dict]:
    rows = []
    for s in range(seeds):
        for n in (4, 8, 16, 32, 64, 128, 256, 512):
            p = 1 / (1 + np.exp(-2.0 * (np.log(n) - np.log(n50))))
            rows.append({"seed": s, "setting": setting, "dim": d, "n_points": n,
                         "inside": round(p * 1000), "total": 1000, "p_inside": p})
    return rows


def test_hull_vs_dimension_check_fails_on_wrong_n50() -> None:
    exp = get_experiment("hull-vs-dimension")
    wendel = pd.DataFrame([{"seed": s, "dim": 10, "n_points": 20, "outside": 50, "trials": 100,
                            "p_out": 0.5, "p_exact": 0.5} for s in range(2)])

    def tables(scale: float) -> dict[str, pd.DataFrame]:
        rows = []
        for d, (lo, hi) in N50_REFERENCE.items():
            rows += _curve_rows("gaussian", d, scale * (lo + hi) / 2)
        for d in (5, 6):
            rows += _curve_rows("affine4", d, 60.5)
        curve = pd.DataFrame(rows)
        n50 = curve.groupby(["seed", "setting", "dim"]).apply(
            lambda g: fit_n50(g.n_points, g.inside, g.total), include_groups=False).rename("n50").reset_index()
        return {"curve": curve, "n50": n50, "wendel": wendel}

    good = exp.check(_results("hull-vs-dimension", tables(1.0)))
    assert good.status == "supported", good.summary()
    bad = exp.check(_results("hull-vs-dimension", tables(1.5)))  # 50% more points than the reference
    assert bad.status == "not supported"


def test_dimred_check_needs_all_vertices_outside() -> None:
    exp = get_experiment("dimred-illusion")
    rows = [{"seed": s, "method": m, "dim": 8, "frac_inside": f, "ok": True}
            for s in range(2) for m, f in (("original", 0.0), ("lle", 0.9), ("isomap", 0.8))]
    assert exp.check(_results("dimred-illusion", {"embedded": pd.DataFrame(rows)})).status == "supported"
    rows[0]["frac_inside"] = 0.01  # a vertex "inside" in the original space: impossible
    assert exp.check(_results("dimred-illusion", {"embedded": pd.DataFrame(rows)})).status == "not supported"


def test_pixel_reductions_keep_the_requested_dimensions() -> None:
    rng = np.random.default_rng(0)
    Xtr, Xte = rng.random((50, 64)), rng.random((10, 64))
    for method, dim, want in (("crop", 16, 16), ("subsample", 16, 16), ("pca", 5, 5), ("crop", 36, 36)):
        A, B, k = _reduce(Xtr, Xte, (1, 8, 8), method, dim)
        assert A.shape == (50, want) and B.shape == (10, want) and k == want
    A, _, k = _reduce(rng.random((30, 40)), rng.random((5, 40)), (40,), "subsample", 10)
    assert A.shape == (30, 10) and k == 10


def test_dimred_smoke_is_deterministic() -> None:
    exp = get_experiment("dimred-illusion")
    a = run_in_memory(exp, preset="smoke", seeds=1)
    b = run_in_memory(exp, preset="smoke", seeds=1)
    pd.testing.assert_frame_equal(a.table("embedded"), b.table("embedded"))
    orig = a.table("embedded")
    assert (orig[orig.method == "original"].frac_inside == 0).all()
