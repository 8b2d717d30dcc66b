"""The five robustness / intrinsic-dimension experiments at smoke size: tables, oracles, checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from theorylab.engine.config import ConfigError
from theorylab.engine.experiment import get_experiment
from theorylab.engine.results import run_in_memory

NAMES = ["robustness-law", "robustness-vs-size", "isoperimetry", "robustness-which-d", "intrinsic-dimension"]


@pytest.fixture(scope="module")
def smoke():
    return {name: run_in_memory(get_experiment(name), preset="smoke", seeds=1) for name in NAMES}


@pytest.mark.parametrize("name", NAMES)
def test_registered_tables_and_verdict(smoke, name):
    exp = get_experiment(name)
    res = smoke[name]
    assert set(res.tables) == set(exp.tables)
    v = exp.check(res)
    assert v.status in ("supported", "not supported", "inconclusive") and v.checks
    assert all(c.n >= 0 for c in v.checks)
    assert exp.figures(res)
    assert set(exp.presets) >= {"smoke", "quick", "full"}


def test_isoperimetry_meets_exact_poincare_bounds(smoke):
    v = get_experiment("isoperimetry").check(smoke["isoperimetry"])
    assert v.status == "supported", v.summary()
    f = smoke["isoperimetry"].table("fluctuations")
    proj = f[(f["distribution"] == "gaussian") & (f["function"] == "projection")]
    np.testing.assert_allclose(proj["std_value"], 1.0, atol=0.12)  # exactly 1 in law; n = 1000 draws


def test_robustness_law_brackets_and_dropped_runs(smoke):
    nets = smoke["robustness-law"].table("nets")
    fitted = nets[nets["fitted"]]
    assert len(fitted) >= 2
    assert (fitted["lip_lower"] <= fitted["lip_upper"] * (1 + 1e-6)).all()
    assert (fitted["theorem3"] <= fitted["lip_upper"]).all()
    assert (fitted["train_mse"] <= 0.5 * fitted["sigma2"] + 1e-12).all()  # the stated fit criterion
    s = smoke["robustness-law"].table("summary")
    assert int(s["n_dropped"].iloc[0]) == int((~nets["fitted"]).sum())


def test_robustness_vs_size_accuracies(smoke):
    acc = smoke["robustness-vs-size"].table("accuracy")
    assert set(acc["mode"]) == {"standard", "adversarial"}
    assert (acc["robust_linf"] <= acc["clean_acc"] + 1e-9).all()
    assert (acc["robust_l2"] <= acc["clean_acc"] + 1e-9).all()
    assert acc["params"].is_monotonic_increasing or acc.groupby("mode")["params"].apply(lambda s: s.is_monotonic_increasing).all()


def test_which_d_estimates_track_latent_dimension(smoke):
    cf = smoke["robustness-which-d"].table("configs")
    # linear embedding of N(0, I_k): concentration dimension ≈ k, TwoNN ≈ k (n = 40 points: loose)
    np.testing.assert_allclose(cf["d_iso"], cf["k_latent"], rtol=0.5)
    np.testing.assert_allclose(cf["d_twonn"], cf["k_latent"], rtol=0.5)


def test_intrinsic_dimension_calibration(smoke):
    exp = get_experiment("intrinsic-dimension")
    v = exp.check(smoke["intrinsic-dimension"])
    assert v.checks[0].status == "supported", v.summary()
    lay = smoke["intrinsic-dimension"].table("layers")
    assert set(lay["state"]) == {"trained", "untrained"} and lay["id_twonn"].gt(0).all()


def test_deterministic_given_seed():
    exp = get_experiment("robustness-which-d")
    a = run_in_memory(exp, preset="smoke", seeds=1)
    b = run_in_memory(exp, preset="smoke", seeds=1)
    pd.testing.assert_frame_equal(a.table("configs"), b.table("configs"))


def test_bad_config_is_rejected():
    with pytest.raises(ConfigError, match="unknown config key"):
        get_experiment("robustness-law").make_config("quick", {"widht": 3})
    with pytest.raises(ConfigError):
        get_experiment("robustness-law").make_config("quick", {"eps_fraction": 1.5})


@pytest.mark.parametrize(
    "overrides",
    [
        {"dataset": "digits", "label_kind": "teacher", "depth": 2},
        {"dataset": "mnist1d", "label_kind": "noise"},
    ],
)
def test_robustness_law_real_data_paths(overrides):
    exp = get_experiment("robustness-law")
    res = run_in_memory(exp, preset="smoke", overrides=overrides, seeds=1)
    nets = res.table("nets")
    dim = {"digits": 64, "mnist1d": 40}[overrides["dataset"]]
    assert (nets["dim"] == dim).all()
    sigma2 = 4 * 0.2 * 0.8 if overrides["label_kind"] == "teacher" else 1.0
    assert nets["sigma2"].iloc[0] == pytest.approx(sigma2)


def test_which_d_curved_embedding():
    exp = get_experiment("robustness-which-d")
    res = run_in_memory(exp, preset="smoke", overrides={"embedding": "curved"}, seeds=1)
    assert len(res.table("spread")) == 3
