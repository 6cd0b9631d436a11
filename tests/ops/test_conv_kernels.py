"""Convolution and pooling kernels (plain arrays) against torch.nn.functional.

Values and every gradient in float64 over stride/padding/dilation/groups
combinations drawn by hypothesis, with a random upstream gradient; float32
agreement; PyTorch's tie and NaN rules in max pooling; the memory layouts the
kernels promise; error messages; and the CNN benchmark reference (NumPy by hand
against PyTorch from the same weights).
"""
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from chainrule.ops import conv_kernels as ck
from chainrule.ops import pool_kernels as pk

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))   # the repo root: benchmarks/

from benchmarks import cnn_reference  # noqa: E402

FEW = settings(max_examples=30, deadline=None)


def torch_vjp(fn, arrays, grad_out_seed=0):
    """fn's output on ``arrays`` and the gradients for a random upstream gradient."""
    leaves = [None if a is None else torch.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*leaves)
    grad_out = np.random.default_rng(grad_out_seed).standard_normal(out.shape).astype(
        arrays[0].dtype)
    inputs = [leaf for leaf in leaves if leaf is not None]
    grads = torch.autograd.grad(out, inputs, torch.from_numpy(grad_out))
    grads = iter(g.numpy() for g in grads)
    return out.detach().numpy(), grad_out, [None if a is None else next(grads) for a in arrays]


def assert_close(actual, expected, rtol=1e-10, atol=1e-12):
    assert actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)


# --------------------------------------------------------------------------- conv

@st.composite
def conv_cases(draw, d):
    groups = draw(st.integers(1, 3))
    c_group, c_out_group = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(d))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(d))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(d))
    padding = tuple(draw(st.integers(0, 2)) for _ in range(d))
    # each input size at least what the dilated kernel needs after padding
    size = tuple(max(1, dil * (k - 1) + 1 - 2 * p + draw(st.integers(0, 4)))
                 for k, dil, p in zip(kernel, dilation, padding))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    x = rng.standard_normal((draw(st.integers(1, 2)), groups * c_group, *size))
    w = rng.standard_normal((groups * c_out_group, c_group, *kernel))
    bias = rng.standard_normal(groups * c_out_group) if draw(st.booleans()) else None
    return x, w, bias, dict(stride=stride, padding=padding, dilation=dilation, groups=groups)


def check_conv(forward, torch_conv, x, w, bias, params, rtol=1e-10, atol=1e-12):
    expected, grad_out, expected_grads = torch_vjp(
        lambda *t: torch_conv(*t, **params), [x, w, bias])
    out, saved = forward(x, w, bias, **params)
    assert_close(out, expected, rtol, atol)
    grads = ck.conv_backward(grad_out, saved)
    for got, want in zip(grads, expected_grads):
        if want is None:
            assert got is None
        else:
            assert_close(got, want, rtol, atol)


@FEW
@given(conv_cases(2))
def test_conv2d_matches_torch(case):
    check_conv(ck.conv2d_forward, F.conv2d, *case)


@FEW
@given(conv_cases(1))
def test_conv1d_matches_torch(case):
    check_conv(ck.conv1d_forward, F.conv1d, *case)


def test_conv3d_matches_torch():
    rng = np.random.default_rng(0)
    x, w, b = (rng.standard_normal(s) for s in ((2, 4, 5, 6, 4), (6, 2, 2, 3, 2), (6,)))
    check_conv(ck.conv3d_forward, F.conv3d, x, w, b,
               dict(stride=(1, 2, 1), padding=(1, 0, 1), dilation=(2, 1, 1), groups=2))


@pytest.mark.parametrize("padding", ["same", "valid", 1, (2, 0)])
@pytest.mark.parametrize("dilation", [1, (3, 2)])
@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")   # torch's own note
def test_conv2d_string_and_int_padding(padding, dilation):
    """'same' with even kernels pads one more at the end, as PyTorch."""
    rng = np.random.default_rng(1)
    x, w, b = (rng.standard_normal(s) for s in ((2, 3, 9, 8), (4, 3, 2, 4), (4,)))
    check_conv(ck.conv2d_forward, F.conv2d, x, w, b,
               dict(stride=1, padding=padding, dilation=dilation, groups=1))


