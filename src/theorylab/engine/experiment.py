"""Experiments, their checks and verdicts, and the registry.

An :class:`Experiment` turns one claim into something that runs: a frozen config with
presets, ``run(config, seed) -> {table_name: DataFrame}``, a ``check`` that reads the stored
results of every seed and returns a :class:`Verdict`, and ``figures``. Experiments register
themselves with :func:`register`; the engine never imports a particular experiment.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from theorylab.engine.config import ConfigError, ExperimentConfig, build_config
from theorylab.errors import TheorylabError

__all__ = [
    "Check",
    "Experiment",
    "Results",
    "UnknownExperimentError",
    "Verdict",
    "get_experiment",
    "list_experiments",
    "register",
]

Status = Literal["supported", "not supported", "inconclusive"]
STATUSES: tuple[str, ...] = ("supported", "not supported", "inconclusive")


class Check(BaseModel):
    """One measured comparison against a stated threshold.

    Attributes
    ----------
    statement : what is being checked, in words ("MC volume within 4 SE of the closed form").
    quantity : the measured quantity's name and unit.
    measured : the measured value (usually a mean over seeds).
    interval : a 95% interval for ``measured`` when one exists, else None.
    threshold : the pass condition in words/numbers ("<= 4.0 standard errors").
    status : ``supported``, ``not supported`` or ``inconclusive``.
    n : number of independent runs (seeds) behind ``measured``.
    reference : the reference value compared against, if any.
    exact : True when the reference is an exact oracle (closed form), False when approximate.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    statement: str
    quantity: str
    measured: float | None
    interval: tuple[float, float] | None = None
    threshold: str
    status: Status
    n: int
    reference: float | None = None
    exact: bool | None = None


class Verdict(BaseModel):
    """What an experiment's check concluded from stored results.

    ``status`` is ``not supported`` if any check is, else ``inconclusive`` if any check is,
    else ``supported``. ``evidence`` holds extra numbers (small, JSON-able) shown in reports.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    experiment: str
    claim: str
    checks: tuple[Check, ...]
    evidence: dict[str, Any] = {}

    @property
    def status(self) -> Status:
        statuses = {c.status for c in self.checks}
        if not statuses:
            return "inconclusive"
        if "not supported" in statuses:
            return "not supported"
        if "inconclusive" in statuses:
            return "inconclusive"
        return "supported"

    def summary(self) -> str:
        """One line per check: status, statement, measured [interval] vs threshold."""
        lines = [f"{self.experiment}: {self.status.upper()}"]
        for c in self.checks:
            val = "n/a" if c.measured is None else f"{c.measured:.4g}"
            if c.interval is not None:
                val += f" [{c.interval[0]:.4g}, {c.interval[1]:.4g}]"
            lines.append(
                f"  - [{c.status}] {c.statement}: {c.quantity} = {val} (n={c.n}); "
                f"threshold {c.threshold}"
            )
        return "\n".join(lines)

    def to_json_dict(self) -> dict[str, Any]:
        d = self.model_dump(mode="json")
        d["status"] = self.status
        return d


@dataclass(frozen=True)
class Results:
    """Stored results of one sweep, as pandas tables, ready for a check or a figure.

    ``tables[name]`` is the concatenation over runs of table ``name``, with columns
    ``run_id`` and ``seed`` plus every scalar config field added. ``runs`` has one row per
    run (``run_id``, ``seed``, ``replicate``, ``status`` and the scalar config fields).
    ``configs`` maps run_id to its config object.
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
    def n_seeds(self) -> int:
        return int(self.runs["seed"].nunique()) if len(self.runs) else 0

    def first_config(self) -> ExperimentConfig:
        return next(iter(self.configs.values()))


