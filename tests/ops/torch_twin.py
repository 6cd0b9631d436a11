"""Run a chainrule function and its PyTorch twin on the same float64 inputs
and compare values, gradients under a random upstream gradient, and second
derivatives (a Hessian-vector product through ``create_graph=True``)."""
import numpy as np
import torch

import chainrule as cr

RTOL, ATOL = 1e-12, 1e-12


def leaves(arrays):
    return ([cr.tensor(a, requires_grad=True) for a in arrays],
            [torch.tensor(a, requires_grad=True) for a in arrays])


def assert_close(ours, theirs):
    ours = ours.detach().numpy() if isinstance(ours, cr.Tensor) else np.asarray(ours)
    theirs = theirs.detach().numpy()
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL)


def check_first_order(fn, torch_fn, *arrays, seed=0):
    """Values of ``fn(*inputs)`` and the gradients of ``<g, fn(*inputs)>`` for a
    random ``g``, against PyTorch."""
    xs, ts = leaves(arrays)
    y, yt = fn(*xs), torch_fn(*ts)
    assert_close(y, yt)
    g = np.random.default_rng(seed).standard_normal(tuple(yt.shape))
    y.backward(cr.tensor(g))
    yt.backward(torch.tensor(g))
    for x, t in zip(xs, ts):
        assert_close(x.grad, t.grad)


def check_second_order(fn, torch_fn, *arrays, seed=0):
    """With L = sum(w * fn(x)**2), the gradient of <dL/dx, v> for random w, v:
    differentiates through the op's backward formula itself."""
    rng = np.random.default_rng(seed)
    xs, ts = leaves(arrays)
    y, yt = fn(*xs), torch_fn(*ts)
    w = rng.standard_normal(tuple(yt.shape))
    vs = [rng.standard_normal(np.shape(a)) for a in arrays]
    grads = cr.autograd.grad((y * y * cr.tensor(w)).sum(), xs, create_graph=True)
    grads_t = torch.autograd.grad((yt * yt * torch.tensor(w)).sum(), ts, create_graph=True)
    for g, gt in zip(grads, grads_t):
        assert_close(g, gt)
    terms = [(g * cr.tensor(v)).sum() for g, v in zip(grads, vs)]
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    total.backward()
    sum((g * torch.tensor(v)).sum() for g, v in zip(grads_t, vs)).backward()
    for x, t in zip(xs, ts):
        assert_close(x.grad, t.grad)
