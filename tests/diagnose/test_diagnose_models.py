"""Model files for ``diagnose``: specs checked by arithmetic, files checked before anything is built,
nothing unpickled, every bad file refused with a message naming the problem."""

from __future__ import annotations

import json
import pickle
import struct
import time
from pathlib import Path

import numpy as np
import pytest
import torch

import theorylab.diagnose.models as models_mod
from theorylab.diagnose import ModelFileError, build_model, load_model, parse_arch, save_model
from theorylab.errors import TheorylabError

SPECS = [
    "mlp:in=4,widths=8x5,out=3",
    "mlp:in=6,out=2",
    "mlp:in=5,widths=7,out=1,activation=tanh",
    "cnn1d:length=40,out=10",
    "cnn1d:length=33,out=4,channels=6x5,kernels=3x5,strides=1x2",
    "cnn1d:length=20,out=3,channels=4,kernels=3,strides=2,in_channels=2",
    "cnn2d:side=8,out=10,channels=4x8,hidden=16",
    "cnn2d:side=9,out=5,channels=3,kernel=5,hidden=7,in_channels=3",
]


@pytest.mark.parametrize("spec", SPECS)
def test_shapes_by_arithmetic_match_the_built_network(spec: str) -> None:
    arch = parse_arch(spec)
    net, shape = build_model(arch)
    built = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    assert arch.shapes() == built
    assert arch.n_params() == sum(v.numel() for v in net.state_dict().values())
    x = torch.zeros(2, *(shape or (arch.in_features,)))
    assert net(x).shape[0] == 2


@pytest.mark.parametrize(("spec", "match"), [
    ("resnet:depth=50", "unknown kind"),
    ("mlp:in=4,out=2,depth=3", "unknown keys depth"),
    ("mlp:widths=4,out=2", "missing in"),
    ("mlp:in=four,out=2", "one integer"),
    ("mlp:in=4,widths=0x3,out=2", r"\[1, 10,000,000\]"),
    ("mlp:in=4,widths=99999999999,out=2", r"\[1, 10,000,000\]"),
    ("mlp:in=4,out=2,in=5", "given twice"),
    ("mlp:in=4,out=2,activation=swish", "activation"),
    ("mlp:in=4,out", "not key=value"),
    ("mlp:in=100000,widths=100000x100000,out=10", "parameters, more than"),
    ("cnn1d:length=40,out=10,channels=4x4,kernels=3", "equal lengths"),
    ("cnn2d:side=2,out=10,channels=4x4", "too small"),
    ("", "non-empty"),
])
def test_bad_specs_are_one_line(spec: str, match: str) -> None:
    with pytest.raises(ModelFileError, match=match) as e:
        parse_arch(spec)
    assert "\n" not in str(e.value)


def _mlp_file(tmp_path: Path, name: str = "w.pt") -> tuple[Path, torch.nn.Module]:
    net, _ = build_model("mlp:in=4,widths=8,out=2")
    torch.save(net.state_dict(), tmp_path / name)
    return tmp_path / name, net


def test_state_dict_and_safetensors_round_trip(tmp_path: Path) -> None:
    p, net = _mlp_file(tmp_path)
    loaded, shape = load_model(p, "mlp:in=4,widths=8,out=2")
    x = torch.randn(3, 4)
    torch.testing.assert_close(loaded(x), net(x))
    assert shape is None and not loaded.training
    for suffix in (".safetensors", ".pt"):
        q = save_model(net, tmp_path / f"rec{suffix}", "mlp:in=4,widths=8,out=2")
        again, _ = load_model(q)  # the file records its architecture
        torch.testing.assert_close(again(x), net(x))
        with pytest.raises(ModelFileError, match="records architecture"):
            load_model(q, "mlp:in=4,widths=9,out=2")
    with pytest.raises(ModelFileError, match="no architecture"):
        load_model(p)


