"""``max_pool2d``, ``avg_pool2d`` and ``adaptive_avg_pool2d``: PyTorch's 2-D pools.

Each calls its gate in ``chainrule.ops`` (see ``ops/pool.py`` for the
gradients, which are recorded ops: second derivatives work). Inputs are
(N, C, H, W) or unbatched (C, H, W).
"""
from ... import ops

__all__ = ["max_pool2d", "avg_pool2d", "adaptive_avg_pool2d"]


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """The maximum of each window (padding never wins).

    stride defaults to kernel_size; padding is at most half the kernel;
    ceil_mode rounds the output size up (a last window must start inside the
    input or its left padding). The gradient goes to each window's first
    maximum (row-major), as PyTorch. ``return_indices=True`` also returns
    the flat index of each maximum in its (H, W) input plane (int64), as
    PyTorch; it costs a second pass over the input.
    """
    options = {"kernel_size": kernel_size, "stride": stride, "padding": padding,
               "dilation": dilation, "ceil_mode": ceil_mode}
    out = ops.max_pool2d(input, **options)
    if return_indices:
        return out, ops.max_pool2d_indices(input, **options)
    return out


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """The mean of each window: its sum over the divisor, which counts the
    padding cells with ``count_include_pad=True`` (the default) but never the
    cells ceil_mode adds past the padding; ``divisor_override`` replaces it."""
    return ops.avg_pool2d(input, kernel_size=kernel_size, stride=stride, padding=padding,
                          ceil_mode=ceil_mode, count_include_pad=count_include_pad,
                          divisor_override=divisor_override)


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed output size: output (i, j) averages input rows
    [floor(i*H/h), ceil((i+1)*H/h)) and columns likewise (bins overlap when
    the sizes do not divide). output_size: an int or a pair, None in the pair
    keeping that input size."""
    return ops.adaptive_avg_pool2d(input, output_size=output_size)
