"""Every activation, normalisation and loss inside a float32 network.

matmul refuses mixed dtypes, so a float64 gradient leaking out of any
composite's backward (a NumPy float64 scalar in a formula promotes a float32
array) makes the backward through the next Linear raise. The leaves' .grad
would not show it: the engine casts a leaf's gradient to the leaf's dtype.
"""
import pytest

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F

MIDDLES = [nn.ReLU(), nn.LeakyReLU(), nn.Sigmoid(), nn.Tanh(), nn.GELU(), nn.GELU("tanh"),
           nn.SiLU(), nn.Softplus(), nn.Softmax(1), nn.LogSoftmax(1), nn.LayerNorm(4),
           nn.BatchNorm1d(4), nn.Dropout(0.2), nn.Identity()]

LOSSES = {
    "mse": lambda out, y, p: F.mse_loss(out, p),
    "l1": lambda out, y, p: F.l1_loss(out, p),
    "huber": lambda out, y, p: F.huber_loss(out, p),
    "bce": lambda out, y, p: F.binary_cross_entropy(F.sigmoid(out), p, weight=cr.ones(3)),
    "bce_logits": lambda out, y, p: F.binary_cross_entropy_with_logits(
        out, p, weight=cr.ones(3), pos_weight=cr.full((3,), 2.0)),
    "cross_entropy": lambda out, y, p: F.cross_entropy(out, y, weight=cr.ones(3),
                                                       label_smoothing=0.1),
    "nll": lambda out, y, p: F.nll_loss(F.log_softmax(out, 1), y),
    "multi_margin": lambda out, y, p: F.multi_margin_loss(out, y, p=2, weight=cr.ones(3)),
}


def _inputs():
    cr.manual_seed(0)
    return cr.randn(6, 5), cr.randint(0, 3, (6,)), cr.rand(6, 3)


@pytest.mark.parametrize("middle", MIDDLES, ids=repr)
def test_layer_keeps_float32_gradients(middle):
    x, _, p = _inputs()
    model = nn.Sequential(nn.Linear(5, 4), middle, nn.Linear(4, 3))
    F.mse_loss(model(x), p).backward()
    assert all(q.grad.dtype == cr.float32 for q in model.parameters())


@pytest.mark.parametrize("name", list(LOSSES))
def test_loss_keeps_float32_gradients(name):
    x, y, p = _inputs()
    model = nn.Sequential(nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 3))
    loss = LOSSES[name](model(x), y, p)
    assert loss.dtype == cr.float32
    loss.backward()
    assert all(q.grad.dtype == cr.float32 for q in model.parameters())


def test_embedding_keeps_float32_gradients():
    emb, lin = nn.Embedding(5, 4, padding_idx=0), nn.Linear(4, 2)
    lin(emb(cr.tensor([[0, 1], [2, 3]]))).sum().backward()
    assert emb.weight.grad.dtype == cr.float32
