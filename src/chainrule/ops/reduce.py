"""Reductions over ``dim`` (None, an int, or a tuple; negative counts from the end).

The backward of a reduction broadcasts the gradient back over the reduced
axes: first restore them as size-1 axes (when ``keepdim=False`` removed
them), then expand. Reductions other than sum and mean state their local
derivative d out / d x elementwise (``LocalReduction.local``), which gives
both the reverse step (grad_out times it) and the forward step (the sum of
it times x_dot).
"""
import math
import warnings

import numpy as np

from .. import dtypes
from .registry import Domain, Op, Real, as_array, register

__all__ = ["sum", "mean", "prod", "var", "std", "amax", "amin", "logsumexp", "norm",
           "argmax", "argmin"]


def normalize_dims(op, dim, ndim):
    """``dim`` as a sorted tuple of non-negative axes; all axes for ``None``
    and, as in PyTorch, for an empty tuple or list."""
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
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
        grad = reshape(grad, shape=keepdim_shape(shape, axes))
    return expand(grad, shape=shape)


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


def _float_input(op, x):
    if np.result_type(x).kind not in "fc":
        raise TypeError(f"{op}: input dtype must be floating point, got {np.result_type(x)}; "
                        f"convert with .float() or .double()")


def _count(shape, axes):
    """The number of elements each output element reduces over."""
    return math.prod(shape[a] for a in axes)


class LocalReduction(Reduction):
    """A reduction whose derivative is given element by element:
    ``local(ctx)`` is d out / d x, an array (a Tensor under create_graph) of
    x's shape in which each element pairs with the output element it was
    reduced into. Then

        vjp:  grad_x = grad_out (reduced axes restored as size 1) * local
        jvp:  out_dot = sum(local * x_dot over the reduced axes)

    ``forward`` must save ``shape``, ``axes`` and ``keepdim``.
    """

    def local(self, ctx):
        raise NotImplementedError

    def vjp(self, ctx, grad_out):
        return (_keep(grad_out, ctx) * self.local(ctx),)

    def jvp(self, ctx, x_dot):
        return sum(self.local(ctx) * x_dot, dim=ctx.axes, keepdim=ctx.keepdim)


def _keep(y, ctx):
    """An output-shaped ``y`` with the reduced axes as size 1, so it broadcasts
    against the input."""
    return y if ctx.keepdim else reshape(y, shape=keepdim_shape(ctx.shape, ctx.axes))


def _keep_array(y, ctx):
    """``_keep`` for a constant: the array itself, never recorded."""
    return np.reshape(as_array(y), keepdim_shape(ctx.shape, ctx.axes))


@register
class Prod(LocalReduction):
    """y = product of x over ``dim``.  Ints and bools give int64, as PyTorch.

    Local gradient: the product of the *other* elements of the group. With no
    zero in the group that is y / x_i; the division is wrong with zeros, so
    then (as PyTorch):

    * one zero, at x_k: x_k's gradient is the product of the nonzero others;
      every other element gets 0 (its product of others contains x_k);
    * two or more zeros: every element gets 0.

    The formula for groups with zeros is written so that its own derivative
    is also right (second order, as PyTorch): with P the product of the
    nonzero elements and S the sum of the zero-valued ones (0 in value,
    but d S / d x_k = 1 for each zero x_k), the product of the others of x_i
    is P / x_i * Z_i where Z_i, the product of the *other* zeros, is 1 (no
    zeros, or x_i the only zero), S (one zero, x_i not it), S - x_i (two
    zeros, x_i one of them: that is the other one) and 0 otherwise.
    """
    name = "prod"
    domain = Domain(0.5, 1.5)       # products of many numbers stay near 1

    def forward(self, ctx, x, dim=None, keepdim=False):
        axes = normalize_dims("prod", dim, np.ndim(x))
        out = np.asarray(np.prod(x, axis=axes, keepdims=keepdim))
        if out.dtype.kind in "biu":
            out = out.astype(np.int64)   # PyTorch multiplies bools and ints as int64
        ctx.save(x=x, out=out, shape=np.shape(x), axes=axes, keepdim=keepdim)
        return out

    def local(self, ctx):
        x = ctx.x
        zero = as_array(x) == 0
        if not zero.any():
            return _keep(ctx.out, ctx) / x
        dtype = as_array(x).dtype
        nonzero = where(zero, 1.0, x)
        others = prod(nonzero, dim=ctx.axes, keepdim=True) / nonzero
        zeros_sum = sum(where(zero, x, 0.0), dim=ctx.axes, keepdim=True)
        count = np.sum(zero, axis=ctx.axes, keepdims=True)   # zeros per group
        one, two = count == 1, count == 2
        z = ((count == 0) | (one & zero)).astype(dtype) \
            + (one & ~zero).astype(dtype) * zeros_sum \
            + (two & zero).astype(dtype) * (zeros_sum - x)
        return others * z

    def samples(self, rng):
        with_zeros = self.domain.sample(rng, (3, 4))
        with_zeros[0, 1] = with_zeros[1, 1] = with_zeros[1, 2] = 0.0   # one zero, two zeros
        return super().samples(rng) + [((with_zeros,), {"dim": 1}),
                                       ((with_zeros,), {"dim": 0, "keepdim": True})]


