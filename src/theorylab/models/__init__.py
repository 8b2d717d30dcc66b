"""Model builders (MLP, 1-D/2-D CNN, locally connected), seeded initialisation, one train loop."""

from theorylab.models.builders import cnn1d, cnn2d, count_params, init_params, mlp
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
