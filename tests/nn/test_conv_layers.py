"""Conv1d, Conv2d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d and their functional
forms against torch.nn in float64: values, input and parameter gradients
(random upstream), PyTorch's default initialisation, parameter names (the
state_dict loads into torch), reprs, a whole LeNet-style network, and the
errors a user meets first (channel mismatch, kernel larger than the input).
"""
import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F
from nn.nn_oracle import assert_close, assert_param_grads, copy_weights, run_both, to_torch

CONV_CONFIGS = [
    (nn.Conv2d, torch.nn.Conv2d, (3, 6, 3), dict(padding=1), (2, 3, 7, 6)),
    (nn.Conv2d, torch.nn.Conv2d, (4, 6, (3, 2)),
     dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2), (2, 4, 8, 7)),
    (nn.Conv2d, torch.nn.Conv2d, (3, 3, 2), dict(groups=3, bias=False, stride=2), (3, 5, 5)),
    (nn.Conv2d, torch.nn.Conv2d, (2, 4, 4), dict(padding="same", dilation=2), (1, 2, 9, 8)),
    (nn.Conv1d, torch.nn.Conv1d, (3, 4, 3), dict(stride=2, padding=2, dilation=2), (2, 3, 11)),
    (nn.Conv1d, torch.nn.Conv1d, (4, 2, 1), dict(groups=2, padding="valid"), (4, 6)),
]


@pytest.mark.parametrize("ours_cls, torch_cls, args, kwargs, x_shape", CONV_CONFIGS)
def test_conv_layers_match_torch(ours_cls, torch_cls, args, kwargs, x_shape, rng):
    ours = ours_cls(*args, **kwargs, dtype=cr.float64)
    theirs = torch_cls(*args, **kwargs, dtype=torch.float64)
    copy_weights(ours, theirs)
    run_both(ours, theirs, [rng.standard_normal(x_shape)], rng)
    assert_param_grads(ours, theirs)
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("cls, args, fan_in", [
    (nn.Conv2d, (3, 64, 5), 3 * 25), (nn.Conv2d, (8, 16, (3, 2), 1, 0, 1, 4), 2 * 6),
    (nn.Conv1d, (6, 128, 7), 6 * 7),
])
def test_default_initialisation_is_pytorchs(cls, args, fan_in):
    """kaiming_uniform_(a=sqrt(5)) is U(-1/sqrt(fan_in), 1/sqrt(fan_in)); the bias too.
    fan_in counts the channels of one group times the kernel's cells."""
    cr.manual_seed(0)
    layer = cls(*args)
    bound = 1 / math.sqrt(fan_in)
    weight, bias = layer.weight.detach().numpy(), layer.bias.detach().numpy()
    assert weight.dtype == bias.dtype == np.float32
    assert np.abs(weight).max() <= bound and np.abs(bias).max() <= bound
    # U(-b, b): spread over the whole interval, standard deviation b / sqrt(3)
    assert np.abs(weight).max() > 0.95 * bound
    assert weight.std() == pytest.approx(bound / math.sqrt(3), rel=0.1)


def test_parameter_names_and_shapes_load_into_torch():
    ours = nn.Conv2d(4, 6, 3, groups=2)
    theirs = torch.nn.Conv2d(4, 6, 3, groups=2)
    copy_weights(ours, theirs)      # strict: names and shapes agree
    assert [n for n, _ in ours.named_parameters()] == ["weight", "bias"]
    assert tuple(ours.weight.shape) == (6, 2, 3, 3)
    assert nn.Conv2d(4, 6, 3, bias=False).bias is None


