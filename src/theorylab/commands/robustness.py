"""``theorylab robustness-bound``: Theorem 3 of Bubeck & Sellke (2021) on the command line.

The output keeps three things apart, in words: the **proven** Theorem 3 bound (with its
constants, valid only when the theorem's conditions hold), the **informal** sqrt(n·d/p)
(the law's scaling with constant C = 1: conjecture-level, not implied by the theorem), and
each of Theorem 3's conditions evaluated for the inputs. It then says what p a fit with a
target Lipschitz constant needs under each reading, never a bare 0.
"""

from __future__ import annotations

import json

import typer

from theorylab.robustness_bound import (
    RobustnessBound,
    informal_params_needed,
    params_needed,
    robustness_bound,
    worked_examples,
)

__all__ = ["format_bound", "register"]

_MARK = {"holds": "yes    ", "fails": "NO     ", "assumed": "assumed"}


def _p_text(p: float, lip: float, bound_at_p1: float) -> str:
    if p >= 1:
        return f"p ≥ {p:,.4g}"
    return (f"no minimum: Theorem 3 never rules out Lip ≤ {lip:g} (its bound is {bound_at_p1:.3g} < {lip:g} "
            "even at p = 1)")


def format_bound(b: RobustnessBound, lip: float) -> list[str]:
    """The text report of one evaluation: proven bound, informal scaling, conditions, p needed."""
    n, d, p = b.n, b.d, b.p
    fails = [c.name for c in b.conditions if c.status == "fails"]
    lines = [
        "Law of robustness (Bubeck & Sellke 2021, arXiv 2105.12806): L2 Lipschitz constant, inputs at radius ≈ 1",
        f"  inputs: n = {n:,.6g}, d = {d:,.6g}, p = {p:,.6g}, σ² = {b.sigma2:.4g}, ε = {b.eps:.4g} "
        f"(fits with train MSE ≤ σ² − ε = {b.sigma2 - b.eps:.4g}), δ = {b.delta:.4g}, c = {b.c:.4g}, "
        f"W = {b.W:.4g}, J = {b.J:.4g}",
        "",
        f"  PROVEN (Theorem 3, with its constants):  Lip(f) ≥ {b.lip_lower:.4g}",
        "      = ε/(2⁹√c) · sqrt(n·d / (p·log(60·W·J/ε) + log(4/δ))), with probability ≥ 1 − δ,",
        "        for every f of the class that fits below the noise; only if the conditions below hold.",
        f"  INFORMAL (not a theorem):                Lip(f) ≳ sqrt(n·d/p) = {b.informal:.4g}",
        "      the law's scaling with constant C = 1: a conjecture-level reading (no constants, no logs);",
        f"      Theorem 3 proves it only up to the factor ε/(2⁹√c)/sqrt(log(60WJ/ε)) ≈ "
        f"{b.prefactor / b.log_factor**0.5:.3g} here.",
        "",
        "  Theorem 3's conditions for these inputs:",
    ]
    for c in b.conditions:
        lines.append(f"    {_MARK[c.status]}  {c.name}: {c.detail}")
    if fails:
        lines.append(f"  → Theorem 3 does NOT apply to these inputs (fails: {', '.join(fails)}): "
                     f"the proven bound above is not established here.")
    else:
        lines.append("  → Theorem 3 applies (every condition holds or is assumed by you).")
    lines += [
        "",
        f"  Parameters a fit with Lip(f) ≤ {lip:g} needs:",
        f"    Theorem 3 (proven, if it applies): "
        f"{_p_text(params_needed(n, d, lip, b.sigma2**0.5, eps=b.eps, delta=b.delta, c=b.c, W=b.W, J=b.J), lip, _at_p1(b))}",
        f"    informal sqrt(n·d/p) ≤ {lip:g} (C = 1, conjecture-level): p ≳ n·d/Lip² = "
        f"{informal_params_needed(n, d, lip):,.4g}",
    ]
    return lines


