"""``theorylab robustness-bound``: Theorem 3 of Bubeck & Sellke (2021) on the command line."""

from __future__ import annotations

import json

import typer

from theorylab.robustness_bound import params_needed, robustness_bound, worked_examples

__all__ = ["register"]


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
        lip: float | None = typer.Option(None, "--lip", help="also report p needed for this target Lipschitz constant"),
        examples: bool = typer.Option(False, "--examples", help="also print the MNIST / ImageNet worked examples"),
        as_json: bool = typer.Option(False, "--json", help="print JSON instead of text"),
    ) -> None:
        """Theorem 3's Lipschitz lower bound for a model with p parameters fitting noisy labels.

        Lip(f) ≥ ε/(2⁹√c) · sqrt(n·d / (p·log(60·W·J/ε) + log(4/δ))) (Bubeck & Sellke 2021).
        """
        b = robustness_bound(n, d, p, sigma, eps=eps, delta=delta, c=c, W=W, J=J)
        out: dict = b.as_dict()
        if lip is not None:
            out["lip_target"] = lip
            out["p_for_lip_target"] = params_needed(n, d, lip, sigma, eps=b.eps, delta=delta, c=c, W=W, J=J)
        if examples:
            out["worked_examples"] = worked_examples(sigma)
        if as_json:
            typer.echo(json.dumps(out, indent=2))
            return
        typer.echo(f"Theorem 3 (Bubeck & Sellke 2021), L2, inputs at radius ≈ 1: n={n:g} d={d:g} p={p:g} "
                   f"σ²={b.sigma2:g} ε={b.eps:g} δ={delta:g} c={c:g} W={W:g} J={J:g}")
        typer.echo(f"  Lip lower bound          {b.lip_lower:.4g}")
        typer.echo(f"  informal sqrt(n·d/p)     {b.informal:.4g}")
        need = f"{b.p_for_lip1:.4g}" if b.p_for_lip1 > 0 else "any p (the bound is < 1 for every p ≥ 1)"
        typer.echo(f"  p for Lip ≤ 1 (Thm 3)    {need}   (informal n·d = {n * d:.4g})")
        if lip is not None:
            typer.echo(f"  p for Lip ≤ {lip:g} (Thm 3)  {out['p_for_lip_target']:.4g}")
        if not b.condition_ok:
            typer.echo(f"  note: sample-size condition 8⁴·log(8/δ) ≤ n·ε² fails (n·ε² = {n * b.eps**2:.4g}); "
                       "the theorem does not apply at this n")
        if examples:
            typer.echo(f"\nWorked examples (σ = {sigma:g}): data, d choice, d, p≈n·d, p(Thm 3, Lip 1), "
                       "bound at robust-model size")
            for r in out["worked_examples"]:
                typer.echo(f"  {r['data']:<8} {r['d_choice']:<36} d={r['d']:<7g} n·d={r['p_informal_nd']:.3g} "
                           f"p_thm3={r['p_theorem3_lip1']:.3g} Lip≥{r['lip_bound_at_observed_p']:.3g} at p={r['p_observed']:.2g}")
