"""In-place ops and version counters: a modified saved value is caught at backward."""
import numpy as np
import pytest
import torch

import chainrule as cr


def leaf(v):
    return cr.tensor(v, dtype=cr.float64, requires_grad=True)


def test_modifying_a_saved_input_makes_backward_name_the_op_and_the_line():
    x = leaf([1.0, 2.0])
    a = cr.tensor([3.0, 4.0], dtype=cr.float64)
    y = x * a                                   # MulBackward saves a
    a.add_(1)
    with pytest.raises(RuntimeError, match=r"MulBackward \(recorded at .*test_inplace.py:\d+\)"
                                           r".*modified in place"):
        y.sum().backward()


def test_modifying_a_saved_output_is_caught():
    x = leaf([1.0, 2.0])
    h = x * 1
    y = h.tanh()                                # TanhBackward saves its output y
    y.mul_(2)
    with pytest.raises(RuntimeError, match="TanhBackward"):
        y.sum().backward()


def test_a_view_shares_the_version_counter_with_its_base():
    x = leaf([1.0, 2.0, 3.0])
    base = (x * 1).detach()
    y = x * base                                 # saves base
    view = base.reshape(3, 1)
    view.zero_()
    with pytest.raises(RuntimeError, match="MulBackward"):
        y.sum().backward()


def test_in_place_ops_that_do_not_touch_saved_values_are_fine_and_match_torch():
    v = np.array([0.5, -1.0, 2.0])
    x = leaf(v)
    h = x * 2
    h += 1            # add saves nothing: h's history becomes AddBackward -> MulBackward
    h.mul_(h.detach().clone())   # mul_ saves the old h itself as a snapshot
    h.sum().backward()
    xt = torch.tensor(v, requires_grad=True)
    ht = xt * 2
    ht += 1
    ht.mul_(ht.detach().clone())
    ht.sum().backward()
    assert np.allclose(h.data, ht.detach().numpy())
    assert np.allclose(x.grad.numpy(), xt.grad.numpy())


def test_in_place_on_a_leaf_that_requires_grad_is_refused_with_the_fix():
    x = leaf([1.0])
    with pytest.raises(RuntimeError, match=r"leaf tensor.*no_grad"):
        x.add_(1)
    with cr.no_grad():
        x.add_(1)
    assert x.item() == 2.0


def test_in_place_into_a_constant_brings_it_into_the_graph():
    x = leaf([1.0, 2.0])
    c = cr.zeros(2, dtype=cr.float64)
    c += x * 3
    assert c.requires_grad and c.grad_fn.name == "AddBackward"
    c.sum().backward()
    assert np.allclose(x.grad.numpy(), [3.0, 3.0])


def test_in_place_ops_bump_the_version_and_keep_dtype():
    t = cr.tensor([1, 2, 3])
    t.add_(2)
    assert t.tolist() == [3, 4, 5] and t.dtype == cr.int64 and t._version[0] == 1
    with pytest.raises(RuntimeError, match="cannot be stored"):
        t.mul_(0.5)
    assert t.tolist() == [3, 4, 5]   # nothing corrupted


def test_in_place_cannot_change_shape():
    t = cr.zeros(2)
    with pytest.raises(RuntimeError, match=r"shape \(3, 2\).*shape \(2,\)"):
        t.add_(cr.ones(3, 2))


def test_copy_fill_and_zero():
    t = cr.zeros(2, 3)
    t.copy_(cr.tensor([1.0, 2.0, 3.0]))
    assert t.tolist() == [[1, 2, 3], [1, 2, 3]]
    t.fill_(7)
    assert (t.data == 7).all()
    t.zero_()
    assert (t.data == 0).all()


def test_copy_into_a_graph_tensor_sends_the_gradient_to_the_source():
    src = leaf([1.0, 2.0, 3.0])
    dst = cr.zeros(2, 3, dtype=cr.float64)
    dst.copy_(src * 2)
    dst.sum().backward()
    assert np.allclose(src.grad.numpy(), [4.0, 4.0, 4.0])


def test_expanded_tensors_cannot_be_modified_in_place():
    t = cr.zeros(3).expand(2, 3)
    with pytest.raises(RuntimeError, match="read-only"):
        t.add_(1)
