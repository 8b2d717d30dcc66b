"""Gradient-norm Lipschitz lower bound over many inputs: batched torch.func vs a per-sample loop.

The peer is what a user writes without torch.func: one autograd call per input. Both compute
max_i ‖∇ₓ f(x_i)‖₂ for f = logit margin z_0 − z_1 of a 3-layer MLP (784 → 256 → 256 → 10);
the values must agree, and the ratio of times is printed (target ≥ 10×).

    python benchmarks/lipschitz.py            # 10,000 inputs
    python benchmarks/lipschitz.py --quick    # 1,000 inputs
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from theorylab.models import mlp
from theorylab.probes.lipschitz import gradient_norms


def per_sample_loop(model: torch.nn.Module, X: torch.Tensor) -> np.ndarray:
    out = np.empty(len(X))
    for i in range(len(X)):
        x = X[i : i + 1].clone().requires_grad_(True)
        z = model(x)
        (g,) = torch.autograd.grad(z[0, 0] - z[0, 1], x)
        out[i] = float(g.norm())
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1,000 inputs instead of 10,000")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    n = 1_000 if args.quick else 10_000
    model = mlp(784, [256, 256], 10, seed=0).eval()
    X = torch.randn(n, 784, generator=torch.Generator().manual_seed(0)) / 28.0
    gradient_norms(model, X[:8], output=(0, 1))  # warm-up: torch.func builds its batching rules once

    t = time.perf_counter()
    ours = gradient_norms(model, X, output=(0, 1))
    t_ours = time.perf_counter() - t
    t = time.perf_counter()
    ref = per_sample_loop(model, X)
    t_loop = time.perf_counter() - t
    err = float(np.max(np.abs(ours - ref)) / ref.max())  # float32: batched vs single matmul rounding
    print(f"inputs: {n}, model: 784-256-256-10 MLP, f = z0 - z1, threads: {args.threads}")
    print(f"max grad norm: torch.func {ours.max():.6f} | loop {ref.max():.6f} | max abs diff / max {err:.2e}")
    print(f"time: torch.func vmap(grad) {t_ours:.3f} s | per-sample autograd loop {t_loop:.3f} s")
    print(f"speed-up: {t_loop / t_ours:.1f}x (target >= 10x)")


if __name__ == "__main__":
    main()
