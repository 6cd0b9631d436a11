"""cr.viz.trace: the classic worked circuits digit for digit, the engine's
order, fan-out accumulation, local gradients, and the errors."""
import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn as nn
from chainrule.viz import trace
from chainrule.viz.formatting import array as fmt


def leaf(value, name):
    return cr.Tensor(np.array(value, dtype=np.float64), requires_grad=True, name=name)


def torch_grads(fn, **values):
    ts = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in values.items()}
    fn(**ts).backward()
    return {k: t.grad.numpy() for k, t in ts.items()}


def test_add_mul_circuit_digit_for_digit():
    x, y, z = leaf(-2, "x"), leaf(5, "y"), leaf(-4, "z")
    q = x + y
    f = q * z
    steps = trace(f)
    assert [s.node for s in steps] == ["MulBackward", "AddBackward"]
    mul, add = steps
    expected = torch_grads(lambda x, y, z: (x + y) * z, x=-2.0, y=5.0, z=-4.0)
    assert float(q.data) == 3.0 and float(f.data) == -12.0
    assert mul.upstream == 1.0
    assert [float(v) for v in mul.local] == [-4.0, 3.0]     # mul switches: the other input
    assert add.upstream == -4.0 and add.local == (1.0, 1.0)
    assert add.downstream == (-4.0, -4.0)
    for t in (x, y, z):
        np.testing.assert_array_equal(steps.grad(t), expected[t.name])
    assert [fmt(steps.grad(t)) for t in (x, y, z)] == ["-4.0", "-4.0", "3.0"]
    table = str(steps)
    assert "x = -4.0" in table and "y = -4.0" in table and "z = 3.0" in table


def test_sigmoid_neuron_staged_gates():
    w = [leaf(v, f"w{i}") for i, v in enumerate([2.0, -3.0, -3.0])]
    x = [leaf(v, f"x{i}") for i, v in enumerate([-1.0, -2.0])]
    f = 1 / (1 + cr.exp(-(w[0] * x[0] + w[1] * x[1] + w[2])))
    steps = trace(f)
    assert [s.node for s in steps][:4] == ["DivBackward", "AddBackward", "ExpBackward",
                                           "NegBackward"]
    assert fmt(f.data) == "0.7311"
    assert [fmt(steps.grad(t)) for t in x] == ["0.3932", "-0.5898"]
    assert [fmt(steps.grad(t)) for t in w] == ["-0.1966", "-0.3932", "0.1966"]
    expected = torch_grads(lambda w0, w1, w2, x0, x1: torch.sigmoid(w0 * x0 + w1 * x1 + w2),
                           w0=2.0, w1=-3.0, w2=-3.0, x0=-1.0, x1=-2.0)
    for t in w + x:
        np.testing.assert_allclose(steps.grad(t), expected[t.name], rtol=1e-12)


def test_sigmoid_neuron_one_gate_and_vectors():
    w = leaf([2.0, -3.0, -3.0], "w")
    x = leaf([-1.0, -2.0], "x")
    f = cr.sigmoid(w[0] * x[0] + w[1] * x[1] + w[2])
    steps = trace(f)
    sig = steps[0]
    assert sig.node == "SigmoidBackward" and sig.elementwise
    assert fmt(sig.local[0]) == "0.1966"                     # sigma (1 - sigma)
    s = 1 / (1 + np.exp(-1.0))
    np.testing.assert_allclose(sig.local[0], s * (1 - s), rtol=1e-15)
    assert fmt(steps.grad(x)) == "[0.3932, -0.5898]"
    assert fmt(steps.grad(w)) == "[-0.1966, -0.3932, 0.1966]"
    # w and x are each used three and two times: the += accumulation shows in the table
    assert "w += " in str(steps) and "x += " in str(steps)


def test_max_circuit():
    x, y, z, w = leaf(3, "x"), leaf(-4, "y"), leaf(2, "z"), leaf(-1, "w")
    f = 2 * (x * y + cr.maximum(z, w))
    steps = trace(f)
    assert [fmt(steps.grad(t)) for t in (x, y, z, w)] == ["-8.0", "6.0", "2.0", "0.0"]
    top = steps[0]
    assert top.local[0] is None and top.downstream[0] is None        # the constant 2


def test_order_is_the_engines():
    x = leaf([0.5, -1.0, 2.0], "x")
    a = cr.tanh(x)
    b = a * x
    c = cr.exp(a)
    d = (b + c).sum()
    seen = []
    for t in (a, b, c):
        t.register_hook(lambda g, t=t: seen.append(t.grad_fn.name))
    steps = trace(d)
    d.backward()
    replayed = [s.node for s in steps if s.node in ("TanhBackward", "MulBackward", "ExpBackward")]
    assert replayed == seen
    np.testing.assert_allclose(steps.grad(x), x.grad.data, rtol=1e-15)


