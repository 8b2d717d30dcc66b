"""Data sets as deterministic functions of their arguments (synthetic data: :mod:`.synthetic`).

* :func:`load_digits` — scikit-learn's 8×8 digits (1,797 images, shipped with scikit-learn).
* :func:`load_mnist1d` — MNIST-1D (Greydanus 2020) generated offline with
  ``mnist1d.data.make_dataset``; never ``get_dataset`` (which downloads).
* :func:`load_mnist`, :func:`load_cifar10` — real data from files the user already has
  (MNIST IDX files as torchvision stores them, CIFAR-10 binary batches). No pickles are read.
* :func:`read_array` / :func:`load_array` / :func:`load_labels` — a user's ``.npy``, ``.csv`` or
  ``.parquet`` file, parsed as data (never unpickled), with what was read (rows, columns,
  header row yes/no) for the summary.
"""

from __future__ import annotations

import gzip
import struct
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from theorylab.arrays import as_labels, as_points
from theorylab.errors import TheorylabError

__all__ = [
    "ArrayFile",
    "DataError",
    "Dataset",
    "load_array",
    "load_cifar10",
    "load_dataset",
    "load_digits",
    "load_labels",
    "load_mnist",
    "load_mnist1d",
    "load_npy",
    "read_array",
]


class DataError(TheorylabError, ValueError):
    """Data that cannot be used: missing file, wrong format, NaN/inf, mismatched shapes."""


@dataclass(frozen=True)
class Dataset:
    """A train/test split. ``X_*`` are float64 (n, features); ``image_shape`` restores images.

    ``image_shape`` is ``(channels, height, width)`` for images, ``(length,)`` for 1-D
    signals and ``None`` for plain feature vectors.
    """

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    image_shape: tuple[int, ...] | None = None
    n_classes: int = 0

    @property
    def dim(self) -> int:
        return int(self.X_train.shape[1])

    def subset(self, n_train: int | None = None, n_test: int | None = None) -> Dataset:
        """The first ``n_train`` / ``n_test`` examples (the splits are already shuffled)."""
        nt = len(self.X_train) if n_train is None else min(n_train, len(self.X_train))
        ns = len(self.X_test) if n_test is None else min(n_test, len(self.X_test))
        return Dataset(
            self.name, self.X_train[:nt], self.y_train[:nt], self.X_test[:ns], self.y_test[:ns],
            self.image_shape, self.n_classes,
        )


