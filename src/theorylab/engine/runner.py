"""Plan → skip what is stored → submit the rest → record each outcome → check → verdict.

Resuming is re-running the same command: runs whose identity is already stored as done are
skipped, failed and missing ones are run again, nothing is duplicated or renumbered. Several
sweeps (``reproduce``) share one executor and one queue, longest runs first, so no core idles
while another sweep finishes.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from theorylab.engine.checks import Verdict
from theorylab.engine.executors import Executor, RunOutcome, execute_run, make_executor
from theorylab.engine.registry import get_experiment
from theorylab.engine.results import Results, annotate, assemble
from theorylab.engine.store import Store, StoreError
from theorylab.engine.sweep import MAX_RUNS, Plan, RunSpec, plan_sweep

if TYPE_CHECKING:
    from theorylab.engine.experiment import Experiment

__all__ = [
    "SweepInterrupted",
    "SweepReport",
    "SweepRequest",
    "check_sweep",
    "load_results",
    "resolve_sweep",
    "run_in_memory",
    "run_sweep",
    "run_sweeps",
]


@dataclass
class SweepReport:
    """What a sweep run did: counts, failures, the verdict (None if runs are missing)."""

    name: str
    plan: Plan
    store: Store
    run_ids: list[str] = field(default_factory=list)
    skipped: int = 0
    done: int = 0
    failed: dict[str, str] = field(default_factory=dict)  # run_id -> error text
    failed_points: dict[str, str] = field(default_factory=dict)  # run_id -> "key=value, ... seed S"
    stopped_early: bool = False
    verdict: Verdict | None = None
    check_error: str | None = None
    results: Results | None = None  # the stored results the check read (reused by reports)

    @property
    def experiment(self) -> Experiment:
        return self.plan.experiment

    @property
    def complete(self) -> bool:
        return not self.failed and not self.stopped_early and self.check_error is None


@dataclass(frozen=True)
class SweepRequest:
    """One sweep to run: the arguments of :func:`~theorylab.engine.sweep.plan_sweep` and a name."""

    experiment: str
    preset: str = "quick"
    overrides: Mapping[str, Any] | None = None
    sweep: Mapping[str, Sequence[Any]] | None = None
    seeds: int | None = None
    base_seed: int = 0
    name: str | None = None
    force: bool = False


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C during a sweep: how many of the planned runs are stored (re-running resumes)."""

    def __init__(self, stored: int, planned: int) -> None:
        super().__init__(f"{stored} of {planned} runs stored")
        self.stored, self.planned = stored, planned


def _plan(req: SweepRequest, st: Store, max_runs: int) -> SweepReport:
    """Validate and plan one request (nothing written)."""
    exp = get_experiment(req.experiment)
    plan = plan_sweep(exp, preset=req.preset, overrides=req.overrides, sweep=req.sweep, seeds=req.seeds,
                      base_seed=req.base_seed, max_runs=max_runs)
    name = req.name or plan.spec.default_name(exp)
    runs = plan.runs
    rep = SweepReport(name, plan, st, run_ids=[r.run_id for r in runs])
    rep._runs = runs  # type: ignore[attr-defined]
    return rep


def run_sweeps(
    requests: Sequence[SweepRequest],
    *,
    executor: str | Executor = "process",
    max_workers: int | None = None,
    ray_address: str | None = None,
    store: Store | str | None = None,
    fail_fast: bool = False,
    max_runs: int = MAX_RUNS,
    on_plan: Callable[[int, int], None] | None = None,
    on_outcome: Callable[[RunOutcome, RunSpec], None] | None = None,
) -> list[SweepReport]:
    """Run (or resume) several sweeps through one executor; check each when its runs are done.

    Every request is validated and planned before any run starts (a bad request fails them all,
    with nothing run). ``on_plan(total, to_run)`` is called once, then ``on_outcome`` per run.
    Ctrl-C shuts the executor down and raises :class:`SweepInterrupted`.
    """
    st = store if isinstance(store, Store) else Store(store)
    reports = [_plan(r, st, max_runs) for r in requests]  # every request valid before any write
    try:
        for rep, req in zip(reports, requests, strict=True):
            st.save_sweep(rep.name, rep.plan, force=req.force, run_ids=rep.run_ids)  # takes its lock
        return _execute(reports, st, executor=executor, max_workers=max_workers, ray_address=ray_address,
                        fail_fast=fail_fast, on_plan=on_plan, on_outcome=on_outcome)
    finally:
        for rep in reports:  # a notebook that caught an error must not keep the sweep locked
            st.release(rep.name)


