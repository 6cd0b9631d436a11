"""Elementwise one-input gates, each with its derivative stated once.

``Elementwise`` turns ``derivative(ctx)`` (an array, or a Tensor under
create_graph) into both the reverse step ``grad_out * d`` and the forward-mode
step ``d * x_dot``. Derivatives are written from the output where that is
cheaper and stabler (tanh, sigmoid, exp, sqrt).
"""
import math

import numpy as np

from .registry import Domain, Op, Positive, UnaryOp, register

__all__ = ["clone", "neg", "exp", "log", "log1p", "sqrt", "abs", "sin", "cos", "tanh", "sigmoid", "relu", "erf", "clamp", "sign", "floor"]


class Elementwise(UnaryOp):
    """y = f(x) applied to every element; subclasses give ``forward`` and ``derivative``."""

    def derivative(self, ctx):
        raise NotImplementedError

    def vjp(self, ctx, grad_out):
        return (grad_out * self.derivative(ctx),)

    def jvp(self, ctx, x_dot):
        return self.derivative(ctx) * x_dot


@register
class Neg(Elementwise):
    """y = -x.  Local gradient: -1."""
    name = "neg"

    def forward(self, ctx, x):
        return np.negative(x)

    def vjp(self, ctx, grad_out):
        return (-grad_out,)

    def jvp(self, ctx, x_dot):
        return -x_dot


@register
class Clone(Elementwise):
    """y = a copy of x.  Local gradient: 1."""
    name = "clone"

    def forward(self, ctx, x):
        return np.array(x, copy=True)

    def vjp(self, ctx, grad_out):
        return (grad_out,)

    def jvp(self, ctx, x_dot):
        return x_dot


@register
class Exp(Elementwise):
    """y = exp(x).  Local gradient: y (reuses the output)."""
    name = "exp"

    def forward(self, ctx, x):
        y = np.exp(x)
        ctx.save(y=y)
        return y

    def derivative(self, ctx):
        return ctx.y


@register
class Log(Elementwise):
    """y = log(x).  Local gradient: 1 / x."""
    name = "log"
    domain = Positive()

    def forward(self, ctx, x):
        ctx.save(x=x)
        return np.log(x)

    def derivative(self, ctx):
        return 1 / ctx.x


@register
class Log1p(Elementwise):
    """y = log(1 + x), accurate for small x.  Local gradient: 1 / (1 + x)."""
    name = "log1p"
    domain = Domain(-0.9, 3.0)

    def forward(self, ctx, x):
        ctx.save(x=x)
        return np.log1p(x)

    def derivative(self, ctx):
        return 1 / (1 + ctx.x)


@register
class Sqrt(Elementwise):
    """y = sqrt(x).  Local gradient: 1 / (2 y) (infinite at 0, as PyTorch)."""
    name = "sqrt"
    domain = Positive()

    def forward(self, ctx, x):
        y = np.sqrt(x)
        ctx.save(y=y)
        return y

    def derivative(self, ctx):
        return 0.5 / ctx.y


@register
class Abs(Elementwise):
    """y = |x|.  Local gradient: sign(x), so 0 at x = 0 (PyTorch's subgradient)."""
    name = "abs"
    domain = Domain(avoid=0.0)

    def forward(self, ctx, x):
        ctx.save(sign=np.sign(x))
        return np.abs(x)

    def derivative(self, ctx):
        return ctx.sign


@register
class Sin(Elementwise):
    """y = sin(x).  Local gradient: cos(x)."""
    name = "sin"

    def forward(self, ctx, x):
        ctx.save(x=x)
        return np.sin(x)

    def derivative(self, ctx):
        return cos(ctx.x)


@register
class Cos(Elementwise):
    """y = cos(x).  Local gradient: -sin(x)."""
    name = "cos"

    def forward(self, ctx, x):
        ctx.save(x=x)
        return np.cos(x)

    def derivative(self, ctx):
        return -sin(ctx.x)


