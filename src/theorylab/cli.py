"""The ``theorylab`` command: parse, validate, call the engine, print. No science here.

Bad input (unknown experiment or key, wrong type, empty sweep value, unreadable store file)
prints one line naming the problem and the allowed values, and exits with code 2.
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
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from theorylab.engine.config import parse_assignments, parse_sweeps
from theorylab.engine.executors import EXECUTORS, make_executor
from theorylab.engine.experiment import get_experiment, list_experiments
from theorylab.engine.runner import SweepReport, default_sweep_name, resolve_sweep, run_sweep
from theorylab.engine.store import Store
from theorylab.engine.sweep import plan_sweep
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

StoreOpt = Annotated[
    Path | None, typer.Option("--store", help="results directory (default $THEORYLAB_HOME or ./theorylab-runs)")
]


def _fail(message: str) -> None:
    err.print(f"[bold red]error:[/] {message}", soft_wrap=True)
    raise typer.Exit(2)


@app.command("list")
def list_cmd(as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False) -> None:
    """Every registered experiment with its claim and source."""
    exps = list_experiments()
    if as_json:
        rows = [{k: e.describe()[k] for k in ("name", "claim", "source", "check")} for e in exps]
        typer.echo(json.dumps(rows, indent=2))
        return
    t = Table("experiment", "claim", "source", show_lines=True)
    for e in exps:
        t.add_row(e.name, e.claim, e.source)
    out.print(t)


@app.command()
def show(
    name: str,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """The claim, the check, and the config schema with defaults, units and presets."""
    d = get_experiment(name).describe()
    if as_json:
        typer.echo(json.dumps(d, indent=2, default=str))
        return
    out.print(f"[bold]{d['name']}[/]")
    out.print(f"[bold]Claim.[/] {d['claim']}")
    out.print(f"[bold]Source.[/] {d['source']}")
    out.print(f"[bold]Check.[/] {d['check']}")
    out.print(f"[bold]Tables.[/] {', '.join(d['tables'])}   [bold]quick budget[/] {d['budget_s']:g} s per run")
    t = Table("key", "type", "default", "description (units)", title="config")
    for k, f in d["config"].items():
        t.add_row(k, f["type"], json.dumps(f["default"], default=str), f["description"])
    out.print(t)
    for p, ov in d["presets"].items():
        out.print(f"  preset [bold]{p}[/] (seeds {d['default_seeds'].get(p, 1)}): {json.dumps(ov, default=str)}")


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err, transient=False,
    )


def _print_report(rep: SweepReport) -> None:
    out.print(
        f"[bold]{rep.name}[/]: {len(rep.plan.runs)} runs planned, {rep.skipped} already stored, "
        f"{rep.done} ran, {len(rep.failed)} failed"
    )
    for rid, e in rep.failed.items():
        last = [ln for ln in e.strip().splitlines() if ln.strip()][-1:] or ["failed"]
        out.print(f"  [red]failed[/] {rid}: {last[0]}")
    if rep.verdict is not None:
        out.print(rep.verdict.summary(), markup=False)
    elif rep.check_error:
        out.print(f"[red]check failed:[/] {rep.check_error.strip().splitlines()[-1]}")
    elif rep.failed or rep.stopped_early:
        out.print("no verdict: some runs failed; rerun the same command to retry them")


def _run_one(exp_name: str, progress: Progress, **kwargs: Any) -> SweepReport:
    task = progress.add_task(exp_name, total=None)

    def on_plan(total: int, todo: int) -> None:
        progress.update(task, total=total, completed=total - todo)

    return run_sweep(
        exp_name, on_plan=on_plan, on_outcome=lambda o: progress.advance(task), **kwargs
    )


@app.command()
def run(
    name: str,
    preset: Annotated[str, typer.Option(help="smoke | quick | full")] = "quick",
    set_: Annotated[list[str] | None, typer.Option("--set", help="key=value config override (repeatable)")] = None,
    seeds: Annotated[int | None, typer.Option(help="replicate seeds per config (default: the preset's)")] = None,
    sweep: Annotated[list[str] | None, typer.Option(help="key=v1,v2,... grid axis (repeatable)")] = None,
    executor: Annotated[str, typer.Option(help="serial | process | ray")] = "process",
    workers: Annotated[int | None, typer.Option(help="parallel workers (default: all cores)")] = None,
    ray_address: Annotated[str | None, typer.Option("--ray-address", help="Ray cluster address (default: start a local Ray)")] = None,
    store: StoreOpt = None,
    sweep_name: Annotated[str | None, typer.Option("--name", help="sweep name in the store (default NAME.PRESET)")] = None,
    base_seed: Annotated[int, typer.Option(help="base seed the run seeds derive from")] = 0,
    force: Annotated[bool, typer.Option(help="replace a stored sweep of the same name whose spec differs")] = False,
    fail_fast: Annotated[bool, typer.Option("--fail-fast", help="stop at the first failed run")] = False,
    report: Annotated[Path | None, typer.Option(help="HTML report path (default <store>/reports/<sweep>.html)")] = None,
) -> None:
    """Run (or resume) one experiment's sweep, store every run, print the verdict."""
    exp = get_experiment(name)
    if executor not in EXECUTORS:
        _fail(f"unknown executor {executor!r} (allowed: {', '.join(EXECUTORS)})")
    overrides = parse_assignments(set_ or [])
    grid = parse_sweeps(sweep or [])
    st = Store(store)
    plan_sweep(exp, preset=preset, overrides=overrides, sweep=grid, seeds=seeds, base_seed=base_seed)  # validate first
    with _progress() as progress:
        rep = _run_one(
            exp.name, progress, preset=preset, overrides=overrides, sweep=grid, seeds=seeds,
            base_seed=base_seed, executor=executor, max_workers=workers, ray_address=ray_address,
            store=st, name=sweep_name, force=force, fail_fast=fail_fast,
        )
    _print_report(rep)
    from theorylab.report import build_entry, write_report

    path = report or st.root / "reports" / f"{rep.name}.html"
    write_report([build_entry(exp, st, rep.name, rep.results)], path, title=f"theorylab: {exp.name}")
    out.print(f"report: {path}")
    if not rep.complete:
        raise typer.Exit(1)


