"""Pooling on NumPy arrays: forward and backward side by side (no Tensor, no autograd).

Every pool here works on the last d axes (the spatial ones) of an array
(N, C, *spatial) or, unbatched, (C, *spatial), in any memory order: the
results keep the input's memory order, so channels-last activations (as
``conv_kernels`` returns them) stay channels-last. Like convolution, each
pool loops over the kernel offsets only; each offset reads one strided view
of the (padded) input.

Max pooling: out = max over the window, padding counts as -inf (it never
wins). The gradient goes to one element per window, the one PyTorch picks:
the first maximum in row-major window order, and in a window holding NaN
(the output is NaN, as NaN propagates) the last NaN. The output is an
``np.maximum`` of strided views (for kernel 2 stride 2, of the four
quadrants); which offset won is worked out in the backward, offset by
offset, from the saved padded input (taking the max again: cheaper than
keeping a copy of the output safe from in-place edits), so an
inference-only forward never pays for it.

Average pooling: out = sum over the window / divisor. PyTorch's divisor per
axis is the window's length clipped to [-padding, size + padding), so with
``count_include_pad=True`` (the default) padding cells count and the cells
that ``ceil_mode`` adds past the padding do not; with False only input cells
count; ``divisor_override`` replaces it. The divisor is a product of one
count per axis. Backward spreads grad_out / divisor over each window.

Adaptive average pooling: output cell i of an axis of length n_in averages
input cells [floor(i*n_in/n_out), ceil((i+1)*n_in/n_out)), so bins overlap
when the sizes do not divide. That is a matrix P (n_out, n_in) per axis with
1/len in each bin, applied along each axis: out = P_h @ x @ P_w^T in 2-D,
and grad_x = P_h^T @ grad_out @ P_w. Exact and vectorised.
"""
from dataclasses import dataclass

import numpy as np

from .conv_kernels import Windows, make_windows, size_tuple


# --------------------------------------------------------------------------- max

@dataclass(frozen=True)
class MaxPoolSaved:
    """The padded input (-inf border; the input itself when unpadded, so the
    caller should guard it against in-place edits as it guards any saved
    input) and the window geometry. Not the output: the caller may edit that
    in place (a ReLU(inplace=True) after the pool), so the backward takes
    the max again instead."""
    x_pad: np.ndarray
    windows: Windows