def _execute(reports: list[SweepReport], st: Store, *, executor: str | Executor, max_workers: int | None,
             ray_address: str | None, fail_fast: bool, on_plan: Callable[[int, int], None] | None,
             on_outcome: Callable[[RunOutcome, RunSpec], None] | None) -> list[SweepReport]:
    st.clean_temp()
    todo: list[tuple[SweepReport, RunSpec]] = []
    for rep in reports:
        runs = rep._runs  # type: ignore[attr-defined]
        pending = [r for r in runs if not st.is_done(r.experiment, r.run_id)]
        rep.skipped = len(runs) - len(pending)
        todo += [(rep, r) for r in pending]
    total = sum(len(rep.run_ids) for rep in reports)
    if on_plan is not None:
        on_plan(total, len(todo))
    # Longest first (each experiment states its quick budget per run): the pool's tail is short.
    todo.sort(key=lambda t: -float(getattr(t[0].experiment, "budget_s", 1.0)))
    owner = {r.run_id: (rep, r) for rep, r in todo}
    if todo:
        own = isinstance(executor, str)
        ex = make_executor(executor, max_workers=max_workers, ray_address=ray_address) if own else executor
        try:
            for outcome in ex.map_unordered([r for _, r in todo]):
                rep, spec = owner[outcome.run_id]
                manifest = st.write_run(spec, outcome)
                if manifest["status"] == "done":
                    rep.done += 1
                else:
                    rep.failed[outcome.run_id] = manifest["error"] or "failed"
                    rep.failed_points[outcome.run_id] = f"{spec.point_text()}, seed {spec.seed}"
                if on_outcome is not None:
                    on_outcome(outcome, spec)
                if fail_fast and rep.failed:
                    for r in reports:
                        r.stopped_early = True
                    break
        except KeyboardInterrupt:
            if own:  # stop the workers now: a run in flight is lost, every stored run is kept
                own = False
                _abort(ex)
            stored = sum(rep.skipped + rep.done for rep in reports)
            raise SweepInterrupted(stored, total) from None
        finally:
            if own:
                ex.close()
    for rep in reports:
        if not rep.failed and not rep.stopped_early:
            rep.results = st.load_results(rep.experiment, rep.name, rep._runs)  # type: ignore[attr-defined]
            rep.verdict, rep.check_error = check_sweep(rep.experiment, st, rep.name, rep.results)
    return reports


def _abort(ex: Executor) -> None:
    try:
        getattr(ex, "abort", ex.close)()
    except BaseException:
        pass


def run_sweep(
    experiment: Experiment | str,
    *,
    preset: str = "quick",
    overrides: Mapping[str, Any] | None = None,
    sweep: Mapping[str, Sequence[Any]] | None = None,
    seeds: int | None = None,
    base_seed: int = 0,
    name: str | None = None,
    force: bool = False,
    **kwargs: Any,
) -> SweepReport:
    """Run (or resume) one sweep and store every run; check it when all runs are done.

    Parameters
    ----------
    experiment : an :class:`Experiment` or its registered name.
    preset, overrides, sweep, seeds, base_seed : what to run (see :func:`plan_sweep`).
    name : the sweep's name in the store. Default: ``<experiment>.<preset>`` for the preset as
        shipped, ``<experiment>.<preset>-<spec hash>`` for any other spec. An explicit name whose
        stored spec differs is refused unless ``force``.
    **kwargs : ``executor``, ``max_workers``, ``ray_address``, ``store``, ``fail_fast``,
        ``max_runs``, ``on_plan``, ``on_outcome`` as in :func:`run_sweeps`.
    """
    exp_name = experiment if isinstance(experiment, str) else experiment.name
    req = SweepRequest(exp_name, preset, overrides, sweep, seeds, base_seed, name, force)
    return run_sweeps([req], **kwargs)[0]


def check_sweep(experiment: Experiment, store: Store, name: str,
                results: Results | None = None) -> tuple[Verdict | None, str | None]:
    """Run the check on a sweep's stored results (loaded unless given); store the verdict."""
    if results is None:
        results = store.load_results(experiment, name)
    if results.n_runs == 0:
        return None, "no completed runs"
    try:
        verdict = experiment.check(results)
    except Exception:
        return None, traceback.format_exc(limit=20)
    store.save_verdict(name, verdict, {"n_runs": results.n_runs})
    return verdict, None


def run_in_memory(
    experiment: Experiment,
    *,
    preset: str = "smoke",
    overrides: Mapping[str, Any] | None = None,
    sweep: Mapping[str, Sequence[Any]] | None = None,
    seeds: int | None = None,
    base_seed: int = 0,
) -> Results:
    """Plan and run a sweep serially in this process, storing nothing; raise on any failure.

    For tests and notebooks. The CLI and :func:`theorylab.run` go through the store instead.
    """
    plan = plan_sweep(experiment, preset=preset, overrides=overrides, sweep=sweep, seeds=seeds,
                      base_seed=base_seed)
    done = []
    for spec in plan.iter_runs():
        out = execute_run(spec)
        if out.status != "done":
            raise RuntimeError(f"{experiment.name} run {spec.run_id} ({spec.point_text()}) failed:\n{out.error}")
        done.append((spec, "done", annotate(experiment.name, spec, out.tables)))
    return assemble(experiment.name, done, plan.swept)


def resolve_sweep(store: Store, name: str, preset: str | None = None) -> tuple[Experiment, str]:
    """(experiment, sweep name) for a sweep name, or an experiment name (its latest sweep)."""
    if name in store.sweep_names():
        return get_experiment(store.sweep(name)["experiment"]), name
    exp = get_experiment(name)  # raises with the allowed names if it is neither
    latest = store.latest_sweep(exp.name, preset)
    if latest is None:
        raise StoreError(f"no stored sweep of {exp.name!r} in {store.root}; run `theorylab run {exp.name}` first")
    return exp, latest


def load_results(name: str, store: Store | str | None = None) -> Results:
    """Stored results of a sweep, by sweep name or experiment name (its latest sweep)."""
    st = store if isinstance(store, Store) else Store(store)
    exp, sweep = resolve_sweep(st, name)
    return st.load_results(exp, sweep)
