"""Child seeds and generators: randomness is always an argument, never global state.

Every stochastic function takes a ``seed``; when one run needs several independent streams
(one per network, per training set, per attack), they are derived here from the run's seed and
integer keys through :class:`numpy.random.SeedSequence`, so streams never overlap and adding a
stream never changes the others.
"""

from __future__ import annotations

import numpy as np

__all__ = ["child_seed", "rng", "torch_generator"]


def child_seed(seed: int, *keys: int) -> int:
    """A seed in [0, 2³¹) for the stream named by ``keys`` under ``seed`` (fits torch and sklearn)."""
    return int(np.random.SeedSequence([int(seed) & (2**63 - 1), *(int(k) for k in keys)]).generate_state(1)[0] >> 1)


def rng(seed: int, *keys: int) -> np.random.Generator:
    """A NumPy generator for the stream ``keys`` under ``seed``."""
    return np.random.default_rng(np.random.SeedSequence([int(seed) & (2**63 - 1), *(int(k) for k in keys)]))


def torch_generator(seed: int, *keys: int):  # -> torch.Generator
    """A seeded CPU ``torch.Generator`` for the stream ``keys`` under ``seed``."""
    import torch

    return torch.Generator().manual_seed(child_seed(seed, *keys))
