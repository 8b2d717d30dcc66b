"""Trajectory recorders: exact values on hand-made parameters, and use as a training callback."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from theorylab.models import mlp, train
from theorylab.models.normalized import ntk_mlp
from theorylab.probes.ntk import empirical_ntk
from theorylab.probes.trajectory import (
    TrajectoryRecorder,
    kernel_change,
    parameter_snapshot,
    relative_change,
    weight_norms,
)


def test_norms_and_relative_change_on_known_tensors():
    init = {"a": torch.tensor([3.0, 4.0]), "b": torch.tensor([0.0, 0.0, 12.0])}
    now = {"a": torch.tensor([3.0, 4.0]) * 2, "b": torch.tensor([5.0, 0.0, 12.0])}
    assert weight_norms(init) == {"a": 5.0, "b": 12.0}
    # ‖Δ‖² = 25 + 25 = 50, ‖θ₀‖² = 25 + 144 = 169
    assert relative_change(now, init) == pytest.approx(math.sqrt(50) / 13)
    per = relative_change(now, init, by_parameter=True)
    assert per == pytest.approx({"a": 1.0, "b": 5 / 12})
    with pytest.raises(KeyError, match="no parameter"):
        relative_change({"a": now["a"]}, init)


def test_kernel_change_is_relative_frobenius():
    k0 = np.eye(3)
    assert kernel_change(k0, k0) == 0.0
    assert kernel_change(2 * k0, k0) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="shapes"):
        kernel_change(np.eye(2), k0)


def test_snapshot_skips_frozen_parameters():
    net = mlp(3, [4], 2, seed=0)
    net[-1].weight.requires_grad_(False)
    assert "2.weight" not in parameter_snapshot(net)
    assert "2.weight" in parameter_snapshot(net, trainable_only=False)


def test_recorder_as_a_train_callback_tracks_weights_and_kernel():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(32, 4, generator=g, dtype=torch.float64)
    y = torch.randn(32, generator=g, dtype=torch.float64)
    net = ntk_mlp(4, [64], 1, seed=1)
    rec = TrajectoryRecorder(net, kernel_inputs=X[:8], every=5)
    k0 = empirical_ntk(net, X[:8], form="trace")
    torch.testing.assert_close(rec.kernel0_, k0)
    result = train(net, X, y, steps=20, lr=0.5, optimizer="sgd", loss="mse", batch_size=32, eval_every=5, callback=rec)
    df = rec.frame()
    assert list(df["step"]) == [5.0, 10.0, 15.0, 20.0]
    assert {"weight_norm", "relative_change", "kernel_change", "norm/0.weight", "change/2.weight"} <= set(df.columns)
    assert (df["relative_change"] > 0).all() and (df["kernel_change"] > 0).all()
    assert df["relative_change"].is_monotonic_increasing  # full-batch GD from init drifts away
    last = df.iloc[-1]
    assert last["relative_change"] == pytest.approx(relative_change(net, rec.initial_))
    assert last["kernel_change"] == pytest.approx(kernel_change(empirical_ntk(net, X[:8], form="trace"), k0))
    assert result.history[-1]["kernel_change"] == last["kernel_change"]  # merged into train's history
    assert rec(7, net) is None  # between records


def test_wider_nets_move_less():
    g = torch.Generator().manual_seed(1)
    X = torch.randn(16, 4, generator=g, dtype=torch.float64)
    y = torch.randn(16, generator=g, dtype=torch.float64)
    changes = []
    for width in (32, 2048):
        net = ntk_mlp(4, [width], 1, seed=2)
        rec = TrajectoryRecorder(net, per_parameter=False)
        train(net, X, y, steps=30, lr=0.5, optimizer="sgd", loss="mse", batch_size=16, eval_every=30, callback=rec)
        changes.append(rec.history_[-1]["relative_change"])
    assert changes[1] < changes[0] / 4  # 64× the width: ≈ 8× less relative change