class _Moment(LocalReduction):
    """var and std: ``correction`` is subtracted from the count n in the
    divisor (1 by default: the unbiased estimate; 0: the population one; any
    real number, as PyTorch).

    When n - correction <= 0 the divisor is max(0, n - correction) = 0, so the
    value is inf, or nan where all the elements are equal (0 / 0), with a
    warning, as PyTorch. The gradient then follows PyTorch too, which treats
    the two spellings differently: without ``dim`` (or on a 0-d tensor) each
    element gets grad * (nan where x equals the mean, else +inf); with
    ``dim`` the ordinary formula 2 (x - mean) / (n - correction) is used with
    the negative or zero divisor as it is.
    """
    domain = Real()

    def forward(self, ctx, x, dim=None, correction=1, keepdim=False):
        _float_input(self.name, x)
        axes = normalize_dims(self.name, dim, np.ndim(x))
        shape = np.shape(x)
        dof = _count(shape, axes) - correction
        if dof > 0:
            var = np.var(x, axis=axes, ddof=correction, keepdims=keepdim)
        else:
            warnings.warn(f"{self.name}: degrees of freedom n - correction = {dof} <= 0 "
                          f"(n = {_count(shape, axes)} elements per result, correction = "
                          f"{correction}); the result is inf or nan. Reduce over more "
                          f"elements or use a smaller correction", RuntimeWarning, stacklevel=3)
            with np.errstate(divide="ignore", invalid="ignore"):
                centred = x - np.mean(x, axis=axes, keepdims=True) if np.size(x) else x
                var = np.sum(centred * centred, axis=axes, keepdims=keepdim) / 0.0
        out = np.asarray(self.finish(var))
        ctx.save(x=x, out=out, shape=shape, axes=axes, keepdim=keepdim, dof=dof,
                 whole=dim is None or np.ndim(x) == 0)
        return out

    def moment_samples(self, rng):
        """Reduction's samples but the 0-d one: one element has no variance
        with the default correction (nan), and zero with correction 0, where
        std has no derivative."""
        return [(inputs, params) for inputs, params in Reduction.samples(self, rng)
                if np.ndim(inputs[0])]

    def var_local(self, ctx):
        """d var / d x = 2 (x - mean) / (n - correction)."""
        x = ctx.x
        if not as_array(x).size:
            return np.zeros(ctx.shape, as_array(x).dtype)
        centred = x - mean(x, dim=ctx.axes, keepdim=True)
        if ctx.dof > 0:
            return centred * (2.0 / ctx.dof)
        if ctx.whole:
            return np.where(as_array(centred) == 0, np.nan, np.inf).astype(as_array(x).dtype)
        with np.errstate(invalid="ignore"):
            return centred * (2.0 / ctx.dof if ctx.dof else math.inf)


@register
class Var(_Moment):
    """y = sum((x - mean)**2) / (n - correction) over ``dim``.
    Local gradient: 2 (x - mean) / (n - correction)."""
    name = "var"

    def finish(self, var):
        return var

    def local(self, ctx):
        return self.var_local(ctx)

    def samples(self, rng):
        x = self.domain.sample(rng, (2, 3, 4))
        return self.moment_samples(rng) + [((x,), {"dim": (0, 2), "correction": 2.5}),
                                           ((self.domain.sample(rng, ()),), {"correction": 0})]


@register
class Std(_Moment):
    """y = sqrt(var(x)) with var's ``correction``.  Local gradient:
    var's local gradient / (2 y), and 0 where y = 0 (all elements equal),
    as PyTorch, instead of 0 / 0. The division is made safe before the
    zero is chosen, so the second derivative there is 0 as well, not nan."""
    name = "std"

    def finish(self, var):
        return np.sqrt(var)

    def local(self, ctx):
        y = _keep(ctx.out, ctx)
        flat = _keep_array(ctx.out, ctx) == 0
        if flat.any():
            scale = where(flat, 0.0, 0.5 / where(flat, 1.0, y))
        else:
            scale = 0.5 / y
        with np.errstate(invalid="ignore"):
            return scale * self.var_local(ctx)

    def samples(self, rng):
        x = self.domain.sample(rng, (2, 3, 4))
        return self.moment_samples(rng) + [((x,), {"dim": -1, "correction": 0.5})]


