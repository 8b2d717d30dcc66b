"""Theorem 3 of Bubeck & Sellke (2021), "A Universal Law of Robustness via Isoperimetry".

NeurIPS 2021 (outstanding paper), arXiv 2105.12806. Inputs from a c-isoperimetric
distribution in dimension d (radius ≈ 1), labels in [-1, 1] with conditional variance σ²;
F = {f_w : w ∈ 𝒲 ⊂ R^p} with diam(𝒲) ≤ W and ‖f_w1 - f_w2‖_∞ ≤ J ‖w1 - w2‖. With
probability ≥ 1 - δ, every f ∈ F with training MSE ≤ σ² - ε satisfies

    Lip(f) ≥ ε / (2⁹ √c) · sqrt( n d / ( p log(60 W J / ε) + log(4/δ) ) ),

provided 8⁴ k log(8k/δ) ≤ n ε² (μ a mixture of k c-isoperimetric components; k = 1 here)
and ε, δ ∈ (0, 1). That is the **proven** bound, with its constants.

The informal reading, Lip ≳ sqrt(n d / p) (fitting noise smoothly needs p ≳ n d), drops the
constants and logarithms: it is a scaling, and with the constant C = 1 it is a
conjecture-level statement (Bubeck & Sellke's Informal Theorem 1 has Ω̃; Bubeck, Li & Nagaraj
2020 conjecture it for two-layer nets), not something Theorem 3 proves. This module keeps the
two apart: :class:`RobustnessBound` carries ``lip_lower`` (proven, when :attr:`applies`) and
``informal`` (conjecture-level), and :func:`theorem3_conditions` says, condition by condition,
whether Theorem 3 applies to the inputs at all.

Conventions and departures: ε defaults to σ²/2 (the text leaves it free; the prefactor is
linear in ε and carries no other σ). W = J = 1 by default (polynomially bounded weights make
log(60 W J / ε) a logarithmic factor; pass your model's values, e.g. from
:func:`theorylab.probes.lipschitz.parameter_lipschitz`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Literal

from theorylab.errors import TheorylabError

__all__ = [
    "BoundError",
    "Condition",
    "RobustnessBound",
    "informal_params_needed",
    "params_needed",
    "robustness_bound",
    "sample_size_needed",
    "theorem3_conditions",
    "worked_examples",
]

SAMPLE_CONSTANT = 8**4  # the 8⁴ of Theorem 3's sample-size condition 8⁴ k log(8k/δ) ≤ n ε²


class BoundError(TheorylabError, ValueError):
    """Parameters outside Theorem 3's domain."""


@dataclass(frozen=True)
class Condition:
    """One stated condition of Theorem 3, evaluated for given inputs.

    Attributes
    ----------
    name : short name (``"sample size"``, ``"eps, delta range"``, ...).
    status : ``"holds"``, ``"fails"``, or ``"assumed"`` (a property of the data or the model
        class that numbers alone cannot settle: the caller asserts it).
    detail : the condition with the numbers plugged in.
    """

    name: str
    status: Literal["holds", "fails", "assumed"]
    detail: str


@dataclass(frozen=True)
class RobustnessBound:
    """Theorem 3 evaluated at one (n, d, p, σ², ε, δ, c, W, J).

    Attributes
    ----------
    lip_lower : Theorem 3's proven lower bound on Lip(f) (output units per input unit;
        radius-1 inputs). Proven only when :attr:`applies` (every condition holds or is assumed).
    informal : sqrt(n d / p), the informal scaling with C = 1, no constants, no logs
        (conjecture-level; not implied by Theorem 3).
    prefactor : ε / (2⁹ √c).
    log_factor : log(60 W J / ε).
    condition_ok : whether the sample-size condition 8⁴ log(8/δ) ≤ n ε² holds (k = 1).
    n_needed : the smallest n for which the sample-size condition holds at this ε, δ.
    p_for_lip1 : the smallest p at which Theorem 3 allows Lip ≤ 1 (the size a fit with
        Lip ≤ 1 needs); 0.0 when Theorem 3 forbids Lip ≤ 1 at no p.
    p_informal_lip1 : n d, the informal p for Lip ≈ 1.
    conditions : every condition of Theorem 3, evaluated (see :func:`theorem3_conditions`).
    """

    n: float
    d: float
    p: float
    sigma2: float
    eps: float
    delta: float
    c: float
    W: float
    J: float
    lip_lower: float
    informal: float
    prefactor: float
    log_factor: float
    condition_ok: bool
    p_for_lip1: float
    n_needed: float = math.nan
    p_informal_lip1: float = math.nan
    conditions: tuple[Condition, ...] = ()

    @property
    def applies(self) -> bool:
        """True when no condition of Theorem 3 fails for these inputs (assumed ones count as held)."""
        return all(c.status != "fails" for c in self.conditions)

    def as_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["applies"] = self.applies
        return d


