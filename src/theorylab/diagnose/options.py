"""The settings of one diagnosis: frozen, bounded, every choice a ``Literal``.

Defaults are sized so that N = 60,000 training points of d = 784 and 10,000 queries finish in
minutes on two cores: where an exact method cannot scale it is run on a stated subsample (the
hull on ``hull_queries`` queries, intrinsic dimension on ``id_points`` points, PyOD's fits on
``detector_fit_points``) or in a stated projection (the ellipsoid in the top
``ellipsoid_max_dim`` principal components), and the report says which.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from theorylab.errors import TheorylabError

__all__ = ["DETECTORS", "ID_METHODS", "DiagnoseError", "DiagnoseOptions", "make_options"]

Detector = Literal["knn", "lof", "iforest", "ecod"]
DETECTORS: tuple[str, ...] = ("knn", "lof", "iforest", "ecod")
IdMethod = Literal["twonn", "mle", "lpca", "danco", "ess", "corrint", "tle", "mind_ml", "fishers", "mada",
                   "mom", "knn", "gride"]
ID_METHODS: tuple[str, ...] = ("twonn", "mle")


class DiagnoseError(TheorylabError, ValueError):
    """Inputs ``diagnose`` cannot use: bad arrays or labels, an unknown layer, a bad option."""


class DiagnoseOptions(BaseModel):
    """Settings of :func:`theorylab.diagnose.diagnose` (units and bounds in each description)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    k: int = Field(1, ge=1, le=100, description="the kNN distance is to the k-th nearest training point")
    reference_points: int = Field(
        2000, ge=10, le=1_000_000,
        description="training points whose leave-one-out kNN distances are the reference for percentiles")
    hull_queries: int | None = Field(
        None, ge=1, le=10_000_000,
        description="queries whose hull membership and distance are computed (a seeded sample); None: all "
                    "while queries × training points × (dim + 50) ≤ 4·10⁸, else that many (at least 200)")
    ellipsoid_max_dim: int = Field(
        64, ge=1, le=512,
        description="the minimum-volume ellipsoid is fitted in at most this many principal components")
    ellipsoid_tol: float = Field(1e-3, gt=0, le=0.5, description="ε of the ellipsoid's (1 + ε) stopping rule")
    id_methods: tuple[IdMethod, ...] = Field(
        ID_METHODS, min_length=1,
        description="intrinsic-dimension estimators (TwoNN: Ansuini et al.; MLE k = 5, 10, 20: Pope et al.; "
                    "lpca etc. from scikit-dimension, slower)")
    id_points: int = Field(2000, ge=20, le=200_000, description="points per intrinsic-dimension fit (a sample)")
    id_bootstrap: int = Field(20, ge=0, le=2000, description="bootstrap refits per intrinsic-dimension interval")
    model_train_points: int = Field(
        1000, ge=10, le=1_000_000,
        description="training points probed for the model's train-side reference (Jacobian, regions, Lipschitz)")
    lc_radius: float | None = Field(
        None, gt=0, le=1e6,
        description="radius of the local-complexity cross-polytope (input units); None: a quarter of the "
                    "median leave-one-out nearest-neighbour distance in the training data")
    lc_frame: int = Field(8, ge=1, le=256, description="random directions of the cross-polytope (2× vertices)")
    detectors: tuple[Detector, ...] = Field(DETECTORS, description="PyOD detectors run beside the geometry")
    detector_fit_points: int = Field(10_000, ge=10, le=10_000_000,
                                     description="training points each PyOD detector is fitted on (a sample)")
    n_boot: int = Field(1000, ge=100, le=100_000, description="bootstrap replicates (queries resampled)")
    max_layer_values: int = Field(
        50_000_000, ge=10_000, le=10**10,
        description="a layer's training embedding holds at most this many numbers (rows are sampled)")
    partition: bool = Field(True, description="draw the exact 2-D slice of the linear regions")
    seed: int = Field(0, ge=0, le=2**31 - 1, description="seed of every sample and random frame")


def make_options(options: DiagnoseOptions | None = None, **overrides: Any) -> DiagnoseOptions:
    """Options from an object and/or keyword overrides; a bad key or value is one line."""
    try:
        base = options.model_dump() if options is not None else {}
        return DiagnoseOptions(**{**base, **overrides})
    except ValidationError as e:
        first = e.errors()[0]
        loc = ".".join(str(x) for x in first["loc"]) or "options"
        if first["type"] == "extra_forbidden":
            allowed = ", ".join(DiagnoseOptions.model_fields)
            raise DiagnoseError(f"unknown diagnose option {loc!r} (allowed: {allowed})") from None
        raise DiagnoseError(f"diagnose option {loc}: {first['msg']} (got {first.get('input')!r})") from None
