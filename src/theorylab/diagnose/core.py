"""``diagnose``: one report on a user's own training data, queries and (optionally) model.

The steps, each timed and announced with an ETA (:mod:`theorylab.diagnose.progress`):

1. validate everything (arrays, labels, model, layer names, output paths) before any work;
2. in the input space and in each requested layer's output (every block by default, read with
   :func:`theorylab.probes.activations.layer_outputs`, the one way to read layer k): where the
   queries stand (:mod:`theorylab.diagnose.space`) and the dimension of the data;
3. PyOD's KNN, LOF, IForest and ECOD in the same spaces (:mod:`theorylab.diagnose.detect`);
4. the model around the data (:mod:`theorylab.diagnose.probe`);
5. with query labels: AUROC of every score as a detector of the model's mistakes, and the
   pre-registered check "geometry beats off-the-shelf detectors on this model";
6. the per-query table (Parquet/CSV) and the HTML report, each written atomically at the end, so
   a refused input leaves nothing behind.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from theorylab.arrays import subsample
from theorylab.diagnose.options import DiagnoseError, DiagnoseOptions, make_options
from theorylab.files import atomic_write
from theorylab.seeding import child_seed

if TYPE_CHECKING:
    import pandas as pd
    from torch import nn

    from theorylab.engine.checks import Check

__all__ = ["Diagnosis", "check_outputs", "diagnose", "embed"]

TABLE_SUFFIXES = (".parquet", ".csv")
REPORT_SUFFIXES = (".html", ".htm")
SPACE_COLUMNS = ("in_hull", "hull_distance", "hull_distance_rel", "hull_distance_lower", "hull_certified",
                 "in_ellipsoid", "ellipsoid_mahalanobis", "in_box", "in_range_fraction", "knn_distance",
                 "knn_percentile")
_BOOL_COLUMNS = ("in_hull", "hull_certified", "in_ellipsoid", "in_box")
_GEOMETRY_SCORES = (("hull_distance", "hull distance"), ("ellipsoid_mahalanobis", "ellipsoid (Mahalanobis)"),
                    ("knn_distance", "kNN distance"))
_MODEL_SCORES = (("local_complexity", "region density (local complexity)"),
                 ("local_lipschitz", "local Lipschitz slope of the margin"))


@dataclass
class Diagnosis:
    """What :func:`diagnose` measured.

    Attributes
    ----------
    per_query : one row per query; columns ``"<space>/<notion>"`` (space ``input``, a layer
        label like ``3:ReLU``, or ``model``), plus ``label``, ``pred``, ``error`` with labels.
    summary : flat JSON-able dict: sizes, fractions inside per space, dimensions, model numbers,
        the comparison's status.
    spaces : one row per space (fractions with 95% Wilson intervals, medians, dimensions).
    dimension : one row per (space, estimator): estimate and bootstrap interval.
    auroc : one row per score (AUROC of the score as a detector of the model's errors, 95%
        bootstrap interval); None without labels.
    comparison : the pre-registered check (geometry vs PyOD), a :class:`~theorylab.engine.checks.Check`.
    notes : every sample, projection or skipped measure, in words.
    """

    per_query: pd.DataFrame
    summary: dict[str, Any]
    spaces: pd.DataFrame
    dimension: pd.DataFrame
    auroc: pd.DataFrame | None = None
    comparison: Check | None = None
    model: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    options: DiagnoseOptions = field(default_factory=DiagnoseOptions)
    timings: dict[str, float] = field(default_factory=dict)
    reference: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    partition: Any = None
    slice_info: dict[str, Any] = field(default_factory=dict)

    def write_table(self, path: str | Path) -> Path:
        """Write ``per_query`` to ``.parquet`` or ``.csv`` (atomically)."""
        p = Path(path)
        _check_suffix(p, TABLE_SUFFIXES, "table")
        return atomic_write(p, lambda tmp: (self.per_query.to_parquet(tmp) if p.suffix.lower() == ".parquet"
                                       else self.per_query.to_csv(tmp, index_label="query")))

    def write_report(self, path: str | Path, title: str | None = None) -> Path:
        """Write the self-contained HTML report (:mod:`theorylab.report.diagnose_report`)."""
        from theorylab.report.diagnose_report import render_diagnosis

        p = Path(path)
        _check_suffix(p, REPORT_SUFFIXES, "report")
        text = render_diagnosis(self, title=title)
        return atomic_write(p, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


# -- validation ------------------------------------------------------------------------------------
def _check_suffix(p: Path, allowed: tuple[str, ...], what: str) -> None:
    if p.suffix.lower() not in allowed:
        raise DiagnoseError(f"{what} {p}: unsupported type {p.suffix!r} (allowed: {', '.join(allowed)})")


def _points(X: Any, what: str, min_rows: int) -> tuple[np.ndarray, tuple[int, ...] | None]:
    """(n, features) float64 from an array of any rank ≥ 2 (images are flattened), checked."""
    from theorylab.arrays import as_points

    if hasattr(X, "detach"):  # a torch tensor
        X = X.detach().cpu().numpy()
    A = np.asarray(X)
    shape = None
    if A.ndim > 2:
        shape = tuple(int(s) for s in A.shape[1:])
        A = A.reshape(A.shape[0], -1)
    return as_points(A, what, min_rows=min_rows, error=DiagnoseError), shape


def _labels(y: Any, n: int, what: str, n_out: int | None) -> np.ndarray:
    if hasattr(y, "detach"):
        y = y.detach().cpu().numpy()
    a = np.asarray(y)
    if a.ndim == 2 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim != 1:
        raise DiagnoseError(f"{what}: expected one label per row (a 1-D array), got shape {a.shape}")
    if len(a) != n:
        raise DiagnoseError(f"{what}: {len(a)} labels for {n} rows")
    if a.dtype == bool:
        a = a.astype(np.int64)
    if not np.issubdtype(a.dtype, np.number) or np.iscomplexobj(a):
        raise DiagnoseError(f"{what}: labels must be integer class indices, got dtype {a.dtype}")
    if not np.isfinite(a).all():
        raise DiagnoseError(f"{what}: labels hold NaN or inf")
    if (a != np.round(a)).any():
        raise DiagnoseError(f"{what}: labels must be integer class indices, got {a[a != np.round(a)][0]!r}")
    a = a.astype(np.int64)
    hi = max(n_out, 2) if n_out is not None else None
    if (a < 0).any() or (hi is not None and (a >= hi).any()):
        bad = a[(a < 0) | ((a >= hi) if hi is not None else False)][0]
        rng = f"[0, {hi - 1}]" if hi is not None else "≥ 0"
        raise DiagnoseError(f"{what}: label {bad} is outside the model's classes {rng}")
    return a


def embed(model: nn.Module, X: np.ndarray, layer: str | None = None, *,
          input_shape: tuple[int, ...] | None = None) -> np.ndarray:
    """(n, k) float64 outputs of ``layer`` (``None``: the model's output), via ``layer_outputs``."""
    from theorylab.probes.activations import ActivationError, layer_outputs

    name = "" if layer is None else layer
    try:
        return layer_outputs(model, X, [name], input_shape=input_shape)[name]
    except ActivationError as e:
        raise DiagnoseError(str(e)) from None


# -- the diagnosis ---------------------------------------------------------------------------------
def diagnose(train: Any, query: Any, model: nn.Module | None = None, *, y_train: Any = None,
             y_query: Any = None, layers: list[str] | tuple[str, ...] | None = None,
             input_shape: tuple[int, ...] | None = None, report: str | Path | None = None,
             table: str | Path | None = None, title: str | None = None,
             options: DiagnoseOptions | None = None, progress: bool = False, **overrides: Any) -> Diagnosis:
    """Where queries stand relative to the training data, the data's dimension, the model's
    geometry around the data, and which notion predicts the model's errors.

    Parameters
    ----------
    train : (N, ...) training points (images are flattened; their shape becomes ``input_shape``).
    query : (M, ...) queries, same per-example shape.
    model : optional ``torch.nn.Module`` taking (batch, *input_shape); never modified.
    y_train, y_query : optional integer class labels; ``y_query`` (with a model) turns on the
        error analysis (AUROC of each score, geometry vs PyOD).
    layers : names from ``model.named_modules()`` whose outputs are embedding spaces; None:
        the end of every block (:func:`theorylab.probes.activations.block_names`); ``()``: none.
    input_shape : per-example shape the model expects (rows are reshaped to it).
    report, table : where to write the HTML report and the per-query table (.parquet/.csv);
        checked before any work, written at the end.
    options : :class:`DiagnoseOptions`; keyword ``overrides`` set single fields (``k=5``).
    progress : print stage lines with an ETA to stderr.

    Returns
    -------
    Diagnosis

    References
    ----------
    Balestriero, Pesenti & LeCun 2021 (arXiv 2110.09485); Ansuini et al. 2019 (NeurIPS);
    Humayun, Balestriero & Baraniuk 2024 (ICML); Zhao, Nasrullah & Li 2019 (PyOD, JMLR).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> d = diagnose(rng.standard_normal((200, 3)), 0.1 * rng.standard_normal((5, 3)))
    >>> d.summary["input.in_hull"], d.summary["input.affine_dim"]
    (1.0, 3)
    """
    from theorylab.diagnose.progress import StageProgress
    from theorylab.diagnose.space import auto_hull_queries

    opts = make_options(options, **overrides)
    check_outputs(report, table)
    Xtr, Xq, input_shape = _check_arrays(train, query, input_shape, opts)
    names, n_out = _check_model(model, Xtr, input_shape, layers)
    ytr, yq = _check_labels(y_train, y_query, model, len(Xtr), len(Xq), n_out)

    (n, d), m = Xtr.shape, len(Xq)
    widths = _layer_widths(model, Xtr, input_shape, names) if names else {}
    # one sample of queries for the hull in every space, sized for the widest space
    n_hull = auto_hull_queries(n, m, max([d, *widths.values()]), opts.hull_queries)
    hull_idx = subsample(m, n_hull, child_seed(opts.seed, 1))
    prog = StageProgress(_plan(n, m, d, n_hull, widths, model, opts), enabled=progress)
    found = _Found()

    pred = _predict(model, Xtr, Xq, ytr, yq, input_shape, prog, found.model) if model is not None else None
    wrong = (pred != yq) if (pred is not None and yq is not None) else None
    found.add_space("input", Xtr, Xq, hull_idx, 0, None, opts, prog)
    labels = _layer_labels(model, names)
    for i, name in enumerate(names, start=1):
        A, B, tnote = _embed_layer(model, Xtr, Xq, name, labels[name], widths[name], input_shape, i, opts, prog)
        found.add_space(labels[name], A, B, hull_idx, i, tnote, opts, prog)
    found.say_space_notes()
    if model is not None:
        found.add_model(model, Xtr, Xq, input_shape, wrong, opts, prog)
    auroc_df, check = _error_analysis(found, wrong, opts, prog)
    prog.close()

    diag = found.diagnosis(n, m, d, input_shape, names, yq, pred, wrong, auroc_df, check, n_hull, opts,
                           dict(prog.timings))
    if table is not None:
        diag.write_table(table)
    if report is not None:
        diag.write_report(report, title=title)
    return diag


# -- the stages ------------------------------------------------------------------------------------
def check_outputs(report: str | Path | None, table: str | Path | None, *, prefix: str = "") -> None:
    """Refuse a report or table path of an unsupported type before any work (``prefix``: ``"--"``
    when the paths came from command-line options, so the message names the option)."""
    if report is not None:
        _check_suffix(Path(report), REPORT_SUFFIXES, f"{prefix}report")
    if table is not None:
        _check_suffix(Path(table), TABLE_SUFFIXES, f"{prefix}table")


def _check_arrays(train: Any, query: Any, input_shape: tuple[int, ...] | None,
                  opts: DiagnoseOptions) -> tuple[np.ndarray, np.ndarray, tuple[int, ...] | None]:
    """Training points and queries as (n, features) float64 with one width, and the per-example shape."""
    Xtr, shape_tr = _points(train, "training points", max(3, opts.k + 2))
    Xq, shape_q = _points(query, "queries", 1)
    if Xq.shape[1] != Xtr.shape[1] or (shape_tr and shape_q and shape_tr != shape_q):
        raise DiagnoseError(f"queries have {shape_q or Xq.shape[1]} coordinates per row but training points "
                            f"have {shape_tr or Xtr.shape[1]}")
    input_shape = tuple(input_shape) if input_shape is not None else shape_tr
    if input_shape is not None and math.prod(input_shape) != Xtr.shape[1]:
        raise DiagnoseError(f"input_shape {input_shape} holds {math.prod(input_shape)} values, rows have "
                            f"{Xtr.shape[1]}")
    return Xtr, Xq, input_shape


def _check_labels(y_train: Any, y_query: Any, model: Any, n: int, m: int,
                  n_out: int | None) -> tuple[np.ndarray | None, np.ndarray | None]:
    if (y_train is not None or y_query is not None) and model is None:
        raise DiagnoseError("labels need a model: the error analysis is about the model's mistakes")
    ytr = _labels(y_train, n, "training labels", n_out) if y_train is not None else None
    yq = _labels(y_query, m, "query labels", n_out) if y_query is not None else None
    return ytr, yq


def _classes(z: np.ndarray) -> np.ndarray:
    """Predicted classes from logits (n, k): the argmax, or the sign of a single output."""
    return z.argmax(axis=1) if z.shape[1] > 1 else (z[:, 0] > 0).astype(np.int64)


def _predict(model: nn.Module, Xtr: np.ndarray, Xq: np.ndarray, ytr: np.ndarray | None,
             yq: np.ndarray | None, input_shape: tuple[int, ...] | None, prog: Any,
             summary: dict[str, Any]) -> np.ndarray:
    """The model's classes for the queries; outputs, parameters and accuracies go to ``summary``."""
    from theorylab.diagnose.probe import logits

    with prog.stage("model/predict"):
        zq = logits(model, Xq, input_shape)
        pred = _classes(zq)
        summary["outputs"] = int(zq.shape[1])
        summary["parameters"] = int(sum(p.numel() for p in model.parameters()))
        if ytr is not None:
            summary["train_accuracy"] = float((_classes(logits(model, Xtr, input_shape)) == ytr).mean())
        if yq is not None:
            summary["query_accuracy"] = float((pred == yq).mean())
    return pred


def _layer_labels(model: Any, names: list[str]) -> dict[str, str]:
    """``{name: "name:Type"}``, how the report labels each layer's space."""
    mods = dict(model.named_modules()) if model is not None else {}
    return {name: f"{name}:{type(mods[name]).__name__}" for name in names}


def _embed_layer(model: nn.Module, Xtr: np.ndarray, Xq: np.ndarray, name: str, label: str, width: int,
                 input_shape: tuple[int, ...] | None, key: int, opts: DiagnoseOptions,
                 prog: Any) -> tuple[np.ndarray, np.ndarray, str | None]:
    """Training and query embeddings at one layer (training rows sampled when the embedding would
    exceed ``max_layer_values``), and the note saying so."""
    n = len(Xtr)
    with prog.stage(f"{label}/embed"):
        rows = _layer_rows(n, width, opts, key)
        A = embed(model, Xtr[rows] if rows is not None else Xtr, name, input_shape=input_shape)
        B = embed(model, Xq, name, input_shape=input_shape)
    tnote = (f"training embedding from a seeded sample of {len(rows):,} of {n:,} points (width "
             f"{width:,} × N would exceed max_layer_values={opts.max_layer_values:,})"
             if rows is not None else None)
    return A, B, tnote


def _error_analysis(found: _Found, wrong: np.ndarray | None, opts: DiagnoseOptions,
                    prog: Any) -> tuple[pd.DataFrame | None, Check | None]:
    """AUROC of every score as a detector of the model's errors, and geometry vs PyOD."""
    if wrong is None:
        return None, None
    from theorylab.diagnose.detect import auroc_table, compare_families

    with prog.stage("auroc"):
        auroc_df, boots = auroc_table(found.scores, wrong, opts.n_boot, opts.seed)
        check, _ = compare_families(auroc_df, boots)
    if not wrong.any() or wrong.all():
        found.notes.append("errors: the model gets every query " + ("wrong" if wrong.all() else "right")
                           + "; no score can be judged as an error detector (AUROC undefined)")
    return auroc_df, check


def _medians(values: dict[str, np.ndarray], suffix: str) -> dict[str, float]:
    """``{f"{column}{suffix}": median}`` ignoring NaN (NaN where a column has no finite value)."""
    return {f"{c}{suffix}": float(np.nanmedian(v)) if np.isfinite(v).any() else float("nan")
            for c, v in values.items()}


@dataclass
class _Found:
    """What the stages of :func:`diagnose` collect, in the order the report shows it."""

    columns: dict[str, np.ndarray] = field(default_factory=dict)
    reference: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    space_rows: list[dict[str, Any]] = field(default_factory=list)
    dim_rows: list[dict[str, Any]] = field(default_factory=list)
    scores: list[dict[str, Any]] = field(default_factory=list)
    space_notes: list[tuple[str, str]] = field(default_factory=list)  # (space, note)
    notes: list[str] = field(default_factory=list)
    model: dict[str, Any] = field(default_factory=dict)
    partition: Any = None
    slice_info: dict[str, Any] = field(default_factory=dict)

    def add_space(self, label: str, A: np.ndarray, B: np.ndarray, hull_idx: np.ndarray, key: int,
                  train_note: str | None, opts: DiagnoseOptions, prog: Any) -> None:
        """Every notion of "inside" in one space, then PyOD's detectors there."""
        from theorylab.diagnose.space import measure_space

        r = measure_space(label, A, B, hull_idx, opts, key, prog, train_note=train_note)
        for c in SPACE_COLUMNS:
            if c in r.columns:
                self.columns[f"{label}/{c}"] = r.columns[c]
        self.reference[label] = r.reference
        self.space_rows.append({"space": label, **r.summary})
        self.dim_rows.extend(r.dimension)
        self.space_notes.extend((label, t) for t in r.notes)
        for c, text in _GEOMETRY_SCORES:
            self._score(f"{label}/{c}", text, "geometry", label, r.columns[c])
        if opts.detectors:
            from theorylab.diagnose.detect import DETECTOR_NAMES, run_detectors

            with prog.stage(f"{label}/pyod"):
                det, dnotes = run_detectors(A, B, opts.detectors, opts.detector_fit_points, opts.seed, key)
            self.space_notes.extend((label, t) for t in dnotes)
            for name, v in det.items():
                self.columns[f"{label}/pyod_{name}"] = v
                self._score(f"{label}/pyod_{name}", DETECTOR_NAMES[name], "PyOD", label, v)

    def _score(self, column: str, label: str, family: str, space: str, values: np.ndarray) -> None:
        self.scores.append({"column": column, "label": label, "family": family, "space": space,
                            "values": values})

    def say_space_notes(self) -> None:
        """The spaces' notes, each said once with every space it applies to."""
        grouped: dict[str, list[str]] = {}
        for label, text in self.space_notes:
            grouped.setdefault(text, []).append(label)
        self.notes.extend(f"{', '.join(labels)}: {text}" for text, labels in grouped.items())

    def add_model(self, model: nn.Module, Xtr: np.ndarray, Xq: np.ndarray, input_shape: tuple[int, ...] | None,
                  wrong: np.ndarray | None, opts: DiagnoseOptions, prog: Any) -> None:
        """The model around the data (:func:`theorylab.diagnose.probe.probe_model`)."""
        from theorylab.diagnose.probe import probe_model

        n = len(Xtr)
        ref_idx = subsample(n, opts.model_train_points, child_seed(opts.seed, 2))
        radius = opts.lc_radius or _default_radius(self.reference["input"]["knn_distance"], Xtr)
        sq, nb = _slice_points(Xtr, Xq, wrong)
        mr = probe_model(model, Xtr, Xq, input_shape, ref_idx, opts, radius, prog, sq, nb)
        for c, v in mr.columns.items():
            self.columns[f"model/{c}"] = v
        self.reference["model"] = mr.reference
        self.model.update(mr.summary)
        self.model.update(_medians(mr.columns, "_median_query"))
        self.model.update(_medians(mr.reference, "_median_train"))
        self.notes.extend(f"model: {t}" for t in mr.notes)
        if opts.lc_radius is None:
            self.notes.append(f"model: local complexity radius r = {radius:.4g} (a quarter of the median "
                              f"leave-one-out {opts.k}-NN distance in the input space)")
        self.partition, self.slice_info = mr.partition, mr.slice_info
        for c, text in _MODEL_SCORES:
            self._score(f"model/{c}", text, "geometry", "model", mr.columns[c])
        self._score("model/margin", "−margin (the model's own confidence)", "model confidence", "model",
                    -mr.columns["margin"])

    def diagnosis(self, n: int, m: int, d: int, input_shape: tuple[int, ...] | None, names: list[str],
                  yq: np.ndarray | None, pred: np.ndarray | None, wrong: np.ndarray | None,
                  auroc_df: pd.DataFrame | None, check: Check | None, n_hull: int, opts: DiagnoseOptions,
                  timings: dict[str, float]) -> Diagnosis:
        """Everything collected, as the tables and summary of a :class:`Diagnosis`."""
        import pandas as pd

        per_query = _per_query(self.columns, m, yq, pred, wrong)
        spaces = pd.DataFrame(self.space_rows)
        dimension = pd.DataFrame(self.dim_rows)
        summary = _summary(n, m, d, input_shape, spaces, dimension, self.model, names, auroc_df, check, n_hull)
        return Diagnosis(per_query, summary, spaces, dimension, auroc_df, check, self.model, self.notes, opts,
                         timings, self.reference, self.partition, self.slice_info)


# -- helpers ---------------------------------------------------------------------------------------
def _check_model(model: Any, Xtr: np.ndarray, input_shape: tuple[int, ...] | None,
                 layers: Any) -> tuple[list[str], int | None]:
    """Layer names to embed and the number of outputs; the model must run on two training rows."""
    if model is None:
        if layers:
            raise DiagnoseError("layers need a model")
        return [], None
    import torch

    from theorylab.probes.activations import ActivationError, block_names, layer_outputs

    if not isinstance(model, torch.nn.Module):
        raise DiagnoseError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if isinstance(layers, str):
        layers = [s for s in layers.split(",") if s]
    names = block_names(model) if layers is None else [str(s) for s in layers]
    try:
        out = layer_outputs(model, Xtr[:2], ["", *names], input_shape=input_shape)
    except ActivationError as e:
        raise DiagnoseError(str(e)) from None
    n_out = int(out[""].shape[1])
    if n_out < 1:
        raise DiagnoseError("the model has no outputs")
    return list(dict.fromkeys(names)), n_out


def _layer_widths(model: Any, Xtr: np.ndarray, input_shape: Any, names: list[str]) -> dict[str, int]:
    from theorylab.probes.activations import layer_outputs

    out = layer_outputs(model, Xtr[:1], names, input_shape=input_shape)
    return {k: int(v.shape[1]) for k, v in out.items()}


def _layer_rows(n: int, width: int, opts: DiagnoseOptions, key: int) -> np.ndarray | None:
    """Training rows embedded at a layer of ``width``: None (all) unless N × width exceeds
    ``max_layer_values``, else a seeded sample that fits (at least k + 2 rows)."""
    if n * width <= opts.max_layer_values:
        return None
    return subsample(n, max(opts.k + 2, opts.max_layer_values // width), child_seed(opts.seed, 3, key))


def _default_radius(ref_knn: np.ndarray, Xtr: np.ndarray) -> float:
    med = float(np.median(ref_knn))
    if med > 0:
        return 0.25 * med
    spread = float(np.sqrt(((Xtr - Xtr.mean(axis=0)) ** 2).sum(axis=1).mean()))
    return 0.01 * spread if spread > 0 else 1e-3


def _slice_points(Xtr: np.ndarray, Xq: np.ndarray, wrong: np.ndarray | None) -> tuple[int, tuple[int, int] | None]:
    """The slice's query (the first misclassified one, else the first) and its two nearest training points."""
    from sklearn.neighbors import NearestNeighbors

    q = int(np.flatnonzero(wrong)[0]) if wrong is not None and wrong.any() else 0
    nn = NearestNeighbors(n_neighbors=2).fit(Xtr)
    dist, idx = nn.kneighbors(Xq[q : q + 1])
    if dist[0, 1] <= 0 or np.allclose(Xtr[idx[0, 0]] - Xq[q], 0):
        return q, None  # a duplicate of the query: no 2-D slice
    return q, (int(idx[0, 0]), int(idx[0, 1]))


def _plan(n: int, m: int, d: int, n_hull: int, widths: dict[str, int], model: Any,
          opts: DiagnoseOptions) -> list[tuple[str, str, float]]:
    from theorylab.diagnose.detect import detector_cost
    from theorylab.diagnose.space import space_costs

    plan: list[tuple[str, str, float]] = []
    params = int(sum(p.numel() for p in model.parameters())) if model is not None else 0
    if model is not None:
        plan.append(("model/predict", "model outputs", 2e-9 * (m + n) * params + 0.1))

    def space(label: str, width: int, n_rows: int) -> None:
        costs = space_costs(n_rows, m, width, n_hull, opts)
        for stage, what in (("hull", "convex hull (certified) and box"), ("knn", "nearest neighbours"),
                            ("ellipsoid", "minimum-volume ellipsoid"), ("dimension", "intrinsic dimension")):
            plan.append((f"{label}/{stage}", f"{label}: {what}", costs[stage]))
        if opts.detectors:
            nf = min(n_rows, opts.detector_fit_points)
            plan.append((f"{label}/pyod", f"{label}: PyOD {', '.join(opts.detectors)}",
                         sum(detector_cost(x, nf, m, width) for x in opts.detectors)))

    space("input", d, n)
    if model is not None:
        labels = _layer_labels(model, list(widths))
        for i, (name, w) in enumerate(widths.items(), start=1):
            label = labels[name]
            rows = _layer_rows(n, w, opts, i)
            plan.append((f"{label}/embed", f"{label}: embedding", 2e-9 * (m + n) * params + 0.1))
            space(label, w, n if rows is None else len(rows))
        r = min(n, opts.model_train_points)
        plan += [("model/jacobian", "model: margins, Jacobians", 4e-9 * (m + r) * params * 3 + 0.5),
                 ("model/regions", "model: local complexity", 2e-9 * (m + r) * params * (2 * opts.lc_frame + 1) + 0.5),
                 ("model/lipschitz", "model: Lipschitz bracket", 3e-8 * r * params + 2.0),
                 ("model/slice", "model: 2-D slice of the partition", 5.0)]
    plan.append(("auroc", "error detection: AUROC and bootstrap", 1e-7 * opts.n_boot * m * 20 + 0.5))
    return plan


def _per_query(columns: dict[str, np.ndarray], m: int, yq: np.ndarray | None, pred: np.ndarray | None,
               wrong: np.ndarray | None) -> pd.DataFrame:
    import pandas as pd

    data: dict[str, Any] = {}
    if yq is not None:
        data["label"] = yq
    if pred is not None:
        data["pred"] = pred
    if wrong is not None:
        data["error"] = wrong
    for c, v in sorted(columns.items(), key=lambda kv: not kv[0].startswith("model/")):  # model first
        if c.rsplit("/", 1)[-1] in _BOOL_COLUMNS:
            data[c] = pd.array([None if not np.isfinite(x) else bool(x) for x in v], dtype="boolean")
        else:
            data[c] = v
    df = pd.DataFrame(data, index=pd.RangeIndex(m, name="query"))
    return df


def _fraction(v: Any) -> float:
    return float(v.value) if hasattr(v, "value") else float(v)


def _summary(n: int, m: int, d: int, input_shape: Any, spaces: pd.DataFrame, dimension: pd.DataFrame,
             model: dict[str, Any], names: list[str], auroc: pd.DataFrame | None, check: Check | None,
             n_hull: int) -> dict[str, Any]:
    s: dict[str, Any] = {"n_train": n, "n_query": m, "dim": d,
                         "input_shape": list(input_shape) if input_shape else None,
                         "layers": names, "hull_queries": n_hull}
    for row in spaces.to_dict("records"):
        sp = row["space"]
        s[f"{sp}.affine_dim"] = int(row["affine_dim"])
        for key in ("in_hull", "in_ellipsoid", "in_box", "beyond_train_p99"):
            s[f"{sp}.{key}"] = _fraction(row[key])
        for key in ("hull_distance_median", "knn_distance_median", "knn_percentile_median", "in_range_fraction_mean"):
            s[f"{sp}.{key}"] = float(row[key])
        s[f"{sp}.hull_all_certified"] = bool(row["hull_all_certified"])
    for row in dimension.to_dict("records"):
        if row["method"] != "affine":
            s[f"{row['space']}.id_{row['method']}"] = None if not np.isfinite(row["estimate"]) else float(row["estimate"])
    for k, v in model.items():
        s[f"model.{k}"] = v if not isinstance(v, float) or np.isfinite(v) else None
    if auroc is not None and len(auroc):
        best = auroc.loc[auroc.auroc.idxmax()] if auroc.auroc.notna().any() else None
        if best is not None:
            s["best_detector"] = f"{best['score']} ({best['space']})"
            s["best_detector_auroc"] = float(best["auroc"])
    if check is not None:
        s["geometry_vs_pyod"] = check.status
        s["geometry_vs_pyod_delta"] = check.estimate
        s["geometry_vs_pyod_interval"] = list(check.interval) if check.interval else None
    return _clean(s)


def _clean(v: Any) -> Any:
    """JSON-able: numpy scalars to Python, NaN/inf to None, containers recursively."""
    if isinstance(v, dict):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return float(v) if math.isfinite(v) else None
    return v if v is None or isinstance(v, str) else str(v)
