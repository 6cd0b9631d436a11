"""``save`` and ``load``: state_dicts in the safetensors format, written by hand.

A safetensors file is

    8 bytes    N, the header length, unsigned little-endian
    N bytes    a JSON object: for each tensor
                   name: {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}
               and optionally "__metadata__": {str: str}; padded with spaces so
               that 8 + N is a multiple of 8
    the rest   the tensors' raw little-endian bytes, C order; the offsets count
               from the start of this buffer and tile it exactly (no gaps, no
               overlaps, nothing left over)

so PyTorch reads our files with ``safetensors.torch.load_file`` and we read
its ``save_file``. The header lists the tensors in the state_dict's order,
which ``load`` gives back. The bytes are laid out by descending item size,
then name, so each tensor starts at an offset that is a multiple of its item
size (as the safetensors library does, which lets readers map the data
without copying).

Why not pickle (``torch.save``): unpickling runs whatever code the file names,
so loading a checkpoint from anywhere would be running a program from
anywhere. Here loading only parses JSON and copies bytes, and checks every
field before trusting it: a damaged or hostile file raises CheckpointError,
never a wrong tensor, a huge allocation or an executed payload.

Writing is atomic: the bytes go to a temporary file in the target's
directory, are flushed and fsync'ed, and only then renamed over ``path``
(``os.replace`` is atomic on POSIX and Windows). A crash or error midway leaves
the previous checkpoint at ``path`` as it was, never a truncated one.
"""
import json
import os
import secrets
import struct

import numpy as np

# safetensors dtype names and the NumPy types they hold, in the stored byte order
_DTYPES = {
    "F64": np.dtype("<f8"), "F32": np.dtype("<f4"), "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"), "I32": np.dtype("<i4"), "I16": np.dtype("<i2"),
    "I8": np.dtype("i1"), "U8": np.dtype("u1"), "BOOL": np.dtype("?"),
}
_NAMES = {(dtype.kind, dtype.itemsize): name for name, dtype in _DTYPES.items()}
_SUPPORTED = ", ".join(_DTYPES)

_METADATA_KEY = "__metadata__"
_TENSOR_FIELDS = {"dtype", "shape", "data_offsets"}
# the same cap as the safetensors library: a header is a table of contents,
# and a bogus length must not make us allocate gigabytes
_MAX_HEADER_BYTES = 100_000_000

_PICKLE_HINT = ("chainrule does not load pickle because loading pickle can run code; "
                "re-save it with safetensors (safetensors.torch.save_file(state_dict, path))")


class CheckpointError(ValueError):
    """A file that ``load`` refuses: not safetensors, damaged, or inconsistent."""


def save(state_dict, path, metadata=None):
    """Write ``state_dict`` (name -> Tensor or ndarray) to ``path`` as safetensors.

    ``metadata``, if given, is a dict of str to str stored in the header's
    ``"__metadata__"`` entry (safetensors allows nothing richer). Every value
    is checked before the disk is touched; the write itself is atomic.
    """
    arrays = _arrays_to_save(state_dict)
    # largest items first keeps every tensor aligned to its item size
    layout = sorted(arrays, key=lambda item: (-item[1].itemsize, item[0]))
    header = _header(arrays, layout, metadata)

    path = os.fspath(path)
    directory, base = os.path.split(os.path.abspath(path))
    temporary = os.path.join(directory, f".{base}.{secrets.token_hex(8)}.tmp")
    # O_EXCL: never write through a file (or symlink) someone else put there;
    # mode 0o666 lets the umask decide permissions, as for any new file
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(struct.pack("<Q", len(header)))
            f.write(header)
            for _, array in layout:
                _write_array(f, array)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        # KeyboardInterrupt included: a half-written temporary is useless
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise
    _fsync_directory(directory)


