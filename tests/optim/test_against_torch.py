"""Each optimiser follows torch.optim's trajectory for 100 steps, in float64.

Both sides get the same gradient function (computed with NumPy from their own
parameters), two parameter groups with different options, and a parameter
that never has a gradient. PyTorch's CPU kernels fuse multiply-adds and its
sqrt is not always correctly rounded, so the two agree to a few ulps per step
rather than bit for bit; the tolerance below is that, over 100 steps.
"""
import numpy as np
import pytest
import torch

import chainrule.optim as optim
from optim.quadratic_problem import (STEPS, chainrule_params, groups, run, run_torch,
                               torch_params)

RTOL, ATOL = 1e-11, 1e-13

# (optimizer, defaults, options of the second group)
CONFIGS = [
    ("SGD", {"lr": 0.05}, {"lr": 0.02}),
    ("SGD", {"lr": 0.05, "momentum": 0.9}, {"lr": 0.02}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3}, {"momentum": 0.5}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}, {"lr": 0.01}),
    ("SGD", {"lr": 0.05, "weight_decay": 0.1}, {"weight_decay": 0.0}),
    ("SGD", {"lr": 0.03, "momentum": 0.8, "weight_decay": 0.05, "nesterov": True,
             "maximize": True}, {"momentum": 0.0}),
    ("Adam", {"lr": 0.05}, {"lr": 0.01}),
    ("Adam", {"lr": 0.05, "amsgrad": True}, {"lr": 0.01}),
    ("Adam", {"lr": 0.05, "weight_decay": 0.1}, {"betas": (0.8, 0.99)}),
    ("Adam", {"lr": 0.05, "betas": (0.5, 0.9), "eps": 1e-3}, {"eps": 1e-8}),
    ("Adam", {"lr": 0.05, "amsgrad": True, "weight_decay": 0.05, "maximize": True},
     {"amsgrad": False}),
    ("Adam", {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True}, {"lr": 0.02}),
    ("AdamW", {"lr": 0.05}, {"weight_decay": 0.0}),
    ("AdamW", {"lr": 0.05, "weight_decay": 0.3, "amsgrad": True}, {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01}, {"lr": 0.005}),
    ("RMSprop", {"lr": 0.01, "centered": True}, {"alpha": 0.9}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9}, {"momentum": 0.0}),
    ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5, "weight_decay": 0.1},
     {"lr": 0.002}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9, "eps": 1e-4, "maximize": True}, {"centered": True}),
    ("Adagrad", {"lr": 0.1}, {"lr": 0.05}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.05}, {"lr_decay": 0.0}),
    ("Adagrad", {"lr": 0.1, "weight_decay": 0.1, "initial_accumulator_value": 0.5},
     {"lr": 0.3}),
    ("Adagrad", {"lr": 0.1, "eps": 1e-3, "maximize": True}, {"weight_decay": 0.2}),
]

# torch.optim's implementation switches, which chainrule does not have
TORCH_ONLY_OPTIONS = {"foreach", "fused", "differentiable", "capturable"}


def _pair(name, defaults, group1):
    sign = -1.0 if defaults.get("maximize") else 1.0
    ours_params, torch_ps = chainrule_params(), torch_params()
    ours = getattr(optim, name)(groups(ours_params, group1), **defaults)
    theirs = getattr(torch.optim, name)(groups(torch_ps, group1), **defaults)
    return ours, ours_params, theirs, torch_ps, sign


@pytest.mark.parametrize("name, defaults, group1", CONFIGS,
                         ids=[f"{c[0]}-{'-'.join(sorted(c[1]))}" for c in CONFIGS])
def test_trajectory_matches_torch(name, defaults, group1):
    ours, ours_params, theirs, torch_ps, sign = _pair(name, defaults, group1)
    mine = run(ours, ours_params, STEPS, sign=sign)
    reference = run_torch(theirs, torch_ps, STEPS, sign=sign)
    for step, (got, want) in enumerate(zip(mine, reference)):
        for p_got, p_want in zip(got, want):
            np.testing.assert_allclose(p_got, p_want, rtol=RTOL, atol=ATOL,
                                       err_msg=f"{name} {defaults}: step {step + 1}")
    # the run moved the parameters far from the start: the comparison has teeth
    assert np.abs(mine[-1][0] - mine[0][0]).max() > 0.1

    # the state dict has PyTorch's shape, keys and values
    got, want = ours.state_dict(), theirs.state_dict()
    assert got["state"].keys() == want["state"].keys()
    for index, state in want["state"].items():
        assert got["state"][index].keys() == state.keys()
        for key, value in state.items():
            if key == "step":
                assert got["state"][index][key] == value.item()
            else:
                np.testing.assert_allclose(got["state"][index][key], value.numpy(),
                                           rtol=RTOL, atol=ATOL)
    assert len(got["param_groups"]) == len(want["param_groups"])
    for group_got, group_want in zip(got["param_groups"], want["param_groups"]):
        assert set(group_want) - set(group_got) <= TORCH_ONLY_OPTIONS
        assert group_got == {k: v for k, v in group_want.items() if k in group_got}


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_float32_parameters_stay_float32_and_match_torch(name):
    defaults = {"lr": 0.01, "momentum": 0.9} if name in ("SGD", "RMSprop") else {"lr": 0.01}
    ours_params, torch_ps = chainrule_params(np.float32), torch_params(torch.float32)
    ours = getattr(optim, name)(ours_params, **defaults)
    theirs = getattr(torch.optim, name)(torch_ps, **defaults)
    mine = run(ours, ours_params, 20)
    reference = run_torch(theirs, torch_ps, 20)
    assert all(p.data.dtype == np.float32 for p in ours_params)
    assert all(a.dtype == np.float32 for state in ours.state.values()
               for a in state.values() if isinstance(a, np.ndarray))
    for got, want in zip(mine[-1], reference[-1]):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_default_options_match_torch(name):
    ours = getattr(optim, name)(chainrule_params()).param_groups[0]
    theirs = getattr(torch.optim, name)(torch_params()).param_groups[0]
    assert set(theirs) - set(ours) <= TORCH_ONLY_OPTIONS
    assert {k: v for k, v in ours.items() if k != "params"} == \
        {k: v for k, v in theirs.items() if k in ours and k != "params"}
