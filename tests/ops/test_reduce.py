"""Reductions against PyTorch in float64: prod, var, std, amax, amin,
logsumexp, norm, argmax, argmin (sum and mean are covered by the registry
tests). Values, gradients under a random upstream gradient, second
derivatives through create_graph, the zero / tie / -inf / degenerate cases
each op documents, forward mode against reverse mode, and bad inputs."""
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr
import strategies
from chainrule import ops

INF = math.inf


# -- helpers -----------------------------------------------------------------------
def _close(ours, theirs, what=""):
    ours = ours.detach().numpy() if isinstance(ours, cr.Tensor) else np.asarray(ours)
    theirs = theirs.detach().numpy(force=True) if isinstance(theirs, torch.Tensor) \
        else np.asarray(theirs)
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape}, torch {theirs.shape}"
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12, err_msg=what)


def _compare(fn, torch_fn, x, seed=0, second=True):
    """Value, gradient for a random upstream g and (``second``) the gradient of
    <grad, w> for a random w, which differentiates the backward formula."""
    rng = np.random.default_rng(seed)
    xc = cr.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    y, yt = fn(xc), torch_fn(xt)
    _close(y, yt, "value")
    g = rng.standard_normal(tuple(yt.shape))
    (gc,) = cr.autograd.grad(y, xc, cr.tensor(g), create_graph=True)
    (gt,) = torch.autograd.grad(yt, xt, torch.tensor(g), create_graph=True)
    _close(gc, gt, "gradient")
    if not second:
        return
    w = rng.standard_normal(x.shape)
    hc = cr.autograd.grad((gc * cr.tensor(w)).sum(), xc)[0] if gc.requires_grad else None
    ht = torch.autograd.grad((gt * torch.tensor(w)).sum(), xt, allow_unused=True)[0] \
        if gt.requires_grad else None
    hc = np.zeros(x.shape) if hc is None else hc
    ht = np.zeros(x.shape) if ht is None else ht
    _close(hc, ht, "second derivative")


def _all_dims(x, dim, keepdim):
    """torch reductions want every dim spelled out for dim=None with keepdim."""
    return tuple(range(x.ndim)) if dim is None else dim


def _torch_prod(x, dim=None, keepdim=False):
    """torch.prod reduces one int dim at a time."""
    if dim is None and not keepdim:
        return torch.prod(x)
    if x.ndim == 0:
        return torch.prod(x, 0, keepdim=keepdim)
    dims = _all_dims(x, dim, keepdim)
    dims = sorted(d % x.ndim for d in ((dims,) if isinstance(dims, int) else dims))
    for d in dims:
        x = torch.prod(x, d, keepdim=True)
    return x if keepdim else x.squeeze(tuple(dims))


TORCH = {
    "prod": _torch_prod,
    "var": lambda x, dim=None, keepdim=False, correction=1:
        torch.var(x, dim=dim, correction=correction, keepdim=keepdim),
    "std": lambda x, dim=None, keepdim=False, correction=1:
        torch.std(x, dim=dim, correction=correction, keepdim=keepdim),
    "amax": lambda x, dim=None, keepdim=False:
        torch.amax(x, dim=_all_dims(x, dim, keepdim), keepdim=keepdim),
    "amin": lambda x, dim=None, keepdim=False:
        torch.amin(x, dim=_all_dims(x, dim, keepdim), keepdim=keepdim),
    "logsumexp": lambda x, dim=None, keepdim=False:
        torch.logsumexp(x, dim=_all_dims(x, dim, keepdim), keepdim=keepdim),
    "norm": lambda x, p=2, dim=None, keepdim=False:
        torch.linalg.vector_norm(x, ord=p, dim=dim, keepdim=keepdim),
}
OURS = {name: (lambda op: lambda x, **kw: op(x, **kw))(getattr(ops, name)) for name in TORCH}
DIMS = [(None, False), (None, True), (1, False), (-1, True), ((0, 2), False), ((0, -1), True)]


