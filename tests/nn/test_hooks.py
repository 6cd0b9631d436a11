"""Forward hooks and full backward hooks, against torch's hooks on the same
model with the same weights and the same upstream gradient."""
import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn as nn
from nn.nn_oracle import assert_close, copy_weights, to_torch


def _model(lib):
    return lib.Sequential(lib.Linear(3, 4), lib.Tanh(), lib.Linear(4, 2)).double()


def _record(model, log):
    """Register a full backward hook on the model and each of its layers that
    appends (name, grad_input, grad_output) to ``log``."""
    handles = []
    for name, module in model.named_modules():
        def hook(module, grad_input, grad_output, name=name):
            log.append((name, grad_input, grad_output))
        handles.append(module.register_full_backward_hook(hook))
    return handles


def _as_arrays(grads):
    return [None if g is None else np.array(g.detach().numpy() if isinstance(g, torch.Tensor)
                                            else g.data) for g in grads]


def _compare_logs(ours, theirs):
    assert [entry[0] for entry in ours] == [entry[0] for entry in theirs]
    for (name, gi, go), (_, tgi, tgo) in zip(ours, theirs):
        for what, a, b in (("grad_input", gi, tgi), ("grad_output", go, tgo)):
            a, b = _as_arrays(a), _as_arrays(b)
            assert len(a) == len(b), f"{name} {what}: {len(a)} entries vs torch's {len(b)}"
            for x, y in zip(a, b):
                assert (x is None) == (y is None), f"{name} {what}: None mismatch"
                if x is not None:
                    assert_close(x, y, what=f"{name} {what}")


@pytest.mark.filterwarnings("ignore:Full backward hook is firing")
@pytest.mark.parametrize("input_requires_grad", [True, False])
def test_full_backward_hooks_match_torch(input_requires_grad, rng):
    ours, theirs = _model(nn), _model(torch.nn)
    copy_weights(ours, theirs)
    log, tlog = [], []
    _record(ours, log)
    _record(theirs, tlog)
    x = rng.standard_normal((5, 3))
    upstream = rng.standard_normal((5, 2))
    ours(cr.tensor(x, requires_grad=input_requires_grad)).backward(cr.tensor(upstream))
    theirs(to_torch(x, input_requires_grad)).backward(to_torch(upstream))
    _compare_logs(log, tlog)
    assert len(log) == 4                       # each hook fired exactly once


def test_backward_hook_with_two_inputs_and_a_non_tensor_argument(rng):
    class Gate(nn.Module):
        def forward(self, a, b, scale):
            return (a * b).tanh() * scale

    class TorchGate(torch.nn.Module):
        def forward(self, a, b, scale):
            return (a * b).tanh() * scale

    log, tlog = [], []
    ours, theirs = Gate(), TorchGate()
    ours.register_full_backward_hook(lambda m, gi, go: log.append(("gate", gi, go)))
    theirs.register_full_backward_hook(lambda m, gi, go: tlog.append(("gate", gi, go)))
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    upstream = rng.standard_normal((2, 3))
    # b does not require grad: its entry is zeros (as torch); the float's is None
    ours(cr.tensor(a, requires_grad=True), cr.tensor(b), 2.0).backward(cr.tensor(upstream))
    theirs(to_torch(a, True), to_torch(b), 2.0).backward(to_torch(upstream))
    _compare_logs(log, tlog)
    assert np.all(log[0][1][1].data == 0) and log[0][1][2] is None


def test_backward_hook_sees_summed_gradient_of_a_reused_output_and_fires_once(rng):
    calls = []
    layer = nn.Linear(3, 3).double()
    layer.register_full_backward_hook(lambda m, gi, go: calls.append(go[0].data.copy()))
    x = cr.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    y = layer(x)
    (y * 2 + y.tanh()).sum().backward()
    assert len(calls) == 1
    np.testing.assert_allclose(calls[0], 2 + (1 - np.tanh(y.data) ** 2))


def test_backward_hook_can_replace_grad_input(rng):
    ours, theirs = nn.Linear(3, 2).double(), torch.nn.Linear(3, 2).double()
    copy_weights(ours, theirs)
    ours.register_full_backward_hook(lambda m, gi, go: (gi[0] * 3,))
    theirs.register_full_backward_hook(lambda m, gi, go: (gi[0] * 3,))
    x = rng.standard_normal((4, 3))
    xs, xt = cr.tensor(x, requires_grad=True), to_torch(x, True)
    ours(xs).sum().backward()
    theirs(xt).sum().backward()
    assert_close(xs.grad, xt.grad)
    # parameters' gradients are untouched by the hook
    assert_close(ours.weight.grad, theirs.weight.grad)


def test_backward_hook_removal_and_bad_return():
    layer = nn.Linear(2, 2)
    calls = []
    handle = layer.register_full_backward_hook(lambda m, gi, go: calls.append(1))
    x = cr.randn(1, 2, requires_grad=True)
    layer(x).sum().backward()
    handle.remove()
    layer(x).sum().backward()
    assert calls == [1]
    layer.register_full_backward_hook(lambda m, gi, go: (gi[0], gi[0]))
    with pytest.raises(RuntimeError, match="backward hook of Linear returned 2 gradient"):
        layer(x).sum().backward()


def test_no_backward_hook_bookkeeping_under_no_grad():
    layer = nn.Linear(2, 2)
    layer.register_full_backward_hook(lambda m, gi, go: None)
    with cr.no_grad():
        out = layer(cr.randn(1, 2))
    assert out.grad_fn is None and not out.requires_grad


def test_forward_hooks_match_torch(rng):
    ours, theirs = _model(nn), _model(torch.nn)
    copy_weights(ours, theirs)
    seen, tseen = [], []
    for model, log in ((ours, seen), (theirs, tseen)):
        for name, module in model.named_children():
            module.register_forward_hook(
                lambda m, args, out, name=name, log=log: log.append((name, args[0], out)))
    x = rng.standard_normal((2, 3))
    ours(cr.tensor(x))
    theirs(to_torch(x))
    assert [s[0] for s in seen] == [s[0] for s in tseen] == ["0", "1", "2"]
    for (_, a, out), (_, ta, tout) in zip(seen, tseen):
        assert_close(a, ta)
        assert_close(out, tout)


def test_forward_hook_and_pre_hook_can_replace_values():
    layer = nn.Identity()
    handle = layer.register_forward_hook(lambda m, args, out: out * 10)
    pre = layer.register_forward_pre_hook(lambda m, args: (args[0] + 1,))
    assert layer(cr.tensor([1.0])).tolist() == [20.0]
    handle.remove()
    assert layer(cr.tensor([1.0])).tolist() == [2.0]
    pre.remove()
    assert layer(cr.tensor([1.0])).tolist() == [1.0]
    with pytest.raises(TypeError, match="hook must be callable"):
        layer.register_forward_hook(3)