@register
class Tanh(Elementwise):
    """y = tanh(x).  Local gradient: 1 - y**2 (from the output: cheap and stable)."""
    name = "tanh"

    def forward(self, ctx, x):
        y = np.tanh(x)
        ctx.save(y=y)
        return y

    def derivative(self, ctx):
        return 1 - ctx.y * ctx.y


@register
class Sigmoid(Elementwise):
    """y = 1 / (1 + exp(-x)).  Local gradient: y (1 - y).

    Computed from exp(-|x|), which never overflows: sigmoid(±1000) is exactly
    1 or 0 with no warning, and its gradient is 0 there, as it should be.
    """
    name = "sigmoid"

    def forward(self, ctx, x):
        e = np.exp(-np.abs(x))
        y = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
        ctx.save(y=y)
        return y

    def derivative(self, ctx):
        y = ctx.y
        return y * (1 - y)


@register
class Relu(Elementwise):
    """y = max(x, 0).  Local gradient: 1 where x > 0, else 0 (so relu'(0) = 0,
    as PyTorch; np.maximum's backward would pass half the gradient at 0)."""
    name = "relu"
    domain = Domain(avoid=0.0)

    def forward(self, ctx, x):
        mask = x > 0
        ctx.save(mask=mask)
        return x * mask

    def derivative(self, ctx):
        return ctx.mask


_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)   # a Python float: keeps float32 float32


@register
class Erf(Elementwise):
    """y = erf(x).  Local gradient: 2 / sqrt(pi) * exp(-x**2)."""
    name = "erf"

    def forward(self, ctx, x):
        from .special import erf as erf_array
        ctx.save(x=x)
        return erf_array(x)

    def derivative(self, ctx):
        x = ctx.x
        return _TWO_OVER_SQRT_PI * exp(-(x * x))


@register
class Clamp(Elementwise):
    """y = min(max(x, min), max).  Local gradient: 1 where min <= x <= max
    (boundaries included, as PyTorch), else 0."""
    name = "clamp"
    domain = Domain(-2.0, 2.0, avoid=0.5)
    __call__ = Op.__call__    # the one elementwise op with options (UnaryOp's call takes none)

    def forward(self, ctx, x, min=None, max=None):
        if min is None and max is None:
            raise ValueError("clamp: at least one of min and max must be given")
        mask = np.ones(np.shape(x), dtype=bool)
        if min is not None:
            mask &= x >= min
        if max is not None:
            mask &= x <= max
        ctx.save(mask=mask)
        return np.clip(x, min, max).astype(np.result_type(x), copy=False)

    def derivative(self, ctx):
        return ctx.mask

    def samples(self, rng):
        return [((self.domain.sample(rng, (2, 3)),), {"min": -0.5, "max": 0.5}),
                ((self.domain.sample(rng, (4,)),), {"min": 0.5}),
                ((self.domain.sample(rng, ()),), {"max": 0.5})]


class _NoGrad(UnaryOp):
    """Piecewise-constant functions: their gradient is zero almost everywhere
    and PyTorch returns zeros, so they are recorded as ops whose vjp is zero."""

    def vjp(self, ctx, grad_out):
        return (grad_out * 0,)

    def jvp(self, ctx, x_dot):
        return x_dot * 0

    def samples(self, rng):
        return []


@register
class Sign(_NoGrad):
    """y = sign(x) in {-1, 0, 1}; gradient zero."""
    name = "sign"

    def forward(self, ctx, x):
        return np.sign(x)


@register
class Floor(_NoGrad):
    """y = floor(x); gradient zero."""
    name = "floor"

    def forward(self, ctx, x):
        return np.floor(x)


exp, log, sin, cos = Exp, Log, Sin, Cos
clone, neg, log1p, sqrt, abs, tanh, sigmoid, relu, erf, clamp, sign, floor = (  # noqa: A001
    Clone, Neg, Log1p, Sqrt, Abs, Tanh, Sigmoid, Relu, Erf, Clamp, Sign, Floor)
