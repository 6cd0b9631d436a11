"""Activation layers and functions against torch.nn in float64."""
import warnings

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F
from nn.nn_oracle import assert_close, run_both, to_torch

LAYERS = [
    (lambda: nn.ReLU(), lambda: torch.nn.ReLU()),
    (lambda: nn.LeakyReLU(), lambda: torch.nn.LeakyReLU()),
    (lambda: nn.LeakyReLU(0.2), lambda: torch.nn.LeakyReLU(0.2)),
    (lambda: nn.Sigmoid(), lambda: torch.nn.Sigmoid()),
    (lambda: nn.Tanh(), lambda: torch.nn.Tanh()),
    (lambda: nn.GELU(), lambda: torch.nn.GELU()),
    (lambda: nn.GELU("tanh"), lambda: torch.nn.GELU("tanh")),
    (lambda: nn.SiLU(), lambda: torch.nn.SiLU()),
    (lambda: nn.Softplus(), lambda: torch.nn.Softplus()),
    (lambda: nn.Softplus(beta=2.0, threshold=3.0), lambda: torch.nn.Softplus(2.0, 3.0)),
    (lambda: nn.Softmax(dim=1), lambda: torch.nn.Softmax(dim=1)),
    (lambda: nn.Softmax(dim=-1), lambda: torch.nn.Softmax(dim=-1)),
    (lambda: nn.LogSoftmax(dim=0), lambda: torch.nn.LogSoftmax(dim=0)),
    (lambda: nn.LogSoftmax(dim=2), lambda: torch.nn.LogSoftmax(dim=2)),
]


@pytest.mark.parametrize("make", LAYERS, ids=lambda m: repr(m[0]()))
def test_layer_matches_torch(make, rng):
    ours, theirs = make[0](), make[1]()
    x = rng.uniform(-4, 4, size=(3, 4, 5))
    run_both(ours, theirs, [x], rng)


def test_reprs_match_torch():
    for ours, theirs in LAYERS:
        assert repr(ours()) == repr(theirs())


def test_kinks_match_torch(rng):
    """relu'(0) = 0 and leaky_relu'(0) = slope, as torch."""
    x = np.array([-1.0, 0.0, 1.0])
    run_both(F.relu, torch.relu, [x], rng)
    run_both(lambda t: F.leaky_relu(t, 0.3), lambda t: torch.nn.functional.leaky_relu(t, 0.3),
             [x], rng)


def test_gelu_exact_to_1e_8(rng):
    x = np.concatenate([np.linspace(-12, 12, 2001), rng.standard_normal(500) * 3])
    run_both(F.gelu, torch.nn.functional.gelu, [x], rng, atol=1e-8, rtol=0)
    run_both(F.gelu, torch.nn.functional.gelu, [x], rng, atol=1e-14, rtol=1e-12)


@pytest.mark.parametrize("fn, torch_fn", [
    (F.gelu, torch.nn.functional.gelu),
    (lambda t: F.softplus(t, 1.5, 2.0), lambda t: torch.nn.functional.softplus(t, 1.5, 2.0)),
    (F.silu, torch.nn.functional.silu),
    (lambda t: F.log_softmax(t, 1), lambda t: torch.log_softmax(t, 1)),
])
def test_second_derivative_matches_torch(fn, torch_fn, rng):
    x = rng.uniform(-3, 3, size=(3, 4))
    v = rng.standard_normal((3, 4))
    xs = cr.tensor(x, requires_grad=True)
    (g,) = cr.autograd.grad(fn(xs), xs, grad_outputs=cr.tensor(v), create_graph=True)
    (gg,) = cr.autograd.grad((g * cr.tensor(v)).sum(), xs)
    xt = to_torch(x, requires_grad=True)
    (gt,) = torch.autograd.grad(torch_fn(xt), xt, grad_outputs=to_torch(v), create_graph=True)
    (ggt,) = torch.autograd.grad((gt * to_torch(v)).sum(), xt)
    assert_close(g, gt)
    assert_close(gg, ggt)


def test_extreme_inputs_are_finite_without_warnings(rng):
    x = np.array([-1000.0, -50.0, -1e-3, 0.0, 1e-3, 50.0, 1000.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for ours, theirs in [(F.sigmoid, torch.sigmoid), (F.silu, torch.nn.functional.silu),
                             (F.softplus, torch.nn.functional.softplus),
                             (F.tanh, torch.tanh), (F.gelu, torch.nn.functional.gelu)]:
            out, _, (xs,), _ = run_both(ours, theirs, [x], rng)
            assert np.all(np.isfinite(out.data)) and np.all(np.isfinite(xs.grad.data))


def test_sigmoid_of_plus_minus_1000():
    x = cr.tensor([-1000.0, 1000.0], dtype=cr.float64, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = F.sigmoid(x)
        y.sum().backward()
    assert y.tolist() == [0.0, 1.0]
    assert x.grad.tolist() == [0.0, 0.0]


def test_softmax_of_large_logits_matches_torch(rng):
    x = rng.standard_normal((4, 6)) * 1e4
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run_both(lambda t: F.softmax(t, -1), lambda t: torch.softmax(t, -1), [x], rng)
        run_both(lambda t: F.log_softmax(t, -1), lambda t: torch.log_softmax(t, -1), [x], rng)


def test_softmax_needs_dim():
    with pytest.raises(ValueError, match="softmax: pass dim explicitly"):
        F.softmax(cr.ones(3))
    with pytest.raises(ValueError, match="log_softmax: pass dim explicitly"):
        nn.LogSoftmax()(cr.ones(3))


def test_gelu_rejects_unknown_approximation():
    with pytest.raises(ValueError, match="approximate must be 'none' or 'tanh', got 'erf'"):
        nn.GELU("erf")
    with pytest.raises(ValueError, match="approximate"):
        F.gelu(cr.ones(2), approximate="fast")


def test_float32_stays_float32():
    x = cr.randn(3, 4)
    for layer in (nn.GELU(), nn.SiLU(), nn.Softplus(), nn.Softmax(1), nn.LeakyReLU()):
        assert layer(x).dtype == cr.float32
