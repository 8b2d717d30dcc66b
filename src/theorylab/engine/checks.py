"""The one way to check: a statistic with an interval, a pre-registered side, three states.

Every check an experiment makes is a :class:`Check` built by :func:`interval_check` (or its
thin specialization :func:`against_reference`) from an :class:`~theorylab.engine.stats.Estimate`.
The rule is the one of ``CLAIMS.md`` ("What a check must be"):

* the whole interval on the claimed side of the threshold → ``supported``;
* the whole interval on the other side → ``not supported``;
* the interval straddling the threshold, or no interval at all (fewer than two replicates of a
  quantity that is not exact) → ``inconclusive``.

The claimed side (``above``, ``below`` or ``within``), the threshold — which carries the minimum
effect size, e.g. "peak ID ≥ 1.25 × input ID" is ``above=1.25`` on the ratio — and the control
the effect is measured against are arguments, fixed in the experiment's code before any run.
For a result that is not ``supported`` the check says what was measured and what would decide it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from theorylab.engine.stats import Estimate

__all__ = [
    "KINDS",
    "STATUSES",
    "Check",
    "Kind",
    "Status",
    "Verdict",
    "against_reference",
    "combine_status",
    "interval_check",
    "three_state",
    "worst_of",
]

Status = Literal["supported", "not supported", "inconclusive"]
STATUSES: tuple[str, ...] = ("supported", "not supported", "inconclusive")
Kind = Literal["claim", "instrument"]
KINDS: tuple[str, ...] = ("claim", "instrument")
Side = Literal["above", "below", "within"]


def _fmt(v: float) -> str:
    return "n/a" if v is None or not math.isfinite(v) else f"{v:.4g}"


class Check(BaseModel):
    """One pre-registered comparison of a measured statistic with a threshold.

    Attributes
    ----------
    statement : what the source claims, in words, as this check tests it.
    statistic : the measured quantity, with its unit.
    estimate, interval, level, method : the point value, its two-sided interval (None when
        there is none), the interval's level and how it was made (t, wilson, bootstrap, ...).
    n, replicates : how many independent replicates stand behind the interval, and what they
        are (seeds, training sets, queries).
    side, threshold : the claimed side (``above`` / ``below`` a number, or ``within`` a band).
    effect : the minimum effect size and the baseline or control it is measured against.
    status : the three-state outcome.
    reference, reference_source, exact : a published or exact value compared against, where
        it comes from, and whether it is an exact oracle (True) or approximate (False).
    point : the grid point of the sweep this check is about (None: the whole sweep).
    decide : for a result that is not supported, what was measured and what would decide it.
    demonstration : True when no plausible outcome could make this check fail (shown as such).
    precondition : True for a check that says whether the test could be run at all (a classifier
        at its published baseline, a net that fit its training set): unless it is supported the
        verdict is inconclusive, and when it is supported it does not count towards the claim.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    statement: str
    statistic: str
    estimate: float | None
    interval: tuple[float, float] | None = None
    level: float = 0.95
    method: str = "t"
    n: int
    replicates: str = "seeds"
    side: Side
    threshold: float | tuple[float, float]
    effect: str = ""
    status: Status
    reference: float | None = None
    reference_source: str | None = None
    exact: bool | None = None
    point: dict[str, Any] | None = None
    decide: str | None = None
    demonstration: bool = False
    precondition: bool = False

    @property
    def threshold_text(self) -> str:
        if self.side == "within":
            a, b = self.threshold  # type: ignore[misc]
            return f"within [{_fmt(a)}, {_fmt(b)}]"
        return f"{'>' if self.side == 'above' else '<'} {_fmt(self.threshold)}"  # type: ignore[arg-type]

    @property
    def point_text(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in (self.point or {}).items())

    def measured_text(self) -> str:
        s = _fmt(self.estimate) if self.estimate is not None else "n/a"
        if self.interval is not None:
            s += f" [{_fmt(self.interval[0])}, {_fmt(self.interval[1])}]"
        return s


