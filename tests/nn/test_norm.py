"""BatchNorm1d/2d and LayerNorm against torch.nn in float64: outputs,
gradients and running statistics over several training steps, then eval."""
import pytest
import torch

import chainrule as cr
import chainrule.nn as nn
from nn.nn_oracle import assert_close, assert_param_grads, copy_weights, run_both

BATCHNORMS = [
    (nn.BatchNorm1d, torch.nn.BatchNorm1d, (6, 3)),
    (nn.BatchNorm1d, torch.nn.BatchNorm1d, (4, 3, 5)),
    (nn.BatchNorm2d, torch.nn.BatchNorm2d, (3, 2, 4, 5)),
]
OPTIONS = [dict(), dict(momentum=None), dict(momentum=0.3, eps=1e-3), dict(affine=False),
           dict(bias=False),
           dict(track_running_stats=False)]


def _pair(ours_cls, torch_cls, options, rng):
    ours = ours_cls(3 if ours_cls is nn.BatchNorm1d else 2, **options).double()
    theirs = torch_cls(ours.num_features, **options).double()
    with cr.no_grad():    # non-trivial affine parameters
        if ours.weight is not None:
            ours.weight.copy_(rng.uniform(0.5, 2, ours.num_features))
        if ours.bias is not None:
            ours.bias.copy_(rng.standard_normal(ours.num_features))
    copy_weights(ours, theirs)
    return ours, theirs


@pytest.mark.parametrize("options", OPTIONS, ids=str)
@pytest.mark.parametrize("ours_cls, torch_cls, shape", BATCHNORMS,
                         ids=lambda v: v.__name__ if isinstance(v, type) else str(v))
def test_batchnorm_training_steps_then_eval_match_torch(ours_cls, torch_cls, shape, options, rng):
    ours, theirs = _pair(ours_cls, torch_cls, options, rng)
    if ours_cls is nn.BatchNorm2d:
        shape = (shape[0], ours.num_features) + shape[2:]
    for step in range(3):
        x = rng.standard_normal(shape) * (step + 1) + step
        ours.zero_grad()
        theirs.zero_grad()
        run_both(ours, theirs, [x], rng)
        assert_param_grads(ours, theirs)
        their_buffers = dict(theirs.named_buffers())
        for name, buf in ours.named_buffers():
            assert_close(buf, their_buffers[name], what=f"{name} after step {step}")
    ours.eval()
    theirs.eval()
    x = rng.standard_normal(shape)
    run_both(ours, theirs, [x], rng)
    assert_param_grads(ours, theirs)


def test_batchnorm_buffers_and_state_dict_keys_match_torch():
    ours, theirs = nn.BatchNorm1d(4), torch.nn.BatchNorm1d(4)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert ours.num_batches_tracked.dtype == cr.int64
    assert ours.running_mean.tolist() == [0.0] * 4 and ours.running_var.tolist() == [1.0] * 4
    assert repr(ours) == repr(theirs)
    ours.double()
    assert ours.running_mean.dtype == cr.float64 and ours.num_batches_tracked.dtype == cr.int64


def test_batchnorm_eval_leaves_running_stats_alone(rng):
    bn = nn.BatchNorm1d(3).double()
    bn(cr.tensor(rng.standard_normal((5, 3))))
    before = bn.running_mean.tolist(), bn.running_var.tolist(), bn.num_batches_tracked.item()
    bn.eval()
    bn(cr.tensor(rng.standard_normal((5, 3))))
    assert (bn.running_mean.tolist(), bn.running_var.tolist(),
            bn.num_batches_tracked.item()) == before


def test_batchnorm_errors():
    with pytest.raises(ValueError, match=r"BatchNorm2d: expected an input of shape "
                                         r"\(N, C, H, W\), got shape \(2, 3, 4\)"):
        nn.BatchNorm2d(3)(cr.randn(2, 3, 4))
    with pytest.raises(ValueError, match=r"BatchNorm1d: expected an input of shape \(N, C\) "
                                         r"or \(N, C, L\)"):
        nn.BatchNorm1d(3)(cr.randn(3))
    with pytest.raises(ValueError, match=r"more than 1 value per channel when training, got "
                                         r"input of shape \(1, 3\)"):
        nn.BatchNorm1d(3)(cr.randn(1, 3))
    nn.BatchNorm1d(3).eval()(cr.randn(1, 3))      # fine in eval mode
    with pytest.raises(ValueError, match=r"running_mean has shape \(3,\) but the input of "
                                         r"shape \(2, 4\) has 4 channels"):
        nn.BatchNorm1d(3)(cr.randn(2, 4))


@pytest.mark.parametrize("normalized_shape, shape, options", [
    (5, (4, 5), {}),
    (5, (2, 3, 5), dict(eps=1e-3)),
    ((3, 5), (2, 3, 5), {}),
    ((3, 5), (2, 3, 5), dict(elementwise_affine=False)),
    (5, (4, 5), dict(bias=False)),
])
def test_layernorm_matches_torch(normalized_shape, shape, options, rng):
    ours = nn.LayerNorm(normalized_shape, **options).double()
    theirs = torch.nn.LayerNorm(normalized_shape, **options).double()
    if ours.weight is not None:
        with cr.no_grad():
            ours.weight.copy_(rng.uniform(0.5, 2, ours.weight.shape))
    if ours.bias is not None:
        with cr.no_grad():
            ours.bias.copy_(rng.standard_normal(ours.bias.shape))
    copy_weights(ours, theirs)
    assert repr(ours) == repr(theirs)
    run_both(ours, theirs, [rng.standard_normal(shape) * 3 + 1], rng)
    assert_param_grads(ours, theirs)


def test_layernorm_rejects_a_mismatched_input():
    with pytest.raises(ValueError, match=r"layer_norm: input of shape \(2, 4\) does not end in "
                                         r"normalized_shape \(5,\)"):
        nn.LayerNorm(5)(cr.randn(2, 4))
    with pytest.raises(ValueError, match=r"does not end in normalized_shape \(2, 3, 5\)"):
        nn.LayerNorm((2, 3, 5))(cr.randn(3, 5))
