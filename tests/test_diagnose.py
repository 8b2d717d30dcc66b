"""`diagnose` from Python and from the command line; safe model loading; clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import typer
from typer.testing import CliRunner

from theorylab.commands.diagnose import register
from theorylab.diagnose import DiagnoseError, build_model, diagnose, embed, load_model
from theorylab.errors import TheorylabError
from theorylab.geometry import in_hull
from theorylab.models import mlp


@pytest.fixture
def app() -> typer.Typer:
    a = typer.Typer()
    register(a)

    @a.command("noop")  # a second command keeps typer in multi-command mode
    def noop() -> None:
        pass

    return a


def test_python_api_columns_and_values() -> None:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 4))
    Q = np.vstack([0.2 * rng.standard_normal((10, 4)), 5 + rng.standard_normal((10, 4))])
    d = diagnose(X, Q)
    t = d.per_query
    assert t.inside_hull[:10].all() and not t.inside_hull[10:].any()
    assert (t.hull_distance[:10] == 0).all() and (t.hull_distance[10:] > 0).all()
    assert (t.hull_distance[10:] >= t.hull_distance_lower[10:] - 1e-12).all()
    assert t.in_ellipsoid[:10].all() and not t.in_box[10:].any()
    np.testing.assert_allclose(t.nn_distance, np.linalg.norm(Q[:, None] - X[None], axis=2).min(1))
    assert d.summary["fraction_inside_hull"] == 0.5 and d.summary["affine_dim"] == 4
    assert d.summary["all_certified"]


def test_model_embeddings_at_a_layer() -> None:
    rng = np.random.default_rng(1)
    X, Q = rng.standard_normal((200, 6)), rng.standard_normal((15, 6))
    net = mlp(6, (12, 5), 3, seed=0)
    E = embed(net, X, "3")  # output of the second ReLU
    with torch.no_grad():
        ref = net[:4](torch.as_tensor(X, dtype=torch.float32)).double().numpy()
    np.testing.assert_allclose(E, ref, atol=1e-5)
    d = diagnose(X, Q, net, "3")
    np.testing.assert_array_equal(d.per_query.inside_hull, in_hull(E, embed(net, Q, "3")).inside)
    with pytest.raises(DiagnoseError, match="no layer"):
        diagnose(X, Q, net, "nope")


@pytest.mark.parametrize(
    ("train", "query", "match"),
    [
        (np.full((5, 2), np.nan), np.zeros((1, 2)), "NaN"),
        (np.zeros((5, 2)), np.zeros((1, 3)), "coordinates"),
        (np.zeros((0, 2)), np.zeros((1, 2)), "empty"),
    ],
)
def test_bad_arrays_are_named(train: np.ndarray, query: np.ndarray, match: str) -> None:
    with pytest.raises(TheorylabError, match=match):
        diagnose(train, query)


def test_model_files_load_weights_only(tmp_path: Path) -> None:
    net = mlp(4, (8,), 2, seed=3)
    torch.save(net.state_dict(), tmp_path / "w.pt")
    loaded, shape = load_model(tmp_path / "w.pt", "mlp:in=4,widths=8,out=2")
    assert shape is None
    x = torch.randn(3, 4)
    torch.testing.assert_close(loaded(x), net(x))
    torch.save(net, tmp_path / "full.pt")  # a pickled module: refused, never executed
    with pytest.raises(DiagnoseError, match="weights_only"):
        load_model(tmp_path / "full.pt", "mlp:in=4,widths=8,out=2")
    with pytest.raises(DiagnoseError, match="does not fit"):
        load_model(tmp_path / "w.pt", "mlp:in=4,widths=9,out=2")
    with pytest.raises(DiagnoseError, match="unknown kind"):
        build_model("resnet:depth=50")
    net2d, shape2d = build_model("cnn2d:side=8,out=10,channels=4x8,hidden=16")
    assert shape2d == (1, 8, 8) and net2d(torch.zeros(2, 1, 8, 8)).shape == (2, 10)


def test_cli_end_to_end(app: typer.Typer, tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    np.save(tmp_path / "train.npy", rng.standard_normal((150, 3)))
    pd.DataFrame(rng.standard_normal((12, 3)), columns=["a", "b", "c"]).to_csv(tmp_path / "q.csv", index=False)
    r = CliRunner().invoke(app, ["diagnose", "--train", str(tmp_path / "train.npy"), "--query",
                                 str(tmp_path / "q.csv"), "--out", str(tmp_path / "out.parquet")])
    assert r.exit_code == 0, r.output
    table = pd.read_parquet(tmp_path / "out.parquet")
    assert len(table) == 12 and {"inside_hull", "hull_distance", "nn_distance"} <= set(table.columns)
    net = mlp(3, (6,), 2, seed=0)
    torch.save(net.state_dict(), tmp_path / "m.pt")
    r = CliRunner().invoke(app, ["diagnose", "--train", str(tmp_path / "train.npy"), "--query",
                                 str(tmp_path / "q.csv"), "--model", str(tmp_path / "m.pt"),
                                 "--arch", "mlp:in=3,widths=6,out=2", "--layer", "1", "--json"])
    assert r.exit_code == 0, r.output
    assert '"n_query": 12' in r.output


def test_cli_errors_are_theorylab_errors(app: typer.Typer, tmp_path: Path) -> None:
    np.save(tmp_path / "a.npy", np.zeros((5, 3)))
    np.save(tmp_path / "b.npy", np.zeros((5, 4)))
    r = CliRunner().invoke(app, ["diagnose", "--train", str(tmp_path / "a.npy"), "--query", str(tmp_path / "b.npy")])
    assert isinstance(r.exception, TheorylabError) and "coordinates" in str(r.exception)
    r = CliRunner().invoke(app, ["diagnose", "--train", str(tmp_path / "a.npy"), "--query",
                                 str(tmp_path / "a.npy"), "--model", str(tmp_path / "a.npy")])
    assert isinstance(r.exception, TheorylabError) and "--arch" in str(r.exception)
