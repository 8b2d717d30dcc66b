"""Theorem 3 calculator (Bubeck & Sellke 2021) against values computed by hand.

Hand computation for n = 60,000, d = 784, p = 10⁶, σ = 1 (so ε = σ²/2 = 0.5), δ = 0.01,
c = W = J = 1: prefactor ε/2⁹ = 0.5/512 = 9.765625e-4; log(60/ε) = log 120 = 4.787492;
log(4/δ) = log 400 = 5.991465; n·d = 4.704e7; 4.704e7 / (10⁶·4.787492 + 5.991465) = 9.825591;
sqrt = 3.134580; bound = 3.061113e-3. Sample-size condition: 8⁴·log 800 = 27,380 > n·ε² = 15,000.
"""

from __future__ import annotations

import json
import math

import pytest
import typer
from typer.testing import CliRunner

from theorylab.commands.robustness import register
from theorylab.robustness_bound import (
    BoundError,
    informal_params_needed,
    params_needed,
    robustness_bound,
    sample_size_needed,
    theorem3_conditions,
    worked_examples,
)


def test_hand_computed_mnist_ambient():
    b = robustness_bound(60_000, 784, 1e6, 1.0)
    assert b.eps == 0.5
    assert b.prefactor == pytest.approx(9.765625e-4, rel=1e-12)
    assert b.log_factor == pytest.approx(4.787492, rel=1e-6)
    assert b.lip_lower == pytest.approx(3.061113e-3, rel=1e-6)
    assert b.informal == pytest.approx(math.sqrt(47.04), rel=1e-12)
    assert b.condition_ok is False


def test_hand_computed_other_constants():
    # σ = 0.5 → ε = 0.125; δ = 0.05: log(60/0.125) = log 480 = 6.173786, log(4/0.05) = log 80 = 4.382027
    # 0.125/512 · sqrt(10⁶ / (10⁵·6.173786 + 4.382027)) = 3.107154e-4
    b = robustness_bound(1e4, 100, 1e5, 0.5, delta=0.05)
    assert b.lip_lower == pytest.approx(3.107154e-4, rel=1e-6)
    # c = 4 halves the bound; W·J = e^k multiplies the log factor's argument
    assert robustness_bound(1e4, 100, 1e5, 0.5, delta=0.05, c=4).lip_lower == pytest.approx(b.lip_lower / 2)
    assert robustness_bound(1e4, 100, 1e5, 0.5, W=10, J=10).log_factor == pytest.approx(math.log(60 * 100 / 0.125))


def test_params_needed_inverts_the_bound():
    p = params_needed(60_000, 784, 1e-3, 1.0)
    assert p == pytest.approx(9_370_425.32, rel=1e-8)  # (n·d·(9.765625e-4/1e-3)² − log 400) / log 120
    assert robustness_bound(60_000, 784, p, 1.0).lip_lower == pytest.approx(1e-3, rel=1e-10)
    assert params_needed(100, 2, 10.0, 1.0) == 0.0  # the theorem forbids nothing at Lip = 10


def test_worked_examples_reference_arithmetic():
    rows = {(r["data"], r["d"]): r for r in worked_examples()}
    assert rows[("MNIST", 7)]["p_informal_nd"] == pytest.approx(4.2e5)  # Pope et al. d, n·d (CLAIMS A)
    assert rows[("MNIST", 13)]["p_informal_nd"] == pytest.approx(7.8e5)
    assert rows[("ImageNet", 26)]["p_informal_nd"] == pytest.approx(3.64e8)
    assert rows[("ImageNet", 43)]["p_informal_nd"] == pytest.approx(6.02e8)
    extra = worked_examples(measured_d={"MNIST": 10.0})
    assert extra[-1]["d_choice"] == "measured" and extra[-1]["p_informal_nd"] == pytest.approx(6e5)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"sigma": 1.5}, "sigma"),
        ({"eps": 2.0}, "eps"),
        ({"delta": 1.0}, "delta"),
        ({"p": 0.0}, "p must"),
        ({"c": -1.0}, "c must"),
    ],
)
def test_bad_input(kwargs, match):
    args = {"n": 100, "d": 10, "p": 1000, "sigma": 1.0} | kwargs
    with pytest.raises(BoundError, match=match):
        robustness_bound(args.pop("n"), args.pop("d"), args.pop("p"), args.pop("sigma"), **args)


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.command("noop")
    def noop() -> None:  # a second command keeps typer in multi-command mode
        pass

    return app


