"""Bad input to the transforms: each error names the transform, the problem
and the fix."""
import numpy as np
import pytest

import chainrule as cr
from chainrule import func


def square_sum(x):
    return (x * x).sum()


@pytest.mark.parametrize("transform", ["grad", "value_and_grad", "jacrev", "jacfwd",
                                       "hessian"])
def test_argnums_out_of_range(transform):
    f = getattr(func, transform)(lambda x, y: (x * y).sum(), argnums=2)
    with pytest.raises(ValueError, match=rf"cr.func.\w+: argnums=2 is out of range: f was "
                                         rf"called with 2 positional argument\(s\) \(valid: "
                                         rf"0 to 1, or -2 to -1\)"):
        f(np.ones(2), np.ones(2))
    with pytest.raises(ValueError, match="argnums=-3 is out of range"):
        getattr(func, transform)(square_sum, argnums=(0, -3))(np.ones(2), np.ones(2))


def test_argnums_of_the_wrong_kind():
    with pytest.raises(TypeError, match=r"argnums must be an int or a tuple of ints, got \[0\]"):
        func.grad(square_sum, argnums=[0])(np.ones(2))
    with pytest.raises(ValueError, match=r"argnums=\(0, -2\) names argument 0 twice"):
        func.grad(lambda x, y: x.sum(), argnums=(0, -2))(np.ones(2), np.ones(2))
    with pytest.raises(ValueError, match=r"argnums=\(\) names no argument"):
        func.jacrev(square_sum, argnums=())(np.ones(2))


@pytest.mark.parametrize("transform", ["grad", "value_and_grad"])
def test_grad_of_a_non_scalar_says_what_to_use(transform):
    with pytest.raises(ValueError, match=r"cr.func.\w+: f must return a scalar \(a tensor "
                                         r"with one element\), but it returned shape \(3,\)\. "
                                         r"For a non-scalar output use cr.func.jacrev .* or "
                                         r"cr.func.vjp"):
        getattr(func, transform)(lambda x: x * 2)(np.ones(3))


def test_grad_of_a_tuple_says_to_use_has_aux():
    with pytest.raises(ValueError, match=r"cr.func.grad: f must return one scalar tensor, "
                                         r"but it returned the structure \(\*, \*\); .* "
                                         r"has_aux=True"):
        func.grad(lambda x: (x.sum(), x))(np.ones(3))
    with pytest.raises(ValueError, match=r"with has_aux=True, f must return a pair "
                                         r"\(output, aux\), got tuple of length 3"):
        func.grad(lambda x: (x.sum(), x, x), has_aux=True)(np.ones(3))
    with pytest.raises(TypeError, match="f returned a int64 scalar"):
        func.grad(lambda x: cr.tensor(3))(np.ones(3))


@pytest.mark.parametrize("call", [
    lambda: func.grad(square_sum)(np.array([1, 2])),
    lambda: func.grad(square_sum)(2),
    lambda: func.jacfwd(square_sum)(np.array([1, 2])),
    lambda: func.jacrev(square_sum)(cr.tensor([1, 2])),
    lambda: func.vjp(square_sum, np.array([1, 2])),
    lambda: func.jvp(square_sum, (np.array([1, 2]),), (np.array([1, 2]),)),
    lambda: func.hvp(square_sum, (np.array([1, 2]),), (np.array([1, 2]),)),
], ids=["grad-array", "grad-int", "jacfwd", "jacrev", "vjp", "jvp", "hvp"])
def test_integer_inputs_cannot_be_differentiated(call):
    with pytest.raises(TypeError, match=r"has dtype int64; only floating-point inputs can be "
                                        r"differentiated\. Pass floats \(1\.0, not 1\)"):
        call()


def test_the_offending_leaf_of_a_structure_is_named():
    with pytest.raises(TypeError, match=r"argument 0, leaf 1 of \{'w': \*, 'n': \*\}, has "
                                        r"dtype int64"):
        func.grad(lambda p: p["w"].sum())({"w": np.ones(2), "n": np.array([3])})


def test_values_that_are_not_numbers():
    with pytest.raises(TypeError, match=r"cr.func.grad: argument 0 is a str; expected a "
                                        r"Tensor, a NumPy array, a float"):
        func.grad(square_sum)("1.0")
    with pytest.raises(TypeError, match="cr.func.jacrev: f must be a callable"):
        func.jacrev(3)


def test_jvp_tangents_must_match_the_primals():
    x = np.ones(3)
    with pytest.raises(ValueError, match=r"cr.func.jvp: tangent 0 has shape \(2,\) but its "
                                         r"value has shape \(3,\); they must match"):
        func.jvp(square_sum, (x,), (np.ones(2),))
    with pytest.raises(TypeError, match=r"tangent 0 has dtype float32 but its value has dtype "
                                        r"float64; convert it"):
        func.jvp(square_sum, (x,), (np.ones(3, dtype=np.float32),))
    with pytest.raises(ValueError, match=r"tangents have the structure \(\*, \*\) but primals "
                                         r"have \(\*,\)"):
        func.jvp(square_sum, (x,), (x, x))
    with pytest.raises(TypeError, match=r"primals must be a tuple .* write jvp\(f, \(x,\), "
                                        r"\(u,\)\)"):
        func.jvp(square_sum, x, (x,))


def test_vjp_cotangents_must_match_the_output():
    _, vjp_fn = func.vjp(lambda x: (x * 2, x.sum()), np.ones(3))
    with pytest.raises(ValueError, match=r"cr.func.vjp's vjp_fn: the cotangents have the "
                                         r"structure \* but f's output has the structure "
                                         r"\(\*, \*\)"):
        vjp_fn(np.ones(3))
    with pytest.raises(ValueError, match=r"cotangent 0 has shape \(2,\) but its value has "
                                         r"shape \(3,\)"):
        vjp_fn((np.ones(2), 1.0))
    with pytest.raises(ValueError, match="give at least one primal"):
        func.vjp(square_sum)


@pytest.mark.parametrize("call, inner", [
    (lambda: func.jacfwd(func.jacfwd(square_sum))(np.ones(2)), "jacfwd inside cr.func.jacfwd"),
    (lambda: func.grad(lambda x: func.jvp(square_sum, (x,), (x,))[1])(np.ones(2)),
     "jvp inside cr.func.grad"),
    (lambda: func.jacrev(func.jacfwd(square_sum))(np.ones(2)), "jacfwd inside cr.func.jacrev"),
    (lambda: func.hessian(func.hessian(square_sum))(np.ones(2)),
     "jacfwd inside cr.func.jacrev"),
], ids=["forward-over-forward", "reverse-over-jvp", "reverse-over-forward", "hessian-of-hessian"])
def test_forward_mode_inside_another_transform_is_refused(call, inner):
    """Rather than a silently wrong derivative: forward-mode tangents carry no
    reverse history, and one dual level hides another's tangents."""
    with pytest.raises(NotImplementedError, match=rf"cr.func.{inner}: forward mode must be "
                                                  rf"the outermost transform .* "
                                                  rf"jacfwd\(jacrev\(f\)\)"):
        call()