@pytest.mark.parametrize("ours, theirs, x_shape", [
    (nn.MaxPool2d(2), torch.nn.MaxPool2d(2), (2, 3, 6, 7)),
    (nn.MaxPool2d(3, stride=2, padding=1, dilation=(1, 2), ceil_mode=True),
     torch.nn.MaxPool2d(3, stride=2, padding=1, dilation=(1, 2), ceil_mode=True), (1, 2, 9, 9)),
    (nn.AvgPool2d(2), torch.nn.AvgPool2d(2), (3, 6, 6)),
    (nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
     torch.nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
     (2, 2, 8, 7)),
    (nn.AvgPool2d((2, 3), divisor_override=4), torch.nn.AvgPool2d((2, 3), divisor_override=4),
     (1, 2, 6, 6)),
    (nn.AdaptiveAvgPool2d((3, 2)), torch.nn.AdaptiveAvgPool2d((3, 2)), (2, 3, 7, 5)),
    (nn.AdaptiveAvgPool2d(1), torch.nn.AdaptiveAvgPool2d(1), (2, 4, 5, 5)),
    (nn.AdaptiveAvgPool2d((None, 2)), torch.nn.AdaptiveAvgPool2d((None, 2)), (2, 3, 4, 6)),
])
def test_pool_layers_match_torch(ours, theirs, x_shape, rng):
    run_both(ours, theirs, [rng.standard_normal(x_shape)], rng)
    assert repr(ours) == repr(theirs)


def test_max_pool_with_return_indices_matches_torch(rng):
    x = rng.integers(0, 3, size=(2, 3, 6, 6)).astype(float)     # ties: the first maximum wins
    out, indices = nn.MaxPool2d(3, stride=2, padding=1, return_indices=True)(cr.tensor(x))
    t_out, t_indices = torch.nn.MaxPool2d(3, stride=2, padding=1, return_indices=True)(
        to_torch(x))
    assert_close(out, t_out)
    assert indices.dtype == cr.int64 and not indices.requires_grad
    np.testing.assert_array_equal(indices.numpy(), t_indices.numpy())


def test_functional_forms_match_torch(rng):
    x = rng.standard_normal((2, 4, 7, 7))
    w, b = rng.standard_normal((6, 2, 3, 3)), rng.standard_normal(6)
    run_both(lambda x, w, b: F.conv2d(x, w, b, 2, 1, 1, 2),
             lambda x, w, b: torch.nn.functional.conv2d(x, w, b, 2, 1, 1, 2), [x, w, b], rng)
    w1 = rng.standard_normal((3, 4, 2))
    run_both(lambda x, w: F.conv1d(x, w, dilation=2), lambda x, w: torch.nn.functional.conv1d(
        x, w, dilation=2), [x[:, :, 0], w1], rng)
    run_both(lambda x: F.max_pool2d(x, 3, 2, 1), lambda x: torch.nn.functional.max_pool2d(
        x, 3, 2, 1), [x], rng)
    run_both(lambda x: F.avg_pool2d(x, 2, ceil_mode=True),
             lambda x: torch.nn.functional.avg_pool2d(x, 2, ceil_mode=True), [x], rng)
    run_both(lambda x: F.adaptive_avg_pool2d(x, 3),
             lambda x: torch.nn.functional.adaptive_avg_pool2d(x, 3), [x], rng)


def lenet(lib, dtype):
    nn_ = lib.nn
    return nn_.Sequential(
        nn_.Conv2d(1, 6, 5, padding=2, dtype=dtype), nn_.ReLU(), nn_.MaxPool2d(2),
        nn_.Conv2d(6, 16, 5, dtype=dtype), nn_.ReLU(), nn_.AvgPool2d(2),
        nn_.Flatten(), nn_.Linear(16 * 5 * 5, 10, dtype=dtype))


@pytest.mark.parametrize("dtype, tolerance", [("float64", 1e-9), ("float32", 1e-4)])
def test_lenet_loss_and_every_gradient_match_torch(dtype, tolerance, rng):
    ours, theirs = lenet(cr, getattr(cr, dtype)), lenet(torch, getattr(torch, dtype))
    copy_weights(ours, theirs)
    x = rng.random((3, 1, 28, 28)).astype(dtype)
    labels = np.array([3, 0, 9])
    loss = F.cross_entropy(ours(cr.tensor(x)), cr.tensor(labels))
    t_loss = torch.nn.functional.cross_entropy(theirs(torch.from_numpy(x)),
                                               torch.from_numpy(labels))
    loss.backward()
    t_loss.backward()
    assert loss.dtype == getattr(cr, dtype)
    assert_close(loss, t_loss, atol=tolerance, rtol=tolerance)
    assert_param_grads(ours, theirs, atol=tolerance, rtol=tolerance)
    assert all(p.grad.dtype == getattr(cr, dtype) for p in ours.parameters())


