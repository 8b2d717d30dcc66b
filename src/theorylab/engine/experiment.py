"""An :class:`Experiment`: one claim (or one instrument check) made executable.

A subclass states what it tests (``name``, ``kind``, ``claim``, ``source``, ``check_statement``),
declares a frozen ``Config`` with presets, measures in ``run(config, seed) -> {table: DataFrame}``
and judges the stored results of a whole sweep in ``check(results) -> Verdict``, using the
check constructors of :mod:`theorylab.engine.checks`. The default ``check`` calls
``check_point`` once per grid point of the sweep, so a user's ``--sweep`` gets one set of checks
per point; an experiment whose claim is a trend across a swept parameter overrides ``check``.

Experiment modules keep their heavy imports (torch, pandas, scipy, matplotlib) inside
functions: ``theorylab show`` imports the module to print its config and must stay fast.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, get_args, get_origin

from theorylab.engine.checks import Check, Kind, Verdict
from theorylab.engine.config import ConfigError, ExperimentConfig, build_config

if TYPE_CHECKING:
    import pandas as pd

    from theorylab.engine.results import Results

__all__ = ["Experiment", "describe_type"]


class Experiment:
    """A claim made executable. Subclass, set the class attributes, implement ``run`` and checks.

    Class attributes
    ----------------
    name : registry key, kebab-case (``"curse-of-dimensionality"``).
    kind : ``"claim"`` (a statement from a source that could be false) or ``"instrument"``
        (an exact oracle that checks the lab's measuring: Wendel, ball volume, ...).
    claim : the claim, stated as the source states it.
    source : paper / talk with year and identifier.
    check_statement : the checks in words: statistic, claimed side, threshold, effect size, control.
    Config : the :class:`ExperimentConfig` subclass; its defaults are the ``quick`` preset
        unless ``presets["quick"]`` overrides them.
    presets : ``{"smoke": {...}, "quick": {...}, "full": {...}}`` overrides of the defaults.
        ``smoke`` is for tests (seconds), ``quick`` for laptops, ``full`` for the paper's scale.
    default_seeds : replicate seeds per grid point when the user gives none, per preset;
        ``quick`` and ``full`` use at least 5 (or independent draws inside one run, stated in
        ``replicates``).
    replicates : what the checks' independent replicates are (``"seeds"`` by default).
    budget_s : the stated wall-clock budget of one ``quick`` run on one core (seconds).
    tables : names of the tables ``run`` returns (checked by the conformance test).
    """

    name: ClassVar[str]
    kind: ClassVar[Kind] = "claim"
    claim: ClassVar[str]
    source: ClassVar[str]
    check_statement: ClassVar[str]
    Config: ClassVar[type[ExperimentConfig]]
    presets: ClassVar[dict[str, dict[str, Any]]] = {}
    default_seeds: ClassVar[dict[str, int]] = {"smoke": 2, "quick": 5, "full": 5}
    replicates: ClassVar[str] = "seeds"
    budget_s: ClassVar[float] = 60.0
    tables: ClassVar[tuple[str, ...]] = ()
    summary_keys: ClassVar[tuple[str, ...]] = ()

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
        """Judge a sweep's stored results. Default: :meth:`check_point` at every grid point."""
        checks: list[Check] = []
        points = results.points()
        for point, res in results.by_point():
            for c in self.check_point(res):
                checks.append(c.model_copy(update={"point": _jsonable(point)}) if len(points) > 1 else c)
        return self.verdict(checks, **self.evidence(results))

    def check_point(self, results: Results) -> Sequence[Check]:
        """The checks at one grid point (``results.config`` is that point's config)."""
        raise NotImplementedError(f"{type(self).__name__} implements neither check nor check_point")

    def evidence(self, results: Results) -> dict[str, Any]:
        """Extra numbers for the report (small, JSON-able). Default: none."""
        return {}

    def figures(self, results: Results) -> dict[str, Any]:
        """Matplotlib figures keyed by a short title. Default: none."""
        return {}

    def summarize(self, results: Results) -> pd.DataFrame:
        """The table of runs shown in reports: mean ± 95% interval over seeds, n stated.

        Default: the first declared table, grouped by the swept config keys and the table's
        own key columns listed in ``summary_keys``.
        """
        import pandas as pd

        from theorylab.engine.results import aggregate

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

    def verdict(self, checks: Sequence[Check], **evidence: Any) -> Verdict:
        """Build this experiment's :class:`Verdict` from its checks."""
        return Verdict(experiment=self.name, kind=self.kind, claim=self.claim, checks=tuple(checks),
                       evidence=evidence)

    def describe(self) -> dict[str, Any]:
        """Name, kind, claim, source, check, presets and the config schema (JSON-able)."""
        fields = {}
        for key, f in self.Config.model_fields.items():
            default = f.get_default(call_default_factory=True)
            fields[key] = {
                "type": describe_type(f.annotation),
                "default": default,
                "description": f.description or "",
            }
        return {
            "name": self.name,
            "kind": self.kind,
            "claim": self.claim,
            "source": self.source,
            "check": self.check_statement,
            "tables": list(self.tables),
            "presets": {p: self.presets.get(p, {}) for p in self.preset_names()},
            "default_seeds": dict(self.default_seeds),
            "replicates": self.replicates,
            "budget_s": self.budget_s,
            "config": fields,
        }


def _jsonable(point: Mapping[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in point.items()}


def describe_type(annotation: Any) -> str:
    """A short readable name for a config field's type; Literal choices are listed."""
    origin = get_origin(annotation)
    if origin is Annotated:  # constraints live in the Field: show the type itself
        return describe_type(get_args(annotation)[0])
    if origin is Literal:
        return " | ".join(repr(a) for a in get_args(annotation))
    args = get_args(annotation)
    if origin is not None and args:
        inner = ", ".join(describe_type(a) for a in args if a is not Ellipsis)
        base = getattr(origin, "__name__", str(origin).replace("typing.", ""))
        if base in ("Union", "UnionType"):
            return " | ".join(describe_type(a) for a in args)
        return f"{base}[{inner}{', ...' if Ellipsis in args else ''}]"
    if annotation is type(None):
        return "None"
    return getattr(annotation, "__name__", str(annotation).replace("typing.", ""))
