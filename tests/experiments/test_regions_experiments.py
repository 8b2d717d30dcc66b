"""The claim-E experiments: smoke runs, their checks on fabricated tables, and helpers.

The checks are tested on tables we write by hand, so that a verdict provably flips when the
measured numbers cross the stated thresholds (a check that cannot fail tests nothing).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from theorylab.engine.experiment import get_experiment
from theorylab.engine.results import run_in_memory
from theorylab.experiments.regions import boundary_points, phase_score
from theorylab.models.builders import mlp
from theorylab.models.train import predict

NAMES = ("regions-per-neuron", "regions-2d-slice", "local-complexity-dynamics")


@pytest.fixture(scope="module")
def smoke_results():
    return {name: run_in_memory(get_experiment(name), preset="smoke", seeds=1) for name in NAMES}


@pytest.mark.parametrize("name", NAMES)
def test_smoke_runs_check_and_draw(name, smoke_results):
    exp = get_experiment(name)
    res = smoke_results[name]
    assert set(res.tables) == set(exp.tables)
    verdict = exp.check(res)
    assert verdict.checks and verdict.status in ("supported", "not supported", "inconclusive")
    assert all(c.n >= 0 for c in verdict.checks)
    figs = exp.figures(res)
    assert figs and all(f.axes for f in figs.values())


def test_regions_per_neuron_smoke_counts_are_sane(smoke_results):
    seg = smoke_results["regions-per-neuron"].table("segments")
    assert (seg["mean_regions"] >= 1).all()
    rnd = seg[seg.kind == "random"]
    # at He init with tiny biases each first-layer neuron is crossed with probability θ/π
    assert rnd["regions_per_neuron"].between(0.2, 1.0).all()
    assert rnd["theta_over_pi"].between(0.4, 0.6).all()


def test_regions_2d_smoke_polygons_tile_the_box(smoke_results):
    res = smoke_results["regions-2d-slice"]
    counts = res.table("counts")
    polys = res.table("polygons")
    cfg = res.first_config()
    side = 1 + 2 * cfg.margin
    for (noise, step), q in polys.groupby(["label_noise", "step"]):
        area = 0.0
        for _, g in q.groupby("region"):
            x, y = g["s"].to_numpy(), g["t"].to_numpy()
            area += 0.5 * (np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))
        assert area == pytest.approx(side**2, rel=1e-9)
        row = counts[(counts.label_noise == noise) & (counts.step == step)]
        assert int(row["regions"].iloc[0]) == q["region"].nunique()


def _results(exp, tables, configs=None):
    from theorylab.engine.experiment import Results

    seeds = sorted({int(s) for df in tables.values() for s in df["seed"]})
    runs = pd.DataFrame({"run_id": [f"r{s}" for s in seeds], "seed": seeds})
    cfg = exp.make_config("smoke")
    return Results(exp.name, tables, runs, configs or {f"r{s}": cfg for s in seeds})


def _segments(rpn_random: float, trained_ratio: float, depth_growth: float = 1.0) -> pd.DataFrame:
    rows = []
    for seed in (0, 1, 2):
        jitter = 0.01 * seed
        for w in (16, 32):
            for L in (1, 3):
                N = w * L
                r = (rpn_random + jitter) * (depth_growth if L == 3 else 1.0)
                rows.append({"seed": seed, "kind": "random", "phase": "init", "width": w, "depth": L, "neurons": N,
                             "mean_regions": r * N, "regions_per_neuron": r, "theta_over_pi": 0.5})
                for ph, rr in (("init", 0.3 + jitter), ("trained", (0.3 + jitter) * trained_ratio)):
                    rows.append({"seed": seed, "kind": "data", "phase": ph, "width": w, "depth": L, "neurons": N,
                                 "mean_regions": rr * N, "regions_per_neuron": rr, "theta_over_pi": np.nan})
    return pd.DataFrame(rows)


def test_regions_per_neuron_check_flips_with_the_numbers():
    exp = get_experiment("regions-per-neuron")
    ok = exp.check(_results(exp, {"segments": _segments(0.5, 1.2)}))
    assert ok.status == "supported", ok.summary()
    bad = exp.check(_results(exp, {"segments": _segments(1.5, 1.2)}))
    assert bad.checks[0].status == "not supported"
    deep = exp.check(_results(exp, {"segments": _segments(0.5, 1.2, depth_growth=5.0)}))
    assert deep.checks[2].status == "not supported"
    trained = exp.check(_results(exp, {"segments": _segments(0.5, 10.0)}))
    assert trained.checks[3].status == "not supported"


def test_regions_2d_check_flips_with_the_numbers():
    exp = get_experiment("regions-2d-slice")

    def table(scale_noise: float, level: float) -> pd.DataFrame:
        rows = []
        for seed in (0, 1, 2):
            for noise in (0.0, 0.5):
                for step in (0, 100, 1000):
                    n = level * 4608 * (1 + 0.01 * seed) * (scale_noise if (noise and step) else 1.0)
                    rows.append({"seed": seed, "label_noise": noise, "step": step, "regions": n,
                                 "predicted": 4608.0, "ratio": n / 4608.0})
        return pd.DataFrame(rows)

    assert exp.check(_results(exp, {"counts": table(1.2, 0.5)})).status == "supported"
    v = exp.check(_results(exp, {"counts": table(1.2, 0.01)}))
    assert v.checks[0].status == "not supported"
    v = exp.check(_results(exp, {"counts": table(8.0, 0.5)}))
    assert v.checks[1].status == "not supported" and v.checks[2].status == "not supported"


def test_phase_score_detects_three_phases():
    steps = np.arange(12)
    three = np.array([10, 8, 7, 7.5, 9, 11, 12, 11, 9, 8, 7.5, 7.0])
    score, i, j = phase_score(three)
    assert score == pytest.approx(min(10 - 7, 12 - 7, 12 - 7) / 10) and three[i] == 7 and three[j] >= 10
    monotone = 10 - 0.5 * steps
    assert phase_score(monotone)[0] < 0
    rising = 10 + 0.5 * steps
    assert phase_score(rising)[0] < 0
    assert np.isnan(phase_score(np.array([1.0, 2.0]))[0])


def test_lc_check_flips_with_the_numbers():
    exp = get_experiment("local-complexity-dynamics")

    def tables(series):
        lc, acc = [], []
        for seed in (0, 1, 2):
            for k, val in enumerate(series):
                lc.append({"seed": seed, "step": k, "location": "train", "layer": 1, "lc": val + 0.01 * seed})
                acc.append({"seed": seed, "step": k, "train_acc": 1.0, "test_acc": 0.9,
                            "robust_acc": 0.1 + 0.05 * k})
        return {"lc": pd.DataFrame(lc), "accuracy": pd.DataFrame(acc)}

    v = exp.check(_results(exp, tables([10, 8, 7, 7.5, 9, 11, 12, 11, 9, 8, 7.5, 7.0])))
    assert v.status == "supported", v.summary()
    v = exp.check(_results(exp, tables(list(10 - 0.5 * np.arange(12)))))
    assert v.checks[0].status == "not supported"


def test_boundary_points_sit_on_class_changes():
    net = mlp(4, [16], 3, seed=0, bias_std=0.5)
    rng = np.random.default_rng(0)
    A, B = rng.standard_normal((60, 4)), rng.standard_normal((60, 4))
    P = boundary_points(net, A, B, iters=40)
    assert len(P) > 5
    # a tiny step either way along a random direction changes the class for most points
    out = predict(net, torch.as_tensor(P, dtype=torch.float32)).numpy()
    top2 = np.sort(out, axis=1)[:, -2:]
    assert np.all(top2[:, 1] - top2[:, 0] < 1e-4 * (1 + np.abs(top2).max()))
