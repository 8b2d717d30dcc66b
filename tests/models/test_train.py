"""``theorylab.models.fit_to_zero_error``: training stops as soon as the set is classified
without error, and says when it never got there."""

from __future__ import annotations

import numpy as np

from theorylab.models import accuracy, fit_to_zero_error, mlp


def test_fit_to_zero_error_stops_as_soon_as_the_training_set_is_fit():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 5)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    net = mlp(5, (32,), 2, seed=0)
    steps, reached = fit_to_zero_error(net, X, y, max_steps=2000, check_every=5, optimizer="adam", lr=1e-2,
                                       batch_size=40, seed=0)
    assert reached and steps < 2000 and steps % 5 == 0
    assert accuracy(net, X, y) == 1.0
    net = mlp(5, (32,), 2, seed=0)
    steps, reached = fit_to_zero_error(net, X, rng.integers(0, 2, 40), max_steps=10, check_every=5,
                                       optimizer="sgd", lr=1e-4, batch_size=40, seed=0)
    assert steps == 10 and not reached
