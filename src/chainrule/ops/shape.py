"""Shape gates: they move elements without changing them, so each backward
moves the gradient back the same way (reshape back, permute by the inverse,
sum over broadcast axes)."""
import numpy as np

from .broadcast import sum_to
from .registry import Op, register

__all__ = ["reshape", "expand", "permute"]


def _shape_arg(op, shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    for n in shape:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
            raise TypeError(f"{op}: shape must be ints, got {shape!r}")
    return tuple(int(n) for n in shape)


@register
class Reshape(Op):
    """y = x with a new shape (one -1 is inferred).  A view when NumPy can make one."""
    name = "reshape"
    view = True

    def forward(self, ctx, x, shape):
        try:
            y = np.reshape(x, shape)
        except ValueError:
            raise ValueError(f"reshape: cannot reshape a tensor of shape {np.shape(x)} "
                             f"({np.size(x)} elements) into shape {tuple(shape)}") from None
        ctx.save(shape=np.shape(x), out_shape=y.shape)
        return y

    def vjp(self, ctx, grad_out):
        return (reshape(grad_out, shape=ctx.shape),)

    def jvp(self, ctx, x_dot):
        return reshape(x_dot, shape=ctx.out_shape)

    def samples(self, rng):
        return [((rng.standard_normal((2, 3, 4)),), {"shape": (4, -1)}),
                ((rng.standard_normal((6,)),), {"shape": (2, 3)})]


@register
class Expand(Op):
    """y = x broadcast to ``shape`` (-1 keeps a size).  Gradient: summed back."""
    name = "expand"
    view = True

    def forward(self, ctx, x, shape):
        xs = np.shape(x)
        lead = len(shape) - len(xs)
        if lead < 0:
            raise ValueError(f"expand: the target shape {tuple(shape)} has fewer "
                             f"dimensions than the tensor's shape {xs}")
        target = tuple(xs[i - lead] if n == -1 and i >= lead else n
                       for i, n in enumerate(shape))
        try:
            y = np.broadcast_to(x, target)
        except ValueError:
            raise ValueError(f"expand: cannot expand shape {xs} to {tuple(shape)} "
                             f"(only size-1 dimensions can grow)") from None
        ctx.save(shape=xs, out_shape=target)
        return y

    def vjp(self, ctx, grad_out):
        return (sum_to(grad_out, ctx.shape),)

    def jvp(self, ctx, x_dot):
        return expand(x_dot, shape=ctx.out_shape)

    def samples(self, rng):
        return [((rng.standard_normal((3, 1)),), {"shape": (2, 3, 4)}),
                ((rng.standard_normal(()),), {"shape": (2,)})]


@register
class Permute(Op):
    """y = x with its axes reordered.  Gradient: permuted by the inverse order."""
    name = "permute"
    view = True

    def forward(self, ctx, x, dims):
        ndim = np.ndim(x)
        norm = tuple(int(d) % max(ndim, 1) for d in dims)
        if len(dims) != ndim or sorted(norm) != list(range(ndim)):
            raise ValueError(f"permute: dims {tuple(dims)} is not a permutation of the "
                             f"{ndim} dimensions of a tensor of shape {np.shape(x)}")
        ctx.save(dims=norm)
        return np.transpose(x, norm)

    def vjp(self, ctx, grad_out):
        return (permute(grad_out, dims=tuple(np.argsort(ctx.dims))),)

    def jvp(self, ctx, x_dot):
        return permute(x_dot, dims=ctx.dims)

    def samples(self, rng):
        return [((rng.standard_normal((2, 3, 4)),), {"dims": (2, 0, 1)})]


reshape, expand, permute = Reshape, Expand, Permute
