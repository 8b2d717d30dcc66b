"""Theorem 3 of Bubeck & Sellke (2021), "A Universal Law of Robustness via Isoperimetry".

NeurIPS 2021 (outstanding paper), arXiv 2105.12806. Inputs from a c-isoperimetric
distribution in dimension d (radius ≈ 1), labels in [-1, 1] with conditional variance σ²;
F = {f_w : w ∈ W ⊂ R^p} with diam(W) ≤ W and ‖f_w1 - f_w2‖_∞ ≤ J ‖w1 - w2‖. With
probability ≥ 1 - δ, every f ∈ F with training MSE ≤ σ² - ε satisfies

    Lip(f) ≥ ε / (2⁹ √c) · sqrt( n d / ( p log(60 W J / ε) + log(4/δ) ) ),

provided 8⁴ k log(8k/δ) ≤ n ε² (k = 1 isoperimetric component here). The informal reading
is Lip ≳ sqrt(n d / p): fitting noise smoothly needs p ≳ n d.

Conventions and departures: ε defaults to σ²/2 (the text leaves it free; the prefactor is
linear in ε and carries no other σ). W = J = 1 by default (polynomially bounded weights make
log(60 W J / ε) a logarithmic factor; pass your own). The result reports whether the sample-
size condition holds; when it does not, the theorem does not apply at that n.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from theorylab.errors import TheorylabError

__all__ = ["BoundError", "RobustnessBound", "params_needed", "robustness_bound", "worked_examples"]


class BoundError(TheorylabError, ValueError):
    """Parameters outside Theorem 3's domain."""


@dataclass(frozen=True)
class RobustnessBound:
    """Theorem 3 evaluated at one (n, d, p, σ², ε, δ, c, W, J).

    Attributes
    ----------
    lip_lower : Theorem 3's lower bound on Lip(f) (output units per input unit; radius-1 inputs).
    informal : sqrt(n d / p), the informal scaling without constants or logs.
    prefactor : ε / (2⁹ √c).
    log_factor : log(60 W J / ε).
    condition_ok : whether 8⁴ log(8/δ) ≤ n ε² holds (the theorem's sample-size condition).
    p_for_lip1 : the p at which the bound falls to Lip = 1 (with these n, d, ε, ...).
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

    def as_dict(self) -> dict[str, float | bool]:
        return asdict(self)


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
) -> RobustnessBound:
    """Theorem 3's Lipschitz lower bound.

    Parameters
    ----------
    n : training points; d : (isoperimetric) input dimension; p : parameters.
    sigma : label noise standard deviation (σ² = E Var(y|x), labels in [-1, 1]).
    eps : the margin below the noise, train MSE ≤ σ² - ε (default σ²/2).
    delta : failure probability; c : isoperimetry constant; W, J : parameter diameter and
        parameter-Lipschitz constant of the model class.

    Examples
    --------
    >>> b = robustness_bound(60_000, 784, 1e6, 1.0)
    >>> round(b.informal, 2)
    6.86
    """
    sigma2 = float(sigma) ** 2
    eps = sigma2 / 2 if eps is None else float(eps)
    _check(n, d, p, sigma2, eps, delta, c, W, J)
    pref = eps / (2**9 * math.sqrt(c))
    logf = math.log(60 * W * J / eps)
    lip = pref * math.sqrt(n * d / (p * logf + math.log(4 / delta)))
    return RobustnessBound(
        float(n), float(d), float(p), sigma2, eps, float(delta), float(c), float(W), float(J),
        lip, math.sqrt(n * d / p), pref, logf, bool(8**4 * math.log(8 / delta) <= n * eps**2),
        params_needed(n, d, 1.0, sigma, eps=eps, delta=delta, c=c, W=W, J=J),
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
    """Smallest p for which Theorem 3 still allows Lip(f) ≤ ``lip``.

    Solves ε/(2⁹√c) · sqrt(n d / (p log(60WJ/ε) + log(4/δ))) = lip for p:
    p = (n d (ε / (2⁹ √c lip))² - log(4/δ)) / log(60 W J / ε), and 0 when that is negative
    (the theorem then forbids nothing at this Lip).
    """
    sigma2 = float(sigma) ** 2
    eps = sigma2 / 2 if eps is None else float(eps)
    _check(n, d, None, sigma2, eps, delta, c, W, J)
    if not lip > 0:
        raise BoundError(f"target Lipschitz constant must be > 0, got {lip}")
    pref = eps / (2**9 * math.sqrt(c))
    p = (n * d * (pref / lip) ** 2 - math.log(4 / delta)) / math.log(60 * W * J / eps)
    return max(p, 0.0)


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
    Lip = 1 (with its constants), and the bound's value at the size of robust models actually
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
