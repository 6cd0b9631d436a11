"""The Optimizer base: groups, state, zero_grad, step, checkpoints, errors."""
import copy

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.optim as optim
from optim.quadratic_problem import STEPS, chainrule_params, groups, run, torch_params

ALL = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"]


def _param(values):
    return cr.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


# -- parameter groups ----------------------------------------------------------

def test_groups_are_filled_with_defaults_and_keep_their_overrides():
    w, b, frozen = chainrule_params()
    opt = optim.SGD([{"params": [w]}, {"params": [b], "lr": 0.5, "momentum": 0.1}],
                    lr=0.01, momentum=0.9)
    g0, g1 = opt.param_groups
    assert g0["params"] == [w] and g0["lr"] == 0.01 and g0["momentum"] == 0.9
    assert g1["params"] == [b] and g1["lr"] == 0.5 and g1["momentum"] == 0.1
    assert g1["nesterov"] is False and g1["dampening"] == 0.0
    opt.add_param_group({"params": frozen, "weight_decay": 0.2})
    g2 = opt.param_groups[2]
    assert g2["params"] == [frozen] and g2["lr"] == 0.01 and g2["weight_decay"] == 0.2


def test_params_may_come_from_a_generator_as_model_parameters_does():
    params = chainrule_params()
    opt = optim.Adam(p for p in params)
    assert opt.param_groups[0]["params"] == params


def test_add_param_group_steps_the_new_parameters_with_their_options():
    p, q = _param([1.0, 2.0]), _param([3.0])
    opt = optim.SGD([p], lr=0.1)
    opt.add_param_group({"params": [q], "lr": 0.5})
    p.grad, q.grad = cr.tensor(np.array([1.0, 1.0])), cr.tensor(np.array([2.0]))
    opt.step()
    np.testing.assert_array_equal(p.data, [1.0 - 0.1, 2.0 - 0.1])
    np.testing.assert_array_equal(q.data, [3.0 - 0.5 * 2.0])


def test_parameters_without_gradient_are_skipped_and_get_no_state():
    params = chainrule_params()
    opt = optim.Adam(params, lr=0.1)
    run(opt, params, 3)
    np.testing.assert_array_equal(params[2].data, chainrule_params()[2].data)
    assert params[2] not in opt.state and params[0] in opt.state


def test_a_parameter_that_does_not_require_grad_is_accepted_as_in_torch():
    plain = cr.tensor(np.ones(3))
    opt = optim.SGD([plain], lr=0.1)
    torch.optim.SGD([torch.ones(3)], lr=0.1)        # PyTorch accepts it too
    opt.step()
    np.testing.assert_array_equal(plain.data, np.ones(3))


def test_any_object_with_ndarray_data_and_grad_can_be_optimized():
    class Holder:
        def __init__(self, data):
            self.data, self.grad = data, None

    class Grad:
        def __init__(self, data):
            self.data = data

    p = Holder(np.array([1.0, -2.0]))
    opt = optim.SGD([p], lr=0.5)
    p.grad = Grad(np.array([2.0, 2.0]))
    opt.step()
    np.testing.assert_array_equal(p.data, [0.0, -3.0])


def test_state_is_keyed_by_identity_not_by_elementwise_equality():
    p, q = _param([1.0, 2.0]), _param([1.0, 2.0])       # equal values, different tensors
    opt = optim.SGD([p, q], lr=0.1, momentum=0.9)
    p.grad = cr.tensor(np.array([1.0, 1.0]))
    opt.step()
    assert p in opt.state and q not in opt.state
    assert list(opt.state) == [p]
    np.testing.assert_array_equal(opt.state[p]["momentum_buffer"], [1.0, 1.0])


# -- updates happen in place ---------------------------------------------------

@pytest.mark.parametrize("name", ALL)
def test_step_updates_the_data_array_in_place(name):
    params = chainrule_params()
    arrays = [p.data for p in params]
    view = params[0].data[1]               # a view into w
    before = view.copy()
    run(getattr(optim, name)(params, lr=0.1), params, 2)
    assert all(p.data is a for p, a in zip(params, arrays))
    assert not np.array_equal(view, before)
    np.testing.assert_array_equal(view, params[0].data[1])


