"""Nested inputs and outputs, argnums, has_aux, dtypes, and the promise that
a transform leaves the caller's tensors exactly as they were."""
from collections import namedtuple

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import func
from chainrule.autograd import forward_ad
from chainrule.func import nesting, pytree
from func.support import assert_tree_close, torch_tree

Pair = namedtuple("Pair", "first second")


def test_flatten_and_unflatten_round_trip():
    tree = {"a": (1, [2, 3]), "b": Pair(4, {"c": 5}), "d": [], "e": None}
    leaves, spec = pytree.flatten(tree)
    assert leaves == [1, 2, 3, 4, 5, None]
    rebuilt = pytree.unflatten([10 * x if x else x for x in leaves], spec)
    assert rebuilt == {"a": (10, [20, 30]), "b": Pair(40, {"c": 50}), "d": [], "e": None}
    assert type(rebuilt["b"]) is Pair
    assert pytree.flatten(rebuilt)[1] == spec
    assert pytree.flatten({"a": (1, 2)})[1] != pytree.flatten({"a": [1, 2]})[1]
    with pytest.raises(ValueError, match="has 6 leaves, got 2"):
        pytree.unflatten([1, 2], spec)


def _f(lib, params, x, scale):
    """A function of a dict (holding a tuple), an array and a float."""
    w, (b, c) = params["w"], params["bc"]
    h = lib.tanh(x @ w + b) * c
    return {"sum": (h * scale).sum(), "rows": (h.sum(1), h.amax(1))}


def _inputs(rng):
    params = {"w": rng.standard_normal((3, 2)),
              "bc": (rng.standard_normal(2), rng.standard_normal(2))}
    return params, rng.standard_normal((4, 3))


def test_nested_inputs_and_outputs_through_every_transform(rng):
    params, x = _inputs(rng)
    p_t, x_t = torch_tree(params), torch.from_numpy(x)

    def ours(p, xx):
        return _f(cr, p, xx, 2.0)

    def theirs(p, xx):
        return _f(torch, p, xx, 2.0)

    for transform in ("jacrev", "jacfwd"):
        assert_tree_close(getattr(func, transform)(ours, argnums=(0, 1))(params, x),
                          getattr(torch.func, transform)(theirs, argnums=(0, 1))(p_t, x_t))
    assert_tree_close(func.grad(lambda p, xx: ours(p, xx)["sum"])(params, x),
                      torch.func.grad(lambda p, xx: theirs(p, xx)["sum"])(p_t, x_t))
    tangents = ({"w": rng.standard_normal((3, 2)),
                 "bc": (rng.standard_normal(2), rng.standard_normal(2))},
                rng.standard_normal((4, 3)))
    assert_tree_close(func.jvp(ours, (params, x), tangents),
                      torch.func.jvp(theirs, (p_t, x_t), torch_tree(tangents)))
    out, vjp_fn = func.vjp(ours, params, x)
    _, their_vjp_fn = torch.func.vjp(theirs, p_t, x_t)
    cotangent = {"sum": np.float64(0.5), "rows": (rng.standard_normal(4),
                                                  rng.standard_normal(4))}
    assert_tree_close(vjp_fn(cotangent), their_vjp_fn(torch_tree(cotangent)))


def test_argnums_picks_arguments_and_passes_the_others_unchanged(rng):
    """An int argument that is not differentiated arrives as it was given."""
    seen = []

    def f(x, power, y):
        seen.append(power)
        return (x ** power * y).sum()
    x, y = rng.uniform(0.5, 2, 3), rng.uniform(0.5, 2, 3)
    gx, gy = func.grad(f, argnums=(0, -1))(x, 3, y)
    np.testing.assert_allclose(gx.data, 3 * x ** 2 * y)
    np.testing.assert_allclose(gy.data, x ** 3)
    gy_alone = func.grad(f, argnums=2)(x, 3, y)
    assert isinstance(gy_alone, cr.Tensor)
    np.testing.assert_allclose(gy_alone.data, x ** 3)
    assert seen == [3, 3]


def test_keyword_arguments_are_passed_through(rng):
    x = rng.standard_normal(3)
    g = func.grad(lambda x, scale=1.0: (scale * x * x).sum())(x, scale=3.0)
    np.testing.assert_allclose(g.data, 6 * x)


def test_has_aux_matches_torch(rng):
    """aux comes back as given (torch accepts only tensors there; a string
    here shows other values pass through), its tensors without history."""
    def f(lib, x):
        y = lib.sin(x)
        return (y * y).sum(), {"y": y, **({"note": "kept"} if lib is cr else {})}
    x = rng.standard_normal(4)
    xt = torch.from_numpy(x)
    g, aux = func.grad(lambda t: f(cr, t), has_aux=True)(x)
    their_g, their_aux = torch.func.grad(lambda t: f(torch, t), has_aux=True)(xt)
    assert_tree_close((g, aux["y"]), (their_g, their_aux["y"]))
    assert aux["note"] == "kept" and aux["y"].grad_fn is None
    (value, aux), g = func.value_and_grad(lambda t: f(cr, t), has_aux=True)(x)
    assert_tree_close((value, g), (f(torch, xt)[0], their_g))
    out, vjp_fn, aux = func.vjp(lambda t: f(cr, t), x, has_aux=True)
    assert_tree_close(vjp_fn(np.float64(2.0)), (2 * their_g,))
    out, jvp_out, aux = func.jvp(lambda t: f(cr, t), (x,), (np.ones(4),), has_aux=True)
    np.testing.assert_allclose(jvp_out.data, their_g.numpy().sum())
    for transform in ("jacrev", "jacfwd"):
        jac, aux = getattr(func, transform)(lambda t: f(cr, t), has_aux=True)(x)
        assert_tree_close(jac, their_g)
        assert aux["y"].grad_fn is None and aux["note"] == "kept"


