"""Model builders (MLP, 1-D/2-D CNN, locally connected), seeded initialisation, one train loop,
and linear models trained by gradient descent beside their convex baselines (:mod:`.linear`)."""

from theorylab.models.builders import cnn1d, cnn2d, count_params, init_params, mlp
from theorylab.models.linear import (
    complete_by_factorization,
    complete_by_nuclear_norm,
    logistic_gd,
    lp_loss,
    lp_minimum,
    max_margin_direction,
    overparameterized_gd,
)
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
from theorylab.models.train import TrainResult, accuracy, fit_to_zero_error, predict, train

__all__ = [
    "TrainResult",
    "accuracy",
    "cnn1d",
    "cnn2d",
    "count_params",
    "fit_to_zero_error",
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
# linear models by gradient descent and their convex baselines (models/linear.py)
__all__ += [
    "complete_by_factorization",
    "complete_by_nuclear_norm",
    "logistic_gd",
    "lp_loss",
    "lp_minimum",
    "max_margin_direction",
    "overparameterized_gd",
]
