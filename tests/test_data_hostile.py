"""A user's data files, as an unlucky user and as an attacker would write them (issue 11, part 2).

Each bad file is refused with a :class:`DataError` naming the file and the problem; nothing a
user loads can run code; the commonest ways of writing a CSV are read right, and the reader
says what it read (rows, columns, header row yes/no).
"""

from __future__ import annotations

import ast
import os
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from theorylab.arrays import ArrayError, as_labels, check_pair
from theorylab.data import DataError, load_array, load_labels, read_array

SRC = Path(__file__).resolve().parents[1] / "src" / "theorylab"
X = np.random.default_rng(0).normal(size=(200, 4))


# -- CSV headers: the commonest writers read right, and the reader says what it read -------------------
def test_pandas_numeric_header_is_a_header_not_a_row(tmp_path):
    p = tmp_path / "train.csv"
    pd.DataFrame(X).to_csv(p, index=False)  # writes the header 0,1,2,3
    f = read_array(p)
    assert f.rows == 200 and f.n_columns == 4 and f.header is True  # not 201 points
    np.testing.assert_allclose(f.array, X)
    assert f.describe() == ("train.csv: 200 rows × 4 columns (CSV; header row: yes "
                            "(0..3: pandas' names for unnamed columns))")
    assert f.as_dict()["header"] is True and f.as_dict()["rows"] == 200


@pytest.mark.parametrize(("write", "header", "index_dropped"), [
    (lambda p: pd.DataFrame(X).to_csv(p), True, True),  # with its row-number index
    (lambda p: pd.DataFrame(X, columns=list("abcd")).to_csv(p, index=False), True, False),
    (lambda p: np.savetxt(p, X, delimiter=","), False, False),
    (lambda p: np.savetxt(p, X), False, False),  # np.savetxt's default: space separated
    (lambda p: np.savetxt(p, X, delimiter="\t"), False, False),
    (lambda p: np.savetxt(p, X, delimiter=",", header="a,b,c,d"), True, False),  # "# a,b,c,d"
])
def test_common_csv_writers_read_right(tmp_path, write, header, index_dropped):
    p = tmp_path / "x.csv"
    write(p)
    f = read_array(p)
    np.testing.assert_allclose(f.array, X)
    assert (f.header, f.index_dropped) == (header, index_dropped)
    assert f"200 rows × 4 columns (CSV; header row: {'yes' if header else 'no'}" in f.describe()


def test_header_rule_can_be_overridden(tmp_path):
    p = tmp_path / "ints.csv"
    rows = np.array([[0, 1, 2], [5, 6, 7], [8, 9, 10]])
    np.savetxt(p, rows, delimiter=",", fmt="%d")  # a first row that happens to be 0,1,2
    assert read_array(p).rows == 2  # the rule reads pandas' names, and says so
    f = read_array(p, header=False)
    assert f.rows == 3 and f.header is False and "as asked" in f.describe()
    np.testing.assert_array_equal(f.array, rows)


def test_one_column_labels_written_by_pandas_or_numpy(tmp_path):
    y = np.arange(50) % 3
    pd.Series(y).to_csv(tmp_path / "p.csv", index=False)  # header "0"
    np.savetxt(tmp_path / "n.csv", y, fmt="%d")  # first row "0" is a label
    for name in ("p.csv", "n.csv"):
        f = load_labels(tmp_path / name, n=50, n_classes=3)
        np.testing.assert_array_equal(f.array, y)
        assert f.array.dtype == np.int64


# -- bad files: one message naming the file and the problem ---------------------------------------------
def _save(tmp_path: Path, name: str, arr: np.ndarray) -> Path:
    p = tmp_path / name
    np.save(p, arr)
    return p


