"""Model builders (MLP, 1-D/2-D CNN, locally connected), seeded initialisation, one train loop."""

from theorylab.models.builders import cnn1d, cnn2d, count_params, init_params, mlp
from theorylab.models.normalized import (
    ExpLRSchedule,
    LazyScaled,
    exp_lr_rate,
    exp_lr_schedule,
    normalized_cnn,
    normalized_mlp,
    ntk_mlp,
    scale_invariance_gap,
)
from theorylab.models.train import TrainResult, accuracy, predict, train

__all__ = [
    "TrainResult",
    "accuracy",
    "cnn1d",
    "cnn2d",
    "count_params",
    "init_params",
    "mlp",
    "predict",
    "train",
]
# scale-invariant / NTK-parametrized nets (models/normalized.py)
__all__ += [
    "ExpLRSchedule",
    "LazyScaled",
    "exp_lr_rate",
    "exp_lr_schedule",
    "normalized_cnn",
    "normalized_mlp",
    "ntk_mlp",
    "scale_invariance_gap",
]
