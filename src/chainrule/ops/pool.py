"""Pooling gates over the last two (spatial) axes: max, average and adaptive average.

Each gate is linear in its input once a constant is fixed, and its gradient
is the adjoint of that linear map, an op of its own whose gradient is the
gate again, so second derivatives are recorded ops like any other:

* ``max_pool2d``: out = the window's maximum. Given where each maximum was
  found (the *route*: PyTorch's choice, the first maximum in row-major
  window order, the last NaN in a window holding NaN), the output is a
  gather from those positions. So grad_x is ``max_pool2d_scatter``
  (grad_out added at each window's arg-max; windows may share one when they
  overlap), whose vjp is ``max_pool2d_gather`` (read a tensor at the arg-max
  positions), whose vjp is the scatter again. The route is a constant: the
  gradient of the route itself is zero almost everywhere, as for ReLU.
  The forward-mode rule is the gather of the tangent.
* ``avg_pool2d``: a fixed weighted sum of each window; grad_x is
  ``avg_pool2d_transpose`` (grad_out / divisor spread over each window),
  whose vjp is ``avg_pool2d`` again.
* ``adaptive_avg_pool2d``: out = P_h x P_w^T with PyTorch's bins (output i
  of an axis averages input [floor(i*in/out), ceil((i+1)*in/out))); its
  adjoint is ``adaptive_avg_pool2d_transpose``, P_h^T g P_w.

The arithmetic is in ``pool_kernels``; the transposes reuse the state of
the forward they belong to (``saved=``) and, called on their own, rebuild it
from a forward on zeros of the input's shape (cheap: pooling is linear, the
state depends on shapes only). Inputs are (N, C, H, W) or unbatched (C, H, W);
outputs keep the input's memory order (channels-last stays channels-last).
"""
from functools import cached_property

import numpy as np

from . import pool_kernels as pk
from .registry import Op, register

__all__ = ["max_pool2d", "max_pool2d_scatter", "max_pool2d_gather", "max_pool2d_indices",
           "avg_pool2d", "avg_pool2d_transpose", "adaptive_avg_pool2d",
           "adaptive_avg_pool2d_transpose"]


def _check_shape(op, what, shape, expected):
    if tuple(shape) != tuple(expected):
        raise ValueError(f"{op}: {what} has shape {tuple(shape)}, but the pool it belongs "
                         f"to needs shape {tuple(expected)}")


# --------------------------------------------------------------------------- max

class MaxPoolRoute:
    """Where each output of one max pool took its value from: the constant
    the scatter and gather gates move values along.

    ``state`` is the kernel's (padded input, output, plan); ``input_shape``
    and ``output_shape`` the pool's; ``options`` its arguments.
    """

    def __init__(self, state, input_shape, options):
        self.state, self.input_shape, self.options = state, tuple(input_shape), options
        self.output_shape = state.out.shape

    @cached_property
    def positions(self):
        """Per output, the flat index in its padded (H_pad, W_pad) plane of the
        cell routed to (a pad cell for a window that holds no input cell,
        which PyTorch allows with dilation: the gradient then goes nowhere)."""
        windows = self.state.plan.windows
        offsets = np.unravel_index(pk.max_pool_argmax(self.state), windows.kernel)
        flat = 0
        for axis in range(2):
            start = np.arange(windows.out_size[axis]) * windows.stride[axis]
            if axis == 0:
                start = start[:, None]
            flat = (flat * windows.padded_size[axis] + start
                    + offsets[axis] * windows.dilation[axis])
        return flat

    def gather(self, v):
        """v (the input's shape) read at ``positions``: an output-shaped array."""
        windows = self.state.plan.windows
        lead = v.shape[:-2]
        if windows.padded:
            padded = np.zeros(lead + windows.padded_size, dtype=v.dtype)
            padded[(Ellipsis, *windows.interior)] = v
            v = padded
        planes = np.reshape(v, lead + (-1,))
        index = np.reshape(self.positions, lead + (-1,))
        return np.take_along_axis(planes, index, axis=-1).reshape(self.output_shape)