def _text(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def _bytes(tmp_path: Path, name: str, data: bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


@pytest.mark.parametrize(("make", "message"), [
    (lambda t: _save(t, "c.npy", X.astype(np.complex128) + 1j), "complex dtype complex128 (points must be real"),
    (lambda t: _save(t, "s.npy", np.array([["a", "b"]])), "non-numeric dtype <U1"),
    (lambda t: _save(t, "r.npy", np.zeros(3, dtype=[("a", "f8"), ("b", "i4")])), "structured dtype"),
    (lambda t: _save(t, "d.npy", np.array(["2020-01-01"], dtype="datetime64[D]")), "non-numeric dtype"),
    (lambda t: _save(t, "3d.npy", np.zeros((2, 3, 4))), "expected a 2-D array (n points, d features), got shape (2, 3, 4)"),
    (lambda t: _save(t, "e.npy", np.zeros((0, 3))), "empty (0 rows)"),
    (lambda t: _save(t, "w.npy", np.zeros((3, 0))), "points have 0 coordinates"),
    (lambda t: _save(t, "inf.npy", np.array([[1.0, np.inf], [0, 1]])), "1 NaN/inf values (first at row 0, column 1)"),
    (lambda t: _text(t, "n.csv", "a,b\n1,2\n3,\n"), "1 NaN/inf values (first at row 1, column 1)"),
    (lambda t: _text(t, "cx.csv", "a,b\n1+2j,3\n"), "non-numeric column a, e.g. '1+2j'"),
    (lambda t: _text(t, "h.csv", "a,b,c\n"), "empty (0 rows)"),
    (lambda t: _text(t, "z.csv", ""), "empty file (no rows)"),
    (lambda t: _text(t, "rag.csv", "1,2\n3,4,5\n"), "cannot read"),
    (lambda t: _bytes(t, "b.parquet", b"PAR1 not really"), "cannot read"),
    (lambda t: _text(t, "x.txt", "1"), "unsupported file type '.txt'"),
    (lambda t: t, "is a directory"),
])
def test_bad_files_are_refused_with_the_reason(tmp_path, make, message):
    p = make(tmp_path)
    with pytest.raises(DataError) as ei:
        load_array(p)
    assert message in str(ei.value) and str(p) in str(ei.value)


def test_truncated_npy_and_one_row(tmp_path):
    p = _save(tmp_path, "t.npy", X)
    p.write_bytes(p.read_bytes()[:1000])
    with pytest.raises(DataError, match=r"truncated \(.* bytes of data, the header's shape \(200, 4\) needs 6,400\)"):
        load_array(p)
    one = _save(tmp_path, "one.npy", X[:1])
    assert load_array(one).shape == (1, 4)  # one query is fine
    with pytest.raises(DataError, match="1 row, need at least 2"):
        load_array(one, min_rows=2)  # a training set with one point has no geometry


def test_non_numeric_parquet_column_is_named_and_bool_is_numeric(tmp_path):
    p = tmp_path / "x.parquet"
    pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]}).to_parquet(p)
    with pytest.raises(DataError, match=r"non-numeric column b, e\.g\. 'x'"):
        load_array(p)
    pd.DataFrame({"a": [1.0, 2.0], "b": [True, False]}).to_parquet(p)
    np.testing.assert_array_equal(load_array(p), [[1, 1], [2, 0]])


def test_mismatched_widths():
    with pytest.raises(ArrayError, match="queries have 3 coordinates but training points have 4"):
        check_pair(X, np.zeros((5, 3)))


@pytest.mark.parametrize(("y", "kw", "message"), [
    (np.array([0, 1, 2.5]), {}, "labels must be integer class indices; row 2 is 2.5"),
    (np.array([0, 1, np.nan]), {}, "row 2 is nan"),
    (np.array([0, -1, 2]), {}, "labels must be class indices >= 0; row 1 is -1"),
    (np.array([0, 1, 2]), {"n": 4}, "3 labels for 4 points"),
    (np.array([0, 1, 12]), {"n_classes": 10}, "row 2 has label 12, outside 0..9 (10 classes)"),
    (np.zeros((3, 2)), {}, "expected one label per point"),
    (np.array(["cat", "dog"]), {}, "labels must be integer class indices, got dtype <U3"),
    (np.array([1 + 0j, 2]), {}, "got dtype complex128"),
    (np.array([]), {}, "empty (0 labels)"),
])
def test_wrong_labels_are_refused(y, kw, message):
    with pytest.raises(ArrayError) as ei:
        as_labels(y, "y_train", **kw)
    assert message in str(ei.value)


