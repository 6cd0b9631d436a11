"""Test functions written once and run with either library.

Each function takes ``lib`` (the module ``chainrule`` or ``torch``) and its
inputs as that library's tensors, and uses only names both libraries share,
so the chainrule and PyTorch computations are the same lines and cannot
drift apart. Together they cover every op family: elementwise, binary with
broadcasting, reductions, shape and indexing, matrix products, softmax
cross-entropy, and an MLP loss over a dict of parameters.

``CASES`` gives each function with float64 inputs drawn away from kinks
(|x| and |x| - 0.5 at least 0.1 from 0, where abs, relu and clamp switch),
so derivatives are unambiguous and finite.
"""
import numpy as np
import torch

import chainrule as cr


def pad(lib, x, widths):
    return cr.pad(x, widths) if lib is cr else torch.nn.functional.pad(x, widths)


def elementwise(lib, x):
    return (lib.exp(lib.sin(x)) * lib.tanh(x) + lib.sigmoid(x) * lib.log1p(x * x)
            + lib.sqrt(lib.abs(x) + 1) - lib.relu(x) * lib.cos(x)
            + lib.clamp(x, -0.5, 0.5) ** 3 + lib.erf(x) / (1 + lib.exp(-x)) + (x * x + 1) ** 0.7)


def broadcasting(lib, x, y):
    """x (3, 1) against y (4,): every binary op broadcast to (3, 4)."""
    return (x * y + x / (y * y + 1) - lib.maximum(x, y) + lib.minimum(x, 2 * y)
            + (x * x + 1) ** y - 3.0 * y + lib.where(x > y, x * y, y - x))


def reductions(lib, x):
    """x (3, 4): each reduction, over a dim, a tuple of dims or everything."""
    parts = [x.sum(0), x.mean(1), x.var(0), x.std(1), x.prod(1), x.amax(0), x.amin(1),
             lib.logsumexp(x, 1), x.norm(dim=0), x.max(dim=1)[0],
             x.sum((0, 1), keepdim=True).reshape(1), x.mean(-1, keepdim=True).flatten(),
             x.var().reshape(1)]
    return lib.cat(parts)


def shapes(lib, x):
    """x (2, 3, 4): views, slices, integer and boolean indexing (a repeated
    index accumulates), gather, flip, repeat, expand, pad, split, stack."""
    index = lib.tensor(np.array([2, 0, 2]))
    gather_index = lib.tensor(np.array([[[0, 3], [1, 1], [2, 0]], [[3, 3], [0, 1], [2, 2]]]))
    mask = lib.tensor(np.array([True, False, True, True]))
    a = x.permute(2, 0, 1).reshape(4, 6)
    b = x.transpose(0, 2).flatten(1)
    first, second = x.split(2, dim=2)
    parts = [lib.stack([a, b], 0) * 0.5,
             x[:, 1:, ::2],
             x[1][index],
             x[..., mask],
             lib.gather(x, 2, gather_index),
             x.flip(1).unsqueeze(0).squeeze(0)[:, None, :, 1],
             x[:1].repeat(2, 1, 1),
             x[:1].expand(3, 3, 4),
             pad(lib, x, (1, 2)),
             first * second]
    return lib.cat([p.reshape(-1) for p in parts])


def products(lib, a, b, v, c):
    """a (3, 4), b (4, 5), v (5,), c (2, 5, 3): matrix, matrix-vector and
    batched products, einsum, outer and dot."""
    parts = [a @ b @ v, c @ a, lib.einsum("ij,jk->ik", a, b), lib.outer(v, v[:3]),
             lib.dot(v, v).reshape(1), c @ v[:3], lib.matmul(v, b.transpose(0, 1))]
    return lib.cat([p.reshape(-1) for p in parts])


LABELS = np.array([1, 0, 4, 2])


def cross_entropy(lib, z):
    """Softmax cross-entropy of logits z (4, 5) against LABELS, mean over rows."""
    labels = lib.tensor(LABELS)
    picked = lib.gather(z, 1, labels.unsqueeze(1)).squeeze(1)
    return (lib.logsumexp(z, 1) - picked).mean()


def softmax(lib, z):
    return lib.exp(z - lib.logsumexp(z, 1, keepdim=True))


MLP_X = np.random.default_rng(7).standard_normal((6, 3))
MLP_LABELS = np.array([0, 1, 1, 0, 1, 0])


def mlp_loss(lib, params):
    """A 3-4-2 tanh MLP's mean cross-entropy on a fixed batch; ``params`` is a
    dict of W1 (4, 3), b1 (4,), W2 (2, 4), b2 (2,)."""
    x = lib.tensor(MLP_X)
    h = lib.tanh(x @ params["W1"].transpose(0, 1) + params["b1"])
    logits = h @ params["W2"].transpose(0, 1) + params["b2"]
    labels = lib.tensor(MLP_LABELS)
    picked = lib.gather(logits, 1, labels.unsqueeze(1)).squeeze(1)
    return (lib.logsumexp(logits, 1) - picked).mean()


def _away_from_kinks(x):
    """Push values at least 0.1 away from 0 and from +-0.5."""
    x = np.where(np.abs(x) < 0.1, np.copysign(0.2, x), x)
    return np.where(np.abs(np.abs(x) - 0.5) < 0.1, x * 1.4, x)


def _draw(seed, *shapes):
    rng = np.random.default_rng(seed)
    return [_away_from_kinks(rng.uniform(-1.5, 1.5, shape)) for shape in shapes]


def mlp_params(seed=3):
    rng = np.random.default_rng(seed)
    return {"W1": rng.standard_normal((4, 3)), "b1": rng.standard_normal(4),
            "W2": rng.standard_normal((2, 4)), "b2": rng.standard_normal(2)}


# name -> (function, float64 inputs)
CASES = {
    "elementwise": (elementwise, _draw(1, (5,))),
    "broadcasting": (broadcasting, _draw(2, (3, 1), (4,))),
    "reductions": (reductions, _draw(3, (3, 4))),
    "shapes": (shapes, _draw(4, (2, 3, 4))),
    "products": (products, _draw(5, (3, 4), (4, 5), (5,), (2, 5, 3))),
    "cross_entropy": (cross_entropy, _draw(6, (4, 5))),
    "softmax": (softmax, _draw(7, (2, 3))),
}


def bind(fn, lib):
    """``fn`` as a function of its inputs alone, computed with ``lib``."""
    return lambda *xs: fn(lib, *xs)


def to_torch(arrays):
    return [torch.from_numpy(np.array(a, copy=True)) for a in arrays]
