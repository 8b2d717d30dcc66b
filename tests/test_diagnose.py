"""``theorylab.diagnose`` from Python: every notion checked against an independent computation,
the model probes against exact oracles, bad inputs refused before any work, nothing written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import theorylab
from theorylab.diagnose import DiagnoseError, Diagnosis, diagnose, embed
from theorylab.engine.checks import STATUSES
from theorylab.geometry import MinVolumeEllipsoid, in_hull
from theorylab.models import mlp, train
from theorylab.probes import local_affine_map
from theorylab.probes.activations import layer_outputs

FAST = {"id_bootstrap": 3, "id_points": 200, "n_boot": 200, "reference_points": 150, "model_train_points": 60}


def _blobs(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    centres = np.array([[0, 0, 0, 0, 0, 0], [1.5, 0, 0, 1, 0, 0], [0, 1.5, 0, 0, 1, 0]], float)
    return centres[y] + rng.standard_normal((n, 6)), y


@pytest.fixture(scope="module")
def trained() -> tuple[torch.nn.Module, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    X, y = _blobs(300, 0)
    Q, yq = _blobs(90, 1)
    net = mlp(6, (16, 8), 3, seed=0)
    train(net, X, y, steps=150, lr=1e-2, seed=0)
    return net, X, y, Q, yq


@pytest.fixture(scope="module")
def full(trained, tmp_path_factory) -> tuple[Diagnosis, Path]:
    net, X, y, Q, yq = trained
    out = tmp_path_factory.mktemp("diag")
    d = diagnose(X, Q, net, y_train=y, y_query=yq, report=out / "r.html", table=out / "t.parquet",
                 title="<script>alert(1)</script> & co", **FAST)
    return d, out


def test_input_space_notions_match_independent_computations() -> None:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 4))
    Q = np.vstack([0.2 * rng.standard_normal((10, 4)), 5 + rng.standard_normal((10, 4))])
    d = diagnose(X, Q, **FAST)
    t = d.per_query
    hull = in_hull(X, Q)
    np.testing.assert_array_equal(t["input/in_hull"].to_numpy(bool), hull.inside)
    np.testing.assert_allclose(t["input/hull_distance"], hull.distance)
    assert (t["input/hull_distance"][10:] >= t["input/hull_distance_lower"][10:] - 1e-12).all()
    brute = np.linalg.norm(Q[:, None] - X[None], axis=2)
    np.testing.assert_allclose(t["input/knn_distance"], brute.min(1))
    ell = MinVolumeEllipsoid(tol=1e-3).fit(X)  # exact space (4 ≤ 64 dims): the same fit
    np.testing.assert_allclose(t["input/ellipsoid_mahalanobis"], ell.mahalanobis(Q), rtol=1e-6)
    assert t["input/in_box"][:10].all() and not t["input/in_box"][10:].any()
    assert (t["input/knn_percentile"][10:] == 100).all() and (t["input/knn_percentile"][:10] < 100).all()
    s = d.summary
    assert s["input.in_hull"] == 0.5 and s["input.affine_dim"] == 4 and s["input.hull_all_certified"]
    assert d.auroc is None and d.comparison is None and not d.model
    row = d.spaces.iloc[0]
    assert row["in_hull"].lo < 0.5 < row["in_hull"].hi  # a Wilson interval over the queries
    assert set(d.dimension.method) == {"affine", "twonn", "mle"}


def test_percentile_reference_is_leave_one_out() -> None:
    X = np.arange(10.0)[:, None]  # neighbours 1 apart: every leave-one-out 1-NN distance is 1
    d = diagnose(X, np.array([[4.5], [20.0]]), id_methods=("mle",), **{**FAST, "id_bootstrap": 0})
    np.testing.assert_allclose(d.reference["input"]["knn_distance"], np.ones(10))
    np.testing.assert_allclose(d.per_query["input/knn_percentile"], [0.0, 100.0])


def test_hull_on_a_stated_sample_when_asked() -> None:
    rng = np.random.default_rng(3)
    X, Q = rng.standard_normal((200, 3)), rng.standard_normal((40, 3))
    d = diagnose(X, Q, hull_queries=10, **FAST)
    col = d.per_query["input/in_hull"]
    assert col.notna().sum() == 10 and d.summary["hull_queries"] == 10
    assert any("sample of 10 of 40 queries" in n for n in d.notes)


def test_deterministic_given_the_seed() -> None:
    rng = np.random.default_rng(4)
    X, Q = rng.standard_normal((150, 5)), rng.standard_normal((20, 5))
    a, b = diagnose(X, Q, **FAST), diagnose(X, Q, **FAST)
    pd.testing.assert_frame_equal(a.per_query, b.per_query)
    assert a.dimension.equals(b.dimension)


def test_model_probes_agree_with_exact_oracles(trained, full) -> None:
    net, _X, _y, Q, yq = trained
    d, _ = full
    t = d.per_query
    z = layer_outputs(net, Q, [""])[""]
    top = np.sort(z, axis=1)
    np.testing.assert_allclose(t["model/margin"], top[:, -1] - top[:, -2], rtol=1e-9)
    np.testing.assert_array_equal(t["pred"], z.argmax(1))
    np.testing.assert_array_equal(t["error"], z.argmax(1) != yq)
    for i in (0, 7, 33):  # ‖J‖₂ is the norm of the exact local affine map of the ReLU net
        A, _ = local_affine_map(net, Q[i])
        np.testing.assert_allclose(t["model/jacobian_norm"][i], np.linalg.norm(A, 2), rtol=1e-9)
        a, b = np.argsort(-z[i])[:2]
        np.testing.assert_allclose(t["model/local_lipschitz"][i], np.linalg.norm(A[a] - A[b]), rtol=1e-9)
    assert (t["model/local_complexity"] >= 0).all()
    m = d.model
    assert m["lipschitz_lower_train"] <= m["lipschitz_upper"] + 1e-6
    assert m["lipschitz_lower_query"] <= m["lipschitz_upper"] + 1e-6
    assert m["lipschitz_upper_method"] == "ECLipsE-Fast"
    assert d.partition is not None and d.partition.count >= 1 and d.slice_info["query"] == int(np.flatnonzero(t["error"])[0])


def test_every_block_is_a_space_read_the_one_way(trained, full) -> None:
    net, X, _y, Q, _yq = trained
    d, _ = full
    assert list(d.spaces.space) == ["input", "1:ReLU", "3:ReLU", "4:Linear"]
    E = layer_outputs(net, X, ["3"])["3"]
    np.testing.assert_allclose(embed(net, X, "3"), E)
    hull = in_hull(E, layer_outputs(net, Q, ["3"])["3"])
    np.testing.assert_array_equal(d.per_query["3:ReLU/in_hull"].to_numpy(bool), hull.inside)
    only = diagnose(X, Q, net, layers=["1"], detectors=(), **FAST)
    assert list(only.spaces.space) == ["input", "1:ReLU"] and "input/pyod_knn" not in only.per_query
    with pytest.raises(DiagnoseError, match="no layer 'nope'"):
        diagnose(X, Q, net, layers=["nope"])


def test_error_analysis_and_the_preregistered_comparison(full) -> None:
    d, _ = full
    a = d.auroc
    assert set(a.family) == {"geometry", "PyOD", "model confidence"}
    assert {"PyOD KNN", "PyOD LOF", "PyOD IForest", "PyOD ECOD"} <= set(a.score)
    assert ((a.lo <= a.hi) | a.lo.isna()).all() and a.auroc.between(0, 1).all()
    assert (a.errors == int(d.per_query["error"].sum())).all()
    c = d.comparison
    assert c.status in STATUSES and c.side == "above" and c.threshold == 0.0
    geo, pyod = a[a.family == "geometry"].auroc.max(), a[a.family == "PyOD"].auroc.max()
    assert c.estimate == pytest.approx(geo - pyod)
    assert d.summary["geometry_vs_pyod"] == c.status


def test_files_are_written_and_text_escaped_once(full) -> None:
    d, out = full
    t = pd.read_parquet(out / "t.parquet")
    pd.testing.assert_frame_equal(t, d.per_query)
    html = (out / "r.html").read_text()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in html
    for section in ("Where the queries stand", "The data's dimension", "The model around the data",
                    "Which notion predicts the model's errors", "What was sampled"):
        assert section in html
    assert html.count("data:image/png;base64,") >= 5
    d.write_table(out / "t.csv")
    assert len(pd.read_csv(out / "t.csv")) == len(d.per_query)


def _bad(tmp_path: Path, *args, **kwargs) -> str:
    with pytest.raises(DiagnoseError) as e:
        diagnose(*args, report=tmp_path / "r.html", table=tmp_path / "t.parquet", **kwargs)
    assert not list(tmp_path.iterdir()), "nothing may be written for a refused input"
    assert "\n" not in str(e.value)
    return str(e.value)


def test_bad_inputs_are_refused_before_any_work(trained, tmp_path: Path) -> None:
    net, X, y, Q, yq = trained
    cases = [
        ((np.full((5, 2), np.nan), np.zeros((1, 2))), {}, "NaN"),
        ((np.zeros((5, 2)), np.zeros((1, 3))), {}, "coordinates"),
        ((np.zeros((0, 2)), np.zeros((1, 2))), {}, "0 rows"),
        ((np.zeros((1, 2)), np.zeros((1, 2))), {}, "need at least 3"),
        ((np.zeros((5, 2)), np.zeros((0, 2))), {}, "queries: .*0 rows"),
        ((np.zeros((5, 2), complex), np.zeros((1, 2))), {}, "complex"),
        ((np.array([["a", "b"]] * 5), np.zeros((1, 2))), {}, "non-numeric"),
        ((X, Q, net), {"y_query": yq[:-1]}, "labels for 90 rows"),
        ((X, Q, net), {"y_query": yq + 0.5}, "integer class indices"),
        ((X, Q, net), {"y_query": yq + 3}, r"outside the model's classes \[0, 2\]"),
        ((X, Q, net), {"y_train": np.c_[y, y]}, "one label per row"),
        ((X, Q), {"y_query": yq}, "labels need a model"),
        ((X, Q), {"layers": ["1"]}, "layers need a model"),
        ((X, Q, net), {"layers": ["7"]}, "no layer '7'"),
        ((X, Q, "not a net"), {}, "torch.nn.Module"),
        ((X[:, :5], Q[:, :5], net), {}, "cannot run"),
        ((X, Q), {"k": 0}, "greater than or equal to 1"),
        ((X, Q), {"kk": 3}, "unknown diagnose option 'kk'"),
        ((X, Q), {"detectors": ("knn", "ocsvm")}, "detectors"),
        ((X, Q), {"n_boot": 10**9}, "n_boot"),
        ((X, Q), {"input_shape": (2, 2)}, "input_shape"),
    ]
    for args, kwargs, match in cases:
        msg = _bad(tmp_path, *args, **kwargs)
        assert re.search(match, msg), (match, msg)
    with pytest.raises(DiagnoseError, match=r"unsupported type '\.pdf'"):
        diagnose(X, Q, report=tmp_path / "r.pdf")
    assert not list(tmp_path.iterdir())


def test_images_are_flattened_and_their_shape_kept() -> None:
    from theorylab.models import cnn2d

    rng = np.random.default_rng(5)
    X, Q = rng.random((60, 1, 8, 8)), rng.random((10, 1, 8, 8))
    net = cnn2d(8, 3, channels=(2,), hidden=6, seed=0)
    d = diagnose(X, Q, net, detectors=("knn",), **FAST)
    assert d.summary["input_shape"] == [1, 8, 8] and d.summary["dim"] == 64
    assert np.isfinite(d.per_query["model/jacobian_norm"]).all()


def test_theorylab_diagnose_is_callable_twice_and_import_is_light() -> None:
    rng = np.random.default_rng(6)
    X, Q = rng.standard_normal((50, 2)), rng.standard_normal((5, 2))
    for _ in range(2):  # the second access returns the (callable) module, not the function
        assert isinstance(theorylab.diagnose(X, Q, **FAST), Diagnosis)
    assert callable(theorylab.diagnose.load_model)
    code = ("import sys, theorylab.diagnose, theorylab.commands.diagnose; "
            "assert 'torch' not in sys.modules and 'pandas' not in sys.modules, sorted(sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_user_text_in_the_report_is_escaped_once(tmp_path: Path) -> None:
    from collections import OrderedDict

    from torch import nn

    net = nn.Sequential(OrderedDict([("<b>lin", nn.Linear(3, 4)), ("r'\"&", nn.ReLU()), ("out", nn.Linear(4, 2))]))
    rng = np.random.default_rng(7)
    d = diagnose(rng.standard_normal((40, 3)), rng.standard_normal((6, 3)), net, detectors=(),
                 report=tmp_path / "r.html", **FAST)
    assert "r'\"&:ReLU" in list(d.spaces.space)
    html = (tmp_path / "r.html").read_text()
    assert "<b>lin" not in html and "r&#39;&#34;&amp;:ReLU" in html and "&amp;amp;" not in html


def test_a_smooth_net_and_a_tiny_training_set_still_get_a_report(tmp_path: Path) -> None:
    rng = np.random.default_rng(8)
    X, Q = rng.standard_normal((6, 3)), rng.standard_normal((8, 3))
    net = mlp(3, (5,), 2, activation="gelu", seed=0)
    y, yq = np.array([0, 1, 0, 1, 0, 1]), rng.integers(0, 2, 8)
    d = diagnose(X, Q, net, y_train=y, y_query=yq, report=tmp_path / "r.html", **FAST)
    assert any("no linear-region measures" in n for n in d.notes)  # GELU is not piecewise affine
    assert d.per_query["model/local_complexity"].isna().all() and d.partition is None
    assert d.model["lipschitz_upper_method"] == "spectral product"
    assert any("neighbours: only 6 training points" in n for n in d.notes)
    assert (tmp_path / "r.html").exists()
