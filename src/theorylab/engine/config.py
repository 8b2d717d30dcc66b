"""Frozen, validated experiment configurations; presets; ``--set`` / ``--sweep`` parsing.

A configuration is an immutable pydantic model that rejects unknown keys. Its canonical
JSON (sorted keys, no whitespace) is what a run's identity is hashed from, so two configs
that compare equal always name the same cached run.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from theorylab.errors import TheorylabError

__all__ = [
    "ConfigError",
    "ExperimentConfig",
    "build_config",
    "canonical_json",
    "parse_assignments",
    "parse_sweeps",
]


class ConfigError(TheorylabError, ValueError):
    """A configuration, override or sweep that cannot be used; the message names the problem."""


class ExperimentConfig(BaseModel):
    """Base class of every experiment's configuration.

    Subclasses declare fields with ``pydantic.Field(default, description="... (units)")``.
    Instances are frozen (hashable, usable as cache keys) and reject unknown keys.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    def canonical(self) -> str:
        """Canonical JSON of this config: sorted keys, compact separators."""
        return canonical_json(self.model_dump(mode="json"))

    def replace(self, **changes: Any) -> ExperimentConfig:
        """A validated copy with ``changes`` applied (like ``dataclasses.replace``)."""
        return build_config(type(self), {**self.model_dump(), **changes})


def canonical_json(obj: Any) -> str:
    """JSON with sorted keys and no whitespace; floats keep their repr."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=True)


def _describe_errors(cls: type[ExperimentConfig], err: ValidationError) -> str:
    allowed = ", ".join(sorted(cls.model_fields))
    parts = []
    for e in err.errors():
        loc = ".".join(str(x) for x in e["loc"]) or "<config>"
        if e["type"] == "extra_forbidden":
            parts.append(f"unknown config key {loc!r} (allowed: {allowed})")
        else:
            parts.append(f"{loc}: {e['msg']} (got {e.get('input')!r})")
    return "; ".join(parts)


def build_config(cls: type[ExperimentConfig], values: Mapping[str, Any]) -> ExperimentConfig:
    """Validate ``values`` into ``cls``, raising :class:`ConfigError` with a one-line message."""
    try:
        return cls.model_validate(dict(values))
    except ValidationError as err:
        raise ConfigError(_describe_errors(cls, err)) from None


def _parse_value(text: str) -> Any:
    """Parse a command-line value: JSON if it parses (numbers, lists, true/null), else a string."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parse_assignments(items: Iterable[str]) -> dict[str, Any]:
    """Parse ``["key=value", ...]`` (``--set``) into a dict; values are JSON where possible."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"--set expects key=value, got {item!r}")
        if value == "":
            raise ConfigError(f"--set {key}= has an empty value")
        out[key] = _parse_value(value)
    return out


def parse_sweeps(items: Iterable[str]) -> dict[str, list[Any]]:
    """Parse ``["key=v1,v2,...", ...]`` (``--sweep``) into ``{key: [v1, v2, ...]}``.

    A value that is a JSON list of lists (``key=[[1,2],[3]]``) sweeps over list values.
    """
    out: dict[str, list[Any]] = {}
    for item in items:
        key, sep, spec = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"--sweep expects key=v1,v2,..., got {item!r}")
        spec = spec.strip()
        if spec.startswith("[["):
            try:
                values = json.loads(spec)
            except json.JSONDecodeError as e:
                raise ConfigError(f"--sweep {key}: cannot parse {spec!r} as a JSON list ({e})") from None
        else:
            raw = spec.split(",")
            if any(v.strip() == "" for v in raw):
                raise ConfigError(f"--sweep {key}= has an empty value in {spec!r}")
            values = [_parse_value(v.strip()) for v in raw]
        if not values:
            raise ConfigError(f"--sweep {key}= has no values")
        if key in out:
            raise ConfigError(f"--sweep {key} given twice")
        out[key] = values
    return out
