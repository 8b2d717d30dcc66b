"""Where experiments come from: package entry points, read without importing the claims.

An experiment is registered by its package under the entry-point group
``theorylab.experiments`` (``name = "package.module:Class"``); theorylab's own claims are
registered that way in its ``pyproject.toml``, and a third-party package registers its own the
same way. ``$THEORYLAB_PLUGINS`` (comma-separated module names) adds modules that are not
installed as packages: every :class:`~theorylab.engine.experiment.Experiment` subclass they
define with a ``name`` is registered.

The catalog — name, kind, claim, source of every experiment — is read from the modules' source
text (their class attributes are string literals), so ``theorylab list`` never imports torch
or a claim's code. A module is imported only to run or show a claim.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from theorylab.errors import TheorylabError

if TYPE_CHECKING:
    from theorylab.engine.experiment import Experiment

__all__ = [
    "ENTRY_POINT_GROUP",
    "ExperimentInfo",
    "UnknownExperimentError",
    "broken_entries",
    "catalog",
    "get_experiment",
    "get_info",
    "list_experiments",
    "register",
]

ENTRY_POINT_GROUP = "theorylab.experiments"
_META = ("name", "kind", "claim", "source")


class UnknownExperimentError(TheorylabError, KeyError):
    """No experiment is registered under that name."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown experiment"


@dataclass(frozen=True)
class ExperimentInfo:
    """What the catalog knows of an experiment without importing it."""

    name: str
    kind: str
    claim: str
    source: str
    module: str
    cls: str
    origin: str  # "entry point (<distribution>)" or "THEORYLAB_PLUGINS"

    @property
    def target(self) -> str:
        return f"{self.module}:{self.cls}"

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "kind": self.kind, "claim": self.claim, "source": self.source,
                "target": self.target, "origin": self.origin}


# -- reading class attributes from source ---------------------------------------------------------
def _module_source(module: str) -> tuple[str, ast.Module] | None:
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return None
    try:
        text = Path(spec.origin).read_text(encoding="utf-8")
        return spec.origin, ast.parse(text, filename=spec.origin)
    except (OSError, SyntaxError, UnicodeDecodeError):
        return None


def _literal(node: ast.AST, names: dict[str, Any]) -> Any:
    """A string built from literals, ``+`` and module-level string constants; else raises."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _literal(node.left, names) + _literal(node.right, names)
    if isinstance(node, ast.Name) and isinstance(names.get(node.id), str):
        return names[node.id]
    raise ValueError("not a literal")


def _is_literal(node: ast.AST, names: dict[str, Any]) -> bool:
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _is_literal(node.left, names) and _is_literal(node.right, names)
    return isinstance(node, ast.Name) and isinstance(names.get(node.id), str)


def _module_strings(tree: ast.Module) -> dict[str, Any]:
    """Module-level names bound to string literals (what class attributes may be built from)."""
    names: dict[str, Any] = {}
    for stmt in tree.body:
        if (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)
                and _is_literal(stmt.value, names)):
            names[stmt.targets[0].id] = _literal(stmt.value, names)
    return names


def _class_meta(tree: ast.Module, names: dict[str, Any], cls: ast.ClassDef) -> dict[str, str] | None:
    meta: dict[str, str] = {}
    for stmt in cls.body:
        target, value = None, None
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            target, value = stmt.targets[0].id, stmt.value
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None:
            target, value = stmt.target.id, stmt.value
        if target in _META and value is not None:
            try:
                meta[target] = _literal(value, names)
            except ValueError:
                return None
    if "name" not in meta or "claim" not in meta:
        return None
    meta.setdefault("kind", "claim")
    meta.setdefault("source", "")
    return meta


def _classes_in(module: str) -> dict[str, dict[str, str]] | None:
    """``{class name: metadata}`` for the experiment classes a module's source defines."""
    parsed = _module_source(module)
    if parsed is None:
        return None
    _, tree = parsed
    names = _module_strings(tree)
    out = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.ClassDef):
            meta = _class_meta(tree, names, stmt)
            if meta is not None:
                out[stmt.name] = meta
    return out


# -- the catalog --------------------------------------------------------------------------------------
def _entry_points() -> list[Any]:
    from importlib.metadata import entry_points

    return list(entry_points(group=ENTRY_POINT_GROUP))


def _plugin_modules() -> list[str]:
    return [m.strip() for m in os.environ.get("THEORYLAB_PLUGINS", "").split(",") if m.strip()]


