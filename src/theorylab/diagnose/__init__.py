"""Diagnose your own data and model: one report on where queries stand, the data's dimension,
the model's geometry around the data, and which notion predicts the model's errors.

    import theorylab
    d = theorylab.diagnose(X_train, X_test, net, y_train=y_train, y_query=y_test,
                           report="diag.html", table="diag.parquet", progress=True)
    d.auroc            # AUROC [95% CI] of every score as a detector of the model's mistakes
    d.comparison       # pre-registered: best geometric score vs best PyOD detector, three states

From the command line: ``theorylab diagnose --train X.npy --query Q.npy --labels y.npy,yq.npy
--model m.safetensors --report diag.html``. Models are never unpickled (see
:mod:`theorylab.diagnose.models`).

This package imports neither torch nor pandas until it is used, and the module itself is
callable: ``theorylab.diagnose(X, Q)`` works whether Python hands back the function or the module.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from theorylab.diagnose.core import Diagnosis, diagnose, embed
from theorylab.diagnose.models import (
    ModelFileError,
    build_model,
    load_model,
    parse_arch,
    save_model,
)
from theorylab.diagnose.options import DiagnoseError, DiagnoseOptions

__all__ = [
    "DiagnoseError",
    "DiagnoseOptions",
    "Diagnosis",
    "ModelFileError",
    "build_model",
    "diagnose",
    "embed",
    "load_model",
    "parse_arch",
    "save_model",
]

class _CallableModule(types.ModuleType):
    """``theorylab.diagnose`` is both this package and its main function."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return diagnose(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
