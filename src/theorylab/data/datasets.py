"""Data sets as deterministic functions of their arguments.

* :func:`gaussian` — isotropic N(0, I_d / d): radius ≈ 1, the Bubeck–Sellke normalisation.
* :func:`load_digits` — scikit-learn's 8×8 digits (1,797 images, shipped with scikit-learn).
* :func:`load_mnist1d` — MNIST-1D (Greydanus 2020) generated offline with
  ``mnist1d.data.make_dataset``; never ``get_dataset`` (which downloads).
* :func:`load_mnist`, :func:`load_cifar10` — real data from files the user already has
  (MNIST IDX files as torchvision stores them, CIFAR-10 binary batches). No pickles are read.
* :func:`load_array` — a user's ``.npy``, ``.csv`` or ``.parquet`` file.
"""

from __future__ import annotations

import gzip
import struct
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from theorylab.errors import TheorylabError

__all__ = [
    "DataError",
    "Dataset",
    "gaussian",
    "load_array",
    "load_cifar10",
    "load_dataset",
    "load_digits",
    "load_mnist",
    "load_mnist1d",
    "noisy_labels",
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


def check_finite(X: np.ndarray, what: str) -> np.ndarray:
    """Return ``X`` as a 2-D float64 array, or raise :class:`DataError` naming the problem."""
    X = np.asarray(X)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2:
        raise DataError(f"{what}: expected a 2-D array (n, features), got shape {X.shape}")
    if X.shape[0] == 0:
        raise DataError(f"{what}: empty (0 rows)")
    if not np.issubdtype(X.dtype, np.number):
        raise DataError(f"{what}: non-numeric dtype {X.dtype}")
    X = X.astype(np.float64, copy=False)
    bad = ~np.isfinite(X)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise DataError(f"{what}: {int(bad.sum())} NaN/inf values (first at row {r}, column {c})")
    return X


def gaussian(n: int, d: int, seed: int, *, scale: float | None = None) -> np.ndarray:
    """``n`` i.i.d. draws of N(0, scale² I_d); ``scale=None`` uses 1/sqrt(d) so that ‖x‖ ≈ 1."""
    rng = np.random.default_rng(seed)
    s = 1.0 / np.sqrt(d) if scale is None else scale
    return rng.standard_normal((n, d)) * s


def noisy_labels(y: np.ndarray, fraction: float, n_classes: int, seed: int) -> np.ndarray:
    """Replace a ``fraction`` of labels by uniformly random *other* classes."""
    rng = np.random.default_rng(seed)
    y = np.array(y, copy=True)
    k = round(fraction * len(y))
    idx = rng.choice(len(y), size=k, replace=False)
    y[idx] = (y[idx] + rng.integers(1, n_classes, size=k)) % n_classes
    return y


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


def load_array(path: str | Path, *, column: str | None = None) -> np.ndarray:
    """A 2-D float array from a user's ``.npy``, ``.csv`` or ``.parquet`` file.

    ``.npy`` loads with ``allow_pickle=False``; ``.csv`` may have a header row; for tabular
    files ``column`` (if given) selects one column (e.g. labels), else all numeric columns.
    """
    p = Path(path)
    if not p.exists():
        raise DataError(f"{p}: no such file")
    suffix = p.suffix.lower()
    try:
        if suffix == ".npy":
            arr = np.load(p, allow_pickle=False)
        elif suffix in (".csv", ".parquet"):
            import pandas as pd

            df = pd.read_csv(p) if suffix == ".csv" else pd.read_parquet(p)
            if suffix == ".csv" and all(_is_number(c) for c in df.columns):
                df = pd.read_csv(p, header=None)  # no header row: the first row was data
            if column is not None:
                if column not in df.columns:
                    raise DataError(f"{p}: no column {column!r} (columns: {', '.join(map(str, df.columns))})")
                arr = df[column].to_numpy()
            else:
                num = df.select_dtypes("number")
                if num.shape[1] != df.shape[1]:
                    dropped = [str(c) for c in df.columns if c not in num.columns]
                    raise DataError(f"{p}: non-numeric columns {dropped}; pass column= or clean the file")
                arr = num.to_numpy()
        else:
            raise DataError(f"{p}: unsupported file type {suffix!r} (allowed: .npy, .csv, .parquet)")
    except DataError:
        raise
    except Exception as e:  # a corrupted file: name it, do not leak a parser traceback
        raise DataError(f"{p}: cannot read ({type(e).__name__}: {e})") from None
    return arr if column is not None else check_finite(arr, str(p))


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
