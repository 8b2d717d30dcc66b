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
from theorylab.robustness_bound import BoundError, params_needed, robustness_bound, worked_examples


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
    assert r.exit_code == 0 and "Lip lower bound" in r.output and "ImageNet" in r.output
    r = CliRunner().invoke(_app(), ["robustness-bound", "--n", "10", "--d", "2", "--p", "5", "--sigma", "2"])
    assert isinstance(r.exception, BoundError)
