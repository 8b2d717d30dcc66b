"""Empirical NTK of an MLP on 512 inputs: torch.func (two methods) vs a per-sample-gradient loop.

The peer is what a user writes without torch.func: one autograd call per (input, output), the
Jacobian rows stacked, then contracted. All three compute the trace kernel Σ_a Θ_aa (N, N) — or
with ``--form full`` the whole (N, N, O, O) — of a 64 → 256 → 256 → 10 MLP (≈ 85k parameters,
float32); they must agree, and the ratio of times and each method's peak memory (resident-set
growth in a fresh process) are printed. Then the analytic ReLU NTK (depth 2) on 5,000 points.
The contraction (N²·O·P multiply-adds for the trace, N²·O²·P for the full kernel) is shared by
the Jacobian method and the loop, so their ratio measures the per-example Jacobians; ntk_vp
trades memory for N²·O forward/backward passes.

    python benchmarks/ntk.py                 # 512 inputs, trace form
    python benchmarks/ntk.py --quick         # 128 inputs
    python benchmarks/ntk.py --form full     # the full (N, N, 10, 10) kernel
    python benchmarks/ntk.py --methods jacobian   # skip ntk_vp (slow on CPU: ~16× the quick run's)
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import time

import numpy as np


def _setup(n: int):
    import torch

    from theorylab.models import mlp

    torch.set_num_threads(1)
    model = mlp(64, [256, 256], 10, seed=0).eval()
    X = torch.randn(n, 64, generator=torch.Generator().manual_seed(0)) / 8.0
    return model, X


def per_sample_loop(model, X, form):
    import torch

    params = [p for p in model.parameters() if p.requires_grad]
    rows = []
    for i in range(len(X)):
        out = model(X[i : i + 1])[0]
        for a in range(out.numel()):
            grads = torch.autograd.grad(out[a], params, retain_graph=a + 1 < out.numel())
            rows.append(torch.cat([g.reshape(-1) for g in grads]))
    J = torch.stack(rows).reshape(len(X), -1, rows[0].numel())
    return torch.einsum("naf,mbf->nmab" if form == "full" else "naf,maf->nm", J, J)


def _worker(method: str, n: int, form: str, queue) -> None:
    from theorylab.probes.ntk import empirical_ntk

    model, X = _setup(n)
    if method != "loop":
        empirical_ntk(model, X[:4], method=method, form=form)  # warm-up: torch.func builds its batching rules once
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    t = time.perf_counter()
    K = per_sample_loop(model, X, form) if method == "loop" else empirical_ntk(model, X, method=method, form=form)
    elapsed = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base
    K = K.reshape(len(X), len(X), -1)[:, :, 0] if form == "full" else K
    queue.put((method, elapsed, peak / 1024, K.numpy().copy(), float(K.abs().max())))


def run_isolated(method: str, n: int, form: str):
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_worker, args=(method, n, form, q))
    p.start()
    out = q.get()
    p.join()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="128 inputs instead of 512")
    ap.add_argument("--form", choices=("trace", "full"), default="trace", help="kernel form (default trace)")
    ap.add_argument("--methods", default="jacobian,ntk_vp,loop",
                    help="comma-separated subset of jacobian, ntk_vp, loop (loop is the reference)")
    args = ap.parse_args()
    n = 128 if args.quick else 512
    methods = [m for m in ("jacobian", "ntk_vp") if m in args.methods.split(",")] + ["loop"]
    res = {m: run_isolated(m, n, args.form) for m in methods}
    ref = res["loop"][3]
    shape = f"({n}, {n}, 10, 10)" if args.form == "full" else f"({n}, {n})"
    print(f"inputs: {n}, model: 64-256-256-10 MLP (float32), {args.form} kernel {shape}, 1 thread")
    for m in methods:
        _, t, mem, K, kmax = res[m]
        err = float(np.abs(K - ref).max() / np.abs(ref).max())
        print(f"  {m:9s} time {t:8.3f} s | peak memory +{mem:7.1f} MiB | max |Θ| {kmax:.4f} | "
              f"max diff to loop / max {err:.1e}")
    t_loop = res["loop"][1]
    print("speed-up vs per-sample loop: " + ", ".join(f"{m} {t_loop / res[m][1]:.2f}x" for m in methods[:-1]))

    from theorylab.probes.ntk import relu_kernels

    Z = np.random.default_rng(0).standard_normal((5000, 64))
    t = time.perf_counter()
    k = relu_kernels(Z, depth=2, weight_std=np.sqrt(2))
    print(f"analytic ReLU NTK + NNGP, depth 2, 5,000 × 5,000 points: {time.perf_counter() - t:.2f} s "
          f"(Θ mean diagonal {np.diag(k.ntk).mean():.3f})")


if __name__ == "__main__":
    main()