@lru_cache(maxsize=4)
def _catalog(plugins: tuple[str, ...]) -> dict[str, ExperimentInfo]:
    infos: dict[str, ExperimentInfo] = {}

    def add(info: ExperimentInfo) -> None:
        old = infos.get(info.name)
        if old is not None and old.target != info.target:
            raise TheorylabError(
                f"experiment name {info.name!r} is registered twice: {old.target} ({old.origin}) "
                f"and {info.target} ({info.origin})"
            )
        infos[info.name] = info

    eps = _entry_points()
    if not any(ep.value.startswith("theorylab.") for ep in eps):
        eps += _source_tree_entry_points()  # running from a source tree that was never installed
    parsed: dict[str, dict[str, dict[str, str]] | None] = {}
    for ep in eps:
        module, _, cls = ep.value.partition(":")
        module, cls = module.strip(), cls.strip()
        if module not in parsed:
            parsed[module] = _classes_in(module)
        meta = (parsed[module] or {}).get(cls)
        dist = getattr(getattr(ep, "dist", None), "name", None) or "?"
        if meta is None:  # attributes that are not literals: import to read them
            try:
                meta = _imported_meta(module, cls)
            except Exception as e:  # a broken plugin must not take the whole lab down
                _BROKEN[ep.name] = f"entry point {ep.name} = {ep.value} ({dist}): {type(e).__name__}: {e}"
                continue
        if meta["name"] != ep.name:
            raise TheorylabError(
                f"entry point {ep.name!r} -> {ep.value} names a class whose name is {meta['name']!r}"
            )
        add(ExperimentInfo(meta["name"], meta["kind"], meta["claim"], meta["source"], module, cls,
                           f"entry point ({dist})"))
    for module in plugins:
        classes = _classes_in(module)
        if classes is None:
            try:
                importlib.import_module(module)
            except ImportError as e:
                raise TheorylabError(f"THEORYLAB_PLUGINS names {module!r}, which cannot be imported ({e})") from None
            classes = {c: _imported_meta(module, c) for c in _experiment_classes(module)}
        for cls, meta in classes.items():
            add(ExperimentInfo(meta["name"], meta["kind"], meta["claim"], meta["source"], module, cls,
                               "THEORYLAB_PLUGINS"))
    return infos


@dataclass(frozen=True)
class _SourceEntryPoint:
    name: str
    value: str


def _source_tree_entry_points() -> list[_SourceEntryPoint]:
    """Built-in experiments found by reading ``theorylab/experiments/*.py`` (uninstalled tree)."""
    pkg = Path(__file__).resolve().parent.parent / "experiments"
    out = []
    for path in sorted(pkg.glob("*.py")):
        if path.name.startswith("_"):
            continue
        module = f"theorylab.experiments.{path.stem}"
        for cls, meta in (_classes_in(module) or {}).items():
            out.append(_SourceEntryPoint(meta["name"], f"{module}:{cls}"))
    return out


def _experiment_classes(module: str) -> list[str]:
    from theorylab.engine.experiment import Experiment

    mod = importlib.import_module(module)
    return [k for k, v in vars(mod).items()
            if isinstance(v, type) and issubclass(v, Experiment) and v is not Experiment
            and v.__module__ == mod.__name__ and isinstance(getattr(v, "name", None), str)]


def _imported_meta(module: str, cls: str) -> dict[str, str]:
    obj = getattr(importlib.import_module(module), cls)
    return {k: str(getattr(obj, k, "claim" if k == "kind" else "")) for k in _META}


def catalog() -> dict[str, ExperimentInfo]:
    """Every registered experiment's metadata, by name, without importing any of them."""
    return dict(_catalog(tuple(_plugin_modules())))


def _suggest(name: str, names: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
    return f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""


def get_info(name: str) -> ExperimentInfo:
    """Catalog entry of ``name``; :class:`UnknownExperimentError` suggests close names."""
    cat = catalog()
    if name not in cat:
        names = sorted(cat)
        raise UnknownExperimentError(
            f"unknown experiment {name!r}{_suggest(name, names)} (allowed: {', '.join(names) or 'none registered'})"
        )
    return cat[name]


_INSTANCES: dict[str, Experiment] = {}
_BROKEN: dict[str, str] = {}


def broken_entries() -> dict[str, str]:
    """Entry points that could not be read (name -> why); they are left out of the catalog."""
    catalog()
    return dict(_BROKEN)


def get_experiment(name: str) -> Experiment:
    """The experiment ``name``, importing its module on first use."""
    if name in _INSTANCES:
        return _INSTANCES[name]
    info = get_info(name)
    obj = getattr(importlib.import_module(info.module), info.cls, None)
    from theorylab.engine.experiment import Experiment

    if not (isinstance(obj, type) and issubclass(obj, Experiment)):
        raise TheorylabError(f"{info.target} ({info.origin}) is not an Experiment subclass")
    _validate_class(obj)
    if obj.name != name:
        raise TheorylabError(f"{info.target} has name {obj.name!r}, registered as {name!r}")
    inst = _INSTANCES.get(name)
    if inst is None:
        inst = _INSTANCES[name] = obj()
    return inst


def list_experiments() -> list[Experiment]:
    """Every registered experiment, imported, sorted by name."""
    return [get_experiment(n) for n in sorted(catalog())]


def _validate_class(cls: type) -> None:
    from theorylab.engine.checks import KINDS
    from theorylab.engine.config import ExperimentConfig

    for attr in ("name", "claim", "source", "check_statement", "Config"):
        if not hasattr(cls, attr):
            raise TypeError(f"experiment class {cls.__name__} lacks required attribute {attr!r}")
    if not issubclass(cls.Config, ExperimentConfig):
        raise TypeError(f"{cls.__name__}.Config must subclass ExperimentConfig")
    if cls.kind not in KINDS:
        raise TypeError(f"{cls.__name__}.kind must be one of {KINDS}, got {cls.kind!r}")


def register(cls: type[Experiment]) -> type[Experiment]:
    """Class decorator kept for plugin modules: validates the class (discovery is by catalog)."""
    _validate_class(cls)
    return cls