def load(path):
    """Read a safetensors file into a dict name -> Tensor (dtypes kept).

    Raises CheckpointError, naming the file and the problem, for anything that
    is not a well-formed safetensors file, including pickle checkpoints.
    """
    from chainrule.tensor import Tensor  # lazily: this module must import without the core

    path = os.fspath(path)
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        prefix = f.read(8)
        entries, data_start = _read_header(f, path, size, prefix)
        in_file_order = _check_layout(path, entries, size - data_start)

        result = {}
        for name, dtype, shape, begin, end in in_file_order:
            try:
                array = np.empty(shape, dtype=dtype)
            except ValueError as error:
                # a size-0 shape can still name dimensions NumPy cannot make
                _fail(path, f"tensor {name!r} has shape {list(shape)} that NumPy cannot "
                            f"allocate ({error})")
            if end > begin:
                f.seek(data_start + begin)
                got = f.readinto(memoryview(array).cast("B"))
                if got != end - begin:
                    _fail(path, f"tensor {name!r} is truncated: expected {end - begin} bytes, "
                                f"read {got} (was the file changed while loading?)")
            if dtype.kind == "b" and np.any(array.view(np.uint8) > 1):
                _fail(path, f"BOOL tensor {name!r} holds bytes other than 0 and 1")
            result[name] = array.astype(dtype.newbyteorder("="), copy=False)
    # the header's order, not the data's: the names as the writer listed them
    return {name: Tensor(result[name]) for name, *_ in entries}


# -- writing ----------------------------------------------------------------

def _arrays_to_save(state_dict):
    """Validate keys and values; return [(name, little-endian C-contiguous array)]."""
    if hasattr(state_dict, "state_dict") and callable(state_dict.state_dict):
        raise TypeError("save: got a Module, not a state_dict; "
                        "pass model.state_dict() instead")
    if not isinstance(state_dict, dict):
        raise TypeError(f"save: state_dict must be a dict of name -> Tensor, "
                        f"got {type(state_dict).__name__}")
    arrays = []
    for name, value in state_dict.items():
        if not isinstance(name, str):
            raise TypeError(f"save: state_dict keys must be str, got {type(name).__name__} "
                            f"key {name!r}; convert it, e.g. str({name!r})")
        if name == _METADATA_KEY:
            raise ValueError(f"save: {_METADATA_KEY!r} is reserved by safetensors for the "
                             f"metadata dict; pass metadata=... and rename the tensor")
        if not (isinstance(value, (np.ndarray, np.generic)) or hasattr(value, "__array__")):
            raise TypeError(f"save: value for {name!r} is a {type(value).__name__}; "
                            f"pass a chainrule Tensor or a NumPy array")
        array = np.asarray(value)
        if (array.dtype.kind, array.dtype.itemsize) not in _NAMES:
            raise TypeError(f"save: tensor {name!r} has dtype {array.dtype}, which safetensors "
                            f"files here cannot hold (supported: {_SUPPORTED}); "
                            f"convert it, e.g. with .astype(np.float64)")
        stored = _DTYPES[_NAMES[array.dtype.kind, array.dtype.itemsize]]
        # asarray, not ascontiguousarray, which would turn a 0-d array into 1-d
        arrays.append((name, np.asarray(array, dtype=stored, order="C")))
    return arrays


