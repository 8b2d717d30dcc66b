"""Plan → skip what is stored → submit the rest → record each outcome → check → verdict.

Resuming is re-running the same command: runs whose identity is already stored as done are
skipped, failed and missing ones are run again, nothing is duplicated or renumbered.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from theorylab.engine.executors import Executor, RunOutcome, make_executor
from theorylab.engine.experiment import Experiment, Results, Verdict, get_experiment
from theorylab.engine.store import Store
from theorylab.engine.sweep import Plan, plan_sweep

__all__ = ["SweepReport", "check_sweep", "default_sweep_name", "load_results", "resolve_sweep", "run_sweep"]


@dataclass
class SweepReport:
    """What :func:`run_sweep` did: counts, failures, the verdict (None if runs are missing)."""

    name: str
    plan: Plan
    store: Store
    skipped: int = 0
    done: int = 0
    failed: dict[str, str] = field(default_factory=dict)  # run_id -> error text
    stopped_early: bool = False
    verdict: Verdict | None = None
    check_error: str | None = None
    results: Results | None = None  # the stored results the check read (reused by reports)

    @property
    def complete(self) -> bool:
        return not self.failed and not self.stopped_early and self.check_error is None


def run_sweep(
    experiment: Experiment | str,
    *,
    preset: str = "quick",
    overrides: Mapping[str, Any] | None = None,
    sweep: Mapping[str, Sequence[Any]] | None = None,
    seeds: int | None = None,
    base_seed: int = 0,
    executor: str | Executor = "process",
    max_workers: int | None = None,
    ray_address: str | None = None,
    store: Store | str | None = None,
    name: str | None = None,
    force: bool = False,
    fail_fast: bool = False,
    on_outcome: Callable[[RunOutcome], None] | None = None,
    on_plan: Callable[[int, int], None] | None = None,
) -> SweepReport:
    """Run (or resume) a sweep and store every run; check it when all runs are done.

    Parameters
    ----------
    experiment : an :class:`Experiment` or its registered name.
    preset, overrides, sweep, seeds, base_seed : what to run (see :func:`plan_sweep`).
    executor : ``serial``, ``process`` (default, all cores) or ``ray``, or an executor
        instance (shared across sweeps; the caller closes it).
    store : a :class:`Store` or its root directory (default ``$THEORYLAB_HOME`` or ./theorylab-runs).
    name : the sweep's name in the store (default: ``<experiment>.<preset>``). A different
        spec under an existing name is refused unless ``force``.
    fail_fast : stop submitting after the first failed run.
    on_outcome, on_plan : progress callbacks (``on_plan(total, to_run)`` then one call per run).
    """
    exp = get_experiment(experiment) if isinstance(experiment, str) else experiment
    st = store if isinstance(store, Store) else Store(store)
    plan = plan_sweep(exp, preset=preset, overrides=overrides, sweep=sweep, seeds=seeds, base_seed=base_seed)
    name = name or default_sweep_name(exp.name, preset)
    st.save_sweep(name, plan, force=force)
    st.clean_temp()
    todo = [r for r in plan.runs if not st.is_done(r.experiment, r.run_id)]
    report = SweepReport(name, plan, st, skipped=len(plan.runs) - len(todo))
    if on_plan is not None:
        on_plan(len(plan.runs), len(todo))
    by_id = {r.run_id: r for r in todo}
    if todo:
        own = isinstance(executor, str)
        ex = make_executor(executor, max_workers=max_workers, ray_address=ray_address) if own else executor
        try:
            for outcome in ex.map_unordered(todo):
                manifest = st.write_run(by_id[outcome.run_id], outcome)
                if manifest["status"] == "done":
                    report.done += 1
                else:
                    report.failed[outcome.run_id] = manifest["error"] or "failed"
                if on_outcome is not None:
                    on_outcome(outcome)
                if fail_fast and report.failed:
                    report.stopped_early = True
                    break
        finally:
            if own:
                ex.close()
    if not report.failed and not report.stopped_early:
        report.results = st.load_results(exp, name, plan.runs)
        report.verdict, report.check_error = check_sweep(exp, st, name, plan, report.results)
    return report


def check_sweep(
    experiment: Experiment, store: Store, name: str, plan: Plan | None = None,
    results: Results | None = None,
) -> tuple[Verdict | None, str | None]:
    """Run the check on a sweep's stored results (loaded unless given); store the verdict."""
    if results is None:
        results = store.load_results(experiment, name, plan.runs if plan is not None else None)
    if results.n_runs == 0:
        return None, "no completed runs"
    try:
        verdict = experiment.check(results)
    except Exception:
        return None, traceback.format_exc(limit=20)
    store.save_verdict(name, verdict, {"n_runs": results.n_runs})
    return verdict, None


def default_sweep_name(experiment: str, preset: str) -> str:
    """The sweep name used when none is given: ``<experiment>.<preset>``."""
    return f"{experiment}.{preset}"


def resolve_sweep(store: Store, name: str) -> tuple[Experiment, str]:
    """(experiment, sweep name) for a sweep name, or an experiment name (its latest sweep)."""
    if name in store.sweep_names():
        return get_experiment(store.sweep(name)["experiment"]), name
    exp = get_experiment(name)  # raises with the allowed names if it is neither
    latest = store.latest_sweep(exp.name)
    if latest is None:
        from theorylab.engine.store import StoreError

        raise StoreError(f"no stored sweep of {exp.name!r} in {store.root}; run `theorylab run {exp.name}` first")
    return exp, latest


def load_results(name: str, store: Store | str | None = None) -> Results:
    """Stored results of a sweep, by sweep name or experiment name (its latest sweep)."""
    st = store if isinstance(store, Store) else Store(store)
    exp, sweep = resolve_sweep(st, name)
    return st.load_results(exp, sweep)
