"""The digits CNN training step: PyTorch eager, chainrule, and a careful hand-written NumPy step.

Workload: input 1x8x8, batch 64, float32: conv 3x3 16 channels pad 1, ReLU,
max pool 2, conv 3x3 32 channels pad 1, ReLU, max pool 2, flatten, linear
128 -> 10, softmax cross-entropy (mean over the batch), one plain SGD update
(lr 0.1). The inputs are random (U(0, 1), the range of the scaled digits;
random labels): the time of a step depends on the shapes only, and every
implementation sees the same batch and starts from the same weights
(PyTorch's Conv2d/Linear initialisation, U(-1/sqrt(fan_in), 1/sqrt(fan_in))
for weights and biases, drawn once with NumPy).

- ``NumpyCNN``: the floor, by hand, layout first. Activations are
  channels-last (N, H, W, C) throughout. A convolution is im2col with columns
  ordered (kh, kw, C): nine slice copies, each moving rows of C contiguous
  channels, then one matmul (N*H*W, 9*C) @ (9*C, C_out). Its backward is
  grad_w = cols^T @ grad_out and col2im of grad_out @ W^T as nine slice
  additions into a zero-bordered buffer, each offset's block of columns
  computed by its own matmul just before it is added. Max pool 2x2 is ``np.maximum``
  of the four strided quadrants; its backward routes each gradient to the
  first quadrant holding the maximum (PyTorch's choice on ties). The linear
  weight is kept with its inputs in (h, w, c) order, so the channels-last
  features flatten without a transpose (converted from and to PyTorch's
  (c, h, w) order outside the step). Every buffer is preallocated and
  written with ``out=`` or in place, as in ``mlp_step.NumpyMLP``. It runs the
  model's own graph, layer by layer: no reordering (pool before ReLU would
  be cheaper) and no fusing of one layer's backward into another's.
- ``ModuleCNN``: ``nn.Sequential`` of ``Conv2d``/``ReLU``/``MaxPool2d``/
  ``Flatten``/``Linear``, ``F.cross_entropy`` and ``optim.SGD``, written once
  for ``torch`` or ``chainrule``.

``make_torch_step(seed)`` and ``make_numpy_step(seed)`` (and
``make_chainrule_step``) return the zero-argument step callables; ``python -m
benchmarks.cnn_reference`` times them side by side with the harness.
"""
from dataclasses import dataclass

import numpy as np

from .harness import Workload, require_chainrule

BATCH = 64
LR = 0.1
CLASSES = 10
# (C_out, C_in) of the two 3x3 convolutions; the images are 8x8
CONV_CHANNELS = ((16, 1), (32, 16))


@dataclass
class CNNProblem:
    params: list        # PyTorch's order and layout: conv1 w, b, conv2 w, b, fc w, b
    x: np.ndarray       # (batch, 1, 8, 8)
    labels: np.ndarray  # (batch,) int64 class indices


