"""The ``theorylab`` command: parse, validate, call the engine, print. No science here.

Bad input (unknown experiment or key, wrong type, empty sweep value, unreadable store file)
prints one line naming the problem and the allowed values, and exits with code 2. Read-only
commands (``list``, ``show``, ``status``, ``--help``) import neither torch nor pandas nor any
claim's heavy code. User and stored text is never parsed as console markup.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from theorylab.errors import TheorylabError

app = typer.Typer(
    name="theorylab",
    help="Claims of deep-learning theory as executable, measured, reproducible experiments.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

# Modules under theorylab.commands that add their own commands (diagnostics, calculators).
COMMAND_MODULES: tuple[str, ...] = ("diagnose", "robustness")
PRESETS_HELP = "smoke | quick | full"

StoreOpt = Annotated[
    Path | None, typer.Option("--store", help="results directory (default $THEORYLAB_HOME or ./theorylab-runs)")
]


def _fail(message: str, code: int = 2) -> None:
    err.print(Text.assemble(("error: ", "bold red"), str(message)), soft_wrap=True)
    raise typer.Exit(code)


def _say(text: str, style: str | None = None) -> None:
    """Print ``text`` verbatim (never as markup)."""
    out.print(Text(text, style=style or ""), soft_wrap=True)


# -- read-only commands ------------------------------------------------------------------------------
@app.command("list")
def list_cmd(as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False) -> None:
    """Every registered experiment: kind (claim or instrument), claim and source."""
    from theorylab.engine.registry import broken_entries, catalog

    infos = sorted(catalog().values(), key=lambda i: (i.kind != "claim", i.name))
    for why in broken_entries().values():
        err.print(Text(f"warning: skipped {why}"), soft_wrap=True)
    if as_json:
        typer.echo(json.dumps([i.as_dict() for i in infos], indent=2))
        return
    t = Table("experiment", "kind", "claim", "source", show_lines=True)
    for i in infos:
        t.add_row(Text(i.name), Text(i.kind), Text(i.claim), Text(i.source))
    out.print(t)


@app.command()
def show(
    name: str,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """The claim, the check, and the config schema with defaults, units and presets."""
    from theorylab.engine.registry import get_experiment

    d = get_experiment(name).describe()
    if as_json:
        typer.echo(json.dumps(d, indent=2, default=str))
        return
    for label, key in (("", "name"), ("Kind. ", "kind"), ("Claim. ", "claim"), ("Source. ", "source"),
                       ("Check. ", "check")):
        out.print(Text.assemble((label, "bold"), (str(d[key]), "bold" if not label else "")), soft_wrap=True)
    out.print(Text.assemble(("Tables. ", "bold"), ", ".join(d["tables"]), ("   quick budget ", "bold"),
                            f"{d['budget_s']:g} s per run, replicates: {d['replicates']}"))
    t = Table("key", "type", "default", "description (units)", title="config")
    for k, f in d["config"].items():
        t.add_row(Text(k), Text(f["type"]), Text(json.dumps(f["default"], default=str)), Text(f["description"]))
    out.print(t)
    for p, ov in d["presets"].items():
        _say(f"  preset {p} (seeds {d['default_seeds'].get(p, 1)}): {json.dumps(ov, default=str)}")


@app.command()
def status(
    store: StoreOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Runs per sweep: done, failed (with the error and its config point), missing; the verdict."""
    from theorylab.engine.store import Store

    st = Store(store)
    if not st.root.exists():
        _fail(f"no store at {st.root} (run an experiment first, or pass --store)")
    rows = st.status()
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    damaged = any(r["corrupt"] for r in rows)
    t = Table("sweep", "kind", "done", "failed", *(["damaged"] if damaged else []), "missing", "verdict",
              title=f"store {st.root}")
    for r in rows:
        verdict = r["verdict"] or ("running" if r["running"] else "-")
        t.add_row(Text(r["sweep"]), Text(r["kind"] or "-"), str(r["done"]), str(r["failed"]),
                  *([str(r["corrupt"])] if damaged else []), str(r["missing"]), Text(verdict))
    out.print(t)
    for r in rows:
        if r["running"]:
            since = time.strftime("%H:%M:%S", time.localtime(r["running"].get("since", 0)))
            _say(f"  running {r['sweep']}: pid {r['running'].get('pid')} on {r['running'].get('host')} since {since}")
        if r["problem"]:
            _say(f"  damaged {r['sweep']}: {r['problem']}", "red")
        for e in r["errors"]:
            what = "damaged" if e.get("state") == "corrupt" else "failed"
            _say(f"  {what} {r['sweep']} run {e['run_id']} ({e['point'] or 'no swept keys'}, seed {e['seed']}): "
                 f"{e['error']}", "red")


