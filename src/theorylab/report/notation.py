"""Plain-text math notation → HTML, offline: ``π^{d/2}`` → π<sup>d/2</sup>, ``x_i`` → x<sub>i</sub>.

Claims, checks and config descriptions are written in a light, LaTeX-like plain text
(``π^{d/2}/Γ(d/2+1)``, ``sqrt(n·d/p)``, ``Σ_{k<d}``, ``N(0, I_d)``, ``2^-iters``). The report
shows them typeset with HTML ``<sup>``, ``<sub>`` and an overlined radical, so a page needs no
script and no network to read. Text is HTML-escaped exactly once, here, before any tag is added;
text in backticks becomes ``<code>`` and is left as written.

What is recognised (anything else is left as it is):

* ``a^{...}`` and ``a_{...}`` (braces may nest), ``a^(...)`` (parentheses dropped);
* ``a^x``, ``a^-x``, ``a^2.5`` and ``a_i`` where the subscript is ONE letter or digit not followed
  by another word character (so identifiers such as ``rel_tolerance`` stay as they are);
* ``sqrt(...)`` and ``√(...)`` → √ over an overlined radicand; ``\\sqrt{...}``, ``\\frac{a}{b}``
  and a few common TeX macros (Greek letters, ``\\cdot``, ``\\le``, ``\\infty``, ...).
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

__all__ = ["render_notation"]

_TEX = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε",
    "zeta": "ζ", "eta": "η", "theta": "θ", "kappa": "κ", "lambda": "λ", "mu": "μ", "nu": "ν",
    "xi": "ξ", "pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ", "phi": "φ", "varphi": "φ",
    "chi": "χ", "psi": "ψ", "omega": "ω", "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ",
    "Lambda": "Λ", "Xi": "Ξ", "Pi": "Π", "Sigma": "Σ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
    "cdot": "·", "times": "×", "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥", "ne": "≠",
    "neq": "≠", "approx": "≈", "sim": "~", "infty": "∞", "to": "→", "in": "∈", "sum": "Σ",
    "prod": "Π", "partial": "∂", "nabla": "∇", "pm": "±", "ell": "ℓ", "log": "log", "exp": "exp",
}
_TEX_RE = re.compile(r"\\([A-Za-z]+)\b")
_CODE_RE = re.compile(r"`([^`]+)`")
# A braced group with up to three levels of nesting.
_BRACED = r"\{((?:[^{}]|\{(?:[^{}]|\{[^{}]*\})*\})*)\}"
_SCRIPT_BRACED = re.compile(r"([\^_])" + _BRACED)
_SUP_PAREN = re.compile(r"\^\(([^()]*(?:\([^()]*\)[^()]*)*)\)")
_SUP_TOKEN = re.compile(r"\^([-−+]?(?:∞|\w+(?:\.\d+)?))")
_SUB_TOKEN = re.compile(r"(?<=[^\W_]|[)\]|‖])_([^\W_])(?!\w)")
_FRAC = re.compile(r"\\frac" + _BRACED + _BRACED)
_TEX_SQRT = re.compile(r"\\sqrt" + _BRACED)


def _radicals(s: str) -> str:
    """``sqrt(x)`` / ``√(x)`` → √ with an overlined radicand (balanced parentheses)."""
    out, i = [], 0
    pat = re.compile(r"(?<![\w.])(?:sqrt|√)\(")
    while True:
        m = pat.search(s, i)
        if m is None:
            out.append(s[i:])
            return "".join(out)
        depth, j = 1, m.end()
        while j < len(s) and depth:
            depth += {"(": 1, ")": -1}.get(s[j], 0)
            j += 1
        if depth:  # unbalanced: leave the rest as written
            out.append(s[i:])
            return "".join(out)
        inner = _radicals(s[m.end() : j - 1])
        out.append(s[i : m.start()])
        out.append(f'<span class="radical">√<span class="radicand">{inner}</span></span>')
        i = j


def _group(g: str) -> str:
    """A fraction's numerator or denominator, parenthesized unless it is one token."""
    one = re.fullmatch(r"[\w.]+|<span class=\"radical\">√<span class=\"radicand\">[^<]*</span></span>", g)
    return g if one else f"({g})"


def _sup(content: str) -> str:
    if content[:1] == "-":
        content = "−" + content[1:]  # a true minus sign
    return f"<sup>{content}</sup>"


def _typeset(s: str) -> str:
    """Apply the notation rules to already-escaped text (no tags yet)."""
    s = _TEX_RE.sub(lambda m: _TEX.get(m.group(1), m.group(0)), s)
    s = _TEX_SQRT.sub(lambda m: f"sqrt({m.group(1)})", s)
    s = _radicals(s)
    s = _FRAC.sub(lambda m: f"{_group(m.group(1))}/{_group(m.group(2))}", s)
    while True:  # innermost braces first, so nested scripts work
        t = _SCRIPT_BRACED.sub(lambda m: _sup(m.group(2)) if m.group(1) == "^" else f"<sub>{m.group(2)}</sub>", s)
        if t == s:
            break
        s = t
    s = _SUP_PAREN.sub(lambda m: _sup(m.group(1)), s)
    s = _SUP_TOKEN.sub(lambda m: _sup(m.group(1)), s)
    return _SUB_TOKEN.sub(lambda m: f"<sub>{m.group(1)}</sub>", s)


def render_notation(text: object) -> Markup:
    """``text`` escaped once and typeset (see the module docstring); ``None`` → empty.

    Examples
    --------
    >>> str(render_notation("π^{d/2}/Γ(d/2+1) <b>"))
    'π<sup>d/2</sup>/Γ(d/2+1) &lt;b&gt;'
    >>> str(render_notation("x_i, but `rel_tolerance`"))
    'x<sub>i</sub>, but <code>rel_tolerance</code>'
    """
    if text is None:
        return Markup("")
    parts = _CODE_RE.split(str(text))  # odd indices: code spans
    out = []
    for i, part in enumerate(parts):
        esc = str(escape(part))
        out.append(f"<code>{esc}</code>" if i % 2 else _typeset(esc))
    return Markup("".join(out))
