"""The law-of-robustness experiments: every check says supported / not supported / inconclusive.

Each check is fed synthetic results (``theorylab.engine.testing.synthetic_results``) made for the
three outcomes; one smoke run checks the measured brackets and Theorem 3's conditions.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from theorylab.engine.registry import get_experiment
from theorylab.engine.testing import synthetic_results

N, D = 400, 200  # the sizes the synthetic law tables pretend to have


def _statuses(exp, res) -> dict[str, str]:
    return {c.statement: c.status for c in exp.check(res).checks}


def _find(statuses: dict[str, str], needle: str) -> str:
    hits = [s for k, s in statuses.items() if needle in k]
    assert len(hits) == 1, (needle, statuses)
    return hits[0]


# -- robustness-law ---------------------------------------------------------------------------------
def _law_table(margins: dict[int, tuple[float, float]], rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for w, (lo, hi) in margins.items():
        p = w * (D + 2) + 1
        informal = math.sqrt(N * D / p)
        m_lo = lo * (1 + 0.01 * rng.random())
        rows.append({
            "width": w, "params": p, "train_mse": 0.45, "fit_target": 0.5, "fitted": True, "sigma2": 1.0, "eps": 0.5,
            "n_points": N, "dim": D, "informal": informal, "lip_lower": m_lo * informal, "lip_upper": hi * informal,
            "margin_lower": m_lo, "margin_upper": hi, "thm3_bound": 1e-3, "thm3_margin_lower": m_lo * informal / 1e-3,
            "thm3_margin_upper": hi * informal / 1e-3, "thm3_applies": False, "n_needed": 177_660.0,
            "cond_sample_size": "fails", "cond_isoperimetry": "holds", "cond_fit": "holds",
        })
    rows.append({**rows[-1], "width": 1, "params": D + 3, "fitted": False, "margin_lower": 0.01, "margin_upper": 0.02})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("case, expected", [
    ({2: (1.2, 1.3), 8: (1.5, 1.6), 32: (3.0, 3.5)}, "supported"),
    ({2: (0.7, 0.72), 8: (1.5, 1.6), 32: (3.0, 3.5)}, "not supported"),  # a certified counterexample to C = 1
    ({2: (0.9, 1.2), 8: (1.5, 1.6), 32: (3.0, 3.5)}, "inconclusive"),  # the bracket straddles C = 1
])
def test_law_informal_bound_three_states(case, expected):
    exp = get_experiment("robustness-law")
    rng = np.random.default_rng(0)
    res = synthetic_results(exp, [{"nets": _law_table(case, rng)} for _ in range(5)])
    v = exp.check(res)
    informal = next(c for c in v.checks if "C = 1" in c.statement)
    assert informal.status == expected, v.summary()
    assert not informal.demonstration and informal.n == 5  # the unfitted net is dropped, not counted
    theorem = next(c for c in v.checks if "Theorem 3" in c.statement)
    assert theorem.demonstration and theorem.status == "supported"  # ~10⁻³: cannot fail
    assert "0 of" in theorem.statement and "177,660" in theorem.statement  # conditions reported
    assert v.status == expected  # the demonstration does not count
    ev = exp.evidence(res)
    assert ev["nets_not_fitted_dropped"] == 5 and ev["theorem3_conditions"]["cond_sample_size"] == {"fails": 15}


def test_law_theorem3_check_can_fail_on_a_contradicting_table():
    exp = get_experiment("robustness-law")
    t = _law_table({2: (1.2, 1.3)}, np.random.default_rng(0))
    t["thm3_margin_lower"] = t["thm3_margin_upper"] = 0.5
    v = exp.check(synthetic_results(exp, [{"nets": t}] * 5))
    assert next(c for c in v.checks if "Theorem 3" in c.statement).status == "not supported"


# -- robustness-tightness ---------------------------------------------------------------------------
def _tight_runs(slope: float, noise: float, level: float, spread: float = 1.03, seeds: int = 5) -> list[dict]:
    runs = []
    for s in range(seeds):
        rng = np.random.default_rng(s)
        rows = []
        for w in (2, 4, 8, 16, 32):
            p = w * (D + 2) + 1
            informal = math.sqrt(N * D / p)
            lip = level * informal * (p / 405) ** (slope + 0.5) * math.exp(noise * rng.standard_normal())
            rows.append({"width": w, "params": p, "fitted": True, "lip_lower": lip, "lip_upper": lip * spread,
                         "informal": informal, "margin_lower": lip / informal, "margin_upper": lip * spread / informal})
        runs.append({"nets": pd.DataFrame(rows)})
    return runs


@pytest.mark.parametrize("slope, noise, expected", [
    (-0.5, 0.01, "supported"),
    (-0.2, 0.01, "not supported"),  # a floor: the smallest Lip barely falls
    (-0.375, 0.2, "inconclusive"),  # centred on the band edge
])
def test_tightness_slope_three_states(slope, noise, expected):
    exp = get_experiment("robustness-tightness")
    v = exp.check(synthetic_results(exp, _tight_runs(slope, noise, level=2.0)))
    assert _find({c.statement: c.status for c in v.checks}, "falls like") == expected, v.summary()


@pytest.mark.parametrize("level, spread, expected", [(2.0, 1.03, "supported"), (0.5, 1.03, "not supported"),
                                                     (0.9, 1.3, "inconclusive")])
def test_tightness_stays_above_three_states(level, spread, expected):
    exp = get_experiment("robustness-tightness")
    v = exp.check(synthetic_results(exp, _tight_runs(-0.5, 0.0, level=level, spread=spread)))
    assert _find({c.statement: c.status for c in v.checks}, "stay above") == expected, v.summary()


# -- robustness-which-d -----------------------------------------------------------------------------
def _which_runs(amb: tuple[float, float], intr: tuple[float, float]) -> list[dict]:
    runs = []
    for _ in range(5):
        rows = []
        for kind in ("subspace", "isotropic"):
            for w in (4, 16):
                rows.append({"data": kind, "width": w, "params": 102 * w + 1, "fitted": True, "lip_lower": 2.0,
                             "lip_upper": 2.1, "bound_ambient": 2.0, "bound_intrinsic": 0.6, "d_twonn": 9.0, "d_iso": 8.0,
                             "margin_ambient_lower": amb[0], "margin_ambient_upper": amb[1],
                             "margin_intrinsic_lower": intr[0], "margin_intrinsic_upper": intr[1]})
        runs.append({"nets": pd.DataFrame(rows)})
    return runs


@pytest.mark.parametrize("amb, expected", [((0.5, 0.8), "supported"), ((1.2, 1.5), "not supported"),
                                           ((0.9, 1.1), "inconclusive")])
def test_which_d_below_ambient_three_states(amb, expected):
    exp = get_experiment("robustness-which-d")
    v = exp.check(synthetic_results(exp, _which_runs(amb, (3.0, 3.3))))
    assert _find({c.statement: c.status for c in v.checks}, "go below") == expected, v.summary()


@pytest.mark.parametrize("intr, expected", [((3.0, 3.3), "supported"), ((0.5, 0.7), "not supported"),
                                            ((0.9, 1.2), "inconclusive")])
def test_which_d_above_intrinsic_three_states(intr, expected):
    exp = get_experiment("robustness-which-d")
    v = exp.check(synthetic_results(exp, _which_runs((0.5, 0.8), intr)))
    assert _find({c.statement: c.status for c in v.checks}, "stay above") == expected, v.summary()


# -- robustness-vs-size -----------------------------------------------------------------------------
P3 = (682, 3466, 26122)


def _size_runs(adv: dict[int, tuple], std: tuple, clean_adv: tuple = (0.9, 0.95, 0.98), noise: float = 0.0,
               seeds: int = 5) -> list[dict]:
    """adv[n] = robust accuracies at the three capacities for adversarial training."""
    runs = []
    for s in range(seeds):
        rng = np.random.default_rng(s)
        rows = []
        for m, curve in adv.items():
            for mode, accs, clean in (("standard", std, (0.9, 0.95, 0.98)), ("adversarial", curve, clean_adv)):
                for scale, p, a, c in zip((8, 32, 128), P3, accs, clean, strict=True):
                    a = float(np.clip(a + noise * rng.standard_normal(), 0.01, c))
                    rows.append({"n_train_used": m, "mode": mode, "scale": scale, "params": p, "clean_acc": c,
                                 "robust_linf": a, "robust_given_clean": a / c})
        sizes = pd.DataFrame([{"n_train_used": m, "d_eff_mle": 7.0, "ambient": 64} for m in adv])
        runs.append({"accuracy": pd.DataFrame(rows), "sizes": sizes})
    return runs


def test_vs_size_gain_three_states():
    exp = get_experiment("robustness-vs-size")
    grow = {300: (0.1, 0.8, 0.9), 1200: (0.1, 0.2, 0.9)}
    st = _statuses(exp, synthetic_results(exp, _size_runs(grow, (0.05, 0.1, 0.15))))
    assert _find(st, "more than standard") == "supported"
    st = _statuses(exp, synthetic_results(exp, _size_runs(grow, (0.0, 0.5, 0.8))))  # standard gains as much
    assert _find(st, "more than standard") == "not supported"
    st = _statuses(exp, synthetic_results(exp, _size_runs(grow, (0.05, 0.4, 0.75), noise=0.08)))
    assert _find(st, "more than standard") == "inconclusive"


def test_vs_size_robust_among_correct_three_states():
    exp = get_experiment("robustness-vs-size")
    grow = {300: (0.1, 0.8, 0.9), 1200: (0.1, 0.2, 0.9)}
    st = _statuses(exp, synthetic_results(exp, _size_runs(grow, (0.05, 0.1, 0.15))))
    assert _find(st, "correctly classified") == "supported"
    # robust accuracy rises only as fast as clean accuracy: P(robust | correct) stays flat
    flat = {300: (0.6, 0.66, 0.7), 1200: (0.6, 0.66, 0.7)}
    st = _statuses(exp, synthetic_results(exp, _size_runs(flat, (0.05, 0.1, 0.15), clean_adv=(0.6, 0.66, 0.7))))
    assert _find(st, "correctly classified") == "not supported"
    st = _statuses(exp, synthetic_results(exp, _size_runs({300: (0.45, 0.5, 0.55), 1200: (0.45, 0.5, 0.55)},
                                                          (0.05, 0.1, 0.15), clean_adv=(0.9, 0.9, 0.9), noise=0.05)))
    assert _find(st, "correctly classified") == "inconclusive"


def test_vs_size_a_smallest_net_that_fails_to_train_is_no_evidence():
    """Madry's curve driven only by the smallest model failing to train: that model is left out."""
    exp = get_experiment("robustness-vs-size")
    fail = {300: (0.08, 0.8, 0.85), 1200: (0.08, 0.8, 0.85)}  # the smallest adversarial net: clean 0.1
    res = synthetic_results(exp, _size_runs(fail, (0.3, 0.7, 0.8), clean_adv=(0.1, 0.9, 0.95)))
    ps = exp.per_seed(res.table("accuracy"))
    assert (ps["trained_capacities"] == 2).all() and (ps["smallest_trained_params"] == P3[1]).all()
    np.testing.assert_allclose(ps["gain_adversarial"], 0.05)  # 0.8 → 0.85, not 0.08 → 0.85
    st = _statuses(exp, res)
    assert _find(st, "more than standard") == "not supported"  # the standard curve gains 0.1 there
    assert _find(st, "grows with the training-set size") == "inconclusive"  # p₅₀ needs 3 trained capacities


