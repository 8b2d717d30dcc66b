"""Convex-hull membership: theorylab.geometry.in_hull vs one HiGHS LP per query.

What a user would otherwise run (shared/references/interpolation.md §3): one
``scipy.optimize.linprog(c=0, A_eq=[Xᵀ; 1ᵀ], b_eq=[q; 1], bounds=(0, None), method="highs")``
per query, or one ``highspy`` model whose right-hand side changes per query (warm-started
dual simplex). All in this process, on Gaussian data, printing time per query, the speed-up
ratio and the agreement of verdicts.

    python benchmarks/hull.py            # the performance bar (several minutes: the LP is slow)
    python benchmarks/hull.py --quick    # < 60 s

The bar: N = 10,000, d = 64, 200 queries ≥ 100× faster than per-query HiGHS with 100%
identical verdicts; N = 60,000, d = 64 and 784, 1,000 queries in under 60 s.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
import time

import highspy
import numpy as np
from scipy.optimize import linprog

from theorylab.geometry import in_hull

_A: np.ndarray | None = None  # the LP matrix, shared with forked workers
_Q: np.ndarray | None = None


def _lp_status(i: int) -> int:
    res = linprog(np.zeros(_A.shape[1]), A_eq=_A, b_eq=np.append(_Q[i], 1.0), bounds=(0, None),
                  method="highs")
    return int(res.status)


def linprog_verdicts(X: np.ndarray, Q: np.ndarray, timeout_s: float = 120.0) -> tuple[np.ndarray, int, int]:
    """One ``linprog(method="highs")`` per query, each in a worker killed after ``timeout_s``.

    HiGHS's simplex can end undecided (status 4) or, rarely, run far past its own time limit
    on these feasibility LPs (one query of bar 1 ran > 3 min); such queries are re-solved with
    ``method="highs-ipm"`` and counted. Returns (verdicts, hung, undecided).
    """
    global _A, _Q
    _A, _Q = np.vstack([X.T, np.ones((1, len(X)))]), Q
    ctx = mp.get_context("fork")
    pool = ctx.Pool(1)
    out = np.zeros(len(Q), bool)
    hung = undecided = 0
    try:
        for i in range(len(Q)):
            job = pool.apply_async(_lp_status, (i,))
            try:
                status: int | None = job.get(timeout_s)
            except mp.TimeoutError:
                pool.terminate()
                pool = ctx.Pool(1)
                hung += 1
                status = None
            if status not in (0, 2):
                undecided += status is not None
                status = linprog(np.zeros(_A.shape[1]), A_eq=_A, b_eq=np.append(Q[i], 1.0),
                                 bounds=(0, None), method="highs-ipm").status
            out[i] = status == 0
    finally:
        pool.terminate()
    return out, hung, undecided


def highspy_verdicts(X: np.ndarray, Q: np.ndarray) -> np.ndarray:
    """One HiGHS model for all queries; only the equality right-hand side changes (warm start)."""
    n, d = X.shape
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n, d + 1
    lp.col_cost_ = np.zeros(n)
    lp.col_lower_ = np.zeros(n)
    lp.col_upper_ = np.full(n, highspy.kHighsInf)
    b = np.append(Q[0], 1.0)
    lp.row_lower_, lp.row_upper_ = b, b
    A = np.vstack([X.T, np.ones((1, n))])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.arange(0, (d + 1) * n + 1, d + 1, dtype=np.int32)
    lp.a_matrix_.index_ = np.tile(np.arange(d + 1, dtype=np.int32), n)
    lp.a_matrix_.value_ = A.T.ravel()
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = n, d + 1
    h.passModel(lp)
    rows = np.arange(d + 1, dtype=np.int32)
    out = np.zeros(len(Q), bool)
    stalled = 0
    for i, q in enumerate(Q):
        b = np.append(q, 1.0)
        h.changeRowsBounds(d + 1, rows, b, b)
        # HiGHS's time limit is on a cumulative clock: allow 30 s for this solve
        h.setOptionValue("time_limit", h.getRunTime() + 30.0)
        h.run()
        status = h.getModelStatus()
        if status == highspy.HighsModelStatus.kUnboundedOrInfeasible:
            status = highspy.HighsModelStatus.kInfeasible  # cost 0: the LP cannot be unbounded
        if status not in (highspy.HighsModelStatus.kOptimal, highspy.HighsModelStatus.kInfeasible):
            print(f"    (highspy: warm solve ended with {status}; re-solved cold)", flush=True)
            stalled += 1  # a stalled warm start: re-solve this query from scratch, no limit
            h.setOptionValue("time_limit", highspy.kHighsInf)
            h.clearSolver()
            h.run()
            status = h.getModelStatus()
        out[i] = status == highspy.HighsModelStatus.kOptimal
    if stalled:
        print(f"    (highspy: {stalled} warm solves did not finish cleanly and were re-solved cold)", flush=True)
    return out


def timed(f, *a, **k):
    t = time.perf_counter()
    out = f(*a, **k)
    return out, time.perf_counter() - t


def data(kind: str, n: int, d: int, m: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    if kind == "gaussian":  # BPL's setting: queries from the training law
        return rng.standard_normal((n, d)), rng.standard_normal((m, d))
    if kind == "shrunk":  # queries scaled ×0.5: many inside, the solver path matters
        return rng.standard_normal((n, d)), 0.5 * rng.standard_normal((m, d))
    if kind == "degenerate":  # 8-dim affine subspace of R^d; half the queries on it
        B = rng.standard_normal((8, d))
        X = rng.standard_normal((n, 8)) @ B + 1.0
        Q = 0.5 * rng.standard_normal((m, 8)) @ B + 1.0
        Q[m // 2 :] += 1e-6 * rng.standard_normal((m - m // 2, d))
        return X, Q
    if kind == "boundary":  # points on segments between training points, and 1e-6 beyond
        X = rng.standard_normal((n, d))
        i, j = rng.integers(0, n, (2, m))
        t = rng.random((m, 1))
        Q = t * X[i] + (1 - t) * X[j]
        return X, Q
    raise ValueError(kind)


def compare(kind: str, n: int, d: int, m: int, n_lp: int, seed: int = 0, warm: bool = True) -> dict:
    X, Q = data(kind, n, d, m, seed)
    res, t_ours = timed(in_hull, X, Q, distance=False)
    row = {"case": kind, "N": n, "d": d, "M": m, "ours_s": t_ours, "ours_ms_per_q": 1e3 * t_ours / m,
           "inside": res.inside.mean(), "certified": res.certified.mean(),
           "stages": {str(k): int(v) for k, v in zip(*np.unique(res.stage, return_counts=True), strict=True)}}
    if n_lp:
        sub = slice(0, min(n_lp, m))
        (lp, hung, undecided), t_lp = timed(linprog_verdicts, X, Q[sub])
        k = len(lp)
        row.update(lp_ms_per_q=1e3 * t_lp / k, lp_agree=float((lp == res.inside[sub]).mean()), lp_n=k,
                   ratio_lp=(t_lp / k) / (t_ours / m), lp_hung=hung, lp_undecided=undecided)
        if hung or undecided:
            print(f"    linprog: {undecided} simplex solves undecided (status 4), {hung} killed after "
                  "120 s; both re-solved with highs-ipm", flush=True)
        print(f"    linprog done: {row['lp_ms_per_q']:.1f} ms/q, agreement {row['lp_agree']:.3f}", flush=True)
        if warm:
            hv, t_h = timed(highspy_verdicts, X, Q[sub])
            row.update(highspy_ms_per_q=1e3 * t_h / k, highspy_agree=float((hv == res.inside[sub]).mean()),
                       ratio_highspy=(t_h / k) / (t_ours / m))
    return row


def show(row: dict) -> None:
    parts = [f"{row['case']:>10} N={row['N']:>6} d={row['d']:>4} M={row['M']:>5}",
             f"theorylab {row['ours_s']:7.2f} s ({row['ours_ms_per_q']:8.3f} ms/q)",
             f"inside {row['inside']:.3f} certified {row['certified']:.3f}"]
    if "lp_ms_per_q" in row:
        parts.append(f"linprog {row['lp_ms_per_q']:9.1f} ms/q ×{row['ratio_lp']:8.1f} agree {row['lp_agree']:.3f} (n={row['lp_n']})")
    if "highspy_ms_per_q" in row:
        parts.append(f"highspy-warm {row['highspy_ms_per_q']:9.1f} ms/q ×{row['ratio_highspy']:8.1f} agree {row['highspy_agree']:.3f}")
    parts.append(f"stages {row['stages']}")
    print(" | ".join(parts), flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, < 60 s")
    ap.add_argument("--only", choices=("bar1", "mixes", "bar2", "scaling"), action="append",
                    help="run only these sections of the full benchmark (repeatable)")
    args = ap.parse_args(argv)
    want = set(args.only or ("bar1", "mixes", "bar2", "scaling"))
    print("# agreement = identical verdicts to the LP on the same queries; × = LP time per query / ours")
    if args.quick:
        print("## bar-shaped cases, reduced")
        for kind, n, d, m, k in [("gaussian", 2000, 64, 200, 30), ("shrunk", 2000, 16, 200, 30),
                                 ("degenerate", 2000, 32, 100, 30), ("boundary", 1000, 8, 100, 30)]:
            show(compare(kind, n, d, m, k))
        print("## large N, ours only")
        show(compare("gaussian", 20000, 64, 500, 0))
        return 0
    if "bar1" in want:
        print("## bar 1: N=10,000, d=64, 200 queries, every query checked against both LPs")
        row = compare("gaussian", 10_000, 64, 200, 200)
        show(row)
        print(f"BAR1 speed-up vs linprog ×{row['ratio_lp']:.1f} (need ≥ 100), "
              f"agreement {100 * row['lp_agree']:.1f}% (need 100%)")
    if "mixes" in want:
        print("## harder mixes (many queries inside, degenerate data, boundary queries), vs both LPs")
        for kind, n, d, m, k in [("shrunk", 10_000, 16, 200, 100), ("degenerate", 10_000, 64, 200, 100),
                                 ("boundary", 10_000, 16, 200, 100)]:
            show(compare(kind, n, d, m, k))
    if "bar2" in want:
        print("## bar 2: N=60,000, 1,000 queries (LP on 2 queries at d=64 for its time per query)")
        for d, k in [(64, 2), (784, 0)]:
            row = compare("gaussian", 60_000, d, 1000, k, warm=False)
            show(row)
            print(f"BAR2 d={d}: {row['ours_s']:.1f} s for 1,000 queries (need < 60 s), "
                  f"{row['ours_ms_per_q']:.2f} ms/query")
    if "scaling" in want:
        print("## scaling (ours; LP on 5 queries where it takes < ~1 min)")
        for n in (1_000, 10_000, 60_000):
            for d in (8, 32, 128):
                for m in (100, 1000):
                    k = 5 if (m == 100 and n * d <= 10_000 * 32) else 0
                    show(compare("gaussian", n, d, m, k, warm=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
