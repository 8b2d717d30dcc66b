"""Synthetic data (``theorylab.data.synthetic``): the planted-margin data are separable with
the planted hard-margin direction."""

from __future__ import annotations

import numpy as np
import pytest

from theorylab.data import planted_margin_data


def test_planted_data_is_separable_with_the_planted_margin():
    X, y, u = planted_margin_data(np.random.default_rng(0), 20, 1.0, (1.5, 3.0))
    margins = y * (X @ u)
    assert margins.min() == pytest.approx(1.0) and np.sum(margins < 1 + 1e-9) == 2