@pytest.mark.parametrize("update, args, kwargs", [
    (optim.sgd_update, lambda z: (None,), dict(lr=0.1, momentum=0.9, weight_decay=0.1,
                                              maximize=True)),
    (optim.adam_update, lambda z: (z(), z(), z()), dict(step=1, lr=0.1, beta1=0.9, beta2=0.99,
                                                       eps=1e-8, weight_decay=0.1,
                                                       amsgrad=True, maximize=True)),
    (optim.rmsprop_update, lambda z: (z(), z(), z()), dict(lr=0.1, alpha=0.9, eps=1e-8,
                                                          weight_decay=0.1, momentum=0.5,
                                                          centered=True, maximize=True)),
    (optim.adagrad_update, lambda z: (z(),), dict(step=1, lr=0.1, lr_decay=0.1,
                                                  weight_decay=0.1, maximize=True)),
])
def test_update_functions_only_read_the_gradient(update, args, kwargs):
    param = np.array([1.0, -2.0, 3.0])
    grad = np.array([0.5, 0.25, -1.0])
    grad.setflags(write=False)          # any write into grad would raise
    update(param, grad, *args(lambda: np.zeros(3)), **kwargs)
    np.testing.assert_array_equal(grad, [0.5, 0.25, -1.0])
    assert not np.array_equal(param, [1.0, -2.0, 3.0])


def test_adagrad_reads_initial_accumulator_value_from_each_group():
    p, q = _param([1.0]), _param([1.0])
    opt = optim.Adagrad([{"params": [p]}, {"params": [q], "initial_accumulator_value": 3.0}],
                        lr=0.1, initial_accumulator_value=1.0)
    p.grad, q.grad = cr.tensor(np.array([2.0])), cr.tensor(np.array([2.0]))
    opt.step()
    np.testing.assert_array_equal(opt.state[p]["sum"], [1.0 + 4.0])
    np.testing.assert_array_equal(opt.state[q]["sum"], [3.0 + 4.0])
    np.testing.assert_allclose(q.data, [1.0 - 0.1 * 2.0 / (np.sqrt(7.0) + 1e-10)], rtol=1e-15)


# -- zero_grad and step ---------------------------------------------------------

def test_zero_grad_sets_gradients_to_none_by_default():
    params = chainrule_params()
    opt = optim.SGD(params, lr=0.1)
    run(opt, params, 1)
    opt.zero_grad()
    assert all(p.grad is None for p in params)


def test_zero_grad_set_to_none_false_zeroes_the_same_array_in_place():
    p = _param([1.0, 2.0])
    grad = cr.tensor(np.array([3.0, 4.0]))
    p.grad = grad
    array = grad.data
    optim.SGD([p], lr=0.1).zero_grad(set_to_none=False)
    assert p.grad is grad and p.grad.data is array
    np.testing.assert_array_equal(array, [0.0, 0.0])


def test_zero_grad_in_place_cuts_a_recorded_gradient_from_its_graph():
    p, q = _param([1.0, 2.0]), _param([3.0, 4.0])
    p.grad = q * 2                       # as after backward(create_graph=True)
    assert p.grad.grad_fn is not None
    optim.SGD([p], lr=0.1).zero_grad(set_to_none=False)
    assert p.grad.grad_fn is None
    np.testing.assert_array_equal(p.grad.data, [0.0, 0.0])
    np.testing.assert_array_equal(q.data, [3.0, 4.0])


def test_step_returns_the_closure_loss_and_runs_it_with_grad_enabled():
    p = _param([1.0, 2.0])
    opt = optim.SGD([p], lr=0.1)
    calls = []

    def closure():
        calls.append(cr.is_grad_enabled())
        p.grad = cr.tensor(2 * p.data)
        return float((p.data ** 2).sum())

    with cr.no_grad():
        loss = opt.step(closure)
    assert loss == 5.0 and calls == [True]
    np.testing.assert_array_equal(p.data, [1.0 - 0.1 * 2.0, 2.0 - 0.1 * 4.0])
    assert opt.step() is None


def test_a_gradient_of_the_wrong_shape_or_dtype_is_rejected_before_any_update():
    good, p = _param([5.0]), _param([1.0, 2.0])
    opt = optim.SGD([good, p], lr=0.1)
    good.grad = cr.tensor(np.array([1.0]))
    p.grad = cr.tensor(np.array([1.0]))
    with pytest.raises(ValueError, match=r"shape \(1,\) .* parameter \(\(2,\), float64\)"):
        opt.step()
    np.testing.assert_array_equal(good.data, [5.0])
    p.grad = cr.tensor(np.array([1.0, 2.0], dtype=np.float32))
    with pytest.raises(ValueError, match="dtype float32 does not match"):
        opt.step()


# -- errors -----------------------------------------------------------------------

