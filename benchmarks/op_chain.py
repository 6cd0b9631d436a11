"""Op overhead: a chain of 1,000 tiny elementwise ops, forward and backward.

    y = x;  repeat: y = y * a;  y = y + b;  y = tanh(y)   (1,000 ops in all)
    loss = y.sum();  loss.backward()  ->  x.grad

x is a float32 vector of 16 elements that requires grad; a and b are
constants. On 16 elements the arithmetic is nothing: the time is what a
library spends per op (dispatch, graph recording, the backward walk), which
is what this workload measures. Reported per op too (median / 1,000, forward
and backward together).

The NumPy reference is written by hand: the forward pass keeps only what the
backward needs (the tanh outputs; a is a constant), the backward pass applies
each local derivative in reverse order, and every array is preallocated.

a and b are drawn close to 1 and 0 so that neither the values nor the
gradient (a product of 333 factors a * (1 - tanh**2)) sink into subnormal
floats: subnormal arithmetic is many times slower on x86 and would measure
the CPU, not the library.
"""
from dataclasses import dataclass

import numpy as np

from .harness import Workload, require_chainrule

N_OPS = 1000
WIDTH = 16
MUL, ADD, TANH = range(3)   # op i of the chain is kind i % 3


@dataclass
class ChainProblem:
    x: np.ndarray   # the input, (WIDTH,)
    a: np.ndarray   # the multiplier, a constant
    b: np.ndarray   # the addend, a constant


def make_problem(width=WIDTH, dtype=np.float32, seed=0):
    """x ~ N(0, 1), a ~ U(0.95, 1.05), b ~ U(-0.01, 0.01) (see the module
    docstring for why a and b stay close to 1 and 0)."""
    rng = np.random.default_rng(seed)
    return ChainProblem(x=rng.standard_normal(width).astype(dtype),
                        a=rng.uniform(0.95, 1.05, width).astype(dtype),
                        b=rng.uniform(-0.01, 0.01, width).astype(dtype))


class NumpyChain:
    """The chain by hand: ``step()`` returns the loss and leaves d loss / dx
    in ``self.grad``."""

    def __init__(self, problem, n_ops=N_OPS):
        self.x, self.a, self.b = problem.x, problem.a, problem.b
        self.kinds = [i % 3 for i in range(n_ops)]
        self.work = np.empty_like(self.x)
        # one array per tanh: its output, the only value the backward needs
        self.tanh_out = [np.empty_like(self.x) for _ in range(self.kinds.count(TANH))]
        self.scratch = np.empty_like(self.x)
        self.grad = np.empty_like(self.x)

    def step(self):
        a, b, work, tanh_out = self.a, self.b, self.work, self.tanh_out
        y = self.x
        k = 0
        for kind in self.kinds:
            # mul and add write into the work array (never into x or a saved
            # tanh output); each tanh into its own saved array
            if kind == MUL:
                y = np.multiply(y, a, out=work)
            elif kind == ADD:
                y = np.add(y, b, out=work)
            else:
                y = np.tanh(y, out=tanh_out[k])
                k += 1
        loss = y.sum()

        grad, scratch = self.grad, self.scratch
        grad.fill(1.0)                          # d loss / dy of loss = y.sum()
        for kind in reversed(self.kinds):
            if kind == MUL:
                grad *= a                       # d(y * a)/dy = a
            elif kind == TANH:
                k -= 1
                t = tanh_out[k]                 # d tanh(y)/dy = 1 - tanh(y)**2
                np.multiply(t, t, out=scratch)
                np.subtract(1.0, scratch, out=scratch)
                grad *= scratch
            # ADD: d(y + b)/dy = 1, nothing to do
        return loss


class FrameworkChain:
    """The chain on a PyTorch-shaped library (``torch`` or ``chainrule``):
    ``step()`` returns the loss and leaves the gradient in ``self.x.grad``."""

    def __init__(self, lib, problem, n_ops=N_OPS):
        self.lib = lib
        self.x = lib.tensor(problem.x, requires_grad=True)
        self.a = lib.tensor(problem.a)
        self.b = lib.tensor(problem.b)
        self.kinds = [i % 3 for i in range(n_ops)]

    def step(self):
        a, b, tanh = self.a, self.b, self.lib.tanh
        self.x.grad = None      # as zero_grad(set_to_none=True) would
        y = self.x
        for kind in self.kinds:
            if kind == MUL:
                y = y * a
            elif kind == ADD:
                y = y + b
            else:
                y = tanh(y)
        loss = y.sum()
        loss.backward()
        return loss


def numpy_step():
    return NumpyChain(make_problem()).step


def pytorch_step():
    import torch

    return FrameworkChain(torch, make_problem()).step


def chainrule_step():
    cr = require_chainrule("tensor", "tanh")
    return FrameworkChain(cr, make_problem()).step


def _per_op(seconds):
    return {"µs per op (forward + backward)": seconds * 1e6 / N_OPS}


WORKLOAD = Workload(
    name="op-chain",
    description=f"{N_OPS} elementwise ops (mul, add, tanh) on a float32 ({WIDTH},) tensor, "
                f"forward + backward of the sum",
    implementations={"chainrule": chainrule_step, "pytorch": pytorch_step,
                     "numpy": numpy_step},
    metrics=_per_op,
)