# -- every op, every kind of dim ---------------------------------------------------------
@pytest.mark.parametrize("name", sorted(TORCH))
@pytest.mark.parametrize("dim, keepdim", DIMS)
def test_matches_torch_over_dims(name, dim, keepdim, rng):
    x = ops.REGISTRY[name].domain.sample(rng, (2, 3, 4))
    kw = {"dim": dim, "keepdim": keepdim}
    _compare(lambda t: OURS[name](t, **kw), lambda t: TORCH[name](t, **kw), x)


@pytest.mark.parametrize("name", sorted(TORCH))
def test_method_and_function_forms_call_the_op(name, rng):
    x = cr.tensor(ops.REGISTRY[name].domain.sample(rng, (3, 4)))
    direct = getattr(ops, name)(x, dim=1, keepdim=True)
    _close(getattr(cr, name)(x, dim=1, keepdim=True), direct.data)
    _close(getattr(x, name)(dim=1, keepdim=True), direct.data)


@pytest.mark.parametrize("name", sorted(TORCH))
def test_float32_stays_float32(name, rng):
    x = cr.tensor(ops.REGISTRY[name].domain.sample(rng, (3, 4)).astype(np.float32),
                  requires_grad=True)
    y = getattr(ops, name)(x, dim=1)
    y.backward(cr.ones_like(y))
    assert y.dtype == np.float32 and x.grad.dtype == np.float32


# -- prod ----------------------------------------------------------------------------------
@pytest.mark.parametrize("zeros", [[], [1], [0, 2], [0, 1, 3]], ids=["none", "one", "two",
                                                                   "three"])
@pytest.mark.parametrize("dim", [None, 1])
def test_prod_with_zeros_first_and_second_order(zeros, dim, rng):
    x = rng.uniform(0.5, 2.0, (3, 4))
    x[:, zeros] = 0.0
    x[0, 0] = -1.5      # a sign among them
    kw = {"dim": dim}
    _compare(lambda t: ops.prod(t, **kw), lambda t: _torch_prod(t, **kw), x)


def test_prod_one_zero_gives_the_product_of_the_others():
    x = cr.tensor([2.0, 0.0, 3.0, 4.0], dtype=cr.float64, requires_grad=True)
    ops.prod(x).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 24.0, 0.0, 0.0])


def test_prod_of_ints_is_int64_as_torch():
    for data in ([1, 2, 3], [True, False]):
        ours = ops.prod(cr.tensor(np.array(data)))
        theirs = torch.prod(torch.tensor(data))
        assert ours.dtype == np.int64 and theirs.dtype == torch.int64
        assert ours.item() == theirs.item()


# -- var and std -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize("correction", [0, 1, 2, 0.5, 2.5])
def test_var_std_correction(name, correction, rng):
    x = rng.standard_normal((3, 5))
    kw = {"dim": 1, "correction": correction}
    _compare(lambda t: OURS[name](t, **kw), lambda t: TORCH[name](t, **kw), x)


@pytest.mark.parametrize("name", ["var", "std"])
def test_unbiased_keyword_as_torch(name, rng):
    x = rng.standard_normal((3, 5))
    for unbiased in (True, False):
        ours = getattr(cr, name)(cr.tensor(x), 1, unbiased=unbiased)
        _close(ours, getattr(torch, name)(torch.tensor(x), 1, unbiased=unbiased))


@pytest.mark.filterwarnings("ignore::UserWarning")     # torch's own dof warning
@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize("x, dim, correction", [
    ([3.0], None, 1), ([3.0], 0, 1), ([3.0], None, 2), ([3.0], 0, 2),
    ([3.0, 4.0], None, 2), ([3.0, 4.0], 0, 2), ([3.0, 4.0], None, 3), ([3.0, 4.0], 0, 3),
    ([3.0, 3.0], None, 2), ([[1.0, 2.0], [5.0, 5.0]], 1, 2)])
def test_degrees_of_freedom_at_most_zero_give_inf_or_nan_as_torch(name, x, dim, correction):
    x = np.array(x)
    kw = {"dim": dim, "correction": correction}
    with pytest.warns(RuntimeWarning, match=rf"{name}: degrees of freedom .* <= 0"):
        _compare(lambda t: OURS[name](t, **kw), lambda t: TORCH[name](t, **kw), x,
                 second=False)


