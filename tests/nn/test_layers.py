"""Linear, Identity, Flatten, Dropout and Embedding against torch.nn in float64,
their default initialisation, and their errors."""
import math

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F
from nn.nn_oracle import assert_close, assert_param_grads, copy_weights, run_both


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(5, 4), (2, 3, 4), (4,)])
def test_linear_matches_torch(shape, bias, rng):
    ours = nn.Linear(4, 3, bias=bias).double()
    theirs = torch.nn.Linear(4, 3, bias=bias).double()
    copy_weights(ours, theirs)
    run_both(ours, theirs, [rng.standard_normal(shape)], rng)
    assert_param_grads(ours, theirs)
    assert repr(ours) == repr(theirs)


def test_linear_default_init_is_pytorchs():
    cr.manual_seed(0)
    fan_in = 400
    layer = nn.Linear(fan_in, 300)
    bound = 1 / math.sqrt(fan_in)
    w, b = layer.weight.data, layer.bias.data
    assert layer.weight.dtype == cr.float32 and layer.weight.shape == (300, fan_in)
    # U(-bound, bound): inside the bounds, reaching close to them, std bound / sqrt(3)
    for values in (w, b):
        assert np.abs(values).max() <= bound
        assert np.abs(values).max() > 0.97 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.01 * bound
    assert abs(w.mean()) < 0.01 * bound
    assert layer.weight.requires_grad and layer.weight.is_leaf and layer.weight.grad_fn is None


def test_linear_dtype_option_and_errors():
    assert nn.Linear(2, 3, dtype=cr.float64).weight.dtype == cr.float64
    layer = nn.Linear(4, 3)
    with pytest.raises(ValueError, match=r"linear: input of shape \(2, 5\) does not end in "
                                         r"in_features=4"):
        layer(cr.randn(2, 5))
    with pytest.raises(TypeError, match=r"linear: input dtype float64 does not match weight "
                                        r"dtype float32.*module.to\(float64\)"):
        layer(cr.randn(2, 4, dtype=cr.float64))


def test_identity_and_flatten_match_torch(rng):
    x = rng.standard_normal((2, 3, 4, 5))
    run_both(nn.Identity(3, foo=1), torch.nn.Identity(3, foo=1), [x], rng)
    for args in [(), (0,), (1, 2), (2, -1), (-3, -2)]:
        ours, theirs = nn.Flatten(*args), torch.nn.Flatten(*args)
        run_both(ours, theirs, [x], rng)
        assert repr(ours) == repr(theirs)


# -- Dropout ----------------------------------------------------------------------------
def test_dropout_zeroes_a_fraction_p_and_rescales_the_rest():
    cr.manual_seed(1)
    x = cr.ones(200, 100, dtype=cr.float64, requires_grad=True)
    layer = nn.Dropout(0.3)
    y = layer(x)
    kept = y.data != 0
    assert abs(1 - kept.mean() - 0.3) < 0.01
    np.testing.assert_allclose(y.data[kept], 1 / 0.7)
    upstream = np.random.default_rng(0).standard_normal(y.shape)
    y.backward(cr.tensor(upstream))
    np.testing.assert_allclose(x.grad.data, upstream * kept / 0.7)


def test_dropout_is_the_identity_in_eval_and_reproducible_with_a_seed():
    x = cr.randn(10, 10)
    layer = nn.Dropout(0.5)
    assert layer.eval()(x) is x
    layer.train()
    cr.manual_seed(7)
    first = layer(x).data
    cr.manual_seed(7)
    np.testing.assert_array_equal(layer(x).data, first)
    assert not np.array_equal(layer(x).data, first)      # a new mask on the next call
    assert repr(layer) == "Dropout(p=0.5)"


def test_dropout_edge_probabilities_and_errors():
    x = cr.randn(4, 5)
    assert nn.Dropout(0.0)(x) is x
    assert np.all(nn.Dropout(1.0)(x).data == 0)
    for p in (-0.1, 1.5, "0.5", float("nan")):
        with pytest.raises(ValueError, match="dropout probability p must be a number in "
                                             r"\[0, 1\]"):
            nn.Dropout(p)
    with pytest.raises(ValueError, match="dropout: dropout probability"):
        F.dropout(x, p=2)


# -- Embedding --------------------------------------------------------------------------
@pytest.mark.parametrize("padding_idx", [None, 0, 3, -1])
def test_embedding_matches_torch(padding_idx, rng):
    ours = nn.Embedding(6, 4, padding_idx=padding_idx).double()
    theirs = torch.nn.Embedding(6, 4, padding_idx=padding_idx).double()
    copy_weights(ours, theirs)
    # repeated indices (their gradients accumulate) and padding positions
    idx = np.array([[0, 3, 3, 5], [1, 3, 0, 5], [2, 2, 2, 4]])
    out = ours(cr.tensor(idx))
    tout = theirs(torch.from_numpy(idx))
    assert_close(out, tout)
    upstream = rng.standard_normal(out.shape)
    out.backward(cr.tensor(upstream))
    tout.backward(torch.from_numpy(upstream))
    assert_param_grads(ours, theirs)
    assert repr(ours) == repr(theirs)


def test_embedding_init_and_padding_row():
    cr.manual_seed(3)
    emb = nn.Embedding(1000, 64, padding_idx=2)
    w = emb.weight.data
    assert np.all(w[2] == 0)
    rest = np.delete(w, 2, axis=0)
    assert abs(rest.mean()) < 0.01 and abs(rest.std() - 1) < 0.01     # N(0, 1)
    out = emb(cr.tensor([2, 2, 5]))
    out.sum().backward()
    assert np.all(emb.weight.grad.data[2] == 0)
    assert np.all(emb.weight.grad.data[5] == 1)


def test_embedding_errors():
    emb = nn.Embedding(5, 2)
    with pytest.raises(IndexError, match=r"embedding: index 5 is out of range for a table of 5 "
                                         r"rows \(valid indices are 0 to 4\)"):
        emb(cr.tensor([0, 5]))
    with pytest.raises(IndexError, match="index -1 is out of range"):
        emb(cr.tensor([-1]))
    with pytest.raises(TypeError, match="embedding: indices must be an integer tensor"):
        emb(cr.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"padding_idx 5 must be in \[-5, 4\]"):
        nn.Embedding(5, 2, padding_idx=5)
