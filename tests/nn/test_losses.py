"""Losses against torch.nn.functional in float64: every reduction, value and
gradients with a random upstream gradient; the shape and target checks."""
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F
from nn.nn_oracle import assert_close, run_both, to_torch

REDUCTIONS = ["mean", "sum", "none"]


# -- losses between an input and a target of the same shape -------------------
def _probabilities(rng, shape):
    return rng.uniform(0.05, 0.95, size=shape)


ELEMENTWISE = {
    "mse": (lambda x, y, r: F.mse_loss(x, y, reduction=r),
            lambda x, y, r: TF.mse_loss(x, y, reduction=r), np.random.Generator.standard_normal),
    "l1": (lambda x, y, r: F.l1_loss(x, y, reduction=r),
           lambda x, y, r: TF.l1_loss(x, y, reduction=r), np.random.Generator.standard_normal),
    "huber": (lambda x, y, r: F.huber_loss(x, y, reduction=r, delta=0.7),
              lambda x, y, r: TF.huber_loss(x, y, reduction=r, delta=0.7),
              np.random.Generator.standard_normal),
    "bce": (lambda x, y, r: F.binary_cross_entropy(x, y, reduction=r),
            lambda x, y, r: TF.binary_cross_entropy(x, y, reduction=r), _probabilities),
    "bce_logits": (lambda x, y, r: F.binary_cross_entropy_with_logits(x, y, reduction=r),
                   lambda x, y, r: TF.binary_cross_entropy_with_logits(x, y, reduction=r),
                   lambda rng, shape: rng.standard_normal(shape) * 3),
}


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", list(ELEMENTWISE))
def test_elementwise_loss_matches_torch(name, reduction, rng):
    ours, theirs, draw = ELEMENTWISE[name]
    x = draw(rng, (4, 3))
    y = rng.uniform(0, 1, size=(4, 3))
    # gradients for the input and the target (torch differentiates both)
    run_both(lambda a, b: ours(a, b, reduction), lambda a, b: theirs(a, b, reduction),
             [x, y], rng)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_weighted_binary_losses_match_torch(reduction, rng):
    x = _probabilities(rng, (5, 3))
    y = rng.uniform(0, 1, size=(5, 3))
    w = rng.uniform(0.5, 2, size=(3,))
    pos = rng.uniform(0.5, 3, size=(3,))
    run_both(lambda a, b: nn.BCELoss(weight=cr.tensor(w), reduction=reduction)(a, b),
             lambda a, b: torch.nn.BCELoss(weight=to_torch(w), reduction=reduction)(a, b),
             [x, y], rng)
    logits = rng.standard_normal((5, 3)) * 2
    run_both(lambda a, b: nn.BCEWithLogitsLoss(weight=cr.tensor(w), pos_weight=cr.tensor(pos),
                                               reduction=reduction)(a, b),
             lambda a, b: torch.nn.BCEWithLogitsLoss(weight=to_torch(w), pos_weight=to_torch(pos),
                                                     reduction=reduction)(a, b),
             [logits, y], rng)


def test_loss_layers_match_functions(rng):
    x, y = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    for ours, theirs in [(nn.MSELoss(reduction="sum"), torch.nn.MSELoss(reduction="sum")),
                         (nn.L1Loss(), torch.nn.L1Loss()),
                         (nn.HuberLoss(delta=0.5), torch.nn.HuberLoss(delta=0.5))]:
        run_both(ours, theirs, [x, y], rng)


def test_bce_with_logits_never_overflows(rng):
    x = np.array([-1000.0, -100.0, -20.0, 0.0, 0.0, 20.0, 100.0, 1000.0])
    y = np.array([1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0])
    pos = np.full(8, 3.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out, _, (xs, _), _ = run_both(
            lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction="none"),
            lambda a, b: TF.binary_cross_entropy_with_logits(a, b, reduction="none"),
            [x, y], rng)
        run_both(lambda a, b: F.binary_cross_entropy_with_logits(a, b, pos_weight=cr.tensor(pos)),
                 lambda a, b: TF.binary_cross_entropy_with_logits(a, b, pos_weight=to_torch(pos)),
                 [x, y], rng)
    assert np.all(np.isfinite(out.data)) and np.all(np.isfinite(xs.grad.data))