def _at_p1(b: RobustnessBound) -> float:
    return robustness_bound(b.n, b.d, 1, b.sigma2**0.5, eps=b.eps, delta=b.delta, c=b.c, W=b.W, J=b.J).lip_lower


def register(app: typer.Typer) -> None:
    """Add the ``robustness-bound`` command to ``app``."""

    @app.command("robustness-bound")
    def robustness_bound_cmd(
        n: float = typer.Option(..., "--n", help="training points (count)"),
        d: float = typer.Option(..., "--d", help="input dimension: ambient, intrinsic or isoperimetric"),
        p: float = typer.Option(..., "--p", help="model parameters (count)"),
        sigma: float = typer.Option(..., "--sigma", help="label noise std σ (labels in [-1, 1])"),
        eps: float | None = typer.Option(None, "--eps", help="train MSE ≤ σ² - ε (default σ²/2)"),
        delta: float = typer.Option(0.01, "--delta", help="failure probability δ"),
        c: float = typer.Option(1.0, "--c", help="isoperimetry constant c"),
        W: float = typer.Option(1.0, "--W", help="diameter of the parameter set"),
        J: float = typer.Option(1.0, "--J", help="Lipschitz constant of w -> f_w in sup norm"),
        lip: float = typer.Option(1.0, "--lip", help="target Lipschitz constant: report the p a fit with it needs"),
        examples: bool = typer.Option(False, "--examples", help="also print the MNIST / ImageNet worked examples"),
        as_json: bool = typer.Option(False, "--json", help="print JSON instead of text"),
    ) -> None:
        """Theorem 3's proven Lipschitz lower bound, the informal sqrt(n·d/p), and whether Theorem 3 applies.

        Lip(f) ≥ ε/(2⁹√c) · sqrt(n·d / (p·log(60·W·J/ε) + log(4/δ))) (Bubeck & Sellke 2021),
        for a model with p parameters fitting noisy labels below the noise level.
        """
        b = robustness_bound(n, d, p, sigma, eps=eps, delta=delta, c=c, W=W, J=J)
        out: dict = b.as_dict()
        out["lip_lower_is"] = "proven by Theorem 3 when 'applies' is true"
        out["informal_is"] = "sqrt(n*d/p) with C = 1: conjecture-level scaling, not a theorem"
        out["lip_target"] = lip
        out["p_for_lip_target"] = params_needed(n, d, lip, sigma, eps=b.eps, delta=delta, c=c, W=W, J=J)
        out["p_for_lip_target_means"] = (
            "Theorem 3 rules out Lip <= lip_target below this p" if out["p_for_lip_target"] >= 1
            else "Theorem 3 never rules out Lip <= lip_target (no minimum p)")
        out["p_informal_for_lip_target"] = informal_params_needed(n, d, lip)
        if examples:
            out["worked_examples"] = worked_examples(sigma)
        if as_json:
            typer.echo(json.dumps(out, indent=2))
            return
        for line in format_bound(b, lip):
            typer.echo(line)
        if examples:
            typer.echo(f"\nWorked examples (σ = {sigma:g}, ε = σ²/2, δ = 0.01, c = W = J = 1): data, choice of d, d, "
                       "informal p ≈ n·d for Lip ≈ 1, Theorem 3's p for Lip ≤ 1, its bound at the robust model's size")
            for r in out["worked_examples"]:
                p3 = r["p_theorem3_lip1"]
                p3_text = f"{p3:.3g}" if p3 >= 1 else "none"
                note = "" if r["condition_ok"] else "  (Thm 3's sample-size condition fails)"
                typer.echo(f"  {r['data']:<8} {r['d_choice']:<36} d={r['d']:<7g} informal p≈n·d={r['p_informal_nd']:.3g}  "
                           f"Thm 3 p={p3_text}  proven Lip≥{r['lip_bound_at_observed_p']:.3g} at p={r['p_observed']:.2g}{note}")
