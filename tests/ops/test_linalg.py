"""matmul and einsum against PyTorch in float64: values, gradients under a
random upstream gradient, second derivatives through create_graph, every
shape rule (1-D, 2-D, batched with broadcasting), einsum's diagonals,
ellipses, implicit outputs and broadcast size-1 dimensions, forward mode
against reverse mode, and bad inputs."""
import string

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr
from chainrule import ops


def _close(ours, theirs, what=""):
    ours = ours.detach().numpy() if isinstance(ours, cr.Tensor) else np.asarray(ours)
    theirs = theirs.detach().numpy(force=True)
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape}, torch {theirs.shape}"
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12, err_msg=what)


def _compare(fn, torch_fn, arrays, seed=0):
    """Value; gradients for a random upstream g; and the gradients of
    sum_i <grad_i, w_i> (random w_i) with respect to the inputs and to g."""
    rng = np.random.default_rng(seed)
    xs = [cr.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    y, yt = fn(*xs), torch_fn(*ts)
    _close(y, yt, "value")
    g = rng.standard_normal(tuple(yt.shape))
    gc, gt = cr.tensor(g, requires_grad=True), torch.tensor(g, requires_grad=True)
    grads = cr.autograd.grad(y, xs, gc, create_graph=True)
    grads_t = torch.autograd.grad(yt, ts, gt, create_graph=True)
    for k, (a, b) in enumerate(zip(grads, grads_t)):
        _close(a, b, f"gradient of input {k}")
    ws = [rng.standard_normal(a.shape) for a in arrays]
    total = sum((a * cr.tensor(w)).sum() for a, w in zip(grads, ws))
    total_t = sum((b * torch.tensor(w)).sum() for b, w in zip(grads_t, ws))
    second = cr.autograd.grad(total, xs + [gc], allow_unused=True)
    second_t = torch.autograd.grad(total_t, ts + [gt], allow_unused=True)
    for k, (a, b) in enumerate(zip(second, second_t)):
        b = torch.zeros(a.shape if a is not None else ()) if b is None else b
        _close(np.zeros(b.shape) if a is None else a, b, f"second derivative {k}")


# -- matmul ---------------------------------------------------------------------------
MATMUL_SHAPES = [((3,), (3,)), ((2, 3), (3, 4)), ((3,), (3, 4)), ((2, 3), (3,)),
                 ((2, 2, 3), (3, 4)), ((2, 3), (4, 3, 2)), ((2, 1, 2, 3), (3, 3, 2)),
                 ((3,), (2, 3, 4)), ((2, 3, 4), (4,)), ((5, 2, 3), (5, 3, 1)),
                 ((1, 2, 3), (4, 3, 2)), ((2, 0, 3), (3, 4)), ((2, 0), (0, 3)),
                 ((2, 3, 0), (0, 4)), ((2, 3, 4), (4, 0)), ((0,), (0,))]


@pytest.mark.parametrize("sa, sb", MATMUL_SHAPES, ids=str)
def test_matmul_shapes_as_torch(sa, sb, rng):
    _compare(lambda a, b: a @ b, torch.matmul,
             [rng.standard_normal(sa), rng.standard_normal(sb)])


def test_matmul_with_a_transposed_operand_as_torch(rng):
    """x @ w.T (a Linear layer) and x.T @ w take the layout-preserving path."""
    x, w = rng.standard_normal((5, 3)), rng.standard_normal((4, 3))
    _compare(lambda x, w: x @ w.T, lambda x, w: x @ w.T, [x, w])
    _compare(lambda x, w: x.T @ w, lambda x, w: x.T @ w, [w, rng.standard_normal((4, 2))])


def test_matmul_gradient_is_summed_over_broadcast_batch_dims(rng):
    a = cr.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    b = cr.tensor(rng.standard_normal((5, 4, 2)), requires_grad=True)
    (a @ b).backward(cr.ones_like(a @ b))
    assert a.grad.shape == (3, 4) and b.grad.shape == (5, 4, 2)
    expected = sum(np.ones((3, 2)) @ b.data[i].T for i in range(5))
    np.testing.assert_allclose(a.grad.numpy(), expected)


def test_matmul_dot_of_vectors_is_0d(rng):
    y = cr.tensor(rng.standard_normal(3)) @ cr.tensor(rng.standard_normal(3))
    assert y.shape == ()


def test_matmul_computes_only_the_gradients_needed(rng):
    """An input that needs no gradient is not saved, so editing it in place
    after the product is no error (as PyTorch); the saved one is checked."""
    x = cr.tensor(rng.standard_normal((2, 3)))
    w = cr.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    y = x @ w
    assert y.grad_fn.name == "MatmulBackward"
    (grad_x, grad_w) = ops.matmul.vjp(y.grad_fn, np.ones((2, 4)))
    assert grad_x is None
    np.testing.assert_allclose(grad_w, x.data.T @ np.ones((2, 4)))
    w_value = w.data.copy()
    with cr.no_grad():
        w.mul_(2.0)         # w is not needed for w's own gradient
    y.backward(cr.ones_like(y))
    np.testing.assert_allclose(w.grad.numpy(), x.data.T @ np.ones((2, 4)))
    x2 = cr.tensor(w_value, requires_grad=True)
    z = x @ x2
    x.add_(1.0)             # x is needed for x2's gradient
    with pytest.raises(RuntimeError, match="modified in place"):
        z.backward(cr.ones_like(z))


@pytest.mark.parametrize("sa, sb, message", [
    ((3, 4), (5, 2), r"matmul: shapes \(3, 4\) and \(5, 2\) do not align \(4 != 5\)"),
    ((3,), (4,), r"matmul: shapes \(3,\) and \(4,\) do not align \(3 != 4\)"),
    ((2, 3), (2,), r"matmul: shapes \(2, 3\) and \(2,\) do not align \(3 != 2\)"),
    ((), (3,), r"matmul: both operands must have at least one dimension, got shapes \(\) "
               r"and \(3,\); multiply by a scalar with \* instead"),
    ((2, 3, 4), (3, 4, 5), r"matmul: the batch dimensions \(2,\) and \(3,\) of shapes "
                           r"\(2, 3, 4\) and \(3, 4, 5\) cannot be broadcast together")])
def test_matmul_bad_shapes(sa, sb, message):
    with pytest.raises(ValueError, match=message):
        cr.tensor(np.ones(sa)) @ cr.tensor(np.ones(sb))


def test_matmul_refuses_mixed_dtypes_as_torch():
    a = cr.tensor(np.ones((2, 3), dtype=np.float32))
    b = cr.tensor(np.ones((3, 2)))
    with pytest.raises(TypeError, match=r"matmul: all operands must have the same dtype, got "
                                        r"float32 and float64; convert one first"):
        a @ b


def test_matmul_keeps_float32(rng):
    a = cr.tensor(rng.standard_normal((4, 2, 3)).astype(np.float32), requires_grad=True)
    b = cr.tensor(rng.standard_normal((3, 5)).astype(np.float32), requires_grad=True)
    y = a @ b
    y.backward(cr.ones_like(y))
    assert y.dtype == a.grad.dtype == b.grad.dtype == np.float32


@st.composite
def _matmul_shapes(draw):
    """Operand shapes that PyTorch multiplies: vectors, matrices and batches
    whose batch dimensions broadcast (size 1 or missing on either side)."""
    m, k, n = (draw(st.integers(1, 3)) for _ in range(3))
    batch = draw(st.lists(st.integers(1, 3), max_size=2))
    ba = [d if draw(st.booleans()) else 1 for d in batch][draw(st.integers(0, len(batch))):]
    bb = [d if draw(st.booleans()) else 1 for d in batch][draw(st.integers(0, len(batch))):]
    sa = (k,) if draw(st.booleans()) and not ba else tuple(ba) + (m, k)
    sb = (k,) if draw(st.booleans()) and not bb else tuple(bb) + (k, n)
    return sa, sb


@settings(max_examples=30)
@given(shapes=_matmul_shapes(), seed=st.integers(0, 2**32 - 1))
def test_matmul_any_shapes_match_torch(shapes, seed):
    rng = np.random.default_rng(seed)
    _compare(lambda a, b: a @ b, torch.matmul, [rng.standard_normal(s) for s in shapes], seed)


# -- einsum --------------------------------------------------------------------------------
EINSUM_CASES = [
    ("ij,jk->ik", [(2, 3), (3, 4)]), ("i,i->", [(3,), (3,)]), ("i,j->ij", [(2,), (3,)]),
    ("ij->ji", [(2, 3)]), ("ij->", [(2, 3)]), ("ij->j", [(2, 3)]), ("bij,bjk->bik",
                                                                      [(2, 2, 3), (2, 3, 4)]),
    ("ii->i", [(3, 3)]), ("ii", [(3, 3)]), ("ii->", [(3, 3)]), ("iij->ji", [(2, 2, 3)]),
    ("iii->i", [(2, 2, 2)]), ("bii->bi", [(2, 3, 3)]), ("ii,i->i", [(3, 3), (3,)]),
    ("...ij,...jk->...ik", [(2, 1, 2, 3), (4, 3, 2)]), ("i...j,j->...i", [(2, 3, 4, 5), (5,)]),
    ("i...->...", [(2, 3, 4)]), ("...,...->...", [(2, 1), (3,)]),
    ("bij,bjk->bik", [(1, 2, 3), (4, 3, 2)]), ("ij,j->i", [(2, 3), (1,)]),
    ("ij,ij->", [(1, 3), (2, 1)]), (",ij->ij", [(), (2, 3)]),
    ("ij,j", [(2, 3), (3,)]), ("aB", [(2, 3)]), ("Ba,aC", [(2, 3), (3, 2)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]), ("i,i,i->", [(3,), (3,), (3,)]),
    ("ij,kj->ik", [(2, 3), (2, 3)]), ("i j , j k -> i k", [(2, 3), (3, 4)]),
]


@pytest.mark.parametrize("equation, shapes", EINSUM_CASES, ids=[e for e, _ in EINSUM_CASES])
def test_einsum_as_torch(equation, shapes, rng):
    _compare(lambda *xs: cr.einsum(equation, *xs), lambda *ts: torch.einsum(equation, *ts),
             [rng.standard_normal(s) for s in shapes])


def test_einsum_takes_a_list_of_operands_and_plain_arrays(rng):
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((3, 4))
    ours = cr.einsum("ij,jk->ik", [cr.tensor(a), b])
    np.testing.assert_allclose(ours.numpy(), a @ b)
    np.testing.assert_allclose(ops.einsum(a, b, equation="ij,jk->ik"), a @ b)


def test_einsum_diagonal_gradient_lands_on_the_diagonal():
    x = cr.tensor(np.arange(9.0).reshape(3, 3), requires_grad=True)
    cr.einsum("ii->i", x).backward(cr.tensor([1.0, 2.0, 3.0], dtype=cr.float64))
    np.testing.assert_array_equal(x.grad.numpy(), np.diag([1.0, 2.0, 3.0]))


def test_einsum_bad_inputs():
    x = cr.tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"einsum: 'ij,jk->ik' does not fit operands of "
                                         r"shapes \(2, 3\), \(2, 3\)"):
        cr.einsum("ij,jk->ik", x, x)
    with pytest.raises(ValueError, match=r"einsum: 'ij->ij' does not fit operands of shapes "
                                         r"\(2, 3\), \(2, 3\)"):
        cr.einsum("ij->ij", x, x)
    with pytest.raises(TypeError, match=r"einsum: equation must be a string such as "
                                        r"'ij,jk->ik', got int"):
        ops.einsum(x, equation=3)
    with pytest.raises(ValueError, match=r"einsum: expects at least one operand"):
        ops.einsum(equation="->")
    with pytest.raises(TypeError, match=r"einsum: all operands must have the same dtype, got "
                                        r"float64 and float32"):
        cr.einsum("ij,jk", x, cr.tensor(np.ones((3, 2), dtype=np.float32)))


