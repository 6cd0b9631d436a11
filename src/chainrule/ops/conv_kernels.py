"""Convolution on NumPy arrays: forward and backward side by side (no Tensor, no autograd).

A convolution layer (PyTorch's, which is a cross-correlation) computes, for
every output position o and output channel co of group g,

    out[n, o, co] = b[co] + sum_{k, ci}  x_pad[n, o*s + k*d, ci] * w[co, ci, k]

where k runs over the kernel offsets, ci over the input channels of group g,
s is the stride, d the dilation and x_pad the input with zero padding.

How it is computed (im2col): each kernel offset k selects a strided window of
the padded input, one (N, *out, C) slice. Stacking the slices gives the
columns matrix ``cols`` of shape (N*prod(out), prod(kernel)*C), and the whole
convolution is then one matrix product with the weight as a matrix of shape
(prod(kernel)*C, C_out). Backward follows from the product rule of a matmul:

    grad_w    = cols^T @ grad_out_2d
    grad_x    = col2im(grad_out_2d @ W^T): the block of columns of kernel
                offset k, grad_out_2d @ W_k^T (W_k: the rows of W for offset
                k), is added back into offset k's strided window of a padded
                buffer, which is then cropped (windows overlap, so this must
                add, not assign)
    grad_b    = grad_out summed over batch and positions

grad_x computes one matmul per offset rather than the whole grad_cols
matrix at once: each block then comes out contiguous for the addition that
reads it, where the slices of one big grad_cols are strided. Measured with
one thread, that is 1.3-2x faster from 4 input channels up (the digits
CNN's second layer: 163 vs 304 us); only single-channel inputs lose (137 vs
105 us), and their gradient is rarely needed.

Why channels-last: NumPy has no convolution kernel, so speed is decided by how
the columns are gathered. With activations as (N, *spatial, C) and columns
ordered (kernel offset, channel), every copy moves whole contiguous rows of C
channels: im2col is prod(kernel) slice copies and col2im prod(kernel) slice
additions, a Python loop over kernel offsets only (9 for a 3x3 kernel), never
over pixels, batch or channels. (A plain NCHW im2col, ``sliding_window_view``
reshaped, gathers single elements: for the whole digits CNN step it measured
2.6x PyTorch's time against 1.6x for this layout.)

Entry points:

* ``conv_forward_channels_last`` / ``conv_backward``: x of shape
  (N, *spatial, C_in) and results in that layout, so a chain of conv layers
  needs no transposes at all.
* ``conv1d_forward``, ``conv2d_forward``, ``conv3d_forward``: PyTorch's layout
  (N, C, *spatial), batched or unbatched. Their results have PyTorch's shape
  but are views of channels-last memory (as PyTorch's ``channels_last`` memory
  format): the next convolution's transpose to channels-last is then free, and
  NumPy's elementwise ops and pooling keep that memory order.

The weight is always PyTorch's (C_out, C_in/groups, *kernel) and the bias
(C_out,). The forward returns ``(out, saved)``; ``conv_backward(grad_out,
saved, needs_input_grad)`` returns ``(grad_x, grad_w, grad_b)`` with None
where not needed (or where there is no bias). ``saved`` keeps the columns
matrix (prod(kernel) times the input's size), not the input: the backward
then needs no second gather.

Arguments as in PyTorch: stride, padding and dilation are an int or a tuple
with one int per spatial dimension; padding may also be 'valid' (none) or
'same' (output size = input size, stride 1 only; when the total padding
d*(k-1) is odd the extra row goes to the end, as PyTorch does); groups must
divide both channel counts. Input, weight and bias must share a dtype: this
level never promotes silently.
"""
import functools
import itertools
import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np


# --------------------------------------------------------------------------- geometry
# (shared with pool_kernels: sliding windows over the last spatial axes)

def size_tuple(op, name, value, d, minimum):
    """``value`` (an int or a sequence of d ints, each >= minimum) as a d-tuple."""
    if _is_int(value):
        values = (int(value),) * d
    elif isinstance(value, (tuple, list)) and len(value) == d and all(map(_is_int, value)):
        values = tuple(int(v) for v in value)
    else:
        raise ValueError(f"{op}: {name} must be an int or a tuple of {d} ints, got {value!r}")
    if min(values) < minimum:
        bound = "positive" if minimum == 1 else "non-negative"
        raise ValueError(f"{op}: {name} must be {bound}, got {value!r}")
    return values


