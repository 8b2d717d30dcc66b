"""Sweeps: a frozen :class:`SweepSpec` (grid × replicates) and each run's identity.

A run's identity is ``sha256(experiment, canonical config, seed, theorylab version)``; its seed
is derived from the base seed, the canonical config and the replicate index by
:class:`numpy.random.SeedSequence`, so adding a point to a sweep never changes the seeds of the
others and the same command always plans the same runs. Swept values are canonicalized through
the validated config (``1e3`` and ``1000`` for an integer field are the same point), and a plan
is built lazily and refused above a size cap before any work.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from theorylab import __version__
from theorylab.engine.config import ConfigError, ExperimentConfig, canonical_json

__all__ = ["MAX_RUNS", "Plan", "RunSpec", "SweepSpec", "derive_seed", "plan_sweep", "run_identity"]

MAX_RUNS = 20_000  # a sweep larger than this is almost surely a typo; override with max_runs=


def _words(text: str) -> list[int]:
    digest = hashlib.sha256(text.encode()).digest()
    return [int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4)]


def derive_seed(base_seed: int, config: ExperimentConfig, replicate: int) -> int:
    """A 63-bit seed from (base seed, canonical config, replicate) via ``SeedSequence``."""
    import numpy as np

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

    def point_text(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.point) or "(no swept keys)"


def _freeze(v: Any) -> Any:
    return tuple(_freeze(x) for x in v) if isinstance(v, list | tuple) else v


@dataclass(frozen=True)
class SweepSpec:
    """What a sweep is: experiment, preset, overrides, grid axes, replicates and base seed.

    Frozen and hashable; :meth:`to_json` / :meth:`from_json` are its stored form and
    :meth:`fingerprint` what must not change under one sweep name.
    """

    experiment: str
    preset: str = "quick"
    overrides: tuple[tuple[str, Any], ...] = ()
    sweep: tuple[tuple[str, tuple[Any, ...]], ...] = ()
    seeds: int = 1
    base_seed: int = 0

    @classmethod
    def create(cls, experiment: Any, *, preset: str = "quick", overrides: Mapping[str, Any] | None = None,
               sweep: Mapping[str, Sequence[Any]] | None = None, seeds: int | None = None,
               base_seed: int = 0) -> SweepSpec:
        """Validate against ``experiment`` and canonicalize; raises :class:`ConfigError`."""
        overrides = dict(overrides or {})
        grid = {k: list(v) for k, v in (sweep or {}).items()}
        fields = experiment.Config.model_fields
        allowed = ", ".join(sorted(fields))
        for k, vals in grid.items():
            if k not in fields:
                raise ConfigError(f"unknown sweep key {k!r} for {experiment.name} (allowed: {allowed})")
            if not vals:
                raise ConfigError(f"sweep over {k!r} has no values")
            if k in overrides:
                raise ConfigError(f"{k!r} is both --set and --sweep; pick one")
        n_seeds = experiment.seeds_for(preset) if seeds is None else seeds
        if isinstance(n_seeds, bool) or not isinstance(n_seeds, int) or n_seeds < 1:
            raise ConfigError(f"seeds must be a positive integer, got {n_seeds!r}")
        if isinstance(base_seed, bool) or not isinstance(base_seed, int) or not 0 <= base_seed < 2**63:
            raise ConfigError(f"base seed must be an integer in [0, 2^63), got {base_seed!r}")
        base = experiment.make_config(preset, overrides)  # validates the overrides
        dumped = base.model_dump(mode="json")
        canon_over = {k: dumped[k] for k in overrides}
        canon_grid: dict[str, list[Any]] = {}
        for k, vals in grid.items():
            out: list[Any] = []
            for v in vals:
                c = base.replace(**{k: v}).model_dump(mode="json")[k]  # validated, canonical value
                if c not in out:
                    out.append(c)
            canon_grid[k] = out
        return cls(
            experiment.name, preset,
            tuple(sorted((k, _freeze(v)) for k, v in canon_over.items())),
            tuple((k, tuple(_freeze(v) for v in vs)) for k, vs in canon_grid.items()),
            int(n_seeds), int(base_seed),
        )

    @property
    def swept(self) -> tuple[str, ...]:
        return tuple(k for k, _ in self.sweep)

    @property
    def n_points(self) -> int:
        return math.prod(len(v) for _, v in self.sweep)

    @property
    def n_runs(self) -> int:
        return self.n_points * self.seeds

    def to_json(self) -> dict[str, Any]:
        d = {"experiment": self.experiment, "preset": self.preset, "overrides": dict(self.overrides),
             "sweep": {k: list(v) for k, v in self.sweep}, "seeds": self.seeds, "base_seed": self.base_seed}
        return json.loads(canonical_json(d))  # tuples -> lists, stable types

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> SweepSpec:
        return cls(d["experiment"], d["preset"],
                   tuple(sorted((k, _freeze(v)) for k, v in d.get("overrides", {}).items())),
                   tuple((k, tuple(_freeze(x) for x in v)) for k, v in d.get("sweep", {}).items()),
                   int(d["seeds"]), int(d.get("base_seed", 0)))

    def fingerprint(self) -> str:
        """Hash of the spec: what must not change under the same sweep name."""
        return hashlib.sha256(canonical_json(self.to_json()).encode()).hexdigest()[:16]

    def is_preset_default(self, experiment: Any) -> bool:
        """True when this is the preset as shipped: no overrides, no grid, default seeds, base 0."""
        return (not self.overrides and not self.sweep and self.base_seed == 0
                and self.seeds == experiment.seeds_for(self.preset))

    def default_name(self, experiment: Any) -> str:
        """``EXPERIMENT.PRESET`` for the preset as shipped, else ``EXPERIMENT.PRESET-<fingerprint>``.

        A changed spec gets its own sweep automatically, so a user never has to invent a name and
        never clobbers the preset's stored verdict.
        """
        base = f"{self.experiment}.{self.preset}"
        return base if self.is_preset_default(experiment) else f"{base}-{self.fingerprint()[:8]}"

    def describe(self) -> str:
        parts = [f"preset {self.preset}", f"{self.seeds} seed{'s' if self.seeds != 1 else ''}"]
        if self.overrides:
            parts.append("set " + ", ".join(f"{k}={v}" for k, v in self.overrides))
        if self.sweep:
            parts.append("sweep " + "; ".join(f"{k}={','.join(map(str, v))}" for k, v in self.sweep))
        if self.base_seed:
            parts.append(f"base seed {self.base_seed}")
        return ", ".join(parts)


@dataclass(frozen=True)
class Plan:
    """A whole sweep: its spec and its runs, in a fixed order, built lazily."""

    experiment: Any  # the Experiment
    spec: SweepSpec

    @property
    def swept(self) -> tuple[str, ...]:
        return self.spec.swept

    def __len__(self) -> int:
        return self.spec.n_runs

    def iter_runs(self) -> Iterator[RunSpec]:
        keys = [k for k, _ in self.spec.sweep]
        seen: set[str] = set()
        overrides = dict(self.spec.overrides)
        for values in itertools.product(*(v for _, v in self.spec.sweep)):
            point = tuple(zip(keys, values, strict=True))
            config = self.experiment.make_config(self.spec.preset, {**overrides, **dict(point)})
            for rep in range(self.spec.seeds):
                seed = derive_seed(self.spec.base_seed, config, rep)
                rid = run_identity(self.spec.experiment, config, seed)
                if rid in seen:
                    continue
                seen.add(rid)
                yield RunSpec(self.spec.experiment, config, rep, seed, rid, point)

    @property
    def runs(self) -> tuple[RunSpec, ...]:
        return tuple(self.iter_runs())

    def fingerprint(self) -> str:
        return self.spec.fingerprint()


def plan_sweep(
    experiment: Any,
    *,
    preset: str = "quick",
    overrides: Mapping[str, Any] | None = None,
    sweep: Mapping[str, Sequence[Any]] | None = None,
    seeds: int | None = None,
    base_seed: int = 0,
    max_runs: int = MAX_RUNS,
) -> Plan:
    """Validate a sweep and return its lazy :class:`Plan`; refuses more than ``max_runs`` runs.

    Raises :class:`ConfigError` for unknown keys, invalid values, empty sweeps, a key both set and
    swept, or a plan above the cap — before any run is built.
    """
    # the raw grid bounds the plan from above (duplicates only shrink it): refuse a huge one
    # before validating a million values one by one
    raw_seeds = seeds if isinstance(seeds, int) and not isinstance(seeds, bool) else experiment.seeds_for(preset)
    raw_points = math.prod(len(v) for v in (sweep or {}).values())
    if raw_points * max(raw_seeds, 1) > 10 * max_runs:
        raise ConfigError(
            f"this sweep plans up to {raw_points * raw_seeds:,} runs ({raw_points:,} grid points × "
            f"{raw_seeds:,} seeds), above the cap of {max_runs:,}; narrow the grid or the seeds, or raise "
            "the cap with --max-runs"
        )
    spec = SweepSpec.create(experiment, preset=preset, overrides=overrides, sweep=sweep, seeds=seeds,
                            base_seed=base_seed)
    if spec.n_runs > max_runs:
        raise ConfigError(
            f"this sweep plans {spec.n_runs:,} runs ({spec.n_points:,} grid points × {spec.seeds:,} seeds), "
            f"above the cap of {max_runs:,}; narrow the grid or the seeds, or raise the cap with --max-runs"
        )
    return Plan(experiment, spec)
