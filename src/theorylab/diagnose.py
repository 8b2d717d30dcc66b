"""Diagnose my data: is each query interpolating or extrapolating, by several definitions?

For a training set and queries (raw features or a model's embeddings at a named layer), one
row per query with the notions of "inside" that Balestriero, Pesenti & LeCun (2021,
arXiv 2110.09485) and their readers use side by side:

* ``inside_hull`` — convex-hull membership (their Definition 1), certified
  (:func:`theorylab.geometry.in_hull`), with ``hull_distance`` (Euclidean, data units) and
  ``hull_distance_rel`` (divided by the median nearest-neighbour distance within training);
* ``nn_distance`` — distance to the nearest training point;
* ``in_ellipsoid`` / ``ellipsoid_mahalanobis`` — the minimum-volume enclosing ellipsoid;
* ``in_box`` / ``in_range_fraction`` — the bounding box and the per-coordinate in-range fraction.

Models are never unpickled: pass a ``torch.nn.Module`` from Python, or from files a
``state_dict`` (``torch.load(..., weights_only=True)``) plus an architecture spec (see
:func:`build_model`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from theorylab.errors import TheorylabError
from theorylab.geometry.box import in_box, in_range_fraction
from theorylab.geometry.ellipsoid import MinVolumeEllipsoid
from theorylab.geometry.hull import as_points, check_pair, in_hull
from theorylab.geometry.neighbors import knn_distance

__all__ = ["DiagnoseError", "Diagnosis", "build_model", "diagnose", "embed", "load_model"]


class DiagnoseError(TheorylabError, ValueError):
    """Inputs ``diagnose`` cannot use: bad arrays, an unknown layer, an unsafe or bad model file."""


@dataclass(frozen=True)
class Diagnosis:
    """Result of :func:`diagnose`: ``per_query`` (one row per query) and ``summary`` (a dict)."""

    per_query: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)

    def summary_frame(self) -> pd.DataFrame:
        """The summary as a two-column table (quantity, value)."""
        return pd.DataFrame({"quantity": list(self.summary), "value": [str(v) for v in self.summary.values()]})


def embed(model: Any, X: np.ndarray, layer: str | None = None, *, input_shape: tuple[int, ...] | None = None,
          batch_size: int = 1024) -> np.ndarray:
    """Activations of ``model`` at submodule ``layer`` (flattened), or its output if ``layer`` is None.

    Parameters
    ----------
    model : torch.nn.Module. X : (n, features) inputs. input_shape : per-example shape the
    model expects (e.g. (1, 8, 8)); rows are reshaped to it.

    Returns
    -------
    (n, k) float64 embeddings, computed in float64 (a copy of the model) so that boundary
    membership is not blurred by float32 rounding.
    """
    import copy

    import torch

    if not isinstance(model, torch.nn.Module):
        raise DiagnoseError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    net = copy.deepcopy(model).double().eval()
    names = dict(net.named_modules())
    if layer is not None and layer not in names:
        allowed = ", ".join(repr(k) for k in names if k) or "none"
        raise DiagnoseError(f"model has no layer {layer!r} (layers: {allowed})")
    captured: list[torch.Tensor] = []
    hook = None
    if layer is not None:
        hook = names[layer].register_forward_hook(lambda _m, _i, out: captured.append(out.detach()))
    outs = []
    try:
        with torch.no_grad():
            for i in range(0, len(X), batch_size):
                xb = torch.as_tensor(X[i : i + batch_size], dtype=torch.float64)
                if input_shape is not None:
                    xb = xb.reshape(len(xb), *input_shape)
                try:
                    y = net(xb)
                except RuntimeError as e:
                    raise DiagnoseError(f"model cannot run on inputs of shape {tuple(xb.shape)}: {e}") from None
                outs.append((captured.pop() if layer is not None else y).reshape(len(xb), -1))
    finally:
        if hook is not None:
            hook.remove()
    return torch.cat(outs).numpy()


def diagnose(
    train: np.ndarray,
    query: np.ndarray,
    model: Any = None,
    layer: str | None = None,
    *,
    input_shape: tuple[int, ...] | None = None,
    distance: bool | None = None,
    ellipsoid: bool | None = None,
    max_auto_dim: int = 128,
) -> Diagnosis:
    """Interpolation diagnostics of ``query`` against ``train`` (optionally in a model's embedding).

    Parameters
    ----------
    train : (N, d) training points; query : (M, d) queries.
    model, layer : a ``torch.nn.Module`` and the name of the submodule whose output is the
        embedding (``None``: the model's output). See :func:`embed`.
    input_shape : per-example input shape for the model (rows are reshaped to it).
    distance : compute exact hull distances (default: when the affine dimension of the
        training set is ≤ ``max_auto_dim``; otherwise only certified lower bounds).
    ellipsoid : fit the minimum-volume enclosing ellipsoid (same default rule).

    Returns
    -------
    Diagnosis
        ``per_query`` columns: inside_hull, hull_distance, hull_distance_lower,
        hull_distance_rel, nn_distance, in_ellipsoid, ellipsoid_mahalanobis, in_box,
        in_range_fraction, certified, stage. ``summary``: sizes, affine dimension, fractions.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> d = diagnose(rng.standard_normal((200, 3)), 0.1 * rng.standard_normal((5, 3)))
    >>> bool(d.per_query.inside_hull.all()), d.summary["fraction_inside_hull"]
    (True, 1.0)
    """
    from theorylab.geometry.hull import GeometryError, affine_dimension

    try:
        train = as_points(train, "train")
        query = as_points(np.asarray(query), "query")
        if model is not None:
            train = as_points(embed(model, train, layer, input_shape=input_shape), "train embeddings")
            query = as_points(embed(model, query, layer, input_shape=input_shape), "query embeddings")
        train, query = check_pair(train, query)
    except GeometryError as e:
        raise DiagnoseError(str(e)) from None
    n, d = train.shape
    dstar = affine_dimension(train) if min(n, d) <= 4096 else min(n - 1, d)
    want_dist = (dstar <= max_auto_dim) if distance is None else bool(distance)
    want_ell = (dstar <= max_auto_dim and n > dstar) if ellipsoid is None else bool(ellipsoid)
    hull = in_hull(train, query, distance=want_dist)
    nn_q = knn_distance(train, query, k=1)
    nn_train = knn_distance(train, train, k=1, exclude_self=True) if n > 1 else np.zeros(1)
    scale = float(np.median(nn_train)) or 1.0
    table = pd.DataFrame({
        "inside_hull": hull.inside,
        "hull_distance": hull.distance,
        "hull_distance_lower": hull.distance_lower,
        "hull_distance_rel": hull.distance / scale,
        "nn_distance": nn_q,
        "in_box": in_box(train, query),
        "in_range_fraction": in_range_fraction(train, query),
        "certified": hull.certified,
        "stage": hull.stage,
    })
    if want_ell:
        ell = MinVolumeEllipsoid(tol=1e-6).fit(train)
        table.insert(5, "in_ellipsoid", ell.contains(query))
        table.insert(6, "ellipsoid_mahalanobis", ell.mahalanobis(query))
    summary = {
        "n_train": n, "n_query": int(query.shape[0]), "dim": d, "affine_dim": int(dstar),
        "fraction_inside_hull": float(hull.inside.mean()),
        "fraction_in_ellipsoid": float(table.in_ellipsoid.mean()) if want_ell else None,
        "fraction_in_box": float(table.in_box.mean()),
        "mean_in_range_fraction": float(table.in_range_fraction.mean()),
        "median_nn_distance": float(np.median(nn_q)),
        "median_train_nn_distance": scale,
        "median_hull_distance": float(np.median(hull.distance)) if want_dist else None,
        "all_certified": bool(hull.certified.all()),
        "hull_tolerance": hull.tol,
    }
    return Diagnosis(table, summary)


# -- models from files, without unpickling code -------------------------------------------------------
def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(v) for v in text.replace("x", ",").replace("-", ",").split(",") if v)


def build_model(spec: str) -> tuple[Any, tuple[int, ...] | None]:
    """A theorylab architecture from a spec string, and the input shape it expects.

    Specs (sizes separated by ``x``):

    * ``mlp:in=64,widths=128x64,out=10[,activation=relu]``
    * ``cnn1d:length=40,out=10[,channels=25x25x25,kernels=5x3x3,strides=2x2x2]``
    * ``cnn2d:side=8,out=10[,channels=16x32,kernel=3,hidden=64,in_channels=1]``

    Returns
    -------
    (module, input_shape or None)
    """
    from theorylab.models import cnn1d, cnn2d, mlp

    kind, _, rest = spec.partition(":")
    try:
        kv = dict(item.split("=", 1) for item in rest.split(",") if item)
    except ValueError:
        raise DiagnoseError(f"architecture spec {spec!r}: expected kind:key=value,... ") from None
    try:
        if kind == "mlp":
            net = mlp(int(kv.pop("in")), _ints(kv.pop("widths", "")), int(kv.pop("out")),
                      activation=kv.pop("activation", "relu"))
            shape = None
        elif kind == "cnn1d":
            args: dict[str, Any] = {k: _ints(kv.pop(k)) for k in ("channels", "kernels", "strides") if k in kv}
            net = cnn1d(int(kv.pop("length")), int(kv.pop("out")), **args)
            shape = None
        elif kind == "cnn2d":
            side, c = int(kv.pop("side")), int(kv.pop("in_channels", 1))
            args = {"channels": _ints(kv.pop("channels"))} if "channels" in kv else {}
            args.update({k: int(kv.pop(k)) for k in ("kernel", "hidden") if k in kv})
            net = cnn2d(side, int(kv.pop("out")), in_channels=c, **args)
            shape = (c, side, side)
        else:
            raise DiagnoseError(f"architecture spec {spec!r}: unknown kind {kind!r} (allowed: mlp, cnn1d, cnn2d)")
    except KeyError as e:
        raise DiagnoseError(f"architecture spec {spec!r}: missing {e.args[0]!r}") from None
    except ValueError as e:
        raise DiagnoseError(f"architecture spec {spec!r}: {e}") from None
    if kv:
        raise DiagnoseError(f"architecture spec {spec!r}: unknown keys {sorted(kv)}")
    return net, shape


def load_model(path: str | Path, arch: str) -> tuple[Any, tuple[int, ...] | None]:
    """Build ``arch`` (see :func:`build_model`) and load a ``state_dict`` saved with ``torch.save``.

    The file is read with ``torch.load(..., weights_only=True)``: tensors only, never pickled
    code. A whole pickled ``nn.Module`` is refused with a message saying what to save instead.
    """
    import torch

    p = Path(path)
    if not p.exists():
        raise DiagnoseError(f"{p}: no such model file")
    net, shape = build_model(arch)
    try:
        state = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as e:  # an unpickling refusal or a corrupt file: say which, no traceback
        raise DiagnoseError(
            f"{p}: cannot load safely with weights_only=True ({type(e).__name__}); save "
            "model.state_dict() with torch.save and pass --arch"
        ) from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise DiagnoseError(f"{p}: expected a state_dict (name -> tensor), got {type(state).__name__}")
    try:
        net.load_state_dict(state, strict=True)
    except RuntimeError as e:
        first = str(e).strip().splitlines()[0:2]
        raise DiagnoseError(f"{p}: state_dict does not fit {arch!r}: {' '.join(first)}") from None
    return net, shape
