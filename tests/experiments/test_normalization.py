"""exp-lr-equivalence and lr-init-scale: the identities on a tiny model, and every check on
hand-made results where the claim holds, is contradicted, and is ambiguous."""

from __future__ import annotations

import copy
import math

import numpy as np
import pandas as pd
import pytest
import torch

from theorylab.engine.registry import get_experiment
from theorylab.engine.testing import synthetic_results
from theorylab.models.normalized import (
    exp_lr_rate,
    exp_lr_schedule,
    normalized_mlp,
    scale_invariance_gap,
)

SEEDS = 5



# -- the identities, on a tiny model ---------------------------------------------------------------
def test_exp_lr_rate_reproduces_li_arora_numbers():
    a = exp_lr_rate(0.1, 5e-4, 0.9)
    assert a == pytest.approx(0.99949773, abs=1e-8)  # Li & Arora 2020 (λ = 5e-4, η = 0.1, γ = 0.9)
    assert a**-2 == pytest.approx(1.0010053, abs=1e-7)  # per step
    assert a ** (-2 * 391) == pytest.approx(1.4812, abs=1e-4)  # per 391-step epoch
    assert exp_lr_rate(0.1, 5e-4, 0.0) == pytest.approx(1 - 5e-5)
    with pytest.raises(ValueError, match="no real root"):
        exp_lr_rate(1.0, 0.1, 0.9)


def test_schedule_is_the_closed_form_for_a_constant_lr():
    eta, lam, gam = 0.1, 1e-2, 0.9
    sched = exp_lr_schedule(np.full(50, eta), lam, gam)
    a = exp_lr_rate(eta, lam, gam)
    np.testing.assert_allclose(sched.lrs, eta * a ** (-2 * np.arange(50) - 1), rtol=1e-12)
    np.testing.assert_allclose(sched.scale, a ** np.arange(51), rtol=1e-12)
    plain = exp_lr_schedule(np.full(50, eta), lam, 0.0)
    np.testing.assert_allclose(plain.lrs, eta * (1 - lam * eta) ** (-2 * np.arange(50) - 1), rtol=1e-12)


def _sgd(net, X, y, batches, lrs, wd, momentum, buffer_coef=0.0):
    """An independent loop (torch.optim.SGD, per-step LR): the peer of the experiment's loop."""
    params = [p for p in net.parameters() if p.requires_grad]
    opt = torch.optim.SGD(params, lr=float(lrs[0]), momentum=momentum, weight_decay=wd)
    if momentum and buffer_coef:
        for p in params:
            opt.state[p]["momentum_buffer"] = buffer_coef * p.detach().clone()
    states = [[p.detach().clone() for p in params]]
    for t, idx in enumerate(batches):
        for grp in opt.param_groups:
            grp["lr"] = float(lrs[t])
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(X[idx]), y[idx]).backward()
        opt.step()
        states.append([p.detach().clone() for p in params])
    return states


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_weight_decay_equals_exponential_lr_on_a_tiny_model(momentum):
    """300 float64 steps (step decay at 150): w_t = P_t w̃_t for every tensor, to ~1e-12."""
    g = torch.Generator().manual_seed(0)
    X = torch.randn(64, 6, generator=g, dtype=torch.float64)
    y = torch.randint(0, 3, (64,), generator=g)
    batches = [torch.randperm(64, generator=g)[:16] for _ in range(300)]
    net = normalized_mlp(6, [12, 12], 3, seed=1)
    assert scale_invariance_gap(net, X) < 1e-13
    lrs = np.where(np.arange(300) < 150, 0.2, 0.02)
    sched = exp_lr_schedule(lrs, 5e-3, momentum)
    wd = _sgd(copy.deepcopy(net), X, y, batches, lrs, 5e-3, momentum)
    ex = _sgd(copy.deepcopy(net), X, y, batches, sched.lrs, 0.0, momentum, sched.initial_buffer)
    worst = max(float((a - P * b).norm() / a.norm())
                for sa, sb, P in zip(wd, ex, sched.scale, strict=True) for a, b in zip(sa, sb, strict=True))
    assert worst < 1e-10
    assert sched.lrs[149] / sched.lrs[0] > 1.3  # the twin's LR really grew