def test_std_of_equal_elements_has_zero_gradient_and_finite_second_derivative():
    x = cr.tensor(np.full((2, 3), 1.5), requires_grad=True)
    y = ops.std(x, dim=1)
    (g,) = cr.autograd.grad(y, x, cr.tensor([0.7, -1.1]), create_graph=True)
    np.testing.assert_array_equal(g.detach().numpy(), np.zeros((2, 3)))
    xt = torch.tensor(np.full((2, 3), 1.5), requires_grad=True)
    torch.std(xt, dim=1).backward(torch.tensor([0.7, -1.1]))
    _close(g, xt.grad)
    (h,) = cr.autograd.grad((g * g).sum() + g.sum(), x)
    assert np.all(np.isfinite(h.numpy()))


@pytest.mark.parametrize("name", ["var", "std", "norm"])
def test_integer_input_is_refused(name):
    with pytest.raises(TypeError, match=rf"{name}: input dtype must be floating point, got "
                                        r"int64; convert with \.float\(\)"):
        getattr(ops, name)(cr.tensor(np.arange(4)))


# -- amax and amin ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["amax", "amin"])
@pytest.mark.parametrize("dim", [None, 0, 1, (0, 1)])
def test_ties_split_the_gradient_evenly_as_torch(name, dim):
    x = np.array([[1.0, 3.0, 3.0], [-2.0, -2.0, -2.0], [3.0, 0.0, -2.0]])
    kw = {"dim": dim}
    _compare(lambda t: OURS[name](t, **kw), lambda t: TORCH[name](t, **kw), x)


def test_amax_tie_shares_exactly():
    x = cr.tensor([2.0, 1.0, 2.0, 2.0], dtype=cr.float64, requires_grad=True)
    ops.amax(x).backward(cr.tensor(3.0, dtype=cr.float64))
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 0.0, 1.0, 1.0])


@pytest.mark.parametrize("name", ["amax", "amin"])
def test_nan_group_gives_nan_as_torch(name):
    x = np.array([[np.nan, 1.0], [2.0, 1.0]])
    _compare(lambda t: OURS[name](t, dim=1), lambda t: TORCH[name](t, dim=1), x, second=False)


@pytest.mark.parametrize("name", ["amax", "amin", "argmax", "argmin"])
def test_reducing_an_empty_dimension_is_refused(name):
    x = cr.tensor(np.zeros((0, 3)))
    with pytest.raises(IndexError, match=rf"{name}: cannot reduce over dimension 0 of a "
                                         r"tensor of shape \(0, 3\): it is empty"):
        getattr(ops, name)(x, dim=0)
    assert getattr(ops, name)(x, dim=1).shape == (0,)


# -- logsumexp --------------------------------------------------------------------------------
@pytest.mark.parametrize("rows", [
    [[-INF, -INF, -INF], [0.0, 1.0, 2.0]],
    [[-INF, 0.0, -INF], [-INF, -1.0, 3.0]],
    [[INF, 0.0, 1.0], [INF, -INF, 0.0]],
    [[1000.0, 1000.0, 999.0], [-1000.0, -1001.0, -1000.0]]])
def test_logsumexp_infinite_and_huge_rows_as_torch(rows):
    x = np.array(rows)
    with np.errstate(all="raise"):      # stable: no overflow, no warnings
        _compare(lambda t: ops.logsumexp(t, dim=1), lambda t: torch.logsumexp(t, 1), x,
                 second=False)


def test_logsumexp_is_shifted_by_the_maximum():
    x = np.array([800.0, 801.0, 802.0])
    expected = 802.0 + math.log(math.exp(-2) + math.exp(-1) + 1)
    assert ops.logsumexp(cr.tensor(x)).item() == pytest.approx(expected, rel=1e-15)


def test_logsumexp_of_an_empty_group_is_minus_inf():
    y = ops.logsumexp(cr.tensor(np.zeros((2, 0))), dim=1)
    np.testing.assert_array_equal(y.numpy(), [-INF, -INF])


def test_logsumexp_of_ints_uses_the_default_float_dtype():
    ours = cr.logsumexp(cr.tensor(np.array([1, 2, 3])), 0)
    theirs = torch.logsumexp(torch.tensor([1, 2, 3]), 0)
    assert ours.dtype == cr.get_default_dtype() and theirs.dtype == torch.float32
    assert ours.item() == pytest.approx(theirs.item(), rel=1e-6)


