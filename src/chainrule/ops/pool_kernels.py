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
offset, by comparing the saved input with the saved output, so an
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
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from .conv_kernels import Windows, hashable_arg, make_windows, size_tuple


# --------------------------------------------------------------------------- max

class MaxPoolSaved(NamedTuple):
    """The padded input (-inf border; the input itself when unpadded, so the
    caller should guard it against in-place edits as it guards any saved
    input), a copy of the output (the caller may edit the output in place, a
    ReLU(inplace=True) after the pool: copying is cheaper than taking the
    max again in the backward) and the pool's plan."""
    x_pad: np.ndarray
    out: np.ndarray
    plan: "_PoolPlan"


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
    _check_input(op, d, x)
    plan = _pool_plan(op, d, x.shape[-d:], hashable_arg(kernel_size), hashable_arg(stride),
                      hashable_arg(padding), hashable_arg(dilation), bool(ceil_mode))
    x_pad = _pad_like(x, plan, _lowest(op, x.dtype))
    out = _window_max(x_pad, plan)
    return out, MaxPoolSaved(x_pad, out.copy(order="K"), plan)


def _window_max(x_pad, plan):
    views = [x_pad[index] for index in plan.views]
    out = np.maximum(views[0], views[1]) if len(views) > 1 else views[0].copy(order="K")
    for view in views[2:]:
        np.maximum(out, view, out=out)
    return out


def max_pool_backward(grad_out, saved):
    """grad_x: each window's grad_out added at its arg-max."""
    plan = saved.plan
    # the offset loop below mixes grad_out with the saved arrays: in different
    # memory orders (a flatten's NCHW gradient meeting channels-last
    # activations) each of its ops would crawl along tiny inner loops, so one
    # reordering copy first is several times cheaper
    grad_out = _in_layout_of(grad_out, saved.out)
    dtype = np.result_type(grad_out)
    grad_pad = (np.empty_like if plan.tiled else np.zeros_like)(saved.x_pad, dtype=dtype)
    for index, hit in zip(plan.views, _routes(saved)):
        target = grad_pad[index]
        if plan.disjoint:
            np.multiply(grad_out, hit, out=target)
        else:
            target += grad_out * hit
    return grad_pad[plan.interior] if plan.windows.padded else grad_pad


max_pool1d_backward = max_pool2d_backward = max_pool_backward


def _routes(saved):
    """For each kernel offset k in turn, the mask of outputs whose gradient
    goes to the cell at offset k (the rule of ``max_pool_argmax``)."""
    plan, out = saved.plan, saved.out
    views = [saved.x_pad[index] for index in plan.views]
    last_nan = None
    if out.dtype.kind == "f" and np.isnan(out).any():
        last_nan = np.full_like(out, -1, dtype=np.int32)
        for k, view in enumerate(views):
            np.copyto(last_nan, k, where=np.isnan(view))
    free = None     # windows whose max is not found yet (after the first offset)
    for k, (view, valid) in enumerate(zip(views, plan.valid)):
        hit = view == out
        if valid is not None:
            hit &= valid
        if free is None:
            free = ~hit
        else:
            hit &= free
            free ^= hit
        if last_nan is not None:
            hit |= last_nan == k
        yield hit


def max_pool_argmax(saved):
    """For each output, the kernel offset (row-major) of the element PyTorch routes to.

    First offset whose value equals the max (padding excluded: a window whose
    real elements are all -inf picks its first real element, not a pad cell);
    in NaN windows the last NaN. A window that holds no input cell at all
    (dilation can step over a 1-cell input) gets PyTorch's placeholder, its
    first cell at a non-negative coordinate: outside the input, so the
    backward sends its gradient nowhere.
    """
    windows = saved.plan.windows
    argmax = np.full(saved.x_pad.shape[:-len(windows.kernel)] + windows.out_size, -1,
                     dtype=np.int32)
    for k, hit in enumerate(_routes(saved)):
        np.copyto(argmax, k, where=hit)
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
    windows = saved.plan.windows
    offsets = np.unravel_index(max_pool_argmax(saved), windows.kernel)
    d = len(windows.kernel)
    flat = np.zeros(offsets[0].shape, dtype=np.int64)
    for axis in range(d):
        # input coordinate along this axis: o*stride - pad + k*dilation
        position = np.arange(windows.out_size[axis]).reshape((-1,) + (1,) * (d - 1 - axis))
        coord = (position * windows.stride[axis] - windows.pad_lo[axis]
                 + offsets[axis] * windows.dilation[axis])
        flat = flat * windows.in_size[axis] + coord
    return flat


