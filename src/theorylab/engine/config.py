"""Frozen, validated experiment configurations; presets; ``--set`` / ``--sweep`` parsing.

A configuration is an immutable pydantic model that rejects unknown keys. Its canonical
JSON (sorted keys, no whitespace) is what a run's identity is hashed from, so two configs
that compare equal always name the same cached run.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from theorylab.errors import TheorylabError

__all__ = [
    "ALLOW_EMPTY",
    "MAX_TEXT",
    "ConfigError",
    "ExperimentConfig",
    "build_config",
    "canonical_json",
    "parse_assignments",
    "parse_sweeps",
]


class ConfigError(TheorylabError, ValueError):
    """A configuration, override or sweep that cannot be used; the message names the problem."""


# ``Field(..., json_schema_extra=ALLOW_EMPTY)``: this tuple/list field may be empty.
ALLOW_EMPTY: dict[str, Any] = {"allow_empty": True}
MAX_TEXT = 4096  # characters in one string value: longer is a mistake or an attack, never a config


class ExperimentConfig(BaseModel):
    """Base class of every experiment's configuration.

    Subclasses declare fields with ``pydantic.Field(default, description="... (units)")``.
    Instances are frozen (hashable, usable as cache keys) and reject unknown keys.

    Rules every config inherits, so that a value no paper would use is refused before any work:

    * floats are finite (``--set tolerance=Infinity`` would make a check pass whatever it
      measured); a field that means "no limit" says so with ``Field(..., allow_inf_nan=True)``;
    * tuples and lists are not empty (``dims=[]`` leaves a check nothing to judge); a field
      for which "none" is meaningful says so with ``json_schema_extra=ALLOW_EMPTY``;
    * ``true``/``false`` is not a number (pydantic would read ``n=true`` as ``n=1``);
    * strings have at most :data:`MAX_TEXT` characters and no control characters (they are
      printed to terminals and stored in every table).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_as_number(cls, value: Any, info: Any) -> Any:
        field = cls.model_fields.get(info.field_name) if info.field_name else None
        if field is not None and not _mentions_bool(field.annotation) and _has_bool(value):
            raise ValueError("true/false is not a valid value here (expected a number or text)")
        return value

    @model_validator(mode="after")
    def _no_empty_or_hostile_values(self) -> ExperimentConfig:
        for name, field in type(self).model_fields.items():
            value = getattr(self, name)
            extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
            if isinstance(value, tuple | list | frozenset | set) and not value and not extra.get("allow_empty"):
                raise ValueError(f"{name}: empty {type(value).__name__} (give at least one value)")
            for text in _strings(value):
                if len(text) > MAX_TEXT:
                    raise ValueError(f"{name}: text of {len(text):,} characters (at most {MAX_TEXT:,})")
                bad = next((c for c in text if unicodedata.category(c) == "Cc"), None)
                if bad is not None:
                    raise ValueError(f"{name}: control character {bad!r} in {text[:40]!r}")
        return self

    def canonical(self) -> str:
        """Canonical JSON of this config: sorted keys, compact separators."""
        return canonical_json(self.model_dump(mode="json"))

    def replace(self, **changes: Any) -> ExperimentConfig:
        """A validated copy with ``changes`` applied (like ``dataclasses.replace``)."""
        return build_config(type(self), {**self.model_dump(), **changes})


def _mentions_bool(annotation: Any) -> bool:
    if annotation is bool or annotation is Any:
        return True
    if get_origin(annotation) is Literal:
        return any(isinstance(a, bool) for a in get_args(annotation))
    return any(_mentions_bool(a) for a in get_args(annotation))


def _has_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return True
    return isinstance(value, list | tuple) and any(_has_bool(v) for v in value)


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list | tuple | set | frozenset):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(k)
            yield from _strings(v)


def canonical_json(obj: Any) -> str:
    """JSON with sorted keys and no whitespace; floats keep their repr."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=True)


def _describe_errors(cls: type[ExperimentConfig], err: ValidationError) -> str:
    allowed = ", ".join(sorted(cls.model_fields))
    parts = []
    for e in err.errors():
        loc = ".".join(str(x) for x in e["loc"])
        if not loc:  # a rule of the whole config: its message names the field
            parts.append(str(e.get("ctx", {}).get("error") or e["msg"]).removeprefix("Value error, "))
        elif e["type"] == "extra_forbidden":
            parts.append(f"unknown config key {loc!r} (allowed: {allowed})")
        else:
            msg = str(e["msg"]).removeprefix("Value error, ")
            parts.append(f"{loc}: {msg} (got {_short(e.get('input'))})")
    return "; ".join(parts)


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 20]}... ({len(text):,} characters)"


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