def _is_int(value):
    # bool is an int subclass, but stride=True is a mistake, not 1
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def hashable_arg(value):
    """A list argument as a tuple, so that it can key the plan caches."""
    return tuple(value) if isinstance(value, list) else value


def _show(sizes):
    return " x ".join(map(str, sizes))


@dataclass(frozen=True)
class Windows:
    """Where the sliding windows of a conv or pool lie on the padded input.

    ``pad_lo``/``pad_hi`` may differ ('same' padding with an even kernel,
    pooling's ceil_mode). ``slices[k]`` are the strided slices of the padded
    spatial axes that kernel offset k (row-major over the kernel) reads: its
    element at output position o is padded index o*stride + k*dilation.
    """
    in_size: tuple
    kernel: tuple
    stride: tuple
    dilation: tuple
    pad_lo: tuple
    pad_hi: tuple
    out_size: tuple
    slices: tuple

    @property
    def padded_size(self):
        return tuple(n + lo + hi for n, lo, hi in zip(self.in_size, self.pad_lo, self.pad_hi))

    @property
    def interior(self):
        """Slices of the padded spatial axes that hold the input itself."""
        return tuple(slice(lo, lo + n) for n, lo in zip(self.in_size, self.pad_lo))

    @property
    def padded(self):
        return any(self.pad_lo) or any(self.pad_hi)


