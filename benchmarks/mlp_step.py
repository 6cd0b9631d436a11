"""BLAS-bound MLP step, and the MLP training step three ways.

The workload: an MLP 784-1024-1024-10 with ReLU, batch 256, float32, softmax
cross-entropy (mean over the batch), forward + backward + one plain SGD
update (lr 0.01) on fixed random data (inputs U(0, 1), random labels). At
this size the eight matrix products dominate, so every implementation should
run close to the machine's matmul peak; the extra line gives the GFLOP/s
each one achieves, counting 2 m n k flops per product: 3 in the forward
pass and 5 in the backward (the weight gradient of every layer and the input
gradient of every layer but the first, since x needs none).

The implementations here serve ``digits_mlp`` too:

- ``NumpyMLP``: the floor, by hand. Layers compute ``x @ W.T + b`` as
  ``nn.Linear`` does (W is (out, in)); every activation, gradient and
  optimiser buffer is preallocated and written with ``out=`` or in place;
  ReLU is applied in place and its derivative read back from its output.
- ``ModuleMLP``: ``nn.Sequential`` of ``nn.Linear``/``nn.ReLU``,
  ``F.cross_entropy`` and ``optim.SGD`` or ``optim.Adam``, written once for
  any PyTorch-shaped library: ``torch`` or ``chainrule``.
- ``TensorMLP``: chainrule's engine alone, raw tensors and ``@`` with the SGD
  update written out ("chainrule-tensors"): it runs before ``chainrule.nn``
  exists and, beside "chainrule", shows what the nn layer costs.

All start from the same weights (PyTorch's ``nn.Linear`` initialisation,
drawn once with NumPy) and the same batch.
"""
from dataclasses import dataclass
from functools import partial

import numpy as np

from .harness import Workload, matmul_peak_gflops, require_chainrule

SIZES = (784, 1024, 1024, 10)
BATCH = 256
LR = 0.01
ADAM_BETAS = (0.9, 0.999)   # PyTorch's Adam defaults
ADAM_EPS = 1e-8


@dataclass
class MLPProblem:
    params: list        # [W1, b1, W2, b2, ...], W of shape (out, in)
    x: np.ndarray       # (batch, sizes[0])
    labels: np.ndarray  # (batch,) int64 class indices


def make_problem(sizes=SIZES, batch=BATCH, dtype=np.float32, seed=0):
    """Weights and biases ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (PyTorch's
    ``nn.Linear`` default), inputs ~ U(0, 1), labels uniform."""
    rng = np.random.default_rng(seed)
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        bound = 1 / np.sqrt(fan_in)
        params.append(rng.uniform(-bound, bound, (fan_out, fan_in)).astype(dtype))
        params.append(rng.uniform(-bound, bound, fan_out).astype(dtype))
    return MLPProblem(params=params, x=rng.random((batch, sizes[0])).astype(dtype),
                      labels=rng.integers(0, sizes[-1], batch))


def mlp_flops(sizes=SIZES, batch=BATCH):
    """Flops of the matrix products of one training step (see the module
    docstring): forward and weight gradients for every layer, input
    gradients for all but the first."""
    layer = [2 * batch * fan_in * fan_out for fan_in, fan_out in zip(sizes[:-1], sizes[1:])]
    return 2 * sum(layer) + sum(layer[1:])