# (optimizer, options, the argument the message must name); PyTorch rejects each too
BAD_OPTIONS = [
    ("SGD", {"lr": -0.1}, "lr"),
    ("SGD", {"lr": 0.1, "momentum": -0.5}, "momentum"),
    ("SGD", {"lr": 0.1, "weight_decay": -1.0}, "weight_decay"),
    ("SGD", {"lr": 0.1, "nesterov": True}, "nesterov.*momentum > 0"),
    ("SGD", {"lr": 0.1, "nesterov": True, "momentum": 0.9, "dampening": 0.1},
     "nesterov.*dampening = 0"),
    ("Adam", {"lr": -1e-3}, "lr"),
    ("Adam", {"eps": -1e-8}, "eps"),
    ("Adam", {"betas": (1.0, 0.999)}, r"betas\[0\]"),
    ("Adam", {"betas": (0.9, -0.1)}, r"betas\[1\]"),
    ("Adam", {"weight_decay": -0.1}, "weight_decay"),
    ("AdamW", {"betas": (0.9, 1.5)}, r"betas\[1\]"),
    ("AdamW", {"lr": float("nan")}, "lr"),
    ("RMSprop", {"alpha": -0.5}, "alpha"),
    ("RMSprop", {"momentum": -0.5}, "momentum"),
    ("RMSprop", {"eps": -1.0}, "eps"),
    ("Adagrad", {"lr_decay": -0.1}, "lr_decay"),
    ("Adagrad", {"initial_accumulator_value": -1.0}, "initial_accumulator_value"),
    ("Adagrad", {"eps": -1e-10}, "eps"),
]


@pytest.mark.parametrize("name, options, match", BAD_OPTIONS,
                         ids=[f"{n}-{m}" for n, _, m in BAD_OPTIONS])
def test_invalid_options_are_rejected_naming_the_argument(name, options, match):
    with pytest.raises(ValueError):
        getattr(torch.optim, name)(torch_params(), **options)
    with pytest.raises(ValueError, match=f"{name}: .*{match}"):
        getattr(optim, name)(chainrule_params(), **options)


def test_invalid_options_in_a_group_are_rejected_too():
    w, b, _ = chainrule_params()
    opt = optim.Adam([w], lr=0.1)
    with pytest.raises(ValueError, match="Adam: invalid lr -1"):
        opt.add_param_group({"params": [b], "lr": -1})
    with pytest.raises(ValueError, match=r"Adam: invalid betas\[0\] 2"):
        optim.Adam([{"params": [b], "betas": (2, 0.9)}])
    assert len(opt.param_groups) == 1


def test_a_group_may_turn_momentum_off_under_nesterov_defaults_as_in_torch():
    p, q = _param([1.0]), _param([1.0])
    opt = optim.SGD([{"params": [p]}, {"params": [q], "momentum": 0}],
                    lr=0.1, momentum=0.9, nesterov=True)
    q.grad = cr.tensor(np.array([1.0]))
    opt.step()
    np.testing.assert_array_equal(q.data, [0.9])


def test_a_parameter_given_twice_is_rejected():
    w, b, _ = chainrule_params()
    with pytest.raises(ValueError, match="parameter 1 of the new group .* more than once"):
        optim.SGD([w, w], lr=0.1)
    with pytest.raises(ValueError, match="more than once"):
        optim.SGD([{"params": [w]}, {"params": [b, w]}], lr=0.1)
    opt = optim.SGD([w, b], lr=0.1)
    with pytest.raises(ValueError, match="parameter 0 of the new group .* more than once"):
        opt.add_param_group({"params": [b]})


def test_bad_parameter_lists_are_rejected():
    w, b, _ = chainrule_params()
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.Adam([])
    with pytest.raises(TypeError, match=r"wrap it in a list: SGD\(\[p\]"):
        optim.SGD(w, lr=0.1)
    with pytest.raises(TypeError, match="ordered collection"):
        optim.SGD({w, b}, lr=0.1)
    with pytest.raises(TypeError, match=r"got ndarray; make parameters with cr.tensor"):
        optim.SGD([np.ones(3)], lr=0.1)
    with pytest.raises(ValueError, match="needs a 'params' entry"):
        optim.SGD([{"lr": 0.1}])


def test_a_non_leaf_tensor_is_rejected_as_in_torch():
    tp = torch.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match="non-leaf"):
        torch.optim.SGD([tp * 2], lr=0.1)
    p = _param([1.0, 2.0])
    with pytest.raises(ValueError, match=r"can't optimize a non-leaf tensor \(shape \(2,\)"):
        optim.SGD([p * 2], lr=0.1)


