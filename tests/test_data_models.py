"""Built-in data, real-data loaders on small files the test makes, and the model builders."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pandas as pd
import pytest
import torch

from theorylab.data import (
    DataError,
    gaussian,
    load_array,
    load_cifar10,
    load_dataset,
    load_digits,
    load_mnist,
    load_mnist1d,
    noisy_labels,
)
from theorylab.models import accuracy, cnn1d, cnn2d, count_params, mlp, train


def _idx(path, arr: np.ndarray, gz: bool) -> None:
    header = bytes([0, 0, 0x08, arr.ndim]) + struct.pack(">" + "I" * arr.ndim, *arr.shape)
    data = header + arr.astype(np.uint8).tobytes()
    (gzip.open if gz else open)(path, "wb").write(data)


def test_builtin_data():
    d = load_digits()
    assert d.X_train.shape[1] == 64 and 0 <= d.X_train.min() and d.X_train.max() <= 1
    assert len(d.X_train) + len(d.X_test) == 1797
    m = load_mnist1d()
    assert m.X_train.shape == (4000, 40) and m.X_test.shape == (1000, 40) and set(m.y_train) == set(range(10))
    x = gaussian(20000, 50, seed=1)
    assert abs(np.linalg.norm(x, axis=1).mean() - 1) < 0.02  # radius ≈ 1 normalisation
    np.testing.assert_array_equal(gaussian(5, 3, 7), gaussian(5, 3, 7))
    y = np.arange(1000) % 10
    yn = noisy_labels(y, 0.15, 10, seed=0)
    assert (yn != y).mean() == pytest.approx(0.15)


def test_mnist_idx_and_cifar_bin(tmp_path):
    rng = np.random.default_rng(0)
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    imgs = rng.integers(0, 256, (12, 28, 28))
    _idx(raw / "train-images-idx3-ubyte.gz", imgs, gz=True)
    _idx(raw / "train-labels-idx1-ubyte", np.arange(12) % 10, gz=False)
    _idx(raw / "t10k-images-idx3-ubyte", imgs[:4], gz=False)
    _idx(raw / "t10k-labels-idx1-ubyte.gz", np.arange(4), gz=True)
    ds = load_mnist(tmp_path)
    assert ds.X_train.shape == (12, 784) and ds.image_shape == (1, 28, 28)
    np.testing.assert_allclose(ds.X_train[3], imgs[3].ravel() / 255)
    bins = tmp_path / "cifar-10-batches-bin"
    bins.mkdir()
    for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
        rec = np.concatenate([rng.integers(0, 10, (3, 1)), rng.integers(0, 256, (3, 3072))], axis=1)
        rec.astype(np.uint8).tofile(bins / name)
    c = load_dataset("cifar10", root=str(tmp_path))
    assert c.X_train.shape == (15, 3072) and c.X_test.shape == (3, 3072)
    (bins / "test_batch.bin").write_bytes(b"\x00" * 100)
    with pytest.raises(DataError, match="not a multiple of 3073"):
        load_cifar10(tmp_path)
    with pytest.raises(DataError, match="needs root="):
        load_dataset("mnist")


def test_user_files(tmp_path):
    X = np.arange(12, dtype=float).reshape(4, 3)
    np.save(tmp_path / "a.npy", X)
    pd.DataFrame(X, columns=["a", "b", "c"]).to_csv(tmp_path / "h.csv", index=False)
    np.savetxt(tmp_path / "n.csv", X, delimiter=",")
    pd.DataFrame(X, columns=["a", "b", "c"]).to_parquet(tmp_path / "p.parquet")
    for name in ("a.npy", "h.csv", "n.csv", "p.parquet"):
        np.testing.assert_array_equal(load_array(tmp_path / name), X)
    bad = X.copy()
    bad[2, 1] = np.nan
    np.save(tmp_path / "bad.npy", bad)
    with pytest.raises(DataError, match="1 NaN/inf values \\(first at row 2, column 1\\)"):
        load_array(tmp_path / "bad.npy")
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(DataError, match=r"holds Python objects .* refused"):
        load_array(tmp_path / "obj.npy")  # pickles are refused
    (tmp_path / "x.txt").write_text("1")
    with pytest.raises(DataError, match="unsupported file type"):
        load_array(tmp_path / "x.txt")
    with pytest.raises(DataError, match="no such file"):
        load_array(tmp_path / "missing.npy")
    np.save(tmp_path / "empty.npy", np.zeros((0, 3)))
    with pytest.raises(DataError, match="empty"):
        load_array(tmp_path / "empty.npy")


def test_builders_are_seeded_and_train_is_deterministic():
    a, b = mlp(10, [16, 16], 3, seed=4), mlp(10, [16, 16], 3, seed=4)
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(pa, pb)
    assert count_params(a) == 10 * 16 + 16 + 16 * 16 + 16 + 16 * 3 + 3
    w = mlp(1000, [2000], 1, seed=0)[0].weight
    assert w.std().item() == pytest.approx(np.sqrt(2 / 1000), rel=0.02)  # He init
    assert cnn1d(40, 10)(torch.zeros(2, 40)).shape == (2, 10)
    assert cnn2d(8, 10, channels=(4, 8))(torch.zeros(2, 1, 8, 8)).shape == (2, 10)
    ds = load_digits()
    nets = []
    for _ in range(2):
        net = mlp(64, [32], 10, seed=1)
        r = train(net, ds.X_train, ds.y_train, steps=150, lr=1e-2, batch_size=64, seed=3, eval_every=50)
        nets.append(net)
    assert r.history[-1]["train_loss"] < r.history[0]["train_loss"]
    for pa, pb in zip(nets[0].parameters(), nets[1].parameters(), strict=True):
        assert torch.equal(pa, pb)
    assert accuracy(nets[0], ds.X_test, ds.y_test) > 0.85
