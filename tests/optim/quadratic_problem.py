"""The test problem the optimiser tests run on both sides: chainrule and PyTorch.

Parameters ``w`` (3x4) and ``b`` (5,), flattened together into x, descend

    f(x) = 1/2 x^T A x - c^T x + 0.1 * sum(cos(3 x))

with gradient ``A x - c - 0.3 sin(3 x)`` plus a fixed noise term per step (as
minibatches would give), computed with NumPy from each side's own current
parameters. No autograd engine is involved, so the tests check the update
rules alone. A third parameter, ``frozen``, never gets a gradient.
"""
import numpy as np
import torch

import chainrule as cr

SHAPES = {"w": (3, 4), "b": (5,), "frozen": (2,)}
SIZE = 12 + 5


def _problem(seed=0, steps=100):
    rng = np.random.default_rng(seed)
    m = rng.standard_normal((SIZE, SIZE))
    a = m @ m.T / SIZE + np.eye(SIZE)
    c = rng.standard_normal(SIZE)
    noise = 0.3 * rng.standard_normal((steps, SIZE))
    start = {name: rng.standard_normal(shape) for name, shape in SHAPES.items()}
    return a, c, noise, start


A, C, NOISE, START = _problem()
STEPS = len(NOISE)


def gradients(w, b, step, sign=1.0):
    """dL/dw, dL/db at step ``step`` from NumPy arrays (``sign=-1``: ascent on -f)."""
    x = np.concatenate([w.ravel(), b])
    g = sign * (A @ x - C - 0.3 * np.sin(3 * x) + NOISE[step % STEPS])
    return g[:12].reshape(SHAPES["w"]), g[12:]


def chainrule_params(dtype=np.float64):
    """Fresh leaf tensors w, b, frozen holding the starting point."""
    return [cr.tensor(START[name].astype(dtype), requires_grad=True) for name in SHAPES]


def torch_params(dtype=torch.float64):
    return [torch.tensor(START[name], dtype=dtype, requires_grad=True) for name in SHAPES]


def groups(params, group1_options):
    """Two groups: [w, frozen] with the defaults, [b] with its own options."""
    w, b, frozen = params
    return [{"params": [w, frozen]}, {"params": [b], **group1_options}]


def set_chainrule_grads(params, step, sign=1.0):
    w, b, _ = params
    gw, gb = gradients(w.data, b.data, step, sign)
    w.grad, b.grad = cr.tensor(gw.astype(w.data.dtype)), cr.tensor(gb.astype(b.data.dtype))


def set_torch_grads(params, step, sign=1.0):
    w, b, _ = params
    gw, gb = gradients(w.detach().numpy(), b.detach().numpy(), step, sign)
    w.grad, b.grad = torch.from_numpy(gw).to(w.dtype), torch.from_numpy(gb).to(b.dtype)


def run(optimizer, params, steps, start=0, sign=1.0):
    """``steps`` chainrule steps; returns the parameter values after each step."""
    trajectory = []
    for step in range(start, start + steps):
        optimizer.zero_grad()
        set_chainrule_grads(params, step, sign)
        optimizer.step()
        trajectory.append([p.data.copy() for p in params])
    return trajectory


def run_torch(optimizer, params, steps, sign=1.0):
    trajectory = []
    for step in range(steps):
        optimizer.zero_grad()
        set_torch_grads(params, step, sign)
        optimizer.step()
        trajectory.append([p.detach().numpy().copy() for p in params])
    return trajectory