def test_bce_at_exact_zero_and_one_is_clamped_like_torch():
    x = np.array([0.0, 1.0, 0.0, 1.0])
    y = np.array([1.0, 0.0, 0.0, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours = F.binary_cross_entropy(cr.tensor(x), cr.tensor(y), reduction="none")
    assert_close(ours, TF.binary_cross_entropy(to_torch(x), to_torch(y), reduction="none"))
    assert ours.tolist() == [100.0, 100.0, 0.0, 0.0]


# -- class-index losses -----------------------------------------------------------
def _class_problem(rng, shape, ignore=False):
    """Logits of ``shape`` (N, C, ...) and int64 targets, some set to ignore_index."""
    x = rng.standard_normal(shape) * 2
    target_shape = (shape[0],) + shape[2:]
    t = rng.integers(0, shape[1], size=target_shape)
    if ignore:
        t.reshape(-1)[::3] = -100
    return x, t


CLASS_CASES = [
    dict(shape=(6, 4)),
    dict(shape=(6, 4), weight=True),
    dict(shape=(6, 4), ignore=True),
    dict(shape=(6, 4), ignore=True, weight=True),
    dict(shape=(3, 4, 2, 5), weight=True, ignore=True),
    dict(shape=(3, 4, 5)),
]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", CLASS_CASES, ids=str)
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_matches_torch(case, reduction, smoothing, rng):
    x, t = _class_problem(rng, case["shape"], case.get("ignore", False))
    w = rng.uniform(0.5, 2, size=case["shape"][1]) if case.get("weight") else None
    ours = nn.CrossEntropyLoss(weight=None if w is None else cr.tensor(w), reduction=reduction,
                               label_smoothing=smoothing)
    theirs = torch.nn.CrossEntropyLoss(weight=None if w is None else to_torch(w),
                                       reduction=reduction, label_smoothing=smoothing)
    run_both(lambda a: ours(a, cr.tensor(t)), lambda a: theirs(a, to_torch(t)), [x], rng)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", CLASS_CASES, ids=str)
def test_nll_loss_matches_torch(case, reduction, rng):
    x, t = _class_problem(rng, case["shape"], case.get("ignore", False))
    w = rng.uniform(0.5, 2, size=case["shape"][1]) if case.get("weight") else None
    ours = nn.NLLLoss(weight=None if w is None else cr.tensor(w), reduction=reduction)
    theirs = torch.nn.NLLLoss(weight=None if w is None else to_torch(w), reduction=reduction)
    run_both(lambda a: ours(a, cr.tensor(t)), lambda a: theirs(a, to_torch(t)), [x], rng)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("p, margin, weighted", [(1, 1.0, False), (2, 1.0, False),
                                                 (1, 0.5, True), (2, 2.0, True)])
def test_multi_margin_loss_matches_torch(p, margin, weighted, reduction, rng):
    x, t = _class_problem(rng, (7, 5))
    x = x * 0.5          # scores close enough for some margins to be violated, some not
    w = rng.uniform(0.5, 2, size=5) if weighted else None
    ours = nn.MultiMarginLoss(p=p, margin=margin, weight=None if w is None else cr.tensor(w),
                              reduction=reduction)
    theirs = torch.nn.MultiMarginLoss(p=p, margin=margin,
                                      weight=None if w is None else to_torch(w),
                                      reduction=reduction)
    run_both(lambda a: ours(a, cr.tensor(t)), lambda a: theirs(a, to_torch(t)), [x], rng)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_single_sample_class_losses_match_torch(reduction, rng):
    x = rng.standard_normal(5)
    t = np.array(3)
    for ours, theirs in [(F.cross_entropy, TF.cross_entropy), (F.nll_loss, TF.nll_loss),
                         (F.multi_margin_loss, TF.multi_margin_loss)]:
        run_both(lambda a: ours(a, cr.tensor(t), reduction=reduction),
                 lambda a: theirs(a, to_torch(t), reduction=reduction), [x], rng)


def test_cross_entropy_of_huge_logits_is_stable(rng):
    x, t = _class_problem(rng, (4, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out, _, (xs,), _ = run_both(lambda a: F.cross_entropy(a * 1e4, cr.tensor(t)),
                                    lambda a: TF.cross_entropy(a * 1e4, to_torch(t)), [x], rng)
    assert np.isfinite(out.item()) and np.all(np.isfinite(xs.grad.data))


def test_float32_losses_stay_float32():
    x = cr.randn(4, 3, requires_grad=True)
    t = cr.tensor([0, 2, 1, 1])
    for loss in (F.cross_entropy(x, t), F.mse_loss(x, cr.zeros(4, 3)),
                 F.binary_cross_entropy_with_logits(x, cr.ones(4, 3)),
                 F.multi_margin_loss(x, t)):
        assert loss.dtype == cr.float32
        loss.backward()
        assert x.grad.dtype == cr.float32


# -- the checks ---------------------------------------------------------------------
SAME_SHAPE_LOSSES = [F.mse_loss, F.l1_loss, F.huber_loss, F.binary_cross_entropy,
                     F.binary_cross_entropy_with_logits]


@pytest.mark.parametrize("loss", SAME_SHAPE_LOSSES, ids=lambda f: f.__name__)
def test_a_target_that_would_broadcast_is_an_error(loss):
    x = cr.full((4, 1), 0.5)
    y = cr.full((4,), 0.5)
    with pytest.raises(ValueError, match=rf"{loss.__name__}: input has shape \(4, 1\) but "
                                         rf"target has shape \(4,\).*target.unsqueeze\(-1\)"):
        loss(x, y)
    with pytest.raises(ValueError, match=r"input has shape \(4,\) but target has shape "
                                         r"\(4, 1\).*input.unsqueeze\(-1\)"):
        loss(y, x)
    with pytest.raises(ValueError, match=r"input has shape \(4, 1\) but target has shape "
                                         r"\(3,\).*sizes differ"):
        loss(x, cr.full((3,), 0.5))
    with pytest.raises(ValueError, match=r"\(2, 3\) but target has shape \(3, 2\).*reshape"):
        loss(cr.full((2, 3), 0.5), cr.full((3, 2), 0.5))


def test_unknown_reduction_is_rejected():
    with pytest.raises(ValueError, match="reduction must be 'mean', 'sum' or 'none', got 'avg'"):
        nn.MSELoss(reduction="avg")
    with pytest.raises(ValueError, match="cross_entropy: reduction must be"):
        F.cross_entropy(cr.randn(2, 3), cr.tensor([0, 1]), reduction="max")


@pytest.mark.parametrize("loss", [F.cross_entropy, F.nll_loss, F.multi_margin_loss],
                         ids=lambda f: f.__name__)
def test_class_targets_are_checked(loss):
    x = cr.randn(4, 3)
    name = loss.__name__
    with pytest.raises(TypeError, match=rf"{name}: target must hold class indices as int64.*"
                                        r"got dtype float32.*argmax\(1\)"):
        loss(x, cr.tensor([0.0, 1.0, 2.0, 1.0]))
    with pytest.raises(TypeError, match=r"int64.*got dtype int32.*target.long\(\)"):
        loss(x, cr.tensor([0, 1, 2, 1], dtype=cr.int32))
    with pytest.raises(IndexError, match=rf"{name}: target value 3 is out of range for 3 "
                                         r"classes \(valid: 0 to 2"):
        loss(x, cr.tensor([0, 1, 3, 1]))
    with pytest.raises(IndexError, match="target value -2 is out of range"):
        loss(x, cr.tensor([0, 1, -2, 1]))
    with pytest.raises(ValueError, match=r"input of shape \(4, 3\) needs a target of shape "
                                         r"\(4,\).*got target shape \(3,\)"):
        loss(x, cr.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match=r"got target shape \(4, 3\).*looks one-hot"):
        loss(x, cr.zeros(4, 3, dtype=cr.int64))
    with pytest.raises(ValueError, match=r"weight must have one entry per class, shape \(3,\)"):
        loss(x, cr.tensor([0, 1, 2, 1]), weight=cr.ones(4))


def test_ignore_index_is_allowed_but_other_negatives_are_not():
    x = cr.randn(3, 4)
    F.cross_entropy(x, cr.tensor([0, -100, 3]))
    F.nll_loss(x, cr.tensor([0, 7, 3]), ignore_index=7)
    with pytest.raises(IndexError, match="or ignore_index=-100"):
        F.cross_entropy(x, cr.tensor([0, -1, 3]))


def test_bad_loss_options_are_rejected():
    with pytest.raises(ValueError, match="binary_cross_entropy: input values must be "
                                         "probabilities in \\[0, 1\\].*with_logits"):
        F.binary_cross_entropy(cr.tensor([0.5, 1.5]), cr.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="label_smoothing must be in \\[0, 1\\], got 1.5"):
        F.cross_entropy(cr.randn(2, 3), cr.tensor([0, 1]), label_smoothing=1.5)
    with pytest.raises(ValueError, match="multi_margin_loss: p must be 1 or 2, got 3"):
        F.multi_margin_loss(cr.randn(2, 3), cr.tensor([0, 1]), p=3)
    with pytest.raises(ValueError, match="MultiMarginLoss: p must be 1 or 2"):
        nn.MultiMarginLoss(p=0)
    with pytest.raises(ValueError, match="huber_loss: delta must be positive, got 0"):
        F.huber_loss(cr.ones(2), cr.ones(2), delta=0)
    with pytest.raises(ValueError, match=r"pos_weight of shape \(4,\) does not broadcast"):
        F.binary_cross_entropy_with_logits(cr.ones(2, 3), cr.ones(2, 3), pos_weight=cr.ones(4))
