"""Measurements on ``torch.nn.Module`` models: Lipschitz bounds, attacks, linear regions.

Probes may use :mod:`theorylab.geometry`; they never import experiments or the engine.
"""

from theorylab.probes.attacks import AttackError, RobustAccuracy, pgd_attack, robust_accuracy
from theorylab.probes.lipschitz import (
    LipschitzBounds,
    LipschitzError,
    eclipse_fast_bound,
    gradient_norms,
    lipschitz_bounds,
    local_ascent,
    spectral_product,
)
from theorylab.probes.regions import (
    Partition2D,
    Residual,
    SegmentRegions,
    UnsupportedLayerError,
    activation_pattern,
    affine_program,
    decision_boundary_segments,
    local_affine_map,
    local_complexity,
    partition_2d,
    plot_partition,
    regions_on_segment,
)

__all__ = [
    "AttackError",
    "LipschitzBounds",
    "LipschitzError",
    "Partition2D",
    "Residual",
    "RobustAccuracy",
    "SegmentRegions",
    "UnsupportedLayerError",
    "activation_pattern",
    "affine_program",
    "decision_boundary_segments",
    "eclipse_fast_bound",
    "gradient_norms",
    "lipschitz_bounds",
    "local_affine_map",
    "local_ascent",
    "local_complexity",
    "partition_2d",
    "pgd_attack",
    "plot_partition",
    "regions_on_segment",
    "robust_accuracy",
    "spectral_product",
]