# -- commands that run ---------------------------------------------------------------------------------
def _summary_line(rep: Any) -> None:
    _say(f"{rep.name}: {len(rep.run_ids)} runs planned, {rep.skipped} already stored, {rep.done} ran, "
         f"{len(rep.failed)} failed", "bold")
    for rid, e in rep.failed.items():
        last = [ln for ln in e.strip().splitlines() if ln.strip()][-1:] or ["failed"]
        _say(f"  failed {rid} ({rep.failed_points.get(rid, '')}): {last[0]}", "red")


def _print_report(rep: Any) -> None:
    _summary_line(rep)
    if rep.verdict is not None:
        _say(rep.verdict.summary())
    elif rep.check_error:
        _say(f"check failed: {rep.check_error.strip().splitlines()[-1]}", "red")
    elif rep.failed or rep.stopped_early:
        _say("no verdict: some runs failed; rerun the same command to retry them")


def _store(path: Path | None) -> Any:
    """The store, telling the user (on stderr) what it found and repaired."""
    from theorylab.engine.store import Store

    return Store(path, notify=lambda text: err.print(Text(f"warning: {text}"), soft_wrap=True))


def _warn_budget(estimate_s: float, to_run: int, how: str, time_budget: float, preset: str) -> None:
    """Warn when the stated per-run budgets put the work above ``time_budget`` minutes."""
    from theorylab.engine.progress import format_duration

    if preset != "smoke" and estimate_s > 60 * time_budget:
        at_least = "at least " if preset != "quick" else ""
        err.print(Text(f"warning: {to_run:,} runs to do, estimated {at_least}{format_duration(estimate_s)} "
                       f"({how}), above --time-budget {time_budget:g} min; Ctrl-C stops it and keeps the "
                       "stored runs"), soft_wrap=True)


TimeBudgetOpt = Annotated[float, typer.Option(
    "--time-budget", help="warn when the runs to do are estimated above this many minutes "
    "(runs × the experiment's stated seconds per quick run / workers)")]


def _interrupted(e: Any) -> None:
    err.print(Text(f"interrupted: {e.stored} of {e.planned} runs are stored; "
                   "run the same command again to resume"), soft_wrap=True)
    raise typer.Exit(130)


