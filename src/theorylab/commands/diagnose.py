"""``theorylab diagnose``: one report on your training data, queries and (optionally) model.

    theorylab diagnose --train X.npy --query Q.npy [--labels y_train.npy,y_query.npy]
        [--model m.safetensors | --model m.pt --arch mlp:in=784,widths=256x128,out=10]
        --report diag.html --table diag.parquet

Every input is checked before any work — file type and contents, shapes, NaN/inf, empty or
one-row arrays, widths, labels, the model file against its architecture (shapes compared from the
file's header before the network is built) — and a problem is one line on stderr with exit
code 2, with nothing written. Model files are never unpickled: ``.safetensors``, or a
``torch.save`` state_dict read with ``torch.load(weights_only=True)``.

This module imports only typer at import time, so ``theorylab diagnose --help`` is fast.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

__all__ = ["parse_set", "read_points", "register"]


def read_points(path: Path, what: str) -> Any:
    """An array from a user's ``.npy``, ``.csv`` or ``.parquet`` file (never a pickle).

    ``.npy`` keeps its shape (images are flattened later) and is read by
    :func:`theorylab.data.load_npy`, which checks the dtype from the header before loading (a
    complex, object or structured array is refused instead of being cast); tables go through
    :func:`theorylab.data.load_array`.
    """
    from theorylab.data import load_array, load_npy
    from theorylab.diagnose import DiagnoseError

    if not path.is_file():
        raise DiagnoseError(f"{what} {path}: no such file")
    if path.suffix.lower() == ".npy":
        return load_npy(path)
    return load_array(path)


def parse_set(items: list[str]) -> dict[str, Any]:
    """``--set key=value`` pairs: JSON values (numbers, true/false/null, lists), comma lists, or text."""
    from theorylab.diagnose import DiagnoseError

    out: dict[str, Any] = {}
    for item in items:
        key, eq, raw = item.partition("=")
        if not eq or not key.strip():
            raise DiagnoseError(f"--set {item!r}: expected key=value")
        try:
            val: Any = json.loads(raw)
        except json.JSONDecodeError:
            val = tuple(v.strip() for v in raw.split(",") if v.strip()) if "," in raw else raw
        if isinstance(val, list):
            val = tuple(val)
        out[key.strip()] = val
    return out


def _labels_paths(text: str) -> tuple[Path | None, Path]:
    from theorylab.diagnose import DiagnoseError

    parts = text.split(",")
    if len(parts) != 2 or not parts[1].strip():
        raise DiagnoseError(f"--labels {text!r}: expected two files 'y_train,y_query' (or ',y_query' for "
                            "query labels only)")
    a, b = (p.strip() for p in parts)
    return (Path(a) if a else None), Path(b)


def _fmt(v: Any, spec: str = ".3g") -> str:
    return "n/a" if v is None else format(v, spec) if isinstance(v, float) else str(v)


def register(app: typer.Typer) -> None:
    """Add the ``diagnose`` command to ``app``."""

    @app.command("diagnose")
    def diagnose_cmd(
        train: Path = typer.Option(..., "--train", help="training points: .npy, .csv or .parquet (rows = points)"),
        query: Path = typer.Option(..., "--query", help="query points, same format and width"),
        labels: str | None = typer.Option(
            None, "--labels", help="class labels as two files 'y_train,y_query' (',y_query' for query labels only)"),
        model: Path | None = typer.Option(
            None, "--model", help="weights: .safetensors, or a torch.save state_dict (read with weights_only=True)"),
        arch: str | None = typer.Option(
            None, "--arch", help="architecture of --model, e.g. 'mlp:in=784,widths=256x128,out=10' or "
                                 "'cnn2d:side=28,out=10' (optional when the file records it)"),
        layers: str | None = typer.Option(
            None, "--layers", help="comma-separated layer names to examine (default: every block; 'none': input only)"),
        report: Path | None = typer.Option(None, "--report", help="write the HTML report here"),
        table: Path | None = typer.Option(None, "--table", "--out", help="write the per-query table (.parquet or .csv)"),
        seed: int = typer.Option(0, "--seed", help="seed of every sample and random frame"),
        set_: list[str] = typer.Option([], "--set", help="any option key=value (see DiagnoseOptions), repeatable"),
        as_json: bool = typer.Option(False, "--json", help="print the summary as JSON"),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress lines on stderr"),
    ) -> None:
        """Where each query stands (hull, ellipsoid, box, kNN), the data's dimension, the model's
        smoothness and regions around the data, and — with labels — which notion predicts the
        model's errors, against PyOD's KNN, LOF, IForest and ECOD."""
        from theorylab.diagnose import load_model
        from theorylab.diagnose.core import diagnose
        from theorylab.diagnose.options import make_options

        # every check first: nothing is computed or written before all inputs are known good
        opts = make_options(**{"seed": seed, **parse_set(set_)})
        layer_list = _check_options(model, arch, labels, layers, report, table)
        X, Q, ytr, yq = _read_inputs(train, query, labels)
        net, shape = load_model(model, arch) if model is not None else (None, None)
        result = diagnose(X, Q, net, y_train=ytr, y_query=yq, layers=layer_list, input_shape=shape,
                          report=report, table=table, options=opts, progress=not quiet,
                          title=f"theorylab diagnose: {query.name} against {train.name}")
        if as_json:
            typer.echo(json.dumps(result.summary, indent=2))
            return
        _print_result(result)
        if report is not None:
            typer.echo(f"report written to {report}")
        if table is not None:
            typer.echo(f"per-query table written to {table}")


def _check_options(model: Path | None, arch: str | None, labels: str | None, layers: str | None,
                   report: Path | None, table: Path | None) -> list[str] | None:
    """Refuse options that do not go together, or output paths of the wrong type, before any file
    is read. Returns the layer names (None: every block; []: input space only)."""
    from theorylab.diagnose import DiagnoseError, parse_arch
    from theorylab.diagnose.core import check_outputs

    if arch is not None and model is None:
        raise DiagnoseError("--arch needs --model (the architecture of a weights file)")
    if arch is not None:
        parse_arch(arch)
    check_outputs(report, table, prefix="--")
    if labels is not None and model is None:
        raise DiagnoseError("--labels needs --model: the error analysis is about the model's mistakes")
    if layers is None:
        return None
    if model is None:
        raise DiagnoseError("--layers needs --model")
    return [] if layers.strip().lower() == "none" else [s.strip() for s in layers.split(",") if s.strip()]


def _read_inputs(train: Path, query: Path, labels: str | None) -> tuple[Any, Any, Any, Any]:
    """Training points, queries and (optionally) their labels, from the users' files."""
    X = read_points(train, "--train")
    Q = read_points(query, "--query")
    ytr = yq = None
    if labels is not None:
        ptr, pq = _labels_paths(labels)
        ytr = read_points(ptr, "--labels (train)") if ptr is not None else None
        yq = read_points(pq, "--labels (query)")
    return X, Q, ytr, yq