def test_fan_out_accumulates_with_plus_equals():
    x = leaf(3.0, "x")
    f = x * x + 2 * x
    steps = trace(f)
    arrivals = [a for s in steps for a in s.accumulations if a is not None and a.target == "x"]
    assert arrivals[0].before is None
    for prev, acc in zip(arrivals, arrivals[1:]):
        np.testing.assert_array_equal(acc.before, prev.after)
        np.testing.assert_array_equal(acc.after, acc.before + acc.added)
    assert float(arrivals[-1].after) == 2 * 3.0 + 2
    assert "x += " in str(steps)


def test_leaves_grad_untouched_and_graph_kept():
    x, y = leaf(1.5, "x"), leaf(-0.5, "y")
    f = cr.tanh(x * y)
    trace(f)
    assert x.grad is None and y.grad is None
    f.backward(retain_graph=True)                 # still possible: nothing was freed
    first = x.grad.data.copy()
    again = trace(f)                              # after retain_graph, trace still works
    np.testing.assert_array_equal(again.grad(x), first)
    np.testing.assert_array_equal(x.grad.data, first)


def test_after_a_freed_backward_it_says_so():
    x = leaf(2.0, "x")
    f = cr.exp(x) * x
    f.backward()
    with pytest.raises(RuntimeError, match=r"freed by an earlier backward\(\).*retain_graph=True"):
        trace(f)


def test_elementwise_local_with_broadcasting():
    a = leaf([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], "a")
    b = leaf([10.0, 20.0, 30.0], "b")
    g = np.array([[1.0, -1.0, 2.0], [0.5, 3.0, -2.0]])
    steps = trace(a * b, gradient=g)
    mul = steps[0]
    assert mul.elementwise
    # local of each input has the output's shape: the other input, broadcast
    np.testing.assert_array_equal(mul.local[0], np.broadcast_to(b.data, (2, 3)))
    np.testing.assert_array_equal(mul.local[1], a.data)
    # downstream = upstream * local, summed over the broadcast axis
    np.testing.assert_array_equal(mul.downstream[0], g * mul.local[0])
    np.testing.assert_array_equal(mul.downstream[1], (g * mul.local[1]).sum(axis=0))
    ta = torch.tensor(a.data, requires_grad=True)
    tb = torch.tensor(b.data, requires_grad=True)
    (ta * tb).backward(torch.tensor(g))
    np.testing.assert_allclose(steps.grad(a), ta.grad.numpy())
    np.testing.assert_allclose(steps.grad(b), tb.grad.numpy())


def test_non_elementwise_local_is_the_all_ones_vjp():
    v = leaf([1.0, 2.0, 4.0], "v")
    steps = trace(v.mean())
    assert not steps[0].elementwise
    np.testing.assert_allclose(steps[0].local[0], np.full(3, 1 / 3))
    assert "* not elementwise" in str(steps)


def test_vector_needs_a_gradient():
    v = leaf([1.0, 2.0], "v")
    with pytest.raises(RuntimeError, match=r"shape \(2,\).*cr.viz.trace\(y.sum\(\)\)"):
        trace(v * 2)
    with pytest.raises(RuntimeError, match=r"gradient has shape \(3,\) but the tensor has "
                                           r"shape \(2,\)"):
        trace(v * 2, gradient=np.ones(3))


def test_errors_name_the_fix():
    with pytest.raises(TypeError, match=r"got a Module \(Linear\); pass the output tensor"):
        trace(nn.Linear(2, 2))
    with pytest.raises(TypeError, match="expected a Tensor, got list"):
        trace([1.0])
    with pytest.raises(RuntimeError, match="does not require grad"):
        trace(cr.tensor(1.0) * 2)


def test_in_place_change_after_save_is_caught():
    x = leaf([1.0, 2.0], "x")
    y = x * 1.0
    z = (y * y).sum()
    y.add_(1.0)
    with pytest.raises(RuntimeError, match=r"^trace: .*modified in place"):
        trace(z)


def test_multi_output_gate():
    x = leaf([1.0, 2.0, 3.0, 4.0], "x")
    a, b = x.split(2)
    f = (a * 3).sum() + (b * b).sum()
    steps = trace(f)
    f.backward()
    np.testing.assert_allclose(steps.grad(x), x.grad.data)


def test_ten_thousand_gate_chain():
    x = leaf(1.0, "x")
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    steps = trace(y)
    assert len(steps) == 10_000
    np.testing.assert_allclose(steps.grad(x), 1.0001 ** 10_000, rtol=1e-9)