def make_problem(batch=BATCH, dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    shapes = [(16, 1, 3, 3), (32, 16, 3, 3), (CLASSES, 32 * 2 * 2)]
    params = []
    for shape in shapes:
        bound = 1 / np.sqrt(np.prod(shape[1:]))     # 1 / sqrt(fan_in)
        params.append(rng.uniform(-bound, bound, shape).astype(dtype))
        params.append(rng.uniform(-bound, bound, shape[0]).astype(dtype))
    return CNNProblem(params=params, x=rng.random((batch, 1, 8, 8)).astype(dtype),
                      labels=rng.integers(0, CLASSES, batch))


class NumpyCNN:
    """One training step by hand (see the module docstring). ``step()`` returns
    the loss; ``grads()`` and ``params()`` return copies in PyTorch's order and
    layout (the gradients of the last step, the weights after its update)."""

    def __init__(self, problem, lr=LR):
        (w1, b1, w2, b2, wf, bf), x = problem.params, problem.x
        n, dtype = x.shape[0], x.dtype
        self.lr, self.labels, self.rows = lr, problem.labels, np.arange(n)
        self.x = np.ascontiguousarray(x.transpose(0, 2, 3, 1))        # (n, 8, 8, 1)
        # weights as matrices: conv (9*C_in, C_out) rows (kh, kw, c), fc rows (h, w, c)
        self.weights = [_conv_matrix(w1), b1.copy(), _conv_matrix(w2), b2.copy(),
                        np.ascontiguousarray(wf.reshape(CLASSES, 32, 2, 2)
                                             .transpose(2, 3, 1, 0).reshape(128, CLASSES)),
                        bf.copy()]
        self.grad_arrays = [np.empty_like(w) for w in self.weights]
        self.scratch = [np.empty_like(w) for w in self.weights]
        self.conv1 = _Conv3x3(n, 8, 1, 16, dtype)
        self.pool1 = _MaxPool2x2(n, 8, 16, dtype)
        self.conv2 = _Conv3x3(n, 4, 16, 32, dtype)
        self.pool2 = _MaxPool2x2(n, 4, 32, dtype)
        self.logits = np.empty((n, CLASSES), dtype=dtype)
        self.grad_logits = np.empty((n, CLASSES), dtype=dtype)
        self.grad_features = np.empty((n, 128), dtype=dtype)

    def step(self):
        w1, b1, w2, b2, wf, bf = self.weights
        gw1, gb1, gw2, gb2, gwf, gbf = self.grad_arrays
        n = self.x.shape[0]
        a1 = self.conv1.forward(self.x, w1, b1)                    # (n, 8, 8, 16), ReLU'd
        p1 = self.pool1.forward(a1)                                # (n, 4, 4, 16)
        a2 = self.conv2.forward(p1, w2, b2)                        # (n, 4, 4, 32)
        features = self.pool2.forward(a2).reshape(n, 128)          # (h, w, c) order
        np.matmul(features, wf, out=self.logits)
        self.logits += bf
        loss = self._cross_entropy_backward()

        np.matmul(features.T, self.grad_logits, out=gwf)
        np.sum(self.grad_logits, axis=0, out=gbf)
        np.matmul(self.grad_logits, wf.T, out=self.grad_features)
        grad_a2 = self.pool2.backward(self.grad_features.reshape(n, 2, 2, 32))
        grad_p1 = self.conv2.backward(grad_a2, w2, gw2, gb2)
        grad_a1 = self.pool1.backward(grad_p1)
        self.conv1.backward(grad_a1, w1, gw1, gb1, input_grad=False)

        for w, g, s in zip(self.weights, self.grad_arrays, self.scratch):
            np.multiply(g, self.lr, out=s)
            w -= s
        return loss

    def _cross_entropy_backward(self):
        """Mean softmax cross-entropy; (softmax - onehot) / batch into grad_logits."""
        grad, n = self.grad_logits, self.logits.shape[0]
        np.subtract(self.logits, self.logits.max(axis=1, keepdims=True), out=grad)
        true_class = grad[self.rows, self.labels]
        np.exp(grad, out=grad)
        sums = grad.sum(axis=1, keepdims=True)
        loss = np.mean(np.log(sums[:, 0]) - true_class)
        grad /= sums
        grad[self.rows, self.labels] -= 1
        grad /= n
        return loss

    def grads(self):
        return _pytorch_layout(self.grad_arrays)

    def params(self):
        return _pytorch_layout(self.weights)


class _Conv3x3:
    """A 3x3 convolution with padding 1 and stride 1, then ReLU, channels-last, with
    its buffers."""

    def __init__(self, n, size, c_in, c_out, dtype):
        self.padded = np.zeros((n, size + 2, size + 2, c_in), dtype=dtype)  # border stays 0
        self.cols = np.empty((n, size, size, 9, c_in), dtype=dtype)
        self.out = np.empty((n * size * size, c_out), dtype=dtype)
        self.relu_mask = np.empty((n * size * size, c_out), dtype=bool)
        self.grad_block = np.empty((n * size * size, c_in), dtype=dtype)
        self.grad_padded = np.empty_like(self.padded)
        self.size = size

    def forward(self, x, w, b):
        s = self.size
        self.padded[:, 1:-1, 1:-1] = x
        for k in range(9):
            i, j = divmod(k, 3)
            self.cols[:, :, :, k] = self.padded[:, i:i + s, j:j + s]
        np.matmul(self.cols.reshape(len(self.out), -1), w, out=self.out)
        self.out += b
        np.maximum(self.out, 0, out=self.out)
        return self.out.reshape(-1, s, s, self.out.shape[1])

    def backward(self, grad_a, w, grad_w, grad_b, input_grad=True):
        """grad_a: d loss / d(ReLU output), (n, s, s, C_out); overwritten with the
        gradient before the ReLU. Writes grad_w, grad_b; returns grad_x (a view)."""
        s = self.size
        grad_z = grad_a.reshape(self.out.shape)
        # relu'(z) = [relu(z) > 0]: 0 at the kink, as PyTorch
        np.greater(self.out, 0, out=self.relu_mask)
        grad_z *= self.relu_mask
        np.matmul(self.cols.reshape(len(self.out), -1).T, grad_z, out=grad_w)
        np.sum(grad_z, axis=0, out=grad_b)
        if not input_grad:
            return None
        # col2im of grad_z @ w.T, one offset's block of columns at a time: each
        # block comes out contiguous for the addition (the slices of the whole
        # grad_cols matrix are strided, and measured ~2x slower here)
        c_in = self.grad_block.shape[1]
        block = self.grad_block.reshape(-1, s, s, c_in)
        self.grad_padded.fill(0)
        for k in range(9):
            i, j = divmod(k, 3)
            np.matmul(grad_z, w[k * c_in:(k + 1) * c_in].T, out=self.grad_block)
            self.grad_padded[:, i:i + s, j:j + s] += block
        return self.grad_padded[:, 1:-1, 1:-1]


class _MaxPool2x2:
    """Max pool, kernel 2 stride 2, channels-last, with its buffers."""

    QUADRANTS = ((0, 0), (0, 1), (1, 0), (1, 1))    # row-major: PyTorch's tie order

    def __init__(self, n, size, c, dtype):
        half = size // 2
        self.out = np.empty((n, half, half, c), dtype=dtype)
        self.other = np.empty_like(self.out)
        self.hit = np.empty(self.out.shape, dtype=bool)
        self.free = np.empty(self.out.shape, dtype=bool)
        self.grad_x = np.empty((n, size, size, c), dtype=dtype)

    def forward(self, x):
        self.x = x
        np.maximum(x[:, 0::2, 0::2], x[:, 0::2, 1::2], out=self.out)
        np.maximum(x[:, 1::2, 0::2], x[:, 1::2, 1::2], out=self.other)
        np.maximum(self.out, self.other, out=self.out)
        return self.out

    def backward(self, grad_out):
        """Each window's gradient to the first quadrant holding its maximum."""
        self.free.fill(True)     # windows that have not yet given their gradient away
        for i, j in self.QUADRANTS:
            np.equal(self.x[:, i::2, j::2], self.out, out=self.hit)
            self.hit &= self.free
            self.free ^= self.hit
            np.multiply(grad_out, self.hit, out=self.grad_x[:, i::2, j::2])
        return self.grad_x


def _conv_matrix(weight):
    """(C_out, C_in, 3, 3) -> (9*C_in, C_out), rows in (kh, kw, c_in) order."""
    c_out, c_in = weight.shape[:2]
    return np.ascontiguousarray(weight.transpose(2, 3, 1, 0).reshape(9 * c_in, c_out))


def _pytorch_layout(arrays):
    w1, b1, w2, b2, wf, bf = arrays
    conv = [w.reshape(3, 3, c_in, c_out).transpose(3, 2, 0, 1).copy()
            for w, (c_out, c_in) in zip((w1, w2), CONV_CHANNELS)]
    fc = wf.reshape(2, 2, 32, CLASSES).transpose(3, 2, 0, 1).reshape(CLASSES, 128).copy()
    return [conv[0], b1.copy(), conv[1], b2.copy(), fc, bf.copy()]


class ModuleCNN:
    """The step as a PyTorch user writes it, for ``lib`` = ``torch`` or
    ``chainrule``. ``step()`` returns the loss tensor; ``grads()`` and
    ``params()`` return NumPy copies in the order of ``CNNProblem.params``."""

    def __init__(self, lib, problem, lr=LR):
        nn = lib.nn
        self.model = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(128, CLASSES))
        if problem.x.dtype == np.float64:
            self.model.double()
        with lib.no_grad():
            for p, value in zip(self.model.parameters(), problem.params):
                p.copy_(lib.from_numpy(value))
        self.x = lib.from_numpy(problem.x)
        self.labels = lib.from_numpy(problem.labels)
        self.cross_entropy = nn.functional.cross_entropy
        self.optimizer = lib.optim.SGD(self.model.parameters(), lr=lr)

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


