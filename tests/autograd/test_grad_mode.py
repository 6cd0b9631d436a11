"""no_grad, enable_grad, set_grad_enabled: contexts and decorators."""
import pytest

import chainrule as cr


def test_no_grad_records_nothing_and_restores_the_mode():
    x = cr.tensor([1.0], requires_grad=True)
    with cr.no_grad():
        y = x * 2
        assert not cr.is_grad_enabled()
    assert cr.is_grad_enabled()
    assert y.grad_fn is None and not y.requires_grad


def test_enable_grad_inside_no_grad():
    x = cr.tensor([1.0], requires_grad=True)
    with cr.no_grad():
        with cr.enable_grad():
            y = x * 2
    assert y.requires_grad and y.grad_fn is not None


def test_decorators():
    x = cr.tensor([1.0], requires_grad=True)

    @cr.no_grad()
    def f(t):
        return t * 2

    @cr.enable_grad()
    def g(t):
        return t * 2

    assert f(x).grad_fn is None
    with cr.no_grad():
        assert g(x).grad_fn is not None
    assert cr.is_grad_enabled()


def test_set_grad_enabled_as_call_context_and_decorator():
    x = cr.tensor([1.0], requires_grad=True)
    with cr.set_grad_enabled(False):
        assert (x * 2).grad_fn is None
    assert cr.is_grad_enabled()

    @cr.set_grad_enabled(False)
    def f(t):
        return t * 2

    assert cr.is_grad_enabled()       # decorating did not switch the mode
    assert f(x).grad_fn is None
    cr.set_grad_enabled(False)
    assert not cr.is_grad_enabled()
    cr.set_grad_enabled(True)
    with pytest.raises(TypeError, match="mode must be a bool"):
        cr.set_grad_enabled("no")


def test_mode_is_restored_after_an_exception():
    with pytest.raises(ValueError):
        with cr.no_grad():
            raise ValueError
    assert cr.is_grad_enabled()
