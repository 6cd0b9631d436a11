"""LSTM training step: a 50-step recurrence of small products.

One layer, input 32, hidden 128, sequence 50, batch 32, float32 (inputs
laid out (seq, batch, input) as ``nn.LSTM`` by default); a linear head
(128 -> 1) on the last hidden state, MSE against a fixed random target,
forward + backward + one plain SGD update (lr 0.01). Zero initial state.

The cell, with PyTorch's gate order and weights (W_ih (4H, I), W_hh (4H, H),
two biases):

    i, f, g, o = split(x_t W_ih^T + b_ih + h W_hh^T + b_hh)
    i, f, o = sigmoid(i, f, o);  g = tanh(g)
    c <- f * c + i * g;  h <- o * tanh(c)

Implementations: "pytorch" (an ``nn.LSTMCell`` loop in Python, as a user
writes a custom recurrence), "pytorch-fused" (``nn.LSTM``: the loop in C++),
"numpy" (by hand, below) and "chainrule" (``nn.LSTM``).

The NumPy reference does what a careful hand-written LSTM does:
- the input projections of all 50 steps are one product, before the loop;
  inside it, one fused product h W_hh^T per step for all four gates;
- the activations of the four gates are one pass: sigmoid(z) =
  0.5 tanh(z / 2) + 0.5 and tanh(z) = 1 tanh(z / 1) + 0, so with a per-column
  scale s (1/2 or 1) and offset (1/2 or 0), y = s tanh(s z) + offset for all
  of them at once (this sigmoid also cannot overflow in exp); and the
  derivatives are one pass over all steps after the forward loop:
  dy/dz = s**2 - (y - offset)**2 (= y (1 - y) and 1 - y**2 respectively);
- the weight gradients are one product each over all steps, after the
  backward loop;
- every intermediate lives in a preallocated array.
"""
from dataclasses import dataclass
from functools import partial

import numpy as np

from .harness import Workload, require_chainrule
from .mlp_step import NumpySGD

INPUT, HIDDEN, SEQ, BATCH = 32, 128, 50, 32
LR = 0.01
PARAM_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "head.weight", "head.bias")


@dataclass
class LSTMProblem:
    params: list        # in the order of PARAM_NAMES
    x: np.ndarray       # (seq, batch, input)
    target: np.ndarray  # (batch, 1)


def make_problem(input_size=INPUT, hidden=HIDDEN, seq=SEQ, batch=BATCH, dtype=np.float32,
                 seed=0):
    """Every weight and bias ~ U(-1/sqrt(hidden), 1/sqrt(hidden)) (PyTorch's
    ``nn.LSTM`` and, for fan-in = hidden, ``nn.Linear`` default); inputs and
    targets ~ N(0, 1)."""
    rng = np.random.default_rng(seed)
    bound = 1 / np.sqrt(hidden)
    shapes = [(4 * hidden, input_size), (4 * hidden, hidden), (4 * hidden,), (4 * hidden,),
              (1, hidden), (1,)]
    params = [rng.uniform(-bound, bound, shape).astype(dtype) for shape in shapes]
    return LSTMProblem(params=params,
                       x=rng.standard_normal((seq, batch, input_size)).astype(dtype),
                       target=rng.standard_normal((batch, 1)).astype(dtype))