def max_pool2d_route(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """``(out, route)`` of a max pool of the array x."""
    options = {"kernel_size": kernel_size, "stride": stride, "padding": padding,
               "dilation": dilation, "ceil_mode": ceil_mode}
    out, state = pk.max_pool2d_forward(x, **options)
    return out, MaxPoolRoute(state, np.shape(x), options)


@register
class MaxPool2d(Op):
    """out = max over each window (padding counts as -inf, never wins),
    PyTorch's ``max_pool2d``: stride defaults to kernel_size, padding is at
    most half the kernel, ceil_mode rounds the output size up (a last window
    must still start inside the input or its left padding).

    Gradient: grad_out goes to each window's arg-max (``max_pool2d_scatter``),
    the first maximum on ties and the last NaN where NaN is present, as
    PyTorch. The input is saved only so that an in-place edit before
    backward is caught: the route is worked out from it in the backward.
    """
    name = "max_pool2d"

    def forward(self, ctx, x, *, kernel_size, stride=None, padding=0, dilation=1,
                ceil_mode=False):
        out, route = max_pool2d_route(x, kernel_size, stride, padding, dilation, ceil_mode)
        ctx.save(x=x, route=route)
        return out

    def vjp(self, ctx, grad_out):
        return (max_pool2d_scatter(grad_out, route=ctx.route),)

    def jvp(self, ctx, x_dot):
        return max_pool2d_gather(x_dot, route=ctx.route)

    def samples(self, rng):
        return [((rng.standard_normal(shape),), params) for shape, params in MAX_POOL_CASES]


MAX_POOL_CASES = (      # (input shape, options): shared by the three max-pool gates' samples
    ((2, 3, 6, 6), {"kernel_size": 2}),
    ((2, 2, 7, 5), {"kernel_size": 3, "stride": 2, "padding": 1}),
    ((1, 2, 7, 8), {"kernel_size": (3, 2), "stride": (2, 1), "dilation": (1, 2),
                    "ceil_mode": True}),
    ((3, 5, 5), {"kernel_size": 2, "stride": 1}),                    # unbatched, overlapping
    ((1, 2, 6, 7), {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}),
)


def _route_samples(rng, inputs_of):
    samples = []
    for shape, params in MAX_POOL_CASES:
        _, route = max_pool2d_route(rng.standard_normal(shape), **params)
        samples.append(((inputs_of(rng, route),), {"route": route}))
    return samples


@register
class MaxPool2dScatter(Op):
    """grad_x = each element of g added at its window's arg-max on ``route``
    (zero elsewhere): the gradient of a max pool. Linear in g: its vjp is
    ``max_pool2d_gather`` on the same route."""
    name = "max_pool2d_scatter"

    def forward(self, ctx, g, *, route):
        _check_shape("max_pool2d_scatter", "g", np.shape(g), route.output_shape)
        ctx.save(route=route)
        return pk.max_pool_backward(g, route.state)

    def vjp(self, ctx, grad_out):
        return (max_pool2d_gather(grad_out, route=ctx.route),)

    def jvp(self, ctx, g_dot):
        return max_pool2d_scatter(g_dot, route=ctx.route)

    def samples(self, rng):
        return _route_samples(rng, lambda rng, route: rng.standard_normal(route.output_shape))


@register
class MaxPool2dGather(Op):
    """out = v read at each window's arg-max on ``route`` (the max pool of
    the route's input, with v's values in place of the input's). Linear in
    v: its vjp is ``max_pool2d_scatter`` on the same route."""
    name = "max_pool2d_gather"

    def forward(self, ctx, v, *, route):
        _check_shape("max_pool2d_gather", "v", np.shape(v), route.input_shape)
        ctx.save(route=route)
        return route.gather(v)

    def vjp(self, ctx, grad_out):
        return (max_pool2d_scatter(grad_out, route=ctx.route),)

    def jvp(self, ctx, v_dot):
        return max_pool2d_gather(v_dot, route=ctx.route)

    def samples(self, rng):
        return _route_samples(rng, lambda rng, route: rng.standard_normal(route.input_shape))


@register
class MaxPool2dIndices(Op):
    """PyTorch's ``return_indices``: the flat index, in its (H, W) input plane,
    of each window's arg-max (int64, no gradient). A window holding no input
    cell gets PyTorch's placeholder, its first cell at non-negative
    coordinates."""
    name = "max_pool2d_indices"
    differentiable = False

    def forward(self, ctx, x, *, kernel_size, stride=None, padding=0, dilation=1,
                ceil_mode=False):
        _, state = pk.max_pool2d_forward(x, kernel_size, stride, padding, dilation, ceil_mode)
        return pk.max_pool_indices(state)

    def samples(self, rng):
        return []


# --------------------------------------------------------------------------- linear pools

class _LinearPool(Op):
    """A pool that is a linear map A of its one input, its options fixed
    (saved as ``options``): the vjp is the adjoint A^T grad_out (``adjoint``),
    the forward-mode rule A x_dot (the op itself)."""

    def adjoint(self, ctx, grad_out):
        raise NotImplementedError(f"{self.name}.adjoint")

    def vjp(self, ctx, grad_out):
        return (self.adjoint(ctx, grad_out),)

    def jvp(self, ctx, x_dot):
        return self(x_dot, **ctx.options)


AVG_POOL_CASES = (      # (input shape, options)
    ((2, 3, 6, 6), {"kernel_size": 2}),
    ((2, 2, 7, 5), {"kernel_size": 3, "stride": 2, "padding": 1}),
    ((1, 2, 7, 6), {"kernel_size": (3, 2), "stride": (2, 1), "padding": (1, 0),
                    "ceil_mode": True, "count_include_pad": False}),
    ((3, 5, 5), {"kernel_size": 2, "stride": 1, "divisor_override": 3}),    # unbatched
)


@register
class AvgPool2d(_LinearPool):
    """out = sum over each window / divisor, PyTorch's ``avg_pool2d``: the
    divisor is the window's size clipped to the padded input (padding cells
    count with ``count_include_pad=True``, the default; the cells ceil_mode
    adds past the padding never count), or ``divisor_override``.
    Gradient: ``avg_pool2d_transpose``."""
    name = "avg_pool2d"

    def forward(self, ctx, x, *, kernel_size, stride=None, padding=0, ceil_mode=False,
                count_include_pad=True, divisor_override=None):
        options = {"kernel_size": kernel_size, "stride": stride, "padding": padding,
                   "ceil_mode": ceil_mode, "count_include_pad": count_include_pad,
                   "divisor_override": divisor_override}
        out, state = pk.avg_pool2d_forward(x, **options)
        ctx.save(options=options, input_size=np.shape(x), state=state)
        return out

    def adjoint(self, ctx, grad_out):
        return avg_pool2d_transpose(grad_out, input_size=ctx.input_size, saved=ctx.state,
                                    **ctx.options)

    def samples(self, rng):
        return [((rng.standard_normal(shape),), params) for shape, params in AVG_POOL_CASES]


@register
class AvgPool2dTranspose(_LinearPool):
    """grad_x = each g / divisor added over its window of an input of shape
    ``input_size``: the adjoint of ``avg_pool2d`` with the same options, and
    its gradient. Its own gradient is ``avg_pool2d``."""
    name = "avg_pool2d_transpose"

    def forward(self, ctx, g, *, input_size, kernel_size, stride=None, padding=0,
                ceil_mode=False, count_include_pad=True, divisor_override=None, saved=None):
        pool_options = {"kernel_size": kernel_size, "stride": stride, "padding": padding,
                        "ceil_mode": ceil_mode, "count_include_pad": count_include_pad,
                        "divisor_override": divisor_override}
        if saved is None:
            out, saved = pk.avg_pool2d_forward(np.zeros(input_size, dtype=np.result_type(g)),
                                               **pool_options)
            _check_shape("avg_pool2d_transpose", "g", np.shape(g), out.shape)
        ctx.save(options={"input_size": input_size, "saved": saved, **pool_options},
                 pool_options=pool_options)
        return pk.avg_pool_backward(g, saved)

    def adjoint(self, ctx, grad_out):
        return avg_pool2d(grad_out, **ctx.pool_options)

    def samples(self, rng):
        samples = []
        for shape, params in AVG_POOL_CASES:
            out, _ = pk.avg_pool2d_forward(np.zeros(shape), **params)
            samples.append(((rng.standard_normal(out.shape),), {"input_size": shape, **params}))
        return samples


ADAPTIVE_CASES = (      # (input shape, output_size)
    ((2, 3, 7, 5), (3, 2)),
    ((2, 6, 6), 4),                 # unbatched
    ((1, 2, 5, 9), (None, 4)),      # None keeps that size
    ((2, 1, 4, 4), 1),              # global average pooling
)


@register
class AdaptiveAvgPool2d(_LinearPool):
    """out[i, j] = the mean of input rows [floor(i*H/h), ceil((i+1)*H/h)) and
    columns likewise, PyTorch's ``adaptive_avg_pool2d`` (bins overlap when
    the sizes do not divide). output_size is an int or a pair; None in the
    pair keeps that input size. Gradient: ``adaptive_avg_pool2d_transpose``."""
    name = "adaptive_avg_pool2d"

    def forward(self, ctx, x, *, output_size):
        out, state = pk.adaptive_avg_pool2d_forward(x, output_size)
        ctx.save(options={"output_size": output_size}, input_size=np.shape(x), state=state)
        return out

    def adjoint(self, ctx, grad_out):
        return adaptive_avg_pool2d_transpose(grad_out, input_size=ctx.input_size,
                                             saved=ctx.state)

    def samples(self, rng):
        return [((rng.standard_normal(shape),), {"output_size": size})
                for shape, size in ADAPTIVE_CASES]


@register
class AdaptiveAvgPool2dTranspose(_LinearPool):
    """grad_x = P_h^T g P_w for an input of shape ``input_size`` (the output
    size is g's): the adjoint of ``adaptive_avg_pool2d`` and its gradient.
    Its own gradient is ``adaptive_avg_pool2d``."""
    name = "adaptive_avg_pool2d_transpose"

    def forward(self, ctx, g, *, input_size, saved=None):
        output_size = tuple(np.shape(g)[-2:])
        if saved is None:
            out, saved = pk.adaptive_avg_pool2d_forward(
                np.zeros(input_size, dtype=np.result_type(g)), output_size)
            _check_shape("adaptive_avg_pool2d_transpose", "g", np.shape(g), out.shape)
        ctx.save(options={"input_size": input_size, "saved": saved}, output_size=output_size)
        return pk.adaptive_avg_pool_backward(g, saved)

    def adjoint(self, ctx, grad_out):
        return adaptive_avg_pool2d(grad_out, output_size=ctx.output_size)

    def samples(self, rng):
        samples = []
        for shape, size in ADAPTIVE_CASES:
            out, _ = pk.adaptive_avg_pool2d_forward(np.zeros(shape), size)
            samples.append(((rng.standard_normal(out.shape),), {"input_size": shape}))
        return samples


max_pool2d, max_pool2d_scatter, max_pool2d_gather, max_pool2d_indices = (
    MaxPool2d, MaxPool2dScatter, MaxPool2dGather, MaxPool2dIndices)
avg_pool2d, avg_pool2d_transpose = AvgPool2d, AvgPool2dTranspose
adaptive_avg_pool2d, adaptive_avg_pool2d_transpose = AdaptiveAvgPool2d, AdaptiveAvgPool2dTranspose