def _check(n: float, d: float, p: float | None, sigma2: float, eps: float, delta: float, c: float, W: float, J: float) -> None:
    if not (n >= 1 and d >= 1):
        raise BoundError(f"n and d must be ≥ 1, got n={n}, d={d}")
    if p is not None and not p >= 1:
        raise BoundError(f"p must be ≥ 1, got {p}")
    if not 0 < sigma2 <= 1:
        raise BoundError(f"sigma² must lie in (0, 1] (labels in [-1, 1]), got {sigma2}")
    if not 0 < eps < 1 or eps > sigma2:
        raise BoundError(f"eps must lie in (0, min(1, sigma²)], got eps={eps}, sigma²={sigma2}")
    if not 0 < delta < 1:
        raise BoundError(f"delta must lie in (0, 1), got {delta}")
    if not c > 0:
        raise BoundError(f"c must be > 0, got {c}")
    if not (W > 0 and J > 0):
        raise BoundError(f"W and J must be > 0, got W={W}, J={J}")
    if 60 * W * J / eps <= 1:
        raise BoundError(f"log(60·W·J/eps) must be positive, got W·J/eps = {W * J / eps:.3g}")


def sample_size_needed(eps: float, delta: float, k: int = 1) -> float:
    """Smallest n with 8⁴ k log(8k/δ) ≤ n ε² (Theorem 3's sample-size condition)."""
    if not (0 < eps < 1 and 0 < delta < 1 and k >= 1):
        raise BoundError(f"need eps, delta in (0, 1) and k ≥ 1, got eps={eps}, delta={delta}, k={k}")
    return SAMPLE_CONSTANT * k * math.log(8 * k / delta) / eps**2


def theorem3_conditions(
    n: float, sigma2: float, eps: float, delta: float, *, c: float = 1.0, W: float = 1.0, J: float = 1.0,
    k: int = 1, isoperimetric: bool | None = None, parameter_class: bool | None = None,
) -> tuple[Condition, ...]:
    """Theorem 3's stated conditions, each evaluated for these inputs.

    Parameters
    ----------
    n, sigma2, eps, delta : as in :func:`robustness_bound` (σ² = E Var(y|x)).
    c, W, J, k : isoperimetry constant, parameter-set diameter, parameter-Lipschitz constant,
        number of mixture components.
    isoperimetric : True when the data are known to be c-isoperimetric (e.g. N(0, I_d/d) with
        c = 1), False when known not to be, None when it cannot be settled (then "assumed").
    parameter_class : True when W and J were computed for the model class (e.g. by
        :func:`theorylab.probes.lipschitz.parameter_lipschitz`), None when they are the user's
        (or default) values (then "assumed").

    Returns
    -------
    One :class:`Condition` per stated condition, in the order of the paper.
    """
    lhs = SAMPLE_CONSTANT * k * math.log(8 * k / delta) if 0 < delta < 1 else math.inf
    have = n * eps**2
    n_min = lhs / eps**2 if eps > 0 else math.inf
    out = [
        Condition(
            "parameter class",
            "holds" if parameter_class else "assumed",
            f"F = {{f_w : w ∈ 𝒲 ⊂ R^p}}, diam(𝒲) ≤ W = {W:.4g}, ‖f_w1 − f_w2‖_∞ ≤ J‖w1 − w2‖ with J = {J:.4g}"
            + ("" if parameter_class else " (your values or the defaults: they describe your model class, "
               "numbers alone cannot check them)"),
        ),
        Condition("labels", "holds" if 0 < sigma2 <= 1 else "fails",
                  f"(x_i, y_i) i.i.d. with y ∈ [−1, 1]; σ² = E Var(y|x) = {sigma2:.4g} ∈ (0, 1]"),
        Condition(
            "isoperimetry",
            "assumed" if isoperimetric is None else ("holds" if isoperimetric else "fails"),
            f"the input law is a mixture of k = {k} c-isoperimetric laws with c = {c:.4g} "
            "(true for N(0, I_d/d), the uniform sphere or cube scaled to radius ≈ 1)"
            + (": a property of the data, assumed" if isoperimetric is None else ""),
        ),
        Condition(
            "sample size",
            "holds" if have >= lhs else "fails",
            f"8⁴·k·log(8k/δ) ≤ n·ε²: {lhs:,.0f} {'≤' if have >= lhs else '>'} {have:,.6g}"
            + ("" if have >= lhs else f" (needs n ≥ {math.ceil(n_min):,} at ε = {eps:.4g}, δ = {delta:.4g})"),
        ),
        Condition("noise", "holds" if sigma2 > 0 else "fails", f"σ² = {sigma2:.4g} > 0"),
        Condition("eps, delta range", "holds" if (0 < eps < 1 and 0 < delta < 1 and eps <= sigma2) else "fails",
                  f"ε = {eps:.4g} and δ = {delta:.4g} in (0, 1), ε ≤ σ² (a fit with MSE ≤ σ² − ε = "
                  f"{sigma2 - eps:.4g} is possible)"),
    ]
    return tuple(out)


