"""Convolution gates: ``conv`` and the two linear maps its gradient is made of.

A convolution (PyTorch's, which is a cross-correlation) of x (N, C_in,
*spatial) with w (C_out, C_in/groups, *kernel) and bias b is

    out[n, co, o] = b[co] + sum_{ci in co's group, k} x_pad[n, ci, o*s + k*d] * w[co, ci, k]

(s the stride, d the dilation, x_pad x with zero padding). It is bilinear:
linear in x for a fixed w and in w for a fixed x. Its gradient is therefore
made of the adjoints of those two linear maps, each an op of its own:

    grad_x = conv_transpose(grad_out, w)     the adjoint of x -> conv(x, w)
    grad_w = conv_weight_grad(x, grad_out)   the adjoint of w -> conv(x, w)
    grad_b = grad_out summed over the batch and every position

Both adjoints are bilinear as well, and one identity,

    <conv(x, w), g> = <x, conv_transpose(g, w)> = <w, conv_weight_grad(x, g)>,

gives the derivative of each of the three ops in terms of the three (V is
the upstream gradient, shaped like the op's output):

    op                       grad of 1st input        grad of 2nd input
    conv(x, w)               conv_transpose(V, w)     conv_weight_grad(x, V)
    conv_transpose(g, w)     conv(V, w)               conv_weight_grad(V, g)
    conv_weight_grad(x, g)   conv_transpose(g, V)     conv(x, V)

So they close under differentiation: every backward formula is made of
recorded ops, and second derivatives (gradgradcheck, Hessians, gradient
penalties) work to any order. Forward mode is the bilinear rule: the
tangent of conv is conv(x_dot, w) + conv(x, w_dot) + b_dot.

The arithmetic is in ``conv_kernels`` (im2col on channels-last memory). Its
backward needs the state of a forward: the gathered input columns for
grad_w, the weight as a matrix for grad_x. conv's own backward hands its
forward's state to the adjoints (``saved=``), so a training step gathers
each input once. Called on their own (second order, forward mode), the
adjoints build the state by running the kernel forward with zeros in place
of the operand they lack: a wasted product, off the training path.

Arguments as in PyTorch: stride, padding and dilation an int or one int per
spatial dimension, padding also 'valid' or 'same'; groups divides both
channel counts. The number of spatial dimensions is w.ndim - 2 (1 to 3),
and x may be unbatched, (C_in, *spatial). Input, weight and bias must share
a dtype (no silent promotion). Outputs have PyTorch's shape and lie
channels-last in memory (the kernels' layout), so the next convolution
reads them without a copy.
"""
import numpy as np

from . import conv_kernels as ck
from .linalg import matmul
from .registry import Op, register
from .shape import expand, permute, reshape

__all__ = ["conv", "conv_transpose", "conv_weight_grad"]

_KERNEL_FORWARD = {1: ck.conv1d_forward, 2: ck.conv2d_forward, 3: ck.conv3d_forward}


def _spatial_dims(op, w):
    d = np.ndim(w) - 2
    if d not in _KERNEL_FORWARD:
        raise ValueError(f"{op}: weight must be 3-D, 4-D or 5-D (out_channels, "
                         f"in_channels/groups, *kernel) for a 1-, 2- or 3-D convolution, "
                         f"got shape {np.shape(w)}")
    return d


def _kernel_forward(op, x, w, b, options):
    """``(out, state)`` of the kernel for a convolution of x with w."""
    return _KERNEL_FORWARD[_spatial_dims(op, w)](x, w, b, **options)


def _options(stride, padding, dilation, groups):
    return {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}


def _bias_grad(grad_out, channel_axis):
    """grad_out summed over every axis but the channels', computed as ones @ G
    for G the (rows, C) matrix of grad_out with its channels last (a view of
    the kernels' channels-last memory). NumPy's sum down the rows of such a
    narrow matrix runs one C-wide inner loop per row, about ten times slower
    than the matrix-vector product (85 against 6 us for the digits CNN's
    first layer, 4096 x 16)."""
    dims = tuple(a for a in range(grad_out.ndim) if a != channel_axis) + (channel_axis,)
    rows = reshape(permute(grad_out, dims=dims), shape=(-1, grad_out.shape[channel_axis]))
    return matmul(np.ones(rows.shape[0], dtype=grad_out.dtype), rows)


def _check_shape(op, what, shape, expected):
    if tuple(shape) != tuple(expected):
        raise ValueError(f"{op}: {what} has shape {tuple(shape)}, but the convolution it "
                         f"belongs to produces shape {tuple(expected)}")