def max_pool1d_forward(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """PyTorch's max_pool1d on (N, C, L) or (C, L); returns ``(out, saved)``."""
    return _max_pool_forward("max_pool1d", 1, x, kernel_size, stride, padding, dilation,
                             ceil_mode)


def max_pool2d_forward(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """PyTorch's max_pool2d on (N, C, H, W) or (C, H, W); returns ``(out, saved)``.

    stride defaults to kernel_size; padding must be at most half the kernel.
    ``max_pool_indices(saved)`` gives PyTorch's ``return_indices`` result.
    """
    return _max_pool_forward("max_pool2d", 2, x, kernel_size, stride, padding, dilation,
                             ceil_mode)


def _max_pool_forward(op, d, x, kernel_size, stride, padding, dilation, ceil_mode):
    windows = _pool_windows(op, d, x, kernel_size, stride, padding, dilation, ceil_mode,
                            floating=False)
    x_pad = _pad_like(x, windows, _lowest(op, x.dtype))
    return _window_max(x_pad, windows), MaxPoolSaved(x_pad, windows)


def _window_max(x_pad, windows):
    views = _window_views(x_pad, windows)
    out = np.maximum(views[0], views[1]) if len(views) > 1 else views[0].copy(order="K")
    for view in views[2:]:
        np.maximum(out, view, out=out)
    return out


def max_pool_backward(grad_out, saved):
    """grad_x: each window's grad_out added at its arg-max (windows may overlap)."""
    argmax = max_pool_argmax(saved)
    grad_pad = np.zeros_like(saved.x_pad, dtype=np.result_type(grad_out))
    for k, target in enumerate(_window_views(grad_pad, saved.windows)):
        np.add(target, grad_out, out=target, where=argmax == k)
    return _crop(grad_pad, saved.windows)


max_pool1d_backward = max_pool2d_backward = max_pool_backward


def max_pool_argmax(saved):
    """For each output, the kernel offset (row-major) of the element PyTorch routes to.

    First offset whose value equals the max (padding excluded: a window whose
    real elements are all -inf picks its first real element, not a pad cell);
    in NaN windows the last NaN. A window that holds no input cell at all
    (dilation can step over a 1-cell input) gets PyTorch's placeholder, its
    first cell at a non-negative coordinate: outside the input, so its
    gradient is dropped.
    """
    windows = saved.windows
    out = _window_max(saved.x_pad, windows)
    argmax = np.full_like(out, -1, dtype=np.int32)
    valid_axes = _valid_masks(windows)
    for k, view in enumerate(_window_views(saved.x_pad, windows)):
        hit = (view == out) & (argmax < 0)
        if windows.padded:
            hit &= _offset_valid(valid_axes, windows, k)
        np.copyto(argmax, k, where=hit)
    if out.dtype.kind == "f" and np.isnan(out).any():
        for k, view in enumerate(_window_views(saved.x_pad, windows)):
            np.copyto(argmax, k, where=np.isnan(view))
    empty = argmax < 0
    if empty.any():
        np.copyto(argmax, _first_nonnegative_offset(windows), where=empty)
    return argmax


def _first_nonnegative_offset(windows):
    """Per output, the flat kernel offset of the first cell with every coordinate >= 0."""
    d = len(windows.kernel)
    flat = np.zeros((1,) * d, dtype=np.int32)
    for axis, (k, s, dil, pad, out) in enumerate(zip(windows.kernel, windows.stride,
                                                     windows.dilation, windows.pad_lo,
                                                     windows.out_size)):
        start = np.arange(out) * s - pad
        first = np.maximum(0, -(start // dil))      # ceil(-start / dil), at least 0
        flat = flat * k + first.reshape((-1,) + (1,) * (d - 1 - axis))
    return flat


def max_pool_indices(saved):
    """PyTorch's ``return_indices``: the flat index of each arg-max in its input plane."""
    windows = saved.windows
    argmax = max_pool_argmax(saved)
    offsets = np.unravel_index(argmax, windows.kernel)
    d = len(windows.kernel)
    flat = np.zeros(argmax.shape, dtype=np.int64)
    for axis in range(d):
        # input coordinate along this axis: o*stride - pad + k*dilation
        position = np.arange(windows.out_size[axis]).reshape((-1,) + (1,) * (d - 1 - axis))
        coord = (position * windows.stride[axis] - windows.pad_lo[axis]
                 + offsets[axis] * windows.dilation[axis])
        flat = flat * windows.in_size[axis] + coord
    return flat


# --------------------------------------------------------------------------- average

@dataclass(frozen=True)
class AvgPoolSaved:
    """The window geometry, the divisor (an array broadcasting to the output, or
    divisor_override) and the input's shape."""
    windows: Windows
    divisor: object
    x_shape: tuple


def avg_pool1d_forward(x, kernel_size, stride=None, padding=0, ceil_mode=False,
                       count_include_pad=True):
    """PyTorch's avg_pool1d on (N, C, L) or (C, L); returns ``(out, saved)``."""
    return _avg_pool_forward("avg_pool1d", 1, x, kernel_size, stride, padding, ceil_mode,
                             count_include_pad, None)


def avg_pool2d_forward(x, kernel_size, stride=None, padding=0, ceil_mode=False,
                       count_include_pad=True, divisor_override=None):
    """PyTorch's avg_pool2d on (N, C, H, W) or (C, H, W); returns ``(out, saved)``."""
    return _avg_pool_forward("avg_pool2d", 2, x, kernel_size, stride, padding, ceil_mode,
                             count_include_pad, divisor_override)


def _avg_pool_forward(op, d, x, kernel_size, stride, padding, ceil_mode, count_include_pad,
                      divisor_override):
    windows = _pool_windows(op, d, x, kernel_size, stride, padding, 1, ceil_mode,
                            floating=True)
    if divisor_override is not None:
        if not (isinstance(divisor_override, (int, np.integer)) and divisor_override > 0):
            raise ValueError(f"{op}: divisor_override must be a positive int, "
                             f"got {divisor_override!r}")
        divisor = divisor_override
    else:
        divisor = _avg_divisor(windows, count_include_pad, x.dtype)
    x_pad = _pad_like(x, windows, 0)
    views = _window_views(x_pad, windows)
    total = np.add(views[0], views[1]) if len(views) > 1 else views[0].copy(order="K")
    for view in views[2:]:
        total += view
    total /= divisor
    return total, AvgPoolSaved(windows, divisor, x.shape)


def avg_pool_backward(grad_out, saved):
    """grad_x: grad_out / divisor added over each window."""
    windows = saved.windows
    share = grad_out / saved.divisor
    shape = saved.x_shape[:-len(windows.kernel)] + windows.padded_size
    grad_pad = _full_like_layout(share, shape, 0)
    for target in _window_views(grad_pad, windows):
        target += share
    return _crop(grad_pad, windows)


avg_pool1d_backward = avg_pool2d_backward = avg_pool_backward


def _avg_divisor(windows, count_include_pad, dtype):
    """The product over axes of each window's counted length (see the module doc)."""
    d = len(windows.kernel)
    divisor = np.ones((1,) * d, dtype=dtype)
    for axis, (n, k, s, pad, out) in enumerate(zip(windows.in_size, windows.kernel,
                                                   windows.stride, windows.pad_lo,
                                                   windows.out_size)):
        start = np.arange(out) * s - pad
        end = np.minimum(start + k, n + pad)
        if not count_include_pad:
            start, end = np.maximum(start, 0), np.minimum(end, n)
        divisor = divisor * (end - start).reshape((-1,) + (1,) * (d - 1 - axis)).astype(dtype)
    return divisor


# --------------------------------------------------------------------------- adaptive

@dataclass(frozen=True)
class AdaptivePoolSaved:
    """One pooling matrix per spatial axis, (n_out, n_in)."""
    matrices: tuple


def adaptive_avg_pool1d_forward(x, output_size):
    """PyTorch's adaptive_avg_pool1d on (N, C, L) or (C, L); returns ``(out, saved)``."""
    return _adaptive_forward("adaptive_avg_pool1d", 1, x, output_size)


def adaptive_avg_pool2d_forward(x, output_size):
    """PyTorch's adaptive_avg_pool2d on (N, C, H, W) or (C, H, W); returns ``(out, saved)``.

    output_size is an int or a pair; None in the pair keeps that input size.
    """
    return _adaptive_forward("adaptive_avg_pool2d", 2, x, output_size)


def _adaptive_forward(op, d, x, output_size):
    _check_input(op, d, x, floating=True)
    if d > 1 and isinstance(output_size, (tuple, list)) and len(output_size) == d:
        output_size = tuple(n if o is None else o
                            for o, n in zip(output_size, x.shape[-d:]))
    out_size = size_tuple(op, "output_size", output_size, d, 1)
    matrices = tuple(_bins(n_out, n_in, x.dtype) for n_out, n_in in zip(out_size, x.shape[-d:]))
    return _along_spatial(x, matrices), AdaptivePoolSaved(matrices)


def adaptive_avg_pool_backward(grad_out, saved):
    """grad_x = each axis's P^T applied to grad_out."""
    return _along_spatial(grad_out, tuple(m.T for m in saved.matrices))


adaptive_avg_pool1d_backward = adaptive_avg_pool2d_backward = adaptive_avg_pool_backward


def _bins(n_out, n_in, dtype):
    """P (n_out, n_in): row i is 1/len on [floor(i*n_in/n_out), ceil((i+1)*n_in/n_out))."""
    i = np.arange(n_out)
    start = (i * n_in) // n_out
    end = -((-(i + 1) * n_in) // n_out)
    cells = np.arange(n_in)
    inside = (cells >= start[:, None]) & (cells < end[:, None])
    return (inside / (end - start)[:, None]).astype(dtype)


def _along_spatial(x, matrices):
    """Apply matrices[j] (m, n) along the j-th of the last d axes (each of length n)."""
    d = len(matrices)
    for j, matrix in enumerate(matrices):
        axis = x.ndim - d + j
        x = np.moveaxis(np.moveaxis(x, axis, -1) @ matrix.T, -1, axis)
    return x


# --------------------------------------------------------------------------- shared

def _check_input(op, d, x, floating=False):
    if not isinstance(x, np.ndarray):
        raise ValueError(f"{op}: input must be a NumPy array, got {type(x).__name__}")
    if floating and x.dtype.kind != "f":
        raise ValueError(f"{op}: input must be a floating-point array, got dtype {x.dtype}")
    if x.ndim not in (d + 1, d + 2):
        raise ValueError(f"{op}: expected a {d + 1}-D (unbatched) or {d + 2}-D (batched) input, "
                         f"got shape {x.shape}")


def _pool_windows(op, d, x, kernel_size, stride, padding, dilation, ceil_mode, floating):
    """Check a pool's arguments as PyTorch does; its ``Windows``.

    ceil_mode rounds the output size up, but a last window must start inside
    the input or the left padding; the cells it reaches past the input and
    padding are extra right padding, which never wins a max and is never
    counted in an average.
    """
    _check_input(op, d, x, floating)
    kernel = size_tuple(op, "kernel_size", kernel_size, d, 1)
    stride = kernel if stride is None or stride == () else size_tuple(op, "stride", stride, d, 1)
    pad = size_tuple(op, "padding", padding, d, 0)
    dilation = size_tuple(op, "dilation", dilation, d, 1)
    if any(2 * p > k for p, k in zip(pad, kernel)):
        raise ValueError(f"{op}: padding must be at most half the kernel size, got padding "
                         f"{pad} for kernel_size {kernel}")
    in_size = x.shape[-d:]
    if not ceil_mode:
        return make_windows(op, in_size, kernel, stride, dilation, pad, pad)
    reach = [dil * (k - 1) + 1 for k, dil in zip(kernel, dilation)]
    if any(r > n + 2 * p for r, n, p in zip(reach, in_size, pad)):
        return make_windows(op, in_size, kernel, stride, dilation, pad, pad)  # raises
    out_size, pad_hi = [], []
    for n, r, s, p in zip(in_size, reach, stride, pad):
        out = -(-(n + 2 * p - r) // s) + 1
        if (out - 1) * s >= n + p:
            out -= 1
        out_size.append(out)
        # the last window must fit in the padded input: pad the end as far as it reaches
        pad_hi.append(max(p, (out - 1) * s + r - n - p))
    return make_windows(op, in_size, kernel, stride, dilation, pad, tuple(pad_hi),
                        tuple(out_size))


def _lowest(op, dtype):
    if dtype.kind == "f":
        return -np.inf
    if dtype.kind in "iu":
        return np.iinfo(dtype).min
    raise ValueError(f"{op}: input must be a real number array, got dtype {dtype}")


def _pad_like(x, windows, fill):
    """x inside a border of ``fill``, in x's memory order; x itself when unpadded."""
    if not windows.padded:
        return x
    x_pad = _full_like_layout(x, x.shape[:-len(windows.kernel)] + windows.padded_size, fill)
    x_pad[(Ellipsis, *windows.interior)] = x
    return x_pad


def _full_like_layout(x, shape, fill):
    """A new array of ``shape`` and x's dtype, its axes in x's memory order
    (so channels-last activations stay channels-last)."""
    order = np.argsort([-abs(s) for s in x.strides], kind="stable")
    return np.full([shape[a] for a in order], fill, dtype=x.dtype).transpose(np.argsort(order))


def _window_views(array, windows):
    """For each kernel offset, the strided view of the last axes it reads (or writes)."""
    return [array[(Ellipsis, *window)] for window in windows.slices]


def _crop(grad_pad, windows):
    return grad_pad[(Ellipsis, *windows.interior)] if windows.padded else grad_pad


def _valid_masks(windows):
    """Per axis, which padded cells are input cells (not padding)."""
    masks = []
    for n, lo, hi in zip(windows.in_size, windows.pad_lo, windows.pad_hi):
        mask = np.zeros(n + lo + hi, dtype=bool)
        mask[lo:lo + n] = True
        masks.append(mask)
    return masks


def _offset_valid(valid_axes, windows, k):
    """Which outputs read an input cell (not padding) at kernel offset k; broadcasts."""
    d = len(windows.kernel)
    valid = np.ones((1,) * d, dtype=bool)
    for axis, (mask, window) in enumerate(zip(valid_axes, windows.slices[k])):
        valid = valid & mask[window].reshape((-1,) + (1,) * (d - 1 - axis))
    return valid