def test_conv2d_unbatched_input():
    rng = np.random.default_rng(2)
    x, w, b = (rng.standard_normal(s) for s in ((3, 6, 5), (4, 3, 3, 3), (4,)))
    check_conv(ck.conv2d_forward, F.conv2d, x, w, b,
               dict(stride=2, padding=1, dilation=1, groups=1))


def test_conv2d_float32_agrees_to_1e_5():
    rng = np.random.default_rng(3)
    x, w, b = (rng.standard_normal(s).astype(np.float32)
               for s in ((4, 8, 12, 12), (16, 4, 3, 3), (16,)))
    params = dict(stride=1, padding=1, dilation=1, groups=2)
    assert ck.conv2d_forward(x, w, b, **params)[0].dtype == np.float32
    check_conv(ck.conv2d_forward, F.conv2d, x, w, b, params, rtol=1e-5, atol=1e-5)


def test_conv_channels_last_entry_matches_nchw_and_chains_without_transposes():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 3, 7, 6))
    w1, w2 = rng.standard_normal((5, 3, 3, 3)), rng.standard_normal((4, 5, 3, 3))
    out_nchw, _ = ck.conv2d_forward(x, w1, None, 1, 1)
    x_nhwc = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
    out_nhwc, saved = ck.conv_forward_channels_last(x_nhwc, w1, None, 1, 1)
    assert out_nhwc.flags.c_contiguous
    assert_close(out_nhwc, out_nchw.transpose(0, 2, 3, 1))
    # the NCHW result is channels-last in memory: moving C back to the end is free
    assert np.moveaxis(out_nchw, 1, -1).flags.c_contiguous
    second_nchw, _ = ck.conv2d_forward(out_nchw, w2, None, 1, 1)
    second_nhwc, _ = ck.conv_forward_channels_last(out_nhwc, w2, None, 1, 1)
    assert_close(second_nhwc, second_nchw.transpose(0, 2, 3, 1))
    grad_out = rng.standard_normal(out_nhwc.shape)
    grad_x, grad_w, grad_b = ck.conv_backward(grad_out, saved)
    _, saved_nchw = ck.conv2d_forward(x, w1, None, 1, 1)
    grad_x_nchw, grad_w_nchw, _ = ck.conv_backward(grad_out.transpose(0, 3, 1, 2), saved_nchw)
    assert grad_x.shape == x_nhwc.shape and grad_b is None
    assert_close(grad_x, grad_x_nchw.transpose(0, 2, 3, 1))
    assert_close(grad_w, grad_w_nchw)


def test_conv_backward_skips_what_is_not_needed():
    rng = np.random.default_rng(5)
    x, w, b = (rng.standard_normal(s) for s in ((1, 2, 4, 4), (3, 2, 3, 3), (3,)))
    out, saved = ck.conv2d_forward(x, w, b)
    _, _, (gx, gw, gb) = torch_vjp(F.conv2d, [x, w, b])
    grad_out = np.random.default_rng(0).standard_normal(out.shape)
    grad_x, grad_w, grad_b = ck.conv_backward(grad_out, saved, (False, True, False))
    assert grad_x is None and grad_b is None
    assert_close(grad_w, gw)
    grad_x, grad_w = ck.conv_backward(grad_out, saved, (True, False))[:2]
    assert grad_w is None
    assert_close(grad_x, gx)


def conv2d_error(x_shape, w_shape, bias_shape=None, **params):
    x, w = np.zeros(x_shape), np.zeros(w_shape)
    bias = None if bias_shape is None else np.zeros(bias_shape)
    return lambda: ck.conv2d_forward(x, w, bias, **params)


