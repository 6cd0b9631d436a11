"""save/load: safetensors round trips, interop with safetensors.torch, refusal of
damaged and pickle files, and atomic writes."""
import json
import os
import pickle
import re
import struct

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from chainrule import serialization
from chainrule.serialization import CheckpointError, load, save
from chainrule.tensor import Tensor

# safetensors name -> (NumPy dtype, torch dtype)
DTYPES = {
    "F64": (np.float64, torch.float64), "F32": (np.float32, torch.float32),
    "F16": (np.float16, torch.float16), "I64": (np.int64, torch.int64),
    "I32": (np.int32, torch.int32), "I16": (np.int16, torch.int16),
    "I8": (np.int8, torch.int8), "U8": (np.uint8, torch.uint8), "BOOL": (np.bool_, torch.bool),
}
SHAPES = [(), (0,), (2, 0, 3), (5,), (3, 4)]


def _random(dtype, shape, rng):
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        values = rng.standard_normal(shape).astype(dtype)
        if values.size >= 3:
            # the bytes must survive exactly, special values included
            values.flat[:3] = [np.inf, np.nan, -0.0]
        return values
    if dtype.kind == "b":
        return rng.integers(0, 2, shape).astype(bool)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, shape, dtype=dtype, endpoint=True)


def _same(a, b):
    """Equal dtype, shape and bytes (so nan == nan and -0.0 != 0.0)."""
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def _state_dict(rng):
    return {f"{name}_{i}": _random(np_dtype, shape, rng)
            for name, (np_dtype, _) in DTYPES.items() for i, shape in enumerate(SHAPES)}


def _header_of(path):
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        return length, json.loads(f.read(length))


# -- round trips ------------------------------------------------------------

