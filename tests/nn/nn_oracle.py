"""Helpers for comparing chainrule.nn with torch.nn in float64.

``run_both`` runs one computation in both libraries on the same float64
arrays, checks the values, back-propagates the same *random* upstream
gradient (an all-ones one from ``.sum()`` hides mistakes) and checks the
gradients of the inputs. ``copy_weights`` loads a chainrule module's
state_dict into its torch twin (strictly, so the key names must agree), and
``assert_param_grads`` compares parameter gradients by name.
"""
import numpy as np
import torch

import chainrule as cr

ATOL, RTOL = 1e-10, 1e-8


def to_torch(x, requires_grad=False):
    data = x.data if isinstance(x, cr.Tensor) else x
    t = torch.from_numpy(np.array(data, copy=True))
    return t.requires_grad_(True) if requires_grad else t


def assert_close(ours, theirs, atol=ATOL, rtol=RTOL, what="value"):
    a = np.asarray(ours.data if isinstance(ours, cr.Tensor) else ours)
    b = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else np.asarray(theirs)
    assert a.shape == b.shape, f"{what}: shape {a.shape} != torch's {b.shape}"
    np.testing.assert_allclose(a, b, atol=atol, rtol=rtol, err_msg=what)


def run_both(ours_fn, torch_fn, arrays, rng, atol=ATOL, rtol=RTOL, grads=None):
    """Compare ``ours_fn(*tensors)`` with ``torch_fn(*tensors)`` on ``arrays``
    (float64 arrays; ``grads`` says which of them require grad, all by default).
    Returns the output and input tensors of both sides."""
    grads = [True] * len(arrays) if grads is None else grads
    xs = [cr.tensor(a, requires_grad=g) for a, g in zip(arrays, grads)]
    ts = [to_torch(a, requires_grad=g) for a, g in zip(arrays, grads)]
    out = ours_fn(*xs)
    tout = torch_fn(*ts)
    assert_close(out, tout, atol, rtol, "forward value")
    upstream = rng.standard_normal(tuple(out.shape))
    out.backward(cr.tensor(upstream))
    tout.backward(torch.from_numpy(upstream))
    for i, (x, t, g) in enumerate(zip(xs, ts, grads)):
        if g:
            assert x.grad is not None, f"input {i} got no gradient"
            assert_close(x.grad, t.grad, atol, rtol, f"gradient of input {i}")
    return out, tout, xs, ts


def copy_weights(ours, theirs):
    """Load ``ours``'s state_dict into the torch module ``theirs`` (strict)."""
    theirs.load_state_dict({k: to_torch(v) for k, v in ours.state_dict().items()}, strict=True)


def assert_param_grads(ours, theirs, atol=ATOL, rtol=RTOL):
    their_params = dict(theirs.named_parameters())
    names = [name for name, _ in ours.named_parameters()]
    assert names == list(their_params), f"parameter names {names} != {list(their_params)}"
    for name, p in ours.named_parameters():
        t = their_params[name]
        if t.grad is None:
            assert p.grad is None, f"{name}: torch has no gradient but we do"
            continue
        assert p.grad is not None, f"{name}: no gradient"
        assert_close(p.grad, t.grad, atol, rtol, f"gradient of {name}")
