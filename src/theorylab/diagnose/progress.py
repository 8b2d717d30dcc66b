"""Stage progress with an ETA for a long diagnosis: a bar on a terminal, plain lines in a log.

The stages are planned up front with a rough cost each (seconds on one core, from the sizes);
the ETA is the planned cost still ahead, scaled by how fast the finished stages went against
their plan, so one slow machine or one underestimated stage corrects itself as the run goes.
"""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, TextIO

from theorylab.engine.progress import format_duration

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["StageProgress"]


class StageProgress:
    """Announce planned stages; ``with p.stage(key): ...`` times one.

    Parameters
    ----------
    plan : ``[(key, label, planned seconds)]`` in order.
    enabled : False prints nothing (the Python API's default).
    stream : default stderr; a terminal gets one rewritten line, anything else plain lines.
    """

    def __init__(self, plan: list[tuple[str, str, float]], *, enabled: bool = True,
                 stream: TextIO | None = None) -> None:
        self.plan = {k: (label, max(float(c), 1e-3)) for k, label, c in plan}
        self.order = [k for k, _, _ in plan]
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.t0 = time.monotonic()
        self.done_planned = 0.0
        self.done_actual = 0.0
        self.timings: dict[str, float] = {}

    def add(self, key: str, label: str, cost: float) -> None:
        """Add a stage found on the way (e.g. once layer widths are known)."""
        if key not in self.plan:
            self.plan[key] = (label, max(float(cost), 1e-3))
            self.order.append(key)

    def eta(self) -> float:
        left = sum(c for k, (_, c) in self.plan.items() if k not in self.timings)
        speed = self.done_actual / self.done_planned if self.done_planned > 0 else 1.0
        return left * speed

    @contextmanager
    def stage(self, key: str, label: str | None = None) -> Iterator[None]:
        if key not in self.plan:
            self.add(key, label or key, 1.0)
        text = label or self.plan[key][0]
        i = self.order.index(key) + 1
        if self.enabled:
            self._line(f"[diagnose {i}/{len(self.order)}] {text} …  elapsed "
                       f"{format_duration(time.monotonic() - self.t0)}, ETA {format_duration(self.eta())}")
        t = time.monotonic()
        yield
        dt = time.monotonic() - t
        self.timings[key] = dt
        self.done_planned += self.plan[key][1]
        self.done_actual += dt
        if self.enabled:
            self._line(f"[diagnose {i}/{len(self.order)}] {text}: {dt:.1f} s  (elapsed "
                       f"{format_duration(time.monotonic() - self.t0)}, ETA {format_duration(self.eta())})")

    def skip(self, key: str) -> None:
        """A planned stage that will not run (its cost leaves the ETA)."""
        if key in self.plan and key not in self.timings:
            self.plan.pop(key)
            self.order.remove(key)

    def close(self) -> None:
        if self.enabled and self.tty:
            self.stream.write("\n")
            self.stream.flush()

    def _line(self, text: str) -> None:
        # a terminal gets one line rewritten in place; a log gets a line per start and per finish
        self.stream.write("\r\x1b[2K" + text if self.tty else text + "\n")
        self.stream.flush()
