"""``theorylab diagnose`` end to end, and every bad input: one line, exit code 2, nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from theorylab.cli import main
from theorylab.diagnose import build_model, save_model
from theorylab.models import train

ARCH = "mlp:in=3,widths=8,out=2"
FAST = ["--set", "id_bootstrap=2", "--set", "n_boot=200", "--set", "id_points=100", "--set", "detectors=knn,ecod",
        "--quiet"]


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("in")
    rng = np.random.default_rng(0)
    X, Q = rng.standard_normal((120, 3)), rng.standard_normal((30, 3))
    y, yq = (X[:, 0] > 0).astype(int), (Q[:, 0] + 0.5 * Q[:, 1] > 0).astype(int)
    np.save(d / "X.npy", X)
    pd.DataFrame(Q, columns=["a", "b", "c"]).to_csv(d / "Q.csv", index=False)
    np.save(d / "y.npy", y)
    pd.DataFrame({"label": yq}).to_csv(d / "yq.csv", index=False)
    net, _ = build_model(ARCH)
    train(net, X, y, steps=50, seed=0)
    save_model(net, d / "m.safetensors", ARCH)
    torch.save(net.state_dict(), d / "m.pt")
    torch.save(net, d / "module.pt")
    np.save(d / "empty.npy", np.zeros((0, 3)))
    np.save(d / "one.npy", np.zeros((1, 3)))
    np.save(d / "wide.npy", np.zeros((10, 4)))
    np.save(d / "complex.npy", np.ones((10, 3), complex))
    np.save(d / "object.npy", np.array([{"a": 1}] * 10, dtype=object), allow_pickle=True)
    np.save(d / "y_short.npy", y[:-1])
    np.save(d / "y_float.npy", y + 0.5)
    np.save(d / "y_big.npy", y + 5)
    (d / "nan.csv").write_text("a,b,c\n1,2,3\n4,nan,6\n7,8,9\n")
    (d / "X.txt").write_text("1 2 3\n")
    return d


def _run(args: list[str], capsys: pytest.CaptureFixture) -> tuple[int, str, str]:
    try:
        main(args)
        code = 0
    except SystemExit as e:
        code = int(e.code or 0)
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def test_end_to_end_with_safetensors_and_state_dict(files: Path, tmp_path: Path, capsys) -> None:
    base = ["diagnose", "--train", str(files / "X.npy"), "--query", str(files / "Q.csv"),
            "--labels", f"{files / 'y.npy'},{files / 'yq.csv'}", *FAST]
    code, out, err = _run([*base, "--model", str(files / "m.safetensors"), "--report", str(tmp_path / "r.html"),
                           "--table", str(tmp_path / "t.parquet")], capsys)
    assert code == 0, err
    assert "geometry vs PyOD:" in out and "report written to" in out
    t = pd.read_parquet(tmp_path / "t.parquet")
    assert len(t) == 30 and {"error", "input/in_hull", "1:ReLU/knn_distance", "model/local_complexity"} <= set(t.columns)
    assert (tmp_path / "r.html").read_text().startswith("<!DOCTYPE html>")
    code, out, err = _run([*base, "--model", str(files / "m.pt"), "--arch", ARCH, "--json", "--layers", "none"], capsys)
    assert code == 0, err
    s = json.loads(out)
    assert s["n_query"] == 30 and s["layers"] == [] and s["geometry_vs_pyod"] in ("supported", "not supported", "inconclusive")


def test_progress_lines_with_an_eta_when_not_a_tty(files: Path, capsys) -> None:
    code, _, err = _run(["diagnose", "--train", str(files / "X.npy"), "--query", str(files / "Q.csv"),
                         *[a for a in FAST if a != "--quiet"]], capsys)
    assert code == 0
    lines = [ln for ln in err.splitlines() if ln.startswith("[diagnose")]
    assert len(lines) >= 8 and all("ETA" in ln for ln in lines) and "\r" not in err


BAD = [
    (["--train", "X.txt", "--query", "Q.csv"], "unsupported file type '.txt'"),
    (["--train", "nope.npy", "--query", "Q.csv"], "no such file"),
    (["--train", "nan.csv", "--query", "Q.csv"], "NaN"),
    (["--train", "empty.npy", "--query", "Q.csv"], "0 rows"),
    (["--train", "one.npy", "--query", "Q.csv"], "need at least 3"),
    (["--train", "X.npy", "--query", "wide.npy"], "coordinates"),
    (["--train", "complex.npy", "--query", "Q.csv"], "complex"),
    (["--train", "object.npy", "--query", "Q.csv"], "pickle"),
    (["--train", "X.npy", "--query", "Q.csv", "--model", "m.safetensors", "--labels", "y_short.npy,yq.csv"], "labels for 120 rows"),
    (["--train", "X.npy", "--query", "Q.csv", "--model", "m.safetensors", "--labels", "y_float.npy,yq.csv"], "integer class"),
    (["--train", "X.npy", "--query", "Q.csv", "--model", "m.safetensors", "--labels", "y_big.npy,yq.csv"], "outside the model's classes"),
    (["--train", "X.npy", "--query", "Q.csv", "--model", "m.safetensors", "--labels", "yq.csv"], "two files"),
    (["--train", "X.npy", "--query", "Q.csv", "--labels", "y.npy,yq.csv"], "--labels needs --model"),
    (["--train", "X.npy", "--query", "Q.csv", "--model", "m.pt", "--arch", "mlp:in=3,widths=9,out=2"], "does not fit"),
    (["--train", "X.npy", "--query", "Q.csv", "--model", "m.pt", "--arch", "mlp:in=3,widths=9000000,out=2"], "in the file"),
    (["--train", "X.npy", "--query", "Q.csv", "--model", "m.pt", "--arch", "mlp:in=3;out=2"], "missing out"),
    (["--train", "X.npy", "--query", "Q.csv", "--model", "m.pt"], "no architecture"),
    (["--train", "X.npy", "--query", "Q.csv", "--model", "module.pt", "--arch", ARCH], "weights_only"),
    (["--train", "X.npy", "--query", "Q.csv", "--model", "m.safetensors", "--layers", "9"], "no layer '9'"),
    (["--train", "X.npy", "--query", "Q.csv", "--arch", ARCH], "--arch needs --model"),
    (["--train", "X.npy", "--query", "Q.csv", "--layers", "1"], "--layers needs --model"),
    (["--train", "X.npy", "--query", "Q.csv", "--set", "kk=1"], "unknown diagnose option 'kk'"),
    (["--train", "X.npy", "--query", "Q.csv", "--set", "k=0"], "option k"),
    (["--train", "X.npy", "--query", "Q.csv", "--set", "hull_queries=1e12"], "hull_queries"),
    (["--train", "X.npy", "--query", "Q.csv", "--set", "detectors=[/x]"], "detectors"),
    (["--train", "X.npy", "--query", "Q.csv", "--set", "noequals"], "key=value"),
    (["--train", "X.npy", "--query", "Q.csv", "--report", "OUT/r.pdf"], "unsupported type '.pdf'"),
    (["--train", "X.npy", "--query", "Q.csv", "--table", "OUT/t.xlsx"], "unsupported type '.xlsx'"),
]


@pytest.mark.parametrize(("args", "match"), BAD, ids=[m for _, m in BAD])
def test_bad_input_is_one_line_exit_2_nothing_written(files: Path, tmp_path: Path, args: list[str], match: str,
                                                       capsys) -> None:
    out = tmp_path / "out"

    def path(a: str) -> str:
        if a.startswith("OUT/"):
            return str(out / a[4:])
        if "," in a and not a.startswith("mlp"):
            return ",".join(str(files / p) if p else "" for p in a.split(","))
        return str(files / a) if (files / a).suffix and not a.startswith(("mlp", "--")) and "=" not in a else a

    argv = ["diagnose", *[path(a) for a in args], "--report", str(out / "r.html"), "--table", str(out / "t.parquet"),
            "--quiet"]
    if any(a.startswith("OUT/") for a in args):
        argv = ["diagnose", *[path(a) for a in args], "--quiet"]
    code, stdout, err = _run(argv, capsys)
    assert code == 2, (stdout, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and match in lines[0], err
    assert not out.exists()