class Experiment:
    """A claim made executable. Subclass, set the class attributes, implement ``run``/``check``.

    Class attributes
    ----------------
    name : registry key, kebab-case (``"curse-of-dimensionality"``).
    claim : the claim, stated as the source states it.
    source : paper / talk with year and identifier.
    check_statement : the check in one sentence: quantity, threshold, what counts as support.
    Config : the :class:`ExperimentConfig` subclass; its defaults are the ``quick`` preset
        unless ``presets["quick"]`` overrides them.
    presets : ``{"smoke": {...}, "quick": {...}, "full": {...}}`` overrides of the defaults.
        ``smoke`` is for tests (seconds), ``quick`` for laptops (well under a minute),
        ``full`` for the paper's scale where a CPU allows.
    default_seeds : seeds per config when the user gives none, per preset.
    budget_s : the stated wall-clock budget of the ``quick`` preset for one seed, one core.
    tables : names of the tables ``run`` returns (checked by the conformance test).
    """

    name: ClassVar[str]
    claim: ClassVar[str]
    source: ClassVar[str]
    check_statement: ClassVar[str]
    Config: ClassVar[type[ExperimentConfig]]
    presets: ClassVar[dict[str, dict[str, Any]]] = {}
    default_seeds: ClassVar[dict[str, int]] = {"smoke": 1, "quick": 2, "full": 5}
    budget_s: ClassVar[float] = 60.0
    tables: ClassVar[tuple[str, ...]] = ()

    # -- configuration -------------------------------------------------------------------
    def preset_names(self) -> list[str]:
        return sorted({"smoke", "quick", "full", *self.presets})

    def make_config(
        self, preset: str = "quick", overrides: Mapping[str, Any] | None = None
    ) -> ExperimentConfig:
        """The validated config for ``preset`` with ``overrides`` applied."""
        if preset not in self.preset_names():
            raise ConfigError(
                f"unknown preset {preset!r} for {self.name} (allowed: {', '.join(self.preset_names())})"
            )
        values = {**self.presets.get(preset, {}), **(overrides or {})}
        return build_config(self.Config, values)

    def seeds_for(self, preset: str) -> int:
        return int(self.default_seeds.get(preset, 1))

    # -- science ---------------------------------------------------------------------------
    def run(self, config: Any, seed: int) -> dict[str, pd.DataFrame]:
        """Run once with ``seed``; return tidy tables keyed by name."""
        raise NotImplementedError

    def check(self, results: Results) -> Verdict:
        """Turn stored results (all seeds) into a :class:`Verdict`."""
        raise NotImplementedError

    def figures(self, results: Results) -> dict[str, Any]:
        """Matplotlib figures keyed by a short title. Default: none."""
        return {}

    def summarize(self, results: Results) -> pd.DataFrame:
        """The table of runs shown in reports: mean ± 95% interval over seeds, n stated.

        Default: the first declared table, grouped by the swept config keys and its own
        non-numeric / integer key columns listed in ``summary_keys``.
        """
        name = self.tables[0] if self.tables else next(iter(results.tables), None)
        if name is None or name not in results.tables:
            return pd.DataFrame()
        df = results.tables[name]
        keys = [k for k in (*results.swept, *self.summary_keys) if k in df.columns]
        values = [
            c
            for c in df.columns
            if c not in keys
            and c not in ("run_id", "seed", *results.runs.columns)
            and pd.api.types.is_numeric_dtype(df[c])
            and not pd.api.types.is_bool_dtype(df[c])
        ]
        return aggregate(df, keys, values)

    summary_keys: ClassVar[tuple[str, ...]] = ()

    def verdict(self, checks: Sequence[Check], **evidence: Any) -> Verdict:
        """Build this experiment's :class:`Verdict` from its checks."""
        return Verdict(experiment=self.name, claim=self.claim, checks=tuple(checks), evidence=evidence)

    def describe(self) -> dict[str, Any]:
        """Name, claim, source, check, presets and the config schema (JSON-able)."""
        fields = {}
        for key, f in self.Config.model_fields.items():
            default = f.get_default(call_default_factory=True)
            fields[key] = {
                "type": _type_name(f.annotation),
                "default": default,
                "description": f.description or "",
            }
        return {
            "name": self.name,
            "claim": self.claim,
            "source": self.source,
            "check": self.check_statement,
            "tables": list(self.tables),
            "presets": {p: self.presets.get(p, {}) for p in self.preset_names()},
            "default_seeds": dict(self.default_seeds),
            "budget_s": self.budget_s,
            "config": fields,
        }


def _type_name(annotation: Any) -> str:
    name = getattr(annotation, "__name__", None)
    return name if name and not str(annotation).startswith("typing") else str(annotation).replace("typing.", "")