@pytest.mark.parametrize("call, message", [
    (conv2d_error((1, 4, 5, 5), (8, 3, 3, 3)),
     r"conv2d: expected input with 3 channels \(weight has 3 x groups 1\), got 4 channels"),
    (conv2d_error((1, 4, 5, 5), (8, 3, 3, 3), groups=2),
     r"expected input with 6 channels \(weight has 3 x groups 2\), got 4 channels"),
    (conv2d_error((1, 3, 5, 5), (8, 3, 3, 3), groups=3),
     r"conv2d: groups=3 must divide out_channels=8"),
    (conv2d_error((1, 3, 5, 5), (8, 3, 3, 3), groups=0), r"conv2d: groups must be a positive"),
    (conv2d_error((1, 3, 2, 2), (8, 3, 3, 3)),
     r"conv2d: kernel size 3 x 3 is larger than the padded input 2 x 2"),
    (conv2d_error((1, 3, 4, 4), (8, 3, 3, 3), dilation=2),
     r"kernel size 3 x 3 \(dilated: 5 x 5\) is larger than the padded input 4 x 4"),
    (conv2d_error((1, 3, 5, 5), (8, 3, 3, 3), stride=0), r"conv2d: stride must be positive"),
    (conv2d_error((1, 3, 5, 5), (8, 3, 3, 3), stride=(1, 2, 3)),
     r"conv2d: stride must be an int or a tuple of 2 ints"),
    (conv2d_error((1, 3, 5, 5), (8, 3, 3, 3), padding=-1),
     r"conv2d: padding must be non-negative"),
    (conv2d_error((1, 3, 5, 5), (8, 3, 3, 3), padding="full"),
     r"conv2d: padding must be .* 'valid' or 'same'"),
    (conv2d_error((1, 3, 5, 5), (8, 3, 3, 3), padding="same", stride=2),
     r"conv2d: padding='same' needs stride 1"),
    (conv2d_error((1, 3, 5, 5), (8, 3, 3, 3), dilation=(1, 0)),
     r"conv2d: dilation must be positive"),
    (conv2d_error((1, 3, 5, 5), (8, 3, 3, 3), bias_shape=(3,)),
     r"conv2d: bias must have shape \(8,\)"),
    (conv2d_error((3, 5, 5, 5, 1), (8, 3, 3, 3)),
     r"conv2d: expected a 3-D \(unbatched\) or 4-D \(batched\) input, got shape"),
    (conv2d_error((1, 3, 5, 5), (8, 3, 3)), r"conv2d: weight must be 4-D"),
])
def test_conv_errors_name_the_problem(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_conv_dtype_mismatch_is_an_error_not_a_silent_cast():
    x, w = np.zeros((1, 3, 5, 5), np.float32), np.zeros((8, 3, 3, 3))
    with pytest.raises(ValueError, match="conv2d: input float32, weight float64 must have"):
        ck.conv2d_forward(x, w)


def test_conv_channels_last_entry_checks_dimensions():
    with pytest.raises(ValueError, match=r"conv2d: expected a 4-D channels-last input"):
        ck.conv_forward_channels_last(np.zeros((5, 5, 3)), np.zeros((8, 3, 3, 3)))


# --------------------------------------------------------------------------- max pool

@st.composite
def pool_cases(draw, d, dilation=True):
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(d))
    stride = (None if draw(st.booleans())
              else tuple(draw(st.integers(1, 3)) for _ in range(d)))
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    dil = tuple(draw(st.integers(1, 2)) for _ in range(d)) if dilation else (1,) * d
    size = tuple(max(1, dl * (k - 1) + 1 - 2 * p + draw(st.integers(0, 5)))
                 for k, dl, p in zip(kernel, dil, padding))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)), *size)
    if draw(st.booleans()):     # small integers: many ties
        x = rng.integers(-2, 3, shape).astype(np.float64)
    else:
        x = rng.standard_normal(shape)
    params = dict(kernel_size=kernel, stride=stride, padding=padding,
                  ceil_mode=draw(st.booleans()))
    if dilation:
        params["dilation"] = dil
    return x, params


def has_window_without_input(x, params):
    """Dilation can make a window step over a tiny input and see only padding.
    PyTorch then reports -inf with a placeholder index past the window's start,
    and its backward adds the gradient at that index, which lies outside the
    input (another row or plane gets it); ours drops it. Those cases are
    tested on their own below."""
    windows = pk.max_pool2d_forward if x.ndim == 4 else pk.max_pool1d_forward
    saved = windows(x, **params)[1].plan.windows
    for n, k, s, dil, pad, out in zip(saved.in_size, saved.kernel, saved.stride,
                                      saved.dilation, saved.pad_lo, saved.out_size):
        for o in range(out):
            if not any(0 <= o * s - pad + j * dil < n for j in range(k)):
                return True
    return False


def check_max_pool(forward, torch_pool, x, params):
    assume(not has_window_without_input(x, params))
    expected, grad_out, (expected_grad,) = torch_vjp(lambda t: torch_pool(t, **params), [x])
    _, indices = torch_pool(torch.from_numpy(x), return_indices=True, **params)
    out, saved = forward(x, **params)
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(pk.max_pool_indices(saved), indices.numpy())
    assert_close(pk.max_pool_backward(grad_out, saved), expected_grad)