# -- norm --------------------------------------------------------------------------------------
@pytest.mark.parametrize("p", [2, 1, INF, 3, 0.5, 1.5, 4.0])
@pytest.mark.parametrize("dim, keepdim", [(None, False), (1, True), ((0, 2), False)])
def test_norm_orders_as_torch(p, dim, keepdim, rng):
    x = ops.norm.domain.sample(rng, (2, 3, 4))
    kw = {"p": p, "dim": dim, "keepdim": keepdim}
    _compare(lambda t: ops.norm(t, **kw), lambda t: TORCH["norm"](t, **kw), x)


@pytest.mark.parametrize("p", [2, 1, INF, 3, 0.5, 1.5])
def test_norm_gradient_at_zero_is_zero_as_torch(p):
    x = np.array([[0.0, 0.0, 0.0], [0.0, 1.0, -2.0]])
    _compare(lambda t: ops.norm(t, p=p, dim=1), lambda t: TORCH["norm"](t, p=p, dim=1), x,
             second=False)
    xc = cr.tensor(x, requires_grad=True)
    (g,) = cr.autograd.grad(ops.norm(xc, p=p, dim=1), xc, cr.tensor([1.0, 1.0]),
                            create_graph=True)
    np.testing.assert_array_equal(g.detach().numpy()[0], 0.0)
    if g.requires_grad:     # PyTorch's double backward gives NaN here; ours stays finite
        (h,) = cr.autograd.grad((g * g).sum(), xc)
        assert np.all(np.isfinite(h.numpy()))


def test_norm_zero_counts_nonzeros_and_fro_is_two(rng):
    x = np.array([[0.0, 1.5, -2.0], [0.0, 0.0, 3.0]])
    np.testing.assert_array_equal(ops.norm(cr.tensor(x), p=0, dim=1).numpy(), [2.0, 1.0])
    _close(cr.norm(cr.tensor(x), "fro"), torch.norm(torch.tensor(x), "fro"))
    x = rng.standard_normal((3, 4))
    _close(cr.tensor(x).norm(), torch.tensor(x).norm())


@pytest.mark.parametrize("p", [-1, "nuc", float("nan"), True])
def test_norm_refuses_other_orders(p):
    with pytest.raises(ValueError, match=r"norm: p must be a number >= 0 \(or inf, or "
                                         r"'fro'\), got"):
        ops.norm(cr.tensor([1.0, 2.0]), p=p)


# -- argmax and argmin ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["argmax", "argmin"])
@pytest.mark.parametrize("dim, keepdim", [(None, False), (None, True), (0, False), (1, True),
                                          (-1, False)])
def test_argmax_argmin_ties_pick_the_first_as_torch(name, dim, keepdim):
    x = np.array([[1.0, 3.0, 3.0, -1.0], [-1.0, 2.0, -1.0, 3.0], [3.0, 3.0, -1.0, 0.0]])
    ours = getattr(cr, name)(cr.tensor(x, requires_grad=True), dim=dim, keepdim=keepdim)
    theirs = getattr(torch, name)(torch.tensor(x), dim=dim, keepdim=keepdim)
    assert ours.dtype == np.int64 and ours.grad_fn is None and not ours.requires_grad
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert ours.shape == tuple(theirs.shape)


@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_argmax_argmin_nan_and_0d_as_torch(name):
    x = [1.0, np.nan, 0.0, np.nan]
    assert getattr(ops, name)(cr.tensor(x)).item() == getattr(torch, name)(torch.tensor(x))
    assert getattr(ops, name)(cr.tensor(2.5), dim=0).item() == 0


@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_argmax_argmin_take_one_dim(name):
    with pytest.raises(TypeError, match=rf"{name}: dim must be an int or None, got \(0, 1\)"):
        getattr(ops, name)(cr.tensor(np.zeros((2, 3))), dim=(0, 1))
    with pytest.raises(IndexError, match=rf"{name}: dim 2 is out of range for a tensor "
                                         r"with 2 dimension\(s\)"):
        getattr(ops, name)(cr.tensor(np.zeros((2, 3))), dim=2)