class NumpyLSTM:
    """One training step by hand. ``step()`` returns the loss; afterwards
    ``grads`` holds the gradients it used and ``params`` the updated weights
    (both in the order of ``PARAM_NAMES``)."""

    def __init__(self, problem, lr=LR):
        self.params = [p.copy() for p in problem.params]
        self.grads = [np.empty_like(p) for p in self.params]
        self.x, self.target = problem.x, problem.target
        seq, batch, input_size = problem.x.shape
        hidden = self.params[1].shape[1]
        dtype = problem.x.dtype
        self.x_flat = problem.x.reshape(seq * batch, input_size)
        # per gate column: sigmoid for i, f, o and tanh for g, as s tanh(s z) + offset
        self.scale = np.full(4 * hidden, 0.5, dtype=dtype)
        self.scale[2 * hidden:3 * hidden] = 1.0
        self.offset = np.full(4 * hidden, 0.5, dtype=dtype)
        self.offset[2 * hidden:3 * hidden] = 0.0
        self.gates = np.empty((seq, batch, 4 * hidden), dtype=dtype)    # activated
        self.gates_derivative = np.empty_like(self.gates)
        self.grad_gates = np.empty_like(self.gates)     # d loss / d pre-activations
        self.h = np.zeros((seq + 1, batch, hidden), dtype=dtype)   # h[t]: state entering step t
        self.c = np.zeros((seq + 1, batch, hidden), dtype=dtype)
        self.tanh_c = np.empty((seq, batch, hidden), dtype=dtype)  # tanh(c[t + 1])
        self.o_tanh_derivative = np.empty_like(self.tanh_c)         # o (1 - tanh(c)**2)
        self.bias = np.empty(4 * hidden, dtype=dtype)
        self.recurrent = np.empty((batch, 4 * hidden), dtype=dtype)
        self.pred = np.empty((batch, 1), dtype=dtype)
        self.grad_pred = np.empty_like(self.pred)
        self.grad_h = np.empty((batch, hidden), dtype=dtype)
        self.grad_c = np.empty((batch, hidden), dtype=dtype)
        self.scratch = np.empty((batch, hidden), dtype=dtype)
        self.update = NumpySGD(self.params, lr)

    def step(self):
        loss = self.forward_backward()
        self.update(self.grads)
        return loss

    def forward_backward(self):
        w_ih, w_hh, b_ih, b_hh, w_head, b_head = self.params
        seq, batch, _ = self.x.shape
        hidden = w_hh.shape[1]
        gates, h, c, tanh_c, s = self.gates, self.h, self.c, self.tanh_c, self.scratch
        i_, f_, g_, o_ = (slice(k * hidden, (k + 1) * hidden) for k in range(4))

        # forward: all input projections at once, then the recurrence
        np.matmul(self.x_flat, w_ih.T, out=gates.reshape(seq * batch, 4 * hidden))
        np.add(b_ih, b_hh, out=self.bias)
        gates += self.bias
        for t in range(seq):
            z = gates[t]
            np.matmul(h[t], w_hh.T, out=self.recurrent)
            z += self.recurrent
            z *= self.scale
            np.tanh(z, out=z)
            z *= self.scale
            z += self.offset
            np.multiply(z[:, f_], c[t], out=c[t + 1])
            np.multiply(z[:, i_], z[:, g_], out=s)
            c[t + 1] += s
            np.tanh(c[t + 1], out=tanh_c[t])
            np.multiply(z[:, o_], tanh_c[t], out=h[t + 1])
        np.matmul(h[seq], w_head.T, out=self.pred)
        self.pred += b_head
        diff = self.pred - self.target
        loss = np.mean(diff * diff)

        # backward: the head, then the recurrence in reverse
        np.multiply(diff, 2 / diff.size, out=self.grad_pred)
        np.matmul(self.grad_pred.T, h[seq], out=self.grads[4])
        np.sum(self.grad_pred, axis=0, out=self.grads[5])
        grad_h, grad_c, grad_gates = self.grad_h, self.grad_c, self.grad_gates
        np.matmul(self.grad_pred, w_head, out=grad_h)
        grad_c.fill(0.0)
        derivative = self.gates_derivative       # s**2 - (y - offset)**2, all steps
        np.subtract(gates, self.offset, out=derivative)
        np.square(derivative, out=derivative)
        np.subtract(self.scale ** 2, derivative, out=derivative)
        o_tanh_derivative = self.o_tanh_derivative
        np.square(tanh_c, out=o_tanh_derivative)
        np.subtract(1.0, o_tanh_derivative, out=o_tanh_derivative)
        o_tanh_derivative *= gates[:, :, o_]
        for t in range(seq - 1, -1, -1):
            y, dz = gates[t], grad_gates[t]
            np.multiply(grad_h, tanh_c[t], out=dz[:, o_])       # h = o tanh(c)
            np.multiply(grad_h, o_tanh_derivative[t], out=s)
            grad_c += s
            np.multiply(grad_c, y[:, g_], out=dz[:, i_])        # c = f c_prev + i g
            np.multiply(grad_c, c[t], out=dz[:, f_])
            np.multiply(grad_c, y[:, i_], out=dz[:, g_])
            dz *= derivative[t]                                 # through the activations
            grad_c *= y[:, f_]
            if t > 0:       # h[0] is the constant zero state: no gradient needed
                np.matmul(dz, w_hh, out=grad_h)
        grad_flat = grad_gates.reshape(seq * batch, 4 * hidden)
        np.matmul(grad_flat.T, self.x_flat, out=self.grads[0])
        np.matmul(grad_flat.T, h[:seq].reshape(seq * batch, hidden), out=self.grads[1])
        np.sum(grad_flat, axis=0, out=self.grads[2])
        self.grads[3][...] = self.grads[2]      # both biases enter the same sum
        return loss