def three_state(lo: float, hi: float, side: Side, threshold: float | tuple[float, float]) -> Status:
    """The rule: interval ``[lo, hi]`` wholly on the claimed side → supported; wholly on the
    other side → not supported; straddling (or NaN) → inconclusive."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return "inconclusive"
    if side == "above":
        t = float(threshold)  # type: ignore[arg-type]
        return "supported" if lo > t else "not supported" if hi < t else "inconclusive"
    if side == "below":
        t = float(threshold)  # type: ignore[arg-type]
        return "supported" if hi < t else "not supported" if lo > t else "inconclusive"
    a, b = threshold  # type: ignore[misc]
    if a <= lo and hi <= b:
        return "supported"
    if hi < a or lo > b:
        return "not supported"
    return "inconclusive"


def _decide(est: Estimate, side: Side, threshold: float | tuple[float, float], status: Status,
            replicates: str) -> str | None:
    if status == "supported":
        return None
    measured = f"measured {_fmt(est.value)}"
    if est.has_interval:
        measured += f" [{_fmt(est.lo)}, {_fmt(est.hi)}] over {est.n} {replicates}"
    if status == "not supported":
        return f"{measured}: the whole interval lies on the other side of the threshold"
    if not est.has_interval:
        if not math.isfinite(est.value):
            return f"nothing measurable ({est.n} {replicates}); see the run's tables"
        return f"{measured} from {est.n} {replicates}: no interval; run ≥ 5 independent {replicates}"
    edges = [threshold] if side != "within" else list(threshold)  # type: ignore[list-item]
    gap = min(abs(est.value - float(t)) for t in edges)
    if gap == 0 or not math.isfinite(gap):
        return f"{measured}: the estimate sits on the threshold; only a larger effect would decide it"
    need = math.ceil(est.n * (est.half_width / gap) ** 2) + 1
    return (f"{measured}: the interval straddles the threshold; with the same spread, about "
            f"{need} {replicates} (now {est.n}) would decide it")


def interval_check(statement: str, statistic: str, est: Estimate, *, above: float | None = None,
                   below: float | None = None, within: tuple[float, float] | None = None,
                   effect: str = "", replicates: str = "seeds", reference: float | None = None,
                   reference_source: str | None = None, exact: bool | None = None,
                   point: Mapping[str, Any] | None = None, demonstration: bool = False,
                   precondition: bool = False) -> Check:
    """A :class:`Check` of ``est`` against exactly one of ``above``, ``below`` or ``within``.

    An exact estimate (``method == "exact"``) is decided on its value; anything else needs an
    interval (two or more replicates), else it is inconclusive.
    """
    given = [(s, t) for s, t in (("above", above), ("below", below), ("within", within)) if t is not None]
    if len(given) != 1:
        raise ValueError("interval_check needs exactly one of above=, below=, within=")
    side, threshold = given[0]
    if side == "within":
        a, b = threshold  # type: ignore[misc]
        if not a <= b:
            raise ValueError(f"within=({a}, {b}) is not a band")
        threshold = (float(a), float(b))
    else:
        threshold = float(threshold)  # type: ignore[arg-type]
    if est.method == "exact" and math.isfinite(est.value):
        status = three_state(est.value, est.value, side, threshold)  # type: ignore[arg-type]
    else:
        status = three_state(est.lo, est.hi, side, threshold)  # type: ignore[arg-type]
    return Check(
        statement=statement, statistic=statistic,
        estimate=est.value if math.isfinite(est.value) else None,
        interval=est.interval(), level=est.level, method=est.method, n=est.n, replicates=replicates,
        side=side, threshold=threshold, effect=effect, status=status,  # type: ignore[arg-type]
        reference=reference, reference_source=reference_source, exact=exact,
        point=_jsonable_point(point), decide=_decide(est, side, threshold, status, replicates),  # type: ignore[arg-type]
        demonstration=demonstration, precondition=precondition,
    )


def against_reference(statement: str, statistic: str, est: Estimate, reference: float, *,
                      rel_tol: float | None = None, abs_tol: float | None = None, source: str,
                      exact: bool, replicates: str = "seeds",
                      point: Mapping[str, Any] | None = None) -> Check:
    """Agreement with a reference value: the interval must lie within ``reference ± tol``.

    ``tol`` is ``rel_tol·|reference|`` or ``abs_tol`` (the larger if both). An interval wholly
    outside the band is ``not supported``; one that overlaps its edge is ``inconclusive``.
    """
    tol = max(rel_tol * abs(reference) if rel_tol is not None else 0.0, abs_tol or 0.0)
    if tol <= 0:
        raise ValueError("against_reference needs a positive rel_tol or abs_tol")
    band = (reference - tol, reference + tol)
    effect = (f"agreement within ±{rel_tol:.3g} relative" if rel_tol is not None and tol == rel_tol * abs(reference)
              else f"agreement within ±{tol:.3g}")
    return interval_check(statement, statistic, est, within=band, effect=effect, replicates=replicates,
                          reference=reference, reference_source=source, exact=exact, point=point)


def _jsonable_point(point: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not point:
        return None
    out = {}
    for k, v in point.items():
        if hasattr(v, "item"):
            v = v.item()
        out[str(k)] = list(v) if isinstance(v, tuple) else v
    return out


def combine_status(statuses: Sequence[str]) -> Status:
    """``not supported`` if any is, else ``inconclusive`` if any is (or none given), else supported."""
    s = set(statuses)
    if not s:
        return "inconclusive"
    if "not supported" in s:
        return "not supported"
    if "inconclusive" in s:
        return "inconclusive"
    return "supported"


_SEVERITY = {"not supported": 0, "inconclusive": 1, "supported": 2}


def worst_of(checks: Sequence[Check], statement: str, statistic: str | None = None,
             labels: Sequence[str] | None = None) -> Check | None:
    """One check standing for a family ("at every d ..."): the family's combined status, shown
    with the member that decided it (the worst status; among equals, the estimate nearest the
    wrong side). ``labels`` name the members (``["d=2", "d=3"]``). None for an empty family."""
    if not checks:
        return None

    def margin(c: Check) -> float:
        lo, hi = c.interval or (c.estimate or math.nan, c.estimate or math.nan)
        if c.side == "above":
            return lo - float(c.threshold)  # type: ignore[arg-type]
        if c.side == "below":
            return float(c.threshold) - hi  # type: ignore[arg-type]
        a, b = c.threshold  # type: ignore[misc]
        return min(lo - a, b - hi)

    i = min(range(len(checks)), key=lambda j: (_SEVERITY[checks[j].status], margin(checks[j])))
    w = checks[i]
    who = f": {labels[i]}" if labels is not None else ""
    where = f" (worst of {len(checks)}{who})" if len(checks) > 1 else (f" ({labels[i]})" if labels else "")
    return w.model_copy(update={"statement": statement, "statistic": (statistic or w.statistic) + where,
                                "status": combine_status([c.status for c in checks])})


class Verdict(BaseModel):
    """What an experiment's checks concluded from a sweep's stored results.

    ``status`` combines the checks (:func:`combine_status`). A precondition that is not
    supported makes it inconclusive (the test could not be run as designed); otherwise
    preconditions and demonstrations are shown but do not count. ``evidence`` holds extra
    numbers shown in reports.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    experiment: str
    kind: Kind = "claim"
    claim: str
    checks: tuple[Check, ...]
    evidence: dict[str, Any] = {}

    @property
    def status(self) -> Status:
        if any(c.precondition and c.status != "supported" for c in self.checks):
            return "inconclusive"
        return combine_status([c.status for c in self.checks if not (c.demonstration or c.precondition)])

    def summary(self) -> str:
        """One line per check: status, point, statement, measured [interval] vs threshold."""
        lines = [f"{self.experiment} ({self.kind}): {self.status.upper()}"]
        for c in self.checks:
            at = f" @ {c.point_text}" if c.point else ""
            demo = " (demonstration)" if c.demonstration else " (precondition)" if c.precondition else ""
            lines.append(f"  - [{c.status}]{demo}{at} {c.statement}: {c.statistic} = {c.measured_text()} "
                         f"(n={c.n} {c.replicates}); claimed {c.threshold_text}")
            if c.decide:
                lines.append(f"      {c.decide}")
        return "\n".join(lines)

    def to_json_dict(self) -> dict[str, Any]:
        d = self.model_dump(mode="json")
        d["status"] = self.status
        return d
