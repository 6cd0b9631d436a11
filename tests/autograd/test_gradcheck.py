"""gradcheck and gradgradcheck: they pass right gradients, and name the input,
the element, both values and the relative error of a wrong one.

Wrong gradients come from small unregistered ops whose vjp is broken on
purpose, so the expected numerical and analytic values are known in closed form.
"""
import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd.gradcheck import (
    GradcheckError, gradcheck, gradcheck_report, gradgradcheck, gradgradcheck_report)
from chainrule.ops.registry import Op, as_array


class SquareMissingFactor(Op):
    """y = x**2 with the factor 2 missing from its vjp (and jvp)."""
    name = "square_missing_factor"

    def forward(self, ctx, x):
        ctx.save(x=x)
        return x * x

    def vjp(self, ctx, grad_out):
        return (grad_out * ctx.x,)


class ProductWrongAtOneElement(Op):
    """y = a * b, elementwise; d y / d a is off by one at element ``BAD``."""
    name = "product_wrong_at_one_element"
    BAD = (1, 2)

    def forward(self, ctx, a, b):
        ctx.save(a=a, b=b)
        return a * b

    def vjp(self, ctx, grad_out):
        bump = np.zeros(np.shape(ctx.b))
        bump[self.BAD] = 1.0
        return (grad_out * (ctx.b + bump), grad_out * ctx.a)


class SquareDetachedInBackward(Op):
    """y = x**2 whose vjp reads x as a plain array: right first derivative,
    but under create_graph the second derivative loses the x-dependence."""
    name = "square_detached_in_backward"

    def forward(self, ctx, x):
        ctx.save(x=x)
        return x * x

    def vjp(self, ctx, grad_out):
        return (grad_out * (2 * as_array(ctx.x)),)


class ShapeBug(Op):
    """y = sum(x) whose vjp forgets to broadcast the gradient back."""
    name = "shape_bug"

    def forward(self, ctx, x):
        return np.sum(x)

    def vjp(self, ctx, grad_out):
        return (grad_out,)


square_missing_factor = SquareMissingFactor()
product_wrong_at_one_element = ProductWrongAtOneElement()
square_detached_in_backward = SquareDetachedInBackward()
shape_bug = ShapeBug()


def leaf(array):
    return cr.tensor(np.asarray(array, dtype=np.float64), requires_grad=True)


# -- passing ---------------------------------------------------------------------
def test_gradcheck_passes_right_gradients_of_several_inputs(rng):
    x, y = leaf(rng.standard_normal((2, 3))), leaf(rng.standard_normal(3))
    assert gradcheck(lambda a, b: (a * b).tanh() / (1 + b * b), (x, y)) is True


def test_gradcheck_passes_reductions_and_tuple_outputs(rng):
    x = leaf(rng.standard_normal((3, 4)))
    assert gradcheck(lambda a: (a.sum(1), (a * a).mean(0, keepdim=True)), x) is True


def test_gradgradcheck_passes_right_second_derivatives(rng):
    x, y = leaf(rng.uniform(0.5, 2.0, (2, 3))), leaf(rng.uniform(0.5, 2.0, (3,)))
    assert gradgradcheck(lambda a, b: (a ** b).sin() * a.log(), (x, y)) is True


def test_constants_among_inputs_are_passed_through_unchecked(rng):
    x = leaf(rng.standard_normal(4))
    scale = np.float64(3.0)
    frozen = cr.tensor(rng.standard_normal(4))       # no requires_grad: not checked
    assert gradcheck(lambda a, s, c: a * s + c.exp(), (x, scale, frozen))


def test_non_leaf_and_non_contiguous_inputs_are_checked(rng):
    x = leaf(rng.standard_normal((3, 2))).T          # a transposed view, not a leaf
    assert not x.is_leaf and not x.data.flags.c_contiguous
    assert gradcheck(lambda a: (a * a).sum(0), x)
    with pytest.raises(GradcheckError, match=r"input 0 at element \(\d, \d\)"):
        gradcheck(square_missing_factor, x)


def test_integer_outputs_are_ignored(rng):
    x = leaf(rng.standard_normal(5))
    assert gradcheck(lambda a: (a.exp(), cr.tensor(np.arange(3))), x)


def test_the_report_gives_the_largest_relative_error_of_a_pass(rng):
    x = leaf(rng.standard_normal(3))
    report = gradcheck_report(lambda a: a.sin(), x)
    assert report.passed and 0 <= report.max_relative_error < 1e-6
    report2 = gradgradcheck_report(lambda a: a.sin(), x)
    assert report2.passed and 0 <= report2.max_relative_error < 1e-6


# -- failing ---------------------------------------------------------------------
def test_gradcheck_names_the_input_the_element_and_both_values(rng):
    x = leaf(rng.uniform(1.0, 2.0, (2, 3)))
    w = leaf(rng.uniform(1.0, 2.0, (2, 3)))
    with pytest.raises(GradcheckError) as info:
        gradcheck(product_wrong_at_one_element, (w, x))
    entry = info.value.entry
    want_numerical = x.data[1, 2]          # d(w * x)/dw = x
    assert entry.input_index == 0
    assert entry.element == (1, 2) and entry.output_element == (1, 2)
    assert entry.numerical == pytest.approx(want_numerical, rel=1e-8)
    assert entry.analytic == pytest.approx(want_numerical + 1, rel=1e-12)
    assert entry.relative_error == pytest.approx(1 / (want_numerical + 1e-5 / 1e-3), rel=1e-6)
    message = str(info.value)
    assert "input 0 at element (1, 2)" in message
    assert f"numerical {entry.numerical:.10g}" in message
    assert f"analytic {entry.analytic:.10g}" in message
    assert "relative error" in message


