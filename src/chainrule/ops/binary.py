"""Two-input gates with broadcasting: add, sub, mul, div, pow, maximum, minimum,
plus ``where`` and the dtype cast that type promotion inserts.

Each vjp sums the gradient back to its input's shape with ``sum_to`` (the one
broadcasting helper). Mixed dtypes are promoted as PyTorch does before the
op is recorded, by a recorded cast, so a float32 input still receives a
float32 gradient.
"""
import numpy as np

from ..tensor import Tensor
from .broadcast import broadcast_shapes, sum_to
from .registry import BinaryOp, Domain, Op, Positive, as_array, needs_promotion, promote, register

__all__ = ["add", "sub", "mul", "div", "pow", "maximum", "minimum", "where", "to", "promote"]


class Binary(BinaryOp):
    """A broadcasting op of two inputs, with the samples the tests use."""

    def samples(self, rng):
        d = self.domain
        return [((d.sample(rng, s1), d.sample(rng, s2)), {})
                for s1, s2 in (((), ()), ((3,), (3,)), ((2, 3), (3,)), ((2, 1), (1, 4)),
                               ((4, 1, 3), (2, 1)))]


def _shape(value):
    """The shape of an input: a Tensor's, an array's, or () for a number."""
    return value.data.shape if isinstance(value, Tensor) else np.shape(value)


def _shapes(ctx):
    x, y = ctx.inputs
    return _shape(x), _shape(y)


def _sum_to_input(grad, value):
    """``grad`` summed back to the shape of input ``value``: ``sum_to``, with
    the common case (nothing was broadcast) settled here in one call."""
    shape = value.data.shape if isinstance(value, Tensor) else np.shape(value)
    return grad if grad.shape == shape else sum_to(grad, shape)


def _shapes_of(values):
    return tuple([_shape(v) for v in values])


@register
class Add(Binary):
    """z = x + y.  Distributes: both inputs receive grad_out unchanged."""
    name = "add"

    def forward(self, ctx, x, y):
        return np.add(x, y)

    def vjp(self, ctx, grad_out):
        nx, ny = ctx.needs_input_grad
        x, y = ctx.inputs
        return (_sum_to_input(grad_out, x) if nx else None,
                _sum_to_input(grad_out, y) if ny else None)

    def jvp(self, ctx, x_dot, y_dot):
        return _sum_tangents(ctx, x_dot, y_dot)


@register
class Sub(Binary):
    """z = x - y.  Local gradients 1 and -1."""
    name = "sub"

    def forward(self, ctx, x, y):
        return np.subtract(x, y)

    def vjp(self, ctx, grad_out):
        nx, ny = ctx.needs_input_grad
        x, y = ctx.inputs
        return (_sum_to_input(grad_out, x) if nx else None,
                _sum_to_input(-grad_out, y) if ny else None)

    def jvp(self, ctx, x_dot, y_dot):
        return _sum_tangents(ctx, x_dot, None if y_dot is None else -y_dot)


@register
class Mul(Binary):
    """z = x * y.  Switches: x receives grad_out * y and y receives grad_out * x."""
    name = "mul"

    def forward(self, ctx, x, y):
        needs = ctx.needs_input_grad
        if needs is not None:
            # x's gradient reads y and y's reads x: keep only those (as
            # PyTorch), so an in-place change of an input no gradient reads is
            # no error (and there is less to track)
            if needs[0] and needs[1]:
                ctx.save(x=x, y=y)
            elif needs[0]:
                ctx.save(y=y)
            else:
                ctx.save(x=x)
        return np.multiply(x, y)

    def vjp(self, ctx, grad_out):
        nx, ny = ctx.needs_input_grad
        x, y = ctx.inputs
        return (_sum_to_input(grad_out * ctx.y, x) if nx else None,
                _sum_to_input(grad_out * ctx.x, y) if ny else None)

    def jvp(self, ctx, x_dot, y_dot):
        return _sum_tangents(ctx, None if x_dot is None else x_dot * ctx.y,
                             None if y_dot is None else ctx.x * y_dot)


@register
class Div(Binary):
    """z = x / y.  Local gradients 1 / y and -x / y**2 = -z / y."""
    name = "div"
    domain = Domain(0.5, 2.0)

    def forward(self, ctx, x, y):
        z = np.true_divide(x, y)
        needs = ctx.needs_input_grad
        if needs is not None:
            # both gradients read y; only y's reads z (as PyTorch)
            if needs[1]:
                ctx.save(y=y, z=z)
            else:
                ctx.save(y=y)
        return z

    def vjp(self, ctx, grad_out):
        nx, ny = ctx.needs_input_grad
        x, y = ctx.inputs
        gx = grad_out / ctx.y
        return (_sum_to_input(gx, x) if nx else None,
                _sum_to_input(-gx * ctx.z, y) if ny else None)

    def jvp(self, ctx, x_dot, y_dot):
        y = ctx.y
        return _sum_tangents(ctx, None if x_dot is None else x_dot / y,
                             None if y_dot is None else -(ctx.z / y) * y_dot)