class NumpyMLP:
    """One training step by hand. ``step()`` returns the loss; afterwards
    ``grads`` holds the gradients it used and ``params`` the updated weights
    (both lists in the order of ``MLPProblem.params``)."""

    def __init__(self, problem, optimizer="sgd", lr=LR):
        self.params = [p.copy() for p in problem.params]
        self.grads = [np.empty_like(p) for p in self.params]
        self.x, self.labels = problem.x, problem.labels
        batch, dtype = problem.x.shape[0], problem.x.dtype
        widths = [w.shape[0] for w in self.params[0::2]]
        # acts[i]: layer i's output (after ReLU except for the last: the logits)
        self.acts = [np.empty((batch, width), dtype=dtype) for width in widths]
        # deltas[i]: d loss / d(pre-activation of layer i)
        self.deltas = [np.empty((batch, width), dtype=dtype) for width in widths]
        self.rows = np.arange(batch)
        self.update = {"sgd": NumpySGD, "adam": NumpyAdam}[optimizer](self.params, lr)

    def step(self):
        loss = self.forward_backward()
        self.update(self.grads)
        return loss

    def forward_backward(self):
        weights, biases = self.params[0::2], self.params[1::2]
        last = len(weights) - 1
        h = self.x
        for i, (w, b, z) in enumerate(zip(weights, biases, self.acts)):
            np.matmul(h, w.T, out=z)
            z += b
            if i < last:
                np.maximum(z, 0, out=z)
            h = z
        loss = self._cross_entropy_backward(h, self.deltas[-1])

        for i in range(last, -1, -1):
            delta = self.deltas[i]
            h_in = self.x if i == 0 else self.acts[i - 1]
            np.matmul(delta.T, h_in, out=self.grads[2 * i])
            np.sum(delta, axis=0, out=self.grads[2 * i + 1])
            if i > 0:
                np.matmul(delta, weights[i], out=self.deltas[i - 1])
                # relu'(z) = [z > 0] = [relu(z) > 0]: 0 at the kink, as PyTorch
                self.deltas[i - 1] *= h_in > 0
        return loss

    def _cross_entropy_backward(self, logits, grad):
        """Mean softmax cross-entropy of ``logits``; writes its gradient
        (softmax - onehot) / batch into ``grad``.

        loss_n = logsumexp(z_n) - z_n[label_n], with the row maximum
        subtracted first so that exp cannot overflow."""
        batch = logits.shape[0]
        row_max = logits.max(axis=1, keepdims=True)
        np.subtract(logits, row_max, out=grad)
        true_class = grad[self.rows, self.labels]
        np.exp(grad, out=grad)
        sums = grad.sum(axis=1, keepdims=True)
        loss = np.mean(np.log(sums[:, 0]) - true_class)
        grad /= sums
        grad[self.rows, self.labels] -= 1
        grad /= batch
        return loss


class NumpySGD:
    """p <- p - lr * g, through a preallocated scratch array per parameter."""

    def __init__(self, params, lr):
        self.params, self.lr = params, lr
        self.scratch = [np.empty_like(p) for p in params]

    def __call__(self, grads):
        for p, g, s in zip(self.params, grads, self.scratch):
            np.multiply(g, self.lr, out=s)
            p -= s


class NumpyAdam:
    """Adam as PyTorch's default ``optim.Adam`` (no weight decay, no amsgrad):

        m <- b1 m + (1 - b1) g          v <- b2 v + (1 - b2) g**2
        p <- p - (lr / (1 - b1**t)) * m / (sqrt(v) / sqrt(1 - b2**t) + eps)
    """

    def __init__(self, params, lr, betas=ADAM_BETAS, eps=ADAM_EPS):
        self.params, self.lr, self.betas, self.eps = params, lr, betas, eps
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.scratch = [np.empty_like(p) for p in params]
        self.t = 0

    def __call__(self, grads):
        b1, b2 = self.betas
        self.t += 1
        step_size = self.lr / (1 - b1 ** self.t)
        sqrt_bias_correction2 = np.sqrt(1 - b2 ** self.t)
        for p, g, m, v, s in zip(self.params, grads, self.m, self.v, self.scratch):
            m *= b1
            np.multiply(g, 1 - b1, out=s)
            m += s
            v *= b2
            np.multiply(g, g, out=s)
            s *= 1 - b2
            v += s
            np.sqrt(v, out=s)                   # s = the denominator
            s /= sqrt_bias_correction2
            s += self.eps
            np.divide(m, s, out=s)
            s *= step_size
            p -= s


