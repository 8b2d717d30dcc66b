"""Benchmark: exact linear regions of ReLU networks (claim E) against dense pattern sampling.

Three measurements, printed as tables with ratios:

1. Exact 2-D partition (``partition_2d``) of a depth-3 × width-32 MLP over a slice through three
   digits training points holding thousands of regions: wall time (target ≤ 10 s on 2 cores)
   and regions per second, then regions per second against network size.
2. The same slice by the tool one would otherwise reach for: a dense grid of activation
   patterns (forward passes, count distinct patterns). Printed: its time, how many regions it
   finds, and the time ratio.
3. Exact segment walk (``regions_on_segments``) vs dense sampling of patterns on the segment at
   equal resolution (grid spacing = the shortest exact piece, so the grid can resolve every
   piece): time ratio and counts.

SplineCam (Humayun et al., CVPR 2023; AhmedImtiazPrio/splinecam) is the published exact 2-D
tool; it needs torch ≤ 1.12 and graph-tool 2.45 and targets a GPU, so it is not run here. Its
reported setting is printed beside ours (no regions/second figure has been published).

Usage: ``python benchmarks/regions.py [--quick]`` (``--quick`` finishes in well under a minute).
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import torch

from theorylab.data.datasets import load_digits
from theorylab.models.builders import mlp
from theorylab.probes.regions import (
    affine_program,
    partition_2d,
    patterns_on_grid,
    regions_on_segments,
)

SPLINECAM = (
    "SplineCam (Humayun et al., CVPR 2023): exact 2-D partitions + decision boundary; torch 1.9-1.12, "
    "graph-tool 2.45, float64, GPU-oriented; examples: 10-layer width-20 MLP (LeakyReLU, BatchNorm, "
    "input dim 10, square slice pad_dist=2) and a width-10 depth-5 MLP training video; reports "
    "elapsed minutes per partition, no published regions/second figure. Not run here."
)


def _slice(seed: int = 0):
    ds = load_digits(seed=0)
    rng = np.random.default_rng(seed)
    a, b, c = ds.X_train[rng.choice(len(ds.X_train), 3, replace=False)]
    return ds, a, b - a, c - a


def _time(fn, repeat: int = 1):
    best, out = math.inf, None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def bench_partition(quick: bool) -> None:
    ds, o, u, v = _slice()
    margin = 1.0 if quick else 2.0
    bounds = (-margin, 1 + margin, -margin, 1 + margin)
    net = mlp(ds.dim, [32, 32, 32], 10, seed=0, bias_std=0.1)
    partition_2d(mlp(ds.dim, [4], 2, seed=0), o, u, v, bounds)  # warm-up (first torch calls)
    t_exact, part = _time(lambda: partition_2d(net, o, u, v, bounds), repeat=1 if quick else 3)
    print("== 1. exact 2-D partition, depth 3 x width 32 (N = 96), digits slice through 3 training points")
    print(f"   box (s, t) in [{bounds[0]:g}, {bounds[1]:g}]^2 (triangle side 1); regions = {part.count} "
          f"(N^2/2! = 4608)")
    print(f"   wall time {t_exact:.3f} s  ->  {part.count / t_exact:,.0f} regions/s   "
          f"(target <= 10 s: {'met' if t_exact <= 10 else 'MISSED'})")
    # the dense grid a user would otherwise run: distinct patterns on an n x n grid
    n_grid = 400 if quick else 1500
    s = np.linspace(bounds[0], bounds[1], n_grid)
    ss, tt = np.meshgrid(s, s)
    st = np.stack([ss.ravel(), tt.ravel()], 1)
    prog = affine_program(net, (ds.dim,))

    def dense():
        seen = set()
        for i in range(0, len(st), 100_000):
            X = o[None] + st[i : i + 100_000, :1] * u[None] + st[i : i + 100_000, 1:] * v[None]
            P = np.packbits(patterns_on_grid(prog, X), axis=1)
            seen.update(map(bytes, P))
        return len(seen)

    t_dense, found = _time(dense)
    print(f"== 2. dense pattern grid {n_grid} x {n_grid} ({n_grid**2:,} forward passes): {t_dense:.2f} s, "
          f"finds {found} of {part.count} regions ({found / part.count:.1%}); "
          f"time ratio dense / exact = {t_dense / t_exact:.1f}x")
    print("   regions/s vs network size (same slice, bias std 0.1):")
    print(f"   {'widths':>14} {'N':>5} {'regions':>8} {'time s':>8} {'regions/s':>10}")
    sizes = [(16, 16), (32, 32, 32), (16, 16, 16, 16)] if quick else [
        (16, 16), (32, 32), (32, 32, 32), (64, 64), (48, 48, 48), (32, 32, 32, 32), (64, 64, 64)]
    for widths in sizes:
        net = mlp(ds.dim, list(widths), 10, seed=1, bias_std=0.1)
        t, p = _time(lambda net=net: partition_2d(net, o, u, v, bounds))
        print(f"   {list(widths)!s:>14} {sum(widths):>5} {p.count:>8} {t:>8.3f} {p.count / t:>10,.0f}")
    print(f"   peer: {SPLINECAM}")


def bench_segment(quick: bool) -> None:
    d = 784
    widths = [64, 64, 64] if quick else [128, 128, 128]
    n_seg = 2 if quick else 4
    net = mlp(d, widths, 10, seed=0, bias_std=1e-3)
    prog = affine_program(net, (d,))
    rng = np.random.default_rng(0)
    X0, X1 = rng.standard_normal((n_seg, d)), rng.standard_normal((n_seg, d))
    t_exact, res = _time(lambda: regions_on_segments(prog, X0, X1, keep_patterns=False))
    counts = [r.count for r in res]
    dmin = min(float(np.diff(r.edges).min()) for r in res)
    n_equal = math.ceil(1.0 / dmin) + 1  # grid spacing = the shortest exact piece
    cap = 100_000 if quick else 400_000
    n_dense = min(n_equal, cap)

    def dense():
        out = []
        t = np.linspace(0, 1, n_dense)
        for k in range(n_seg):
            prev, changes = None, 0
            for i in range(0, n_dense, 50_000):
                X = X0[k][None] + t[i : i + 50_000, None] * (X1[k] - X0[k])[None]
                P = patterns_on_grid(prog, X)
                if prev is not None:
                    changes += int((P[0] != prev).any())
                changes += int((P[1:] != P[:-1]).any(axis=1).sum())
                prev = P[-1]
            out.append(changes + 1)
        return out

    t_dense, dense_counts = _time(dense)
    scaled = t_dense * n_equal / n_dense
    print(f"== 3. segment walk, He init, bias std 1e-3, d = {d}, widths {widths} (N = {sum(widths)}), "
          f"{n_seg} random segments")
    print(f"   exact walk: {t_exact:.3f} s, mean regions {np.mean(counts):.1f} "
          f"({np.mean(counts) / sum(widths):.3f} per neuron), shortest piece {dmin:.2e} of the segment")
    note = "" if n_dense == n_equal else f" (capped at {n_dense:,}; time scaled to {n_equal:,} points)"
    print(f"   dense sampling at equal resolution: {n_equal:,} points per segment{note}: {t_dense:.2f} s, "
          f"mean regions {np.mean(dense_counts):.1f}")
    print(f"   time ratio dense / exact = {scaled / t_exact:.0f}x")
    if quick:
        return
    n_dense = 200_001  # the grid of the reference's sanity table (A3)
    t_a3, a3_counts = _time(dense)
    print(f"   dense at the reference's 200,001 points: {t_a3:.2f} s ({t_a3 / t_exact:.0f}x the exact walk), "
          f"mean regions {np.mean(a3_counts):.1f} vs exact {np.mean(counts):.1f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, < 60 s")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads (default 1: the walk's small products lose badly to oversubscription "
                         "on a shared 2-core machine)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch threads: {torch.get_num_threads()}; float64 probes")
    t = time.perf_counter()
    bench_partition(args.quick)
    bench_segment(args.quick)
    print(f"total {time.perf_counter() - t:.1f} s")


if __name__ == "__main__":
    main()
