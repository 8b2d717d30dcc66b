"""One self-contained HTML report: a verdict summary first, then one section per experiment.

The page is static and offline: figures are embedded as SVG (vector; PNG ≥ 1600 px wide for a
figure too heavy for SVG), notation is typeset with HTML (:mod:`theorylab.report.notation`), no
script and no external resource is referenced. Every piece of text a user or an experiment
supplies (names, labels, config values, error messages) is escaped exactly once — by Jinja2's
autoescaping, or by :func:`~theorylab.report.notation.render_notation`, which returns markup —
and nothing is inserted raw. Building a report imports matplotlib and pandas, never torch.
"""

from __future__ import annotations

import base64
import io
import math
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, select_autoescape

from theorylab.engine.checks import Check, Verdict
from theorylab.engine.store import Store, StoreError, versions
from theorylab.files import atomic_write
from theorylab.report.notation import render_notation

if TYPE_CHECKING:
    import pandas as pd

    from theorylab.engine.experiment import Experiment
    from theorylab.engine.results import Results

__all__ = ["ReportEntry", "build_entry", "latest_sweeps", "render_report", "write_report"]

MAX_TABLE_ROWS = 60  # rows of a runs table shown; the rest are counted, not printed
SVG_MAX_BYTES = 1_500_000  # a heavier figure (say, a 10^5-point scatter) is embedded as PNG
PNG_WIDTH_PX = 1600  # pixel width of the PNG fallback (readable at 2× on a 800 px column)
CSS_PX_PER_INCH = 110  # a 6.4 in figure is shown 704 px wide (wider figures fill the column)
_INTERVALS = {"t": "t-interval", "z": "z-interval", "wilson": "Wilson interval", "bootstrap": "bootstrap interval",
              "welch": "Welch t-interval", "ols": "OLS slope t-interval"}
_PRESET_RANK = {"full": 0, "quick": 1, "smoke": 3}  # other (custom) presets rank 2


def latest_sweeps(store: Store) -> list[str]:
    """The most recent sweep of every (experiment, preset) in ``store``, sorted by experiment."""
    best: dict[tuple[str, str], tuple[float, str]] = {}
    for name, rec in store.sweeps().items():
        key = (rec.get("experiment", "?"), rec.get("spec", {}).get("preset", "?"))
        t = float(rec.get("created", 0))
        if key not in best or t > best[key][0]:
            best[key] = (t, name)
    return [best[k][1] for k in sorted(best)]


# -- what one sweep contributes --------------------------------------------------------------------
@dataclass(frozen=True)
class FigureImage:
    """A figure embedded as a data URI, shown up to ``width_px`` CSS pixels wide."""

    title: str
    uri: str
    width_px: int


@dataclass(frozen=True)
class Column:
    name: str
    note: str = ""  # e.g. "mean ± 95% CI"; empty for a setting that is constant within each row
    numeric: bool = False


@dataclass(frozen=True)
class Table:
    columns: list[Column]
    rows: list[list[str]]
    total_rows: int
    caption: str = ""


@dataclass(frozen=True)
class ConfigRow:
    key: str
    value: str
    default: str
    type: str
    description: str
    changed: bool  # differs from the field's default (a preset value or an override)
    swept: bool


@dataclass
class ReportEntry:
    """Everything the report shows for one sweep of one experiment."""

    experiment: dict[str, Any]  # Experiment.describe()
    sweep: str
    preset: str = "?"
    created: float = 0.0
    verdict: Verdict | None = None
    figures: list[FigureImage] = field(default_factory=list)
    table: Table | None = None
    runs_done: int = 0
    runs_planned: int = 0
    n_points: int = 1
    seeds: int = 0
    base_seed: int = 0
    swept: dict[str, list[Any]] = field(default_factory=dict)
    config: list[ConfigRow] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)
    run_versions: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return str(self.experiment.get("name", "?"))

    @property
    def kind(self) -> str:
        return str(self.experiment.get("kind", "claim"))

    @property
    def status(self) -> str:
        return self.verdict.status if self.verdict is not None else "no verdict"

    @property
    def deciding(self) -> Check | None:
        """The check the verdict's status comes from: the first counted check with that status."""
        if self.verdict is None:
            return None
        failed_pre = [c for c in self.verdict.checks if c.precondition and c.status != "supported"]
        if failed_pre:  # the test could not be run as designed: that is what decided it
            return failed_pre[0]
        counted = [c for c in self.verdict.checks if not (c.demonstration or c.precondition)] or list(self.verdict.checks)
        return next((c for c in counted if c.status == self.status), counted[0] if counted else None)

    @property
    def runs_text(self) -> str:
        """'10 runs: 5 grid points × 2 seeds' (with the done count when some are missing)."""
        grid = (f"{_plural(self.n_points, 'grid point')} × {_plural(self.seeds, 'seed')}"
                if self.n_points > 1 else _plural(self.seeds, "seed"))
        if self.runs_done == self.runs_planned:
            return f"{_plural(self.runs_done, 'run')}: {grid}"
        return f"{self.runs_done} of {_plural(self.runs_planned, 'planned run')} done ({grid})"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


