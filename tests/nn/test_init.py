"""nn.init: gains and fans against torch.nn.init, and the statistics of every
initialiser on large tensors (draws come from chainrule's own generator, so
values are compared by distribution, not element by element)."""
import math

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn as nn
from chainrule.nn import init


@pytest.mark.parametrize("nonlinearity, param", [
    ("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
    ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", math.sqrt(5)), ("selu", None)])
def test_calculate_gain_matches_torch(nonlinearity, param):
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(
        torch.nn.init.calculate_gain(nonlinearity, param), rel=1e-15)


def test_calculate_gain_rejects_unknown():
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")


@pytest.mark.parametrize("shape", [(3, 4), (8, 3, 5, 5), (2, 6, 7)])
def test_fans_match_torch(shape):
    assert init._calculate_fan_in_and_fan_out(cr.zeros(*shape)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(shape))


def test_fans_need_two_dimensions():
    with pytest.raises(ValueError, match=r"fewer than 2 dimensions \(shape \(5,\)\)"):
        init.xavier_uniform_(cr.zeros(5))


def _param(*shape):
    cr.manual_seed(0)
    return nn.Parameter(cr.zeros(*shape))


def _check_uniform(values, bound):
    assert np.abs(values).max() <= bound * (1 + 1e-6)
    assert np.abs(values).max() > 0.98 * bound
    assert abs(values.std() - bound / math.sqrt(3)) < 0.02 * bound


def test_uniform_and_normal():
    p = _param(300, 200)
    out = init.uniform_(p, -2.0, 3.0)
    assert out is p and p.requires_grad and p.grad_fn is None and p.dtype == cr.float32
    assert p.data.min() >= -2 and p.data.max() <= 3 and abs(p.data.mean() - 0.5) < 0.02
    init.normal_(p, 1.5, 0.5)
    assert abs(p.data.mean() - 1.5) < 0.01 and abs(p.data.std() - 0.5) < 0.01


def test_constants():
    p = _param(3, 2)
    assert np.all(init.constant_(p, 0.25).data == 0.25)
    assert np.all(init.ones_(p).data == 1)
    assert np.all(init.zeros_(p).data == 0)
    b = cr.zeros((), dtype=cr.int64)
    assert init.ones_(b).item() == 1 and b.dtype == cr.int64


def test_xavier():
    p = _param(300, 500)
    init.xavier_uniform_(p, gain=2.0)
    _check_uniform(p.data, 2.0 * math.sqrt(6 / 800))
    init.xavier_normal_(p, gain=0.5)
    assert abs(p.data.std() - 0.5 * math.sqrt(2 / 800)) < 0.02 * 0.5 * math.sqrt(2 / 800)


@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
@pytest.mark.parametrize("a, nonlinearity", [(0, "relu"), (0.2, "leaky_relu"),
                                             (math.sqrt(5), "leaky_relu")])
def test_kaiming(mode, a, nonlinearity):
    p = _param(200, 30, 3, 3)
    fan = 30 * 9 if mode == "fan_in" else 200 * 9
    std = torch.nn.init.calculate_gain(nonlinearity, a) / math.sqrt(fan)
    init.kaiming_uniform_(p, a=a, mode=mode, nonlinearity=nonlinearity)
    _check_uniform(p.data, math.sqrt(3) * std)
    init.kaiming_normal_(p, a=a, mode=mode, nonlinearity=nonlinearity)
    assert abs(p.data.std() - std) < 0.02 * std and abs(p.data.mean()) < 0.02 * std


def test_kaiming_rejects_bad_mode():
    with pytest.raises(ValueError, match="mode must be 'fan_in' or 'fan_out', got 'fan'"):
        init.kaiming_normal_(_param(2, 2), mode="fan")


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (5, 5), (4, 2, 3)])
def test_orthogonal(shape):
    p = _param(*shape)
    init.orthogonal_(p, gain=2.0)
    flat = p.data.reshape(shape[0], -1).astype(np.float64) / 2.0
    rows, cols = flat.shape
    gram = flat @ flat.T if rows <= cols else flat.T @ flat
    np.testing.assert_allclose(gram, np.eye(min(rows, cols)), atol=1e-5)


def test_initialisers_are_reproducible_and_record_nothing():
    first = init.kaiming_uniform_(_param(4, 4)).data.copy()
    second = _param(4, 4)
    init.kaiming_uniform_(second)
    np.testing.assert_array_equal(first, second.data)
    assert second.grad_fn is None and second.is_leaf
    with pytest.raises(ValueError, match="orthogonal_: only tensors with 2 or more"):
        init.orthogonal_(_param(3))