# --------------------------------------------------------------------------- average

class AvgPoolSaved(NamedTuple):
    """The pool's plan, the divisor (an array broadcasting to the output, or
    divisor_override) and the input's shape."""
    plan: "_PoolPlan"
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
    _check_input(op, d, x, floating=True)
    args = (op, d, x.shape[-d:], hashable_arg(kernel_size), hashable_arg(stride),
            hashable_arg(padding), 1, bool(ceil_mode))
    plan = _pool_plan(*args)
    if divisor_override is not None:
        if not (isinstance(divisor_override, (int, np.integer)) and divisor_override > 0):
            raise ValueError(f"{op}: divisor_override must be a positive int, "
                             f"got {divisor_override!r}")
        divisor = divisor_override
    else:
        divisor = _avg_divisor(args, bool(count_include_pad), x.dtype.str)
    x_pad = _pad_like(x, plan, 0)
    views = [x_pad[index] for index in plan.views]
    total = np.add(views[0], views[1]) if len(views) > 1 else views[0].copy(order="K")
    for view in views[2:]:
        total += view
    total /= divisor
    return total, AvgPoolSaved(plan, divisor, x.shape)


def avg_pool_backward(grad_out, saved):
    """grad_x: grad_out / divisor added over each window."""
    plan = saved.plan
    share = grad_out / saved.divisor
    grad_pad = _full_like_layout(share, _padded_shape(saved.x_shape, plan), 0)
    for index in plan.views:
        target = grad_pad[index]
        target += share
    return grad_pad[plan.interior] if plan.windows.padded else grad_pad


avg_pool1d_backward = avg_pool2d_backward = avg_pool_backward


@lru_cache(maxsize=256)
def _avg_divisor(plan_args, count_include_pad, dtype):
    """The product over axes of each window's counted length (see the module doc);
    read-only, as it is shared by every call with the same arguments."""
    windows = _pool_plan(*plan_args).windows
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
    divisor.flags.writeable = False
    return divisor


# --------------------------------------------------------------------------- adaptive

class AdaptivePoolSaved(NamedTuple):
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

class _PoolPlan(NamedTuple):
    """Everything about a pool that depends on sizes and arguments only.

    ``views[k]``: the index of kernel offset k's strided window on the last
    axes of the padded input; ``interior``: the index of the input inside it;
    ``valid[k]``: None when offset k reads input cells for every output, else
    a mask broadcasting to the output (False where it reads padding);
    ``disjoint``: windows never overlap; ``tiled``: they also cover the
    input exactly (kernel 2 stride 2 on even sizes).
    """
    windows: Windows
    views: tuple
    interior: tuple
    valid: tuple
    disjoint: bool
    tiled: bool


def _check_input(op, d, x, floating=False):
    if not isinstance(x, np.ndarray):
        raise ValueError(f"{op}: input must be a NumPy array, got {type(x).__name__}")
    if floating and x.dtype.kind != "f":
        raise ValueError(f"{op}: input must be a floating-point array, got dtype {x.dtype}")
    if x.ndim not in (d + 1, d + 2):
        raise ValueError(f"{op}: expected a {d + 1}-D (unbatched) or {d + 2}-D (batched) input, "
                         f"got shape {x.shape}")


