"""cr.func against torch.func in float64, on functions covering every op family.

Each function of ``twins.CASES`` runs through grad, value_and_grad, vjp,
jvp, jacrev, jacfwd, hessian and hvp, differentiating with respect to all of
its inputs at once (argnums as a tuple), and is compared with the same lines
run by torch.func. Scalar losses are the outputs contracted with fixed
random weights w, <w, f(x)>, so every output element matters with its own
weight (a plain sum would hide permuted or mixed-up elements).
"""
import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import func
from func.support import assert_tree_close
from func.twins import CASES, bind, to_torch

NAMES = sorted(CASES)


def _setup(name, rng):
    fn, xs = CASES[name]
    argnums = tuple(range(len(xs)))
    out_shape = fn(cr, *[cr.tensor(x) for x in xs]).shape
    w = rng.standard_normal(out_shape)

    def loss(lib):
        weights = lib.tensor(w)
        return lambda *inputs: (weights * fn(lib, *inputs)).sum()
    return fn, xs, argnums, w, loss


@pytest.mark.parametrize("name", NAMES)
def test_grad(name, rng):
    fn, xs, argnums, _, loss = _setup(name, rng)
    ours = func.grad(loss(cr), argnums=argnums)(*xs)
    theirs = torch.func.grad(loss(torch), argnums=argnums)(*to_torch(xs))
    assert_tree_close(ours, theirs)


@pytest.mark.parametrize("name", NAMES)
def test_value_and_grad(name, rng):
    fn, xs, argnums, _, loss = _setup(name, rng)
    value, grads = func.value_and_grad(loss(cr), argnums=argnums)(*xs)
    their_grads, their_value = torch.func.grad_and_value(loss(torch), argnums=argnums)(
        *to_torch(xs))
    assert_tree_close((value, grads), (their_value, their_grads))


@pytest.mark.parametrize("name", NAMES)
def test_vjp(name, rng):
    fn, xs, _, w, _ = _setup(name, rng)
    out, vjp_fn = func.vjp(bind(fn, cr), *xs)
    their_out, their_vjp_fn = torch.func.vjp(bind(fn, torch), *to_torch(xs))
    assert_tree_close(out, their_out)
    assert_tree_close(vjp_fn(w), their_vjp_fn(torch.from_numpy(w)))
    v = rng.standard_normal(w.shape)    # vjp_fn may be called again, with another v
    assert_tree_close(vjp_fn(v), their_vjp_fn(torch.from_numpy(v)))


@pytest.mark.parametrize("name", NAMES)
def test_jvp(name, rng):
    fn, xs, _, _, _ = _setup(name, rng)
    us = tuple(rng.standard_normal(x.shape) for x in xs)
    ours = func.jvp(bind(fn, cr), tuple(xs), us)
    theirs = torch.func.jvp(bind(fn, torch), tuple(to_torch(xs)), tuple(to_torch(us)))
    assert_tree_close(ours, theirs)


@pytest.mark.parametrize("transform", ["jacrev", "jacfwd"])
@pytest.mark.parametrize("name", NAMES)
def test_jacobian(name, transform, rng):
    fn, xs, argnums, _, _ = _setup(name, rng)
    ours = getattr(func, transform)(bind(fn, cr), argnums=argnums)(*xs)
    theirs = getattr(torch.func, transform)(bind(fn, torch), argnums=argnums)(*to_torch(xs))
    assert_tree_close(ours, theirs)


@pytest.mark.parametrize("name", NAMES)
def test_hessian(name, rng):
    fn, xs, argnums, _, loss = _setup(name, rng)
    ours = func.hessian(loss(cr), argnums=argnums)(*xs)
    theirs = torch.func.hessian(loss(torch), argnums=argnums)(*to_torch(xs))
    assert_tree_close(ours, theirs)


@pytest.mark.parametrize("name", NAMES)
def test_hvp(name, rng):
    fn, xs, argnums, _, loss = _setup(name, rng)
    us = tuple(rng.standard_normal(x.shape) for x in xs)
    value, hvp_out = func.hvp(loss(cr), tuple(xs), us)
    their_grad = torch.func.grad(loss(torch), argnums=argnums)
    their_hvp = torch.func.jvp(their_grad, tuple(to_torch(xs)), tuple(to_torch(us)))[1]
    their_value = loss(torch)(*to_torch(xs))
    assert_tree_close((value, hvp_out), (their_value, their_hvp))
