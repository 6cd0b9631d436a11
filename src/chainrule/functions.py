"""The public function forms of the ops (``cr.sum(x, 1)``, ``cr.cat``), with
PyTorch's signatures. Most are also bound as Tensor methods, where ``self``
takes the place of ``input``; ops themselves take their options as keywords.
"""
import builtins

import numpy as np

from . import ops
from .tensor import Tensor, _check_dim


def _t(x):
    return x if isinstance(x, Tensor) else Tensor(np.asarray(x))


# -- elementwise -----------------------------------------------------------
def exp(input):
    return ops.exp(input)


def log(input):
    return ops.log(input)


def log1p(input):
    return ops.log1p(input)


def sqrt(input):
    return ops.sqrt(input)


def abs(input):  # noqa: A001
    return ops.abs(input)


def sin(input):
    return ops.sin(input)


def cos(input):
    return ops.cos(input)


def tanh(input):
    return ops.tanh(input)


def sigmoid(input):
    return ops.sigmoid(input)


def relu(input):
    return ops.relu(input)


def erf(input):
    return ops.erf(input)


def sign(input):
    return ops.sign(input)


def floor(input):
    return ops.floor(input)


def neg(input):
    return ops.neg(input)


def pow(input, exponent):  # noqa: A001
    return ops.pow(input, exponent)


def maximum(input, other):
    return ops.maximum(input, other)


def minimum(input, other):
    return ops.minimum(input, other)


def clamp(input, min=None, max=None):  # noqa: A002
    return ops.clamp(input, min=min, max=max)


clip = clamp


def where(condition, input, other):
    return ops.where(condition, input, other)


def add(input, other, alpha=1):
    return ops.add(input, other if alpha == 1 else ops.mul(other, alpha))


def sub(input, other, alpha=1):
    return ops.sub(input, other if alpha == 1 else ops.mul(other, alpha))


def mul(input, other):
    return ops.mul(input, other)


def div(input, other):
    return ops.div(input, other)


# -- reductions ------------------------------------------------------------
def sum(input, dim=None, keepdim=False, dtype=None):  # noqa: A001
    return ops.sum(input, dim=dim, keepdim=keepdim, dtype=dtype)


def mean(input, dim=None, keepdim=False):
    return ops.mean(input, dim=dim, keepdim=keepdim)


def prod(input, dim=None, keepdim=False):
    return ops.prod(input, dim=dim, keepdim=keepdim)


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return ops.var(input, dim=dim, correction=_correction(unbiased, correction),
                   keepdim=keepdim)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return ops.std(input, dim=dim, correction=_correction(unbiased, correction),
                   keepdim=keepdim)


def _correction(unbiased, correction):
    if unbiased is not None and correction is not None:
        raise ValueError("var/std: pass either unbiased or correction, not both")
    if correction is not None:
        return correction
    return 0 if unbiased is False else 1


def amax(input, dim=None, keepdim=False):
    return ops.amax(input, dim=dim, keepdim=keepdim)


def amin(input, dim=None, keepdim=False):
    return ops.amin(input, dim=dim, keepdim=keepdim)


def logsumexp(input, dim=None, keepdim=False):
    return ops.logsumexp(input, dim=dim, keepdim=keepdim)


def norm(input, p=2, dim=None, keepdim=False):
    return ops.norm(input, p=p, dim=dim, keepdim=keepdim)


def argmax(input, dim=None, keepdim=False):
    return ops.argmax(input, dim=dim, keepdim=keepdim)


def argmin(input, dim=None, keepdim=False):
    return ops.argmin(input, dim=dim, keepdim=keepdim)


def max(input, dim=None, keepdim=False):  # noqa: A001
    """No ``dim``: the largest value (ties share the gradient evenly).
    With ``dim``: ``(values, indices)``, the gradient going to each index;
    with a tensor as second argument: the elementwise maximum."""
    if isinstance(dim, (Tensor, np.ndarray)):
        return ops.maximum(input, dim)
    if dim is None:
        return ops.amax(input, dim=None, keepdim=False)
    return _extreme_with_indices(input, dim, keepdim, ops.argmax)


def min(input, dim=None, keepdim=False):  # noqa: A001
    """As ``max``, for the smallest value."""
    if isinstance(dim, (Tensor, np.ndarray)):
        return ops.minimum(input, dim)
    if dim is None:
        return ops.amin(input, dim=None, keepdim=False)
    return _extreme_with_indices(input, dim, keepdim, ops.argmin)


class _ValuesIndices(tuple):
    """``(values, indices)`` with PyTorch's attribute names."""

    @property
    def values(self):
        return self[0]

    @property
    def indices(self):
        return self[1]


def _extreme_with_indices(input, dim, keepdim, arg):
    dim = _check_dim(dim, input.ndim, "max/min")
    index = arg(input, dim=dim, keepdim=True)
    values = ops.gather(input, index, dim=dim)
    if not keepdim:
        values = squeeze(values, dim)
        index = squeeze(index, dim)
    return _ValuesIndices((values, index))


# -- shape -----------------------------------------------------------------
def reshape(input, *shape):
    return ops.reshape(input, shape=_shape(shape))


def view(input, *shape):
    return ops.reshape(input, shape=_shape(shape))


