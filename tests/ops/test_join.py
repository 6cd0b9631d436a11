"""cat, stack, split, chunk, unbind, flip, repeat and pad against PyTorch in
float64: values, gradients under a random upstream gradient, second order,
dtype promotion and the error messages."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr
from chainrule import ops
from ops.torch_twin import assert_close, check_first_order, check_second_order


def _random(*shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in shapes]


# -- cat and stack -------------------------------------------------------------
@pytest.mark.parametrize("shapes,dim", [
    (((2, 3), (2, 1), (2, 4)), 1),
    (((2, 3), (2, 1), (2, 4)), -1),
    (((2, 3, 2), (1, 3, 2)), 0),
    (((3,), (2,), (1,)), 0),
    (((2, 0), (2, 3)), 1),
])
def test_cat_matches_torch(shapes, dim):
    arrays = _random(*shapes)
    check_first_order(lambda *xs: cr.cat(xs, dim=dim), lambda *ts: torch.cat(ts, dim=dim),
                      *arrays)
    check_second_order(lambda *xs: cr.cat(xs, dim), lambda *ts: torch.cat(ts, dim), *arrays)


def test_cat_skips_1d_empty_tensors_as_torch():
    arrays = _random((0,), (2, 3), (0,), (1, 3))
    check_first_order(lambda *xs: cr.cat(xs), lambda *ts: torch.cat(ts), *arrays)


def test_cat_with_inputs_that_do_not_require_grad():
    a, b = _random((2, 2), (3, 2))
    x = cr.tensor(a, requires_grad=True)
    y = cr.cat([cr.tensor(b), x, b])
    assert y.shape == (8, 2)
    g, = _random((8, 2), seed=1)
    y.backward(cr.tensor(g))
    np.testing.assert_array_equal(x.grad.numpy(), g[3:5])


@pytest.mark.parametrize("dtypes,result", [
    ((cr.float32, cr.float64), cr.float64),
    ((cr.int64, cr.float32), cr.float32),
    ((cr.int64, cr.int32), cr.int64),
    ((cr.bool, cr.int64), cr.int64),
])
def test_cat_promotes_dtypes_as_torch(dtypes, result):
    tensors = [cr.tensor(np.ones((2, 2)), dtype=d) for d in dtypes]
    theirs = torch.cat([torch.ones(2, 2, dtype=getattr(torch, str(d)))
                        for d in dtypes])
    ours = cr.cat(tensors)
    assert ours.dtype == result
    assert str(theirs.dtype) == f"torch.{result}"


def test_cat_gradient_keeps_each_input_dtype():
    x = cr.tensor(np.ones(2), dtype=cr.float32, requires_grad=True)
    y = cr.tensor(np.ones(3), dtype=cr.float64, requires_grad=True)
    out = cr.cat([x, y])
    assert out.dtype == cr.float64
    (out * cr.tensor(np.arange(5.0))).sum().backward()
    assert x.grad.dtype == cr.float32 and y.grad.dtype == cr.float64
    assert x.grad.tolist() == [0.0, 1.0] and y.grad.tolist() == [2.0, 3.0, 4.0]


@pytest.mark.parametrize("dim", [0, 1, 2, -1, -3])
def test_stack_matches_torch(dim):
    arrays = _random((2, 3), (2, 3), (2, 3))
    check_first_order(lambda *xs: cr.stack(xs, dim), lambda *ts: torch.stack(ts, dim), *arrays)


@pytest.mark.parametrize("shapes,dim,message", [
    (((2, 3), (3,)), 0,
     r"cat: the tensor at position 1 has shape \(3,\) but the tensor at position 0 has "
     r"shape \(2, 3\); all need the same number of dimensions"),
    (((2, 3), (2, 3), (2, 4)), 0,
     r"cat: the tensor at position 2 has shape \(2, 4\) but the tensor at position 0 has "
     r"shape \(2, 3\); sizes must match except in dimension 0 \(they differ in dimension 1\)"),
    (((), ()), 0, r"cat: the tensor at position 0 is zero-dimensional"),
])
def test_cat_bad_shapes(shapes, dim, message):
    with pytest.raises(ValueError, match=message):
        cr.cat([cr.tensor(a) for a in _random(*shapes)], dim=dim)


def test_cat_bad_dim_and_empty_list():
    with pytest.raises(IndexError, match=r"cat: dim 2 is out of range"):
        cr.cat([cr.ones(2, 3), cr.ones(2, 3)], dim=2)
    with pytest.raises(ValueError, match=r"cat: expects a non-empty sequence"):
        cr.cat([])
    with pytest.raises(ValueError, match=r"stack: expects a non-empty sequence"):
        cr.stack([])


def test_stack_mismatched_shapes_names_the_tensor():
    with pytest.raises(ValueError, match=r"position 1 has shape \(1, 3\)"):
        cr.stack([cr.ones(2), cr.ones(3)])


# -- split, chunk, unbind (functions.py, built on getitem) ---------------------
@pytest.mark.parametrize("sizes,dim", [(2, 0), (3, 1), ([1, 4], 1), ([2, 0, 1], 0), (5, -1)])
def test_split_matches_torch(sizes, dim):
    a, = _random((3, 5))
    check_first_order(lambda x: cr.cat(cr.split(x, sizes, dim), dim),
                      lambda x: torch.cat(torch.split(x, sizes, dim), dim), a)
    ours, theirs = cr.split(cr.tensor(a), sizes, dim), torch.split(torch.tensor(a), sizes, dim)
    assert len(ours) == len(theirs)
    for piece, piece_t in zip(ours, theirs):
        assert_close(piece, piece_t)


@pytest.mark.parametrize("n,chunks", [(5, 3), (6, 4), (6, 3), (2, 5)])
def test_chunk_matches_torch(n, chunks):
    a, = _random((n, 2))
    ours, theirs = cr.chunk(cr.tensor(a), chunks), torch.chunk(torch.tensor(a), chunks)
    assert [p.shape for p in ours] == [tuple(p.shape) for p in theirs]
    xs, ts = cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    weights = _random(*[tuple(p.shape) for p in theirs], seed=1)
    sum((p * cr.tensor(w)).sum() for p, w in zip(xs.chunk(chunks), weights)).backward()
    sum((p * torch.tensor(w)).sum() for p, w in zip(ts.chunk(chunks), weights)).backward()
    assert_close(xs.grad, ts.grad)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_unbind_matches_torch(dim):
    a, = _random((2, 3, 4))
    check_first_order(lambda x: cr.stack(x.unbind(dim), 0),
                      lambda x: torch.stack(x.unbind(dim), 0), a)
    assert [p.shape for p in cr.tensor(a).unbind(dim)] == \
        [tuple(p.shape) for p in torch.tensor(a).unbind(dim)]


def test_split_bad_sections():
    with pytest.raises(ValueError, match=r"split: sections \[1, 1\] sum to 2, but dimension 0 "
                                         r"has size 3"):
        cr.split(cr.ones(3), [1, 1])
    with pytest.raises(ValueError, match=r"split: split_size must be positive, got 0"):
        cr.split(cr.ones(3), 0)
    with pytest.raises(ValueError, match=r"chunk: chunks must be a positive int, got 0"):
        cr.chunk(cr.ones(3), 0)


# -- flip ----------------------------------------------------------------------
@pytest.mark.parametrize("shape,dims", [((2, 3, 4), (0, 2)), ((3, 2), -1), ((3,), 0),
                                        ((2, 3), (1, 0)), ((2, 3), ())])
def test_flip_matches_torch(shape, dims):
    a, = _random(shape)
    check_first_order(lambda x: cr.flip(x, dims), lambda x: torch.flip(x, _dims(dims)), a)
    check_second_order(lambda x: x.flip(dims), lambda x: x.flip(_dims(dims)), a)


def _dims(dims):
    return (dims,) if isinstance(dims, int) else dims


def test_flip_returns_a_copy_as_torch():
    x = cr.tensor(np.arange(3.0))
    y = x.flip(0)
    y.data[0] = 100.0
    assert x.tolist() == [0.0, 1.0, 2.0]


def test_flip_bad_dims():
    with pytest.raises(ValueError, match=r"flip: dim \(0, -2\) names the same dimension twice"):
        cr.ones(2, 3).flip((0, -2))
    with pytest.raises(IndexError, match=r"flip: dim 2 is out of range"):
        cr.ones(2, 3).flip(2)


# -- repeat --------------------------------------------------------------------
@pytest.mark.parametrize("shape,sizes", [((2, 3), (2, 1)), ((2, 3), (2, 1, 3)), ((3,), (2, 2)),
                                         ((2, 2), (1, 0)), ((), (3,)), ((2,), (1,))])
def test_repeat_matches_torch(shape, sizes):
    a, = _random(shape)
    check_first_order(lambda x: x.repeat(*sizes), lambda x: x.repeat(*sizes), a)
    if 0 not in sizes:   # PyTorch builds no second-order graph through an empty output
        check_second_order(lambda x: cr.repeat(x, sizes), lambda x: x.repeat(sizes), a)


def test_repeat_bad_sizes():
    with pytest.raises(ValueError, match=r"repeat: got 1 sizes \(2,\) for a tensor of shape "
                                         r"\(2, 3\); give at least one size per dimension"):
        cr.ones(2, 3).repeat(2)
    with pytest.raises(ValueError, match=r"repeat: sizes must be non-negative, got \(2, -1\)"):
        cr.ones(2, 3).repeat(2, -1)


# -- pad -----------------------------------------------------------------------
@pytest.mark.parametrize("shape,pad,value", [
    ((2, 3, 4), (1, 2), 0),
    ((2, 3, 4), (1, 2, 0, 3), 0.5),
    ((2, 3, 4), (1, -1, -1, 2, 0, 1), -2.0),
    ((2, 3, 4), (-1, -2), 0),
    ((3,), (1, -3), 0),
    ((3, 2), (0, 0, -3, 0), 0),
    ((3,), (), 0),
])
def test_pad_matches_torch(shape, pad, value):
    a, = _random(shape)
    check_first_order(lambda x: cr.pad(x, pad, value=value),
                      lambda x: TF.pad(x, pad, value=value), a)
    check_second_order(lambda x: cr.pad(x, pad, value=value),
                       lambda x: TF.pad(x, pad, value=value), a)


def test_pad_crops_past_the_edge_as_a_window():
    # pad 2 before, crop 4 after on a size-3 dimension: out[i] = x[i - 2]
    # where that exists (PyTorch refuses this case; its narrow() fails)
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = cr.pad(x, (2, -4), value=9.0)
    assert y.tolist() == [9.0]
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("pad,error,message", [
    ((1,), ValueError, r"pad: pad must hold \(left, right\) pairs for at most 2 dimension\(s\)"),
    ((1, 1, 1, 1, 1, 1), ValueError, r"at most 2 dimension\(s\) of the tensor of shape \(2, 3\)"),
    ((-2, -2), ValueError, r"pad: padding \(-2, -2\) gives the tensor of shape \(2, 3\) the "
                           r"negative size \(2, -1\)"),
    ((1.5, 1), TypeError, r"pad: pad must be ints"),
])
def test_pad_bad_inputs(pad, error, message):
    with pytest.raises(error, match=message):
        cr.pad(cr.ones(2, 3), pad)


def test_pad_modes_other_than_constant_are_refused():
    with pytest.raises(ValueError, match=r"only mode='constant' is supported"):
        cr.pad(cr.ones(2, 3), (1, 1), mode="reflect")


# -- forward mode and hypothesis -----------------------------------------------
@pytest.mark.parametrize("name", ["cat", "flip", "repeat", "pad"])
def test_jvp_agrees_with_vjp(name):
    """<v, J u> == <J^T v, u> for random u, v, on each of the op's samples."""
    op = ops.REGISTRY[name]
    rng = np.random.default_rng(0)
    for inputs, params in op.samples(rng):
        out = op(*(cr.tensor(a, requires_grad=True) for a in inputs), **params)
        ctx = out.grad_fn
        us = [rng.standard_normal(np.shape(a)) for a in inputs]
        v = rng.standard_normal(tuple(out.shape))
        forward = np.sum(v * op.jvp(ctx, *us))
        backward = sum(np.sum(g * u) for g, u in zip(op.vjp(ctx, v), us))
        np.testing.assert_allclose(forward, backward, rtol=1e-12, atol=1e-12)