def test_gradcheck_finds_the_wrong_input_among_several(rng):
    x = leaf(rng.uniform(1.0, 2.0, (3,)))
    with pytest.raises(GradcheckError, match=r"input 1 at element \(\d,\)") as info:
        gradcheck(lambda a, b: a.exp() + square_missing_factor(b), (x, leaf(x.data + 1)))
    entry = info.value.entry
    b = x.data + 1
    k = entry.element[0]
    assert entry.numerical == pytest.approx(2 * b[k], rel=1e-8)
    assert entry.analytic == pytest.approx(b[k], rel=1e-12)


def test_gradcheck_names_the_output_of_a_tuple(rng):
    x = leaf(rng.uniform(1.0, 2.0, (2,)))
    with pytest.raises(GradcheckError, match=r"output 1, element") as info:
        gradcheck(lambda a: (a.sin(), square_missing_factor(a)), x)
    assert info.value.entry.output_index == 1


def test_raise_exception_false_returns_false(rng):
    x = leaf(rng.uniform(1.0, 2.0, (2,)))
    assert gradcheck(square_missing_factor, x, raise_exception=False) is False
    assert gradgradcheck(square_detached_in_backward, x, raise_exception=False) is False


def test_a_gradient_of_the_wrong_shape_is_reported(rng):
    with pytest.raises(GradcheckError, match=r"input 0 has shape \(\), but that input has "
                                             r"shape \(2, 3\)"):
        gradcheck(shape_bug, leaf(rng.standard_normal((2, 3))))


def test_a_detached_output_disagrees_with_finite_differences(rng):
    x = leaf(rng.uniform(1.0, 2.0, (3,)))
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda a: a.detach() * a, x)
    k = info.value.entry.element[0]
    assert info.value.entry.numerical == pytest.approx(2 * x.data[k], rel=1e-8)
    assert info.value.entry.analytic == pytest.approx(x.data[k], rel=1e-12)


def test_gradgradcheck_catches_a_backward_that_is_not_differentiable(rng):
    x = leaf(rng.uniform(1.0, 2.0, (3,)))
    v = leaf(rng.standard_normal(3))
    assert gradcheck(square_detached_in_backward, x)      # the first derivative is right
    with pytest.raises(GradcheckError, match=r"gradgradcheck: .*input 0 at element .*"
                                             r"the gradient w.r.t. input 0") as info:
        gradgradcheck(square_detached_in_backward, x, grad_outputs=v)
    entry = info.value.entry
    k = entry.element[0]
    # d/dx of v * 2x is 2v; the detached formula gives 0
    assert entry.numerical == pytest.approx(2 * v.data[k], rel=1e-8)
    assert entry.analytic == 0.0


# -- bad arguments -----------------------------------------------------------------
def test_float32_inputs_are_rejected_with_the_fix():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match=r"input 0 has dtype float32.*double\(\)"):
        gradcheck(lambda a: a * 2, x)
    with pytest.raises(TypeError, match=r"gradgradcheck: input 0 has dtype float32"):
        gradgradcheck(lambda a: a * a, x)


def test_no_input_requiring_grad_is_an_error():
    with pytest.raises(ValueError, match="no input requires grad"):
        gradcheck(lambda a: a * 2, cr.tensor(np.ones(2)))


def test_fn_must_return_tensors():
    with pytest.raises(TypeError, match="fn must return a Tensor or a tuple of Tensors, got "
                                        "ndarray"):
        gradcheck(lambda a: a.data, leaf(np.ones(2)))


def test_inputs_must_be_a_tensor_or_tuple():
    with pytest.raises(TypeError, match="inputs must be a Tensor or a tuple"):
        gradcheck(lambda a: a, np.ones(2))


@pytest.mark.parametrize("kwargs, match", [({"eps": 0}, "eps must be positive"),
                                           ({"rtol": 0}, "rtol must be positive"),
                                           ({"atol": -1}, "atol non-negative")])
def test_tolerances_are_validated(kwargs, match):
    with pytest.raises(ValueError, match=match):
        gradcheck(lambda a: a * 2, leaf(np.ones(2)), **kwargs)


def test_gradgradcheck_grad_outputs_must_match_the_outputs():
    x = leaf(np.ones(3))
    with pytest.raises(ValueError, match=r"got 2 grad_outputs for 1 outputs"):
        gradgradcheck(lambda a: a * a, x, grad_outputs=(leaf(np.ones(3)), leaf(np.ones(3))))
    with pytest.raises(ValueError, match=r"grad_outputs\[0\] must be a Tensor of the "
                                         r"output's shape \(3,\), got \(2,\)"):
        gradgradcheck(lambda a: a * a, x, grad_outputs=leaf(np.ones(2)))


def test_gradgradcheck_needs_an_output_that_requires_grad():
    with pytest.raises(ValueError, match="no output of fn requires grad"):
        gradgradcheck(lambda a: a.detach(), leaf(np.ones(2)))
