"""Linear models trained by gradient descent, and the convex solutions they are compared with.

Pure NumPy on arrays (cvxpy and scikit-learn are imported inside the functions that use them):

* deep linear factorizations — :func:`complete_by_factorization` (matrix completion by gradient
  descent on W = W_N ⋯ W_1, Arora, Cohen, Hu & Luo 2019) against the convex relaxation
  :func:`complete_by_nuclear_norm`;
* over-parameterized ℓp regression — :func:`overparameterized_gd` (w = (a_1 ⋯ a_{N−1})·v,
  Arora, Cohen & Hazan 2018), with the loss :func:`lp_loss` and its minimum :func:`lp_minimum`;
* logistic regression on separable data — :func:`logistic_gd` against the hard-margin SVM
  direction :func:`max_margin_direction` (Soudry, Hoffer, Nacson, Gunasekar & Srebro 2018).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = [
    "complete_by_factorization",
    "complete_by_nuclear_norm",
    "logistic_gd",
    "lp_grad",
    "lp_loss",
    "lp_minimum",
    "max_margin_direction",
    "overparameterized_gd",
]


# -- matrix completion ---------------------------------------------------------------------------
def complete_by_nuclear_norm(target: np.ndarray, mask: np.ndarray, *, eps: float = 1e-7,
                             max_iters: int = 50_000) -> np.ndarray:
    """argmin ‖X‖_* subject to X_ij = target_ij on the observed entries (cvxpy + SCS).

    Parameters
    ----------
    target : (n, m) matrix whose observed entries are kept.
    mask : (n, m) bool, True where an entry is observed.
    eps : SCS absolute and relative tolerance; max_iters : SCS iteration cap.

    Returns
    -------
    (n, m) float64, the minimum-nuclear-norm completion.

    References
    ----------
    The convex baseline of Arora, Cohen, Hu & Luo 2019, "Implicit Regularization in Deep Matrix
    Factorization", NeurIPS (arXiv 1905.13655); Gunasekar et al. 2017 conjectured that depth-2
    factorization from a small init finds this solution.
    """
    import cvxpy as cp

    X = cp.Variable(target.shape)
    M = mask.astype(float)
    problem = cp.Problem(cp.Minimize(cp.normNuc(X)), [cp.multiply(M, X) == M * target])
    problem.solve(solver="SCS", eps_abs=eps, eps_rel=eps, max_iters=max_iters)
    if X.value is None:
        raise RuntimeError(f"nuclear-norm minimization failed: {problem.status}")
    return np.asarray(X.value, dtype=float)


def _scaled_factors(n: int, depth: int, init_scale: float, rng: np.random.Generator) -> list[np.ndarray]:
    """Depth i.i.d. Gaussian n×n factors, rescaled alike so that their product has RMS entry ``init_scale``."""
    F = [rng.standard_normal((n, n)) for _ in range(depth)]
    P = F[0]
    for f in F[1:]:
        P = f @ P
    c = (init_scale / math.sqrt(float(np.mean(P**2)))) ** (1.0 / depth)
    return [f * c for f in F]


def _factor_gradients(F: list[np.ndarray], prefix: list[np.ndarray], G: np.ndarray) -> list[np.ndarray]:
    """∂/∂W_j of ½‖G‖² through W = W_N ⋯ W_1: (W_N ⋯ W_{j+1})ᵀ G (W_{j−1} ⋯ W_1)ᵀ.

    ``prefix[j]`` is W_{j+1} ⋯ W_1 (0-based); G is the residual on the observed entries.
    """
    depth = len(F)
    grads: list[np.ndarray] = [None] * depth  # type: ignore[list-item]
    suffix = None  # W_N ⋯ W_{j+1}
    for j in range(depth - 1, -1, -1):
        left = G if suffix is None else suffix.T @ G
        grads[j] = left if j == 0 else left @ prefix[j - 1].T
        suffix = F[j] if suffix is None else suffix @ F[j]
    return grads


def _factor_step(W: np.ndarray, v: np.ndarray, F: list[np.ndarray], grads: list[np.ndarray],
                 lr_factor: float, max_rel_step: float) -> tuple[float, np.ndarray]:
    """(step size, updated power-iteration vector): the smaller of the curvature bound
    lr_factor / (N·‖W‖₂^{2−2/N}) and the bound ``max_rel_step`` on the factors' relative motion."""
    depth = len(F)
    # ‖W‖₂ by one warm-started power iteration per step
    v = W.T @ (W @ v)
    nv = np.linalg.norm(v)
    v = v / nv if nv > 0 else v
    s_max = float(np.linalg.norm(W @ v))
    eta = lr_factor / (depth * max(s_max, 1e-12) ** (2.0 - 2.0 / depth))
    if depth > 1:
        g_norm = math.sqrt(sum(float(np.sum(g * g)) for g in grads))
        f_norm = math.sqrt(sum(float(np.sum(f * f)) for f in F))
        if g_norm > 0:
            eta = min(eta, max_rel_step * f_norm / g_norm)
    return eta, v