@register
class Pow(Binary):
    """z = x ** y.  Local gradients y x**(y-1) and z log(x); the latter is 0
    where x == 0 and y >= 0 (PyTorch's convention, avoiding 0 * -inf)."""
    name = "pow"
    domain = Positive()

    def forward(self, ctx, x, y):
        z = np.power(x, y)
        ctx.save(x=x, y=y, z=z)
        return z

    def _dx(self, ctx):
        y = ctx.y
        return y * pow(ctx.x, y - 1)

    def _dy(self, ctx):
        x = ctx.x
        safe = as_array(x) != 0
        return where(safe, ctx.z * log(where(safe, x, 1.0)), 0.0)

    def vjp(self, ctx, grad_out):
        nx, ny = ctx.needs_input_grad
        x, y = ctx.inputs
        return (_sum_to_input(grad_out * self._dx(ctx), x) if nx else None,
                _sum_to_input(grad_out * self._dy(ctx), y) if ny else None)

    def jvp(self, ctx, x_dot, y_dot):
        return _sum_tangents(ctx, None if x_dot is None else self._dx(ctx) * x_dot,
                             None if y_dot is None else self._dy(ctx) * y_dot)


class _Extremum(Binary):
    """maximum / minimum: the winner takes the gradient; on a tie each input
    gets half (PyTorch's choice, which keeps the gradient's total)."""

    def forward(self, ctx, x, y):
        z = self.pick(x, y)
        share = np.where(x == y, 0.5, np.where(self.pick(x, y) == x, 1.0, 0.0))
        ctx.save(share=share.astype(np.result_type(z)))
        return z

    def vjp(self, ctx, grad_out):
        nx, ny = ctx.needs_input_grad
        x, y = ctx.inputs
        share = ctx.share
        return (_sum_to_input(grad_out * share, x) if nx else None,
                _sum_to_input(grad_out * (1 - share), y) if ny else None)

    def jvp(self, ctx, x_dot, y_dot):
        share = ctx.share
        return _sum_tangents(ctx, None if x_dot is None else share * x_dot,
                             None if y_dot is None else (1 - share) * y_dot)


@register
class Maximum(_Extremum):
    """z = max(x, y) elementwise."""
    name = "maximum"
    pick = staticmethod(np.maximum)


@register
class Minimum(_Extremum):
    """z = min(x, y) elementwise."""
    name = "minimum"
    pick = staticmethod(np.minimum)


@register
class Where(Op):
    """z = x where cond else y.  cond is constant; each branch gets the
    gradient where it was chosen and zero elsewhere."""
    name = "where"

    def __call__(self, cond, x, y):
        if isinstance(cond, Tensor):
            cond = cond.data
        cond = np.asarray(cond)
        if cond.dtype != np.bool_:
            raise TypeError(f"where: condition must be a bool tensor, got dtype {cond.dtype}")
        if (isinstance(x, Tensor) or isinstance(y, Tensor)) and needs_promotion(x, y):
            x, y = promote((x, y))
        return Op.__call__(self, cond, x, y)

    def forward(self, ctx, cond, x, y):
        broadcast_shapes("where", np.shape(cond), np.shape(x), np.shape(y))
        ctx.save(cond=cond)
        return np.where(cond, x, y)

    def vjp(self, ctx, grad_out):
        _, nx, ny = ctx.needs_input_grad
        cond = ctx.cond
        sx, sy = getattr(ctx.inputs[1], "shape", ()), getattr(ctx.inputs[2], "shape", ())
        return (None,
                sum_to(where(cond, grad_out, 0.0), sx) if nx else None,
                sum_to(where(cond, 0.0, grad_out), sy) if ny else None)

    def jvp(self, ctx, cond_dot, x_dot, y_dot):
        out = where(ctx.cond, 0.0 if x_dot is None else x_dot, 0.0 if y_dot is None else y_dot)
        # with one branch's tangent missing (a 0.0 above) the result can be
        # smaller than the output: broadcast it
        shape = np.broadcast_shapes(np.shape(ctx.cond), *_shapes_of(ctx.inputs[1:]))
        return out if np.shape(out) == shape else expand(out, shape=shape)

    def samples(self, rng):
        return [((rng.uniform(size=(2, 3)) > 0.5, rng.standard_normal((2, 3)),
                  rng.standard_normal((3,))), {})]


@register
class To(Op):
    """Cast to ``dtype``; the gradient is cast back to the input's dtype."""
    name = "to"

    def forward(self, ctx, x, dtype):
        ctx.save(src=np.result_type(x), dst=np.dtype(dtype))
        return np.asarray(x).astype(dtype)

    def vjp(self, ctx, grad_out):
        return (to(grad_out, dtype=ctx.src),)

    def jvp(self, ctx, x_dot):
        return to(x_dot, dtype=ctx.dst)

    def samples(self, rng):
        return [((rng.standard_normal((2, 3)),), {"dtype": np.float64})]


def _sum_tangents(ctx, a, b):
    """The output tangent a + b (either may be None, for an input without a
    tangent). A lone tangent is broadcast to the output's shape: x + b with
    only the bias b carrying a tangent has a tangent of x + b's shape."""
    if a is not None and b is not None:
        return a + b
    lone = b if a is None else a
    if lone is None:
        return None
    shape = np.broadcast_shapes(*_shapes(ctx))
    return lone if np.shape(lone) == shape else expand(lone, shape=shape)


add, sub, mul, div, pow, where, to = Add, Sub, Mul, Div, Pow, Where, To
from .elementwise import Log as log  # noqa: E402  (pow's formula uses log)
from .shape import expand  # noqa: E402  (a lone tangent is broadcast)
maximum, minimum = Maximum, Minimum