def test_huge_width_is_refused_before_building(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p, _ = _mlp_file(tmp_path)
    built = []
    monkeypatch.setattr(models_mod, "build_model", lambda *a, **k: built.append(a))
    t = time.perf_counter()
    with pytest.raises(ModelFileError, match=r"0.weight has shape \(8, 4\) in the file, \(5000000, 4\)"):
        load_model(p, "mlp:in=4,widths=5000000,out=2")
    assert time.perf_counter() - t < 2.0 and not built
    from safetensors.torch import save_file

    save_file(build_model("mlp:in=4,widths=8,out=2")[0].state_dict(), str(tmp_path / "s.safetensors"))
    with pytest.raises(ModelFileError, match="does not fit"):
        load_model(tmp_path / "s.safetensors", "mlp:in=4,widths=5000000x20,out=2")
    assert not built


def test_arch_that_does_not_match_is_named(tmp_path: Path) -> None:
    p, _ = _mlp_file(tmp_path)
    with pytest.raises(ModelFileError, match=r"missing 4\.weight, 4\.bias"):
        load_model(p, "mlp:in=4,widths=8x8,out=2")
    with pytest.raises(ModelFileError, match=r"unexpected 2\.weight"):
        load_model(p, "mlp:in=4,out=2")
    with pytest.raises(ModelFileError, match="does not fit 'cnn1d"):
        load_model(p, "cnn1d:length=4,out=2")


class _Boom:
    """A pickle that would create a file when unpickled."""

    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self):
        return (Path.touch, (self.target,))


def test_pickles_never_run(tmp_path: Path) -> None:
    net, _ = build_model("mlp:in=4,widths=8,out=2")
    torch.save(net, tmp_path / "module.pt")  # a whole pickled module
    with pytest.raises(ModelFileError, match="weights_only"):
        load_model(tmp_path / "module.pt", "mlp:in=4,widths=8,out=2")
    marker = tmp_path / "pwned"
    with open(tmp_path / "evil.pt", "wb") as f:
        pickle.dump({"0.weight": _Boom(marker)}, f)
    torch.save({"x": _Boom(marker)}, tmp_path / "evil2.pt")
    for name in ("evil.pt", "evil2.pt"):
        with pytest.raises(ModelFileError, match="weights_only"):
            load_model(tmp_path / name, "mlp:in=4,widths=8,out=2")
    assert not marker.exists()


def _safetensors(path: Path, header: dict, data: bytes = b"") -> Path:
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data)
    return path


def test_bad_files_are_named(tmp_path: Path) -> None:
    arch = "mlp:in=4,widths=8,out=2"
    cases: dict[str, tuple[Path, str]] = {}
    (tmp_path / "empty.pt").write_bytes(b"")
    cases["empty torch file"] = (tmp_path / "empty.pt", "weights_only")
    (tmp_path / "junk.safetensors").write_bytes(b"\xff" * 64)
    cases["garbage"] = (tmp_path / "junk.safetensors", "not a safetensors file")
    (tmp_path / "short.safetensors").write_bytes(b"abc")
    cases["too short"] = (tmp_path / "short.safetensors", "shorter than")
    _safetensors(tmp_path / "trunc.safetensors", {"0.weight": {"dtype": "F32", "shape": [8, 4], "data_offsets": [0, 128]}})
    cases["truncated"] = (tmp_path / "trunc.safetensors", "truncated or corrupt")
    _safetensors(tmp_path / "none.safetensors", {})
    cases["no tensors"] = (tmp_path / "none.safetensors", "no tensors")
    torch.save({}, tmp_path / "emptydict.pt")
    cases["empty state_dict"] = (tmp_path / "emptydict.pt", "no tensors")
    torch.save({"0.weight": 3}, tmp_path / "notensor.pt")
    cases["not a tensor"] = (tmp_path / "notensor.pt", "not a tensor")
    torch.save([1, 2], tmp_path / "list.pt")
    cases["not a dict"] = (tmp_path / "list.pt", "expected a state_dict")
    net, _ = build_model(arch)
    sd = {k: v.clone() for k, v in net.state_dict().items()}
    sd["0.weight"][0, 0] = float("nan")
    torch.save(sd, tmp_path / "nan.pt")
    cases["NaN weight"] = (tmp_path / "nan.pt", "NaN or inf")
    sd = {k: v.to(torch.int64) for k, v in net.state_dict().items()}
    torch.save(sd, tmp_path / "int.pt")
    cases["integer weights"] = (tmp_path / "int.pt", "floating point")
    cases["missing"] = (tmp_path / "nope.pt", "no such model file")
    for what, (path, match) in cases.items():
        with pytest.raises(TheorylabError, match=match) as e:
            load_model(path, arch)
        assert "\n" not in str(e.value), what


def test_weights_in_float64_load_into_the_float32_net(tmp_path: Path) -> None:
    net, _ = build_model("mlp:in=3,widths=5,out=2")
    torch.save({k: v.double() for k, v in net.state_dict().items()}, tmp_path / "d.pt")
    loaded, _ = load_model(tmp_path / "d.pt", "mlp:in=3,widths=5,out=2")
    x = torch.as_tensor(np.ones((1, 3)), dtype=torch.float32)
    torch.testing.assert_close(loaded(x), net(x))
