"""Built-in data (synthetic, scikit-learn digits, MNIST-1D generated offline) and user files.

Nothing here downloads. Real MNIST / CIFAR-10 load from files the user already has.
"""

from theorylab.data.datasets import (
    ArrayFile,
    DataError,
    Dataset,
    gaussian,
    load_array,
    load_cifar10,
    load_dataset,
    load_digits,
    load_labels,
    load_mnist,
    load_mnist1d,
    noisy_labels,
    read_array,
)

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
    "noisy_labels",
    "read_array",
]