def _split(X: np.ndarray, y: np.ndarray, test_fraction: float, seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    perm = rng.permutation(len(X))
    n_test = round(test_fraction * len(X))
    te, tr = perm[:n_test], perm[n_test:]
    return X[tr], y[tr], X[te], y[te]


def load_digits(test_fraction: float = 0.25, seed: int = 0) -> Dataset:
    """scikit-learn's 8×8 digits scaled to [0, 1], split into train/test by ``seed``."""
    from sklearn.datasets import load_digits as _sk_digits

    bunch = _sk_digits()
    X = bunch.data.astype(np.float64) / 16.0  # pixel intensities are 0..16
    Xtr, ytr, Xte, yte = _split(X, bunch.target.astype(np.int64), test_fraction, seed)
    return Dataset("digits", Xtr, ytr, Xte, yte, (1, 8, 8), 10)


@lru_cache(maxsize=4)
def _mnist1d_arrays(n_samples: int, seed: int) -> tuple[np.ndarray, ...]:
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.num_samples = int(n_samples)
    args.seed = int(seed)
    data = make_dataset(args)  # procedural, offline (never get_dataset: that downloads)
    return (
        np.asarray(data["x"], np.float64), np.asarray(data["y"], np.int64),
        np.asarray(data["x_test"], np.float64), np.asarray(data["y_test"], np.int64),
    )


def load_mnist1d(n_samples: int = 5000, seed: int = 42) -> Dataset:
    """MNIST-1D (Greydanus 2020): 40-sample 1-D digits, 80/20 train/test, generated offline.

    The defaults (5,000 samples, seed 42) give the reference 4,000 / 1,000 split.
    """
    Xtr, ytr, Xte, yte = (a.copy() for a in _mnist1d_arrays(n_samples, seed))
    return Dataset("mnist1d", Xtr, ytr, Xte, yte, (40,), 10)


@dataclass(frozen=True)
class ArrayFile:
    """What :func:`read_array` read from a user's file, and how.

    ``array`` is float64 (rows, columns) — or the selected column / labels, 1-D. ``header`` is
    whether the first CSV row was taken as column names (None for ``.npy`` and Parquet, whose
    column names are not data), with ``header_reason`` saying why; ``index_dropped`` is whether a
    leading row-number column (``DataFrame.to_csv()`` with its index) was left out.
    """

    path: Path
    array: np.ndarray
    format: str  # "npy" | "csv" | "parquet"
    header: bool | None = None
    header_reason: str = ""
    index_dropped: bool = False
    columns: tuple[str, ...] | None = None

    @property
    def rows(self) -> int:
        return int(self.array.shape[0])

    @property
    def n_columns(self) -> int:
        return int(self.array.shape[1]) if self.array.ndim == 2 else 1

    def describe(self) -> str:
        """One line for a summary: ``train.csv: 200 rows × 4 columns (CSV; header row: yes, ...)``."""
        parts = [self.format.upper() if self.format != "parquet" else "Parquet"]
        if self.header is not None:
            parts.append(f"header row: {'yes' if self.header else 'no'}"
                         + (f" ({self.header_reason})" if self.header_reason else ""))
        if self.index_dropped:
            parts.append("a leading row-number column was left out")
        return (f"{self.path.name}: {self.rows:,} rows × {self.n_columns:,} column{'s' if self.n_columns != 1 else ''}"
                f" ({'; '.join(parts)})")

    def as_dict(self) -> dict[str, object]:
        """The same facts, JSON-able (for ``--json`` summaries)."""
        return {"path": str(self.path), "format": self.format, "rows": self.rows, "columns": self.n_columns,
                "header": self.header, "header_reason": self.header_reason, "index_dropped": self.index_dropped}


NPY_MAGIC = b"\x93NUMPY"


def _npy_header(p: Path) -> tuple[tuple[int, ...], np.dtype]:
    """Shape and dtype from a ``.npy`` header, refusing what must not or cannot be loaded."""
    size = p.stat().st_size
    with open(p, "rb") as f:
        head = f.read(len(NPY_MAGIC))
        if head != NPY_MAGIC:
            kind = "a pickle" if head[:1] == b"\x80" else "a zip archive (.npz?)" if head[:2] == b"PK" else "not .npy"
            raise DataError(f"{p}: not a NumPy .npy array ({kind}); refused (only plain .npy arrays are read: "
                            "unpickling a file can run code)")
        f.seek(0)
        try:
            version = np.lib.format.read_magic(f)
            read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, _, dtype = read(f)
        except ValueError as e:
            raise DataError(f"{p}: damaged .npy header ({e})") from None
        offset = f.tell()
    if dtype.hasobject:
        raise DataError(f"{p}: holds Python objects (dtype {dtype}), which load by unpickling and could run code; "
                        "refused (a pickle inside the .npy; save a numeric array instead)")
    if dtype.names is not None:
        raise DataError(f"{p}: structured dtype {dtype} (fields {', '.join(dtype.names)}); save a plain numeric array")
    if dtype.kind == "c":
        raise DataError(f"{p}: complex dtype {dtype} (points must be real; the imaginary part would be dropped)")
    if dtype.kind not in "biuf":
        raise DataError(f"{p}: non-numeric dtype {dtype}")
    need = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if size - offset < need:
        raise DataError(f"{p}: truncated ({size - offset:,} bytes of data, the header's shape {shape} needs {need:,})")
    return shape, dtype


def load_npy(path: str | Path) -> np.ndarray:
    """A plain numeric ``.npy`` array of any shape, its header checked before it is loaded.

    Refused with :class:`DataError`: not ``.npy`` (a pickle, a zip), pickled objects, structured,
    complex or non-numeric dtypes, a damaged header, truncated data. Loaded with
    ``allow_pickle=False``, so nothing in the file can run code.
    """
    p = Path(path)
    _npy_header(p)
    return np.load(p, allow_pickle=False)


def _sniff_sep(first_line: str) -> str:
    for sep in (",", "\t", ";"):
        if sep in first_line:
            return sep
    return r"\s+"  # np.savetxt's default: numbers separated by spaces


def _csv_header(p: Path, expected_rows: int | None) -> tuple[bool, str, bool, str]:
    """(header?, why, leading index column?, separator) for a CSV file, from its first rows.

    The rule, so that the usual ways of writing a CSV read right:

    * a first row with any field that is not a number is a header (named columns);
    * a first row that is exactly ``0,1,...,d-1`` with ``d >= 2`` is a header: it is what
      ``pandas.DataFrame(X).to_csv(index=False)`` writes for unnamed columns;
    * a first row whose first field is empty (``,0,1,2``) is a header above a row-number column
      (``DataFrame.to_csv()`` with its index), and that column is left out when it counts 0, 1, 2...;
    * for one column, ``0`` then ``expected_rows`` values is ``pandas.Series(y).to_csv(index=False)``;
    * otherwise (numbers, as ``np.savetxt`` writes) the first row is data.
    """
    import csv

    with open(p, newline="", encoding="utf-8-sig") as f:
        first = f.readline()
    if not first.strip():
        raise DataError(f"{p}: empty file (no rows)")
    sep = _sniff_sep(first)
    fields = first.split() if sep == r"\s+" else next(csv.reader([first], delimiter=sep))
    fields = [x.strip() for x in fields]
    if fields and fields[0] == "" and len(fields) > 1:
        return True, "column names above a row-number column", True, sep
    if not all(_is_number(x) for x in fields):
        return True, "column names", False, sep
    if len(fields) >= 2 and fields == [str(i) for i in range(len(fields))]:
        return True, f"0..{len(fields) - 1}: pandas' names for unnamed columns", False, sep
    if len(fields) == 1 and fields[0] == "0" and expected_rows is not None:
        with open(p, newline="", encoding="utf-8-sig") as f:
            n_lines = sum(1 for line in f if line.strip())
        if n_lines == expected_rows + 1:
            return True, "0: pandas' name for an unnamed column", False, sep
    return False, "the first row is numbers", False, sep


def read_array(path: str | Path, *, column: str | None = None, header: bool | None = None,
               min_rows: int = 1, expected_rows: int | None = None, what: str | None = None) -> ArrayFile:
    """Read a user's ``.npy``, ``.csv`` or ``.parquet`` file as data, and say how it was read.

    Nothing in the file can run code: ``.npy`` must be a plain numeric array (checked from its
    header before loading, ``allow_pickle=False``), CSV and Parquet are parsed as tables.

    Parameters
    ----------
    column : for tabular files, the one column to return (e.g. labels), 1-D and not checked
        as points; else every column, as float64 points (rows, columns).
    header : CSV only: whether the first row is column names; ``None`` decides by the rule of
        :func:`_csv_header` (named columns, or pandas' ``0,1,...`` names, are a header).
    min_rows : fewest rows accepted (2 for a training set whose geometry is measured).
    expected_rows : rows the caller expects (labels of known points); helps read a
        one-column CSV written by pandas.
    what : how messages name the file (default: its path).

    Raises
    ------
    DataError
        naming the problem: missing or unsupported file, damaged or truncated, pickled objects,
        complex or non-numeric values, NaN/inf (with the first row and column), too few rows.
    """
    p = Path(path)
    label = what or str(p)
    if not p.exists():
        raise DataError(f"{p}: no such file")
    if p.is_dir():
        raise DataError(f"{p}: is a directory, not a data file")
    suffix = p.suffix.lower()
    if suffix not in (".npy", ".csv", ".parquet"):
        raise DataError(f"{p}: unsupported file type {suffix!r} (allowed: .npy, .csv, .parquet)")
    info: dict[str, object] = {}
    try:
        if suffix == ".npy":
            arr = load_npy(p)
            fmt = "npy"
        else:
            fmt = suffix[1:]
            df = _read_table(p, header, expected_rows, info)
            info["columns"] = tuple(map(str, df.columns))
            arr = _table_column(df, p, column) if column is not None else _table_points(df, p, label)
    except DataError:
        raise
    except MemoryError:
        raise DataError(f"{p}: too large to load into memory") from None
    except Exception as e:  # a damaged file: name it, do not leak a parser traceback
        raise DataError(f"{p}: cannot read ({type(e).__name__}: {str(e)[:200]})") from None
    if column is None:
        arr = as_points(arr, label, min_rows=min_rows, allow_1d=True, error=DataError)
    elif len(arr) < min_rows:
        raise DataError(f"{label}: {len(arr)} rows, need at least {min_rows}")
    return ArrayFile(p, arr, fmt, **info)  # type: ignore[arg-type]


def _read_table(p: Path, header: bool | None, expected_rows: int | None, info: dict[str, object]) -> Any:
    """A CSV (header row and row-number column decided by :func:`_csv_header`, recorded in
    ``info``) or Parquet file as a DataFrame."""
    import pandas as pd

    if p.suffix.lower() != ".csv":
        return pd.read_parquet(p)
    auto, why, index_col, sep = _csv_header(p, expected_rows)
    use = auto if header is None else header
    info["header"], info["header_reason"] = use, why if header is None else "as asked"
    df = pd.read_csv(p, header=0 if use else None, sep=sep, engine="python" if sep == r"\s+" else "c",
                     skipinitialspace=True)
    if index_col and use and len(df.columns) > 1:
        first = pd.to_numeric(df.iloc[:, 0], errors="coerce").to_numpy()
        if np.array_equal(first, np.arange(len(df))):
            df = df.iloc[:, 1:]
            info["index_dropped"] = True
    return df


def _table_column(df: Any, p: Path, column: str) -> np.ndarray:
    """One named column of a table, as it is (labels are checked by the caller)."""
    names = [str(c) for c in df.columns]
    if column not in names:
        raise DataError(f"{p}: no column {column!r} (columns: {', '.join(names)})")
    return df.iloc[:, names.index(column)].to_numpy()


def _table_points(df: Any, p: Path, label: str) -> np.ndarray:
    """Every column of a table as float64 points, refusing an empty table or a non-numeric column."""
    import pandas as pd

    if len(df) == 0:
        raise DataError(f"{label}: empty (0 rows)")
    bad = [str(c) for c, dt in zip(df.columns, df.dtypes, strict=True)
           if pd.api.types.is_complex_dtype(dt)
           or not (pd.api.types.is_numeric_dtype(dt) or pd.api.types.is_bool_dtype(dt))]
    if bad:
        first_bad = df[df.columns[[str(c) for c in df.columns].index(bad[0])]].dropna()
        example = f", e.g. {str(first_bad.iloc[0])[:30]!r}" if len(first_bad) else ""
        raise DataError(f"{p}: non-numeric column{'s' if len(bad) > 1 else ''} "
                        f"{', '.join(bad[:5])}{example}; pass column= or clean the file")
    return df.to_numpy(dtype=np.float64)


def load_array(path: str | Path, *, column: str | None = None, header: bool | None = None,
               min_rows: int = 1) -> np.ndarray:
    """A 2-D float array (or one column, 1-D) from a user's ``.npy``, ``.csv`` or ``.parquet`` file.

    :func:`read_array` does the reading and also says how the file was read (rows, columns,
    header row yes/no); this returns only the array.
    """
    return read_array(path, column=column, header=header, min_rows=min_rows).array


def load_labels(path: str | Path, *, n: int | None = None, n_classes: int | None = None,
                column: str | None = None) -> ArrayFile:
    """Integer class labels from a file (one column, or ``column`` of a table), checked.

    ``n`` is the number of points they label (the count must match); ``n_classes`` bounds them.
    Returns the :class:`ArrayFile` with ``array`` the int64 labels.
    """
    f = read_array(path, column=column, expected_rows=n) if column is not None else None
    if f is None:
        f = read_array(path, expected_rows=n)
    y = as_labels(f.array, f"{Path(path)}", n=n, n_classes=n_classes, error=DataError)
    return ArrayFile(f.path, y, f.format, f.header, f.header_reason, f.index_dropped, f.columns)


def _is_number(text: object) -> bool:
    try:
        float(str(text))
    except ValueError:
        return False
    return True


def _read_idx(path: Path) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise DataError(f"{path}: not an IDX file")
    dtype_code, ndim = data[2], data[3]
    if dtype_code != 0x08:
        raise DataError(f"{path}: IDX dtype 0x{dtype_code:02x} unsupported (expected unsigned byte)")
    shape = struct.unpack(">" + "I" * ndim, data[4 : 4 + 4 * ndim])
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(shape)):
        raise DataError(f"{path}: IDX body has {body.size} bytes, header says {shape}")
    return body.reshape(shape)