def test_scale_invariance_gap_sees_the_controls():
    X = torch.randn(32, 5, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert scale_invariance_gap(normalized_mlp(5, [8], 2, seed=0), X) < 1e-13
    assert scale_invariance_gap(normalized_mlp(5, [8], 2, seed=0, norm="none"), X) > 0.1
    assert scale_invariance_gap(normalized_mlp(5, [8], 2, seed=0, freeze_last=False), X) > 0.1


# -- exp-lr-equivalence: the checks --------------------------------------------------------------
def _exp_lr_run(seed: int, main: float, control: float, wrong: float, drift: float) -> dict[str, pd.DataFrame]:
    """Smoke geometry: 60 steps, records every 5, decay at 30; gaps are log10 values."""
    rows = []
    for pair, g in (("exp-lr", main), ("control: not scale-invariant", control), ("control: wrong alpha", wrong)):
        for t in range(0, 61, 5):
            gap = 10.0 ** (g - 1 + t / 60)  # grows along the run, reaching 10**g at the end
            rows.append({"pair": pair, "step": t, "phase": "constant" if t <= 30 else "after decay",
                         "weight_gap": gap, "logit_gap": gap / 2, "loss_wd": 1.0, "loss_twin": 1.0})
    norms = []
    for t in range(0, 60, 5):
        lr = 0.1 * math.exp(0.02 * t)
        for layer in (0, 1):
            ratio = 100 * math.exp(drift * 0.02 * t)  # |Δ log R| / Δ log η̃ = drift
            norms.append({"step": t, "layer": layer, "norm2_wd": 1.0, "norm2_twin": ratio * lr,
                          "lr_twin": lr, "scale": 1.0, "ratio": ratio})
    return {"gaps": pd.DataFrame(rows), "norms": pd.DataFrame(norms)}


def _statuses(exp, runs):
    return [c.status for c in exp.check(synthetic_results(exp, runs)).checks]


def test_exp_lr_checks_three_ways():
    exp = get_experiment("exp-lr-equivalence")
    j = np.linspace(-0.2, 0.2, SEEDS)
    holds = [_exp_lr_run(s, -13 + j[s], -0.5 + j[s], -1 + j[s], 0.05 + j[s] / 10) for s in range(SEEDS)]
    assert _statuses(exp, holds) == ["supported"] * 5
    broken = [_exp_lr_run(s, -2 + j[s], -13 + j[s], -12 + j[s], 0.9 + j[s] / 10) for s in range(SEEDS)]
    assert _statuses(exp, broken) == ["not supported"] * 5
    spread = np.array([-3.0, -7.0, -4.0, -6.5, -5.0])
    drifts = np.array([0.05, 0.45, 0.1, 0.4, 0.25])
    unsure = [_exp_lr_run(s, spread[s], spread[s], spread[s], drifts[s]) for s in range(SEEDS)]
    assert _statuses(exp, unsure) == ["inconclusive"] * 5


# -- lr-init-scale: the checks -------------------------------------------------------------------
def _lr_run(seed: int, gap: float, control_gap: float, inv_acc: list[float], ctrl_acc: list[float]
            ) -> dict[str, pd.DataFrame]:
    idt = [{"case": case, "step": t, "gap": 10.0 ** (g - 1 + t / 40)}
           for case, g in (("no weight decay", gap), ("weight decay", gap), ("control: no BatchNorm", control_gap))
           for t in range(0, 41, 5)]
    sweep = [{"net": net, "learning_rate": lr, "test_accuracy": acc, "last_batch_loss": 0.1, "weight_norm": 1.0}
             for net, accs in (("scale-invariant", inv_acc), ("no BatchNorm", ctrl_acc))
             for lr, acc in zip((0.1, 10.0), accs, strict=True)]
    return {"identity": pd.DataFrame(idt), "lr_sweep": pd.DataFrame(sweep)}


def test_lr_init_scale_checks_three_ways():
    exp = get_experiment("lr-init-scale")
    j = np.linspace(-0.01, 0.01, SEEDS)
    holds = [_lr_run(s, -15 + 10 * j[s], 2.0, [0.96 + j[s], 0.98], [0.9 + j[s], 0.09]) for s in range(SEEDS)]
    assert _statuses(exp, holds) == ["supported"] * 5
    broken = [_lr_run(s, -3 + 10 * j[s], -15 + 10 * j[s], [0.3 + j[s], 0.9], [0.3 + j[s], 0.9])
              for s in range(SEEDS)]
    assert _statuses(exp, broken) == ["not supported"] * 5
    logs = [-7.0, -11.0, -8.0, -10.5, -9.0]
    inv = [0.01, 0.09, 0.02, 0.08, 0.05]
    ctl = [0.05, 0.6, 0.1, 0.5, 0.3]
    unsure = [_lr_run(s, logs[s], logs[s], [0.9, 0.9 + inv[s]], [0.9, 0.9 - ctl[s]]) for s in range(SEEDS)]
    assert _statuses(exp, unsure) == ["inconclusive"] * 5