# -- formatting ----------------------------------------------------------------------------------
def fmt_value(v: Any, *, group: bool = False) -> str:
    """A config value, evidence number or table cell as plain text (escaping happens later).

    Floats get 4 significant digits without an exponent between 10^-3 and 10^15; integers (and
    integral floats, which pandas makes of integer columns) print whole, with thousands separators
    when ``group`` (tables) and without them otherwise (config values a user may copy).
    """
    if v is None:
        return "none"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if hasattr(v, "item") and not isinstance(v, (str, bytes, int, float)):  # numpy scalar
        return fmt_value(v.item(), group=group)
    if isinstance(v, int) or (isinstance(v, float) and v.is_integer() and abs(v) < 1e15):
        return f"{int(v):,}" if group and abs(v) >= 10_000 else str(int(v))
    if isinstance(v, float):
        if not math.isfinite(v):
            return "n/a"
        if 1e4 <= abs(v) < 1e15:
            return f"{v:,.0f}" if group else f"{v:.0f}"
        return f"{v:.4g}" if abs(v) >= 1e-3 else f"{v:.3g}"
    if isinstance(v, (list, tuple)):
        return ", ".join(fmt_value(x, group=group) for x in v) if v else "(none)"
    if isinstance(v, Mapping):
        items = list(v.items())
        try:  # JSON turned numeric keys into strings: sort them as numbers again
            items.sort(key=lambda kv: float(kv[0]))
        except (TypeError, ValueError):
            pass  # keep the order the experiment gave
        return "; ".join(f"{k}: {fmt_value(x, group=group)}" for k, x in items) if items else "(none)"
    return str(v)


def fmt_mean_pm(m: float, lo: float, hi: float) -> str:
    """'0.784 ± 0.014': the mean to the precision of its half-width (2 significant digits)."""
    h = (hi - lo) / 2
    if not all(math.isfinite(x) for x in (m, lo, hi)) or h <= 0:
        return fmt_value(m, group=True)
    decimals = 1 - math.floor(math.log10(h))
    if decimals > 8 or abs(m) >= 1e15:
        return f"{m:.4g} ± {h:.2g}"
    d = max(decimals, 0)
    return f"{m:,.{d}f} ± {h:,.{d}f}"


def _fig_image(title: str, fig: Any) -> FigureImage:
    """Embed ``fig`` as SVG (text as paths: no font needed), or PNG when the SVG is too heavy."""
    from matplotlib import rc_context

    width_in = float(fig.get_figwidth())
    buf = io.BytesIO()
    with rc_context({"svg.fonttype": "path", "svg.hashsalt": "theorylab"}):  # reproducible ids
        fig.savefig(buf, format="svg", metadata={"Date": None})
    data, mime = buf.getvalue(), "image/svg+xml"
    if len(data) > SVG_MAX_BYTES:
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=max(100.0, PNG_WIDTH_PX / width_in))
        data, mime = buf.getvalue(), "image/png"
    uri = f"data:{mime};base64," + base64.b64encode(data).decode("ascii")
    return FigureImage(title, uri, max(640, round(width_in * CSS_PX_PER_INCH)))