def complete_by_factorization(target: np.ndarray, mask: np.ndarray, depth: int, init_scale: float,
                              rng: np.random.Generator, *, tol: float, max_steps: int,
                              lr_factor: float = 0.5, max_rel_step: float = 0.02) -> dict[str, Any]:
    """Gradient descent on W = W_N ⋯ W_1 (square n×n factors) for ½ Σ_observed (W − W*)².

    One scalar step size per iteration: the smaller of a curvature bound
    (lr_factor / (N·‖W‖₂^{2−2/N}), the end-to-end flow's stability limit) and a bound on the
    relative motion of the factors (``max_rel_step``, which matters near the saddle at the
    origin). A scalar step rescales time and keeps the gradient direction, so the path is the
    gradient-flow path.

    Parameters
    ----------
    target : (n, n) matrix W*; mask : (n, n) bool, True on the observed entries.
    depth : number of factors N (1: plain gradient descent on W).
    init_scale : RMS entry of the end-to-end matrix at init (i.i.d. Gaussian factors rescaled).
    rng : draws the initial factors and the power-iteration start.
    tol : stop when the training MSE on the observed entries is below this.
    max_steps : most gradient steps.

    Returns
    -------
    dict with ``W`` (the final end-to-end matrix), ``train_mse``, ``steps`` and ``converged``
    (whether the MSE fell below ``tol``).

    References
    ----------
    Arora, Cohen, Hu & Luo 2019, "Implicit Regularization in Deep Matrix Factorization",
    NeurIPS, arXiv 1905.13655, §4.
    """
    n = target.shape[0]
    m = int(mask.sum())
    M = mask.astype(np.float64)
    T = target * M
    F = _scaled_factors(n, depth, init_scale, rng)
    v = rng.standard_normal(n)
    v /= np.linalg.norm(v)
    mse = math.inf
    step = 0
    for step in range(max_steps + 1):
        prefix = [F[0]]
        for f in F[1:]:
            prefix.append(f @ prefix[-1])
        W = prefix[-1]
        G = W * M - T
        mse = float(np.sum(G * G)) / m
        if mse < tol or not math.isfinite(mse) or step == max_steps:
            break
        grads = _factor_gradients(F, prefix, G)
        eta, v = _factor_step(W, v, F, grads, lr_factor, max_rel_step)
        for j in range(depth):
            F[j] -= eta * grads[j]
    return {"W": W, "train_mse": mse, "steps": step, "converged": bool(mse < tol)}


# -- over-parameterized ℓp regression ------------------------------------------------------------
def lp_loss(W: np.ndarray, X: np.ndarray, y: np.ndarray, p: int) -> np.ndarray:
    """(1/p)·mean |Xw − y|^p for each row w of W (…, d); X (n, d), y (n,)."""
    R = W @ X.T - y
    return np.mean(np.abs(R) ** p, axis=-1) / p


def lp_grad(W: np.ndarray, X: np.ndarray, y: np.ndarray, p: int) -> np.ndarray:
    """Gradient of :func:`lp_loss` for each row w of W (…, d)."""
    R = W @ X.T - y
    return (np.abs(R) ** (p - 2) * R) @ X / len(y)


def lp_minimum(X: np.ndarray, y: np.ndarray, p: int) -> float:
    """min_w (1/p)·mean |Xw − y|^p by Newton's method from least squares (convex for p ≥ 2).

    The floor against which the excess loss of Arora, Cohen & Hazan 2018 (§8, ℓ4 regression)
    is measured.
    """
    w = np.linalg.lstsq(X, y, rcond=None)[0]
    if p == 2:
        return float(lp_loss(w[None], X, y, p)[0])
    for _ in range(100):
        r = X @ w - y
        H = (X * ((p - 1) * np.abs(r) ** (p - 2))[:, None]).T @ X / len(y)
        dw = np.linalg.solve(H + 1e-14 * np.eye(len(w)), lp_grad(w[None], X, y, p)[0])
        w = w - dw
        if np.linalg.norm(dw) < 1e-14 * max(1.0, np.linalg.norm(w)):
            break
    return float(lp_loss(w[None], X, y, p)[0])


