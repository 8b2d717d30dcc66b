"""The HTML report of one :class:`~theorylab.diagnose.Diagnosis`: self-contained, static, offline.

Sections: at a glance (sizes, the model, the geometry-vs-PyOD verdict); where the queries stand
in each space; the data's dimension (with the per-layer profile); the model around the data;
which notion predicts the model's errors (AUROC table and bars); score histograms; everything
that was sampled or projected; the options. Figures are embedded as data URIs; every piece of
text (layer names, notes, error messages) is escaped once by Jinja2's autoescaping. Building a
report imports matplotlib and pandas, never torch.
"""

from __future__ import annotations

import base64
import io
import math
import time
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from theorylab.diagnose.core import Diagnosis

__all__ = ["diagnosis_figures", "render_diagnosis"]

_FAMILY_COLOURS = {"geometry": "#1f77b4", "PyOD": "#ff7f0e", "model confidence": "#7f7f7f"}
_VERDICT_TEXT = {
    "supported": "Geometry beats the off-the-shelf detectors on this model: the best geometric score detects "
                 "its errors better than the best PyOD detector (the whole 95% interval of ΔAUROC is above 0).",
    "not supported": "Geometry does not beat the off-the-shelf detectors on this model: the best PyOD detector "
                     "detects its errors better than every geometric score (the whole 95% interval of ΔAUROC is "
                     "below 0).",
    "inconclusive": "Not resolved on these queries: the 95% interval of ΔAUROC (best geometric score minus best "
                    "PyOD detector) contains 0.",
}


