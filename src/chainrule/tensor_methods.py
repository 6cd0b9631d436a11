"""Tensor's operators and methods: one-line delegations to the ops.

Operators call the op objects directly (``a * b`` is ``ops.mul(a, b)``), one
Python call away from the op machinery. Methods that take options bind the
function forms of ``functions.py``, with ``self`` as their ``input``.
"""
import numpy as np

from . import functions as F
from . import ops
from .ops.inplace import apply_inplace
from .ops.registry import BinaryOp
from .tensor import Tensor


# An operator is the op's own call function where the op has one (the binary
# ops: see BinaryOp) and otherwise calls the op's class-level __call__ as a
# plain function: calling the op object itself goes through Python's slot
# for callable instances, which costs about as much again as the rest of the
# call.
def _forward(op):
    if isinstance(op, BinaryOp):
        return op.call
    call = type(op).__call__
    return lambda self, other: call(op, self, other)


def _reflected(op):
    call = type(op).__call__
    return lambda self, other: call(op, other, self)


def _unary(op):
    call = type(op).__call__
    return lambda self: call(op, self)


def _to(self, dtype, copy=False):
    dtype = np.dtype(dtype)
    if dtype == self.dtype and not copy:
        return self
    return ops.to(self, dtype=dtype)


def _inplace(op):
    return lambda self, other: apply_inplace(self, op, other)


def _fill(self, value):
    return apply_inplace(self, ops.overwrite, value)


def _bind():
    T = Tensor
    T.__add__, T.__radd__ = _forward(ops.add), _reflected(ops.add)
    T.__sub__, T.__rsub__ = _forward(ops.sub), _reflected(ops.sub)
    T.__mul__, T.__rmul__ = _forward(ops.mul), _reflected(ops.mul)
    T.__truediv__, T.__rtruediv__ = _forward(ops.div), _reflected(ops.div)
    T.__pow__, T.__rpow__ = _forward(ops.pow), _reflected(ops.pow)
    T.__matmul__ = lambda self, other: ops.matmul(self, other)
    T.__rmatmul__ = lambda self, other: ops.matmul(other, self)
    T.__neg__ = _unary(ops.neg)
    T.__abs__ = _unary(ops.abs)
    T.__eq__, T.__ne__ = _forward(ops.eq), _forward(ops.ne)
    T.__lt__, T.__le__ = _forward(ops.lt), _forward(ops.le)
    T.__gt__, T.__ge__ = _forward(ops.gt), _forward(ops.ge)
    T.__getitem__ = lambda self, index: ops.getitem(self, index=index)
    T.__setitem__ = lambda self, index, value: apply_inplace(
        self, ops.index_put, value, index=index)
    T.__iadd__ = T.add_ = _inplace(ops.add)
    T.__isub__ = T.sub_ = _inplace(ops.sub)
    T.__imul__ = T.mul_ = _inplace(ops.mul)
    T.__itruediv__ = T.div_ = _inplace(ops.div)
    T.copy_ = T.fill_ = _fill
    T.zero_ = lambda self: _fill(self, 0)
    T.clamp_ = lambda self, min=None, max=None: apply_inplace(self, ops.clamp, min=min, max=max)

    for name in ("exp log log1p sqrt abs sin cos tanh sigmoid relu erf sign floor neg pow "
                 "maximum minimum clamp clip add sub mul div sum mean prod var std amax amin "
                 "logsumexp norm argmax argmin max min reshape view flatten unsqueeze squeeze "
                 "permute transpose t expand expand_as broadcast_to split chunk unbind gather "
                 "repeat flip matmul dot outer clone").split():
        setattr(T, name, getattr(F, name))
    T.where = lambda self, condition, other: ops.where(condition, self, other)
    T.T = property(lambda self: ops.permute(self, dims=tuple(range(self.ndim))[::-1]))
    T.mT = property(lambda self: F.transpose(self, -2, -1))
    T.to = _to
    T.type = _to
    T.float = lambda self: _to(self, np.float32)
    T.double = lambda self: _to(self, np.float64)
    T.long = lambda self: _to(self, np.int64)
    T.int = lambda self: _to(self, np.int32)
    T.bool = lambda self: _to(self, np.bool_)
    T.view_as = lambda self, other: ops.reshape(self, shape=tuple(other.shape))
    T.reshape_as = T.view_as
    T.any = lambda self, dim=None: Tensor(np.any(self.data, axis=dim))
    T.all = lambda self, dim=None: Tensor(np.all(self.data, axis=dim))


_bind()
