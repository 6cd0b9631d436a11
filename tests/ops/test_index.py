"""Indexing: x[index], x[index] = value, gather and scatter_add, against
PyTorch in float64 (values, gradients, second order) and NumPy where PyTorch
has no equivalent (negative steps, the last write winning)."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr
from chainrule import ops
from ops.torch_twin import assert_close, check_first_order, check_second_order

MASK = np.array([[True, False, True, True], [False, False, False, True],
                 [True, True, False, False]])

# name -> (shape of x, index written with NumPy arrays)
CASES = {
    "int": ((3, 4), 1),
    "negative ints": ((3, 4), (-1, -2)),
    "slices with steps": ((5, 4), (slice(1, None, 2), slice(None, 3))),
    "None, Ellipsis, slice": ((2, 3, 4), (None, Ellipsis, slice(1, 3))),
    "repeated list": ((3, 4), [0, 0, 1]),
    "repeated array with a negative entry": ((3, 4), (slice(None), np.array([3, -1, 3]))),
    "arrays broadcasting together": ((3, 4, 5), (np.array([[0], [2]]), np.array([1, 1, 3]))),
    "arrays separated by a slice": ((3, 4, 5), (np.array([[0], [2]]), slice(None),
                                                np.array([1, 1, 4]))),
    "int and array": ((3, 4, 5), (1, slice(None), np.array([0, 0, 4]))),
    "None among arrays": ((3, 4), (np.array([0, 2]), None, np.array([1, 1]))),
    "bool mask": ((3, 4), MASK),
    "bool mask on leading dims": ((3, 4, 2), MASK),
    "bool vector and slice": ((3, 4), (np.array([True, False, True]), slice(1, 3))),
    "0-d int index": ((3, 4), np.array(2)),
    "python bool": ((3,), True),
}


def _torch_index(index):
    if isinstance(index, tuple):
        return tuple(_torch_index(e) for e in index)
    if isinstance(index, (np.ndarray, list)):
        return torch.tensor(np.asarray(index))
    return index


def _cr_index(index, as_tensor):
    if isinstance(index, tuple):
        return tuple(_cr_index(e, as_tensor) for e in index)
    if as_tensor and isinstance(index, np.ndarray):
        return cr.tensor(index)
    return index


def _random(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


@pytest.mark.parametrize("as_tensor", [False, True], ids=["arrays", "tensors"])
@pytest.mark.parametrize("case", CASES)
def test_getitem_matches_torch(case, as_tensor):
    shape, index = CASES[case]
    check_first_order(lambda x: x[_cr_index(index, as_tensor)],
                      lambda x: x[_torch_index(index)], _random(shape))


@pytest.mark.parametrize("case", ["slices with steps", "repeated list", "bool mask",
                                  "arrays separated by a slice", "None among arrays"])
def test_getitem_second_order_matches_torch(case):
    shape, index = CASES[case]
    check_second_order(lambda x: x[index], lambda x: x[_torch_index(index)], _random(shape))


def test_repeated_indices_accumulate():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 0, 1]].sum().backward()
    xt = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    xt[[0, 0, 1]].sum().backward()
    assert_close(x.grad, xt.grad)
    assert x.grad.tolist() == [2.0, 1.0, 0.0]


def test_negative_steps():
    # PyTorch has no negative steps: values come from NumPy, gradients from
    # the equivalent flip-then-slice in PyTorch
    a = _random((3, 4))
    check_first_order(lambda x: x[1:, ::-2], lambda x: x[1:].flip(1)[:, ::2], a)
    check_first_order(lambda x: x[2:0:-1, -1], lambda x: x[1:3].flip(0)[:, -1], a)
    np.testing.assert_array_equal(cr.tensor(a)[::-1, 3:0:-2].numpy(), a[::-1, 3:0:-2])


def test_none_ellipsis_slice_shape():
    x = cr.tensor(_random((2, 3, 4)))
    assert x[None, ..., 1:3].shape == (1, 2, 3, 2)
    assert x[..., None].shape == (2, 3, 4, 1)
    assert x[0, ..., 0].shape == (3,)


def test_basic_index_is_a_view_and_advanced_a_copy():
    x = cr.tensor(np.arange(12.0).reshape(3, 4))
    row, picked = x[1], x[[1]]
    x.data[1, 0] = 100.0
    assert row[0].item() == 100.0
    assert picked[0, 0].item() == 4.0
    assert x[1, 2].shape == () and np.shares_memory(x[1, 2].data, x.data)


def test_grad_fn_names():
    x = cr.tensor(_random((3, 4)), requires_grad=True)
    assert x[1:].grad_fn.name == "GetitemBackward"
    assert x[[0, 1]].grad_fn.name == "IndexBackward"
    assert x[MASK].grad_fn.name == "IndexBackward"


def test_index_tensor_edited_after_forward_does_not_change_the_gradient():
    idx = cr.tensor([0, 0, 2])
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x[idx]
    idx.data[:] = 1
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 0.0, 1.0]


def test_empty_list_selects_nothing():
    x = cr.tensor(_random((3, 4)), requires_grad=True)
    y = x[[]]
    assert y.shape == (0, 4)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((3, 4)))


def test_index_on_plain_arrays():
    a = _random((3, 4))
    np.testing.assert_array_equal(ops.getitem(a, index=(slice(None), [2, 0])), a[:, [2, 0]])
    np.testing.assert_array_equal(ops.getitem(a, index=(1, slice(None, None, -1))), a[1, ::-1])


# -- x[index] = value ----------------------------------------------------------
SETITEM_CASES = {
    "int row, scalar": (1, 5.0),
    "slice, broadcast row": ((slice(1, None), slice(None)), np.array([1.0, 2.0, 3.0, 4.0])),
    "array, tensor value": (np.array([0, 2]), (2, 4)),
    "mask, scalar": (MASK, 0.0),
    "mask, tensor value": (MASK, (6,)),
    "leading 1 dims dropped": (0, (1, 1, 4)),
}  # a tuple value is the shape of a tensor value that also gets gradients


@pytest.mark.parametrize("case", SETITEM_CASES)
def test_setitem_matches_torch(case):
    index, value = SETITEM_CASES[case]
    a = _random((3, 4))
    if isinstance(value, tuple):
        v = _random(value, seed=1)

        def fn(x, val):
            y = x.clone()
            y[index] = val
            return y * y

        def torch_fn(x, val):
            y = x.clone()
            y[_torch_index(index)] = val
            return y * y

        check_first_order(fn, torch_fn, a, v)
        check_second_order(fn, torch_fn, a, v)
    else:
        def fn(x):
            y = x.clone()
            y[index] = value
            return y * y

        def torch_fn(x):
            y = x.clone()
            y[_torch_index(index)] = torch.as_tensor(value)
            return y * y

        check_first_order(fn, torch_fn, a)


def test_setitem_int_and_array_follow_torch():
    # PyTorch applies the int first: the indexed shape is (4, 2), not NumPy's (2, 4)
    index = (1, slice(None), np.array([0, 2]))

    def fn(x, val):
        y = x.clone()
        y[index] = val
        return y * y

    def torch_fn(x, val):
        y = x.clone()
        y[_torch_index(index)] = val
        return y * y

    check_first_order(fn, torch_fn, _random((3, 4, 5)), _random((4, 2), seed=1))


def test_setitem_clone_sum_backward():
    x = cr.tensor(_random((2, 3)), requires_grad=True)
    y = x.clone()
    y[0] = 5
    y.sum().backward()
    xt = torch.tensor(x.detach().numpy(), requires_grad=True)
    yt = xt.clone()
    yt[0] = 5
    yt.sum().backward()
    assert_close(y, yt)
    assert_close(x.grad, xt.grad)


def test_setitem_without_grad_writes_in_place():
    x = cr.zeros(3, 4)
    x[x.detach() == 0] = 2.0
    x[1, 1:3] = cr.tensor([7.0, 8.0])
    want = np.full((3, 4), 2.0)
    want[1, 1:3] = [7.0, 8.0]
    np.testing.assert_array_equal(x.numpy(), want)


def test_gradients_keep_their_dtypes():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)          # float32
    x[[0, 0]].sum().backward()
    assert x.grad.dtype == cr.float32 and x.grad.tolist() == [2.0, 0.0, 0.0]
    buffer = cr.zeros(3)                                        # float32, no grad
    v = cr.tensor(np.array([2.0, 3.0]), requires_grad=True)     # float64
    buffer[[0, 2]] = v
    assert buffer.dtype == cr.float32 and buffer.grad_fn.name == "IndexPutBackward"
    (buffer * cr.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert v.grad.dtype == cr.float64 and v.grad.tolist() == [1.0, 3.0]


def test_setitem_on_a_leaf_that_requires_grad_is_refused():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        x[0] = 3.0


def test_setitem_repeated_positions_last_write_wins():
    # PyTorch leaves this undefined and gives every duplicate a gradient; here
    # the forward is NumPy's (last write wins) and only that write gets one
    x = cr.tensor(np.zeros(3), requires_grad=True)
    v = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x.clone()
    y[[0, 2, 0]] = v
    want = np.zeros(3)
    want[[0, 2, 0]] = [1.0, 2.0, 3.0]
    np.testing.assert_array_equal(y.detach().numpy(), want)
    g = np.array([10.0, 20.0, 30.0])
    y.backward(cr.tensor(g))
    assert v.grad.tolist() == [0.0, 30.0, 10.0]
    assert x.grad.tolist() == [0.0, 20.0, 0.0]


def test_index_put_with_repeats_matches_finite_differences():
    rng = np.random.default_rng(3)
    x, v = rng.standard_normal((4, 3)), rng.standard_normal((5, 3))
    index = np.array([1, 3, 1, 0, 3])
    g = rng.standard_normal((4, 3))
    for accumulate in (False, True):
        xt, vt = cr.tensor(x, requires_grad=True), cr.tensor(v, requires_grad=True)
        ops.index_put(xt, vt, index=index, accumulate=accumulate).backward(cr.tensor(g))

        def loss(x_, v_):
            return np.sum(g * ops.index_put(x_, v_, index=index, accumulate=accumulate))

        for arr, analytic, which in ((x, xt.grad.numpy(), 0), (v, vt.grad.numpy(), 1)):
            numeric = np.zeros_like(arr)
            for k in np.ndindex(arr.shape):
                step = np.zeros_like(arr)
                step[k] = 1e-6
                args_plus = [x, v]
                args_minus = [x, v]
                args_plus[which], args_minus[which] = arr + step, arr - step
                numeric[k] = (loss(*args_plus) - loss(*args_minus)) / 2e-6
            np.testing.assert_allclose(analytic, numeric, atol=1e-8)


def test_index_put_accumulate_matches_torch():
    index = np.array([2, 0, 2, 2])

    def fn(x, v):
        return ops.index_put(x, v, index=index, accumulate=True) ** 2

    def torch_fn(x, v):
        return torch.index_put(x, (torch.tensor(index),), v, accumulate=True) ** 2

    check_first_order(fn, torch_fn, _random((3, 2)), _random((4, 2), seed=1))
    check_second_order(fn, torch_fn, _random((3, 2)), _random((4, 2), seed=1))


# -- gather and scatter_add ----------------------------------------------------
GATHER_CASES = [
    ((3, 4), 1, np.array([[0, 0], [3, 1], [2, 2]])),
    ((3, 4), 0, np.array([[2, 0, 2, 1], [0, 0, 1, 1]])),
    ((3, 4), -1, np.array([[3], [3], [0]])),
    ((2, 3, 2), 1, np.array([[[0, 2], [1, 1]], [[2, 2], [0, 0]]])),
    ((), 0, np.array(0)),
]


@pytest.mark.parametrize("shape,dim,index", GATHER_CASES)
def test_gather_matches_torch(shape, dim, index):
    check_first_order(lambda x: cr.gather(x, dim, cr.tensor(index)),
                      lambda x: torch.gather(x, dim, torch.tensor(index)), _random(shape))
    check_second_order(lambda x: x.gather(dim, index),
                       lambda x: x.gather(dim, torch.tensor(index)), _random(shape))


def test_scatter_add_matches_torch():
    index = np.array([[0, 2, 2, 1], [0, 0, 2, 1]])

    def fn(x, src):
        return ops.scatter_add(x, index, src, dim=0)

    def torch_fn(x, src):
        return torch.scatter_add(x, 0, torch.tensor(index), src)

    check_first_order(fn, torch_fn, _random((3, 4)), _random((2, 4), seed=1))
    check_second_order(fn, torch_fn, _random((3, 4)), _random((2, 4), seed=1))


# -- forward mode agrees with reverse mode -------------------------------------
@pytest.mark.parametrize("name", ["getitem", "index", "index_put", "gather", "scatter_add"])
def test_jvp_agrees_with_vjp(name):
    """<v, J u> == <J^T v, u> for random u, v, on each of the op's samples."""
    op = ops.REGISTRY[name]
    rng = np.random.default_rng(0)
    for inputs, params in op.samples(rng):
        float_ins = [i for i, a in enumerate(inputs) if np.result_type(a).kind == "f"]
        out = op(*(cr.tensor(a, requires_grad=i in float_ins) for i, a in enumerate(inputs)),
                 **params)
        ctx = out.grad_fn          # the recorded node is the ctx forward saved into
        us = [rng.standard_normal(np.shape(a)) if i in float_ins else None
              for i, a in enumerate(inputs)]
        v = rng.standard_normal(tuple(out.shape))
        forward = np.sum(v * op.jvp(ctx, *us))
        backward = sum(np.sum(g * u) for g, u in zip(op.vjp(ctx, v), us) if u is not None)
        np.testing.assert_allclose(forward, backward, rtol=1e-12, atol=1e-12)


