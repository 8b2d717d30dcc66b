"""Built-in data (synthetic, scikit-learn digits, MNIST-1D generated offline) and user files.

Nothing here downloads. Real MNIST / CIFAR-10 load from files the user already has.
"""

from theorylab.data.datasets import (
    ArrayFile,
    DataError,
    Dataset,
    load_array,
    load_cifar10,
    load_dataset,
    load_digits,
    load_labels,
    load_mnist,
    load_mnist1d,
    load_npy,
    read_array,
)
from theorylab.data.synthetic import gaussian, noisy_labels, planted_margin_data

__all__ = [
    "ArrayFile",
    "DataError",
    "Dataset",
    "gaussian",
    "load_array",
    "load_cifar10",
    "load_dataset",
    "load_digits",
    "load_labels",
    "load_mnist",
    "load_mnist1d",
    "load_npy",
    "noisy_labels",
    "planted_margin_data",
    "read_array",
]