shapes = st.lists(st.integers(0, 3), min_size=1, max_size=3).map(tuple)


@settings(max_examples=30, deadline=None)
@given(shapes, st.lists(st.integers(0, 3), min_size=1, max_size=3), st.data())
def test_cat_random_shapes_match_torch(shape, sizes, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    d = dim % len(shape)
    arrays = _random(*[shape[:d] + (n,) + shape[d + 1:] for n in sizes])
    check_first_order(lambda *xs: cr.cat(xs, dim), lambda *ts: torch.cat(ts, dim), *arrays)


@settings(max_examples=30, deadline=None)
@given(shapes.filter(lambda s: all(s)), st.data())
def test_pad_and_repeat_random_shapes_match_torch(shape, data):
    pairs = data.draw(st.integers(0, len(shape)))
    pad = []
    for n in shape[::-1][:pairs]:
        lo = data.draw(st.integers(-n + 1, 2))
        pad += [lo, data.draw(st.integers(-(n + min(lo, 0)) + 1, 2))]
    a, = _random(shape)
    check_first_order(lambda x: cr.pad(x, pad), lambda x: TF.pad(x, pad), a)
    sizes = data.draw(st.lists(st.integers(0, 3), min_size=len(shape), max_size=len(shape) + 1))
    check_first_order(lambda x: x.repeat(*sizes), lambda x: x.repeat(*sizes), a)
