"""The convolution gates (``conv``, ``conv_transpose``, ``conv_weight_grad``) as
autograd ops, against PyTorch in float64.

The registry tests run each gate on its own samples (values, first and second
order, finite differences, jvp against vjp). Here hypothesis draws the
stride/padding/dilation/groups combinations: value and the gradients of
input, weight and bias for a random upstream gradient, then second order
(the gradient of <grad, v> with respect to every input and to the upstream
gradient) through ``create_graph``; forward mode against torch.func; the
in-place checks on the saved input and weight; and what is computed when
only some inputs need a gradient.
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr
from chainrule import ops
from oracle import to_numpy, to_torch

FEW = settings(max_examples=20, deadline=None)
RTOL, ATOL = 1e-10, 1e-12
TORCH_CONV = {1: F.conv1d, 2: F.conv2d}


@st.composite
def conv_cases(draw, d):
    """(x, w, b, options) for a d-dimensional convolution that torch accepts."""
    groups = draw(st.integers(1, 3))
    c_group, c_out_group = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    kernel = [draw(st.integers(1, 3)) for _ in range(d)]
    stride = tuple(draw(st.integers(1, 3)) for _ in range(d))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(d))
    padding = tuple(draw(st.integers(0, 2)) for _ in range(d))
    size = [max(1, dil * (k - 1) + 1 - 2 * p + draw(st.integers(0, 3)))
            for k, dil, p in zip(kernel, dilation, padding)]
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    batch = () if draw(st.booleans()) and d == 2 else (draw(st.integers(1, 2)),)
    x = rng.standard_normal((*batch, groups * c_group, *size))
    w = rng.standard_normal((groups * c_out_group, c_group, *kernel))
    b = rng.standard_normal(groups * c_out_group) if draw(st.booleans()) else None
    return x, w, b, dict(stride=stride, padding=padding, dilation=dilation, groups=groups)


def both(x, w, b):
    """The chainrule and torch leaves for x, w, b (b may be None)."""
    ours = [None if a is None else cr.tensor(a, requires_grad=True) for a in (x, w, b)]
    theirs = [None if a is None else to_torch(a, requires_grad=True) for a in (x, w, b)]
    return ours, theirs


def present(tensors):
    return [t for t in tensors if t is not None]


def assert_close(ours, theirs, what):
    ours, theirs = to_numpy(ours), to_numpy(theirs)
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape}, torch {theirs.shape}"
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL, err_msg=what)


def check_first_and_second_order(case, d):
    x, w, b, options = case
    (cx, cw, cb), (tx, tw, tb) = both(x, w, b)
    out = ops.conv(cx, cw, cb, **options)
    expected = TORCH_CONV[d](tx, tw, tb, **options)
    assert_close(out, expected, "value")

    rng = np.random.default_rng(0)
    upstream = rng.standard_normal(out.shape)
    cv, tv = cr.tensor(upstream, requires_grad=True), to_torch(upstream, requires_grad=True)
    ours = cr.autograd.grad(out, present([cx, cw, cb]), grad_outputs=cv, create_graph=True)
    theirs = torch.autograd.grad(expected, present([tx, tw, tb]), grad_outputs=tv,
                                 create_graph=True)
    for name, g, t in zip(["x", "w", "b"], ours, theirs):
        assert_close(g, t, f"gradient of {name}")

    # second order: d<grad, r>/d(x, w, upstream) for random r
    rs = [rng.standard_normal(g.shape) for g in ours]
    our_dot = sum((g * cr.tensor(r)).sum() for g, r in zip(ours, rs))
    their_dot = sum((g * to_torch(r)).sum() for g, r in zip(theirs, rs))
    our_second = cr.autograd.grad(our_dot, [cx, cw, cv], allow_unused=True)
    their_second = torch.autograd.grad(their_dot, [tx, tw, tv], allow_unused=True)
    for name, g, t, like in zip(["x", "w", "upstream"], our_second, their_second,
                                [x, w, upstream]):
        g = np.zeros(like.shape) if g is None else g
        t = np.zeros(like.shape) if t is None else t
        assert_close(g, t, f"second derivative with respect to {name}")


@FEW
@given(conv_cases(2))
def test_conv2d_first_and_second_order_match_torch(case):
    check_first_and_second_order(case, 2)


@FEW
@given(conv_cases(1))
def test_conv1d_first_and_second_order_match_torch(case):
    check_first_and_second_order(case, 1)


@pytest.mark.parametrize("padding", ["same", "valid"])
def test_string_padding_gradients_match_torch(padding, rng):
    x, w, b = rng.standard_normal((2, 3, 6, 5)), rng.standard_normal((4, 3, 2, 3)), None
    options = dict(padding=padding, dilation=(2, 1))     # 'same' with an odd total padding
    check_first_and_second_order((x, w, b, options), 2)


def test_forward_mode_matches_torch_func(rng):
    x, w, b = (rng.standard_normal(s) for s in ((2, 4, 6, 5), (6, 2, 3, 3), (6,)))
    x_dot, w_dot, b_dot = (rng.standard_normal(a.shape) for a in (x, w, b))
    options = dict(stride=(2, 1), padding=1, groups=2)

    def ours(x, w, b):
        return ops.conv(x, w, b, **options)

    out, out_dot = cr.func.jvp(ours, (x, w, b), (x_dot, w_dot, b_dot))
    t_out, t_dot = torch.func.jvp(lambda x, w, b: F.conv2d(x, w, b, **options),
                                  tuple(map(to_torch, (x, w, b))),
                                  tuple(map(to_torch, (x_dot, w_dot, b_dot))))
    assert_close(out, t_out, "value")
    assert_close(out_dot, t_dot, "tangent")
    # a tangent in the bias alone broadcasts over batch and positions
    _, bias_only = cr.func.jvp(lambda b: ops.conv(x, w, b, **options), (b,), (b_dot,))
    assert_close(bias_only, torch.from_numpy(b_dot).reshape(1, -1, 1, 1).expand(t_out.shape),
                 "bias tangent")


def test_hessian_vector_product_of_a_conv_net_matches_torch(rng):
    """Forward over reverse through two convolutions and a nonlinearity."""
    x = rng.standard_normal((2, 2, 6, 6))
    w1, w2 = rng.standard_normal((3, 2, 3, 3)), rng.standard_normal((2, 3, 2, 2))
    v1, v2 = rng.standard_normal(w1.shape), rng.standard_normal(w2.shape)

    def ours(w1, w2):
        hidden = cr.tanh(ops.conv(x, w1, None, padding=1))
        return (ops.conv(hidden, w2, None, stride=2) ** 2).sum()

    def theirs(w1, w2):
        hidden = torch.tanh(F.conv2d(to_torch(x), w1, None, padding=1))
        return (F.conv2d(hidden, w2, None, stride=2) ** 2).sum()

    _, hvp = cr.func.hvp(ours, (w1, w2), (v1, v2))
    _, t_hvp = torch.func.jvp(torch.func.grad(theirs, argnums=(0, 1)),
                              (to_torch(w1), to_torch(w2)), (to_torch(v1), to_torch(v2)))
    for got, want, name in zip(hvp, t_hvp, ["w1", "w2"]):
        assert_close(got, want, f"Hessian-vector product for {name}")


def test_only_the_gradients_asked_for_are_computed(rng):
    x = cr.tensor(rng.standard_normal((2, 3, 5, 5)))                 # data: no gradient
    w = cr.tensor(rng.standard_normal((4, 3, 3, 3)), requires_grad=True)
    out = ops.conv(x, w, None, padding=1)
    node = out.grad_fn
    assert node.needs_input_grad == (False, True, False)
    assert node.w is None       # grad_x is not needed, so the weight is not kept
    grad_x, grad_w, grad_b = node.op.vjp(node, np.ones(out.shape))
    assert grad_x is None and grad_b is None and grad_w.shape == (4, 3, 3, 3)


@pytest.mark.parametrize("edit, message", [
    ("weight", r"ConvBackward .* saved its input 1 as 'w'"),
    ("input", r"ConvBackward .* saved its input 0 as 'x'"),
])
def test_in_place_edit_of_a_saved_input_is_caught(edit, message, rng):
    x = cr.tensor(rng.standard_normal((1, 2, 4, 4)), requires_grad=True)
    w = cr.tensor(rng.standard_normal((3, 2, 1, 1)), requires_grad=True)  # 1x1: a view of w
    out = ops.conv(x, w, None)
    with cr.no_grad():
        (w if edit == "weight" else x).mul_(2.0)
    with pytest.raises(RuntimeError, match=message):
        out.sum().backward()


def test_float32_stays_float32(rng):
    x = cr.tensor(rng.standard_normal((2, 3, 5, 5)).astype(np.float32), requires_grad=True)
    w = cr.tensor(rng.standard_normal((4, 3, 3, 3)).astype(np.float32), requires_grad=True)
    b = cr.tensor(rng.standard_normal(4).astype(np.float32), requires_grad=True)
    out = ops.conv(x, w, b, stride=2)
    out.backward(cr.tensor(rng.standard_normal(out.shape).astype(np.float32)))
    assert out.dtype == cr.float32
    assert x.grad.dtype == w.grad.dtype == b.grad.dtype == cr.float32


def test_adjoint_identity_holds(rng):
    """<conv(x, w), g> = <x, conv_transpose(g, w)> = <w, conv_weight_grad(x, g)>."""
    options = dict(stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2)
    x, w = rng.standard_normal((2, 4, 7, 6)), rng.standard_normal((6, 2, 3, 2))
    out = ops.conv(x, w, None, **options)
    g = rng.standard_normal(out.shape)
    lhs = np.sum(out * g)
    via_x = np.sum(x * ops.conv_transpose(g, w, input_size=x.shape, **options))
    via_w = np.sum(w * ops.conv_weight_grad(x, g, weight_size=w.shape, **options))
    assert via_x == pytest.approx(lhs, rel=1e-12)
    assert via_w == pytest.approx(lhs, rel=1e-12)


@pytest.mark.parametrize("call, message", [
    (lambda: ops.conv(np.zeros((1, 4, 5, 5)), np.zeros((8, 3, 3, 3))),
     r"conv2d: expected input with 3 channels \(weight has 3 x groups 1\), got 4 channels"),
    (lambda: ops.conv(np.zeros((1, 3, 2, 2)), np.zeros((8, 3, 3, 3))),
     r"conv2d: kernel size 3 x 3 is larger than the padded input 2 x 2"),
    (lambda: ops.conv(np.zeros((1, 3, 5)), np.zeros((8, 3))),
     r"conv: weight must be 3-D, 4-D or 5-D .* got shape \(8, 3\)"),
    (lambda: ops.conv_transpose(np.zeros((1, 8, 4, 4)), np.zeros((8, 3, 3, 3)),
                                input_size=(1, 3, 5, 5)),
     r"conv_transpose: the upstream gradient g has shape \(1, 8, 4, 4\), but the convolution "
     r"it belongs to produces shape \(1, 8, 3, 3\)"),
    (lambda: ops.conv_weight_grad(np.zeros((1, 3, 5, 5)), np.zeros((1, 8, 5, 5)),
                                  weight_size=(8, 3, 3, 3)),
     r"conv_weight_grad: the upstream gradient g has shape \(1, 8, 5, 5\), but the "
     r"convolution it belongs to produces shape \(1, 8, 3, 3\)"),
])
def test_errors_name_the_problem(call, message):
    with pytest.raises(ValueError, match=message):
        call()