def overparameterized_gd(w0: np.ndarray, X: np.ndarray, y: np.ndarray, p: int, depth: int,
                         lrs: np.ndarray, steps: int, record_every: int) -> tuple[np.ndarray, np.ndarray]:
    """GD on w = (a_1 ⋯ a_{N−1})·v for every learning rate in ``lrs`` at once (depth 1: on w).

    Parameters
    ----------
    w0 : (d,) end-to-end start; X : (n, d), y : (n,); p : the loss exponent of :func:`lp_loss`.
    depth : N (N − 1 extra scalars); lrs : (B,) learning rates run side by side.
    steps : gradient steps; record_every : the loss is recorded every this many steps (and at the end).

    Returns
    -------
    final : (B,) loss after ``steps`` per learning rate (inf where it diverged);
    curve : (records, B) loss curves.

    References
    ----------
    Arora, Cohen & Hazan 2018, "On the Optimization of Deep Networks: Implicit Acceleration by
    Overparameterization", ICML, arXiv 1802.06509, §5 (balanced start: a_i = ‖w0‖^{1/N},
    v = w0/‖w0‖^{(N−1)/N}) and §8.
    """
    B = len(lrs)
    eta = lrs[:, None]
    norm = float(np.linalg.norm(w0))
    v = np.tile(w0 / norm ** ((depth - 1) / depth), (B, 1))
    a = np.full((B, depth - 1), norm ** (1.0 / depth))
    curve = []
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(steps + 1):
            scale = np.prod(a, axis=1, keepdims=True) if depth > 1 else np.ones((B, 1))
            w = scale * v
            if t % record_every == 0 or t == steps:
                curve.append(lp_loss(w, X, y, p))
            if t == steps:
                break
            g = lp_grad(w, X, y, p)
            gv = np.sum(g * v, axis=1, keepdims=True)  # ∂L/∂(∏a) = g·v
            new_v = v - eta * scale * g
            if depth > 1:
                others = scale / np.where(a == 0, 1.0, a)  # ∏_{k≠i} a_k
                a = a - eta * others * gv
            v = new_v
    final = curve[-1]
    final = np.where(np.isfinite(final), final, np.inf)
    return final, np.asarray(curve)


# -- logistic regression on separable data -------------------------------------------------------
def max_margin_direction(X: np.ndarray, y: np.ndarray, C: float = 1e4) -> np.ndarray:
    """The hard-margin SVM without intercept, from scikit-learn (the oracle): ŵ with margin 1.

    ``LinearSVC(loss="hinge", fit_intercept=False)`` with a large ``C``; the predictor of
    Soudry et al. 2018 (Theorem 3) is homogeneous, hence no intercept.

    Parameters
    ----------
    X : (n, d) points; y : (n,) labels in {−1, +1}; C : SVC penalty (large: hard margin).

    Returns
    -------
    (d,) ŵ = argmin ‖w‖² s.t. y_n wᵀx_n ≥ 1.
    """
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.svm import LinearSVC

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        svc = LinearSVC(loss="hinge", C=C, fit_intercept=False, dual=True, tol=1e-12, max_iter=1_000_000,
                        random_state=0)
        svc.fit(X, y)
    return svc.coef_.ravel().astype(float)


def logistic_gd(X: np.ndarray, y: np.ndarray, eta: float, steps: int,
                record_at: np.ndarray) -> list[tuple[int, np.ndarray, float]]:
    """Full-batch GD from w = 0 on L(w) = Σ_n log(1 + exp(−y_n wᵀx_n)).

    Parameters
    ----------
    X : (n, d) points; y : (n,) labels in {−1, +1}; eta : step size (Soudry et al.'s theorem
        needs η < 2β⁻¹σ_max⁻²(X), β = 1/4 for the logistic loss).
    steps : gradient steps T; record_at : steps at which the iterate is returned.

    Returns
    -------
    list of (t, w_t, L(w_t)) at the steps of ``record_at``.

    References
    ----------
    Soudry, Hoffer, Nacson, Gunasekar & Srebro 2018, "The Implicit Bias of Gradient Descent on
    Separable Data", ICLR / JMLR 19(70), Theorem 3.
    """
    Z = X * y[:, None]
    w = np.zeros(X.shape[1])
    marks = set(int(t) for t in record_at)
    out = []
    for t in range(1, steps + 1):
        m = Z @ w
        w = w + eta * (Z.T @ np.exp(-np.logaddexp(0.0, m)))  # −ℓ'(m) = σ(−m), stable for large m
        if t in marks:
            out.append((t, w.copy(), float(np.logaddexp(0.0, -(Z @ w)).sum())))
    return out
