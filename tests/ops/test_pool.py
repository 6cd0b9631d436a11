"""The pooling gates as autograd ops, against PyTorch in float64.

The registry tests run each gate on its own samples. Here hypothesis draws
kernel/stride/padding/dilation/ceil_mode combinations: values and the input
gradient for a random upstream gradient, then second order through
``create_graph`` (for max pooling the route is a constant, so the second
derivative lives in the upstream gradient: the scatter's gradient is the
gather). Max pooling is drawn on small integers, so windows hold ties and
PyTorch's tie rule (the first maximum in the window) is checked on every
example. Also: ``return_indices``, forward mode, in-place edits of the
pooled input, and bad input.
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import chainrule as cr
from chainrule import ops
from oracle import to_numpy, to_torch

FEW = settings(max_examples=25, deadline=None)
RTOL, ATOL = 1e-10, 1e-12


@st.composite
def pool_cases(draw, dilation=True, ties=False):
    """(x, options) for a 2-D pool that PyTorch accepts."""
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(2))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(2))
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    dil = tuple(draw(st.integers(1, 2)) for _ in range(2)) if dilation else (1, 1)
    size = tuple(max(1, d * (k - 1) + 1 - 2 * p + draw(st.integers(0, 3)))
                 for k, d, p in zip(kernel, dil, padding))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    shape = ((draw(st.integers(1, 2)),) if draw(st.booleans()) else ()) + (2, *size)
    x = rng.integers(-2, 3, size=shape).astype(float) if ties else rng.standard_normal(shape)
    options = dict(kernel_size=kernel, stride=stride, padding=padding,
                   ceil_mode=draw(st.booleans()))
    if dilation:
        options["dilation"] = dil
    return x, options


def assert_close(ours, theirs, what):
    ours, theirs = to_numpy(ours), to_numpy(theirs)
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape}, torch {theirs.shape}"
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL, err_msg=what)


def check_first_and_second_order(our_pool, torch_pool, x):
    cx, tx = cr.tensor(x, requires_grad=True), to_torch(x, requires_grad=True)
    out, expected = our_pool(cx), torch_pool(tx)
    assert_close(out, expected, "value")
    rng = np.random.default_rng(1)
    upstream = rng.standard_normal(out.shape)
    cv, tv = cr.tensor(upstream, requires_grad=True), to_torch(upstream, requires_grad=True)
    (grad,) = cr.autograd.grad(out, [cx], grad_outputs=cv, create_graph=True)
    (t_grad,) = torch.autograd.grad(expected, [tx], grad_outputs=tv, create_graph=True)
    assert_close(grad, t_grad, "gradient")
    r = rng.standard_normal(x.shape)
    (second,) = cr.autograd.grad((grad * cr.tensor(r)).sum(), [cv])
    (t_second,) = torch.autograd.grad((t_grad * to_torch(r)).sum(), [tv])
    assert_close(second, t_second, "second derivative with respect to the upstream gradient")


def has_window_without_input(x, options):
    """Dilation can step a window over every cell of a tiny input; PyTorch
    then sends that window's gradient to a cell outside the input, which
    only its own indices can name (tested on its own below)."""
    probe = torch.zeros((1, 1) + x.shape[-2:])
    value = F.max_pool2d(probe, **options)
    return bool(torch.isinf(value).any())


@FEW
@given(pool_cases(ties=True))
def test_max_pool2d_matches_torch_including_ties(case):
    x, options = case
    assume(not has_window_without_input(x, options))
    check_first_and_second_order(lambda t: ops.max_pool2d(t, **options),
                                 lambda t: F.max_pool2d(t, **options), x)
    indices = ops.max_pool2d_indices(x, **options)
    _, t_indices = F.max_pool2d(to_torch(x), return_indices=True, **options)
    np.testing.assert_array_equal(indices, t_indices.numpy())
    assert indices.dtype == np.int64


@FEW
@given(pool_cases(dilation=False), st.booleans(), st.sampled_from([None, 1, 5]))
def test_avg_pool2d_matches_torch(case, count_include_pad, divisor_override):
    x, options = case
    options.update(count_include_pad=count_include_pad, divisor_override=divisor_override)
    check_first_and_second_order(lambda t: ops.avg_pool2d(t, **options),
                                 lambda t: F.avg_pool2d(t, **options), x)


@FEW
@given(st.integers(1, 7), st.integers(1, 7), st.integers(1, 5), st.integers(1, 5),
       st.booleans())
def test_adaptive_avg_pool2d_matches_torch(h, w, out_h, out_w, keep_w):
    x = np.random.default_rng(h * 10 + w).standard_normal((2, 3, h, w))
    size = (out_h, None if keep_w else out_w)
    check_first_and_second_order(lambda t: ops.adaptive_avg_pool2d(t, output_size=size),
                                 lambda t: F.adaptive_avg_pool2d(t, size), x)


def test_max_pool2d_indices_of_a_window_without_input_cells():
    x = np.arange(2.0).reshape(1, 1, 1, 2)
    options = dict(kernel_size=(1, 2), stride=1, padding=(0, 1), dilation=(1, 3))
    _, t_indices = F.max_pool2d(to_torch(x), return_indices=True, **options)
    np.testing.assert_array_equal(ops.max_pool2d_indices(x, **options), t_indices.numpy())


def test_forward_mode_matches_torch_func(rng):
    x, x_dot = rng.standard_normal((2, 3, 7, 6)), rng.standard_normal((2, 3, 7, 6))
    pools = [
        (lambda t: ops.max_pool2d(t, kernel_size=3, stride=2, padding=1),
         lambda t: F.max_pool2d(t, kernel_size=3, stride=2, padding=1)),
        (lambda t: ops.avg_pool2d(t, kernel_size=2, ceil_mode=True),
         lambda t: F.avg_pool2d(t, kernel_size=2, ceil_mode=True)),
        (lambda t: ops.adaptive_avg_pool2d(t, output_size=(3, 4)),
         lambda t: F.adaptive_avg_pool2d(t, (3, 4))),
    ]
    for ours, theirs in pools:
        out, out_dot = cr.func.jvp(ours, (x,), (x_dot,))
        t_out, t_dot = torch.func.jvp(theirs, (to_torch(x),), (to_torch(x_dot),))
        assert_close(out, t_out, "value")
        assert_close(out_dot, t_dot, "tangent")


def test_scatter_and_gather_are_adjoint(rng):
    """<scatter(g), v> = <g, gather(v)> on one route, overlapping windows included."""
    x = rng.standard_normal((2, 3, 7, 7))
    _, route = ops.pool.max_pool2d_route(x, kernel_size=3, stride=1, padding=1)
    g, v = rng.standard_normal(route.output_shape), rng.standard_normal(route.input_shape)
    lhs = np.sum(ops.max_pool2d_scatter(g, route=route) * v)
    assert np.sum(g * ops.max_pool2d_gather(v, route=route)) == pytest.approx(lhs, rel=1e-12)


def test_in_place_edit_of_the_pooled_input_is_caught(rng):
    x = cr.tensor(rng.standard_normal((1, 2, 4, 4)), requires_grad=True)
    y = x * 1.0
    out = ops.max_pool2d(y, kernel_size=2)
    with cr.no_grad():
        y.add_(1.0)
    with pytest.raises(RuntimeError, match=r"MaxPool2dBackward .* saved its input 0 as 'x'"):
        out.sum().backward()


def test_float32_stays_float32(rng):
    x = cr.tensor(rng.standard_normal((2, 3, 6, 6)).astype(np.float32), requires_grad=True)
    for pool in (lambda t: ops.max_pool2d(t, kernel_size=2),
                 lambda t: ops.avg_pool2d(t, kernel_size=3, stride=1, padding=1),
                 lambda t: ops.adaptive_avg_pool2d(t, output_size=4)):
        out = pool(x)
        (grad,) = cr.autograd.grad(out, [x], grad_outputs=cr.ones_like(out))
        assert out.dtype == grad.dtype == cr.float32


@pytest.mark.parametrize("call, message", [
    (lambda: ops.max_pool2d(np.zeros((1, 1, 2, 2)), kernel_size=3),
     r"max_pool2d: kernel size 3 x 3 is larger than the padded input 2 x 2"),
    (lambda: ops.max_pool2d(np.zeros((1, 1, 5, 5)), kernel_size=2, padding=2),
     r"max_pool2d: padding must be at most half the kernel size"),
    (lambda: ops.avg_pool2d(np.zeros((1, 5, 5, 5, 5)), kernel_size=2),
     r"avg_pool2d: expected a 3-D \(unbatched\) or 4-D \(batched\) input"),
    (lambda: ops.adaptive_avg_pool2d(np.zeros((1, 1, 5, 5)), output_size=0),
     r"adaptive_avg_pool2d: output_size must be positive"),
    (lambda: ops.avg_pool2d_transpose(np.zeros((1, 1, 3, 3)), input_size=(1, 1, 4, 4),
                                      kernel_size=2),
     r"avg_pool2d_transpose: g has shape \(1, 1, 3, 3\), but the pool it belongs to needs "
     r"shape \(1, 1, 2, 2\)"),
])
def test_errors_name_the_problem(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_scatter_refuses_a_gradient_of_another_shape():
    _, route = ops.pool.max_pool2d_route(np.zeros((1, 1, 4, 4)), kernel_size=2)
    with pytest.raises(ValueError, match=r"max_pool2d_scatter: g has shape \(1, 1, 4, 4\), "
                                         r"but the pool it belongs to needs shape \(1, 1, 2, 2\)"):
        ops.max_pool2d_scatter(np.zeros((1, 1, 4, 4)), route=route)