@lru_cache(maxsize=512)
def _pool_plan(op, d, in_size, kernel_size, stride, padding, dilation, ceil_mode):
    """Check a pool's arguments as PyTorch does; its ``_PoolPlan`` (cached).

    ceil_mode rounds the output size up, but a last window must start inside
    the input or the left padding; the cells it reaches past the input and
    padding are extra right padding, which never wins a max and is never
    counted in an average.
    """
    kernel = size_tuple(op, "kernel_size", kernel_size, d, 1)
    stride = kernel if stride is None or stride == () else size_tuple(op, "stride", stride, d, 1)
    pad = size_tuple(op, "padding", padding, d, 0)
    dilation = size_tuple(op, "dilation", dilation, d, 1)
    if any(2 * p > k for p, k in zip(pad, kernel)):
        raise ValueError(f"{op}: padding must be at most half the kernel size, got padding "
                         f"{pad} for kernel_size {kernel}")
    reach = [dil * (k - 1) + 1 for k, dil in zip(kernel, dilation)]
    if not ceil_mode or any(r > n + 2 * p for r, n, p in zip(reach, in_size, pad)):
        windows = make_windows(op, in_size, kernel, stride, dilation, pad, pad)  # may raise
    else:
        out_size, pad_hi = [], []
        for n, r, s, p in zip(in_size, reach, stride, pad):
            out = -(-(n + 2 * p - r) // s) + 1
            if (out - 1) * s >= n + p:
                out -= 1
            out_size.append(out)
            # the last window must fit in the padded input: pad the end as far as it reaches
            pad_hi.append(max(p, (out - 1) * s + r - n - p))
        windows = make_windows(op, in_size, kernel, stride, dilation, pad, tuple(pad_hi),
                               tuple(out_size))
    disjoint = all(s >= r for s, r in zip(stride, reach))
    tiled = (disjoint and not windows.padded and stride == kernel
             and all(o * s == n for o, s, n in zip(windows.out_size, stride, in_size)))
    return _PoolPlan(windows=windows,
                     views=tuple((Ellipsis, *window) for window in windows.slices),
                     interior=(Ellipsis, *windows.interior),
                     valid=_valid_masks(windows), disjoint=disjoint, tiled=tiled)


def _valid_masks(windows):
    """Per kernel offset, None or the mask of outputs that read an input cell there."""
    d = len(windows.kernel)
    axis_masks = []
    for n, lo, hi in zip(windows.in_size, windows.pad_lo, windows.pad_hi):
        mask = np.zeros(n + lo + hi, dtype=bool)
        mask[lo:lo + n] = True
        axis_masks.append(mask)
    masks = []
    for window in windows.slices:
        valid = np.ones((1,) * d, dtype=bool)
        for axis, (mask, cells) in enumerate(zip(axis_masks, window)):
            valid = valid & mask[cells].reshape((-1,) + (1,) * (d - 1 - axis))
        masks.append(None if valid.all() else valid)
    return tuple(masks)


def _lowest(op, dtype):
    if dtype.kind == "f":
        return -np.inf
    if dtype.kind in "iu":
        return np.iinfo(dtype).min
    raise ValueError(f"{op}: input must be a real number array, got dtype {dtype}")


def _padded_shape(x_shape, plan):
    return x_shape[:-len(plan.windows.kernel)] + plan.windows.padded_size


def _pad_like(x, plan, fill):
    """x inside a border of ``fill``, in x's memory order; x itself when unpadded."""
    if not plan.windows.padded:
        return x
    x_pad = _full_like_layout(x, _padded_shape(x.shape, plan), fill)
    x_pad[plan.interior] = x
    return x_pad


def _axis_order(a):
    """a's axes from the largest stride (outermost in memory) to the smallest."""
    return sorted(range(a.ndim), key=lambda axis: -abs(a.strides[axis]))


def _in_layout_of(a, like):
    """``a``, or a copy of it laid out in memory as ``like`` is (same shape)."""
    if _axis_order(a) == _axis_order(like):
        return a
    copy = np.empty_like(like, dtype=a.dtype)
    copy[...] = a
    return copy


def _full_like_layout(x, shape, fill):
    """A new array of ``shape`` and x's dtype, its axes in x's memory order
    (so channels-last activations stay channels-last)."""
    order = _axis_order(x)
    return np.full([shape[a] for a in order], fill, dtype=x.dtype).transpose(np.argsort(order))