def runs_table(df: pd.DataFrame, max_rows: int = MAX_TABLE_ROWS) -> Table | None:
    """The aggregated runs table (``Experiment.summarize``) as text cells.

    A value with ``<v>_lo``/``<v>_hi`` columns varies over replicates and is shown as
    ``mean ± half-width`` under a "mean ± 95% CI" note; a value without them is a setting,
    constant within each row, and is shown as it is. ``n`` is the replicate runs per row.
    """
    import pandas as pd

    if df is None or df.empty:
        return None
    cols = list(df.columns)
    varying = [c for c in cols if f"{c}_lo" in cols and f"{c}_hi" in cols]
    hidden = {f"{c}_lo" for c in varying} | {f"{c}_hi" for c in varying}
    shown = [c for c in cols if c not in hidden]
    columns = []
    for c in shown:
        note = "mean ± 95% CI" if c in varying else ""
        label = "runs (n)" if c == "n" else c
        columns.append(Column(label, note, pd.api.types.is_numeric_dtype(df[c])))
    head = df.head(max_rows)
    cells = {c: ([fmt_mean_pm(*map(float, t)) for t in zip(head[c], head[f"{c}_lo"], head[f"{c}_hi"], strict=True)]
                 if c in varying else [fmt_value(v, group=True) for v in head[c].tolist()])
             for c in shown}  # column by column: a row of mixed dtypes would turn ints into floats
    rows = [[cells[c][i] for c in shown] for i in range(len(head))]
    caption = ("Each row pools the replicate runs of one group (n per row). Columns marked "
               "“mean ± 95% CI” vary over replicates: mean ± half-width of the t-interval; "
               "the others are constant within the row.") if varying else ""
    return Table(columns, rows, len(df), caption)


def config_rows(experiment: Experiment, spec: Mapping[str, Any]) -> list[ConfigRow]:
    """One row per config field: the value this sweep used (or its swept values) vs the default."""
    desc = experiment.describe()["config"]
    overrides = spec.get("overrides", {}) or {}
    grid = spec.get("sweep", {}) or {}
    try:
        used = experiment.make_config(spec.get("preset", "quick"), overrides).model_dump(mode="json")
    except Exception:  # an old spec the current Config refuses: show what was stored
        used = {k: overrides.get(k, f.get("default")) for k, f in desc.items()}
    rows = []
    for key, f in desc.items():
        default = f.get("default")
        if key in grid:
            value, changed = fmt_value(grid[key]), True
        else:
            v = used.get(key, default)
            value = fmt_value(v)
            changed = fmt_value(v) != fmt_value(default)
        rows.append(ConfigRow(key, value, fmt_value(default), f.get("type", ""), f.get("description", ""),
                              changed, key in grid))
    return rows


def _stored_verdict(d: Mapping[str, Any] | None, entry: ReportEntry) -> Verdict | None:
    if not d:
        return None
    try:
        return Verdict.model_validate({k: d[k] for k in Verdict.model_fields if k in d})
    except Exception as e:  # a verdict stored by an older theorylab
        entry.problems.append(f"the stored verdict cannot be read ({type(e).__name__}); re-run the sweep "
                              "to check it again")
        return None


def build_entry(experiment: Experiment, store: Store, sweep: str, results: Results | None = None,
                check_error: str | None = None) -> ReportEntry:
    """Collect claim, verdict, figures, runs table, config and provenance for one stored sweep.

    ``results`` (the sweep's stored results, if already loaded) saves reading them again;
    ``check_error`` is the traceback of a check that raised (shown instead of a verdict).
    """
    rec = store.sweep(sweep)
    spec = rec.get("spec", {})
    entry = ReportEntry(experiment=experiment.describe(), sweep=sweep, preset=str(spec.get("preset", "?")),
                        created=float(rec.get("created", 0.0)))
    try:
        stored = store.verdict(sweep)
    except StoreError as e:  # one damaged file must not take the whole report down
        stored = None
        entry.problems.append(f"the stored verdict cannot be read: {e}")
    entry.verdict = _stored_verdict(stored, entry)
    entry.swept = {k: list(v) for k, v in (spec.get("sweep") or {}).items()}
    entry.n_points = math.prod(len(v) for v in entry.swept.values()) if entry.swept else 1
    entry.seeds, entry.base_seed = int(spec.get("seeds", 0)), int(spec.get("base_seed", 0))
    entry.config = config_rows(experiment, spec)
    if check_error:
        last = [ln for ln in check_error.strip().splitlines() if ln.strip()]
        entry.problems.append(f"the check raised: {last[-1] if last else check_error}")

    res = results if results is not None else store.load_results(experiment, sweep)
    run_ids = list(rec.get("run_ids", []))
    entry.runs_planned, entry.runs_done = len(run_ids), res.n_runs
    if res.n_runs < len(run_ids):
        for rid in run_ids:
            state, m = store.run_state(experiment.name, rid)
            if state != "done":
                m = m or {}
                err = [ln for ln in (m.get("error") or state).strip().splitlines() if ln.strip()]
                entry.failures.append({"run_id": rid, "seed": m.get("seed"), "state": state,
                                       "point": fmt_value(m.get("point") or {}), "error": err[-1] if err else state})
        n_failed = sum(f["state"] != "missing" for f in entry.failures)
        n_missing = len(entry.failures) - n_failed
        parts = [f"{n} {w}" for n, w in ((n_failed, "failed"), (n_missing, "not run yet")) if n]
        entry.problems.append(f"{' and '.join(parts)} of {entry.runs_planned} planned runs; re-running the "
                              "same command retries them")
    if stored and stored.get("n_runs") not in (None, res.n_runs):
        entry.problems.append(f"the stored verdict was checked on {stored['n_runs']} runs; {res.n_runs} are "
                              "stored now (re-run the sweep to check it again)")
    if res.n_runs == 0:
        return entry
    try:
        figures = experiment.figures(res)
    except Exception as e:  # a broken figure must not hide the verdict
        figures = {}
        entry.problems.append(f"figures failed: {type(e).__name__}: {e}")
    for title, fig in figures.items():
        try:
            entry.figures.append(_fig_image(title, fig))
        except Exception as e:
            entry.problems.append(f"figure {title!r} failed: {type(e).__name__}: {e}")
    try:
        entry.table = runs_table(experiment.summarize(res))
    except Exception as e:
        entry.problems.append(f"runs table failed: {type(e).__name__}: {e}")
    m = store.manifest(experiment.name, res.runs["run_id"].iloc[0]) or {}
    entry.run_versions = m.get("versions", {})
    return entry