# -- hypothesis: random shapes and indices against PyTorch ----------------------
@st.composite
def shapes_and_indices(draw):
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    index = []
    for n in shape:
        kind = draw(st.sampled_from(["int", "slice", "array", "mask", "full"]))
        if kind == "int":
            index.append(draw(st.integers(-n, n - 1)))
        elif kind == "slice":
            start = draw(st.integers(-n, n))
            index.append(slice(start, draw(st.integers(-n, n)), draw(st.integers(1, 3))))
        elif kind == "array":
            index.append(np.array(draw(st.lists(st.integers(-n, n - 1), min_size=1,
                                                max_size=5))))
        elif kind == "mask":
            index.append(np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n))))
        else:
            index.append(slice(None))
    if draw(st.booleans()):
        index.insert(draw(st.integers(0, len(index))), None)
    return shape, tuple(index)


@settings(max_examples=40, deadline=None)
@given(shapes_and_indices(), st.integers(0, 2**32 - 1))
def test_getitem_random_indices_match_torch(shape_index, seed):
    shape, index = shape_index
    # a mask stands for the positions where it is True
    arrays = [np.flatnonzero(e) if e.dtype == bool else e
              for e in index if isinstance(e, np.ndarray)]
    try:
        np.broadcast_shapes(*(a.shape for a in arrays))
    except ValueError:
        with pytest.raises(IndexError, match="cannot be broadcast together"):
            cr.tensor(_random(shape))[index]
        return
    check_first_order(lambda x: x[index], lambda x: x[_torch_index(index)],
                      _random(shape, seed), seed=seed)


