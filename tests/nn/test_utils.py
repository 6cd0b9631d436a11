"""nn.utils against torch.nn.utils: gradient clipping and parameter vectors."""
import math

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn as nn
from nn.nn_oracle import assert_close, to_torch


def _params_with_grads(rng, scale=1.0):
    shapes = [(3, 4), (4,), (2, 2, 2)]
    values = [rng.standard_normal(s) for s in shapes]
    grads = [rng.standard_normal(s) * scale for s in shapes]
    ours, theirs = [], []
    for v, g in zip(values, grads):
        p = nn.Parameter(cr.tensor(v))
        p.grad = cr.tensor(g)
        t = torch.nn.Parameter(to_torch(v))
        t.grad = to_torch(g)
        ours.append(p)
        theirs.append(t)
    return ours, theirs


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf, "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_matches_torch(norm_type, max_norm, rng):
    ours, theirs = _params_with_grads(rng)
    total = nn.utils.clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert isinstance(total, cr.Tensor) and total.shape == ()
    assert_close(total, ttotal)
    for p, t in zip(ours, theirs):
        assert_close(p.grad, t.grad)


def test_clip_grad_norm_skips_missing_grads_and_takes_one_tensor(rng):
    ours, _ = _params_with_grads(rng)
    ours[1].grad = None
    expected = math.sqrt(sum(float((p.grad.data ** 2).sum()) for p in ours if p.grad is not None))
    assert nn.utils.clip_grad_norm_(ours, 1e9).item() == pytest.approx(expected)
    assert nn.utils.clip_grad_norm_(ours[0], 1e9).item() == pytest.approx(
        float(np.sqrt((ours[0].grad.data ** 2).sum())))
    assert nn.utils.clip_grad_norm_([nn.Parameter(cr.zeros(2))], 1.0).item() == 0.0


def test_clip_grad_norm_nonfinite_and_bad_arguments(rng):
    ours, _ = _params_with_grads(rng)
    ours[0].grad.data[0, 0] = np.nan
    with pytest.raises(RuntimeError, match="total norm of order 2.0 of the gradients is nan"):
        nn.utils.clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)
    assert math.isnan(nn.utils.clip_grad_norm_(ours, 1.0).item())
    with pytest.raises(ValueError, match="max_norm must be non-negative, got -1"):
        nn.utils.clip_grad_norm_(ours, -1)


def test_clip_grad_value_matches_torch(rng):
    ours, theirs = _params_with_grads(rng)
    nn.utils.clip_grad_value_(ours, 0.5)
    torch.nn.utils.clip_grad_value_(theirs, 0.5)
    for p, t in zip(ours, theirs):
        assert_close(p.grad, t.grad)
    with pytest.raises(ValueError, match="clip_value must be non-negative"):
        nn.utils.clip_grad_value_(ours, -0.1)


def test_parameter_vectors_match_torch(rng):
    ours, theirs = _params_with_grads(rng)
    vec = nn.utils.parameters_to_vector(ours)
    assert_close(vec, torch.nn.utils.parameters_to_vector(theirs))
    upstream = rng.standard_normal(vec.shape)
    vec.backward(cr.tensor(upstream))            # differentiable, as torch's
    assert_close(ours[0].grad, theirs[0].grad.numpy() + upstream[:12].reshape(3, 4))
    new = rng.standard_normal(vec.shape)
    nn.utils.vector_to_parameters(cr.tensor(new), ours)
    torch.nn.utils.vector_to_parameters(to_torch(new), theirs)
    for p, t in zip(ours, theirs):
        assert_close(p, t)
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in ours)
    with pytest.raises(ValueError, match="the vector has 3 elements but the parameters have 24"):
        nn.utils.vector_to_parameters(cr.zeros(3), ours)
    with pytest.raises(TypeError, match=r"expected a 1-D Tensor, got Tensor of shape \(2, 2\)"):
        nn.utils.vector_to_parameters(cr.zeros(2, 2), ours)