def test_argmax_has_no_samples_and_no_gradient():
    assert not ops.argmax.differentiable and ops.argmax.samples(np.random.default_rng(0)) == []


# -- bad dims ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(TORCH))
def test_bad_dims_are_refused(name):
    x = cr.tensor(np.ones((2, 3)))
    with pytest.raises(IndexError, match=rf"{name}: dim -3 is out of range for a tensor with "
                                         r"2 dimension\(s\) \(expected in \[-2, 1\]\)"):
        getattr(ops, name)(x, dim=-3)
    with pytest.raises(ValueError, match=rf"{name}: dim \(1, -1\) names the same dimension "
                                         r"twice"):
        getattr(ops, name)(x, dim=(1, -1))
    with pytest.raises(TypeError, match=rf"{name}: dim must contain ints, got float"):
        getattr(ops, name)(x, dim=(1.0,))


# -- forward mode against reverse mode ------------------------------------------------------
@pytest.mark.parametrize("name", sorted(TORCH))
def test_jvp_is_the_adjoint_of_vjp(name, rng):
    op = ops.REGISTRY[name]
    for inputs, params in op.samples(rng):
        x = cr.tensor(inputs[0], requires_grad=True)
        y = op(x, **params)
        u, v = rng.standard_normal(x.shape), rng.standard_normal(y.shape)
        ju = op.jvp(y.grad_fn, u)
        (jtv,) = op.vjp(y.grad_fn, v)
        assert np.sum(v * ju) == pytest.approx(np.sum(jtv * u), rel=1e-10, abs=1e-12)


# -- hypothesis: any shape, any dims ------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore::RuntimeWarning", "ignore::UserWarning")
@pytest.mark.parametrize("name", ["prod", "var", "std", "logsumexp", "norm"])
@settings(max_examples=20)
@given(case=strategies.reductions(), seed=strategies.seeds())
def test_any_shape_and_dims_match_torch(name, case, seed):
    shape, dim, keepdim = case
    x = ops.REGISTRY[name].domain.sample(np.random.default_rng(seed), shape)
    kw = {"dim": dim, "keepdim": keepdim}
    _compare(lambda t: OURS[name](t, **kw), lambda t: TORCH[name](t, **kw), x, seed)


@settings(max_examples=20)
@given(case=strategies.reductions(min_side=1), seed=strategies.seeds(),
       name=st.sampled_from(["amax", "amin"]))
def test_extremes_with_many_ties_match_torch(case, seed, name):
    shape, dim, keepdim = case
    x = np.random.default_rng(seed).integers(-1, 2, shape).astype(np.float64)   # many ties
    kw = {"dim": dim, "keepdim": keepdim}
    _compare(lambda t: OURS[name](t, **kw), lambda t: TORCH[name](t, **kw), x, seed)


@settings(max_examples=20)
@given(shape=strategies.shapes(min_dims=1, min_side=1), seed=strategies.seeds(),
       data=st.data())
def test_argmax_argmin_with_ties_match_torch(shape, seed, data):
    dim = data.draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)))
    keepdim = data.draw(st.booleans())
    x = np.random.default_rng(seed).integers(-1, 2, shape).astype(np.float64)
    for name in ("argmax", "argmin"):
        ours = getattr(ops, name)(cr.tensor(x), dim=dim, keepdim=keepdim)
        theirs = getattr(torch, name)(torch.tensor(x), dim=dim, keepdim=keepdim)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_max_and_min_with_dim_route_the_gradient_to_the_first_tied_index_as_torch(rng):
    """functions.max/min(dim) build on argmax/argmin(keepdim=True) and gather."""
    x = np.array([[1.0, 3.0, 3.0], [2.0, -1.0, 2.0], [0.0, 0.0, 0.0]])
    g = rng.standard_normal(3)
    for name in ("max", "min"):
        xc, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        values, indices = getattr(cr, name)(xc, dim=1)
        values_t, indices_t = getattr(torch, name)(xt, dim=1)
        np.testing.assert_array_equal(indices.numpy(), indices_t.numpy())
        values.backward(cr.tensor(g))
        values_t.backward(torch.tensor(g))
        _close(values, values_t)
        _close(xc.grad, xt.grad)
