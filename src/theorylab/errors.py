"""The one exception family the CLI turns into a one-line message and exit code 2."""

from __future__ import annotations

__all__ = ["TheorylabError"]


class TheorylabError(Exception):
    """Bad input from a user (config, data, model file, store): the message names the problem."""