def test_dtypes_follow_the_inputs():
    """A NumPy array keeps its dtype, a float takes the default dtype, and
    results are Tensors."""
    def f(x):
        return (x * x).sum()
    g32 = func.grad(f)(np.array([1.0, 2.0], dtype=np.float32))
    assert isinstance(g32, cr.Tensor) and g32.dtype == np.float32
    assert func.grad(f)(cr.tensor([1.0], dtype=cr.float64)).dtype == np.float64
    g = func.grad(f)(1.5)
    assert isinstance(g, cr.Tensor) and g.dtype == cr.get_default_dtype() and g.item() == 3.0
    previous = cr.get_default_dtype()
    cr.set_default_dtype(cr.float64)
    try:
        assert func.grad(f)(1.5).dtype == np.float64
        assert func.jacfwd(lambda x: x * x)(1.5).dtype == np.float64
    finally:
        cr.set_default_dtype(previous)
    out, tangent = func.jvp(f, (np.float32(1.0),), (2.0,))
    assert out.dtype == tangent.dtype == np.float32 and tangent.item() == 4.0


def test_transforms_leave_the_callers_tensors_alone(rng):
    """No .grad is set, no value or flag changes, no history is attached to
    the results, also for tensors the function closes over."""
    x = cr.tensor(rng.standard_normal(3), dtype=cr.float64, requires_grad=True)
    w = cr.tensor(rng.standard_normal(3), dtype=cr.float64, requires_grad=True)
    a = rng.standard_normal(3)
    x0, w0, a0 = x.data.copy(), w.data.copy(), a.copy()

    def f(t, s):
        return (cr.tanh(t * w) * s).sum()

    results = [func.grad(f, argnums=(0, 1))(x, a), func.value_and_grad(f)(x, a),
               func.jacrev(f)(x, a), func.jacfwd(f)(x, a), func.hessian(f)(x, a),
               func.hvp(f, (x, a), (a, a)), func.jvp(f, (x, a), (a, a))]
    out, vjp_fn = func.vjp(f, x, a)
    results += [out, vjp_fn(np.float64(1.0))]
    assert x.grad is None and w.grad is None
    assert x.requires_grad and x.is_leaf and w.requires_grad and w.is_leaf
    np.testing.assert_array_equal(x.data, x0)
    np.testing.assert_array_equal(w.data, w0)
    np.testing.assert_array_equal(a, a0)
    leaves = pytree.flatten(results)[0]
    assert all(isinstance(t, cr.Tensor) and t.grad_fn is None and not t.requires_grad
               for t in leaves)


def test_no_state_is_left_behind_even_when_f_raises(rng):
    def broken(x):
        raise KeyError("inside f")
    for call in (lambda: func.grad(broken)(1.0), lambda: func.jacfwd(broken)(1.0),
                 lambda: func.jvp(broken, (1.0,), (1.0,)), lambda: func.hessian(broken)(1.0)):
        with pytest.raises(KeyError, match="inside f"):
            call()
        assert not nesting.nested() and not forward_ad.state.levels
        assert cr.is_grad_enabled()


def test_transforms_work_inside_no_grad(rng):
    """As torch.func: an outer no_grad does not switch the transforms off."""
    x = rng.standard_normal(3)
    with cr.no_grad():
        g = func.grad(lambda t: (t ** 3).sum())(x)
        h = func.hessian(lambda t: (t ** 3).sum())(x)
        assert not cr.is_grad_enabled()     # and the caller's mode is back afterwards
    np.testing.assert_allclose(g.data, 3 * x ** 2)
    np.testing.assert_allclose(h.data, np.diag(6 * x))


def test_functions_that_ignore_an_input_give_zeros(rng):
    x, y = rng.standard_normal(2), rng.standard_normal(3)
    gx, gy = func.grad(lambda a, b: (a * a).sum(), argnums=(0, 1))(x, y)
    np.testing.assert_array_equal(gy.data, np.zeros(3))
    jr = func.jacrev(lambda a, b: a * 2.0, argnums=1)(x, y)
    jf = func.jacfwd(lambda a, b: a * 2.0, argnums=1)(x, y)
    np.testing.assert_array_equal(jr.data, np.zeros((2, 3)))
    np.testing.assert_array_equal(jf.data, np.zeros((2, 3)))
    assert func.grad(lambda a: 3.0)(x).shape == (2,)
    _, tangent = func.jvp(lambda a: cr.tensor(1.0), (x,), (x,))
    assert tangent.item() == 0.0


def test_size_zero_and_zero_dim_inputs(rng):
    empty = np.zeros((0, 3))
    assert func.jacrev(lambda t: t * 2)(empty).shape == (0, 3, 0, 3)
    assert func.jacfwd(lambda t: t * 2)(empty).shape == (0, 3, 0, 3)
    x = np.float64(0.3)
    assert_tree_close(func.jacfwd(func.jacrev(cr.sin))(x),
                      torch.func.jacfwd(torch.func.jacrev(torch.sin))(torch.tensor(0.3,
                                                                    dtype=torch.float64)))
