"""PyTorch's ``gather`` and its adjoint ``scatter_add``, along one dimension.

``gather`` reads one element per index entry; its backward adds each
gradient back at the position it was read from, which is ``scatter_add``
into zeros; and the backward of ``scatter_add`` reads the gradient at those
positions again, which is ``gather``. Each op's vjp is the other op, so
second derivatives work.
"""
import numpy as np

from ..tensor import _check_dim
from .index import _add_at
from .registry import Op, register

__all__ = ["gather", "scatter_add"]


def _dim_index(op, shape, index, dim):
    """Check a gather/scatter index against the tensor of ``shape``; return
    ``(index array, dim)``."""
    index = np.asarray(index)
    if index.dtype.kind not in "iu":
        raise TypeError(f"{op}: index must be an integer tensor (int64), got dtype "
                        f"{index.dtype}")
    if index.ndim != len(shape):
        raise ValueError(f"{op}: index has shape {index.shape} but the input has shape "
                         f"{shape}; they need the same number of dimensions")
    dim = _check_dim(dim, len(shape), op)
    for d, (m, n) in enumerate(zip(index.shape, shape)):
        if d != dim and m > n:
            raise ValueError(f"{op}: index of shape {index.shape} is larger than the "
                             f"input of shape {shape} in dimension {d} ({m} > {n}); "
                             f"outside dimension {dim} it may not be larger")
    n = shape[dim] if shape else 1
    bad = (index < 0) | (index >= n)
    if bad.any():
        raise IndexError(f"{op}: index {int(index[bad].flat[0])} is out of range for dimension "
                         f"{dim} with size {n} ({op} takes indices in [0, {n}), as PyTorch)")
    return index, dim


def _positions(index, dim):
    """The full index each entry of ``index`` addresses: its own value along
    ``dim``, its own coordinate along every other dimension."""
    if index.ndim == 0:
        return (index.reshape(1),)
    grids = list(np.indices(index.shape, sparse=True))
    grids[dim] = index
    return tuple(grids)


@register
class Gather(Op):
    """out[i][j][k] = x[index[i][j][k]][j][k] for dim 0 (likewise for other dims),
    PyTorch's ``gather``: out has index's shape; index has x's number of
    dimensions and may be smaller than x outside ``dim``. Negative indices
    are rejected, as in PyTorch.

    index is a constant (no gradient). Gradient: grad_out scatter-added into
    zeros of x's shape, so an element gathered twice gets both gradients."""
    name = "gather"

    def forward(self, ctx, x, index, dim):
        x = np.asarray(x)
        index, dim = _dim_index("gather", x.shape, index, dim)
        ctx.save(shape=x.shape, index=index, dim=dim)
        return x.reshape(x.shape or (1,))[_positions(index, dim)].reshape(index.shape)

    def vjp(self, ctx, grad_out):
        zeros = np.zeros(ctx.shape, dtype=grad_out.dtype)
        return (scatter_add(zeros, ctx.index, grad_out, dim=ctx.dim), None)

    def jvp(self, ctx, x_dot, index_dot):
        return gather(x_dot, ctx.index, dim=ctx.dim)

    def samples(self, rng):
        x = rng.standard_normal
        return [((x((3, 4)), np.array([[0, 0], [3, 1], [2, 2]])), {"dim": 1}),
                ((x((3, 4)), np.array([[2, 0, 2]])), {"dim": 0}),
                ((x((2, 3, 2)), rng.integers(0, 2, size=(2, 3, 2))), {"dim": -1})]


@register
class ScatterAdd(Op):
    """out = x with ``out[index[i][j]][j] += src[i][j]`` for dim 0 (likewise for
    other dims), PyTorch's ``scatter_add``; repeated positions add up. Here
    src must have index's shape (PyTorch also allows a larger src).

    index is a constant. Gradients: x receives grad_out; src receives
    ``gather(grad_out, index, dim)``. This is the backward of ``gather``,
    and ``gather`` is its backward."""
    name = "scatter_add"

    def forward(self, ctx, x, index, src, dim):
        out = np.array(x)
        index, dim = _dim_index("scatter_add", out.shape, index, dim)
        src = np.asarray(src)
        if src.shape != index.shape:
            raise ValueError(f"scatter_add: src has shape {src.shape} but index has shape "
                             f"{index.shape}; they must match")
        ctx.save(shape=out.shape, index=index, dim=dim)
        _add_at(out.reshape(out.shape or (1,)), _positions(index, dim),
                src.reshape(src.shape or (1,)).astype(out.dtype, copy=False))
        return out

    def vjp(self, ctx, grad_out):
        needs_x, _, needs_src = ctx.needs_input_grad
        return (grad_out if needs_x else None, None,
                gather(grad_out, ctx.index, dim=ctx.dim) if needs_src else None)

    def jvp(self, ctx, x_dot, index_dot, src_dot):
        dtype = (x_dot if x_dot is not None else src_dot).dtype
        if x_dot is None:
            x_dot = np.zeros(ctx.shape, dtype=dtype)
        if src_dot is None:
            src_dot = np.zeros(np.shape(ctx.index), dtype=dtype)
        return scatter_add(x_dot, ctx.index, src_dot, dim=ctx.dim)

    def samples(self, rng):
        x = rng.standard_normal
        return [((x((3, 4)), np.array([[0, 2, 2, 1], [0, 0, 2, 1]]), x((2, 4))), {"dim": 0}),
                ((x((3, 4)), np.array([[1, 1], [0, 3], [2, 2]]), x((3, 2))), {"dim": -1})]


gather, scatter_add = Gather, ScatterAdd