@FEW
@given(pool_cases(2))
def test_max_pool2d_matches_torch_including_ties(case):
    check_max_pool(pk.max_pool2d_forward, F.max_pool2d, *case)


@FEW
@given(pool_cases(1))
def test_max_pool1d_matches_torch(case):
    check_max_pool(pk.max_pool1d_forward, F.max_pool1d, *case)


def test_max_pool2d_kernel_2_ties_go_to_the_first_quadrant():
    x = np.ones((1, 1, 2, 4))
    x[0, 0, 1, 3] = 0.0          # second window: three tied maxima, one smaller cell
    out, saved = pk.max_pool2d_forward(x, 2)
    grad = pk.max_pool2d_backward(np.array([[[[1.0, 2.0]]]]), saved)
    np.testing.assert_array_equal(grad, [[[[1.0, 0.0, 2.0, 0.0], [0.0, 0.0, 0.0, 0.0]]]])
    _, grad_out, (expected,) = torch_vjp(lambda t: F.max_pool2d(t, 2), [x])
    assert_close(pk.max_pool2d_backward(grad_out, saved), expected)


@pytest.mark.parametrize("params", [dict(kernel_size=2),
                                    dict(kernel_size=3, stride=1, padding=1),
                                    dict(kernel_size=2, stride=1, dilation=2)])
def test_max_pool2d_nan_and_minus_inf_follow_torch(params):
    """NaN propagates and takes the gradient (the last NaN of a window); a
    window whose real cells are all -inf routes to its first real cell, never
    to the padding."""
    x = np.random.default_rng(6).integers(0, 3, (1, 2, 6, 6)).astype(np.float64)
    x[0, 0, 0, :3] = np.nan
    x[0, 0, 3, 3] = np.nan
    x[0, 1, :3, :3] = -np.inf
    expected, grad_out, (expected_grad,) = torch_vjp(lambda t: F.max_pool2d(t, **params), [x])
    _, indices = F.max_pool2d(torch.from_numpy(x), return_indices=True, **params)
    out, saved = pk.max_pool2d_forward(x, **params)
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(pk.max_pool_indices(saved), indices.numpy())
    assert_close(pk.max_pool2d_backward(grad_out, saved), expected_grad)


def test_max_pool_backward_survives_an_in_place_edit_of_the_output():
    """A ReLU(inplace=True) after the pool must not change where gradients go."""
    x = np.random.default_rng(12).standard_normal((2, 3, 6, 6))
    _, grad_out, (expected,) = torch_vjp(lambda t: F.max_pool2d(t, 2), [x])
    out, saved = pk.max_pool2d_forward(x, 2)
    np.maximum(out, 0, out=out)
    assert_close(pk.max_pool2d_backward(grad_out, saved), expected)


def test_max_pool_window_without_input_cells():
    """A 1-cell input, kernel 2, dilation 2, padding 1: the window reads two pad
    cells. Value -inf and index as PyTorch; no gradient reaches the input
    (PyTorch writes it at the out-of-plane index 1, into the next channel)."""
    x = np.array([[[0.5], [0.7]]])
    params = dict(kernel_size=2, padding=1, dilation=2)
    expected, indices = F.max_pool1d(torch.from_numpy(x), return_indices=True, **params)
    out, saved = pk.max_pool1d_forward(x, **params)
    np.testing.assert_array_equal(out, expected.numpy())
    np.testing.assert_array_equal(pk.max_pool_indices(saved), indices.numpy())
    np.testing.assert_array_equal(pk.max_pool1d_backward(np.ones_like(out), saved),
                                  np.zeros_like(x))


def test_max_pool2d_float32_and_unbatched():
    x = np.random.default_rng(7).standard_normal((3, 9, 7)).astype(np.float32)
    params = dict(kernel_size=3, stride=2, padding=1)
    expected, grad_out, (expected_grad,) = torch_vjp(lambda t: F.max_pool2d(t, **params), [x])
    out, saved = pk.max_pool2d_forward(x, **params)
    assert out.dtype == np.float32 and out.shape == expected.shape
    np.testing.assert_array_equal(out, expected)
    assert_close(pk.max_pool2d_backward(grad_out, saved), expected_grad, 1e-6, 1e-6)


