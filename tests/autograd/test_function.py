"""autograd.Function: the custom gate with PyTorch's ctx API."""
import gc
import weakref

import numpy as np
import pytest
import torch

import chainrule as cr


class Cube(cr.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out * 3 * x ** 2


class ExpSavingOutput(cr.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        y = x.exp()
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_out):
        (y,) = ctx.saved_tensors
        return grad_out * y


class ScaleAndShift(cr.autograd.Function):
    """Two outputs, a non-tensor argument, needs_input_grad."""

    @staticmethod
    def forward(ctx, x, w, k):
        ctx.k = k
        ctx.save_for_backward(x, w)
        return x * w * k, x + w

    @staticmethod
    def backward(ctx, g1, g2):
        x, w = ctx.saved_tensors
        gx = g1 * w * ctx.k + g2 if ctx.needs_input_grad[0] else None
        gw = g1 * x * ctx.k + g2 if ctx.needs_input_grad[1] else None
        return gx, gw, None


def leaf(v):
    return cr.tensor(v, dtype=cr.float64, requires_grad=True)


def test_custom_gate_gradient_and_grad_fn_name():
    x = leaf([1.0, 2.0])
    y = Cube.apply(x)
    assert y.grad_fn.name == "CubeBackward"
    y.sum().backward()
    assert np.allclose(x.grad.numpy(), [3.0, 12.0])


def test_custom_gate_second_derivative_through_create_graph():
    x = leaf([1.0, 2.0])
    (g,) = cr.autograd.grad(ExpSavingOutput.apply(x).sum(), x, create_graph=True)
    (h,) = cr.autograd.grad(g.sum(), x)
    assert np.allclose(h.numpy(), np.exp([1.0, 2.0]))


def test_two_outputs_and_needs_input_grad_match_torch():
    rng = np.random.default_rng(1)
    xv, wv, g1, g2 = (rng.standard_normal(3) for _ in range(4))
    x, w = leaf(xv), cr.tensor(wv, dtype=cr.float64)
    a, b = ScaleAndShift.apply(x, w, 2.5)
    cr.autograd.backward([a, b], [cr.tensor(g1), cr.tensor(g2)])
    xt = torch.tensor(xv, requires_grad=True)
    at, bt = xt * torch.tensor(wv) * 2.5, xt + torch.tensor(wv)
    torch.autograd.backward([at, bt], [torch.tensor(g1), torch.tensor(g2)])
    assert np.allclose(x.grad.numpy(), xt.grad.numpy()) and w.grad is None


def test_an_unused_output_gets_a_zero_gradient():
    x, w = leaf([1.0]), leaf([2.0])
    a, _ = ScaleAndShift.apply(x, w, 1.0)
    a.sum().backward()
    assert np.allclose(x.grad.numpy(), [2.0])


def test_saving_the_output_makes_no_reference_cycle():
    gc.collect()
    gc.disable()
    try:
        x = leaf([1.0, 2.0])
        y = ExpSavingOutput.apply(x)
        refs = [weakref.ref(y), weakref.ref(y.grad_fn)]
        del y
        assert all(r() is None for r in refs)
    finally:
        gc.enable()


def test_modifying_a_saved_tensor_is_caught():
    x = leaf([1.0, 2.0])
    h = x * 1
    y = ExpSavingOutput.apply(h)
    y.add_(1)
    with pytest.raises(RuntimeError, match=r"ExpSavingOutputBackward.*modified in place"):
        y.sum().backward()


def test_backward_returning_a_wrong_shape_is_an_error():
    class Bad(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g.sum()

    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"Bad.backward returned a gradient of shape \(\)"):
        Bad.apply(x).sum().backward()


def test_mark_non_differentiable():
    class ArgmaxAndValue(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            idx = cr.tensor(np.argmax(x.data))
            ctx.mark_non_differentiable(idx)
            ctx.save_for_backward(x)
            ctx.idx = int(idx.item())
            return x.amax() if hasattr(x, "amax") else x.max(), idx

        @staticmethod
        def backward(ctx, g, _):
            (x,) = ctx.saved_tensors
            out = np.zeros(x.shape)
            out[ctx.idx] = g.item()
            return cr.tensor(out)

    x = leaf([1.0, 5.0, 2.0])
    v, i = ArgmaxAndValue.apply(x)
    assert not i.requires_grad and v.requires_grad
    v.backward()
    assert x.grad.tolist() == [0.0, 1.0, 0.0]


def test_forward_runs_without_recording():
    class Probe(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            inner = x * 2
            assert inner.grad_fn is None
            return inner

        @staticmethod
        def backward(ctx, g):
            return g * 2

    Probe.apply(leaf([1.0])).sum().backward()