def test_label_file_with_the_wrong_count(tmp_path):
    np.savetxt(tmp_path / "y.csv", np.arange(10) % 2, fmt="%d")
    with pytest.raises(DataError, match=r"y\.csv: 10 labels for 200 points"):
        load_labels(tmp_path / "y.csv", n=200)


# -- nothing a user loads can run code ---------------------------------------------------------------------
class _Exploit:
    """Unpickling this creates a marker file: proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (self.marker, "pwned"))


@pytest.mark.parametrize("kind", ["pickle as .npy", "object array .npy", "pickle as .csv", "pickle as .parquet"])
def test_malicious_files_are_refused_and_run_no_code(tmp_path, kind):
    marker = tmp_path / "marker"
    payload = pickle.dumps(_Exploit(marker))
    if kind == "pickle as .npy":
        p = tmp_path / "evil.npy"
        p.write_bytes(payload)
        expect = "not a NumPy .npy array (a pickle); refused"
    elif kind == "object array .npy":
        p = tmp_path / "evil.npy"
        np.save(p, np.array([_Exploit(marker)], dtype=object), allow_pickle=True)
        assert not marker.exists()
        expect = "holds Python objects (dtype object), which load by unpickling and could run code; refused"
    else:
        p = tmp_path / f"evil.{kind.rsplit('.', 1)[1]}"
        p.write_bytes(payload)
        expect = "cannot read" if p.suffix == ".parquet" else ""
    with pytest.raises(DataError) as ei:
        load_array(p)
    assert expect in str(ei.value)
    assert not marker.exists()  # no code ran


def test_torch_weights_only_refuses_a_malicious_pickle(tmp_path):
    torch = pytest.importorskip("torch")
    marker = tmp_path / "marker"
    p = tmp_path / "model.pt"
    torch.save({"w": torch.zeros(2), "evil": _Exploit(marker)}, p)
    assert not marker.exists()
    with pytest.raises(pickle.UnpicklingError):
        torch.load(p, weights_only=True)  # the only way theorylab calls torch.load (checked below)
    assert not marker.exists()


def _calls(tree: ast.AST) -> list[tuple[str, ast.Call]]:
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
            base = f.value.id if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) else ""
            out.append((f"{base}.{name}" if base else name, node))
    return out


def _kw(call: ast.Call, key: str) -> object:
    for k in call.keywords:
        if k.arg == key and isinstance(k.value, ast.Constant):
            return k.value.value
    return None


def test_no_code_path_in_theorylab_unpickles_user_files():
    """Every ``torch.load`` passes ``weights_only=True``, every ``np.load`` ``allow_pickle=False``,
    and nothing calls pickle, joblib, dill, cloudpickle or ``pandas.read_pickle``."""
    problems = []
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        rel = os.path.relpath(path, SRC)
        for name, call in _calls(tree):
            where = f"{rel}:{call.lineno} {name}"
            if name.endswith("torch.load") or (name == "load" and _kw(call, "weights_only") is not None):
                if _kw(call, "weights_only") is not True:
                    problems.append(f"{where} without weights_only=True")
            elif name in ("np.load", "numpy.load") and _kw(call, "allow_pickle") is not False:
                problems.append(f"{where} without allow_pickle=False")
            elif name in ("pickle.load", "pickle.loads", "pd.read_pickle", "pandas.read_pickle", "joblib.load",
                          "dill.load", "dill.loads", "cloudpickle.load", "cloudpickle.loads", "read_pickle"):
                problems.append(where)
    assert not problems, problems
