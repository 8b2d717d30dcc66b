"""The small public face: every lazily exported name resolves, and the CLI lists every command."""

from __future__ import annotations

import pytest

import theorylab
from theorylab.cli import app


@pytest.mark.parametrize("name", sorted(theorylab._LAZY))
def test_lazy_exports_resolve(name):
    assert getattr(theorylab, name) is not None
    assert name in dir(theorylab)


def test_unknown_attribute():
    with pytest.raises(AttributeError):
        theorylab.nope  # noqa: B018


def test_cli_has_every_command():
    names = {c.name or c.callback.__name__ for c in app.registered_commands}
    assert {"list", "show", "run", "status", "report", "reproduce", "diagnose", "robustness-bound"} <= names
