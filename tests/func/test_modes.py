"""What runs where: forward mode runs no reverse pass, and each transform
makes the number of passes its cost model says (the basis of
benchmarks/forward_vs_reverse.py)."""
import numpy as np
import pytest

import chainrule as cr
from chainrule import func
from chainrule.autograd import engine, forward_ad


@pytest.fixture
def reverse_passes(monkeypatch):
    """Counts the engine's reverse passes (every backward and autograd.grad
    goes through ``engine._run``)."""
    calls = []
    real = engine._run

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)
    monkeypatch.setattr(engine, "_run", counting)
    return calls


@pytest.fixture
def no_reverse_pass(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a reverse pass ran")
    monkeypatch.setattr(engine, "_run", refuse)


def _counted(f):
    calls = []

    def wrapper(*args):
        calls.append(1)
        return f(*args)
    return wrapper, calls


def f_many_outputs(x):
    """R^2 -> R^50."""
    t = cr.tensor(np.linspace(0, 1, 50))
    return cr.sin(t * x[0]) * cr.exp(-t * x[1])


def test_jvp_is_one_forward_pass_and_no_reverse_pass(no_reverse_pass, rng):
    f, calls = _counted(f_many_outputs)
    x, u = rng.standard_normal(2), rng.standard_normal(2)
    out, out_dot = func.jvp(f, (x,), (u,))
    assert len(calls) == 1
    t = np.linspace(0, 1, 50)
    s, e = np.sin(t * x[0]), np.exp(-t * x[1])
    np.testing.assert_allclose(out_dot.data, np.cos(t * x[0]) * t * e * u[0] - s * t * e * u[1],
                               rtol=1e-12, atol=1e-15)


def test_jacfwd_is_one_jvp_per_input_element(no_reverse_pass):
    f, calls = _counted(f_many_outputs)
    assert func.jacfwd(f)(np.array([0.3, 0.7])).shape == (50, 2)
    assert len(calls) == 2


def test_jacrev_is_one_reverse_pass_per_output_element(reverse_passes):
    f, calls = _counted(f_many_outputs)
    assert func.jacrev(f)(np.array([0.3, 0.7])).shape == (50, 2)
    assert len(calls) == 1 and len(reverse_passes) == 50


def test_jacfwd_and_jacrev_agree(rng):
    x = rng.standard_normal(2)
    np.testing.assert_allclose(func.jacfwd(f_many_outputs)(x).data,
                               func.jacrev(f_many_outputs)(x).data, rtol=1e-12, atol=1e-15)


def test_grad_is_one_reverse_pass(reverse_passes, rng):
    func.grad(lambda x: (x ** 2).sum())(rng.standard_normal(1000))
    assert len(reverse_passes) == 1


def test_hvp_is_one_forward_over_reverse_pass(reverse_passes, monkeypatch, rng):
    """One call of f, one reverse pass, one dual level: the Hessian is never formed."""
    levels = []
    real_level = forward_ad.dual_level

    def counting_level():
        levels.append(1)
        return real_level()
    monkeypatch.setattr(forward_ad, "dual_level", counting_level)
    f, calls = _counted(lambda x: (cr.tanh(x) ** 2).sum())
    func.hvp(f, (rng.standard_normal(500),), (rng.standard_normal(500),))
    assert len(calls) == len(reverse_passes) == len(levels) == 1


def test_hessian_is_one_forward_over_reverse_pass_per_input_element(reverse_passes, rng):
    f, calls = _counted(lambda x: (cr.tanh(x) ** 2).sum())
    assert func.hessian(f)(rng.standard_normal(4)).shape == (4, 4)
    assert len(calls) == len(reverse_passes) == 4


def test_vjp_fn_is_one_reverse_pass_per_call(reverse_passes, rng):
    f, calls = _counted(f_many_outputs)
    _, vjp_fn = func.vjp(f, rng.standard_normal(2))
    vjp_fn(rng.standard_normal(50))
    vjp_fn(rng.standard_normal(50))
    assert len(calls) == 1 and len(reverse_passes) == 2