def _embed(fig: Figure) -> str:
    """PNG data URI (no pyplot: an Agg canvas is attached to the figure)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120, metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _hist(title: str, train: np.ndarray, query: np.ndarray, xlabel: str, *, log: bool = False) -> Figure | None:
    from matplotlib.figure import Figure

    a, b = np.asarray(train, float), np.asarray(query, float)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if log:
        a, b = a[a > 0], b[b > 0]
    if not len(a) or not len(b):
        return None
    lo, hi = float(min(a.min(), b.min())), float(max(a.max(), b.max()))
    if hi <= lo:
        hi = lo + 1.0
    bins = np.geomspace(lo, hi, 40) if log else np.linspace(lo, hi, 40)
    fig = Figure(figsize=(6.4, 4.2))
    ax = fig.subplots()
    ax.hist(a, bins=bins, density=True, alpha=0.55, label=f"training points (n = {len(a):,})", color="#1f77b4")
    ax.hist(b, bins=bins, density=True, alpha=0.55, label=f"queries (n = {len(b):,})", color="#d62728")
    if log:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("density")
    ax.set_title(title, fontsize=10)
    ax.legend(frameon=False)
    fig.tight_layout()
    return fig


def _id_profile(diag: Diagnosis) -> Figure | None:
    from matplotlib.figure import Figure

    df = diag.dimension
    df = df[df.method != "affine"] if len(df) else df
    if not len(df):
        return None
    spaces = list(dict.fromkeys(diag.dimension.space))
    fig = Figure(figsize=(6.4, 4.2))
    ax = fig.subplots()
    x = np.arange(len(spaces))
    for j, (method, g) in enumerate(df.groupby("method", sort=False)):
        g = g.set_index("space").reindex(spaces)
        y = g.estimate.to_numpy(float)
        xs = x + 0.06 * (j - 1)
        (line,) = ax.plot(xs, y, marker="o", label=method)
        # the bootstrap interval as drawn by the estimator (refits on ~63% distinct points may not
        # straddle the full-data estimate: kNN estimators read lower on fewer points)
        ax.vlines(xs, g.lo.to_numpy(float), g.hi.to_numpy(float), color=line.get_color(), lw=2, alpha=0.6)
    ax.set_xticks(x, spaces, rotation=20, ha="right", fontsize=8)
    ax.set_xlabel("space (input, then each block's output)")
    ax.set_ylabel("intrinsic dimension (95% bootstrap interval)")
    ax.set_title("Intrinsic dimension per layer (Ansuini et al. 2019 profile)", fontsize=10)
    ax.legend(frameon=False)
    fig.tight_layout()
    return fig


def _auroc_bars(diag: Diagnosis) -> Figure | None:
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    df = diag.auroc
    if df is None or not len(df) or not df.auroc.notna().any():
        return None
    df = df.sort_values("auroc", na_position="first").reset_index(drop=True)
    fig = Figure(figsize=(6.4, max(3.0, 0.24 * len(df) + 1.2)))
    ax = fig.subplots()
    y = np.arange(len(df))
    v = df.auroc.to_numpy(float)
    err = np.vstack([v - df.lo.to_numpy(float), df.hi.to_numpy(float) - v])
    err = np.clip(np.where(np.isfinite(err), err, 0.0), 0.0, None)
    ax.barh(y, np.nan_to_num(v - 0.5), left=0.5, color=[_FAMILY_COLOURS.get(f, "#999") for f in df.family],
            xerr=err, ecolor="#333", capsize=2)
    ax.set_yticks(y, [f"{s} · {sp}" for s, sp in zip(df.score, df.space, strict=True)], fontsize=7)
    ax.axvline(0.5, color="k", lw=0.8)
    ax.set_xlim(min(0.3, float(np.nanmin(df.lo.fillna(0.5)))) - 0.02, 1.0)
    ax.set_xlabel("AUROC for the model's errors (95% bootstrap interval)")
    ax.legend(handles=[Patch(color=c, label=f) for f, c in _FAMILY_COLOURS.items() if f in set(df.family)],
              frameon=False, fontsize=8, loc="lower right")
    ax.set_title("Which notion predicts the model's errors", fontsize=10)
    fig.tight_layout()
    return fig


def _slice(diag: Diagnosis) -> Figure | None:
    if diag.partition is None:
        return None
    from theorylab.probes.regions import plot_partition

    info = diag.slice_info
    fig = plot_partition(diag.partition, points=np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]),
                         title=f"{diag.partition.count:,} linear regions; red: decision boundary")
    fig.set_size_inches(6.4, 5.6)
    ax = fig.axes[0]
    for (s, t), text in zip([(0, 0), (1, 0), (0, 1)],
                            [f"query {info.get('query')}", f"train {info['neighbours'][0]}",
                             f"train {info['neighbours'][1]}"], strict=True):
        ax.annotate(text, (s, t), textcoords="offset points", xytext=(6, 6), fontsize=8)
    ax.set_xlabel("s: toward the nearest training point (slice units)")
    ax.set_ylabel("t: toward the 2nd nearest training point")
    fig.tight_layout()
    return fig


def diagnosis_figures(diag: Diagnosis) -> dict[str, Figure]:
    """Every figure of the report, by caption (one idea per figure)."""
    figs: dict[str, Figure | None] = {}
    ref, pq = diag.reference, diag.per_query
    spaces = list(diag.spaces.space) if len(diag.spaces) else []
    for sp in dict.fromkeys([s for s in (spaces[:1] + spaces[-1:]) if s]):
        figs[f"kNN distance ({sp}): training points (leave-one-out) vs queries"] = _hist(
            f"{diag.options.k}-NN distance in {sp}", ref[sp]["knn_distance"], pq[f"{sp}/knn_distance"],
            "distance to the k-th nearest training point (data units)", log=True)
    if spaces:
        sp = spaces[0]
        figs[f"Minimum-volume ellipsoid ({sp}): training points vs queries"] = _hist(
            f"ellipsoid Mahalanobis in {sp} (≤ 1: inside)", ref[sp]["ellipsoid_mahalanobis"],
            pq[f"{sp}/ellipsoid_mahalanobis"], "(z − c)ᵀA(z − c)", log=True)
    if "model" in ref:
        figs["Local complexity: training points vs queries"] = _hist(
            "neurons cut by a cross-polytope of radius r", ref["model"]["local_complexity"],
            pq["model/local_complexity"], "local complexity (neurons, summed over layers)")
        figs["Local Lipschitz slope of the margin: training points vs queries"] = _hist(
            "‖∇(z_top1 − z_top2)‖ at each point", ref["model"]["local_lipschitz"], pq["model/local_lipschitz"],
            "logit units per input unit", log=True)
    figs["Intrinsic dimension per layer"] = _id_profile(diag)
    figs["Which notion predicts the model's errors"] = _auroc_bars(diag)
    figs["2-D slice of the linear regions through a query and its two nearest training points"] = _slice(diag)
    return {k: v for k, v in figs.items() if v is not None}


# -- tables as text ----------------------------------------------------------------------------
def _num(v: Any) -> str:
    from theorylab.report.html import fmt_value

    return fmt_value(v, group=True)


def _frac(e: Any) -> str:
    if e is None or not hasattr(e, "value") or not math.isfinite(e.value):
        return "n/a"
    return f"{e.value:.3f} [{e.lo:.3f}, {e.hi:.3f}]"


def _interval(v: float, lo: float, hi: float) -> str:
    if not math.isfinite(v):
        return "n/a"
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return f"{v:.3g}"
    return f"{v:.3g} [{lo:.3g}, {hi:.3g}]"


def _space_rows(diag: Diagnosis) -> list[list[str]]:
    rows = []
    for r in diag.spaces.to_dict("records"):
        rows.append([
            r["space"], _num(r["dim"]), _num(r["affine_dim"]), _num(r["n_train"]),
            f"{_frac(r['in_hull'])} (n = {r['hull_queries']:,})", _num(r["hull_distance_median"]),
            "yes" if r["hull_all_certified"] else "NO",
            f"{_frac(r['in_ellipsoid'])}" + ("" if r["ellipsoid_space"] == "exact" else f" ({r['ellipsoid_space']})"),
            _frac(r["in_box"]), f"{r['in_range_fraction_mean']:.4f}",
            f"{_num(r['knn_distance_median'])} / {_num(r['train_knn_distance_median'])}",
            f"{r['knn_percentile_median']:.1f}", _frac(r["beyond_train_p99"]),
        ])
    return rows


def _dimension_rows(diag: Diagnosis) -> tuple[list[str], list[list[str]]]:
    df = diag.dimension
    methods = list(dict.fromkeys(df.method))
    rows = []
    for sp, g in df.groupby("space", sort=False):
        by = {r["method"]: r for r in g.to_dict("records")}
        cells = [str(sp)]
        for mth in methods:
            r = by.get(mth)
            if r is None:
                cells.append("")
            elif mth == "affine":
                cells.append(_num(r["estimate"]))
            elif r["note"] and not math.isfinite(r["estimate"]):
                cells.append(f"n/a ({r['note']})")
            else:
                cells.append(_interval(r["estimate"], r["lo"], r["hi"]))
        rows.append(cells)
    return methods, rows


def _model_rows(diag: Diagnosis) -> list[list[str]]:
    m = diag.model
    if not m:
        return []
    out = []
    for key, label, unit in (("margin", "margin (top logit − runner-up)", "logit units"),
                             ("jacobian_norm", "local affine map norm ‖J(x)‖₂", "logit units per input unit"),
                             ("local_lipschitz", "local Lipschitz slope ‖∇(z_top1 − z_top2)‖", "logit units per input unit"),
                             ("local_complexity", "local complexity (neurons cut near x)", "neurons")):
        tr, q = m.get(f"{key}_median_train"), m.get(f"{key}_median_query")
        ratio = q / tr if tr and q is not None and math.isfinite(q) and math.isfinite(tr) and tr != 0 else float("nan")
        out.append([label, _num(tr), _num(q), _num(ratio), unit])
    return out


def _auroc_rows(diag: Diagnosis) -> list[list[str]]:
    if diag.auroc is None:
        return []
    order = {"geometry": 0, "PyOD": 1, "model confidence": 2}
    df = diag.auroc.assign(_f=diag.auroc.family.map(order)).sort_values(["_f", "auroc"], ascending=[True, False],
                                                                        na_position="last")
    return [[r["score"], r["space"], r["family"], _interval(r["auroc"], r["lo"], r["hi"]), _num(r["n"]),
             _num(r["errors"])] for r in df.to_dict("records")]


def _cell(v: Any) -> str:
    if v is None or v is np.nan or (isinstance(v, float) and not math.isfinite(v)):
        return "n/a"
    try:
        import pandas as pd

        if v is pd.NA:
            return "n/a"
    except ImportError:  # pragma: no cover - pandas is a dependency
        pass
    return _num(v.item() if hasattr(v, "item") else v)


def _query_head(diag: Diagnosis, n: int = 15) -> tuple[list[str], list[list[str]]]:
    pq = diag.per_query
    cols = [c for c in ("label", "pred", "error", "input/in_hull", "input/hull_distance", "input/in_ellipsoid",
                        "input/knn_percentile", "model/margin", "model/local_complexity") if c in pq.columns]
    head = pq[cols].head(n)
    return ["query", *cols], [[str(i), *(_cell(rec[c]) for c in cols)]
                              for i, rec in zip(head.index, head.to_dict("records"), strict=True)]


def render_diagnosis(diag: Diagnosis, title: str | None = None) -> str:
    """The report's HTML text."""
    from theorylab.engine.store import versions
    from theorylab.report.html import jinja_environment

    env = jinja_environment()  # the report's: one escaping policy, one set of number filters
    figures = [(cap, _embed(fig)) for cap, fig in diagnosis_figures(diag).items()]
    methods, dim_rows = _dimension_rows(diag)
    qcols, qrows = _query_head(diag)
    check = diag.comparison
    s = diag.summary
    return env.get_template("diagnose.html").render(
        title=title or "theorylab diagnose",
        generated=time.strftime("%Y-%m-%d %H:%M %Z"), versions=versions(), s=s, model=diag.model,
        check=check, verdict_text=_VERDICT_TEXT.get(check.status, "") if check is not None else "",
        space_rows=_space_rows(diag), dim_methods=methods, dim_rows=dim_rows, model_rows=_model_rows(diag),
        auroc_rows=_auroc_rows(diag), figures=figures, notes=diag.notes,
        options=diag.options.model_dump(), timings=diag.timings, total_s=sum(diag.timings.values()),
        slice_info=diag.slice_info, query_cols=qcols, query_rows=qrows,
        layer_labels=[sp for sp in diag.spaces.space if sp != "input"] if len(diag.spaces) else [],
        n_errors=int(diag.per_query["error"].sum()) if "error" in diag.per_query else None,
    )