def _shape(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return tuple(int(n) for n in shape)


def flatten(input, start_dim=0, end_dim=-1):
    shape = input.shape
    if not shape:
        return ops.reshape(input, shape=(1,))
    start = _check_dim(start_dim, len(shape), "flatten")
    end = _check_dim(end_dim, len(shape), "flatten")
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    new = shape[:start] + (int(np.prod(shape[start:end + 1])),) + shape[end + 1:]
    return ops.reshape(input, shape=new)


def unsqueeze(input, dim):
    dim = _check_dim(dim, input.ndim + 1, "unsqueeze")
    shape = input.shape
    return ops.reshape(input, shape=shape[:dim] + (1,) + shape[dim:])


def squeeze(input, dim=None):
    shape = input.shape
    if dim is None:
        new = tuple(n for n in shape if n != 1)
    else:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        dims = {_check_dim(d, len(shape), "squeeze") for d in dims}
        new = tuple(n for i, n in enumerate(shape) if not (i in dims and n == 1))
    return ops.reshape(input, shape=new)


def permute(input, *dims):
    return ops.permute(input, dims=_shape(dims))


def transpose(input, dim0, dim1):
    ndim = input.ndim
    d0, d1 = _check_dim(dim0, ndim, "transpose"), _check_dim(dim1, ndim, "transpose")
    order = list(range(ndim))
    order[d0], order[d1] = order[d1], order[d0]
    return ops.permute(input, dims=tuple(order))


def t(input):
    if input.ndim > 2:
        raise ValueError(f"t: expects a tensor with at most 2 dimensions, got shape "
                         f"{tuple(input.shape)}; use transpose(dim0, dim1) or .mT")
    return ops.permute(input, dims=tuple(range(input.ndim))[::-1])


def expand(input, *sizes):
    return ops.expand(input, shape=_shape(sizes))


def broadcast_to(input, shape):
    return ops.expand(input, shape=tuple(shape))


def expand_as(input, other):
    return ops.expand(input, shape=tuple(other.shape))


def cat(tensors, dim=0):
    return ops.cat(*tensors, dim=dim)


concatenate = cat


def stack(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: expects a non-empty sequence of tensors")
    dim = _check_dim(dim, np.ndim(tensors[0]) + 1, "stack")
    return ops.cat(*[unsqueeze(_t(x), dim) for x in tensors], dim=dim)


def split(input, split_size_or_sections, dim=0):
    dim = _check_dim(dim, input.ndim, "split")
    n = input.shape[dim]
    if isinstance(split_size_or_sections, (int, np.integer)) and \
            not isinstance(split_size_or_sections, bool):
        size = int(split_size_or_sections)
        if size <= 0 and not (size == 0 and n == 0):
            raise ValueError(f"split: split_size must be positive, got {size}")
        sizes = [size] * (n // size) if size else [0]
        if size and n % size:
            sizes.append(n % size)
        if not sizes:
            sizes = [0]   # a size-0 dimension still gives one empty piece, as PyTorch
    elif isinstance(split_size_or_sections, (list, tuple)):
        sizes = list(split_size_or_sections)
        if any(isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0
               for k in sizes):
            raise ValueError(f"split: sections must be non-negative ints, got {sizes}")
        if builtins.sum(sizes) != n:
            raise ValueError(f"split: sections {sizes} sum to {builtins.sum(sizes)}, but "
                             f"dimension {dim} has size {n}")
    else:
        raise TypeError(f"split: split_size_or_sections must be an int or a list of ints, "
                        f"got {type(split_size_or_sections).__name__}")
    out, start = [], 0
    for size in sizes:
        index = (slice(None),) * dim + (slice(start, start + size),)
        out.append(ops.getitem(input, index=index))
        start += size
    return tuple(out)


def chunk(input, chunks, dim=0):
    if isinstance(chunks, bool) or not isinstance(chunks, (int, np.integer)) or chunks <= 0:
        raise ValueError(f"chunk: chunks must be a positive int, got {chunks!r}")
    n = input.shape[_check_dim(dim, input.ndim, "chunk")]
    if n == 0:
        return split(input, [0] * int(chunks), dim)
    return split(input, -(-n // chunks), dim)


def unbind(input, dim=0):
    dim = _check_dim(dim, input.ndim, "unbind")
    return tuple(squeeze(piece, dim) for piece in split(input, 1, dim))


def gather(input, dim, index):
    return ops.gather(input, index, dim=dim)


def repeat(input, *sizes):
    return ops.repeat(input, sizes=_shape(sizes))


def flip(input, dims):
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    return ops.flip(input, dims=dims)


def pad(input, pad, mode="constant", value=0):
    if mode != "constant":
        raise ValueError(f"pad: only mode='constant' is supported, got {mode!r}")
    return ops.pad(input, pad=tuple(pad), value=value)


# -- linear algebra --------------------------------------------------------
def matmul(input, other):
    return ops.matmul(input, other)


def mm(input, mat2):
    if input.ndim != 2 or mat2.ndim != 2:
        raise ValueError(f"mm: expects two 2-D tensors, got shapes {tuple(input.shape)} "
                         f"and {tuple(mat2.shape)}")
    return ops.matmul(input, mat2)


def bmm(input, mat2):
    if input.ndim != 3 or mat2.ndim != 3:
        raise ValueError(f"bmm: expects two 3-D tensors, got shapes {tuple(input.shape)} "
                         f"and {tuple(mat2.shape)}")
    return ops.matmul(input, mat2)


def dot(input, other):
    if input.ndim != 1 or other.ndim != 1:
        raise ValueError(f"dot: expects two 1-D tensors, got shapes {tuple(input.shape)} "
                         f"and {tuple(other.shape)}")
    return ops.matmul(input, other)


def outer(input, vec2):
    if input.ndim != 1 or vec2.ndim != 1:
        raise ValueError(f"outer: expects two 1-D tensors, got shapes {tuple(input.shape)} "
                         f"and {tuple(vec2.shape)}")
    return ops.mul(unsqueeze(input, 1), unsqueeze(vec2, 0))


def einsum(equation, *operands):
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    return ops.einsum(*operands, equation=equation)


# -- copies and dtype ------------------------------------------------------
def clone(input):
    return ops.clone(input)
