"""The named gates of backprop, each shown doing what the teaching texts say."""
import numpy as np
import chainrule as cr


def leaf(v):
    return cr.tensor(v, dtype=cr.float64, requires_grad=True)


def test_add_distributes_the_upstream_gradient_unchanged():
    x, y = leaf(-2.0), leaf(5.0)
    q = x + y
    q.backward(cr.tensor(3.5, dtype=cr.float64))
    assert x.grad.item() == 3.5 and y.grad.item() == 3.5


def test_mul_switches_its_inputs():
    x, y = leaf(3.0), leaf(-4.0)
    (x * y).backward(cr.tensor(2.0, dtype=cr.float64))
    assert x.grad.item() == -8.0   # upstream * the other input
    assert y.grad.item() == 6.0


def test_the_classic_circuit_f_equals_x_plus_y_times_z():
    x, y, z = leaf(-2.0), leaf(5.0), leaf(-4.0)
    q = x + y
    f = q * z
    f.backward()
    assert (q.item(), f.item()) == (3.0, -12.0)
    assert (x.grad.item(), y.grad.item(), z.grad.item()) == (-4.0, -4.0, 3.0)


def test_max_routes_the_gradient_to_the_larger_input():
    z, w = leaf(2.0), leaf(-1.0)
    cr.maximum(z, w).backward(cr.tensor(2.0, dtype=cr.float64))
    assert (z.grad.item(), w.grad.item()) == (2.0, 0.0)


def test_maximum_splits_a_tie_evenly_as_pytorch():
    z, w = leaf(1.0), leaf(1.0)
    cr.maximum(z, w).backward()
    assert (z.grad.item(), w.grad.item()) == (0.5, 0.5)


def test_the_worked_example_two_times_xy_plus_max_zw():
    x, y, z, w = leaf(3.0), leaf(-4.0), leaf(2.0), leaf(-1.0)
    f = 2 * (x * y + cr.maximum(z, w))
    f.backward()
    assert [t.grad.item() for t in (x, y, z, w)] == [-8.0, 6.0, 2.0, 0.0]


def test_fan_out_adds_the_gradients_of_every_use():
    a = leaf(1.0)
    b = a + a
    c = b + b
    c.backward()
    assert a.grad.item() == 4.0


def test_fan_out_through_different_gates_accumulates():
    x = leaf(3.0)
    y = x * x + x.tanh() + 2 * x
    y.backward()
    assert np.isclose(x.grad.item(), 2 * 3.0 + (1 - np.tanh(3.0) ** 2) + 2)


def test_the_sigmoid_neuron_of_the_teaching_texts():
    w = leaf([2.0, -3.0, -3.0])
    x = leaf([-1.0, -2.0])
    # written out gate by gate: *, +, x(-1), exp, +1, 1/x
    dot = w[0] * x[0] + w[1] * x[1] + w[2]
    f = 1 / (1 + cr.exp(-dot))
    f.backward()
    assert round(f.item(), 4) == 0.7311
    assert np.allclose(x.grad.numpy(), [0.3932, -0.5898], atol=5e-5)
    assert np.allclose(w.grad.numpy(), [-0.1966, -0.3932, 0.1966], atol=5e-5)