def test_einsum_gradient_out_of_letters_is_not_implemented():
    """All 52 letters in use and a repeated one: its diagonal needs a 53rd."""
    letters = string.ascii_letters
    equation = letters + "a->" + letters[1:]
    x = cr.tensor(np.ones((1,) * 53), requires_grad=True)
    y = cr.einsum(equation, x)
    with pytest.raises(NotImplementedError,
                       match=r"einsum: the gradient of 'abc.*' is not supported \(it needs "
                             r"more subscript letters than remain\)"):
        y.backward(cr.ones_like(y))


@st.composite
def _contractions(draw):
    """A random two-operand einsum with letters shared, summed, kept,
    repeated within an operand, and sizes 1 that broadcast."""
    letters = "abcde"
    size = {c: draw(st.integers(1, 3)) for c in letters}
    a = draw(st.lists(st.sampled_from(letters), min_size=0, max_size=3))
    b = draw(st.lists(st.sampled_from(letters), min_size=0, max_size=3))
    used = sorted(set(a) | set(b))
    out = draw(st.lists(st.sampled_from(used), unique=True, max_size=len(used))) if used else []
    out = draw(st.permutations(out))

    def shape(subs):
        seen = {}
        for c in subs:      # a size-1 broadcast, but a repeated letter keeps one size
            seen.setdefault(c, 1 if draw(st.booleans()) and draw(st.booleans()) else size[c])
        return tuple(seen[c] for c in subs)
    return "".join(a) + "," + "".join(b) + "->" + "".join(out), [shape(a), shape(b)]


