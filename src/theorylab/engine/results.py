"""Assemble per-run tables into :class:`~theorylab.engine.experiment.Results`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from theorylab.engine.executors import execute_run
from theorylab.engine.experiment import Experiment, Results
from theorylab.engine.sweep import RunSpec, plan_sweep

__all__ = ["annotate", "assemble", "run_in_memory", "scalar_fields"]


def scalar_fields(config: Any) -> dict[str, Any]:
    """The config fields that are scalars (added as columns to every table)."""
    return {
        k: v for k, v in config.model_dump().items() if isinstance(v, (int, float, str, bool)) or v is None
    }


def annotate(experiment: str, spec: RunSpec, tables: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Add ``run_id``, ``seed`` and every scalar config field as columns to each table.

    Stored Parquet files carry these columns, so a DuckDB query over the files needs no join.
    A table column that collides with a config field name raises ``ValueError``.
    """
    fields = scalar_fields(spec.config)
    out = {}
    for name, df in tables.items():
        clash = [c for c in df.columns if c in fields or c in ("run_id", "seed")]
        if clash:
            raise ValueError(
                f"{experiment}: table {name!r} has columns {clash} that clash with config "
                "fields or run columns; rename them"
            )
        df = df.copy()
        df.insert(0, "run_id", spec.run_id)
        df.insert(1, "seed", spec.seed)
        for k, v in fields.items():
            df[k] = v
        out[name] = df.reset_index(drop=True)
    return out


def assemble(
    experiment: Experiment,
    runs: Iterable[tuple[RunSpec, str, Mapping[str, pd.DataFrame]]],
    swept: Sequence[str] = (),
) -> Results:
    """Concatenate each (annotated) table over runs into :class:`Results`."""
    parts: dict[str, list[pd.DataFrame]] = {}
    rows: list[dict[str, Any]] = []
    configs: dict[str, Any] = {}
    for spec, status, tables in runs:
        rows.append(
            {"run_id": spec.run_id, "seed": spec.seed, "replicate": spec.replicate, "status": status,
             **scalar_fields(spec.config)}
        )
        configs[spec.run_id] = spec.config
        for name, df in tables.items():
            parts.setdefault(name, []).append(df)
    tables_out = {k: pd.concat(v, ignore_index=True) for k, v in parts.items()}
    return Results(experiment.name, tables_out, pd.DataFrame(rows), configs, tuple(swept))


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
    plan = plan_sweep(experiment, preset=preset, overrides=overrides, sweep=sweep, seeds=seeds, base_seed=base_seed)
    done = []
    for spec in plan.runs:
        out = execute_run(spec)
        if out.status != "done":
            raise RuntimeError(f"{experiment.name} run {spec.run_id} failed:\n{out.error}")
        done.append((spec, "done", annotate(experiment.name, spec, out.tables)))
    return assemble(experiment, done, plan.swept)
