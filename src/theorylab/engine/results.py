"""Results of a sweep, grid-aware: per grid point, across points, over replicates.

A sweep is a grid of config points × replicate seeds. :class:`Results` holds every stored
table of its done runs (concatenated, each row carrying ``run_id``, ``seed`` and the scalar
config fields) and knows which run belongs to which grid point, so that a check can look at
one point (:meth:`Results.by_point`) or fit across all of them — never at the first config alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from theorylab._lazy import lazy_module
from theorylab.engine.config import ConfigError, ExperimentConfig, canonical_json

if TYPE_CHECKING:
    import pandas as pd

    from theorylab.engine.sweep import RunSpec

pd = lazy_module("pandas")

__all__ = ["Results", "aggregate", "annotate", "assemble", "point_key", "scalar_fields"]


def scalar_fields(config: Any) -> dict[str, Any]:
    """The config fields that are scalars (added as columns to every table)."""
    return {
        k: v for k, v in config.model_dump().items() if isinstance(v, (int, float, str, bool)) or v is None
    }


def point_key(point: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> str:
    """Canonical JSON of a grid point (its swept key → value pairs)."""
    d = dict(point)
    return canonical_json({k: list(v) if isinstance(v, tuple) else v for k, v in d.items()})


@dataclass(frozen=True)
class Results:
    """Stored results of one sweep, as pandas tables, ready for a check or a figure.

    ``tables[name]`` is the concatenation over runs of table ``name``, with columns ``run_id``
    and ``seed`` plus every scalar config field. ``runs`` has one row per run (``run_id``,
    ``seed``, ``replicate``, ``status``, ``point`` — the canonical JSON of its grid point — and
    the scalar config fields). ``configs`` maps run_id to its config; ``swept`` names the keys
    the grid varies.
    """

    experiment: str
    tables: Mapping[str, pd.DataFrame]
    runs: pd.DataFrame
    configs: Mapping[str, ExperimentConfig] = field(default_factory=dict)
    swept: tuple[str, ...] = ()

    def table(self, name: str) -> pd.DataFrame:
        if name not in self.tables:
            raise KeyError(
                f"experiment {self.experiment!r} has no table {name!r} "
                f"(tables: {', '.join(sorted(self.tables)) or 'none'})"
            )
        return self.tables[name]

    @property
    def n_runs(self) -> int:
        return len(self.runs)

    @property
    def n_replicates(self) -> int:
        """Replicate seeds per grid point (the smallest over points)."""
        if not len(self.runs):
            return 0
        return int(self.runs.groupby("point")["seed"].nunique().min())

    # -- the grid --------------------------------------------------------------------------------
    def points(self) -> list[dict[str, Any]]:
        """The grid points present, in plan order, as ``{swept key: value}`` (``[{}]`` unswept)."""
        if not len(self.runs):
            return []
        out, seen = [], set()
        for rid, key in zip(self.runs["run_id"], self.runs["point"], strict=True):
            if key not in seen:
                seen.add(key)
                cfg = self.configs.get(rid)
                out.append({k: getattr(cfg, k) for k in self.swept} if cfg is not None else {})
        return out

    def at(self, point: Mapping[str, Any]) -> Results:
        """The results of one grid point (all its replicates)."""
        key = point_key(point)
        keep = self.runs["point"] == key
        if not keep.any():
            raise KeyError(f"no runs at grid point {key} (points: {[point_key(p) for p in self.points()]})")
        ids = set(self.runs.loc[keep, "run_id"])
        return Results(
            self.experiment,
            {n: df[df["run_id"].isin(ids)].reset_index(drop=True) for n, df in self.tables.items()},
            self.runs[keep].reset_index(drop=True),
            {r: c for r, c in self.configs.items() if r in ids},
            self.swept,
        )

    def by_point(self) -> Iterator[tuple[dict[str, Any], Results]]:
        """``(point, results at that point)`` for every grid point, in plan order."""
        pts = self.points()
        if len(pts) == 1:
            yield pts[0], self
            return
        for p in pts:
            yield p, self.at(p)

    def common(self, key: str) -> Any:
        """Config field ``key``, which must be the same in every run (a setting a check pools over)."""
        values = {canonical_json(getattr(c, key)) for c in self.configs.values()}
        if len(values) != 1:
            raise ConfigError(
                f"{self.experiment}: {key!r} differs across the sweep ({len(values)} values); "
                "results with different settings of it cannot be pooled"
            )
        return getattr(next(iter(self.configs.values())), key)

    @property
    def config(self) -> ExperimentConfig:
        """The config shared by every run; refuses a sweep over several grid points.

        A check that needs the config of a swept result must iterate :meth:`by_point`
        (or fit across :meth:`points`): looking at one point and reporting it as the whole
        sweep is what this refusal prevents.
        """
        keys = set(self.runs["point"]) if len(self.runs) else set()
        if len(keys) != 1:
            raise ConfigError(
                f"{self.experiment}: results span {len(keys)} grid points; use by_point() or fit across points()"
            )
        return next(iter(self.configs.values()))


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
    experiment: str,
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
             "point": point_key(spec.point), **scalar_fields(spec.config)}
        )
        configs[spec.run_id] = spec.config
        for name, df in tables.items():
            parts.setdefault(name, []).append(df)
    tables_out = {k: pd.concat(v, ignore_index=True) for k, v in parts.items()}
    runs_df = pd.DataFrame(rows) if rows else pd.DataFrame(
        columns=["run_id", "seed", "replicate", "status", "point"])
    return Results(experiment, tables_out, runs_df, configs, tuple(swept))


def aggregate(df: pd.DataFrame, keys: Sequence[str], values: Sequence[str], level: float = 0.95) -> pd.DataFrame:
    """Mean and t-interval of ``values`` over rows grouped by ``keys``, with ``n`` per group.

    Returns one row per group with ``<v>``, ``<v>_lo``, ``<v>_hi`` for each value that varies
    within some group, and ``<v>`` alone for a value that is constant within every group (a
    setting, not a measurement: it gets no interval).
    """
    from theorylab.engine.stats import mean_interval

    groups = list(df.groupby(list(keys), sort=True, dropna=False)) if keys else [((), df)]
    varying = [v for v in values if any(g[v].nunique(dropna=False) > 1 for _, g in groups)]
    rows = []
    for gkey, g in groups:
        gkey = gkey if isinstance(gkey, tuple) else (gkey,)
        row: dict[str, Any] = dict(zip(keys, gkey, strict=False))
        for v in values:
            if v in varying:
                est = mean_interval(g[v].to_numpy(), level)
                row[v], row[f"{v}_lo"], row[f"{v}_hi"] = est.value, est.lo, est.hi
            else:
                row[v] = g[v].iloc[0]
        row["n"] = int(g["run_id"].nunique()) if "run_id" in g else len(g)  # replicates, not rows
        rows.append(row)
    return pd.DataFrame(rows)
