"""Sweep plans: grid over swept keys × replicate seeds, and each run's identity.

A run's identity is ``sha256(canonical config JSON + seed + theorylab version)``; its seed is
derived from the base seed, the canonical config and the replicate index by
:class:`numpy.random.SeedSequence`, so adding a config to a sweep never changes the seeds of
the others and the same command always plans the same runs.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from theorylab import __version__
from theorylab.engine.config import ConfigError, ExperimentConfig, canonical_json

__all__ = ["Plan", "RunSpec", "derive_seed", "plan_sweep", "run_identity"]


def _words(text: str) -> list[int]:
    digest = hashlib.sha256(text.encode()).digest()
    return [int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4)]


def derive_seed(base_seed: int, config: ExperimentConfig, replicate: int) -> int:
    """A 63-bit seed from (base seed, canonical config, replicate) via ``SeedSequence``."""
    ss = np.random.SeedSequence([int(base_seed), int(replicate), *_words(config.canonical())])
    return int(ss.generate_state(2, np.uint32).astype(np.uint64) @ np.array([1, 1 << 32], np.uint64)) >> 1


def run_identity(experiment: str, config: ExperimentConfig, seed: int, version: str = __version__) -> str:
    """Hex sha256 of experiment name, canonical config, seed and code version (first 20 chars)."""
    payload = canonical_json(
        {"experiment": experiment, "config": config.model_dump(mode="json"), "seed": int(seed), "version": version}
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:20]


@dataclass(frozen=True)
class RunSpec:
    """One planned run: which experiment, its config, replicate index, derived seed and id."""

    experiment: str
    config: ExperimentConfig
    replicate: int
    seed: int
    run_id: str
    point: tuple[tuple[str, Any], ...]  # the swept (key, value) pairs of this grid point


@dataclass(frozen=True)
class Plan:
    """A whole sweep: the spec it came from and its runs, in a fixed order."""

    experiment: str
    spec: dict[str, Any]
    runs: tuple[RunSpec, ...]

    @property
    def swept(self) -> tuple[str, ...]:
        return tuple(self.spec["sweep"])

    def fingerprint(self) -> str:
        """Hash of the sweep spec: what must not change under the same sweep name."""
        return hashlib.sha256(canonical_json(self.spec).encode()).hexdigest()[:16]


def plan_sweep(
    experiment: Any,
    *,
    preset: str = "quick",
    overrides: Mapping[str, Any] | None = None,
    sweep: Mapping[str, Sequence[Any]] | None = None,
    seeds: int | None = None,
    base_seed: int = 0,
) -> Plan:
    """Expand ``sweep`` (grid over keys) × ``seeds`` replicates into validated runs.

    Raises :class:`ConfigError` for unknown keys, invalid values, empty sweeps, or a key both
    set and swept.
    """
    overrides = dict(overrides or {})
    sweep = {k: list(v) for k, v in (sweep or {}).items()}
    allowed = ", ".join(sorted(experiment.Config.model_fields))
    for k, vals in sweep.items():
        if k not in experiment.Config.model_fields:
            raise ConfigError(f"unknown sweep key {k!r} for {experiment.name} (allowed: {allowed})")
        if not vals:
            raise ConfigError(f"sweep over {k!r} has no values")
        if k in overrides:
            raise ConfigError(f"{k!r} is both --set and --sweep; pick one")
    n_seeds = experiment.seeds_for(preset) if seeds is None else int(seeds)
    if n_seeds < 1:
        raise ConfigError(f"seeds must be >= 1, got {n_seeds}")
    keys = list(sweep)
    runs: list[RunSpec] = []
    seen: set[str] = set()
    for values in itertools.product(*(sweep[k] for k in keys)) if keys else [()]:
        point = tuple(zip(keys, values, strict=True))
        config = experiment.make_config(preset, {**overrides, **dict(point)})
        for rep in range(n_seeds):
            seed = derive_seed(base_seed, config, rep)
            rid = run_identity(experiment.name, config, seed)
            if rid in seen:  # the same grid point listed twice: plan it once
                continue
            seen.add(rid)
            runs.append(RunSpec(experiment.name, config, rep, seed, rid, point))
    spec = {
        "experiment": experiment.name,
        "preset": preset,
        "overrides": overrides,
        "sweep": sweep,
        "seeds": n_seeds,
        "base_seed": int(base_seed),
    }
    # normalise through JSON so the fingerprint is stable across Python types (1 vs 1.0 stays)
    spec = json.loads(canonical_json(spec))
    return Plan(experiment.name, spec, tuple(runs))