@pytest.mark.parametrize("name", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_round_trip_keeps_dtype_shape_and_bytes(tmp_path, name, shape):
    array = _random(DTYPES[name][0], shape, np.random.default_rng(0))
    path = tmp_path / "one.safetensors"
    save({"x": Tensor(array)}, path)
    loaded = load(path)
    assert list(loaded) == ["x"]
    assert isinstance(loaded["x"], Tensor)
    assert _same(loaded["x"].data, array)
    assert loaded["x"].data.flags.writeable


def test_round_trip_many_tensors_keeps_order_and_aligns_data(tmp_path):
    state = _state_dict(np.random.default_rng(1))
    names = list(state)[::-1]          # not sorted, not grouped by dtype
    state = {name: state[name] for name in names}
    path = tmp_path / "many.safetensors"
    save(state, path)

    loaded = load(path)
    assert list(loaded) == names
    assert all(_same(loaded[n].data, state[n]) for n in names)

    length, header = _header_of(path)
    assert (8 + length) % 8 == 0
    for name in names:
        begin = header[name]["data_offsets"][0]
        assert begin % state[name].itemsize == 0, name


def test_save_accepts_arrays_views_other_byte_orders_and_grad_tensors(tmp_path):
    rng = np.random.default_rng(2)
    base = rng.standard_normal((4, 6))
    state = {
        "transposed": base.T,
        "strided": base[::2, 1::3],
        "big_endian": base.astype(">f8"),
        "big_endian_int": np.arange(5, dtype=">i4"),
        "numpy_scalar": np.float32(1.5),
        "trainable": Tensor(base, requires_grad=True),
    }
    path = tmp_path / "mixed.safetensors"
    save(state, path)
    loaded = load(path)
    for name, value in state.items():
        want = np.asarray(value.data if isinstance(value, Tensor) else value)
        got = loaded[name].data
        assert got.dtype == want.dtype.newbyteorder("=")
        np.testing.assert_array_equal(got, want)
    assert loaded["trainable"].requires_grad is False


def test_path_may_be_str_or_pathlike(tmp_path):
    array = np.arange(3.0)
    save({"a": array}, str(tmp_path / "s.safetensors"))
    save({"a": array}, tmp_path / "p.safetensors")
    assert _same(load(str(tmp_path / "p.safetensors"))["a"].data, array)
    assert _same(load(tmp_path / "s.safetensors")["a"].data, array)


# -- interop with PyTorch's safetensors ---------------------------------------

def test_file_saved_here_loads_in_safetensors_torch(tmp_path):
    state = _state_dict(np.random.default_rng(3))
    path = tmp_path / "ours.safetensors"
    save({k: Tensor(v) for k, v in state.items()}, path, metadata={"format": "pt", "epoch": "3"})

    theirs = load_file(str(path))
    assert set(theirs) == set(state)
    for name, array in state.items():
        assert theirs[name].dtype == DTYPES[name.split("_")[0]][1]
        assert _same(theirs[name].numpy(), array), name
    with safe_open(str(path), framework="pt") as f:
        assert f.metadata() == {"format": "pt", "epoch": "3"}


def test_file_saved_by_safetensors_torch_loads_here(tmp_path):
    state = {k: torch.from_numpy(v) for k, v in _state_dict(np.random.default_rng(4)).items()}
    path = tmp_path / "theirs.safetensors"
    save_file(state, str(path), metadata={"source": "torch"})
    loaded = load(path)
    assert set(loaded) == set(state)
    for name, tensor in state.items():
        assert _same(loaded[name].data, tensor.numpy()), name


def test_dtype_pytorch_has_and_chainrule_does_not_is_named(tmp_path):
    path = tmp_path / "bf16.safetensors"
    save_file({"w": torch.ones(2, dtype=torch.bfloat16)}, str(path))
    with pytest.raises(CheckpointError, match=r"unknown dtype 'BF16' for tensor 'w' "
                                              r"\(chainrule reads F64, F32, F16"):
        load(path)


# -- damaged files ----------------------------------------------------------

def _raw_file(path, header, data=b"", length=None):
    """Write a file with the given header (dict, or raw bytes) and data section."""
    if isinstance(header, dict):
        header = json.dumps(header).encode()
    header += b" " * (-len(header) % 8)
    path.write_bytes(struct.pack("<Q", len(header) if length is None else length)
                     + header + data)
    return path


def _sparse_file(path, prefix, size):
    """A file of ``size`` bytes that starts with ``prefix`` (sparse: no disk used)."""
    with open(path, "wb") as f:
        f.write(prefix)
        f.truncate(size)
    return path


def _entry(dtype="F32", shape=(2,), offsets=(0, 8)):
    return {"dtype": dtype, "shape": list(shape), "data_offsets": list(offsets)}


DAMAGED = {
    "empty": (lambda p: p.write_bytes(b""), "the file is empty"),
    "too short": (lambda p: p.write_bytes(b"\x08\x00\x00"), "the file is 3 bytes, too short"),
    "length past end": (lambda p: _raw_file(p, {"w": _entry()}, bytes(8), length=10**6),
                        "bad header length: the first 8 bytes say 1000000 bytes of header"),
    "length over cap": (lambda p: _sparse_file(p, struct.pack("<Q", 150_000_000), 2 * 10**8),
                        "bad header length: 150000000 bytes exceeds the limit of 100000000"),
    "not json": (lambda p: _raw_file(p, b"{not json"), r"header is not JSON"),
    "not utf-8": (lambda p: _raw_file(p, b'{"\xff": 1}'), r"header is not JSON"),
    "json list": (lambda p: _raw_file(p, b"[1, 2]"), "header is JSON but not an object"),
    "duplicate name": (lambda p: _raw_file(p, b'{"w": 1, "w": 2}'), "header names 'w' twice"),
    "fields": (lambda p: _raw_file(p, {"w": {"dtype": "F32", "shape": [2]}}, bytes(8)),
               "entry 'w' must be an object with exactly the fields"),
    "unknown dtype": (lambda p: _raw_file(p, {"w": _entry(dtype="Q8")}, bytes(8)),
                      "unknown dtype 'Q8' for tensor 'w'"),
    "negative dim": (lambda p: _raw_file(p, {"w": _entry(shape=(-2,))}, bytes(8)),
                     r"shape of tensor 'w' must be a list of non-negative integers, got \[-2\]"),
    "bool dim": (lambda p: _raw_file(p, {"w": _entry(shape=(True, 2))}, bytes(8)),
                 r"shape of tensor 'w' must be a list"),
    "offsets reversed": (lambda p: _raw_file(p, {"w": _entry(offsets=(8, 0))}, bytes(8)),
                         r"data_offsets of tensor 'w' must be \[begin, end\]"),
    "size mismatch": (lambda p: _raw_file(p, {"w": _entry(shape=(3,))}, bytes(8)),
                      r"size mismatch for tensor 'w': shape \[3\] of F32 needs 12 bytes, "
                      r"but data_offsets \[0, 8\] span 8"),
    "out of range": (lambda p: _raw_file(p, {"w": _entry(shape=(4,), offsets=(0, 16))},
                                         bytes(8)),
                     "offsets out of range: tensor 'w' ends at byte 16 but the data "
                     "section has 8 bytes"),
    "overlap": (lambda p: _raw_file(p, {"a": _entry(), "b": _entry(offsets=(4, 12))},
                                    bytes(12)),
                "tensors 'a' and 'b' have overlapping data_offsets"),
    "gap": (lambda p: _raw_file(p, {"a": _entry(offsets=(4, 12))}, bytes(12)),
            "4 bytes before tensor 'a' belong to no tensor"),
    "trailing": (lambda p: _raw_file(p, {"a": _entry()}, bytes(11)),
                 "3 bytes after the last tensor belong to no tensor"),
    "metadata": (lambda p: _raw_file(p, {"__metadata__": {"epoch": 3}}),
                 "'__metadata__' must be an object of string values"),
    "bool bytes": (lambda p: _raw_file(p, {"m": _entry("BOOL", (2,), (0, 2))}, b"\x01\x02"),
                   "BOOL tensor 'm' holds bytes other than 0 and 1"),
    "huge empty shape": (lambda p: _raw_file(p, {"e": _entry(shape=(0, 2**62, 2**62),
                                                             offsets=(0, 0))}),
                         r"tensor 'e' has shape \[0, \d+, \d+\] that NumPy cannot allocate"),
}


@pytest.mark.parametrize("case", DAMAGED)
def test_damaged_file_raises_checkpoint_error_naming_file_and_problem(tmp_path, case):
    make, problem = DAMAGED[case]
    path = tmp_path / "bad.safetensors"
    make(path)
    with pytest.raises(CheckpointError, match=rf"^cannot load {re.escape(repr(str(path)))}: "
                                              rf"{problem}"):
        load(path)


@pytest.mark.parametrize("keep", [0, 7, 8, 20, -1])
def test_truncated_checkpoint_is_refused(tmp_path, keep):
    good = tmp_path / "good.safetensors"
    save({"w": np.arange(12.0).reshape(3, 4), "b": np.arange(4, dtype=np.int32)}, good)
    content = good.read_bytes()
    cut = tmp_path / "cut.safetensors"
    cut.write_bytes(content[:keep])
    with pytest.raises(CheckpointError, match=r"empty|too short|bad header length|out of range"):
        load(cut)


def test_checkpoint_error_is_a_value_error():
    assert issubclass(CheckpointError, ValueError)


# -- pickle files -----------------------------------------------------------

PICKLE_HINT = ("chainrule does not load pickle because loading pickle can run code; "
               "re-save it with safetensors")


@pytest.mark.parametrize("zip_format, kind", [(True, r"a zip archive, as torch.save writes"),
                                              (False, r"pickle protocol 2")])
def test_torch_save_checkpoint_is_refused(tmp_path, zip_format, kind):
    path = tmp_path / "model.pt"
    torch.save({"w": torch.ones(2)}, path, _use_new_zipfile_serialization=zip_format)
    with pytest.raises(CheckpointError, match=rf"looks like a pickle file \({kind}\): "
                                              rf"{PICKLE_HINT}"):
        load(path)


class _Payload:
    """Unpickling this would create a marker file: the attack pickle allows."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_pickle_is_refused_without_running_it(tmp_path, protocol):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.safetensors"
    path.write_bytes(pickle.dumps(_Payload(str(marker)), protocol=protocol))
    with pytest.raises(CheckpointError, match=rf"looks like a pickle file \(pickle protocol "
                                              rf"{protocol}\): {PICKLE_HINT}"):
        load(path)
    assert not marker.exists()


# -- bad arguments to save --------------------------------------------------

class _ModuleLike:
    def state_dict(self):
        return {}


@pytest.mark.parametrize("state, kwargs, error, message", [
    ([np.ones(2)], {}, TypeError, "save: state_dict must be a dict of name -> Tensor, got list"),
    (_ModuleLike(), {}, TypeError, r"save: got a Module, not a state_dict; pass "
                                   r"model.state_dict\(\) instead"),
    ({0: np.ones(2)}, {}, TypeError, r"save: state_dict keys must be str, got int key 0"),
    ({"__metadata__": np.ones(2)}, {}, ValueError, "'__metadata__' is reserved"),
    ({"w": [1.0, 2.0]}, {}, TypeError, "save: value for 'w' is a list; pass a chainrule "
                                       "Tensor or a NumPy array"),
    ({"w": np.ones(2, np.complex128)}, {}, TypeError, "save: tensor 'w' has dtype complex128"),
    ({"w": np.ones(2, np.uint16)}, {}, TypeError, r"save: tensor 'w' has dtype uint16, .*"
                                                  r"\(supported: F64, F32, F16, I64"),
    ({"w": np.array([None])}, {}, TypeError, "save: tensor 'w' has dtype object"),
    ({"w": np.ones(2)}, {"metadata": {"epoch": 3}}, TypeError,
     "save: metadata must be a dict of str -> str"),
])
def test_bad_save_arguments_raise_and_write_nothing(tmp_path, state, kwargs, error, message):
    with pytest.raises(error, match=message):
        save(state, tmp_path / "x.safetensors", **kwargs)
    assert list(tmp_path.iterdir()) == []


# -- atomic writes ----------------------------------------------------------

def _existing_checkpoint(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    save({"w": np.arange(6.0)}, path)
    return path, path.read_bytes()


def test_failure_midway_leaves_previous_checkpoint_and_no_temporary(tmp_path, monkeypatch):
    path, before = _existing_checkpoint(tmp_path)
    write_array = serialization._write_array
    written = []

    def fail_on_second_tensor(f, array):
        if written:
            # the header and a whole tensor are already in the temporary file
            assert f.tell() > 8 + 8
            raise OSError(28, "No space left on device")
        write_array(f, array)
        written.append(array)

    monkeypatch.setattr(serialization, "_write_array", fail_on_second_tensor)
    with pytest.raises(OSError, match="No space left on device"):
        save({"a": np.ones((100, 100)), "b": np.zeros(50)}, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_failure_at_fsync_or_interrupt_leaves_previous_checkpoint(tmp_path, monkeypatch):
    path, before = _existing_checkpoint(tmp_path)

    def failing_fsync(fd):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(serialization.os, "fsync", failing_fsync)
    with pytest.raises(OSError, match="Input/output error"):
        save({"w": np.ones(10)}, path)
    monkeypatch.undo()

    def interrupted(f, array):
        raise KeyboardInterrupt

    monkeypatch.setattr(serialization, "_write_array", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save({"w": np.ones(10)}, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_successful_save_replaces_and_honours_umask(tmp_path):
    path, _ = _existing_checkpoint(tmp_path)
    save({"v": np.full(3, 7, dtype=np.int8)}, path)
    assert list(load(path)) == ["v"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]
    if os.name == "posix":
        umask = os.umask(0)
        os.umask(umask)
        fresh = tmp_path / "fresh.safetensors"
        save({"v": np.ones(1)}, fresh)
        assert fresh.stat().st_mode & 0o777 == 0o666 & ~umask