def robustness_bound(
    n: float,
    d: float,
    p: float,
    sigma: float,
    *,
    eps: float | None = None,
    delta: float = 0.01,
    c: float = 1.0,
    W: float = 1.0,
    J: float = 1.0,
    isoperimetric: bool | None = None,
    parameter_class: bool | None = None,
) -> RobustnessBound:
    """Theorem 3's Lipschitz lower bound, the informal sqrt(n d / p), and the theorem's conditions.

    Parameters
    ----------
    n : training points; d : (isoperimetric) input dimension; p : parameters.
    sigma : label noise standard deviation (σ² = E Var(y|x), labels in [-1, 1]).
    eps : the margin below the noise, train MSE ≤ σ² - ε (default σ²/2).
    delta : failure probability; c : isoperimetry constant; W, J : parameter diameter and
        parameter-Lipschitz constant of the model class.
    isoperimetric, parameter_class : what is known about the data and the model class (see
        :func:`theorem3_conditions`); None leaves them "assumed".

    Examples
    --------
    >>> b = robustness_bound(60_000, 784, 1e6, 1.0)
    >>> round(b.informal, 2), b.applies        # the informal number; Theorem 3 needs n ≥ 109,521 here
    (6.86, False)
    """
    sigma2 = float(sigma) ** 2
    eps = sigma2 / 2 if eps is None else float(eps)
    _check(n, d, p, sigma2, eps, delta, c, W, J)
    pref = eps / (2**9 * math.sqrt(c))
    logf = math.log(60 * W * J / eps)
    lip = pref * math.sqrt(n * d / (p * logf + math.log(4 / delta)))
    conds = theorem3_conditions(n, sigma2, eps, delta, c=c, W=W, J=J, isoperimetric=isoperimetric,
                                parameter_class=parameter_class)
    return RobustnessBound(
        float(n), float(d), float(p), sigma2, eps, float(delta), float(c), float(W), float(J),
        lip, math.sqrt(n * d / p), pref, logf, bool(SAMPLE_CONSTANT * math.log(8 / delta) <= n * eps**2),
        params_needed(n, d, 1.0, sigma, eps=eps, delta=delta, c=c, W=W, J=J),
        sample_size_needed(eps, delta), informal_params_needed(n, d, 1.0), conds,
    )


