"""scikit-learn's own estimator checks on every estimator of theorylab.geometry."""

from __future__ import annotations

import warnings

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from theorylab.geometry import IntrinsicDimension, MinVolumeEllipsoid

ESTIMATORS = [IntrinsicDimension("mle", k=5), IntrinsicDimension("twonn"), IntrinsicDimension("lpca"),
              MinVolumeEllipsoid()]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # skdim warns on the tiny random sets the checks use
        check(estimator)


def test_unknown_method_is_refused_with_the_allowed_names():
    with pytest.raises(ValueError, match="unknown method 'tow_nn'"):
        IntrinsicDimension("tow_nn").fit([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0], [3.0, 1.0]])