def test_vs_size_capacity_grows_with_n_three_states():
    exp = get_experiment("robustness-vs-size")
    std = (0.05, 0.1, 0.15)
    st = _statuses(exp, synthetic_results(exp, _size_runs({300: (0.1, 0.8, 0.9), 1200: (0.1, 0.2, 0.9)}, std)))
    assert _find(st, "grows with the training-set size") == "supported"
    st = _statuses(exp, synthetic_results(exp, _size_runs({300: (0.1, 0.8, 0.9), 1200: (0.1, 0.8, 0.9)}, std)))
    assert _find(st, "grows with the training-set size") == "not supported"
    st = _statuses(exp, synthetic_results(exp, _size_runs({300: (0.1, 0.7, 0.9), 1200: (0.1, 0.45, 0.9)}, std,
                                                          noise=0.12)))
    assert _find(st, "grows with the training-set size") == "inconclusive"


def test_vs_size_config_refuses_mnist_without_files_and_cnn_on_1d():
    from theorylab.engine.config import ConfigError

    exp = get_experiment("robustness-vs-size")
    with pytest.raises(ConfigError, match="data_root"):
        exp.make_config("quick", {"dataset": "mnist"})
    with pytest.raises(ConfigError, match="madry-cnn"):
        exp.make_config("quick", {"dataset": "mnist1d", "architecture": "madry-cnn"})
    with pytest.raises(ConfigError, match="architecture"):
        exp.make_config("quick", {"architecture": "resnet"})