@pytest.mark.parametrize("make, x_shape, error, message", [
    (lambda: nn.Conv2d(3, 8, 3), (2, 1, 8, 8), ValueError,
     r"conv2d: expected input with 3 channels \(weight of shape \(8, 3, 3, 3\) with "
     r"groups=1\), got 1 channels in an input of shape \(2, 1, 8, 8\)"),
    (lambda: nn.Conv2d(4, 8, 3, groups=2), (2, 2, 8, 8), ValueError,
     r"expected input with 4 channels .* groups=2\), got 2 channels"),
    (lambda: nn.Conv2d(1, 8, 5), (2, 1, 3, 3), ValueError,
     r"conv2d: kernel size 5 x 5 is larger than the padded input 3 x 3"),
    (lambda: nn.Conv2d(1, 8, 5, padding=1, dilation=2), (2, 1, 6, 6), ValueError,
     r"kernel size 5 x 5 \(dilated: 9 x 9\) is larger than the padded input 8 x 8"),
    (lambda: nn.Conv1d(2, 4, 3), (2, 2, 5, 5), ValueError,
     r"conv1d: expected a 2-D \(unbatched\) or 3-D \(batched\) input, got shape \(2, 2, 5, 5\)"),
    (lambda: nn.MaxPool2d(3), (1, 1, 2, 2), ValueError,
     r"max_pool2d: kernel size 3 x 3 is larger than the padded input 2 x 2"),
    (lambda: nn.Conv2d(3, 8, 3, dtype=cr.float64), (1, 3, 5, 5), TypeError,
     r"conv2d: input dtype float32 does not match weight dtype float64"),
])
def test_bad_input_is_named(make, x_shape, error, message):
    layer = make()
    with pytest.raises(error, match=message):
        layer(cr.zeros(*x_shape))


@pytest.mark.parametrize("make, message", [
    (lambda: nn.Conv2d(3, 8, 3, groups=2), r"Conv2d: groups=2 must divide in_channels=3"),
    (lambda: nn.Conv2d(3, 8, 3, padding_mode="reflect"),
     r"Conv2d: padding_mode 'reflect' is not supported; only 'zeros'"),
    (lambda: nn.Conv2d(3, 8, 3, stride=2, padding="same"),
     r"Conv2d: padding='same' needs stride 1"),
    (lambda: nn.Conv1d(0, 8, 3), r"Conv1d: in_channels must be a positive int, got 0"),
    (lambda: nn.Conv2d(3, 8, 3, padding="full"),
     r"Conv2d: padding must be an int, a tuple, 'valid' or 'same', got 'full'"),
])
def test_bad_layer_arguments_are_named(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_benchmark_step_matches_the_hand_written_numpy_step():
    """benchmarks/cnn_reference's chainrule step (nn.Sequential, F.cross_entropy,
    optim.SGD) against its hand-written NumPy step, from the same weights: the
    same loss, gradients and weights over three steps, and on an all-zero batch,
    where every max-pool window ties."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))    # the repo root
    from benchmarks import cnn_reference

    for zeros in (False, True):
        problem = cnn_reference.make_problem(batch=6, dtype=np.float64, seed=5)
        if zeros:
            problem.x[:] = 0.0
        reference = cnn_reference.NumpyCNN(problem, lr=0.5)
        ours = cnn_reference.ModuleCNN(cr, problem, lr=0.5)
        for _ in range(3):
            np.testing.assert_allclose(ours.step().item(), reference.step(), rtol=1e-12)
            for arrays in ((ours.grads(), reference.grads()), (ours.params(), reference.params())):
                for mine, theirs in zip(*arrays):
                    np.testing.assert_allclose(mine, theirs, rtol=1e-10, atol=1e-12)
