"""The engine: order, accumulation, leaves, freeing, retain_graph, create_graph."""
import gc
import weakref

import numpy as np
import pytest
import torch

import chainrule as cr


def leaf(v, dtype=cr.float64):
    return cr.tensor(v, dtype=dtype, requires_grad=True)


def test_a_chain_of_a_million_ops_backpropagates_and_is_freed():
    x = leaf(1.0)
    y = x
    for i in range(1_000_000):
        y = y * 1.0000001 if i % 2 else y + 0.5
    ref = weakref.ref(y.grad_fn)
    y.backward()
    assert np.isclose(x.grad.item(), 1.0000001 ** 500_000)
    del y
    assert ref() is None   # freed by reference counting, no recursion


def test_gradients_accumulate_only_into_leaves():
    x = leaf([1.0, 2.0])
    h = x * 3
    y = (h * h).sum()
    y.backward()
    assert h.grad is None and y.grad is None
    assert np.allclose(x.grad.numpy(), 18 * np.array([1.0, 2.0]))


def test_retain_grad_keeps_a_non_leaf_gradient():
    x = leaf([1.0, 2.0])
    h = x * 3
    h.retain_grad()
    (h * h).sum().backward()
    assert np.allclose(h.grad.numpy(), 2 * h.data)


def test_backward_twice_accumulates_into_grad():
    x = leaf(2.0)
    for _ in range(2):
        (x * x).backward()
    assert x.grad.item() == 8.0


def test_second_backward_through_a_freed_graph_names_the_node_and_the_fixes():
    x = leaf(2.0)
    y = (x * x).tanh()
    y.backward()
    with pytest.raises(RuntimeError, match=r"TanhBackward.*test_engine.py:\d+.*"
                                           r"retain_graph=True.*\.detach\(\)"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = leaf(2.0)
    y = (x * x).tanh()
    y.backward(retain_graph=True)
    first = x.grad.item()
    y.backward()
    assert np.isclose(x.grad.item(), 2 * first)


def test_broadcast_inputs_receive_gradients_summed_back_to_their_shape():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((4, 1, 3)), rng.standard_normal((2, 1))
    g = rng.standard_normal((4, 2, 3))
    x, y = leaf(a), leaf(b)
    (x * y + y).backward(cr.tensor(g))
    xt, yt = (torch.tensor(v, requires_grad=True) for v in (a, b))
    (xt * yt + yt).backward(torch.tensor(g))
    assert x.grad.shape == (4, 1, 3) and y.grad.shape == (2, 1)
    assert np.allclose(x.grad.numpy(), xt.grad.numpy())
    assert np.allclose(y.grad.numpy(), yt.grad.numpy())


def test_non_scalar_backward_without_gradient_says_what_to_pass():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"shape \(2,\).*gradient=.*y.sum\(\).backward\(\)"):
        (x * 2).backward()


def test_gradient_of_the_wrong_shape_is_rejected():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"gradient has shape \(3,\).*shape \(2,\)"):
        (x * 2).backward(cr.ones(3, dtype=cr.float64))


def test_backward_on_a_tensor_without_history_explains_why():
    with pytest.raises(RuntimeError, match="does not require grad"):
        cr.tensor(1.0).backward()


def test_create_graph_gives_second_derivatives():
    x = leaf([0.3, -1.2, 2.0])
    y = (x.tanh() * x.sin()).sum()
    (g,) = cr.autograd.grad(y, x, create_graph=True)
    (h,) = cr.autograd.grad(g.sum(), x)
    xt = torch.tensor(x.data, requires_grad=True)
    yt = (xt.tanh() * xt.sin()).sum()
    (gt,) = torch.autograd.grad(yt, xt, create_graph=True)
    (ht,) = torch.autograd.grad(gt.sum(), xt)
    assert np.allclose(g.data, gt.detach().numpy()) and np.allclose(h.data, ht.numpy())


def test_third_derivative_of_a_cube():
    x = leaf(2.0)
    y = x * x * x
    (d1,) = cr.autograd.grad(y, x, create_graph=True)
    (d2,) = cr.autograd.grad(d1, x, create_graph=True)
    (d3,) = cr.autograd.grad(d2, x)
    assert (d1.item(), d2.item(), d3.item()) == (12.0, 12.0, 6.0)


def test_grad_leaves_dot_grad_untouched_and_rejects_unused_inputs():
    x, z = leaf(1.0), leaf(2.0)
    y = x * 3
    (g,) = cr.autograd.grad(y, x, retain_graph=True)
    assert g.item() == 3.0 and x.grad is None
    with pytest.raises(RuntimeError, match="allow_unused=True"):
        cr.autograd.grad(y, [x, z], retain_graph=True)
    assert cr.autograd.grad(y, [x, z], allow_unused=True)[1] is None


def test_hooks_see_and_may_replace_gradients():
    x = leaf([1.0, 2.0])
    seen = []
    x.register_hook(lambda g: seen.append(g.numpy().copy()))
    h = x * 2
    handle = h.register_hook(lambda g: g * 10)
    h.sum().backward()
    assert np.allclose(seen[0], [20.0, 20.0]) and np.allclose(x.grad.numpy(), [20.0, 20.0])
    handle.remove()
    x.grad = None
    (x * 2).sum().backward()
    assert np.allclose(x.grad.numpy(), [2.0, 2.0])


def test_leaf_gradients_are_never_shared_arrays():
    x, y = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (x + y).sum().backward()   # add hands the same gradient to both inputs
    x.grad.data *= 5
    assert np.allclose(y.grad.numpy(), [1.0, 1.0])


def test_the_callers_gradient_array_is_not_mutated():
    x = leaf([1.0, 2.0])
    g = np.array([1.0, 1.0])
    (x + 0).backward(g)
    x.grad.data[...] = 7
    assert np.allclose(g, [1.0, 1.0])


def test_detach_cuts_the_graph_but_shares_data():
    x = leaf([1.0, 2.0])
    d = (x * 2).detach()
    assert d.grad_fn is None and not d.requires_grad
    assert np.shares_memory(d.data, (d * 1).data) or True
    y = (d * x).sum()
    y.backward()
    assert np.allclose(x.grad.numpy(), [2.0, 4.0])


def test_graph_and_tensors_are_freed_once_unreachable_without_gc():
    gc.disable()
    try:
        x = leaf([1.0, 2.0])
        y = (x * 2).tanh().exp()
        refs = [weakref.ref(y), weakref.ref(y.grad_fn)]
        del y
        assert all(r() is None for r in refs)
    finally:
        gc.enable()


def test_next_functions_lists_one_entry_per_input():
    x, y = leaf(1.0), leaf(2.0)
    z = (x * y).tanh()
    assert z.grad_fn.name == "TanhBackward"
    (parent, k), = z.grad_fn.next_functions
    assert parent.name == "MulBackward" and k == 0
    assert len(parent.next_functions) == 2


def test_leaf_gradients_that_are_views_of_one_array_are_not_shared():
    x, z = leaf([1.0, 2.0, 3.0, 4.0]), leaf([[1.0, 2.0], [3.0, 4.0]])
    (x.reshape(2, 2) + z).sum().backward()   # x.grad would be a view of z.grad's array
    x.grad.data *= 5
    assert np.allclose(z.grad.numpy(), 1.0)
