"""Pure array geometry: hull membership with certificates, boxes, ellipsoids, neighbours, Delaunay,
intrinsic dimension.

NumPy in, NumPy out. Nothing here knows about torch models or the engine.
"""

from theorylab.geometry.box import box_probability, in_box, in_range_fraction
from theorylab.geometry.delaunay import DelaunayResult, delaunay_interpolate, delaunay_simplex
from theorylab.geometry.dimension import IntrinsicDimension, concentration_dimension
from theorylab.geometry.ellipsoid import MinVolumeEllipsoid, mvee
from theorylab.geometry.hull import (
    GeometryError,
    HullResult,
    affine_dimension,
    extreme_points,
    in_hull,
    in_hull_lp,
)
from theorylab.geometry.neighbors import knn_distance
from theorylab.geometry.spectra import (
    balanced_factors,
    effective_rank,
    end_to_end_direction,
    psd_power,
    singular_values,
    spectral_entropy,
    stable_rank,
)

__all__ = [
    "DelaunayResult",
    "GeometryError",
    "HullResult",
    "IntrinsicDimension",
    "MinVolumeEllipsoid",
    "affine_dimension",
    "box_probability",
    "concentration_dimension",
    "delaunay_interpolate",
    "delaunay_simplex",
    "extreme_points",
    "in_box",
    "in_hull",
    "in_hull_lp",
    "in_range_fraction",
    "knn_distance",
    "mvee",
]
# Spectra: effective rank and the deep-linear end-to-end preconditioner (geometry/spectra.py)
__all__ += [
    "balanced_factors",
    "effective_rank",
    "end_to_end_direction",
    "psd_power",
    "singular_values",
    "spectral_entropy",
    "stable_rank",
]