def _header(arrays, layout, metadata):
    """The JSON header, space-padded so the data starts 8-byte aligned.

    Entries follow the state_dict's order (so ``load`` gives it back in that
    order); their offsets follow ``layout``, the order the bytes are written.
    """
    header = {}
    if metadata is not None:
        if not isinstance(metadata, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
            raise TypeError("save: metadata must be a dict of str -> str (safetensors stores "
                            "nothing else); convert values with str() or json.dumps()")
        header[_METADATA_KEY] = metadata
    offsets, position = {}, 0
    for name, array in layout:
        offsets[name] = [position, position + array.nbytes]
        position += array.nbytes
    for name, array in arrays:
        header[name] = {"dtype": _NAMES[array.dtype.kind, array.itemsize],
                        "shape": list(array.shape),
                        "data_offsets": offsets[name]}
    encoded = json.dumps(header, separators=(",", ":")).encode("utf-8")
    return encoded + b" " * (-(8 + len(encoded)) % 8)


def _write_array(f, array):
    """Write one C-contiguous array's bytes without an intermediate copy."""
    if array.size:
        f.write(memoryview(array).cast("B"))


def _fsync_directory(directory):
    """Make the rename itself durable (POSIX); a no-op where directories can't be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# -- reading ----------------------------------------------------------------

def _fail(path, problem):
    raise CheckpointError(f"cannot load {path!r}: {problem}")


def _read_header(f, path, size, prefix):
    """Parse and check the header; return ([(name, dtype, shape, begin, end)], data start)."""
    if size == 0:
        _fail(path, "the file is empty")
    _refuse_known_non_safetensors(path, prefix)
    if size < 8:
        _fail(path, f"the file is {size} bytes, too short for the 8-byte header length "
                    f"of a safetensors file")
    (length,) = struct.unpack("<Q", prefix)
    if length > size - 8:
        _fail(path, f"bad header length: the first 8 bytes say {length} bytes of header, "
                    f"but only {size - 8} bytes follow (truncated file, or not safetensors)")
    if length > _MAX_HEADER_BYTES:
        _fail(path, f"bad header length: {length} bytes exceeds the limit of "
                    f"{_MAX_HEADER_BYTES}")
    raw = f.read(length)
    if len(raw) != length:
        _fail(path, f"header is truncated: expected {length} bytes, read {len(raw)}")
    try:
        header = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicate_keys)
    except _DuplicateKey as error:
        _fail(path, f"header names {error.args[0]!r} twice")
    except (UnicodeDecodeError, ValueError) as error:
        _fail(path, f"header is not JSON ({error})")
    if not isinstance(header, dict):
        _fail(path, f"header is JSON but not an object (got {type(header).__name__})")

    metadata = header.pop(_METADATA_KEY, {})
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        _fail(path, f"{_METADATA_KEY!r} must be an object of string values")
    entries = [_parse_entry(path, name, info) for name, info in header.items()]
    return entries, 8 + length


def _refuse_known_non_safetensors(path, prefix):
    """Recognise pickle files (torch.save, old and new) by their first bytes."""
    if prefix[:1] == b"\x80" and prefix[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        _fail(path, f"looks like a pickle file (pickle protocol {prefix[1]}): {_PICKLE_HINT}")
    if prefix[:4] == b"PK\x03\x04":
        _fail(path, f"looks like a pickle file (a zip archive, as torch.save writes): "
                    f"{_PICKLE_HINT}")


class _DuplicateKey(ValueError):
    """Raised inside json.loads; load turns it into a CheckpointError."""


def _no_duplicate_keys(pairs):
    """json object hook: a name given twice would silently drop a tensor."""
    result = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def _is_count(value):
    # bool is an int subclass, and JSON true must not pass as 1
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _parse_entry(path, name, info):
    if not isinstance(info, dict) or set(info) != _TENSOR_FIELDS:
        _fail(path, f"entry {name!r} must be an object with exactly the fields "
                    f"dtype, shape and data_offsets, got {info!r}"[:300])
    dtype_name, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
    if dtype_name not in _DTYPES:
        _fail(path, f"unknown dtype {dtype_name!r} for tensor {name!r} "
                    f"(chainrule reads {_SUPPORTED})")
    if not isinstance(shape, list) or not all(_is_count(d) for d in shape):
        _fail(path, f"shape of tensor {name!r} must be a list of non-negative integers, "
                    f"got {shape!r}")
    if (not isinstance(offsets, list) or len(offsets) != 2
            or not all(_is_count(o) for o in offsets) or offsets[0] > offsets[1]):
        _fail(path, f"data_offsets of tensor {name!r} must be [begin, end] with "
                    f"0 <= begin <= end, got {offsets!r}")
    dtype = _DTYPES[dtype_name]
    # Python ints: a hostile shape cannot overflow this product
    expected = dtype.itemsize
    for d in shape:
        expected *= d
    begin, end = offsets
    if end - begin != expected:
        _fail(path, f"size mismatch for tensor {name!r}: shape {shape} of {dtype_name} needs "
                    f"{expected} bytes, but data_offsets {offsets} span {end - begin}")
    return name, dtype, tuple(shape), begin, end


def _check_layout(path, entries, data_size):
    """Check that the tensors tile the data buffer exactly, as safetensors
    requires; return the entries in the order their bytes appear."""
    in_file_order = sorted(entries, key=lambda entry: (entry[3], entry[4]))
    position, previous = 0, None
    for name, _, _, begin, end in in_file_order:
        if end > data_size:
            _fail(path, f"offsets out of range: tensor {name!r} ends at byte {end} but the "
                        f"data section has {data_size} bytes (truncated file?)")
        if begin < position:
            _fail(path, f"tensors {previous!r} and {name!r} have overlapping data_offsets")
        if begin > position:
            _fail(path, f"{begin - position} bytes before tensor {name!r} belong to no tensor "
                        f"(a gap in data_offsets)")
        position, previous = end, name
    if position != data_size:
        _fail(path, f"{data_size - position} bytes after the last tensor belong to no tensor")
    return in_file_order