def _print_result(result: Any) -> None:
    """The summary in a few lines: sizes, a row per space, dimension, Lipschitz, errors, notes."""
    s = result.summary
    typer.echo(f"theorylab diagnose: {s['n_query']:,} queries against {s['n_train']:,} training points, "
               f"{s['dim']:,} values each" + (f"; model with {s['model.parameters']:,} parameters"
                                               if "model.parameters" in s else ""))
    typer.echo(f"  {'space':<16} {'width':>6} {'d*':>5} {'in hull':>8} {'in ellipsoid':>12} {'in box':>7} "
               f"{'median kNN pct':>14}")
    for r in result.spaces.to_dict("records"):
        typer.echo(f"  {r['space']:<16} {r['dim']:>6} {r['affine_dim']:>5} {r['in_hull'].value:>8.3f} "
                   f"{r['in_ellipsoid'].value:>12.3f} {r['in_box'].value:>7.3f} {r['knn_percentile_median']:>14.1f}")
    ids = {k: v for k, v in s.items() if k.startswith("input.id_")}
    if ids:
        typer.echo("  intrinsic dimension (input): " + ", ".join(f"{k[9:]} {_fmt(v)}" for k, v in ids.items()))
    if "model.lipschitz_upper" in s:
        typer.echo(f"  Lipschitz of the {s['model.lipschitz_of']}: lower {_fmt(s['model.lipschitz_lower_train'])} "
                   f"(train), {_fmt(s['model.lipschitz_lower_query'])} (queries); certified upper "
                   f"{_fmt(s['model.lipschitz_upper'])}")
    if "model.query_accuracy" in s:
        typer.echo(f"  query accuracy {s['model.query_accuracy']:.4f}; best error detector: "
                   f"{s.get('best_detector', 'n/a')} (AUROC {_fmt(s.get('best_detector_auroc'))})")
    if result.comparison is not None:
        c = result.comparison
        iv = f" [{c.interval[0]:.3f}, {c.interval[1]:.3f}]" if c.interval else ""
        typer.echo(f"  geometry vs PyOD: {c.status} (ΔAUROC {_fmt(c.estimate, '.3f')}{iv})")
    for n in result.notes:
        typer.echo(f"  note: {n}")
