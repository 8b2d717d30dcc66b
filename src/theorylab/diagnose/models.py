"""Models from files, never from pickles: an architecture spec, a state_dict, and checks in between.

A model file is a ``state_dict`` — a ``.safetensors`` file (read with the ``safetensors``
library after its JSON header has been checked) or a ``torch.save`` file (read with
``torch.load(..., weights_only=True)``, memory-mapped) — plus an architecture spec string that
says which theorylab network it fits (:func:`parse_arch`). Nothing in a file can run code.

The order of checks is the point: the spec is parsed and its parameter shapes are computed by
arithmetic (:meth:`ArchSpec.shapes`, no tensor is allocated); the file's tensor names, shapes
and dtypes are read from its header; the two are compared; only then is the network built and
the weights copied in. So ``--arch mlp:in=784,widths=10000000,out=10`` against a small file
is refused in a millisecond instead of allocating gigabytes.
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from theorylab.errors import TheorylabError

if TYPE_CHECKING:
    from torch import nn

__all__ = [
    "ARCH_KEY",
    "MAX_PARAMS",
    "ArchSpec",
    "ModelFileError",
    "build_model",
    "load_model",
    "parse_arch",
    "read_tensor_header",
    "save_model",
]

ARCH_KEY = "theorylab.arch"  # where save_model records the spec (safetensors metadata / dict key)
MAX_PARAMS = 2_000_000_000  # no spec beyond this is built, whatever the file says (8 GB of float32)
MAX_SIZE = 10_000_000  # largest single size (width, channels, length) a spec may name
_HEADER_MAX = 100_000_000  # bytes of safetensors JSON header we agree to parse
_FLOAT_DTYPES = {"F16", "BF16", "F32", "F64"}
_KINDS = ("mlp", "cnn1d", "cnn2d")
_ACTIVATIONS = ("relu", "leaky_relu", "tanh", "gelu")
_KEYS = {
    "mlp": ({"in", "out"}, {"widths", "activation"}),
    "cnn1d": ({"length", "out"}, {"channels", "kernels", "strides", "in_channels"}),
    "cnn2d": ({"side", "out"}, {"channels", "kernel", "hidden", "in_channels"}),
}
_EXAMPLES = "e.g. 'mlp:in=64,widths=128x64,out=10', 'cnn1d:length=40,out=10', 'cnn2d:side=28,out=10'"


class ModelFileError(TheorylabError, ValueError):
    """A model file or architecture spec that cannot be used; the message names the problem."""


@dataclass(frozen=True)
class ArchSpec:
    """A parsed architecture spec: ``kind`` and its sizes (see :func:`parse_arch`)."""

    kind: str
    params: tuple[tuple[str, Any], ...]
    text: str

    def get(self, key: str, default: Any = None) -> Any:
        return dict(self.params).get(key, default)

    @property
    def input_shape(self) -> tuple[int, ...] | None:
        """Per-example input shape the network expects (None: flat feature vectors)."""
        if self.kind == "cnn2d":
            s = self.get("side")
            return (self.get("in_channels", 1), s, s)
        if self.kind == "cnn1d" and self.get("in_channels", 1) != 1:
            return (self.get("in_channels"), self.get("length"))
        return None

    @property
    def in_features(self) -> int:
        """Number of input values per example (the width of the training array)."""
        if self.kind == "mlp":
            return int(self.get("in"))
        return int(math.prod(self.input_shape or (self.get("length"),)))

    def shapes(self) -> dict[str, tuple[int, ...]]:
        """``state_dict`` name -> shape of the network :func:`build_model` makes, by arithmetic only.

        Follows :mod:`theorylab.models.builders` (an ``nn.Sequential``: parameter names are the
        layer's index); tests check it against built networks.
        """
        g = self.get
        out: dict[str, tuple[int, ...]] = {}
        if self.kind == "mlp":
            prev, i = g("in"), 0
            for w in g("widths", ()):
                out[f"{i}.weight"], out[f"{i}.bias"] = (w, prev), (w,)
                prev, i = w, i + 2
            out[f"{i}.weight"], out[f"{i}.bias"] = (g("out"), prev), (g("out"),)
            return out
        if self.kind == "cnn1d":
            c_in = g("in_channels", 1)
            i = 1 if c_in == 1 else 0  # a leading Unflatten adds the channel axis
            prev, n = c_in, g("length")
            for c, k, s in zip(g("channels", (25, 25, 25)), g("kernels", (5, 3, 3)), g("strides", (2, 2, 2)),
                               strict=True):
                out[f"{i}.weight"], out[f"{i}.bias"] = (c, prev, k), (c,)
                n = (n + 2 * (k // 2) - k) // s + 1
                prev, i = c, i + 2
            i += 1  # Flatten
            out[f"{i}.weight"], out[f"{i}.bias"] = (g("out"), prev * n), (g("out"),)
            return out
        k, prev, n, i = g("kernel", 3), g("in_channels", 1), g("side"), 0
        for c in g("channels", (16, 32)):
            out[f"{i}.weight"], out[f"{i}.bias"] = (c, prev, k, k), (c,)
            prev, n, i = c, n // 2, i + 3
        h = g("hidden", 64)
        out[f"{i + 1}.weight"], out[f"{i + 1}.bias"] = (h, prev * n * n), (h,)
        out[f"{i + 3}.weight"], out[f"{i + 3}.bias"] = (g("out"), h), (g("out"),)
        return out

    def n_params(self) -> int:
        return sum(math.prod(s) for s in self.shapes().values())


def _ints(spec: str, key: str, text: str) -> tuple[int, ...]:
    parts = [p for p in text.replace("-", "x").split("x")]
    try:
        vals = tuple(int(p) for p in parts if p != "")
    except ValueError:
        raise ModelFileError(f"architecture {spec!r}: {key}={text!r} is not a list of integers like 128x64") from None
    if any(v < 1 or v > MAX_SIZE for v in vals):
        raise ModelFileError(f"architecture {spec!r}: {key}={text!r}: every size must lie in [1, {MAX_SIZE:,}]")
    return vals


def parse_arch(spec: str) -> ArchSpec:
    """Parse an architecture spec; refuse anything odd with one line naming it.

    Specs (sizes separated by ``x``):

    * ``mlp:in=64,widths=128x64,out=10[,activation=relu|leaky_relu|tanh|gelu]``
    * ``cnn1d:length=40,out=10[,channels=25x25x25,kernels=5x3x3,strides=2x2x2,in_channels=1]``
    * ``cnn2d:side=8,out=10[,channels=16x32,kernel=3,hidden=64,in_channels=1]``

    Every size lies in [1, 10⁷] and the whole network has at most 2·10⁹ parameters; nothing is
    allocated here.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ModelFileError(f"architecture spec must be a non-empty string ({_EXAMPLES})")
    kind, _, rest = spec.strip().partition(":")
    if kind not in _KINDS:
        raise ModelFileError(f"architecture {spec!r}: unknown kind {kind!r} (allowed: {', '.join(_KINDS)}; {_EXAMPLES})")
    kv: dict[str, str] = {}
    for item in filter(None, (s.strip() for s in rest.split(","))):
        key, eq, val = item.partition("=")
        if not eq or not key or not val:
            raise ModelFileError(f"architecture {spec!r}: {item!r} is not key=value ({_EXAMPLES})")
        if key in kv:
            raise ModelFileError(f"architecture {spec!r}: {key!r} given twice")
        kv[key] = val
    required, optional = _KEYS[kind]
    missing = sorted(required - set(kv))
    if missing:
        raise ModelFileError(f"architecture {spec!r}: missing {', '.join(missing)} ({_EXAMPLES})")
    unknown = sorted(set(kv) - required - optional)
    if unknown:
        raise ModelFileError(f"architecture {spec!r}: unknown keys {', '.join(unknown)} "
                             f"(allowed for {kind}: {', '.join(sorted(required | optional))})")
    params: dict[str, Any] = {}
    for key, val in kv.items():
        if key == "activation":
            if val not in _ACTIVATIONS:
                raise ModelFileError(f"architecture {spec!r}: activation={val!r} (allowed: {', '.join(_ACTIVATIONS)})")
            params[key] = val
        elif key in ("widths", "channels", "kernels", "strides"):
            params[key] = _ints(spec, key, val)
        else:
            try:
                params[key] = int(val)
            except ValueError:
                raise ModelFileError(f"architecture {spec!r}: {key}={val!r} must be one integer") from None
            if not 1 <= params[key] <= MAX_SIZE:
                raise ModelFileError(f"architecture {spec!r}: {key}={val!r} must lie in [1, {MAX_SIZE:,}]")
    if kind == "cnn1d":
        lens = {k: len(params.get(k, (0, 0, 0))) for k in ("channels", "kernels", "strides")}
        if len(set(lens.values())) != 1:
            raise ModelFileError(f"architecture {spec!r}: channels, kernels and strides need equal lengths, got "
                                 + ", ".join(f"{k}={v}" for k, v in lens.items()))
    if kind == "cnn2d" and params["side"] >> len(params.get("channels", (16, 32))) < 1:
        raise ModelFileError(f"architecture {spec!r}: side={params['side']} is too small for "
                             f"{len(params.get('channels', (16, 32)))} pooling stages (each halves it)")
    arch = ArchSpec(kind, tuple(sorted(params.items())), spec.strip())
    if any(v < 1 for s in arch.shapes().values() for v in s):
        raise ModelFileError(f"architecture {spec!r}: a layer would have size 0 (input too short for the strides)")
    n = arch.n_params()
    if n > MAX_PARAMS:
        raise ModelFileError(f"architecture {spec!r}: {n:,} parameters, more than the {MAX_PARAMS:,} "
                             "theorylab builds; nothing was allocated")
    return arch


def build_model(spec: str | ArchSpec) -> tuple[nn.Module, tuple[int, ...] | None]:
    """The theorylab network of ``spec`` (randomly initialised) and the input shape it expects."""
    from theorylab.models import cnn1d, cnn2d, mlp

    arch = spec if isinstance(spec, ArchSpec) else parse_arch(spec)
    g = arch.get
    if arch.kind == "mlp":
        net = mlp(g("in"), g("widths", ()), g("out"), activation=g("activation", "relu"))
    elif arch.kind == "cnn1d":
        opt = {k: g(k) for k in ("channels", "kernels", "strides") if g(k) is not None}
        net = cnn1d(g("length"), g("out"), in_channels=g("in_channels", 1), **opt)
    else:
        opt = {k: g(k) for k in ("channels", "kernel", "hidden") if g(k) is not None}
        net = cnn2d(g("side"), g("out"), in_channels=g("in_channels", 1), **opt)
    return net, arch.input_shape


# -- reading files ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class _TensorInfo:
    dtype: str
    shape: tuple[int, ...]


def read_tensor_header(path: str | Path) -> tuple[dict[str, _TensorInfo], dict[str, str]]:
    """Names, dtypes and shapes of the tensors in a ``.safetensors`` file, and its metadata.

    Only the JSON header is read (after checking its declared length against the file size),
    so a malformed or hostile file is refused before anything is allocated.
    """
    p = Path(path)
    size = p.stat().st_size
    with open(p, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise ModelFileError(f"{p}: not a safetensors file (shorter than its 8-byte header length)")
        (n,) = struct.unpack("<Q", head)
        if n == 0 or n > min(_HEADER_MAX, size - 8):
            raise ModelFileError(f"{p}: not a safetensors file (header length {n} for a {size}-byte file)")
        raw = f.read(n)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ModelFileError(f"{p}: not a safetensors file (its header is not JSON)") from None
    if not isinstance(header, dict):
        raise ModelFileError(f"{p}: not a safetensors file (header is not a JSON object)")
    meta = header.pop("__metadata__", None) or {}
    if not isinstance(meta, dict):
        raise ModelFileError(f"{p}: safetensors metadata is not a string map")
    infos: dict[str, _TensorInfo] = {}
    data_len = size - 8 - n
    for name, info in header.items():
        try:
            shape = tuple(int(v) for v in info["shape"])
            lo, hi = (int(v) for v in info["data_offsets"])
            dtype = str(info["dtype"])
        except (KeyError, TypeError, ValueError):
            raise ModelFileError(f"{p}: malformed safetensors entry for tensor {name!r}") from None
        if not 0 <= lo <= hi <= data_len or any(v < 0 for v in shape):
            raise ModelFileError(f"{p}: tensor {name!r} points outside the file (truncated or corrupt)")
        infos[name] = _TensorInfo(dtype, shape)
    return infos, {str(k): str(v) for k, v in meta.items()}


def _load_torch_file(p: Path) -> tuple[dict[str, Any], str | None]:
    import torch

    try:
        obj = torch.load(p, map_location="cpu", weights_only=True, mmap=True)
    except RuntimeError as e:
        if "mmap" not in str(e):  # only the legacy (non-zip) format cannot be memory-mapped
            raise ModelFileError(f"{p}: cannot load safely with weights_only=True (RuntimeError); save "
                                 "model.state_dict() with torch.save or safetensors") from None
        try:
            obj = torch.load(p, map_location="cpu", weights_only=True)
        except Exception as e2:
            raise ModelFileError(f"{p}: cannot load safely with weights_only=True ({type(e2).__name__}); "
                                 "save model.state_dict() with torch.save or safetensors") from None
    except Exception as e:  # an unpickling refusal (a whole pickled module, code) or a corrupt file
        raise ModelFileError(f"{p}: cannot load safely with weights_only=True ({type(e).__name__}); save "
                             "model.state_dict() with torch.save or safetensors, and pass --arch") from None
    arch = None
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        arch = obj.get(ARCH_KEY, obj.get("arch"))
        if arch is not None and not isinstance(arch, str):
            raise ModelFileError(f"{p}: its 'arch' entry is not a string")
        obj = obj["state_dict"]
    if not isinstance(obj, dict):
        raise ModelFileError(f"{p}: expected a state_dict (name -> tensor), got {type(obj).__name__}")
    bad = [k for k, v in obj.items() if not isinstance(v, torch.Tensor)]
    if bad:
        raise ModelFileError(f"{p}: entry {bad[0]!r} is not a tensor; expected a state_dict (name -> tensor)")
    return obj, arch


def _header_of_torch(state: dict[str, Any]) -> dict[str, _TensorInfo]:
    return {k: _TensorInfo("F" if v.is_floating_point() else str(v.dtype), tuple(v.shape)) for k, v in state.items()}


def _check_fit(p: Path, arch: ArchSpec, infos: dict[str, _TensorInfo]) -> None:
    if not infos:
        raise ModelFileError(f"{p}: holds no tensors (an empty state_dict)")
    want = arch.shapes()
    missing = [k for k in want if k not in infos]
    extra = [k for k in infos if k not in want]
    if missing or extra:
        parts = ([f"missing {', '.join(missing[:4])}"] if missing else []) + \
                ([f"unexpected {', '.join(extra[:4])}"] if extra else [])
        raise ModelFileError(f"{p}: state_dict does not fit {arch.text!r}: {'; '.join(parts)}")
    for k, shape in want.items():
        if infos[k].shape != shape:
            raise ModelFileError(f"{p}: state_dict does not fit {arch.text!r}: {k} has shape "
                                 f"{infos[k].shape} in the file, {shape} in the architecture")
    for k, info in infos.items():
        if info.dtype not in _FLOAT_DTYPES and info.dtype != "F":
            raise ModelFileError(f"{p}: tensor {k!r} has dtype {info.dtype}; weights must be floating point")


def load_model(path: str | Path, arch: str | None = None) -> tuple[nn.Module, tuple[int, ...] | None]:
    """Build the network of ``arch`` and load its weights from ``path``, refusing unsafe or unfit files.

    Parameters
    ----------
    path : ``.safetensors`` or a ``torch.save`` file of a ``state_dict`` (or of
        ``{"state_dict": ..., "theorylab.arch": spec}`` as :func:`save_model` writes).
    arch : architecture spec (:func:`parse_arch`); may be omitted when the file records one.
        A spec that disagrees with the recorded one is refused.

    Returns
    -------
    (module in eval mode, per-example input shape or None)

    Raises
    ------
    ModelFileError
        A missing, unreadable, pickled or corrupt file; a spec that does not match the file's
        tensor names and shapes (checked before anything is built); non-float or non-finite
        weights.
    """
    import torch

    p = Path(path)
    if not p.is_file():
        raise ModelFileError(f"{p}: no such model file")
    parsed = parse_arch(arch) if arch is not None else None
    safetensors_file = p.suffix.lower() == ".safetensors"
    if safetensors_file:
        infos, meta = read_tensor_header(p)
        recorded = meta.get(ARCH_KEY)
        state = None
    else:
        state, recorded = _load_torch_file(p)
        infos = _header_of_torch(state)
    if recorded is not None:
        rec = parse_arch(recorded)
        if parsed is not None and rec.shapes() != parsed.shapes():
            raise ModelFileError(f"{p}: the file records architecture {recorded!r}, which differs from {arch!r}")
        parsed = parsed or rec
    if parsed is None:
        raise ModelFileError(f"{p}: no architecture: pass --arch (the file records none; {_EXAMPLES})")
    _check_fit(p, parsed, infos)  # before building anything
    if safetensors_file:
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            state = load_file(str(p))
        except (SafetensorError, OSError, ValueError, RuntimeError) as e:
            raise ModelFileError(f"{p}: cannot read safetensors data ({type(e).__name__}: {e})") from None
    assert state is not None
    for k, v in state.items():
        if not bool(torch.isfinite(v).all()):
            raise ModelFileError(f"{p}: tensor {k!r} holds NaN or inf values")
    net, shape = build_model(parsed)
    try:
        net.load_state_dict({k: v.to(torch.float32) for k, v in state.items()}, strict=True)
    except RuntimeError as e:  # the arithmetic above should have caught this; say so plainly if not
        raise ModelFileError(f"{p}: state_dict does not fit {parsed.text!r}: {str(e).splitlines()[0]}") from None
    return net.eval(), shape


def save_model(model: nn.Module, path: str | Path, arch: str) -> Path:
    """Write ``model``'s weights with its architecture spec recorded (safetensors or torch.save).

    ``.safetensors`` stores the spec in the header metadata; any other suffix writes
    ``{"state_dict": ..., "theorylab.arch": spec}`` with ``torch.save`` (loadable with
    ``weights_only=True``). :func:`load_model` then needs no ``arch``.
    """
    import torch

    spec = parse_arch(arch)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    _check_fit(Path(path), spec, _header_of_torch(state))
    p = Path(path)
    if p.suffix.lower() == ".safetensors":
        from safetensors.torch import save_file

        save_file(state, str(p), metadata={ARCH_KEY: spec.text})
    else:
        torch.save({"state_dict": state, ARCH_KEY: spec.text}, p)
    return p