# -- bad inputs ----------------------------------------------------------------
@pytest.mark.parametrize("index,error,message", [
    ((0, 5), IndexError, r"index 5 is out of range for dimension 1 with size 4"),
    (-4, IndexError, r"index -4 is out of range for dimension 0 with size 3"),
    ([0, 3], IndexError, r"index 3 is out of range for dimension 0 with size 3"),
    ((Ellipsis, np.array([1, -7])), IndexError,
     r"index -7 is out of range for dimension 1 with size 4"),
    ((0, 1, 2), IndexError, r"too many indices for a tensor of shape \(3, 4\)"),
    ((Ellipsis, 0, Ellipsis), IndexError, r"single ellipsis"),
    (np.ones((3, 3), dtype=bool), IndexError,
     r"boolean mask of shape \(3, 3\) does not match the shape \(3, 4\)"),
    (([0, 1], [0, 1, 2]), IndexError,
     r"index arrays have shapes \(2,\), \(3,\), which cannot be broadcast together"),
    (1.5, TypeError, r"cannot index with float 1.5"),
    (np.array([0.0, 1.0]), TypeError, r"must hold integers or booleans, got dtype float64"),
    (slice(None, None, 0), ValueError, r"slice step cannot be zero"),
])
def test_getitem_bad_indices(index, error, message):
    x = cr.tensor(_random((3, 4)))
    with pytest.raises(error, match=message):
        x[index]