def _find(root: Path, stem: str) -> Path:
    for sub in ("", "raw", "MNIST/raw"):
        for suffix in ("", ".gz"):
            p = root / sub / f"{stem}{suffix}"
            if p.exists():
                return p
    raise DataError(f"{root}: no {stem}[.gz] (looked in ., raw/, MNIST/raw/)")


def load_mnist(root: str | Path) -> Dataset:
    """MNIST from IDX files already on disk (torchvision's ``MNIST/raw`` layout works).

    Pixels scaled to [0, 1], images flattened to 784 features. Nothing is downloaded.
    """
    root = Path(root)
    Xtr = _read_idx(_find(root, "train-images-idx3-ubyte"))
    ytr = _read_idx(_find(root, "train-labels-idx1-ubyte"))
    Xte = _read_idx(_find(root, "t10k-images-idx3-ubyte"))
    yte = _read_idx(_find(root, "t10k-labels-idx1-ubyte"))
    h, w = Xtr.shape[1:]
    f = lambda a: a.reshape(len(a), -1).astype(np.float64) / 255.0  # noqa: E731
    return Dataset("mnist", f(Xtr), ytr.astype(np.int64), f(Xte), yte.astype(np.int64), (1, h, w), 10)


def load_cifar10(root: str | Path) -> Dataset:
    """CIFAR-10 from the binary batches (``cifar-10-batches-bin/*.bin``), scaled to [0, 1].

    The python-pickle version is deliberately not read: unpickling can run code.
    """
    root = Path(root)
    base = root / "cifar-10-batches-bin" if (root / "cifar-10-batches-bin").exists() else root
    rec = 1 + 3 * 32 * 32

    def read(names: list[str]) -> tuple[np.ndarray, np.ndarray]:
        xs, ys = [], []
        for nm in names:
            p = base / nm
            if not p.exists():
                raise DataError(f"{p}: missing CIFAR-10 binary batch")
            raw = np.fromfile(p, dtype=np.uint8)
            if raw.size % rec:
                raise DataError(f"{p}: size {raw.size} is not a multiple of {rec} bytes")
            raw = raw.reshape(-1, rec)
            ys.append(raw[:, 0].astype(np.int64))
            xs.append(raw[:, 1:].astype(np.float64) / 255.0)
        return np.concatenate(xs), np.concatenate(ys)

    Xtr, ytr = read([f"data_batch_{i}.bin" for i in range(1, 6)])
    Xte, yte = read(["test_batch.bin"])
    return Dataset("cifar10", Xtr, ytr, Xte, yte, (3, 32, 32), 10)


def load_dataset(name: str, *, root: str | None = None, seed: int = 0) -> Dataset:
    """A data set by name: ``digits``, ``mnist1d``, or ``mnist`` / ``cifar10`` (need ``root``)."""
    if name == "digits":
        return load_digits(seed=seed)
    if name == "mnist1d":
        return load_mnist1d()
    if name in ("mnist", "cifar10"):
        if root is None:
            raise DataError(f"data set {name!r} needs root= (a directory holding its files; nothing is downloaded)")
        return load_mnist(root) if name == "mnist" else load_cifar10(root)
    raise DataError(f"unknown data set {name!r} (allowed: digits, mnist1d, mnist, cifar10)")
