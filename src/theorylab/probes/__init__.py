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
from theorylab.probes.ntk import (
    NTKError,
    ReluKernels,
    empirical_ntk,
    kernel_regression,
    relu_kernels,
    relu_ntk_two_layer,
)
from theorylab.probes.paths import (
    PathError,
    PathResult,
    barrier,
    convexity_gap,
    interpolate_states,
    linear_path,
    recompute_batchnorm,
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
from theorylab.probes.trajectory import (
    TrajectoryRecorder,
    kernel_change,
    parameter_snapshot,
    relative_change,
    weight_norms,
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
# NTK and training trajectories (probes/ntk.py, probes/trajectory.py)
__all__ += [
    "NTKError",
    "ReluKernels",
    "TrajectoryRecorder",
    "empirical_ntk",
    "kernel_change",
    "kernel_regression",
    "parameter_snapshot",
    "relative_change",
    "relu_kernels",
    "relu_ntk_two_layer",
    "weight_norms",
]
# Straight paths between parameter vectors (probes/paths.py)
__all__ += [
    "PathError",
    "PathResult",
    "barrier",
    "convexity_gap",
    "interpolate_states",
    "linear_path",
    "recompute_batchnorm",
]
