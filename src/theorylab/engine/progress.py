"""Progress you can follow: a rich bar with an ETA on a terminal, plain lines in logs.

On a terminal the bar shows done/total, failures, elapsed time and the time remaining. When
stdout is not a terminal (a script, CI, ``nohup``), one plain line is printed per finished run
and, while runs are in flight, at least every ``heartbeat_s`` seconds — so a log is never
silent for minutes. The ETA is the remaining runs times the mean wall time per finished run of
this session (before the first one finishes: the experiments' stated per-run budgets divided
by the workers).
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any, TextIO

from theorylab.engine.executors import sigint_blocked

__all__ = ["ProgressReporter", "format_duration"]


def format_duration(seconds: float) -> str:
    """``1h02m``, ``3m05s`` or ``12s``."""
    if seconds != seconds or seconds < 0:  # NaN
        return "?"
    s = round(seconds)
    if s >= 3600:
        return f"{s // 3600}h{(s % 3600) // 60:02d}m"
    if s >= 60:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s}s"


class ProgressReporter:
    """Receives ``on_plan(total, to_run)`` and ``on_outcome(outcome, spec)`` from the runner.

    Parameters
    ----------
    label : what is running (an experiment, or "reproduce --preset quick").
    stream : where to write (default stderr); a terminal gets the rich bar.
    workers : parallel workers, for the ETA before the first run finishes.
    budget_s : stated seconds per run, for that same first ETA.
    heartbeat_s : in log mode, the longest silence while runs are in flight (seconds).
    """

    def __init__(self, label: str, *, stream: TextIO | None = None, workers: int = 1,
                 budget_s: float = 0.0, heartbeat_s: float = 10.0, force_plain: bool = False) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.workers = max(1, workers)
        self.budget_s = budget_s
        self.heartbeat_s = heartbeat_s
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)()) and not force_plain
        self.total = self.todo = self.done = self.failed = 0
        self.t0 = time.monotonic()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._bar: Any = None
        self._task: Any = None
        self._last_print = 0.0

    # -- the runner's callbacks ----------------------------------------------------------------
    def on_plan(self, total: int, to_run: int) -> None:
        self.total, self.todo = total, to_run
        self.t0 = time.monotonic()
        stored = total - to_run
        if self.tty:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("{task.fields[failed]} failed"), TimeElapsedColumn(),
                                 TextColumn("ETA"), TimeRemainingColumn(),
                                 console=Console(file=self.stream, highlight=False), transient=False)
            # threads started here inherit the blocked SIGINT: Ctrl-C always lands in the main thread
            with sigint_blocked():  # rich's refresh thread
                self._bar.start()
            self._task = self._bar.add_task(self.label, total=total, completed=stored, failed=0)
        else:
            self._line(f"{self.label}: {total} runs planned, {stored} already stored, {to_run} to run"
                       + (f" (ETA {format_duration(self._eta())})" if to_run else ""))
            if to_run:
                self._thread = threading.Thread(target=self._heartbeat, daemon=True)
                with sigint_blocked():  # the heartbeat thread (see above)
                    self._thread.start()

    def on_outcome(self, outcome: Any, spec: Any = None) -> None:
        with self._lock:
            self.done += 1
            if getattr(outcome, "status", "done") != "done":
                self.failed += 1
        if self._bar is not None:
            self._bar.update(self._task, advance=1, failed=self.failed)
        elif not self.tty:
            what = f" ({spec.experiment})" if spec is not None else ""
            self._line(self._status_text() + what)

    def close(self) -> None:
        self._stop.set()
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def __enter__(self) -> ProgressReporter:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- internals ------------------------------------------------------------------------------
    def _eta(self) -> float:
        left = self.todo - self.done
        if left <= 0:
            return 0.0
        elapsed = time.monotonic() - self.t0
        if self.done:
            return elapsed / self.done * left
        return self.budget_s * left / self.workers

    def _status_text(self) -> str:
        stored = self.total - self.todo + self.done
        return (f"{self.label}: {stored}/{self.total} runs stored, {self.failed} failed, "
                f"elapsed {format_duration(time.monotonic() - self.t0)}, ETA {format_duration(self._eta())}")

    def _line(self, text: str) -> None:
        with self._lock:
            self._last_print = time.monotonic()
            print(f"[theorylab] {text}", file=self.stream, flush=True)

    def _heartbeat(self) -> None:
        while not self._stop.wait(1.0):
            if self.done >= self.todo:
                return
            if time.monotonic() - self._last_print >= self.heartbeat_s:
                self._line(self._status_text() + " (running)")
