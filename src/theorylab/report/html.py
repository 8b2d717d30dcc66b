"""Assemble one self-contained HTML file (figures embedded as PNG data URIs).

Every piece of user-supplied text (config values, names, paths, error messages) goes through
Jinja2's autoescaping or pandas' escaped ``to_html``; nothing is inserted raw.
"""

from __future__ import annotations

import base64
import html
import io
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from theorylab.engine.experiment import Experiment
from theorylab.engine.results import Results
from theorylab.engine.store import Store, versions

__all__ = ["ReportEntry", "build_entry", "latest_sweeps", "render_report", "write_report"]


def latest_sweeps(store: Store) -> list[str]:
    """The most recent sweep of every (experiment, preset) in ``store``, sorted by experiment."""
    best: dict[tuple[str, str], tuple[float, str]] = {}
    for name, rec in store.sweeps().items():
        key = (rec.get("experiment", "?"), rec.get("spec", {}).get("preset", "?"))
        t = float(rec.get("created", 0))
        if key not in best or t > best[key][0]:
            best[key] = (t, name)
    return [best[k][1] for k in sorted(best)]


@dataclass
class ReportEntry:
    """Everything the report shows for one sweep of one experiment."""

    experiment: dict[str, Any]  # Experiment.describe()
    sweep: str
    verdict: dict[str, Any] | None
    figures: list[tuple[str, str]] = field(default_factory=list)  # (title, data URI)
    table_html: str = ""
    n_runs: int = 0
    n_seeds: int = 0
    spec: dict[str, Any] = field(default_factory=dict)
    run_versions: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _fig_to_uri(fig: Any) -> str:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)  # attach an Agg canvas: no pyplot, no global backend
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _fmt_table(df: pd.DataFrame, max_rows: int = 60) -> str:
    """Mean ± 95% interval cells (``v``, ``v_lo``, ``v_hi`` → 'v [lo, hi]'), escaped HTML."""
    if df.empty:
        return ""
    cols = list(df.columns)
    values = [c for c in cols if f"{c}_lo" in cols and f"{c}_hi" in cols]
    skip = {f"{v}_lo" for v in values} | {f"{v}_hi" for v in values}
    out = pd.DataFrame(index=df.index)
    for c in cols:
        if c in skip:
            continue
        if c in values:
            def cell(row: pd.Series, c: str = c) -> str:
                m, lo, hi = row[c], row[f"{c}_lo"], row[f"{c}_hi"]
                if not np.isfinite(lo) or hi == lo:  # one run, or a constant across seeds
                    return f"{m:.4g}"
                return f"{m:.4g} ± {(hi - lo) / 2:.2g}"
            out[f"{c} (mean ± 95% CI)"] = df.apply(cell, axis=1)
        else:
            out[c] = df[c].map(lambda v: f"{v:.4g}" if isinstance(v, float) else v)
    if len(out) > max_rows:
        out = out.head(max_rows)
    return out.to_html(index=False, escape=True, border=0, classes="runs")


def build_entry(experiment: Experiment, store: Store, sweep: str, results: Results | None = None) -> ReportEntry:
    """Collect claim, verdict, figures, summary table and provenance for one stored sweep."""
    rec = store.sweep(sweep)
    res = results if results is not None else store.load_results(experiment, sweep)
    entry = ReportEntry(
        experiment=experiment.describe(), sweep=sweep, verdict=store.verdict(sweep),
        n_runs=res.n_runs, n_seeds=res.n_replicates, spec=rec.get("spec", {}),
    )
    planned = len(rec.get("run_ids", []))
    if res.n_runs < planned:
        entry.problems.append(f"{planned - res.n_runs} of {planned} planned runs are missing or failed")
    if res.n_runs == 0:
        return entry
    try:
        for title, fig in experiment.figures(res).items():
            entry.figures.append((title, _fig_to_uri(fig)))
    except Exception as e:  # a broken figure must not hide the verdict
        entry.problems.append(f"figures failed: {type(e).__name__}: {e}")
    try:
        entry.table_html = _fmt_table(experiment.summarize(res))
    except Exception as e:
        entry.problems.append(f"summary table failed: {type(e).__name__}: {e}")
    first = res.runs["run_id"].iloc[0]
    m = store.manifest(experiment.name, first) or {}
    entry.run_versions = m.get("versions", {})
    return entry


def render_report(entries: list[ReportEntry], title: str = "theorylab report") -> str:
    """The HTML text of a report over ``entries``."""
    env = Environment(
        loader=PackageLoader("theorylab.report", "templates"),
        autoescape=select_autoescape(["html"], default=True),
        trim_blocks=True, lstrip_blocks=True,
    )
    env.filters["fmt"] = lambda v: "n/a" if v is None else (f"{v:.4g}" if isinstance(v, float) else html.escape(str(v)))
    counts: dict[str, int] = {}
    for e in entries:
        s = (e.verdict or {}).get("status", "no verdict")
        counts[s] = counts.get(s, 0) + 1
    return env.get_template("report.html").render(
        title=title, entries=entries, counts=counts,
        generated=time.strftime("%Y-%m-%d %H:%M:%S %Z"), versions=versions(),
    )


def write_report(entries: list[ReportEntry], path: str | Path, title: str = "theorylab report") -> Path:
    """Render and write atomically to ``path``; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = render_report(entries, title)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; a report is meant to be shared
    os.replace(tmp, path)
    return path