def test_madry_capacity_family_parameter_counts():
    """Madry et al. (2018)'s MNIST family: 13,514 / 52,506 / 206,954 / 821,706 / 3,274,634 parameters."""
    from theorylab.models import cnn2d, count_params

    counts = [count_params(cnn2d(28, 10, channels=(2 * s, 4 * s), kernel=5, hidden=64 * s)) for s in (1, 2, 4, 8, 16)]
    assert counts == [13_514, 52_506, 206_954, 821_706, 3_274_634]


# -- one smoke run: the measured brackets and Theorem 3's conditions --------------------------------------
@pytest.fixture(scope="module")
def law_smoke():
    from theorylab.engine.executors import execute_run
    from theorylab.engine.results import annotate, assemble
    from theorylab.engine.sweep import plan_sweep

    exp = get_experiment("robustness-law")
    spec = plan_sweep(exp, preset="smoke", seeds=1).runs[0]
    out = execute_run(spec)
    assert out.status == "done", out.error
    return assemble(exp.name, [(spec, "done", annotate(exp.name, spec, out.tables))])


def test_law_smoke_brackets_and_conditions(law_smoke):
    nets = law_smoke.table("nets")
    fit = nets[nets["fitted"]]
    assert len(fit) >= 2
    assert (fit["lip_lower"] <= fit["lip_upper"] * (1 + 1e-6)).all()  # a bracket
    assert (fit["train_mse"] <= fit["fit_target"]).all()  # the stated fit criterion
    np.testing.assert_allclose(fit["informal"], np.sqrt(fit["n_points"] * fit["dim"] / fit["params"]))
    # Theorem 3's sample-size condition fails at n = 60 (needs n ≥ 8⁴·log(8·64/δ)/ε² ≈ 177,660)
    assert set(fit["cond_sample_size"]) == {"fails"} and not fit["thm3_applies"].any()
    assert (fit["n_needed"] > 1.7e5).all() and (fit["thm3_bound"] < 1e-2).all()
    assert (fit["J_param"] > 0).all() and (fit["W_diameter"] >= fit["weight_norm"] * 2 - 1e-9).all()