# -- the page -----------------------------------------------------------------------------------
@dataclass
class _Section:
    """One experiment: its description and its sweeps (the primary one first)."""

    anchor: str
    entries: list[ReportEntry]

    @property
    def primary(self) -> ReportEntry:
        return self.entries[0]


def _sections(entries: Sequence[ReportEntry]) -> list[_Section]:
    by_name: dict[str, list[ReportEntry]] = {}
    for e in entries:
        by_name.setdefault(e.name, []).append(e)
    out = []
    for name, es in by_name.items():
        # primary first: a sweep with a verdict, then the largest preset, then the latest
        es = sorted(es, key=lambda e: (e.verdict is None, _PRESET_RANK.get(e.preset, 2), -e.created))
        out.append(_Section(f"exp-{re.sub(r'[^a-z0-9]+', '-', name.lower()).strip('-')}-{len(out)}", es))
    kinds = {"claim": 0, "instrument": 1}
    return sorted(out, key=lambda s: (kinds.get(s.primary.kind, 2), s.primary.name))


def _tally(sections: Sequence[_Section]) -> dict[str, int]:
    order = ("supported", "not supported", "inconclusive", "no verdict")
    counts = {s: 0 for s in order}
    for s in sections:
        counts[s.primary.status] = counts.get(s.primary.status, 0) + 1
    return {k: v for k, v in counts.items() if v}


def jinja_environment() -> Environment:
    """The templates' environment: autoescaping on, and the filters both reports use."""
    env = Environment(
        loader=PackageLoader("theorylab.report", "templates"),
        autoescape=select_autoescape(["html"], default=True),
        trim_blocks=True, lstrip_blocks=True,
    )
    env.filters["fmt"] = fmt_value  # plain text: autoescaping escapes it, once
    env.filters["num"] = lambda v: fmt_value(v, group=True)
    env.filters["math"] = render_notation  # escapes, then typesets: returns markup
    env.filters["interval_name"] = lambda m: _INTERVALS.get(m, f"{m} interval")
    env.filters["slug"] = lambda s: str(s).replace(" ", "-")
    env.filters["plural"] = _plural
    return env


def render_report(entries: Sequence[ReportEntry], title: str = "theorylab report") -> str:
    """The HTML text of a report over ``entries`` (sweeps; several of one experiment are grouped)."""
    sections = _sections(entries)
    groups = [(kind, label, [s for s in sections if s.primary.kind == kind])
              for kind, label in (("claim", "Claims"), ("instrument", "Instruments"))]
    groups = [(k, label, ss, _tally(ss)) for k, label, ss in groups if ss]
    return jinja_environment().get_template("report.html").render(
        title=title, sections=sections, groups=groups,
        generated=time.strftime("%Y-%m-%d %H:%M %Z"), versions=versions(),
    )


def write_report(entries: Sequence[ReportEntry], path: str | Path, title: str = "theorylab report") -> Path:
    """Render and write atomically to ``path``; returns the path."""
    text = render_report(entries, title)
    return atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