@register
class Conv(Op):
    """out = conv(x, w) + b, PyTorch's conv1d/conv2d/conv3d (see the module doc).

    ``b`` may be None. The gradient of every input comes from the adjoint
    ops above; only those ``needs_input_grad`` asks for are computed, and
    only the inputs they read are saved (x for grad_w, w for grad_x), so an
    in-place edit of one of those before backward is caught.
    """
    name = "conv"

    def forward(self, ctx, x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
        options = _options(stride, padding, dilation, groups)
        out, state = _kernel_forward("conv", x, w, b, options)
        needs = getattr(ctx, "needs_input_grad", None)
        if needs is not None:
            need_x, need_w = needs[0], needs[1]
            ctx.save(x=x if need_w else None, w=w if need_x else None, state=state,
                     options=options, x_shape=x.shape, w_shape=w.shape, out_shape=out.shape,
                     channel_axis=1 if x.ndim == w.ndim else 0)     # 0: an unbatched input
        return out

    def vjp(self, ctx, grad_out):
        needs = ctx.needs_input_grad
        grad_x = grad_w = grad_b = None
        if needs[0]:
            grad_x = conv_transpose(grad_out, ctx.w, input_size=ctx.x_shape, saved=ctx.state,
                                    **ctx.options)
        if needs[1]:
            grad_w = conv_weight_grad(ctx.x, grad_out, weight_size=ctx.w_shape,
                                      saved=ctx.state, **ctx.options)
        if len(needs) > 2 and needs[2]:
            grad_b = _bias_grad(grad_out, ctx.channel_axis)
        return (grad_x, grad_w, grad_b)[:len(needs)]

    def jvp(self, ctx, x_dot, w_dot, b_dot=None):
        terms = []
        if x_dot is not None:
            terms.append(conv(x_dot, ctx.w, b_dot, **ctx.options))   # b_dot rides along
            b_dot = None
        if w_dot is not None:
            terms.append(conv(ctx.x, w_dot, b_dot, **ctx.options))
            b_dot = None
        if b_dot is not None:
            lone = [1] * len(ctx.out_shape)
            lone[ctx.channel_axis] = -1
            terms.append(expand(reshape(b_dot, shape=tuple(lone)), shape=ctx.out_shape))
        return terms[0] if len(terms) == 1 else terms[0] + terms[1]

    def samples(self, rng):
        x, w = rng.standard_normal, rng.standard_normal
        return [
            ((x((2, 3, 6, 5)), w((4, 3, 3, 3)), w((4,))), {"padding": 1}),
            ((x((2, 4, 7, 6)), w((6, 2, 3, 2)), w((6,))),
             {"stride": (2, 1), "padding": (1, 0), "dilation": (1, 2), "groups": 2}),
            ((x((1, 3, 5, 5)), w((3, 1, 2, 2)), None),
             {"stride": 2, "padding": 1, "groups": 3}),
            ((x((2, 2, 5, 4)), w((3, 2, 2, 3)), w((3,))), {"padding": "same", "dilation": 2}),
            ((x((2, 9)), w((3, 2, 3)), w((3,))), {"stride": 2, "padding": 1}),    # unbatched
            ((x((2, 3, 8)), w((4, 3, 3)), None), {"dilation": 3, "padding": "valid"}),
            ((x((3, 5, 4)), w((2, 3, 1, 1)), w((2,))), {}),     # unbatched 1x1
        ]


@register
class ConvTranspose(Op):
    """grad_x = conv_transpose(g, w): the adjoint of x -> conv(x, w), which is
    the input gradient of a convolution for upstream g.

    Every output element g[n, co, o] is spread back over its window:
    ``out[n, ci, o*s + k*d - pad] += g[n, co, o] * w[co, ci, k]``. This is
    PyTorch's conv_transpose with the roles of stride, padding and dilation
    of the convolution it undoes; ``input_size`` (the convolution's full
    input shape) settles the size that PyTorch's ``output_padding`` settles
    (a strided convolution maps several input sizes to one output size).
    Linear in g and in w; its derivatives are in the module doc.
    ``saved`` is the kernel state of the forward convolution, when there is one.
    """
    name = "conv_transpose"

    def forward(self, ctx, g, w, *, input_size, stride=1, padding=0, dilation=1, groups=1,
                saved=None):
        options = _options(stride, padding, dilation, groups)
        if saved is None:
            stand_in = np.zeros(input_size, dtype=w.dtype)
            out, saved = _kernel_forward("conv_transpose", stand_in, w, None, options)
            _check_shape("conv_transpose", "the upstream gradient g", np.shape(g), out.shape)
        grad_x, _, _ = ck.conv_backward(g, saved, (True, False, False))
        needs = getattr(ctx, "needs_input_grad", None)
        if needs is not None:
            ctx.save(g=g if needs[1] else None, w=w if needs[0] else None, options=options,
                     input_size=tuple(input_size), w_shape=np.shape(w))
        return grad_x

    def vjp(self, ctx, grad_out):
        need_g, need_w = ctx.needs_input_grad
        grad_g = conv(grad_out, ctx.w, None, **ctx.options) if need_g else None
        grad_w = (conv_weight_grad(grad_out, ctx.g, weight_size=ctx.w_shape, **ctx.options)
                  if need_w else None)
        return grad_g, grad_w

    def jvp(self, ctx, g_dot, w_dot):
        return _product_rule(
            lambda g, w: conv_transpose(g, w, input_size=ctx.input_size, **ctx.options),
            ctx.g, ctx.w, g_dot, w_dot)

    def samples(self, rng):
        r = rng.standard_normal
        return [
            ((r((2, 4, 2, 2)), r((4, 3, 3, 3))), {"input_size": (2, 3, 6, 5), "stride": 2}),
            ((r((2, 6, 4, 4)), r((6, 2, 3, 2))),
             {"input_size": (2, 4, 7, 6), "stride": (2, 1), "padding": (1, 0),
              "dilation": (1, 2), "groups": 2}),
            ((r((1, 4, 5)), r((4, 3, 2))), {"input_size": (1, 3, 9), "stride": 2,
                                            "padding": 1, "dilation": 2}),
        ]


@register
class ConvWeightGrad(Op):
    """grad_w = conv_weight_grad(x, g): the adjoint of w -> conv(x, w), which
    is the weight gradient of a convolution of x for upstream g:

        out[co, ci, k] = sum_{n, o} g[n, co, o] * x_pad[n, ci, o*s + k*d]

    (ci within co's group). ``weight_size`` is the weight's full shape: the
    kernel size cannot be read off x and g, as a strided convolution gives
    several kernel sizes one output size. Linear in x and in g; its
    derivatives are in the module doc. ``saved`` is the kernel state of the
    forward convolution, when there is one.
    """
    name = "conv_weight_grad"

    def forward(self, ctx, x, g, *, weight_size, stride=1, padding=0, dilation=1, groups=1,
                saved=None):
        options = _options(stride, padding, dilation, groups)
        if saved is None:
            stand_in = np.zeros(weight_size, dtype=x.dtype)
            out, saved = _kernel_forward("conv_weight_grad", x, stand_in, None, options)
            _check_shape("conv_weight_grad", "the upstream gradient g", np.shape(g), out.shape)
        _, grad_w, _ = ck.conv_backward(g, saved, (False, True, False))
        needs = getattr(ctx, "needs_input_grad", None)
        if needs is not None:
            ctx.save(x=x if needs[1] else None, g=g if needs[0] else None, options=options,
                     x_shape=np.shape(x), weight_size=tuple(weight_size))
        return grad_w

    def vjp(self, ctx, grad_out):
        need_x, need_g = ctx.needs_input_grad
        grad_x = (conv_transpose(ctx.g, grad_out, input_size=ctx.x_shape, **ctx.options)
                  if need_x else None)
        grad_g = conv(ctx.x, grad_out, None, **ctx.options) if need_g else None
        return grad_x, grad_g

    def jvp(self, ctx, x_dot, g_dot):
        return _product_rule(
            lambda x, g: conv_weight_grad(x, g, weight_size=ctx.weight_size, **ctx.options),
            ctx.x, ctx.g, x_dot, g_dot)

    def samples(self, rng):
        r = rng.standard_normal
        return [
            ((r((2, 3, 6, 5)), r((2, 4, 2, 2))), {"weight_size": (4, 3, 3, 3), "stride": 2}),
            ((r((2, 4, 7, 6)), r((2, 6, 4, 4))),
             {"weight_size": (6, 2, 3, 2), "stride": (2, 1), "padding": (1, 0),
              "dilation": (1, 2), "groups": 2}),
            ((r((1, 3, 9)), r((1, 4, 5))), {"weight_size": (4, 3, 2), "stride": 2,
                                            "padding": 1, "dilation": 2}),
        ]


conv, conv_transpose, conv_weight_grad = Conv, ConvTranspose, ConvWeightGrad


def _product_rule(f, a, b, a_dot, b_dot):
    """The tangent of f(a, b) for f linear in each argument:
    f(a_dot, b) + f(a, b_dot), skipping a missing tangent."""
    terms = ([f(a_dot, b)] if a_dot is not None else []) + \
            ([f(a, b_dot)] if b_dot is not None else [])
    return terms[0] if len(terms) == 1 else terms[0] + terms[1]
