"""Dtypes and PyTorch's type-promotion rules.

chainrule's dtypes are NumPy's (``cr.float32 is np.float32``'s dtype), so an
array and a tensor speak the same language. Promotion follows PyTorch, not
NumPy, where the two differ:

* categories rank bool < integer < floating;
* a tensor with dimensions outranks a 0-d tensor, which outranks a Python
  scalar, *within the same category* (``float32 tensor * float64 0-d`` stays
  float32);
* a higher category wins whatever its kind: ``int64 tensor * 2.5`` gives the
  default float dtype, not NumPy's float64.
"""
import numpy as np

float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
float16 = np.dtype(np.float16)
int64 = np.dtype(np.int64)
int32 = np.dtype(np.int32)
uint8 = np.dtype(np.uint8)
bool = np.dtype(np.bool_)  # noqa: A001 - PyTorch's public name

_default = [float32]


def set_default_dtype(dtype):
    """Set the dtype of tensors made from Python floats (float32 or float64)."""
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"set_default_dtype: only floating dtypes are allowed, got {dtype}")
    _default[0] = dtype


def get_default_dtype():
    return _default[0]


def is_floating(dtype):
    return dtype.kind in "fc"


def _category(dtype):
    return 0 if dtype.kind == "b" else 2 if dtype.kind in "fc" else 1


def _scalar_category(value):
    # bool is a subclass of int: test it first
    if isinstance(value, (np.bool_, type(True))):
        return 0
    if isinstance(value, (int, np.integer)):
        return 1
    return 2


def result_dtype(operands):
    """The dtype PyTorch gives an op over ``operands``.

    Each operand is ``(dtype, ndim)`` for a tensor or array, or a Python
    number. Returns a NumPy dtype.
    """
    dims, zero_dims, scalar_cat = [], [], -1
    for op in operands:
        if isinstance(op, tuple):
            (dims if op[1] else zero_dims).append(op[0])
        else:
            scalar_cat = max(scalar_cat, _scalar_category(op))
    best_cat, best = -1, None
    for group in (dims, zero_dims):
        if not group:
            continue
        cat = max(_category(d) for d in group)
        dt = np.result_type(*[d for d in group if _category(d) == cat])
        if cat > best_cat:
            best_cat, best = cat, dt
    if scalar_cat > best_cat:
        best = (np.dtype(np.bool_), int64, get_default_dtype())[scalar_cat]
    return best