@app.command()
def run(
    name: str,
    preset: Annotated[str, typer.Option(help=PRESETS_HELP)] = "quick",
    set_: Annotated[list[str] | None, typer.Option("--set", help="key=value config override (repeatable)")] = None,
    seeds: Annotated[int | None, typer.Option(help="replicate seeds per grid point (default: the preset's)")] = None,
    sweep: Annotated[list[str] | None, typer.Option(help="key=v1,v2,... grid axis (repeatable)")] = None,
    executor: Annotated[str, typer.Option(help="serial | process | ray")] = "process",
    workers: Annotated[int | None, typer.Option(help="parallel workers (default: all cores)")] = None,
    ray_address: Annotated[str | None, typer.Option("--ray-address", help="Ray cluster address (default: start a local Ray)")] = None,
    store: StoreOpt = None,
    sweep_name: Annotated[str | None, typer.Option("--name", help="sweep name in the store (default: NAME.PRESET, or NAME.PRESET-<hash> for a changed spec)")] = None,
    base_seed: Annotated[int, typer.Option(help="base seed the run seeds derive from")] = 0,
    force: Annotated[bool, typer.Option(help="replace a stored sweep of the same --name whose spec differs")] = False,
    fail_fast: Annotated[bool, typer.Option("--fail-fast", help="stop at the first failed run")] = False,
    max_runs: Annotated[int, typer.Option("--max-runs", help="refuse plans with more runs than this")] = 20_000,
    time_budget: TimeBudgetOpt = 60.0,
    report: Annotated[Path | None, typer.Option(help="HTML report path (default <store>/reports/<sweep>.html)")] = None,
) -> None:
    """Run (or resume) one experiment's sweep, store every run, print the verdict."""
    from theorylab.engine.config import ConfigError, parse_assignments, parse_sweeps
    from theorylab.engine.executors import make_executor
    from theorylab.engine.progress import ProgressReporter
    from theorylab.engine.registry import get_experiment
    from theorylab.engine.runner import SweepInterrupted, run_sweep
    from theorylab.engine.store import check_name
    from theorylab.engine.sweep import plan_sweep

    # Validate everything before any work or any file: a bad value is one line and exit 2.
    if max_runs < 1:
        raise ConfigError(f"--max-runs must be a positive integer, got {max_runs}")
    if not time_budget > 0 or time_budget == float("inf"):
        raise ConfigError(f"--time-budget must be a positive number of minutes, got {time_budget}")
    if sweep_name is not None:
        check_name(sweep_name, "--name")
    exp = get_experiment(name)
    overrides = parse_assignments(set_ or [])
    grid = parse_sweeps(sweep or [])
    plan_sweep(exp, preset=preset, overrides=overrides, sweep=grid, seeds=seeds, base_seed=base_seed,
               max_runs=max_runs)
    ex = make_executor(executor, max_workers=workers, ray_address=ray_address)
    st = _store(store)
    n_workers = getattr(ex, "max_workers", 1) or 1
    progress = ProgressReporter(exp.name, workers=n_workers, budget_s=exp.budget_s)

    def on_plan(total: int, to_run: int) -> None:
        # the stated budget is per quick run, on one core
        _warn_budget(exp.budget_s * to_run / n_workers, to_run,
                     f"{exp.budget_s:g} s per quick run × {to_run:,} / {n_workers} workers", time_budget, preset)
        progress.on_plan(total, to_run)

    try:
        with progress:
            rep = run_sweep(exp, preset=preset, overrides=overrides, sweep=grid, seeds=seeds, base_seed=base_seed,
                            executor=ex, store=st, name=sweep_name, force=force, fail_fast=fail_fast,
                            max_runs=max_runs, on_plan=on_plan, on_outcome=progress.on_outcome)
    except SweepInterrupted as e:
        getattr(ex, "abort", ex.close)()
        _interrupted(e)
    except KeyboardInterrupt:  # while planning or checking (typer would exit 130 without a word)
        getattr(ex, "abort", ex.close)()
        err.print(Text("interrupted: stored runs are kept; run the same command again to resume"))
        raise typer.Exit(130) from None
    finally:
        ex.close()
    _print_report(rep)
    from theorylab.report import build_entry, write_report

    path = report or st.root / "reports" / f"{rep.name}.html"
    write_report([build_entry(exp, st, rep.name, rep.results, check_error=rep.check_error)], path,
                 title=f"theorylab: {exp.name}")
    _say(f"report: {path}")
    if not rep.complete:
        raise typer.Exit(1)


@app.command()
def report(
    name: Annotated[str | None, typer.Argument(help="sweep or experiment name (its latest sweep)")] = None,
    all_: Annotated[bool, typer.Option("--all", help="the latest sweep of every experiment and preset")] = False,
    output: Annotated[Path, typer.Option("-o", "--output", help="HTML file to write")] = Path("theorylab-report.html"),
    store: StoreOpt = None,
) -> None:
    """Write one self-contained HTML report: the verdicts first (claims, then instruments), then one
    section per experiment with its latest sweep of each preset."""
    from theorylab.api import write_report

    if name is None and not all_:
        _fail("say which sweeps to report: `theorylab report NAME` (a sweep or experiment name, see "
              "`theorylab status`) or `theorylab report --all`")
    if name is not None and all_:
        _fail("give a NAME or --all, not both")
    write_report(None if all_ else [name], output, store=store,
                 title="theorylab report" if all_ else f"theorylab report: {name}")
    _say(f"report: {output}")


