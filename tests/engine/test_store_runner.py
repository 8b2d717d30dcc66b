"""Store atomicity, failure recording, spec-change refusal, executors agreeing, loading."""

from __future__ import annotations

import json

import duckdb
import pandas as pd
import pytest

import theorylab
from theorylab.engine.runner import run_sweep
from theorylab.engine.store import Store, StoreError


def _frames(store: Store, name: str) -> dict[str, pd.DataFrame]:
    exp = theorylab.api.get_experiment(store.sweep(name)["experiment"])
    res = store.load_results(exp, name)
    return {k: v.sort_values(["run_id", *v.columns[2:3]]).reset_index(drop=True) for k, v in res.tables.items()}


def test_run_store_load_and_duckdb(store_dir):
    rep = run_sweep("toy-noise", preset="smoke", sweep={"x": [1, 2]}, executor="serial")
    assert rep.complete and rep.done == 4 and rep.verdict is not None
    st = Store()
    assert st.root == store_dir
    df = theorylab.load("toy-noise", "summary")
    assert len(df) == 4 and set(df["x"]) == {1.0, 2.0} and {"run_id", "seed", "n", "label"} <= set(df.columns)
    # The Parquet files carry run_id, seed and config columns: DuckDB needs no join.
    q = duckdb.sql(f"SELECT x, count(*) AS k FROM '{store_dir}/runs/toy-noise/*/summary.parquet' GROUP BY x ORDER BY x").df()
    assert q["k"].tolist() == [2, 2]
    # Rerunning skips everything.
    rep2 = run_sweep("toy-noise", preset="smoke", sweep={"x": [1, 2]}, executor="serial")
    assert rep2.skipped == 4 and rep2.done == 0
    v = st.verdict(rep.name)
    assert v["status"] == rep.verdict.status


def test_failure_is_recorded_and_sweep_goes_on(store_dir):
    rep = run_sweep("toy-noise", preset="smoke", sweep={"x": [1, 2, 3]}, overrides={"fail_on": 2}, executor="serial")
    assert rep.done == 4 and len(rep.failed) == 2 and rep.verdict is None
    st = Store()
    failed = [st.manifest("toy-noise", rid) for rid in rep.failed]
    assert all(m["status"] == "failed" and "toy failure at x=2" in m["error"] and "Traceback" in m["error"] for m in failed)
    # Rerun: only the failed runs are retried (and fail again); nothing is duplicated.
    rep2 = run_sweep("toy-noise", preset="smoke", sweep={"x": [1, 2, 3]}, overrides={"fail_on": 2}, executor="serial")
    assert rep2.skipped == 4 and len(rep2.failed) == 2
    assert len(list((store_dir / "runs" / "toy-noise").iterdir())) == 6


def test_crashed_worker_fails_only_its_runs(store_dir):
    rep = run_sweep("toy-noise", preset="smoke", sweep={"x": [1, 2, 3, 4]}, overrides={"crash_on": 2},
                    executor="process", max_workers=2)
    assert rep.done == 6 and len(rep.failed) == 2 and rep.verdict is None
    st = Store()
    for rid in rep.failed:
        m = st.manifest("toy-noise", rid)
        assert m["status"] == "failed" and "worker process died" in m["error"] and m["config"]["x"] == 2


def test_fail_fast_stops(store_dir):
    rep = run_sweep("toy-noise", preset="smoke", sweep={"x": [1, 2, 3]}, overrides={"fail_on": 1}, executor="serial", fail_fast=True)
    assert rep.stopped_early and rep.done + len(rep.failed) < 6


def test_changed_spec_gets_its_own_name_or_is_refused_under_a_given_name(store_dir):
    a = run_sweep("toy-noise", preset="smoke", executor="serial")
    b = run_sweep("toy-noise", preset="smoke", sweep={"x": [1, 2]}, executor="serial")
    assert a.name == "toy-noise.smoke" and b.name.startswith("toy-noise.smoke-") and b.skipped == 2
    run_sweep("toy-noise", preset="smoke", sweep={"x": [1]}, executor="serial", name="mine")
    with pytest.raises(StoreError, match=r"different spec.*--force"):
        run_sweep("toy-noise", preset="smoke", sweep={"x": [1, 2]}, executor="serial", name="mine")
    rep = run_sweep("toy-noise", preset="smoke", sweep={"x": [1, 2]}, executor="serial", name="mine", force=True)
    assert rep.skipped == 4 and rep.done == 0
    assert set(Store().sweep_names()) == {"toy-noise.smoke", b.name, "mine"}


def test_corrupted_files_name_the_problem(store_dir):
    rep = run_sweep("toy-noise", preset="smoke", executor="serial")
    rid = rep.plan.runs[0].run_id
    d = store_dir / "runs" / "toy-noise" / rid
    (d / "summary.parquet").write_bytes(b"not parquet")
    with pytest.raises(StoreError, match=r"summary\.parquet: truncated or damaged"):
        theorylab.load("toy-noise")
    (d / "manifest.json").write_text("{broken")
    with pytest.raises(StoreError, match=r"manifest\.json: corrupted JSON"):
        theorylab.load("toy-noise")


def test_bad_config_writes_nothing(store_dir):
    with pytest.raises(theorylab.errors.TheorylabError):
        run_sweep("toy-noise", preset="smoke", overrides={"nope": 1}, executor="serial")
    assert not store_dir.exists()


def test_process_and_serial_give_identical_results(tmp_path):
    kw = {"preset": "smoke", "sweep": {"n_samples": [20000, 25000]}, "seeds": 2}
    ra = run_sweep("curse-of-dimensionality", executor="serial", store=tmp_path / "a", **kw)
    rb = run_sweep("curse-of-dimensionality", executor="process", max_workers=2, store=tmp_path / "b", **kw)
    fa, fb = _frames(Store(tmp_path / "a"), ra.name), _frames(Store(tmp_path / "b"), rb.name)
    assert fa.keys() == fb.keys()
    for k in fa:
        pd.testing.assert_frame_equal(fa[k], fb[k])


def test_manifest_records_provenance(store_dir):
    rep = run_sweep("toy-noise", preset="smoke", executor="serial")
    m = json.loads((store_dir / "runs" / "toy-noise" / rep.plan.runs[0].run_id / "manifest.json").read_text())
    assert m["status"] == "done" and m["duration_s"] >= 0
    assert {"python", "numpy", "torch", "platform", "theorylab", "git_sha"} <= set(m["versions"])
    assert m["config"]["n"] == 20 and m["seed"] == rep.plan.runs[0].seed
