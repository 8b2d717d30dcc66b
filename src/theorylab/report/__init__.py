"""Static, self-contained HTML reports: claim, verdict, figures, runs, provenance."""

from theorylab.report.html import (
    ReportEntry,
    build_entry,
    latest_sweeps,
    render_report,
    write_report,
)

__all__ = ["ReportEntry", "build_entry", "latest_sweeps", "render_report", "write_report"]
