"""``theorylab diagnose``: is my test data interpolating or extrapolating, by several definitions?

Model files are never unpickled: ``--model`` takes a ``state_dict`` saved with
``torch.save(model.state_dict(), path)`` and is read with ``torch.load(weights_only=True)``;
``--arch`` says which theorylab architecture it fits (see
:func:`theorylab.diagnose.build_model`).
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the ``diagnose`` command to ``app``."""

    @app.command("diagnose")
    def diagnose_cmd(
        train: Path = typer.Option(..., "--train", help="training points: .npy, .csv or .parquet (rows = points)"),
        query: Path = typer.Option(..., "--query", help="query points, same format and width"),
        model: Path | None = typer.Option(None, "--model", help="state_dict file (torch.save), loaded with weights_only=True"),
        arch: str | None = typer.Option(
            None, "--arch",
            help="architecture of --model, e.g. 'mlp:in=64,widths=128x64,out=10' or 'cnn2d:side=8,out=10'"),
        layer: str | None = typer.Option(None, "--layer", help="submodule whose output is the embedding (default: model output)"),
        out: Path | None = typer.Option(None, "--out", help="write the per-query table here (.csv, .parquet or .json)"),
        distance: bool | None = typer.Option(None, "--distance/--no-distance",
                                             help="exact hull distances (default: when affine dim ≤ 128)"),
        as_json: bool = typer.Option(False, "--json", help="print the summary as JSON"),
    ) -> None:
        """Per-query interpolation diagnostics: inside hull (certified), distance to hull,
        nearest-neighbour distance, minimum-volume ellipsoid, bounding box, in-range fraction."""
        from theorylab.data import load_array
        from theorylab.diagnose import DiagnoseError, diagnose, load_model

        if (model is None) != (arch is None):
            raise DiagnoseError("--model and --arch go together (a state_dict needs its architecture)")
        if layer is not None and model is None:
            raise DiagnoseError("--layer needs --model")
        if out is not None and out.suffix.lower() not in (".csv", ".parquet", ".json"):
            raise DiagnoseError(f"--out {out}: unsupported type {out.suffix!r} (allowed: .csv, .parquet, .json)")
        X = load_array(train)
        Q = load_array(query)
        net, shape = load_model(model, arch) if model is not None and arch is not None else (None, None)
        result = diagnose(X, Q, net, layer, input_shape=shape, distance=distance)
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
            suffix = out.suffix.lower()
            if suffix == ".csv":
                result.per_query.to_csv(out, index_label="query")
            elif suffix == ".parquet":
                result.per_query.to_parquet(out)
            else:
                result.per_query.to_json(out, orient="records", indent=1)
        if as_json:
            typer.echo(json.dumps(result.summary, indent=2))
            return
        typer.echo(f"theorylab diagnose: {result.summary['n_query']} queries against {result.summary['n_train']} "
                   f"training points in {result.summary['dim']} dims (affine dim {result.summary['affine_dim']})")
        for k, v in result.summary.items():
            typer.echo(f"  {k:<26} {v if not isinstance(v, float) else f'{v:.4g}'}")
        if out is not None:
            typer.echo(f"per-query table written to {out}")
        else:
            typer.echo(result.per_query.head(20).to_string())
