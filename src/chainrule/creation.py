"""Making tensors: ``cr.tensor`` and the factories (zeros, randn, arange, ...).

Python floats (and lists of them) become the default dtype, float32, as in
PyTorch; Python ints become int64; a NumPy array keeps its dtype.
"""
import numpy as np

from . import dtypes
from .random import default_generator
from .tensor import Tensor


def _dtype(dtype, default=None):
    if dtype is None:
        return default
    if isinstance(dtype, str):
        raise TypeError(f"dtype must be a dtype such as cr.float32, got the string {dtype!r}")
    return np.dtype(dtype)


def _make(array, requires_grad):
    t = Tensor(array)
    if requires_grad:
        t.requires_grad_(True)
    return t


def tensor(data, dtype=None, requires_grad=False):
    """A new leaf tensor holding a copy of ``data``."""
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, np.ndarray) or isinstance(data, np.generic):
        array = np.array(data, dtype=_dtype(dtype), copy=True)
    else:
        try:
            array = np.array(data)
        except ValueError as e:
            raise ValueError(f"tensor: cannot build a tensor from this data ({e}); nested "
                             f"lists must be rectangular") from None
        if array.dtype == object:
            raise TypeError(f"tensor: cannot build a tensor from {type(data).__name__} "
                            f"values; expected numbers, nested lists of numbers or an array")
        if dtype is None and array.dtype.kind == "f":
            array = array.astype(dtypes.get_default_dtype())
        elif dtype is not None:
            array = array.astype(_dtype(dtype))
    if array.dtype.kind in "US":
        raise TypeError("tensor: strings cannot be stored in a tensor")
    return _make(array, requires_grad)


def from_numpy(array):
    """A tensor sharing memory with ``array`` (changes to one show in the other)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    return Tensor(array)


def _size(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for n in size:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"size must be non-negative ints, got {tuple(size)}")
    return tuple(int(n) for n in size)


def zeros(*size, dtype=None, requires_grad=False):
    return _make(np.zeros(_size(size), _dtype(dtype, dtypes.get_default_dtype())), requires_grad)


def ones(*size, dtype=None, requires_grad=False):
    return _make(np.ones(_size(size), _dtype(dtype, dtypes.get_default_dtype())), requires_grad)


def empty(*size, dtype=None, requires_grad=False):
    return zeros(*size, dtype=dtype, requires_grad=requires_grad)


def full(size, fill_value, dtype=None, requires_grad=False):
    if dtype is None:
        dtype = dtypes.result_dtype([fill_value])
    return _make(np.full(_size((size,)), fill_value, _dtype(dtype)), requires_grad)


def eye(n, m=None, dtype=None, requires_grad=False):
    return _make(np.eye(n, m, dtype=_dtype(dtype, dtypes.get_default_dtype())), requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad=False):
    if end is None:
        start, end = 0, start
    if dtype is None:
        dtype = dtypes.result_dtype([start, end, step])
    return _make(np.arange(start, end, step).astype(_dtype(dtype)), requires_grad)


def linspace(start, end, steps, dtype=None, requires_grad=False):
    return _make(np.linspace(start, end, steps).astype(
        _dtype(dtype, dtypes.get_default_dtype())), requires_grad)


def rand(*size, dtype=None, requires_grad=False):
    dt = _dtype(dtype, dtypes.get_default_dtype())
    return _make(default_generator().random(_size(size)).astype(dt), requires_grad)


def randn(*size, dtype=None, requires_grad=False):
    dt = _dtype(dtype, dtypes.get_default_dtype())
    return _make(default_generator().standard_normal(_size(size)).astype(dt), requires_grad)


def randint(low, high=None, size=(), dtype=None):
    if high is None:
        low, high = 0, low
    return Tensor(default_generator().integers(low, high, size=_size((size,)))
                  .astype(_dtype(dtype, dtypes.int64)))


def zeros_like(input, dtype=None, requires_grad=False):
    return _make(np.zeros_like(input.data, dtype=_dtype(dtype)), requires_grad)


def ones_like(input, dtype=None, requires_grad=False):
    return _make(np.ones_like(input.data, dtype=_dtype(dtype)), requires_grad)


def full_like(input, fill_value, dtype=None, requires_grad=False):
    return _make(np.full_like(input.data, fill_value, dtype=_dtype(dtype)), requires_grad)


def rand_like(input, dtype=None, requires_grad=False):
    return rand(*input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad)


def randn_like(input, dtype=None, requires_grad=False):
    return randn(*input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad)