@app.command()
def reproduce(
    preset: Annotated[str, typer.Option(help=PRESETS_HELP)] = "quick",
    executor: Annotated[str, typer.Option(help="serial | process | ray")] = "process",
    workers: Annotated[int | None, typer.Option(help="parallel workers (default: all cores)")] = None,
    ray_address: Annotated[str | None, typer.Option("--ray-address")] = None,
    store: StoreOpt = None,
    output: Annotated[Path, typer.Option("-o", "--output", help="HTML report")] = Path("theorylab-report.html"),
    only: Annotated[list[str] | None, typer.Option(help="restrict to these experiments (repeatable)")] = None,
    time_budget: TimeBudgetOpt = 60.0,
) -> None:
    """Run every registered experiment at a preset through one queue and write one report."""
    from theorylab.engine.executors import make_executor
    from theorylab.engine.progress import ProgressReporter
    from theorylab.engine.registry import catalog, get_experiment
    from theorylab.engine.runner import SweepInterrupted, SweepRequest, run_sweeps
    from theorylab.report import build_entry, write_report

    names = list(only) if only else sorted(catalog())
    exps = [get_experiment(n) for n in names]
    for e in exps:
        e.make_config(preset)  # an unknown preset fails here, before any work
    if not time_budget > 0 or time_budget == float("inf"):
        _fail(f"--time-budget must be a positive number of minutes, got {time_budget}")
    ex = make_executor(executor, max_workers=workers, ray_address=ray_address)
    st = _store(store)
    t0 = time.time()
    n_workers = getattr(ex, "max_workers", 1) or 1
    mean_budget = sum(e.budget_s * e.seeds_for(preset) for e in exps) / max(1, sum(e.seeds_for(preset) for e in exps))
    progress = ProgressReporter(f"reproduce --preset {preset}", workers=n_workers, budget_s=mean_budget)
    reqs = [SweepRequest(e.name, preset, force=True) for e in exps]

    def on_plan(total: int, to_run: int) -> None:
        _warn_budget(mean_budget * to_run / n_workers, to_run,
                     f"the experiments' stated seconds per quick run / {n_workers} workers", time_budget, preset)
        progress.on_plan(total, to_run)

    try:
        with progress:
            reports = run_sweeps(reqs, executor=ex, store=st, on_plan=on_plan, on_outcome=progress.on_outcome)
    except SweepInterrupted as e:
        getattr(ex, "abort", ex.close)()
        _interrupted(e)
    finally:
        ex.close()
    entries = [build_entry(r.experiment, st, r.name, r.results, check_error=r.check_error) for r in reports]
    write_report(entries, output, title=f"theorylab reproduce --preset {preset}")
    elapsed = time.time() - t0
    for kind, title in (("claim", "claims"), ("instrument", "instrument checks")):
        rows = [r for r in reports if r.experiment.kind == kind]
        if not rows:
            continue
        t = Table("experiment", "runs", "failed", "verdict", title=f"{title} ({len(rows)})")
        tally: dict[str, int] = {}
        for r in rows:
            v = r.verdict.status if r.verdict else ("check failed" if r.check_error else "no verdict")
            tally[v] = tally.get(v, 0) + 1
            t.add_row(Text(r.name), str(len(r.run_ids)), str(len(r.failed)), Text(v))
        out.print(t)
        _say(f"{title}: " + ", ".join(f"{k} {v}" for k, v in sorted(tally.items())))
    _say(f"reproduce --preset {preset}: {elapsed:.0f} s; report: {output}")
    if any(not r.complete for r in reports):
        raise typer.Exit(1)


def _register_commands() -> None:
    for mod in COMMAND_MODULES:
        importlib.import_module(f"theorylab.commands.{mod}").register(app)


_register_commands()


def main(argv: list[str] | None = None) -> None:
    """Console entry point: user errors become one line on stderr and exit code 2."""
    try:
        app(args=argv, prog_name="theorylab")
    except TheorylabError as e:
        err.print(Text.assemble(("error: ", "bold red"), str(e)), soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        err.print(Text("interrupted: stored runs are kept; run the same command again to resume"))
        sys.exit(130)
    except SystemExit as e:
        # typer turns a Ctrl-C that no command handled into a silent exit 130: say what happened.
        if e.code == 130 and isinstance(getattr(e.__context__, "__cause__", None), KeyboardInterrupt):
            err.print(Text("interrupted: stored runs are kept; run the same command again to resume"))
        raise


__all__ = ["app", "main"]
