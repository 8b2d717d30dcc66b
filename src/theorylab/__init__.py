"""theorylab: claims of deep-learning theory as executable, measured, reproducible experiments.

The small public face::

    import theorylab
    theorylab.list_experiments()
    rep = theorylab.run("curse-of-dimensionality", "quick")   # stores runs, returns a report
    df = theorylab.load("curse-of-dimensionality")            # pandas DataFrame of results

Diagnostics for your own arrays and models are imported lazily (``theorylab.in_hull``,
``theorylab.IntrinsicDimension``, ``theorylab.lipschitz_bounds``, ``theorylab.partition_2d``, ...),
so ``import theorylab`` stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "run": "theorylab.api",
    "load": "theorylab.api",
    "list_experiments": "theorylab.api",
    "write_report": "theorylab.api",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'theorylab' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