def test_cli_json_and_text():
    r = CliRunner().invoke(_app(), ["robustness-bound", "--n", "60000", "--d", "784", "--p", "1e6",
                                    "--sigma", "1", "--json", "--lip", "0.001"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["lip_lower"] == pytest.approx(3.061113e-3, rel=1e-6)
    assert out["p_for_lip_target"] == pytest.approx(9_370_425.32, rel=1e-8)
    r = CliRunner().invoke(_app(), ["robustness-bound", "--n", "6e4", "--d", "10", "--p", "1e5", "--sigma", "0.5",
                                    "--eps", "0.1", "--delta", "0.1", "--c", "2", "--W", "3", "--J", "4", "--examples"])
    assert r.exit_code == 0 and "PROVEN (Theorem 3" in r.output and "ImageNet" in r.output
    r = CliRunner().invoke(_app(), ["robustness-bound", "--n", "10", "--d", "2", "--p", "5", "--sigma", "2"])
    assert isinstance(r.exception, BoundError)


def test_conditions_are_evaluated_one_by_one():
    # n·ε² = 60,000·0.25 = 15,000 < 8⁴·log 800 = 27,380: the sample-size condition fails
    b = robustness_bound(60_000, 784, 1e6, 1.0)
    status = {c.name: c.status for c in b.conditions}
    assert status == {"parameter class": "assumed", "labels": "holds", "isoperimetry": "assumed",
                      "sample size": "fails", "noise": "holds", "eps, delta range": "holds"}
    assert not b.applies and b.n_needed == pytest.approx(4096 * math.log(800) / 0.25)
    assert sample_size_needed(0.5, 0.01) == pytest.approx(109_520.6, rel=1e-5)
    ok = robustness_bound(2e5, 784, 1e6, 1.0, isoperimetric=True, parameter_class=True)
    assert ok.applies and all(c.status == "holds" for c in ok.conditions)
    bad = theorem3_conditions(1e6, 1.0, 0.5, 0.01, isoperimetric=False)
    assert {c.name for c in bad if c.status == "fails"} == {"isoperimetry"}


def test_informal_params_needed():
    assert informal_params_needed(60_000, 784, 1.0) == pytest.approx(4.704e7)
    assert informal_params_needed(100, 10, 0.5) == pytest.approx(4000.0)
    with pytest.raises(BoundError):
        informal_params_needed(100, 10, 0.0)


def test_cli_says_which_number_is_which_and_never_prints_a_bare_zero():
    """Issue 10: the README example printed 2e-5 next to 6.9 and p_thm3 = 0 with no words."""
    r = CliRunner().invoke(_app(), ["robustness-bound", "--n", "60000", "--d", "784", "--p", "1000000", "--sigma", "0.1"])
    assert r.exit_code == 0, r.output
    out = r.output
    assert "PROVEN (Theorem 3, with its constants):  Lip(f) ≥ 2.185e-05" in out
    assert "INFORMAL (not a theorem)" in out and "6.859" in out and "conjecture-level" in out
    assert "NO       sample size" in out and "does NOT apply" in out
    assert "no minimum: Theorem 3 never rules out Lip ≤ 1" in out  # instead of a bare 0
    assert "p ≳ n·d/Lip² = 4.704e+07" in out
    assert "p_thm3=0" not in out and "= 0 " not in out
    r = CliRunner().invoke(_app(), ["robustness-bound", "--n", "2e6", "--d", "784", "--p", "1e6", "--sigma", "1",
                                    "--lip", "0.001"])
    assert "Theorem 3 applies" in r.output and "p ≥ 3.123e+08" in r.output
    r = CliRunner().invoke(_app(), ["robustness-bound", "--n", "6e4", "--d", "784", "--p", "1e6", "--sigma", "1",
                                    "--json"])
    out = json.loads(r.output)
    assert out["applies"] is False and [c["status"] for c in out["conditions"]][3] == "fails"
    assert out["p_for_lip_target_means"].startswith("Theorem 3") and out["p_informal_for_lip_target"] == pytest.approx(4.704e7)


def test_parameter_lipschitz_bounds_the_parameter_sensitivity():
    """J of Theorem 3's class {‖w‖ ≤ r} for an MLP: no pair of parameter vectors beats it (inputs ‖x‖ ≤ R)."""
    import copy

    import torch

    from theorylab.models import mlp
    from theorylab.probes.lipschitz import LipschitzError, parameter_lipschitz

    net = mlp(5, [7, 6], 1, seed=0)
    pl = parameter_lipschitz(net, 1.5)
    assert pl.radius >= pl.weight_norm and pl.diameter == 2 * pl.radius and math.log2(pl.radius).is_integer()
    # hand formula, L = 3 layers: A0² = R² + 1, A_l² = r² A_{l−1}² + 1; J² = r⁴A0² + r²A1² + A2²
    r, R = pl.radius, 1.5
    a0 = R**2 + 1
    a1 = r**2 * a0 + 1
    a2 = r**2 * a1 + 1
    assert pl.J == pytest.approx(math.sqrt(r**4 * a0 + r**2 * a1 + a2))
    g = torch.Generator().manual_seed(0)
    w0 = torch.nn.utils.parameters_to_vector(net.parameters()).detach()
    worst = 0.0
    for _ in range(100):
        ws = []
        for _ in range(2):
            d = torch.randn(w0.shape, generator=g)
            ws.append(d / d.norm() * r * float(torch.rand(1, generator=g)))
        a, b = copy.deepcopy(net), copy.deepcopy(net)
        torch.nn.utils.vector_to_parameters(ws[0], a.parameters())
        torch.nn.utils.vector_to_parameters(ws[1], b.parameters())
        x = torch.randn(32, 5, generator=g)
        x = x / x.norm(dim=1, keepdim=True) * R
        with torch.no_grad():
            worst = max(worst, float((a(x) - b(x)).abs().max() / (ws[0] - ws[1]).norm()))
    assert worst <= pl.J
    with pytest.raises(LipschitzError, match="smaller than"):
        parameter_lipschitz(net, 1.0, radius=0.5)
    with pytest.raises(LipschitzError, match="slope"):
        parameter_lipschitz(torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.GELU(), torch.nn.Linear(2, 1)), 1.0)