class _Extreme(LocalReduction):
    """amax and amin: the largest (smallest) value over ``dim``.

    Ties split the gradient evenly, as PyTorch: each of the k elements equal
    to the result gets grad_out / k (so the total is kept). With a NaN in
    the group the result is NaN and so is every element's gradient. The
    local gradient is a constant, so the second derivative is 0. Reducing over
    an empty dimension is an error: the extreme of nothing is undefined.
    """

    def forward(self, ctx, x, dim=None, keepdim=False):
        shape = np.shape(x)
        axes = normalize_dims(self.name, dim, len(shape))
        _nonempty(self.name, shape, axes)
        out = np.asarray(self.pick(x, axis=axes, keepdims=keepdim))
        ctx.save(x=x, out=out, shape=shape, axes=axes, keepdim=keepdim)
        return out

    def local(self, ctx):
        return _split_evenly(as_array(ctx.x), _keep_array(ctx.out, ctx), ctx.axes)


def _split_evenly(x, extreme, axes):
    """1 / k on each of the k elements of ``x`` equal to their group's
    ``extreme`` (given with the reduced axes kept), 0 elsewhere."""
    winner = x == extreme
    ties = np.sum(winner, axis=axes, keepdims=True)
    with np.errstate(invalid="ignore"):     # a NaN group has no winner: 0 / 0 = NaN
        return winner.astype(x.dtype) / ties.astype(x.dtype)


def _nonempty(op, shape, axes):
    """Refuse to take an extreme over no elements (``axes=()``: the whole tensor)."""
    empty = [a for a in axes if shape[a] == 0] if axes else [d for d, n in enumerate(shape)
                                                             if n == 0]
    if empty:
        raise IndexError(f"{op}: cannot reduce over dimension {empty[0]} of a tensor of "
                         f"shape {tuple(shape)}: it is empty, and the result over no "
                         f"elements is undefined")


@register
class Amax(_Extreme):
    """y = max of x over ``dim``; ties share the gradient evenly."""
    name = "amax"
    pick = staticmethod(np.amax)


@register
class Amin(_Extreme):
    """y = min of x over ``dim``; ties share the gradient evenly."""
    name = "amin"
    pick = staticmethod(np.amin)


@register
class Logsumexp(LocalReduction):
    """y = log(sum(exp(x))) over ``dim``, computed stably as
    m + log(sum(exp(x - m))) with m the maximum, so large x never overflows.

    Local gradient: softmax(x) = exp(x - y). A group that is all -inf gives
    y = -inf (and a NaN gradient, as PyTorch); an empty group gives -inf; a
    +inf gives +inf. Integer inputs are computed in the default float dtype,
    as PyTorch.
    """
    name = "logsumexp"

    def forward(self, ctx, x, dim=None, keepdim=False):
        if np.result_type(x).kind not in "fc":
            x = np.asarray(x, dtype=dtypes.get_default_dtype())
        shape = np.shape(x)
        axes = normalize_dims("logsumexp", dim, len(shape))
        m = np.max(x, axis=axes, keepdims=True, initial=-np.inf)
        # a group of -inf (or holding +inf) would make x - m NaN: shift it by 0
        m = np.where(np.isfinite(m), m, 0.0).astype(x.dtype)
        with np.errstate(divide="ignore"):   # log(0) = -inf for an all -inf group
            out = np.log(np.sum(np.exp(x - m), axis=axes, keepdims=True)) + m
        if not keepdim:
            out = out.reshape(tuple(n for i, n in enumerate(shape) if i not in axes))
        ctx.save(x=x, out=out, shape=shape, axes=axes, keepdim=keepdim)
        return out

    def local(self, ctx):
        with np.errstate(invalid="ignore"):
            return exp(ctx.x - _keep(ctx.out, ctx))


