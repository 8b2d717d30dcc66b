"""Our intrinsic-dimension estimators vs scikit-dimension on the same data, in one run.

* MLE with a k sweep (Pope et al. 2021 use k = 3, 5, 10, 20): ours makes ONE nearest-neighbour
  query and evaluates every k vectorised; the peer calls ``skdim.id.MLE().fit(X, n_neighbors=k,
  comb="mle")`` once per k (a kNN query and a Python loop over points each time).
* TwoNN: ours runs skdim's own TwoNN fit (no re-implementation) on the two nearest-neighbour
  distances from one kNN query; the peer ``skdim.id.TwoNN().fit(X)`` sorts whole rows of the
  distance matrix when D > 25 (O(n² log n)).

Data: a 10-dimensional curved manifold (random cosine features) in 784 dimensions, the shape of
MNIST. Estimates must be equal; times are printed side by side for N up to 70,000.

    python benchmarks/dimension.py --quick    # N = 1,000 and 4,000 (< 60 s)
    python benchmarks/dimension.py            # N = 2,000 ... 70,000 (over an hour on a busy 2-core box)
    python benchmarks/dimension.py --sizes 70000 --ours-only
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import skdim

from theorylab.geometry.dimension import IntrinsicDimension

KS = (3, 5, 10, 20)


def manifold(n: int, d: int = 10, D: int = 784, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, d))
    B = rng.standard_normal((d, D)) / np.sqrt(d) * 0.5
    return np.cos(z @ B + rng.uniform(0, 2 * np.pi, D))


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small N only")
    ap.add_argument("--sizes", type=int, nargs="+", help="explicit list of N (overrides the mode)")
    ap.add_argument("--ours-only", action="store_true", help="skip the peer (for the largest N on a busy machine)")
    args = ap.parse_args()
    sizes = args.sizes or ((1_000, 4_000) if args.quick else (2_000, 5_000, 10_000, 20_000, 40_000, 70_000))
    print(f"data: 10-dim curved manifold in 784 dims; MLE k sweep {KS}; times in seconds")
    print(f"{'N':>7} | {'MLE ours':>9} {'MLE skdim':>9} {'ratio':>6} {'max|Δd|':>8} | "
          f"{'TwoNN ours':>10} {'TwoNN skdim':>11} {'ratio':>6} {'|Δd|':>8} | estimates (MLE k=20, TwoNN)")
    for n in sizes:
        X = manifold(n)
        ours, t_ours = timed(lambda X=X: IntrinsicDimension("mle", k=KS).fit(X))

        def peer(X=X):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return {k: skdim.id.MLE().fit(X, n_neighbors=k, comb="mle").dimension_ for k in KS}

        tw, t_tw = timed(lambda X=X: IntrinsicDimension("twonn").fit(X).dimension_)
        if args.ours_only:
            print(f"{n:>7} | {t_ours:>9.2f} {'-':>9} {'-':>6} {'-':>8} | {t_tw:>10.2f} {'-':>11} {'-':>6} {'-':>8} | "
                  f"{ours.dimension_k_[20]:.2f}, {tw:.2f}", flush=True)
            continue
        ref, t_ref = timed(peer)
        diff = max(abs(ours.dimension_k_[k] - ref[k]) for k in KS)
        tw_ref, t_tw_ref = timed(lambda X=X: skdim.id.TwoNN().fit(X).dimension_)
        print(f"{n:>7} | {t_ours:>9.2f} {t_ref:>9.2f} {t_ref / t_ours:>5.1f}x {diff:>8.1e} | "
              f"{t_tw:>10.2f} {t_tw_ref:>11.2f} {t_tw_ref / t_tw:>5.2f}x {abs(tw - tw_ref):>8.1e} | "
              f"{ours.dimension_k_[20]:.2f}, {tw:.2f}", flush=True)


if __name__ == "__main__":
    main()
