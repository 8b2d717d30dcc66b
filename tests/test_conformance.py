"""One conformance test over every registered experiment (scikit-learn's check_estimator idea).

For each experiment in the catalog:
* its metadata reads without importing it, and agrees with the class once imported;
* the ``smoke`` preset, one seed, finishes within a small budget, its tables match the declared
  schema, its check returns a verdict made of three-state checks, and figures are figures;
* ``smoke`` run twice with the same seed gives identical tables;
* ``quick`` has at least 5 replicates (seeds, or independent draws inside a run) and every
  config field has a description; every enumerated choice is a Literal.
"""

from __future__ import annotations

import json
import time
import typing

import pandas as pd
import pytest
from matplotlib.figure import Figure

from theorylab.engine.checks import KINDS, STATUSES, Verdict
from theorylab.engine.executors import execute_run
from theorylab.engine.registry import catalog, get_experiment
from theorylab.engine.results import annotate, assemble
from theorylab.engine.sweep import plan_sweep

BUILTIN = sorted(n for n, i in catalog().items() if i.module.startswith("theorylab.experiments."))
SMOKE_BUDGET_S = 90.0  # one smoke run on a loaded 2-core CI machine


def _run(exp, preset: str, seeds: int):
    plan = plan_sweep(exp, preset=preset, seeds=seeds)
    runs = []
    for spec in plan.runs:
        out = execute_run(spec)
        assert out.status == "done", out.error
        runs.append((spec, out))
    return plan, runs


def test_registry_is_populated_and_metadata_matches_the_classes():
    assert "curse-of-dimensionality" in BUILTIN
    for name in BUILTIN:
        info, exp = catalog()[name], get_experiment(name)
        assert (info.name, info.kind, info.claim, info.source) == (exp.name, exp.kind, exp.claim, exp.source)
        assert exp.kind in KINDS


@pytest.mark.parametrize("name", BUILTIN)
def test_smoke_within_budget_schema_and_verdict(name):
    exp = get_experiment(name)
    t0 = time.perf_counter()
    _, runs = _run(exp, "smoke", seeds=1)
    elapsed = time.perf_counter() - t0
    assert elapsed <= SMOKE_BUDGET_S, f"{name} smoke took {elapsed:.1f}s"
    spec, out = runs[0]
    assert set(out.tables) == set(exp.tables), f"tables {sorted(out.tables)} != declared {sorted(exp.tables)}"
    for tname, df in out.tables.items():
        assert isinstance(df, pd.DataFrame) and len(df) > 0, f"table {tname} is empty"
    res = assemble(exp.name, [(spec, "done", annotate(exp.name, spec, out.tables))])
    verdict = exp.check(res)
    assert isinstance(verdict, Verdict) and verdict.status in STATUSES and verdict.checks
    assert verdict.kind == exp.kind
    for c in verdict.checks:
        assert c.status in STATUSES and c.statement and c.statistic
    json.dumps(verdict.to_json_dict())
    assert all(isinstance(f, Figure) for f in exp.figures(res).values())
    json.dumps(exp.describe(), default=str)


@pytest.mark.parametrize("name", BUILTIN)
def test_smoke_is_deterministic(name):
    exp = get_experiment(name)
    _, a = _run(exp, "smoke", seeds=1)
    _, b = _run(exp, "smoke", seeds=1)
    for (sa, oa), (sb, ob) in zip(a, b, strict=True):
        assert sa.run_id == sb.run_id
        for k in oa.tables:
            pd.testing.assert_frame_equal(oa.tables[k], ob.tables[k], check_exact=True)


@pytest.mark.parametrize("name", BUILTIN)
def test_every_preset_validates_and_plans(name):
    exp = get_experiment(name)
    for preset in exp.preset_names():
        plan = plan_sweep(exp, preset=preset)
        assert len(plan) == exp.seeds_for(preset) and plan.runs[0].config == exp.make_config(preset)
    assert exp.seeds_for("full") >= exp.seeds_for("quick") >= 1


@pytest.mark.parametrize("name", BUILTIN)
def test_quick_has_replicates_and_described_literal_choices(name):
    exp = get_experiment(name)
    assert exp.seeds_for("quick") >= 5 or exp.replicates != "seeds", (
        f"{name}: quick has {exp.seeds_for('quick')} seeds; use ≥ 5 or state independent draws in `replicates`")
    for key, f in exp.Config.model_fields.items():
        assert f.description, f"{name}: config field {key!r} has no description"
        # an enumerated option typed as a bare str would accept a misspelling
        if f.annotation is str:
            pytest.fail(f"{name}: config field {key!r} is a bare str; make its choices a Literal")
        args = typing.get_args(f.annotation)
        if typing.get_origin(f.annotation) is tuple and args and args[0] is str:
            pytest.fail(f"{name}: config field {key!r} is a tuple of bare str; use tuple[Literal[...], ...]")
