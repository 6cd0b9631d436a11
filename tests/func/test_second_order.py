"""Second derivatives: forward over reverse, reverse over reverse, and
composed transforms, against torch.func in float64.

The Hessians of tanh, sigmoid, softmax cross-entropy and a small MLP loss
are the cases the issue names; the MLP's parameters are a dict, so the
Hessian is a dict of dicts (block H[a][b] = d^2 L / da db).
"""
import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import func
from chainrule.func import reverse
from func.support import assert_tree_close, torch_tree
from func.twins import cross_entropy, mlp_loss, mlp_params, softmax

SCALARS = {
    "tanh": lambda lib, x: lib.tanh(x).sum(),
    "sigmoid": lambda lib, x: (lib.sigmoid(x) * x).sum(),
    "cross_entropy": cross_entropy,
    "softmax_squared": lambda lib, z: (softmax(lib, z) ** 2).sum(),
}


def _x(name, rng):
    return rng.standard_normal((4, 5) if name != "tanh" else (6,))


@pytest.mark.parametrize("name", sorted(SCALARS))
def test_hessian_matches_torch(name, rng):
    f = SCALARS[name]
    x = _x(name, rng)
    ours = func.hessian(lambda t: f(cr, t))(x)
    theirs = torch.func.hessian(lambda t: f(torch, t))(torch.from_numpy(x))
    assert_tree_close(ours, theirs)


@pytest.mark.parametrize("name", sorted(SCALARS))
def test_every_composition_of_two_jacobians_is_the_hessian(name, rng):
    """jacfwd(jacrev) (forward over reverse) and jacrev(jacrev) (reverse over
    reverse) against torch's forward over reverse."""
    f = SCALARS[name]
    x = _x(name, rng)
    theirs = torch.func.jacfwd(torch.func.jacrev(lambda t: f(torch, t)))(torch.from_numpy(x))
    for outer, inner in ((func.jacfwd, func.jacrev), (func.jacrev, func.jacrev)):
        assert_tree_close(outer(inner(lambda t: f(cr, t)))(x), theirs)


def test_tanh_second_derivative_is_the_closed_form(rng):
    """d^2/dx^2 tanh x = -2 tanh x (1 - tanh^2 x), through the forward-over-
    reverse hvp: tanh's backward formula reads its saved output y, so this
    fails unless y's tangent reaches the formula."""
    x = rng.standard_normal(5)
    u = rng.standard_normal(5)
    value, (hu,) = func.hvp(lambda t: cr.tanh(t).sum(), (x,), (u,))
    t = np.tanh(x)
    np.testing.assert_allclose(hu.data, -2 * t * (1 - t ** 2) * u, rtol=1e-12)
    np.testing.assert_allclose(value.data, t.sum(), rtol=1e-12)


def test_forward_over_reverse_runs_the_inner_backward_on_tensors(monkeypatch, rng):
    """Inside jacfwd the inner reverse pass must use create_graph=True: only
    then are its formulas ops on Tensors that carry the tangents. And the
    result must depend on those tangents: every column of the Hessian differs."""
    flags = []
    real = reverse.autograd_grad

    def spy(*args, **kwargs):
        flags.append(kwargs["create_graph"])
        return real(*args, **kwargs)
    monkeypatch.setattr(reverse, "autograd_grad", spy)
    x = rng.standard_normal(3)
    h = func.jacfwd(func.grad(lambda t: (cr.exp(t) * cr.sin(t)).sum()))(x)
    assert flags == [True, True, True]      # one reverse pass per jvp, all recorded
    d2 = np.exp(x) * 2 * np.cos(x)         # (e^x sin x)'' = 2 e^x cos x
    np.testing.assert_allclose(h.data, np.diag(d2), rtol=1e-12, atol=1e-15)


def test_mlp_loss_hessian_over_a_dict_of_parameters():
    params = mlp_params()
    ours = func.hessian(lambda p: mlp_loss(cr, p))(params)
    theirs = torch.func.hessian(lambda p: mlp_loss(torch, p))(torch_tree(params))
    assert list(ours) == ["W1", "b1", "W2", "b2"] and list(ours["W1"]) == list(ours)
    assert ours["W1"]["b2"].shape == (4, 3, 2)
    assert_tree_close(ours, theirs)


def test_mlp_loss_hvp_and_gradient(rng):
    params = mlp_params()
    tangent = {k: rng.standard_normal(v.shape) for k, v in params.items()}
    value, (hv,) = func.hvp(lambda p: mlp_loss(cr, p), (params,), (tangent,))
    their_grad = torch.func.grad(lambda p: mlp_loss(torch, p))
    _, their_hv = torch.func.jvp(their_grad, (torch_tree(params),), (torch_tree(tangent),))
    assert_tree_close(hv, their_hv)
    assert_tree_close(value, mlp_loss(torch, torch_tree(params)))
    assert_tree_close(func.grad(lambda p: mlp_loss(cr, p))(params),
                      their_grad(torch_tree(params)))


def test_grad_of_grad_of_grad():
    def f(lib, x):
        return lib.sin(x) * x ** 3 + lib.exp(-x * x)
    x = np.float64(0.7)
    ours = [func.grad(lambda t: f(cr, t))]
    theirs = [torch.func.grad(lambda t: f(torch, t))]
    for _ in range(2):
        ours.append(func.grad(ours[-1]))
        theirs.append(torch.func.grad(theirs[-1]))
    xt = torch.tensor(0.7, dtype=torch.float64)
    assert_tree_close([g(x) for g in ours], [g(xt) for g in theirs])


def test_grad_of_a_gradient_penalty(rng):
    """A loss that contains a gradient (as in WGAN-GP): the inner grad runs
    with create_graph, the outer differentiates through it, with respect to
    a second argument the inner one treats as a constant."""
    def f(lib, w, x):
        return (lib.tanh(x @ w) ** 2).sum()

    def penalty(lib, fgrad):
        return lambda w, x: (fgrad(lambda xx: f(lib, w, xx))(x) ** 2).sum() + (w * w).sum()
    w, x = rng.standard_normal((3, 2)), rng.standard_normal((4, 3))
    ours = func.grad(penalty(cr, func.grad), argnums=(0, 1))(w, x)
    theirs = torch.func.grad(penalty(torch, torch.func.grad), argnums=(0, 1))(
        torch.from_numpy(w), torch.from_numpy(x))
    assert_tree_close(ours, theirs)


def test_jacfwd_of_jacrev_with_two_arguments(rng):
    """The cross blocks d^2 f / dx dy of a tuple argnums."""
    def f(lib, x, y):
        return (lib.tanh(x)[:, None] * lib.sigmoid(y) + x[:, None] * y * y).sum()
    x, y = rng.standard_normal(3), rng.standard_normal(2)
    ours = func.hessian(lambda a, b: f(cr, a, b), argnums=(0, 1))(x, y)
    theirs = torch.func.hessian(lambda a, b: f(torch, a, b), argnums=(0, 1))(
        torch.from_numpy(x), torch.from_numpy(y))
    assert ours[0][1].shape == (3, 2) and ours[1][0].shape == (2, 3)
    assert_tree_close(ours, theirs)
