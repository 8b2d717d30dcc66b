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
    # engine
    "run": "theorylab.api",
    "load": "theorylab.api",
    "list_experiments": "theorylab.api",
    "write_report": "theorylab.api",
    # diagnostics on your own arrays
    "in_hull": "theorylab.geometry",
    "affine_dimension": "theorylab.geometry",
    "in_box": "theorylab.geometry",
    "MinVolumeEllipsoid": "theorylab.geometry",
    "knn_distance": "theorylab.geometry",
    "delaunay_interpolate": "theorylab.geometry",
    "IntrinsicDimension": "theorylab.geometry",
    "diagnose": "theorylab.diagnose",
    "robustness_bound": "theorylab.robustness_bound",
    # diagnostics on your own torch models
    "lipschitz_bounds": "theorylab.probes",
    "robust_accuracy": "theorylab.probes",
    "local_affine_map": "theorylab.probes",
    "regions_on_segment": "theorylab.probes",
    "partition_2d": "theorylab.probes",
    "local_complexity": "theorylab.probes",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name == "diagnose":  # the package is callable: theorylab.diagnose(X, Q) and .load_model alike
        return importlib.import_module("theorylab.diagnose")
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'theorylab' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
