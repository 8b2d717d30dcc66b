"""``theorylab.diagnose`` at MNIST scale: N = 60,000 × 784 training points, 10,000 queries, an MLP.

The bar (issue 11): the whole report — hull, ellipsoid, box, kNN percentiles and intrinsic
dimension in the input and in every block's output, PyOD's KNN, LOF, IForest and ECOD in the same
spaces, the model's Jacobians, local complexity, Lipschitz bracket and 2-D slice, the AUROC table
with its bootstrap — in minutes on two cores. Prints the wall time per stage, the total, and the
peak resident memory of the process (``ru_maxrss``, which counts numpy and torch buffers alike).

Data: synthetic and MNIST-shaped (no download): ten classes as Gaussian clusters in a 12-dim
latent space, pushed through a random sigmoid map to 28×28 "pixels" in [0, 1], 5% pixel noise,
and the dark background of real digits (values below 0.25 set to 0). Where an exact method
cannot scale the report says what it sampled (see its "What was sampled" section).

    python benchmarks/diagnose.py                    # the bar: 60k × 784, 10k queries, 2 threads
    python benchmarks/diagnose.py --quick            # 6k × 784, 1k queries (< 1 min)
    python benchmarks/diagnose.py --model cnn        # a small 2-D CNN instead of the MLP
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time

import numpy as np


def mnist_shaped(n: int, m: int, seed: int = 0) -> tuple[np.ndarray, ...]:
    """(X_train, y_train, X_query, y_query): MNIST-shaped synthetic digits (see module docstring)."""
    rng = np.random.default_rng(seed)
    k, d = 12, 784
    centres = rng.normal(0.0, 1.6, (10, k))
    W = rng.normal(0.0, 3.0 / np.sqrt(k), (d, k))
    b = rng.normal(-1.0, 0.5, d)

    def draw(count: int) -> tuple[np.ndarray, np.ndarray]:
        y = rng.integers(0, 10, count)
        z = centres[y] + rng.normal(size=(count, k))
        x = 1.0 / (1.0 + np.exp(-(z @ W.T + b))) + 0.05 * rng.normal(size=(count, d))
        x = np.clip(x, 0.0, 1.0)
        x[x < 0.25] = 0.0
        return x, y

    Xtr, ytr = draw(n)
    Xq, yq = draw(m)
    return Xtr, ytr, Xq, yq


def peak_rss_mb() -> float:
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return kb / 1024.0 if sys.platform != "darwin" else kb / 2**20


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=60_000, help="training points")
    ap.add_argument("--m", type=int, default=10_000, help="queries")
    ap.add_argument("--quick", action="store_true", help="6,000 training points, 1,000 queries")
    ap.add_argument("--model", choices=("mlp", "cnn"), default="mlp")
    ap.add_argument("--threads", type=int, default=2, help="BLAS and torch threads (the bar: 2)")
    ap.add_argument("--steps", type=int, default=800, help="training steps of the model (batch 256)")
    ap.add_argument("--report", default=None, help="also write the HTML report here")
    args = ap.parse_args()
    if args.quick:
        args.n, args.m = 6000, 1000

    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    import torch
    from threadpoolctl import threadpool_limits

    import theorylab
    from theorylab.models import cnn2d, mlp, train

    torch.set_num_threads(args.threads)
    with threadpool_limits(args.threads):
        t0 = time.perf_counter()
        Xtr, ytr, Xq, yq = mnist_shaped(args.n, args.m)
        if args.model == "mlp":
            net, shape = mlp(784, (256, 128), 10, seed=0), None
        else:
            net, shape = cnn2d(28, 10, channels=(8, 16), hidden=64, seed=0), (1, 28, 28)
        Xt = torch.as_tensor(Xtr, dtype=torch.float32)
        train(net, Xt if shape is None else Xt.reshape(-1, *shape), torch.as_tensor(ytr), steps=args.steps,
              batch_size=256, lr=2e-3, seed=0)
        t_train = time.perf_counter() - t0
        rss0 = peak_rss_mb()
        print(f"data + training: {t_train:.1f} s; peak RSS so far {rss0:,.0f} MB", flush=True)
        t1 = time.perf_counter()
        d = theorylab.diagnose(Xtr, Xq, net, y_train=ytr, y_query=yq, input_shape=shape, progress=True,
                               report=args.report)
        wall = time.perf_counter() - t1
    rss = peak_rss_mb()
    s = d.summary
    print(f"\ntheorylab.diagnose: N = {args.n:,} × 784, {args.m:,} queries, {args.model} "
          f"({s['model.parameters']:,} parameters), {args.threads} threads")
    print(f"  wall time {wall:.1f} s ({wall / 60:.2f} min); peak RSS {rss:,.0f} MB (before diagnose: {rss0:,.0f} MB)")
    print(f"  query accuracy {s['model.query_accuracy']:.4f}; hull on {s['hull_queries']:,} queries")
    slow = sorted(d.timings.items(), key=lambda kv: -kv[1])[:8]
    print("  slowest stages: " + ", ".join(f"{k} {v:.1f} s" for k, v in slow))
    print(d.spaces[["space", "dim", "affine_dim", "n_train", "hull_queries"]].to_string(index=False))
    if d.auroc is not None:
        a = d.auroc.sort_values("auroc", ascending=False)
        print(a[["score", "space", "family", "auroc", "lo", "hi"]].head(12).to_string(index=False))
    if d.comparison is not None:
        c = d.comparison
        print(f"  geometry vs PyOD: {c.status}, ΔAUROC {c.estimate:.4f} {c.interval}")
    for n in d.notes:
        print(f"  note: {n}")


if __name__ == "__main__":
    main()