@register
class Norm(LocalReduction):
    """The vector p-norm over ``dim`` (all elements for ``None``), as
    ``torch.norm``/``torch.linalg.vector_norm``:

    * p = 2 (default, also "fro"): y = sqrt(sum x**2), local gradient x / y;
    * p = 1: y = sum |x|, local gradient sign(x) (0 at x = 0);
    * p = inf: y = max |x|, local gradient sign(x) on the elements attaining
      the maximum, split evenly among ties (as amax);
    * p = 0: the number of nonzero elements, gradient 0;
    * other p > 0: y = (sum |x|**p)**(1/p), local gradient
      sign(x) (|x| / y)**(p - 1), and 0 at elements x = 0 (also for p < 1,
      where |x|**(p-1) would be infinite there), as PyTorch.

    At y = 0 (the zero vector) the norm has no derivative; the gradient is
    0 (a subgradient), not 0/0 = NaN, as PyTorch. The second derivative at
    such points (y = 0, or x = 0 for p other than 2) is 0 too, where
    PyTorch's double backward gives NaN.
    """
    name = "norm"
    domain = Domain(avoid=0.0)

    def forward(self, ctx, x, p=2, dim=None, keepdim=False):
        _float_input("norm", x)
        p = _norm_order(p)
        axes = normalize_dims("norm", dim, np.ndim(x))
        a = np.abs(x)
        if p == 2:
            out = np.sqrt(np.sum(a * a, axis=axes, keepdims=keepdim))
        elif p == 1:
            out = np.sum(a, axis=axes, keepdims=keepdim)
        elif p == math.inf:
            _nonempty("norm", np.shape(x), axes)
            out = np.amax(a, axis=axes, keepdims=keepdim)
        elif p == 0:
            out = np.sum(a != 0, axis=axes, keepdims=keepdim).astype(a.dtype)
        else:
            out = np.sum(a ** p, axis=axes, keepdims=keepdim) ** (1 / p)
        out = np.asarray(out)
        ctx.save(x=x, out=out, p=p, shape=np.shape(x), axes=axes, keepdim=keepdim)
        return out

    def local(self, ctx):
        x, p = ctx.x, ctx.p
        xa = as_array(x)
        if p == 1:
            return np.sign(xa)
        if p == 0:
            return np.zeros_like(xa)
        if p == math.inf:
            return np.sign(xa) * _split_evenly(np.abs(xa), _keep_array(ctx.out, ctx), ctx.axes)
        y = _keep(ctx.out, ctx)
        flat = _keep_array(ctx.out, ctx) == 0
        safe_y = where(flat, 1.0, y) if flat.any() else y
        if p == 2:
            ratio = x / safe_y
            return where(flat, 0.0, ratio) if flat.any() else ratio
        dead = flat | (xa == 0)
        ratio = where(dead, 1.0, abs(x)) / safe_y
        return where(dead, 0.0, np.sign(xa) * ratio ** (p - 1))

    def samples(self, rng):
        x = self.domain.sample(rng, (2, 3, 4))
        return [((x,), {"p": p, "dim": dim, "keepdim": kd})
                for p, dim, kd in ((2, None, False), (2, 1, True), (1, (0, 2), False),
                                   (math.inf, -1, False), (3, 0, False), (0.5, 1, True),
                                   (1.5, None, False))] + [((self.domain.sample(rng, ()),), {})]


def _norm_order(p):
    if p == "fro":
        return 2
    if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)) \
            or np.isnan(p) or p < 0:
        raise ValueError(f"norm: p must be a number >= 0 (or inf, or 'fro'), got {p!r}")
    if math.isinf(p):
        return math.inf
    return int(p) if p == int(p) else float(p)


class _ArgExtreme(Op):
    """The index of the largest (smallest) value: int64, no gradient.

    ``dim=None`` looks at the flattened tensor (and with keepdim=True returns
    shape (1, ..., 1)); ties and NaNs pick the first index, as PyTorch.
    """
    differentiable = False

    def forward(self, ctx, x, dim=None, keepdim=False):
        shape = np.shape(x)
        if dim is None:
            _nonempty(self.name, shape, ())
            out = np.asarray(self.pick(x), dtype=np.int64)
            return out.reshape((1,) * len(shape)) if keepdim else out
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
            raise TypeError(f"{self.name}: dim must be an int or None, got {dim!r}; "
                            f"reduce one dimension at a time")
        axes = normalize_dims(self.name, dim, len(shape))
        if not axes:    # a 0-d tensor: its one element is at index 0
            return np.zeros((), dtype=np.int64)
        _nonempty(self.name, shape, axes)
        return np.asarray(self.pick(x, axis=axes[0], keepdims=keepdim), dtype=np.int64)

    def samples(self, rng):
        return []


@register
class Argmax(_ArgExtreme):
    """argmax over ``dim``; the first of tied maxima."""
    name = "argmax"
    pick = staticmethod(np.argmax)


@register
class Argmin(_ArgExtreme):
    """argmin over ``dim``; the first of tied minima."""
    name = "argmin"
    pick = staticmethod(np.argmin)


sum, mean, prod, var, std, amax, amin = Sum, Mean, Prod, Var, Std, Amax, Amin  # noqa: A001
logsumexp, norm, argmax, argmin = Logsumexp, Norm, Argmax, Argmin

# the formulas' ops, imported last: those modules may import this one
from .binary import where  # noqa: E402
from .elementwise import abs, exp  # noqa: E402,A004
from .shape import reshape  # noqa: E402