MODULE_API = ("from_numpy", "no_grad", "nn.Conv2d", "nn.ReLU", "nn.MaxPool2d", "nn.Flatten",
              "nn.Linear", "nn.Sequential", "nn.functional.cross_entropy", "optim.SGD")


def make_numpy_step(seed=0, batch=BATCH, lr=LR):
    return NumpyCNN(make_problem(batch, seed=seed), lr).step


def make_torch_step(seed=0, batch=BATCH, lr=LR):
    import torch    # optional: only this implementation needs it

    torch.set_num_threads(2)
    return ModuleCNN(torch, make_problem(batch, seed=seed), lr).step


def make_chainrule_step(seed=0, batch=BATCH, lr=LR):
    cr = require_chainrule(*MODULE_API)
    return ModuleCNN(cr, make_problem(batch, seed=seed), lr).step


WORKLOAD = Workload(
    name="digits-cnn",
    description="CNN 1x8x8 -> conv3x3(16) ReLU maxpool2 -> conv3x3(32) ReLU maxpool2 -> "
                "linear 10, batch 64, float32, cross-entropy, forward + backward + SGD "
                "(lr 0.1); random inputs of the digits' shape",
    implementations={"chainrule": make_chainrule_step,
                     "pytorch": make_torch_step,
                     "numpy": make_numpy_step},
)


if __name__ == "__main__":
    from .harness import run

    run([WORKLOAD])