def make_windows(op, in_size, kernel, stride, dilation, pad_lo, pad_hi, out_size=None):
    """The ``Windows`` of a sliding-window op, or an error naming the sizes.

    ``out_size`` defaults to the floor formula
    ``(padded - dilation*(kernel-1) - 1) // stride + 1`` per axis.
    """
    padded = tuple(n + lo + hi for n, lo, hi in zip(in_size, pad_lo, pad_hi))
    reach = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if any(r > p for r, p in zip(reach, padded)):
        dilated = f" (dilated: {_show(reach)})" if reach != tuple(kernel) else ""
        raise ValueError(f"{op}: kernel size {_show(kernel)}{dilated} is larger than the "
                         f"padded input {_show(padded)} (input {_show(in_size)} plus padding); "
                         f"use a smaller kernel or dilation, or more padding")
    if out_size is None:
        out_size = tuple((p - r) // s + 1 for p, r, s in zip(padded, reach, stride))
    slices = tuple(
        tuple(slice(k * d, k * d + s * (o - 1) + 1, s)
              for k, d, s, o in zip(offset, dilation, stride, out_size))
        for offset in itertools.product(*(range(k) for k in kernel)))
    return Windows(tuple(in_size), tuple(kernel), tuple(stride), tuple(dilation),
                   tuple(pad_lo), tuple(pad_hi), tuple(out_size), slices)


# --------------------------------------------------------------------------- conv

class ConvSaved(NamedTuple):
    """What ``conv_backward`` needs from the forward.

    ``cols``: (groups, N*prod(out), prod(kernel)*C_in/groups), the gathered
    input, columns ordered (kernel offset, channel). ``w_mat``: (groups,
    prod(kernel)*C_in/groups, C_out/groups), the weight in the same order.
    ``plan``: shapes, window geometry (``plan.windows``) and index tuples.
    ``cols`` is always a new array; ``w_mat`` may be a view of the weight (a
    1x1 kernel needs no reordering), so the caller should guard the weight
    against in-place edits before the backward, as it guards any saved input.
    """
    cols: np.ndarray
    w_mat: np.ndarray
    plan: "_ConvPlan"
    w_shape: tuple
    has_bias: bool
    channels_last: bool
    unbatched: bool


def conv_forward_channels_last(x, w, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """Convolution of a channels-last x (N, *spatial, C_in) with w (C_out, C_in/groups, *kernel).

    The number of spatial dimensions is w.ndim - 2. Returns ``(out, saved)``,
    out of shape (N, *out_spatial, C_out), C-contiguous.
    """
    d = np.ndim(w) - 2
    op = f"conv{d}d" if d > 0 else "conv"
    if x.ndim != d + 2:
        raise ValueError(f"{op}: expected a {d + 2}-D channels-last input (N, *spatial, C) for a "
                         f"{d + 2}-D weight, got input shape {x.shape}")
    return _forward(op, x, w, bias, stride, padding, dilation, groups,
                    channels_last=True, unbatched=False)


def conv1d_forward(x, w, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """PyTorch's conv1d: x (N, C_in, L) or (C_in, L), w (C_out, C_in/groups, k)."""
    return _forward_channels_first("conv1d", 1, x, w, bias, stride, padding, dilation, groups)


def conv2d_forward(x, w, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """PyTorch's conv2d: x (N, C_in, H, W) or (C_in, H, W), w (C_out, C_in/groups, kH, kW)."""
    return _forward_channels_first("conv2d", 2, x, w, bias, stride, padding, dilation, groups)


def conv3d_forward(x, w, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """PyTorch's conv3d: x (N, C_in, D, H, W) or unbatched, w (C_out, C_in/groups, kD, kH, kW)."""
    return _forward_channels_first("conv3d", 3, x, w, bias, stride, padding, dilation, groups)


def _forward_channels_first(op, d, x, w, bias, stride, padding, dilation, groups):
    if x.ndim not in (d + 1, d + 2):
        raise ValueError(f"{op}: expected a {d + 1}-D (unbatched) or {d + 2}-D (batched) input, "
                         f"got shape {x.shape}")
    if np.ndim(w) != d + 2:
        raise ValueError(f"{op}: weight must be {d + 2}-D (out_channels, in_channels/groups, "
                         f"{d} kernel sizes), got shape {np.shape(w)}")
    unbatched = x.ndim == d + 1
    if unbatched:
        x = x[np.newaxis]
    out, saved = _forward(op, x.transpose(_CHANNELS_TO_END[d]), w, bias, stride, padding,
                          dilation, groups, channels_last=False, unbatched=unbatched)
    out = out.transpose(_CHANNELS_TO_FRONT[d])
    return (out[0] if unbatched else out), saved


# axis orders that move the channel axis of an (N, C, *spatial) array to the end and back
_CHANNELS_TO_END = {d: (0, *range(2, d + 2), 1) for d in range(1, 4)}
_CHANNELS_TO_FRONT = {d: (0, d + 1, *range(1, d + 1)) for d in range(1, 4)}


def _forward(op, x, w, bias, stride, padding, dilation, groups, channels_last, unbatched):
    _check_arrays(op, x, w, bias)
    plan = _conv_plan(op, x.shape, w.shape, hashable_arg(padding), hashable_arg(stride),
                      hashable_arg(dilation), groups)
    if plan.windows.padded:
        x_pad = np.zeros(plan.padded_shape, dtype=x.dtype)
        x_pad[plan.interior] = x
    else:
        x_pad = x
    # cols[g, n, *o, k, c] = x_pad[n, o*s + k*dil, g*c_group + c]: one slice copy
    # per kernel offset, each moving rows of c_group contiguous channels
    cols = np.empty(plan.cols_shape, dtype=x.dtype)
    if groups == 1:
        for slot, window in zip(plan.col_slots, plan.x_windows):
            cols[slot] = x_pad[window]
    else:
        x_split = x_pad.reshape(*x_pad.shape[:-1], groups, plan.c_group)
        for slot, window in zip(plan.col_slots, plan.x_windows):
            cols[slot] = x_split[window].transpose(plan.group_first)
    cols = cols.reshape(groups, plan.rows, -1)

    # w[g*c_out_g + co, c, *kernel] -> w_mat[g, (k, c), co], matching the column order
    c_out_group = plan.c_out // groups
    w_mat = (w.reshape(groups, c_out_group, plan.c_group, plan.kernel_count)
             .transpose(0, 3, 2, 1).reshape(groups, -1, c_out_group))
    if groups == 1:
        out = cols[0] @ w_mat[0]
    else:
        out = np.matmul(cols, w_mat).transpose(1, 0, 2).reshape(plan.rows, plan.c_out)
    if bias is not None:
        out += bias
    saved = ConvSaved(cols, w_mat, plan, w.shape, bias is not None, channels_last, unbatched)
    return out.reshape(plan.out_shape), saved


def conv_backward(grad_out, saved, needs_input_grad=(True, True, True)):
    """Gradients ``(grad_x, grad_w, grad_b)`` of a convolution for upstream ``grad_out``.

    ``grad_out`` has the forward output's shape and layout (channels-last for
    ``conv_forward_channels_last``, PyTorch's otherwise). An entry is None
    when ``needs_input_grad`` says it is not needed, and grad_b is None
    without a bias. grad_x comes back in the forward input's layout (for the
    channels-first entry points: PyTorch's shape, channels-last memory).
    """
    need_x, need_w = needs_input_grad[0], needs_input_grad[1]
    need_b = len(needs_input_grad) > 2 and needs_input_grad[2]
    plan = saved.plan
    d = len(plan.windows.kernel)
    if not saved.channels_last:
        if saved.unbatched:
            grad_out = grad_out[np.newaxis]
        grad_out = grad_out.transpose(_CHANNELS_TO_END[d])
    groups = plan.groups
    # a copy only when grad_out is not channels-last in memory already
    grad_2d = grad_out.reshape(plan.rows, plan.c_out)
    if groups == 1:
        grad_groups = grad_2d[np.newaxis]
    else:
        grad_groups = grad_2d.reshape(plan.rows, groups, -1).transpose(1, 0, 2)

    grad_b = grad_2d.sum(axis=0) if need_b and saved.has_bias else None
    grad_w = _weight_grad(saved, grad_groups) if need_w else None
    grad_x = None
    if need_x:
        grad_x = _input_grad(saved, grad_groups)
        if not saved.channels_last:
            grad_x = grad_x.transpose(_CHANNELS_TO_FRONT[d])
            if saved.unbatched:
                grad_x = grad_x[0]
    return grad_x, grad_w, grad_b


conv1d_backward = conv2d_backward = conv3d_backward = conv_backward


def _weight_grad(saved, grad_groups):
    """grad_w = cols^T @ grad_out, per group, back to (C_out, C_in/groups, *kernel)."""
    plan = saved.plan
    grad_w_mat = np.matmul(saved.cols.transpose(0, 2, 1), grad_groups)
    return (grad_w_mat.reshape(plan.groups, plan.kernel_count, plan.c_group, -1)
            .transpose(0, 3, 2, 1).reshape(saved.w_shape))


def _input_grad(saved, grad_groups):
    """grad_x = col2im(grad_out @ W^T), one kernel offset at a time (see the module doc)."""
    plan = saved.plan
    c_group = plan.c_group
    grad_pad = np.zeros(plan.padded_shape, dtype=np.result_type(grad_groups, saved.w_mat))
    if plan.groups == 1:
        grad_2d, w_mat = grad_groups[0], saved.w_mat[0]
        for k, window in enumerate(plan.x_windows):
            target = grad_pad[window]
            target += (grad_2d @ w_mat[k * c_group:(k + 1) * c_group].T).reshape(target.shape)
    else:
        # a view of grad_pad (it is contiguous, so splitting the channel axis never copies)
        grad_split = grad_pad.reshape(*grad_pad.shape[:-1], plan.groups, c_group)
        for k, window in enumerate(plan.x_windows):
            target = grad_split[window].transpose(plan.group_first)
            w_k = saved.w_mat[:, k * c_group:(k + 1) * c_group].transpose(0, 2, 1)
            target += np.matmul(grad_groups, w_k).reshape(target.shape)
    return grad_pad[plan.interior] if plan.windows.padded else grad_pad


def _check_arrays(op, x, w, bias):
    if not isinstance(x, np.ndarray) or not isinstance(w, np.ndarray):
        raise ValueError(f"{op}: input and weight must be NumPy arrays, got "
                         f"{type(x).__name__} and {type(w).__name__}")
    if bias is not None and not isinstance(bias, np.ndarray):
        raise ValueError(f"{op}: bias must be a NumPy array or None, got {type(bias).__name__}")
    if x.dtype != w.dtype or (bias is not None and bias.dtype != x.dtype):
        named = f"input {x.dtype}, weight {w.dtype}" + (
            f", bias {bias.dtype}" if bias is not None else "")
        raise ValueError(f"{op}: {named} must have the same dtype; cast them first")
    if bias is not None and bias.shape != (w.shape[0],):
        raise ValueError(f"{op}: bias must have shape ({w.shape[0]},) to match out_channels "
                         f"(weight.shape[0]), got {bias.shape}")




class _ConvPlan(NamedTuple):
    """Everything about a convolution that depends on shapes and arguments only.

    Index tuples are built once: ``x_windows[k]`` selects kernel offset k's
    window of the padded (N, *padded, C) input, ``col_slots[k]`` its place
    (..., k, :) in the columns array of shape ``cols_shape`` = (groups, N,
    *out, prod(kernel), C_in/groups); ``group_first`` moves the group axis
    of a window split as (N, *out, groups, C_in/groups) to the front.
    """
    windows: Windows
    groups: int
    c_group: int
    c_out: int
    kernel_count: int
    rows: int
    cols_shape: tuple
    out_shape: tuple
    padded_shape: tuple
    interior: tuple
    x_windows: tuple
    col_slots: tuple
    group_first: tuple


@functools.lru_cache(maxsize=512)
def _conv_plan(op, x_shape, w_shape, padding, stride, dilation, groups):
    """Check a convolution's arguments against the shapes; its ``_ConvPlan``.

    Cached: a training loop calls each layer with the same shapes every step,
    and the checks and index tuples then cost nothing (errors are not cached).
    """
    d = len(w_shape) - 2
    n, c_in, spatial = x_shape[0], x_shape[-1], x_shape[1:-1]
    c_out, c_group, *kernel = w_shape
    if not _is_int(groups) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    if c_out % groups:
        raise ValueError(f"{op}: groups={groups} must divide out_channels={c_out} "
                         f"(weight.shape[0])")
    if c_in != c_group * groups:
        raise ValueError(f"{op}: expected input with {c_group * groups} channels (weight has "
                         f"{c_group} x groups {groups}), got {c_in} channels")
    if min(kernel, default=1) < 1:
        raise ValueError(f"{op}: weight has an empty kernel, shape {w_shape}")
    stride = size_tuple(op, "stride", stride, d, 1)
    dilation = size_tuple(op, "dilation", dilation, d, 1)
    if isinstance(padding, str):
        if padding == "valid":
            pad_lo = pad_hi = (0,) * d
        elif padding == "same":
            if stride != (1,) * d:
                raise ValueError(f"{op}: padding='same' needs stride 1, got stride {stride}; "
                                 f"give the padding as numbers instead")
            total = [dil * (k - 1) for k, dil in zip(kernel, dilation)]
            pad_lo = tuple(t // 2 for t in total)
            pad_hi = tuple(t - lo for t, lo in zip(total, pad_lo))
        else:
            raise ValueError(f"{op}: padding must be an int, a tuple of {d} ints, 'valid' or "
                             f"'same', got {padding!r}")
    else:
        pad_lo = pad_hi = size_tuple(op, "padding", padding, d, 0)
    windows = make_windows(op, spatial, kernel, stride, dilation, pad_lo, pad_hi)
    kernel_count = math.prod(kernel)
    lead = (0,) if groups == 1 else ()      # groups == 1: index the single group away
    return _ConvPlan(
        windows=windows, groups=groups, c_group=c_group, c_out=c_out,
        kernel_count=kernel_count, rows=n * math.prod(windows.out_size),
        cols_shape=(groups, n, *windows.out_size, kernel_count, c_group),
        out_shape=(n, *windows.out_size, c_out),
        padded_shape=(n, *windows.padded_size, c_in),
        interior=(slice(None), *windows.interior),
        x_windows=tuple((slice(None), *window) for window in windows.slices),
        col_slots=tuple((*lead, Ellipsis, k, slice(None)) for k in range(kernel_count)),
        group_first=(d + 1, *range(d + 1), d + 2))
