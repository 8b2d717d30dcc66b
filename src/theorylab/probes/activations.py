"""The one way to read a network's representations: outputs of named layers or of every block.

A *block* of an ``nn.Sequential`` ends at each nonlinearity (or at the pooling that directly
follows one) and at the final output, which is where Balestriero et al. (2021, Table 1) and
Ansuini et al. (2019) read embeddings. Outputs are computed on a float64 copy of the model in
eval mode, batched, so that hull membership on flat pieces of a ReLU embedding is not blurred
by float32 rounding and BatchNorm uses its running statistics.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from theorylab.errors import TheorylabError

if TYPE_CHECKING:
    import torch
    from torch import nn

__all__ = ["ActivationError", "block_names", "block_outputs", "layer_outputs"]

_NONLINEAR = ("ReLU", "LeakyReLU", "Tanh", "GELU", "Sigmoid", "ELU", "SiLU", "Softplus")
_POOL = ("AvgPool1d", "AvgPool2d", "MaxPool1d", "MaxPool2d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d")


class ActivationError(TheorylabError, ValueError):
    """A layer name that the model does not have, or inputs the model cannot run on."""


def block_names(model: nn.Module) -> list[str]:
    """Names (``model.named_modules`` keys) of the submodules that end a block, in forward order.

    For an ``nn.Sequential``: every nonlinearity not directly followed by pooling, every pooling
    that follows one, and the last module. For any other module: its top-level children.
    """
    from torch import nn

    children = list(model.named_children())
    if not isinstance(model, nn.Sequential):
        return [n for n, _ in children]
    out = []
    for i, (name, mod) in enumerate(children):
        kind = type(mod).__name__
        nxt = type(children[i + 1][1]).__name__ if i + 1 < len(children) else None
        ends = (kind in _NONLINEAR and nxt not in _POOL) or (kind in _POOL and i > 0)
        if ends or nxt is None:
            out.append(name)
    return out


def layer_outputs(model: nn.Module, X: np.ndarray | torch.Tensor, layers: Sequence[str], *,
                  input_shape: tuple[int, ...] | None = None, batch_size: int = 1024,
                  dtype: torch.dtype | None = None) -> dict[str, np.ndarray]:
    """Flattened outputs of the submodules ``layers`` (names from ``model.named_modules()``).

    Parameters
    ----------
    model : any ``torch.nn.Module`` (not modified: a copy runs in eval mode).
    X : (n, ...) inputs; with ``input_shape``, each row is reshaped to it first.
    layers : submodule names; ``""`` is the model's own output.
    dtype : computation dtype (default float64).

    Returns
    -------
    ``{name: (n, k) float64 array}`` in the order of ``layers``.
    """
    import torch

    dtype = dtype or torch.float64
    net = copy.deepcopy(model).to(dtype).eval()
    modules = dict(net.named_modules())
    missing = [n for n in layers if n not in modules]
    if missing:
        allowed = ", ".join(repr(k) for k in modules if k) or "none"
        raise ActivationError(f"model has no layer {missing[0]!r} (layers: {allowed})")
    captured: dict[str, list[torch.Tensor]] = {n: [] for n in layers}
    hooks = [modules[n].register_forward_hook(lambda _m, _i, out, n=n: captured[n].append(out.detach()))
             for n in layers if n != ""]
    Xt = torch.as_tensor(np.asarray(X) if not isinstance(X, torch.Tensor) else X).to(dtype)
    try:
        with torch.no_grad():
            for i in range(0, len(Xt), batch_size):
                xb = Xt[i : i + batch_size]
                if input_shape is not None:
                    xb = xb.reshape(len(xb), *input_shape)
                try:
                    y = net(xb)
                except RuntimeError as e:
                    raise ActivationError(f"model cannot run on inputs of shape {tuple(xb.shape)}: {e}") from None
                if "" in captured:
                    captured[""].append(y.detach())
    finally:
        for h in hooks:
            h.remove()
    return {n: torch.cat(captured[n]).reshape(len(Xt), -1).double().numpy() for n in layers}


def block_outputs(model: nn.Module, X: np.ndarray | torch.Tensor, **kwargs: object) -> list[tuple[str, np.ndarray]]:
    """``[(label, (n, k) outputs)]`` at the end of every block (see :func:`block_names`).

    Labels read ``"<name>:<ModuleType>"``; keyword arguments go to :func:`layer_outputs`.
    """
    names = block_names(model)
    mods = dict(model.named_modules())
    outs = layer_outputs(model, X, names, **kwargs)  # type: ignore[arg-type]
    return [(f"{n}:{type(mods[n]).__name__}", outs[n]) for n in names]
