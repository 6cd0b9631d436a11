"""Reductions over ``dim`` (None, an int, or a tuple; negative counts from the end).

The backward of a reduction broadcasts the gradient back over the reduced
axes: first restore them as size-1 axes (when ``keepdim=False`` removed
them), then expand.
"""
import numpy as np

from .registry import Op, register

__all__ = ["sum", "mean"]


def normalize_dims(op, dim, ndim):
    """``dim`` as a sorted tuple of non-negative axes; all axes for ``None``."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, (int, np.integer)) and not isinstance(dim, bool) else dim
    try:
        dims = tuple(dims)
    except TypeError:
        raise TypeError(f"{op}: dim must be None, an int or a tuple of ints, "
                        f"got {type(dim).__name__}") from None
    size = max(ndim, 1)
    out = []
    for d in dims:
        if isinstance(d, bool) or not isinstance(d, (int, np.integer)):
            raise TypeError(f"{op}: dim must contain ints, got {type(d).__name__}")
        if not -size <= d < size:
            raise IndexError(f"{op}: dim {d} is out of range for a tensor with {ndim} "
                             f"dimension(s) (expected in [{-size}, {size - 1}])")
        out.append(int(d) % size)
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: dim {tuple(dims)} names the same dimension twice")
    return tuple(sorted(out)) if ndim else ()


def keepdim_shape(shape, axes):
    """``shape`` with the reduced ``axes`` kept as size 1."""
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def unreduce(grad, shape, axes, keepdim):
    """Broadcast a reduction's gradient back to the input ``shape``."""
    from .shape import expand, reshape
    if not keepdim:
        grad = reshape(grad, keepdim_shape(shape, axes))
    return expand(grad, shape)


class Reduction(Op):
    """A reduction with ``dim`` and ``keepdim``; ``samples`` covers int, tuple,
    negative and ``None`` dims."""

    def samples(self, rng):
        d = self.domain
        return [((d.sample(rng, (2, 3, 4)),), {"dim": dim, "keepdim": kd})
                for dim, kd in ((None, False), (1, False), (-1, True), ((0, 2), False),
                                ((0, -1), True))] + [((d.sample(rng, ()),), {})]


@register
class Sum(Reduction):
    """y = sum of x over ``dim``.  Local gradient 1: every element gets grad_out."""
    name = "sum"

    def forward(self, ctx, x, dim=None, keepdim=False, dtype=None):
        axes = normalize_dims("sum", dim, np.ndim(x))
        ctx.save(shape=np.shape(x), axes=axes, keepdim=keepdim)
        out = np.sum(x, axis=axes, keepdims=keepdim, dtype=dtype)
        if dtype is None and np.result_type(x).kind in "biu":
            out = out.astype(np.int64)   # PyTorch sums bools and ints as int64
        return out

    def vjp(self, ctx, grad_out):
        return (unreduce(grad_out, ctx.shape, ctx.axes, ctx.keepdim),)

    def jvp(self, ctx, x_dot):
        return sum(x_dot, dim=ctx.axes, keepdim=ctx.keepdim)


@register
class Mean(Reduction):
    """y = mean of x over ``dim``.  Local gradient 1/n for each of the n elements."""
    name = "mean"

    def forward(self, ctx, x, dim=None, keepdim=False):
        if np.result_type(x).kind not in "fc":
            raise TypeError(f"mean: input dtype must be floating point, got "
                            f"{np.result_type(x)}; convert with .float()")
        axes = normalize_dims("mean", dim, np.ndim(x))
        shape = np.shape(x)
        count = int(np.prod([shape[a] for a in axes])) if axes else 1
        ctx.save(shape=shape, axes=axes, keepdim=keepdim, count=count)
        return np.mean(x, axis=axes, keepdims=keepdim)

    def vjp(self, ctx, grad_out):
        return (unreduce(grad_out / ctx.count, ctx.shape, ctx.axes, ctx.keepdim),)

    def jvp(self, ctx, x_dot):
        return mean(x_dot, dim=ctx.axes, keepdim=ctx.keepdim)


sum, mean = Sum, Mean  # noqa: A001 - PyTorch's names