def test_pools_keep_channels_last_memory():
    x = np.random.default_rng(8).standard_normal((2, 4, 6, 6))
    x_cl = np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    for forward, params in [(pk.max_pool2d_forward, dict(kernel_size=2)),
                            (pk.max_pool2d_forward, dict(kernel_size=3, stride=2, padding=1)),
                            (pk.avg_pool2d_forward, dict(kernel_size=3, stride=2, padding=1))]:
        out, _ = forward(x_cl, **params)
        assert np.moveaxis(out, 1, -1).flags.c_contiguous
        assert_close(out, forward(x, **params)[0])


# --------------------------------------------------------------------------- avg pool

@FEW
@given(pool_cases(2, dilation=False), st.booleans(), st.sampled_from([None, 1, 5]))
def test_avg_pool2d_matches_torch(case, count_include_pad, divisor_override):
    x, params = case
    params = dict(params, count_include_pad=count_include_pad,
                  divisor_override=divisor_override)
    expected, grad_out, (expected_grad,) = torch_vjp(lambda t: F.avg_pool2d(t, **params), [x])
    out, saved = pk.avg_pool2d_forward(x, **params)
    assert_close(out, expected)
    assert_close(pk.avg_pool2d_backward(grad_out, saved), expected_grad)


@FEW
@given(pool_cases(1, dilation=False), st.booleans())
def test_avg_pool1d_matches_torch(case, count_include_pad):
    x, params = case
    params = dict(params, count_include_pad=count_include_pad)
    expected, grad_out, (expected_grad,) = torch_vjp(lambda t: F.avg_pool1d(t, **params), [x])
    out, saved = pk.avg_pool1d_forward(x, **params)
    assert_close(out, expected)
    assert_close(pk.avg_pool1d_backward(grad_out, saved), expected_grad)


def test_avg_pool2d_float32():
    x = np.random.default_rng(9).standard_normal((2, 3, 8, 8)).astype(np.float32)
    params = dict(kernel_size=3, stride=2, padding=1)
    expected, grad_out, (expected_grad,) = torch_vjp(lambda t: F.avg_pool2d(t, **params), [x])
    out, saved = pk.avg_pool2d_forward(x, **params)
    assert out.dtype == np.float32
    assert_close(out, expected, 1e-5, 1e-6)
    assert_close(pk.avg_pool2d_backward(grad_out, saved), expected_grad, 1e-5, 1e-6)


# --------------------------------------------------------------------------- adaptive

@FEW
@given(st.integers(1, 9), st.integers(1, 9), st.integers(1, 9), st.integers(1, 9),
       st.booleans(), st.booleans())
def test_adaptive_avg_pool2d_matches_torch(h, w, out_h, out_w, keep_w, unbatched):
    """Sizes that do not divide give overlapping bins; larger outputs repeat cells."""
    x = np.random.default_rng(h * 10 + w).standard_normal((3, h, w) if unbatched
                                                          else (2, 3, h, w))
    output_size = (out_h, None if keep_w else out_w)
    expected, grad_out, (expected_grad,) = torch_vjp(
        lambda t: F.adaptive_avg_pool2d(t, output_size), [x])
    out, saved = pk.adaptive_avg_pool2d_forward(x, output_size)
    assert_close(out, expected)
    assert_close(pk.adaptive_avg_pool2d_backward(grad_out, saved), expected_grad)


@pytest.mark.parametrize("size, out", [(7, 3), (5, 5), (4, 6), (10, 1)])
def test_adaptive_avg_pool1d_matches_torch(size, out):
    x = np.random.default_rng(10).standard_normal((2, 3, size))
    expected, grad_out, (expected_grad,) = torch_vjp(
        lambda t: F.adaptive_avg_pool1d(t, out), [x])
    result, saved = pk.adaptive_avg_pool1d_forward(x, out)
    assert_close(result, expected)
    assert_close(pk.adaptive_avg_pool1d_backward(grad_out, saved), expected_grad)


def test_adaptive_avg_pool2d_float32_int_output_size():
    x = np.random.default_rng(11).standard_normal((2, 4, 7, 5)).astype(np.float32)
    expected, grad_out, (expected_grad,) = torch_vjp(
        lambda t: F.adaptive_avg_pool2d(t, 3), [x])
    out, saved = pk.adaptive_avg_pool2d_forward(x, 3)
    assert out.dtype == np.float32
    assert_close(out, expected, 1e-5, 1e-6)
    assert_close(pk.adaptive_avg_pool2d_backward(grad_out, saved), expected_grad, 1e-5, 1e-6)


