"""Static, self-contained HTML reports: verdict summary, claims, checks, figures, runs, provenance."""

from theorylab.report.html import (
    ReportEntry,
    build_entry,
    latest_sweeps,
    render_report,
    write_report,
)
from theorylab.report.notation import render_notation

__all__ = ["ReportEntry", "build_entry", "latest_sweeps", "render_notation", "render_report", "write_report"]