# -- statistics shared by checks and reports ---------------------------------------------------
def mean_ci(values: Sequence[float] | np.ndarray, level: float = 0.95) -> tuple[float, float, float, int]:
    """Mean and a two-sided Student-t interval over independent runs: (mean, lo, hi, n).

    With one value the interval is (nan, nan): one run gives no spread.
    """
    from scipy import stats

    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = int(x.size)
    if n == 0:
        return float("nan"), float("nan"), float("nan"), 0
    m = float(x.mean())
    if n == 1:
        return m, float("nan"), float("nan"), 1
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * x.std(ddof=1) / np.sqrt(n))
    return m, m - half, m + half, n


def aggregate(df: pd.DataFrame, keys: Sequence[str], values: Sequence[str]) -> pd.DataFrame:
    """Mean and 95% t-interval of ``values`` over rows grouped by ``keys``; n per group.

    Returns one row per group with ``<v>``, ``<v>_lo``, ``<v>_hi`` for each value and ``n``.
    """
    rows = []
    groups = df.groupby(list(keys), sort=True, dropna=False) if keys else [((), df)]
    for gkey, g in groups:
        gkey = gkey if isinstance(gkey, tuple) else (gkey,)
        row: dict[str, Any] = dict(zip(keys, gkey, strict=False))
        n = 0
        for v in values:
            m, lo, hi, n_v = mean_ci(g[v].to_numpy())
            row[v], row[f"{v}_lo"], row[f"{v}_hi"] = m, lo, hi
            n = max(n, n_v)
        row["n"] = n
        rows.append(row)
    return pd.DataFrame(rows)


# -- registry ------------------------------------------------------------------------------------
class UnknownExperimentError(TheorylabError, KeyError):
    """No experiment is registered under that name."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown experiment"


_REGISTRY: dict[str, Experiment] = {}
_DISCOVERED = False


def register(cls: type[Experiment]) -> type[Experiment]:
    """Class decorator: instantiate and register an experiment under ``cls.name``."""
    for attr in ("name", "claim", "source", "check_statement", "Config"):
        if not hasattr(cls, attr):
            raise TypeError(f"experiment class {cls.__name__} lacks required attribute {attr!r}")
    if not issubclass(cls.Config, ExperimentConfig):
        raise TypeError(f"{cls.__name__}.Config must subclass ExperimentConfig")
    existing = _REGISTRY.get(cls.name)
    if existing is not None and type(existing).__qualname__ != cls.__qualname__:
        raise ValueError(f"experiment name {cls.name!r} registered twice")
    _REGISTRY[cls.name] = cls()
    return cls


def _discover() -> None:
    """Import every module of :mod:`theorylab.experiments`, then the modules named in
    ``$THEORYLAB_PLUGINS`` (comma-separated), so that each registers its experiments.

    Plugins are how your own experiments reach ``process`` and ``ray`` workers, which
    discover experiments afresh in each worker.
    """
    global _DISCOVERED
    if _DISCOVERED:
        return
    _DISCOVERED = True
    pkg = importlib.import_module("theorylab.experiments")
    for mod in pkgutil.iter_modules(pkg.__path__):
        if not mod.name.startswith("_"):
            importlib.import_module(f"{pkg.__name__}.{mod.name}")
    for mod_name in filter(None, (m.strip() for m in os.environ.get("THEORYLAB_PLUGINS", "").split(","))):
        try:
            importlib.import_module(mod_name)
        except ImportError as e:
            raise TheorylabError(f"THEORYLAB_PLUGINS names {mod_name!r}, which cannot be imported ({e})") from None


def list_experiments() -> list[Experiment]:
    """Every registered experiment, sorted by name."""
    _discover()
    return [_REGISTRY[k] for k in sorted(_REGISTRY)]


def get_experiment(name: str) -> Experiment:
    """The registered experiment ``name``; :class:`UnknownExperimentError` lists the allowed names."""
    _discover()
    try:
        return _REGISTRY[name]
    except KeyError:
        allowed = ", ".join(sorted(_REGISTRY)) or "none registered"
        raise UnknownExperimentError(f"unknown experiment {name!r} (allowed: {allowed})") from None


RunFn = Callable[[Any, int], dict[str, pd.DataFrame]]
