"""Configs, --set/--sweep parsing, sweep plans and run identity."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from theorylab.engine.config import ConfigError, parse_assignments, parse_sweeps
from theorylab.engine.registry import UnknownExperimentError, get_experiment
from theorylab.engine.sweep import derive_seed, plan_sweep, run_identity


def test_config_is_frozen_and_rejects_unknown_keys():
    exp = get_experiment("toy-noise")
    cfg = exp.make_config("quick", {"x": 2})
    with pytest.raises(ValidationError, match="frozen"):
        cfg.x = 3
    with pytest.raises(ConfigError, match=r"unknown config key 'y' \(allowed: crash_on, fail_on, label, n, sleep_s, x\)"):
        exp.make_config("quick", {"y": 1})
    with pytest.raises(ConfigError, match="n: "):
        exp.make_config("quick", {"n": "many"})
    with pytest.raises(ConfigError, match="unknown preset 'huge'"):
        exp.make_config("huge")
    assert hash(cfg) == hash(exp.make_config("quick", {"x": 2.0}))


def test_unknown_experiment_lists_allowed_and_suggests():
    with pytest.raises(UnknownExperimentError, match=r"allowed: .*curse-of-dimensionality"):
        get_experiment("nope")
    with pytest.raises(UnknownExperimentError, match=r"did you mean 'curse-of-dimensionality'"):
        get_experiment("curse-of-dimensionalty")


def test_swept_values_are_canonical_and_plans_are_capped():
    exp = get_experiment("toy-noise")
    a = plan_sweep(exp, preset="smoke", sweep={"n": [1000.0, 20]})
    b = plan_sweep(exp, preset="smoke", sweep={"n": [1000, 20, 20]})
    assert a.fingerprint() == b.fingerprint() and [r.run_id for r in a.runs] == [r.run_id for r in b.runs]
    with pytest.raises(ConfigError, match=r"plans (up to )?2,000,000 runs.* above the cap"):
        plan_sweep(exp, preset="smoke", sweep={"x": list(range(1000))}, seeds=2000)


def test_default_sweep_name_follows_the_spec():
    exp = get_experiment("toy-noise")
    assert plan_sweep(exp, preset="smoke").spec.default_name(exp) == "toy-noise.smoke"
    named = plan_sweep(exp, preset="smoke", sweep={"x": [1, 2]}).spec.default_name(exp)
    assert named.startswith("toy-noise.smoke-") and len(named) == len("toy-noise.smoke-") + 8


def test_parse_assignments_and_sweeps():
    assert parse_assignments(["x=3", "label=hi", "dims=[1,2]", "flag=true"]) == {
        "x": 3, "label": "hi", "dims": [1, 2], "flag": True}
    assert parse_sweeps(["x=1,2.5,3", "dims=[[1,2],[3]]"]) == {"x": [1, 2.5, 3], "dims": [[1, 2], [3]]}
    for bad in (["x"], ["=1"], ["x="]):
        with pytest.raises(ConfigError):
            parse_assignments(bad)
    for bad in (["x="], ["x=1,,2"], ["x=1,"], ["x=1", "x=2"]):
        with pytest.raises(ConfigError):
            parse_sweeps(bad)


def test_plan_grid_times_seeds_is_deterministic():
    exp = get_experiment("toy-noise")
    p1 = plan_sweep(exp, preset="smoke", sweep={"x": [1, 2, 3], "n": [5, 6]}, seeds=4, base_seed=7)
    p2 = plan_sweep(exp, preset="smoke", sweep={"x": [1, 2, 3], "n": [5, 6]}, seeds=4, base_seed=7)
    assert len(p1.runs) == 3 * 2 * 4
    assert [r.run_id for r in p1.runs] == [r.run_id for r in p2.runs]
    assert len({r.run_id for r in p1.runs}) == len(p1.runs)
    assert len({r.seed for r in p1.runs}) == len(p1.runs)
    # Adding a grid point leaves the other runs' seeds and ids unchanged.
    p3 = plan_sweep(exp, preset="smoke", sweep={"x": [1, 2, 3, 4], "n": [5, 6]}, seeds=4, base_seed=7)
    assert {r.run_id for r in p1.runs} <= {r.run_id for r in p3.runs}
    # A different base seed moves every seed.
    p4 = plan_sweep(exp, preset="smoke", sweep={"x": [1, 2, 3], "n": [5, 6]}, seeds=4, base_seed=8)
    assert not {r.seed for r in p1.runs} & {r.seed for r in p4.runs}
    assert p1.fingerprint() == p2.fingerprint() != p3.fingerprint()


def test_identity_hashes_config_seed_and_version():
    exp = get_experiment("toy-noise")
    cfg = exp.make_config("quick")
    s = derive_seed(0, cfg, 0)
    assert 0 <= s < 2**63
    rid = run_identity(exp.name, cfg, s)
    assert rid == run_identity(exp.name, exp.make_config("quick"), s)
    assert rid != run_identity(exp.name, cfg, s + 1)
    assert rid != run_identity(exp.name, cfg.replace(x=1.5), s)
    assert rid != run_identity(exp.name, cfg, s, version="999")


def test_plan_rejects_bad_sweeps():
    exp = get_experiment("toy-noise")
    with pytest.raises(ConfigError, match="unknown sweep key 'zz'"):
        plan_sweep(exp, sweep={"zz": [1]})
    with pytest.raises(ConfigError, match="no values"):
        plan_sweep(exp, sweep={"x": []})
    with pytest.raises(ConfigError, match="both --set and --sweep"):
        plan_sweep(exp, overrides={"x": 1}, sweep={"x": [1, 2]})
    with pytest.raises(ConfigError, match="seeds must be a positive integer"):
        plan_sweep(exp, seeds=0)
    with pytest.raises(ConfigError, match="n: "):
        plan_sweep(exp, sweep={"n": [1, "lots"]})