@app.command()
def status(
    store: StoreOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Runs per sweep: done, failed (with the error), missing; and the verdict."""
    st = Store(store)
    if not st.root.exists():
        _fail(f"no store at {st.root} (run an experiment first, or pass --store)")
    if not st.index_ok():
        st.rebuild_index()
    rows = []
    for name in st.sweep_names():
        rec = st.sweep(name)
        specs = st.sweep_runs(name, rec)
        done = failed = missing = 0
        errors = []
        for s in specs:
            state, m = st.run_state(s.experiment, s.run_id)
            if state == "missing":
                missing += 1
            elif state == "done":
                done += 1
            else:
                failed += 1
                last = [ln for ln in (m.get("error") or "failed").strip().splitlines() if ln.strip()]
                errors.append(f"{s.run_id}: {last[-1] if last else 'failed'}")
        v = st.verdict(name)
        rows.append({
            "sweep": name, "experiment": rec["experiment"], "planned": len(specs), "done": done,
            "failed": failed, "missing": missing, "verdict": (v or {}).get("status"), "errors": errors,
        })
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    t = Table("sweep", "experiment", "done", "failed", "missing", "verdict", title=f"store {st.root}")
    for r in rows:
        t.add_row(r["sweep"], r["experiment"], str(r["done"]), str(r["failed"]), str(r["missing"]), r["verdict"] or "-")
    out.print(t)
    for r in rows:
        for e in r["errors"]:
            out.print(f"  [red]failed[/] {r['sweep']} {e}")


@app.command()
def report(
    name: Annotated[str | None, typer.Argument(help="sweep or experiment name")] = None,
    all_: Annotated[bool, typer.Option("--all", help="every stored sweep")] = False,
    output: Annotated[Path, typer.Option("-o", "--output", help="HTML file to write")] = Path("theorylab-report.html"),
    store: StoreOpt = None,
) -> None:
    """Write one self-contained static HTML report."""
    from theorylab.report import build_entry, write_report

    if (name is None) == (not all_):
        _fail("give a sweep/experiment NAME or --all (not both)")
    st = Store(store)
    names = st.sweep_names() if all_ else [name]
    if not names:
        _fail(f"no stored sweeps in {st.root}")
    entries = []
    for n in names:
        exp, sweep = resolve_sweep(st, n)
        entries.append(build_entry(exp, st, sweep))
    write_report(entries, output)
    out.print(f"report: {output}")


@app.command()
def reproduce(
    preset: Annotated[str, typer.Option(help="smoke | quick | full")] = "quick",
    executor: Annotated[str, typer.Option(help="serial | process | ray")] = "process",
    workers: Annotated[int | None, typer.Option(help="parallel workers (default: all cores)")] = None,
    ray_address: Annotated[str | None, typer.Option("--ray-address")] = None,
    store: StoreOpt = None,
    output: Annotated[Path, typer.Option("-o", "--output", help="HTML report")] = Path("theorylab-report.html"),
    only: Annotated[list[str] | None, typer.Option(help="restrict to these experiments (repeatable)")] = None,
) -> None:
    """Run every registered claim at a preset and write one report."""
    from theorylab.report import build_entry, write_report

    if executor not in EXECUTORS:
        _fail(f"unknown executor {executor!r} (allowed: {', '.join(EXECUTORS)})")
    exps = [get_experiment(n) for n in only] if only else list_experiments()
    st = Store(store)
    t0 = time.time()
    ex = make_executor(executor, max_workers=workers, ray_address=ray_address)
    reports: list[SweepReport] = []
    try:
        with _progress() as progress:
            for e in exps:
                reports.append(_run_one(e.name, progress, preset=preset, executor=ex, store=st, force=True))
    finally:
        ex.close()
    entries = [build_entry(get_experiment(r.plan.experiment), st, r.name, r.results) for r in reports]
    write_report(entries, output, title=f"theorylab reproduce --preset {preset}")
    t = Table("experiment", "runs", "failed", "verdict", title=f"reproduce --preset {preset} ({time.time() - t0:.0f} s)")
    for r in reports:
        v = r.verdict.status if r.verdict else ("check failed" if r.check_error else "no verdict")
        t.add_row(r.plan.experiment, str(len(r.plan.runs)), str(len(r.failed)), v)
    out.print(t)
    out.print(f"report: {output}")
    if any(not r.complete for r in reports):
        raise typer.Exit(1)


def _register_plugins() -> None:
    for mod in COMMAND_MODULES:
        importlib.import_module(f"theorylab.commands.{mod}").register(app)


_register_plugins()


def main(argv: list[str] | None = None) -> None:
    """Console entry point: user errors become one line on stderr and exit code 2."""
    try:
        app(args=argv, prog_name="theorylab")
    except TheorylabError as e:
        err.print(f"[bold red]error:[/] {e}", soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        err.print("interrupted: stored runs are kept; rerun the same command to resume")
        sys.exit(130)


__all__ = ["app", "default_sweep_name", "main"]
