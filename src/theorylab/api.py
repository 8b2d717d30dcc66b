"""The Python face of the engine: ``run``, ``load``, ``list_experiments``, ``report``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from theorylab.engine.registry import catalog, get_experiment
from theorylab.engine.runner import SweepReport, load_results, resolve_sweep, run_sweep
from theorylab.engine.store import Store

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["list_experiments", "load", "run", "write_report"]


def list_experiments() -> list[dict[str, Any]]:
    """Every registered experiment as ``{name, kind, claim, source, target, origin}`` (nothing imported)."""
    return [i.as_dict() for _, i in sorted(catalog().items())]


def run(
    name: str,
    preset: str = "quick",
    *,
    set: Mapping[str, Any] | None = None,
    sweep: Mapping[str, Sequence[Any]] | None = None,
    seeds: int | None = None,
    base_seed: int = 0,
    executor: str = "serial",
    ray_address: str | None = None,
    store: str | Path | None = None,
    sweep_name: str | None = None,
    force: bool = False,
    fail_fast: bool = False,
) -> SweepReport:
    """Run (or resume) experiment ``name`` and store its runs; returns a :class:`SweepReport`.

    Example
    -------
    >>> import theorylab
    >>> rep = theorylab.run("curse-of-dimensionality", "smoke", store=tmp)  # doctest: +SKIP
    >>> rep.verdict.status  # doctest: +SKIP
    'supported'
    """
    return run_sweep(
        name, preset=preset, overrides=set, sweep=sweep, seeds=seeds, base_seed=base_seed,
        executor=executor, ray_address=ray_address, store=store, name=sweep_name, force=force,
        fail_fast=fail_fast,
    )


def load(name: str, table: str | None = None, *, store: str | Path | None = None) -> pd.DataFrame:
    """A stored table as a pandas DataFrame (all done runs of the sweep, seeds included).

    ``name`` is a sweep name (``curse-of-dimensionality.quick``) or an experiment name (its
    latest sweep); ``table`` defaults to the experiment's first table. Each row carries
    ``run_id``, ``seed`` and the scalar config fields.
    """
    res = load_results(name, Store(store))
    exp = get_experiment(res.experiment)
    table = table or (exp.tables[0] if exp.tables else next(iter(res.tables)))
    return res.table(table).copy()


def write_report(names: Sequence[str] | None = None, path: str | Path = "theorylab-report.html",
                 *, store: str | Path | Store | None = None, title: str = "theorylab report") -> Path:
    """Write one HTML report over the given sweeps or experiments (an experiment name means its
    latest sweep); default: the latest sweep of every experiment and preset in the store."""
    from theorylab.engine.store import StoreError
    from theorylab.report import build_entry, latest_sweeps
    from theorylab.report import write_report as _write

    st = store if isinstance(store, Store) else Store(store)
    if not st.root.exists():
        raise StoreError(f"no store at {st.root} (run an experiment first, or pass --store)")
    names = list(names) if names else latest_sweeps(st)
    if not names:
        raise StoreError(f"no stored sweeps in {st.root}")
    entries = []
    for n in names:
        exp, sweep = resolve_sweep(st, n)
        entries.append(build_entry(exp, st, sweep))
    return _write(entries, path, title=title)