class ModuleMLP:
    """The step as a PyTorch user writes it, for ``lib`` = ``torch`` or
    ``chainrule``. ``step()`` returns the loss tensor; ``grads()`` and
    ``params()`` return NumPy copies, in the order of ``MLPProblem.params``."""

    def __init__(self, lib, problem, optimizer="sgd", lr=LR):
        nn = lib.nn
        layers = []
        for w in problem.params[0::2]:
            layers += [nn.Linear(w.shape[1], w.shape[0]), nn.ReLU()]
        self.model = nn.Sequential(*layers[:-1])
        if problem.x.dtype == np.float64:
            self.model.double()     # PyTorch's Module.double; the float64 tests use it
        with lib.no_grad():
            for p, value in zip(self.model.parameters(), problem.params):
                p.copy_(lib.from_numpy(value))
        self.x = lib.from_numpy(problem.x)
        self.labels = lib.from_numpy(problem.labels)
        self.cross_entropy = nn.functional.cross_entropy
        make_optimizer = {"sgd": lib.optim.SGD, "adam": lib.optim.Adam}[optimizer]
        self.optimizer = make_optimizer(self.model.parameters(), lr=lr)

    def step(self):
        self.optimizer.zero_grad(set_to_none=True)
        loss = self.cross_entropy(self.model(self.x), self.labels)
        loss.backward()
        self.optimizer.step()
        return loss

    def grads(self):
        return [p.grad.numpy().copy() for p in self.model.parameters()]

    def params(self):
        return [p.detach().numpy().copy() for p in self.model.parameters()]


class TensorMLP:
    """chainrule's engine alone: leaf tensors, ``@``, ``relu``, the loss as
    ``logsumexp - picked logit``, and p <- p - lr * p.grad under no_grad."""

    def __init__(self, cr, problem, lr=LR):
        self.cr, self.lr = cr, lr
        self.param_tensors = [cr.tensor(p, requires_grad=True) for p in problem.params]
        self.x = cr.tensor(problem.x)
        self.rows = cr.tensor(np.arange(len(problem.labels)))
        self.labels = cr.tensor(problem.labels)

    def step(self):
        weights, biases = self.param_tensors[0::2], self.param_tensors[1::2]
        for p in self.param_tensors:
            p.grad = None
        h = self.x
        for i, (w, b) in enumerate(zip(weights, biases)):
            h = h @ w.T + b
            if i < len(weights) - 1:
                h = h.relu()
        loss = (h.logsumexp(dim=1) - h[self.rows, self.labels]).mean()
        loss.backward()
        with self.cr.no_grad():
            for p in self.param_tensors:
                p.sub_(p.grad * self.lr)
        return loss

    def grads(self):
        return [p.grad.numpy().copy() for p in self.param_tensors]

    def params(self):
        return [p.detach().numpy().copy() for p in self.param_tensors]


MODULE_API = ("from_numpy", "no_grad", "nn.Linear", "nn.ReLU", "nn.Sequential",
              "nn.functional.cross_entropy")


def numpy_step(sizes, batch, optimizer, lr):
    return NumpyMLP(make_problem(sizes, batch), optimizer, lr).step


def pytorch_step(sizes, batch, optimizer, lr):
    import torch

    return ModuleMLP(torch, make_problem(sizes, batch), optimizer, lr).step


def chainrule_step(sizes, batch, optimizer, lr):
    cr = require_chainrule(*MODULE_API, {"sgd": "optim.SGD", "adam": "optim.Adam"}[optimizer])
    return ModuleMLP(cr, make_problem(sizes, batch), optimizer, lr).step


def chainrule_tensors_step(sizes, batch, lr):
    cr = require_chainrule("tensor", "no_grad", "Tensor.relu", "Tensor.logsumexp",
                           "Tensor.sub_")
    return TensorMLP(cr, make_problem(sizes, batch), lr).step


def _gflops(seconds):
    achieved = mlp_flops() / seconds / 1e9
    peak = matmul_peak_gflops()
    return {"GFLOP/s": achieved, "% of the float32 matmul peak": 100 * achieved / peak,
            "GFLOP/s peak (NumPy matmul)": peak}


_CONFIG = dict(sizes=SIZES, batch=BATCH, lr=LR)
WORKLOAD = Workload(
    name="mlp-step",
    description="MLP 784-1024-1024-10, ReLU, batch 256, float32, cross-entropy, "
                "forward + backward + SGD (lr 0.01); random data",
    implementations={
        "chainrule": partial(chainrule_step, optimizer="sgd", **_CONFIG),
        "chainrule-tensors": partial(chainrule_tensors_step, **_CONFIG),
        "pytorch": partial(pytorch_step, optimizer="sgd", **_CONFIG),
        "numpy": partial(numpy_step, optimizer="sgd", **_CONFIG),
    },
    metrics=_gflops,
)
