"""Linear models by gradient descent and their convex baselines (``theorylab.models.linear``),
each against a known case or an independent computation: nuclear-norm completion (Candès–Recht
recovery), deep factorization (Arora et al. 2019), over-parameterized ℓp regression (Arora,
Cohen & Hazan 2018), the SVC max-margin oracle and logistic GD (Soudry et al. 2018)."""

from __future__ import annotations

import numpy as np
import pytest

from theorylab.data import planted_margin_data
from theorylab.models.linear import (
    complete_by_factorization,
    complete_by_nuclear_norm,
    logistic_gd,
    lp_minimum,
    max_margin_direction,
    overparameterized_gd,
)


# -- deep matrix factorization ---------------------------------------------------------------
def test_nuclear_norm_recovers_a_low_rank_matrix_from_many_entries():
    """Candès–Recht regime: rank 1, 30×30, 60% observed → exact recovery (a known case)."""
    rng = np.random.default_rng(0)
    W = np.outer(rng.standard_normal(30), rng.standard_normal(30))
    mask = rng.random((30, 30)) < 0.6
    X = complete_by_nuclear_norm(W, mask, eps=1e-8)
    assert np.linalg.norm(X - W) / np.linalg.norm(W) < 1e-4
    np.testing.assert_allclose(X[mask], W[mask], atol=1e-4)


def test_factorization_fits_the_observed_entries_and_depth_one_leaves_the_rest_at_init():
    rng = np.random.default_rng(1)
    W = np.outer(rng.standard_normal(20), rng.standard_normal(20))
    W *= 20 / np.linalg.norm(W)
    mask = rng.random((20, 20)) < 0.5
    deep = complete_by_factorization(W, mask, 3, 1e-3, np.random.default_rng(2), tol=1e-6, max_steps=20_000)
    assert deep["converged"] and deep["train_mse"] < 1e-6
    # a rank-1 target from half the entries: the deep factorization completes it
    assert np.linalg.norm((deep["W"] - W)[~mask]) / np.linalg.norm(W[~mask]) < 0.05
    flat = complete_by_factorization(W, mask, 1, 1e-3, np.random.default_rng(2), tol=1e-6, max_steps=2000)
    assert flat["converged"]
    assert np.abs(flat["W"][~mask]).max() < 0.05  # unobserved entries never receive a gradient


# -- over-parameterized ℓp regression --------------------------------------------------------
def test_overparameterized_depth_one_is_plain_gradient_descent():
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((40, 5)), rng.standard_normal(40)
    w0 = rng.standard_normal(5)
    final, _ = overparameterized_gd(w0, X, y, 4, 1, np.array([0.01]), 50, 10)
    w = w0.copy()
    for _ in range(50):
        r = X @ w - y
        w -= 0.01 * X.T @ (r**3) / 40
    assert final[0] == pytest.approx(np.mean((X @ w - y) ** 4) / 4, rel=1e-10)
    # a balanced depth-2 start reproduces the same end-to-end w at step 0
    _, curve = overparameterized_gd(w0, X, y, 4, 2, np.array([0.01]), 1, 1)
    assert curve[0, 0] == pytest.approx(np.mean((X @ w0 - y) ** 4) / 4, rel=1e-12)


def test_lp_minimum_is_a_minimum():
    rng = np.random.default_rng(4)
    X, y = rng.standard_normal((60, 4)), rng.standard_normal(60)
    best = lp_minimum(X, y, 4)
    w = np.linalg.lstsq(X, y, rcond=None)[0]
    assert best <= np.mean((X @ w - y) ** 4) / 4
    assert lp_minimum(X, y, 2) == pytest.approx(np.mean((X @ w - y) ** 2) / 2, rel=1e-12)


# -- logistic regression on separable data ---------------------------------------------------
def test_svc_oracle_finds_the_planted_direction_and_gd_norm_grows():
    X, y, u = planted_margin_data(np.random.default_rng(0), 20, 1.0, (1.5, 3.0))
    w_hat = max_margin_direction(X, y)
    np.testing.assert_allclose(w_hat, u, atol=1e-6)  # the oracle finds the planted max-margin vector
    Z = X * y[:, None]
    rec = logistic_gd(X, y, 4.0 / np.linalg.norm(Z, 2) ** 2, 2000, np.array([200, 2000]))
    (_, w1, l1), (_, w2, l2) = rec
    assert l2 < l1 and np.linalg.norm(w2) > np.linalg.norm(w1)