@settings(max_examples=40)
@given(case=_contractions(), seed=st.integers(0, 2**32 - 1))
def test_einsum_random_contractions_match_torch(case, seed):
    equation, shapes = case
    rng = np.random.default_rng(seed)
    _compare(lambda *xs: cr.einsum(equation, *xs), lambda *ts: torch.einsum(equation, *ts),
             [rng.standard_normal(s) for s in shapes], seed)


# -- forward mode against reverse mode ----------------------------------------------------------
@pytest.mark.parametrize("name", ["matmul", "einsum"])
def test_jvp_is_the_adjoint_of_vjp(name, rng):
    op = ops.REGISTRY[name]
    for inputs, params in op.samples(rng):
        xs = [cr.tensor(a, requires_grad=True) for a in inputs]
        y = op(*xs, **params)
        us = [rng.standard_normal(a.shape) for a in inputs]
        v = rng.standard_normal(y.shape)
        ju = op.jvp(y.grad_fn, *us)
        jtv = op.vjp(y.grad_fn, v)
        assert np.sum(v * ju) == pytest.approx(sum(np.sum(g * u) for g, u in zip(jtv, us)),
                                               rel=1e-10, abs=1e-12)


def test_jvp_with_one_tangent(rng):
    a = cr.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    b = cr.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    u = rng.standard_normal((3, 4))
    node = (a @ b).grad_fn
    np.testing.assert_allclose(ops.matmul.jvp(node, None, u), a.data @ u)
    node = cr.einsum("ij,jk->ik", a, b).grad_fn
    np.testing.assert_allclose(ops.einsum.jvp(node, None, u), a.data @ u)