# --------------------------------------------------------------------------- pool errors

@pytest.mark.parametrize("call, message", [
    (lambda x: pk.max_pool2d_forward(x, 3, padding=2),
     r"max_pool2d: padding must be at most half the kernel size, got padding \(2, 2\) for "
     r"kernel_size \(3, 3\)"),
    (lambda x: pk.max_pool2d_forward(x, 6),
     r"max_pool2d: kernel size 6 x 6 is larger than the padded input 5 x 5"),
    (lambda x: pk.max_pool2d_forward(x, 3, dilation=3, ceil_mode=True),
     r"max_pool2d: kernel size 3 x 3 \(dilated: 7 x 7\) is larger than the padded input 5 x 5"),
    (lambda x: pk.max_pool2d_forward(x, 0), r"max_pool2d: kernel_size must be positive"),
    (lambda x: pk.max_pool2d_forward(x, (2, 2, 2)),
     r"max_pool2d: kernel_size must be an int or a tuple of 2 ints"),
    (lambda x: pk.max_pool2d_forward(x, 2, stride=0), r"max_pool2d: stride must be positive"),
    (lambda x: pk.max_pool2d_forward(x[0, 0], 2),
     r"max_pool2d: expected a 3-D \(unbatched\) or 4-D \(batched\) input, got shape \(5, 5\)"),
    (lambda x: pk.avg_pool2d_forward(x, 2, padding=-1), r"avg_pool2d: padding must be non-neg"),
    (lambda x: pk.avg_pool2d_forward(x.astype(np.int64), 2),
     r"avg_pool2d: input must be a floating-point array, got dtype int64"),
    (lambda x: pk.avg_pool2d_forward(x, 2, divisor_override=0),
     r"avg_pool2d: divisor_override must be a positive int"),
    (lambda x: pk.adaptive_avg_pool2d_forward(x, (0, 2)),
     r"adaptive_avg_pool2d: output_size must be positive"),
    (lambda x: pk.adaptive_avg_pool2d_forward(x, (2, 2, 2)),
     r"adaptive_avg_pool2d: output_size must be an int or a tuple of 2 ints"),
])
def test_pool_errors_name_the_problem(call, message):
    with pytest.raises(ValueError, match=message):
        call(np.zeros((1, 2, 5, 5)))


# --------------------------------------------------------------------------- CNN benchmark reference

@pytest.mark.parametrize("dtype, rtol, atol", [(np.float64, 1e-10, 1e-12),
                                               (np.float32, 1e-4, 1e-6)])
def test_cnn_reference_numpy_step_matches_pytorch(dtype, rtol, atol):
    """Same weights, same batch: the same loss, gradients and updated weights over
    three SGD steps (the later ones reuse every preallocated buffer)."""
    problem = cnn_reference.make_problem(batch=6, dtype=dtype, seed=3)
    reference = cnn_reference.NumpyCNN(problem, lr=0.5)
    oracle = cnn_reference.ModuleCNN(torch, problem, lr=0.5)
    for _ in range(3):
        np.testing.assert_allclose(reference.step(), oracle.step().item(), rtol=rtol)
        for mine, theirs in zip(reference.grads(), oracle.grads()):
            assert_close(mine, theirs, rtol, atol)
        for mine, theirs in zip(reference.params(), oracle.params()):
            assert_close(mine, theirs, rtol, atol)


def test_cnn_reference_numpy_pool_routes_ties_like_pytorch():
    """Zero inputs make every ReLU output 0: all max-pool windows tie."""
    problem = cnn_reference.make_problem(batch=2, dtype=np.float64, seed=4)
    problem.x[:] = 0.0
    problem.params[1][:8] = -1.0     # half the first layer's units are dead
    reference = cnn_reference.NumpyCNN(problem)
    oracle = cnn_reference.ModuleCNN(torch, problem)
    np.testing.assert_allclose(reference.step(), oracle.step().item(), rtol=1e-12)
    for mine, theirs in zip(reference.grads(), oracle.grads()):
        assert_close(mine, theirs)


def test_cnn_reference_factories_build_the_benchmark_steps():
    numpy_step = cnn_reference.make_numpy_step(seed=0)
    torch_step = cnn_reference.make_torch_step(seed=0)
    assert numpy_step.__self__.x.shape == (64, 8, 8, 1)
    np.testing.assert_allclose(numpy_step(), torch_step().item(), rtol=1e-5)