class ModuleLSTM:
    """The step as a PyTorch user writes it, for ``lib`` = ``torch`` or
    ``chainrule``: ``nn.LSTM`` if ``fused``, else an ``nn.LSTMCell`` loop.
    ``step()`` returns the loss tensor; ``grads()`` and ``params()`` return
    NumPy copies in the order of ``PARAM_NAMES``."""

    def __init__(self, lib, problem, lr=LR, fused=True):
        nn = lib.nn
        seq, _, input_size = problem.x.shape
        hidden = problem.params[1].shape[1]
        self.seq, self.fused = seq, fused
        self.rnn = nn.LSTM(input_size, hidden) if fused else nn.LSTMCell(input_size, hidden)
        self.head = nn.Linear(hidden, 1)
        if problem.x.dtype == np.float64:
            self.rnn.double()       # PyTorch's Module.double; the float64 tests use it
            self.head.double()
        suffix = "_l0" if fused else ""     # nn.LSTM names its parameters per layer
        self.param_list = [getattr(self.rnn, name + suffix) for name in PARAM_NAMES[:4]]
        self.param_list += [self.head.weight, self.head.bias]
        with lib.no_grad():
            for p, value in zip(self.param_list, problem.params):
                p.copy_(lib.from_numpy(value))
        self.x = lib.from_numpy(problem.x)
        self.target = lib.from_numpy(problem.target)
        self.mse_loss = nn.functional.mse_loss
        self.optimizer = lib.optim.SGD(self.param_list, lr=lr)

    def step(self):
        self.optimizer.zero_grad(set_to_none=True)
        if self.fused:
            outputs, _ = self.rnn(self.x)
            last = outputs[-1]
        else:
            state = None    # zero initial state
            for t in range(self.seq):
                state = self.rnn(self.x[t], state)
            last = state[0]
        loss = self.mse_loss(self.head(last), self.target)
        loss.backward()
        self.optimizer.step()
        return loss

    def grads(self):
        return [p.grad.numpy().copy() for p in self.param_list]

    def params(self):
        return [p.detach().numpy().copy() for p in self.param_list]


def numpy_step():
    return NumpyLSTM(make_problem()).step


def pytorch_step(fused):
    import torch

    return ModuleLSTM(torch, make_problem(), fused=fused).step


def chainrule_step():
    cr = require_chainrule("from_numpy", "no_grad", "nn.LSTM", "nn.Linear",
                           "nn.functional.mse_loss", "optim.SGD")
    return ModuleLSTM(cr, make_problem(), fused=True).step


WORKLOAD = Workload(
    name="lstm-step",
    description=f"LSTM {INPUT}->{HIDDEN}, {SEQ} steps, batch {BATCH}, float32, linear head on "
                f"the last hidden state, MSE, forward + backward + SGD (lr {LR})",
    implementations={"chainrule": chainrule_step,
                     "pytorch": partial(pytorch_step, fused=False),
                     "pytorch-fused": partial(pytorch_step, fused=True),
                     "numpy": numpy_step},
)
