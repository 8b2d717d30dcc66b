"""Synthetic :class:`~theorylab.engine.results.Results` for testing checks.

A check must be shown to say ``supported``, ``not supported`` and ``inconclusive`` on inputs
made for each case. :func:`synthetic_results` builds the results a sweep would have stored from
tables you write by hand, so a test can feed a check a contradicted or an ambiguous outcome
without running anything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from theorylab.engine.results import Results, annotate, assemble
from theorylab.engine.sweep import RunSpec, derive_seed, run_identity

if TYPE_CHECKING:
    import pandas as pd

    from theorylab.engine.checks import Verdict
    from theorylab.engine.experiment import Experiment

__all__ = ["status_of", "synthetic_results"]


def synthetic_results(
    experiment: Experiment,
    runs: Sequence[Mapping[str, pd.DataFrame]],
    *,
    preset: str = "smoke",
    overrides: Mapping[str, Any] | None = None,
    points: Sequence[Mapping[str, Any]] | None = None,
) -> Results:
    """Results of ``len(runs)`` runs whose tables are ``runs[i]``.

    ``points[i]`` (optional) is run i's grid point (swept key → value); runs sharing a point are
    its replicates. Each run's config is ``preset`` + ``overrides`` + its point, validated.
    """
    points = list(points) if points is not None else [{}] * len(runs)
    if len(points) != len(runs):
        raise ValueError(f"{len(runs)} runs but {len(points)} points")
    swept = tuple(dict.fromkeys(k for p in points for k in p))
    reps: dict[str, int] = {}
    done = []
    for tables, point in zip(runs, points, strict=True):
        config = experiment.make_config(preset, {**(overrides or {}), **point})
        key = config.canonical()
        rep = reps[key] = reps.get(key, -1) + 1
        seed = derive_seed(0, config, rep)
        spec = RunSpec(experiment.name, config, rep, seed, run_identity(experiment.name, config, seed),
                       tuple((k, point[k]) for k in swept if k in point))
        done.append((spec, "done", annotate(experiment.name, spec, tables)))
    return assemble(experiment.name, done, swept)


def status_of(verdict: Verdict, fragment: str) -> str:
    """The status of the one check of ``verdict`` whose statement contains ``fragment``
    (an assertion fails when none or several do, listing the statements)."""
    hits = [c for c in verdict.checks if fragment in c.statement]
    assert len(hits) == 1, (fragment, [c.statement for c in verdict.checks], verdict.summary())
    return hits[0].status