def test_repr_lists_each_group_and_its_options():
    w, b, _ = chainrule_params()
    text = repr(optim.SGD([{"params": [w]}, {"params": [b], "lr": 0.5}], lr=0.1, momentum=0.9))
    assert text.startswith("SGD (")
    assert "Parameter Group 0" in text and "Parameter Group 1" in text
    assert "    lr: 0.5" in text and "    momentum: 0.9" in text


# -- checkpoints ------------------------------------------------------------------

RESUME_CONFIGS = [
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("Adam", {"lr": 0.05, "amsgrad": True, "weight_decay": 0.01}),
    ("AdamW", {"lr": 0.05}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.5, "centered": True}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01}),
]


@pytest.mark.parametrize("name, options", RESUME_CONFIGS, ids=[c[0] for c in RESUME_CONFIGS])
def test_training_resumes_bit_identically_from_a_state_dict(name, options):
    half = STEPS // 2
    straight_params = chainrule_params()
    straight = getattr(optim, name)(groups(straight_params, {"lr": 0.02}), **options)
    reference = run(straight, straight_params, STEPS)

    first_params = chainrule_params()
    first = getattr(optim, name)(groups(first_params, {"lr": 0.02}), **options)
    run(first, first_params, half)
    saved = copy.deepcopy(first.state_dict())
    saved_values = [p.data.copy() for p in first_params]

    # a fresh process: new parameters and an optimiser built with other options
    resumed_params = [cr.tensor(v, requires_grad=True) for v in saved_values]
    resumed = getattr(optim, name)(groups(resumed_params, {"lr": 9.0}), lr=7.0)
    resumed.load_state_dict(saved)
    assert resumed.param_groups[1]["lr"] == 0.02
    assert resumed.param_groups[0]["params"] == resumed_params[0::2]
    continued = run(resumed, resumed_params, STEPS - half, start=half)
    for got, want in zip(continued[-1], reference[-1]):
        np.testing.assert_array_equal(got, want)


def test_state_dict_is_pytorch_shaped_and_a_snapshot():
    params = chainrule_params()
    opt = optim.SGD(groups(params, {"lr": 0.5}), lr=0.1, momentum=0.9)
    run(opt, params, 2)
    saved = opt.state_dict()
    assert set(saved) == {"state", "param_groups"}
    assert list(saved["state"]) == [0, 2]            # w and b; frozen has no state
    assert [g["params"] for g in saved["param_groups"]] == [[0, 1], [2]]
    assert saved["param_groups"][1]["lr"] == 0.5
    buffer = saved["state"][0]["momentum_buffer"].copy()
    run(opt, params, 2, start=2)
    np.testing.assert_array_equal(saved["state"][0]["momentum_buffer"], buffer)
    assert opt.state[params[0]]["momentum_buffer"] is not saved["state"][0]["momentum_buffer"]


def test_load_state_dict_copies_the_state_it_is_given():
    params = chainrule_params()
    opt = optim.Adam(params, lr=0.1)
    run(opt, params, 2)
    saved = opt.state_dict()
    other = optim.Adam(chainrule_params(), lr=0.1)
    other.load_state_dict(saved)
    saved["state"][0]["exp_avg"][...] = 123.0
    saved["param_groups"][0]["lr"] = 5.0
    assert not np.any(other.state[other.param_groups[0]["params"][0]]["exp_avg"] == 123.0)
    assert other.param_groups[0]["lr"] == 0.1


def test_load_state_dict_rejects_a_mismatched_optimizer():
    params = chainrule_params()
    opt = optim.Adam(groups(params, {}), lr=0.1)
    run(opt, params, 1)
    saved = opt.state_dict()
    with pytest.raises(ValueError, match="has 2 parameter groups but the optimizer has 1"):
        optim.Adam(chainrule_params(), lr=0.1).load_state_dict(saved)
    w, b, frozen = chainrule_params()
    with pytest.raises(ValueError, match="group 0 has 2 parameters in the state dict but 1"):
        optim.Adam([{"params": [w]}, {"params": [b, frozen]}]).load_state_dict(saved)
    w, b, frozen = chainrule_params()
    swapped = optim.Adam([{"params": [b, frozen]}, {"params": [w]}])
    with pytest.raises(ValueError, match=r"'exp_avg' of parameter 0 has shape \(3, 4\) but the "
                                         r"parameter has shape \(5,\)"):
        swapped.load_state_dict(saved)