def test_setitem_bad_inputs():
    y = cr.tensor(_random((3, 4)))
    with pytest.raises(ValueError, match=r"index_put: value of shape \(3,\) cannot be broadcast "
                                         r"to the indexed shape \(4,\)"):
        y[0] = cr.tensor([1.0, 2.0, 3.0])
    with pytest.raises(IndexError, match=r"index_put: index 3 is out of range for dimension 0"):
        y[3] = 1.0
    with pytest.raises(TypeError, match=r"index_put: cannot index with float 1.5"):
        y[1.5] = 1.0


@pytest.mark.parametrize("x_shape,dim,index,error,message", [
    ((3, 4), 1, np.array([[0.0]]), TypeError, r"gather: index must be an integer tensor"),
    ((3, 4), 1, np.array([0, 1]), ValueError,
     r"index has shape \(2,\) but the input has shape \(3, 4\)"),
    ((3, 4), 1, np.array([[4]]), IndexError,
     r"index 4 is out of range for dimension 1 with size 4"),
    ((3, 4), 1, np.array([[-1]]), IndexError, r"index -1 is out of range .* \[0, 4\)"),
    ((3, 4), 1, np.zeros((4, 1), dtype=np.int64), ValueError,
     r"larger than the input of shape \(3, 4\) in dimension 0 \(4 > 3\)"),
    ((3, 4), 2, np.zeros((3, 1), dtype=np.int64), IndexError, r"dim 2 is out of range"),
])
def test_gather_bad_inputs(x_shape, dim, index, error, message):
    with pytest.raises(error, match=message):
        cr.gather(cr.tensor(_random(x_shape)), dim, cr.tensor(index))


def test_scatter_add_src_must_match_index():
    with pytest.raises(ValueError, match=r"src has shape \(3, 4\) but index has shape \(1, 4\)"):
        ops.scatter_add(np.zeros((3, 4)), np.zeros((1, 4), dtype=np.int64),
                        np.ones((3, 4)), dim=0)
