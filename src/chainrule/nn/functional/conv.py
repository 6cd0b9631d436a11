"""``conv1d`` and ``conv2d``: PyTorch's convolutions (cross-correlations).

Both call the ``conv`` gate (``chainrule.ops.conv``), whose backward is made
of recorded ops, so second derivatives work. Here the arguments are checked
against the layer they come from, with the shapes in every message.
"""
from ... import ops
from ...tensor import Tensor

__all__ = ["conv1d", "conv2d"]


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """A 1-D convolution (PyTorch's: a cross-correlation),

        out[n, co, l] = bias[co] + sum_{ci, k} x_pad[n, ci, l*stride + k*dilation] * w[co, ci, k]

    input (N, C_in, L) or unbatched (C_in, L); weight (C_out, C_in/groups,
    kernel); bias (C_out,) or None; ci runs over co's group (the input
    channels are split into ``groups`` groups, each convolved with its
    C_out/groups filters). stride, padding, dilation: an int or a 1-tuple;
    padding also 'valid' or 'same' (stride 1). Zero padding only.
    """
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """A 2-D convolution (PyTorch's: a cross-correlation),

        out[n, co, i, j] = bias[co] + sum_{ci, p, q} x_pad[n, ci, i*s_h + p*d_h, j*s_w + q*d_w]
                                                     * w[co, ci, p, q]

    input (N, C_in, H, W) or unbatched (C_in, H, W); weight (C_out,
    C_in/groups, kH, kW); bias (C_out,) or None. stride, padding, dilation:
    an int or a pair; padding also 'valid' or 'same' (stride 1; an odd total
    padding puts the extra row or column at the end, as PyTorch). Zero
    padding only.
    """
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def _conv(name, d, input, weight, bias, stride, padding, dilation, groups):
    _check(name, d, input, weight, bias, groups)
    return ops.conv(input, weight, bias, stride=stride, padding=padding, dilation=dilation,
                    groups=groups)


def _check(name, d, input, weight, bias, groups):
    for arg, value in (("input", input), ("weight", weight), ("bias", bias)):
        if not (isinstance(value, Tensor) or (arg == "bias" and value is None)):
            raise TypeError(f"{name}: {arg} must be a Tensor, got {type(value).__name__}")
    if weight.ndim != d + 2:
        raise ValueError(f"{name}: weight must be {d + 2}-D (out_channels, in_channels/groups"
                         f"{', kernel' if d == 1 else ', kH, kW'}), got shape "
                         f"{tuple(weight.shape)}")
    if input.ndim not in (d + 1, d + 2):
        raise ValueError(f"{name}: expected a {d + 1}-D (unbatched) or {d + 2}-D (batched) "
                         f"input, got shape {tuple(input.shape)}")
    channels = input.shape[-d - 1]
    if isinstance(groups, int) and groups > 0 and channels != weight.shape[1] * groups:
        raise ValueError(f"{name}: expected input with {weight.shape[1] * groups} channels "
                         f"(weight of shape {tuple(weight.shape)} with groups={groups}), got "
                         f"{channels} channels in an input of shape {tuple(input.shape)}")
    for arg, value in (("weight", weight), ("bias", bias)):
        if value is not None and value.dtype != input.dtype:
            raise TypeError(f"{name}: input dtype {input.dtype} does not match {arg} dtype "
                            f"{value.dtype}; convert the input (x.to({value.dtype})) or the "
                            f"module (module.to({input.dtype}))")
