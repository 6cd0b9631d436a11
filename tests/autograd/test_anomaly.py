"""detect_anomaly names the op and the user's line for NaN/Inf in forward and backward."""
import numpy as np
import pytest

import chainrule as cr


def test_forward_nan_is_caught_at_once():
    x = cr.tensor([-1.0, 1.0], requires_grad=True)
    with cr.autograd.detect_anomaly():
        with pytest.raises(FloatingPointError, match=r"log produced NaN.*test_anomaly.py:\d+"):
            with np.errstate(invalid="ignore"):
                x.log()


def test_backward_inf_names_the_gate_and_where_it_was_recorded():
    x = cr.tensor([0.0, 1.0], requires_grad=True)
    with cr.autograd.detect_anomaly():
        y = x.sqrt()            # fine forward; its gradient at 0 is infinite
        with pytest.raises(FloatingPointError,
                           match=r"SqrtBackward returned Inf.*test_anomaly.py:\d+"):
            with np.errstate(divide="ignore"):
                y.sum().backward()


def test_outside_the_context_nothing_is_checked():
    x = cr.tensor([0.0], requires_grad=True)
    with np.errstate(divide="ignore"):
        x.sqrt().sum().backward()
    assert np.isinf(x.grad.numpy()).all()