def params_needed(
    n: float,
    d: float,
    lip: float,
    sigma: float,
    *,
    eps: float | None = None,
    delta: float = 0.01,
    c: float = 1.0,
    W: float = 1.0,
    J: float = 1.0,
) -> float:
    """The p a fit with Lip(f) ≤ ``lip`` needs by Theorem 3: below it, the theorem forbids such a fit.

    Solves ε/(2⁹√c) · sqrt(n d / (p log(60WJ/ε) + log(4/δ))) = lip for p:
    p = (n d (ε / (2⁹ √c lip))² - log(4/δ)) / log(60 W J / ε). Returns 0.0 when that is
    negative: Theorem 3 then forbids Lip ≤ ``lip`` at no p (its bound is already below ``lip``
    at p = 0), so it asks for no minimum size. Say so in words when you print it.
    """
    sigma2 = float(sigma) ** 2
    eps = sigma2 / 2 if eps is None else float(eps)
    _check(n, d, None, sigma2, eps, delta, c, W, J)
    if not lip > 0:
        raise BoundError(f"target Lipschitz constant must be > 0, got {lip}")
    pref = eps / (2**9 * math.sqrt(c))
    p = (n * d * (pref / lip) ** 2 - math.log(4 / delta)) / math.log(60 * W * J / eps)
    return max(p, 0.0)


def informal_params_needed(n: float, d: float, lip: float) -> float:
    """The informal p ≈ n·d / Lip² at which sqrt(n d / p) = ``lip`` (C = 1, conjecture-level)."""
    if not (n >= 1 and d >= 1 and lip > 0):
        raise BoundError(f"need n, d ≥ 1 and lip > 0, got n={n}, d={d}, lip={lip}")
    return n * d / lip**2


# Intrinsic dimensions: Pope et al. 2021 (MLE, k = 3..20) and Bubeck & Sellke §1.1's assumptions.
_EXAMPLES = (
    # (data set, n, d label, d, observed robust-model size)
    ("MNIST", 6e4, "ambient 784", 784, 3.3e6),
    ("MNIST", 6e4, "BS assumption (low)", 15, 3.3e6),
    ("MNIST", 6e4, "BS assumption (high)", 150, 3.3e6),
    ("MNIST", 6e4, "intrinsic, Pope et al. MLE (low)", 7, 3.3e6),
    ("MNIST", 6e4, "intrinsic, Pope et al. MLE (high)", 13, 3.3e6),
    ("ImageNet", 1.4e7, "BS assumption: ~2e5 / 100", 2e3, 1e9),
    ("ImageNet", 1.4e7, "intrinsic, Pope et al. MLE (low)", 26, 1e9),
    ("ImageNet", 1.4e7, "intrinsic, Pope et al. MLE (high)", 43, 1e9),
)


def worked_examples(sigma: float = 1.0, measured_d: dict[str, float] | None = None) -> list[dict[str, float | str]]:
    """The talk's MNIST and ImageNet back-of-envelope numbers, with several choices of d.

    For each row: the informal p ≈ n·d needed for an O(1)-Lipschitz fit, Theorem 3's p for
    Lip = 1 (with its constants; 0.0 means it asks for none), whether Theorem 3's sample-size
    condition holds there, and the bound's value at the size of robust models actually
    trained (Madry et al.'s 3.3×10⁶-parameter MNIST net; ~10⁹ for ImageNet).

    Parameters
    ----------
    sigma : label noise standard deviation.
    measured_d : extra rows ``{"MNIST": d}`` / ``{"ImageNet": d}``, e.g. an intrinsic
        dimension measured with :class:`theorylab.geometry.dimension.IntrinsicDimension`.
    """
    rows = list(_EXAMPLES)
    size = {"MNIST": (6e4, 3.3e6), "ImageNet": (1.4e7, 1e9)}
    for name, d in (measured_d or {}).items():
        if name not in size:
            raise BoundError(f"measured_d keys must be MNIST or ImageNet, got {name!r}")
        rows.append((name, size[name][0], "measured", float(d), size[name][1]))
    out = []
    for name, n, label, d, p_obs in rows:
        b = robustness_bound(n, d, p_obs, sigma)
        out.append({
            "data": name, "n": n, "d_choice": label, "d": d, "p_informal_nd": n * d,
            "p_theorem3_lip1": b.p_for_lip1, "p_observed": p_obs,
            "lip_bound_at_observed_p": b.lip_lower, "informal_at_observed_p": b.informal,
            "condition_ok": b.condition_ok,
        })
    return out
