"""Regression and binary losses: mse, l1, huber, binary cross-entropy (on
probabilities and on logits). Each takes ``reduction='mean'|'sum'|'none'``
and requires the target to have exactly the input's shape.
"""
import numpy as np

from ... import ops
from ...tensor import Tensor
from .loss_checks import check_reduction, check_same_shape, reduce

__all__ = ["mse_loss", "l1_loss", "huber_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits"]

# log(x) is clamped at -100 (PyTorch's choice), so a prediction of exactly 0
# or 1 gives a large finite loss, not inf. x is first raised to the smallest
# float32 subnormal, so log never sees 0 (no divide-by-zero warning, and no
# 0 * inf = NaN in the gradient); log(1e-45) < -100, so the clamp then gives
# exactly -100 there.
_TINY = 1e-45
_LOG_FLOOR = -100.0


def mse_loss(input, target, reduction="mean"):
    """(x - y)^2 elementwise."""
    check_reduction("mse_loss", reduction)
    check_same_shape("mse_loss", input, target)
    diff = input - target
    return reduce(diff * diff, reduction)


def l1_loss(input, target, reduction="mean"):
    """|x - y| elementwise (gradient sign(x - y), 0 where x == y)."""
    check_reduction("l1_loss", reduction)
    check_same_shape("l1_loss", input, target)
    return reduce(ops.abs(input - target), reduction)


def huber_loss(input, target, reduction="mean", delta=1.0):
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta), d = x - y:
    quadratic near zero, linear (robust to outliers) beyond delta."""
    check_reduction("huber_loss", reduction)
    check_same_shape("huber_loss", input, target)
    if not delta > 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta!r}")
    diff = input - target
    size = ops.abs(diff)
    loss = ops.where(size < delta, 0.5 * (diff * diff), delta * (size - 0.5 * delta))
    return reduce(loss, reduction)


def _check_weight(name, weight, shape, what="weight"):
    if weight is None:
        return
    try:
        fits = np.broadcast_shapes(tuple(weight.shape), shape) == shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"{name}: {what} of shape {tuple(weight.shape)} does not broadcast "
                         f"to the input's shape {shape}")


def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    """-w (y log x + (1 - y) log(1 - x)) for probabilities x in [0, 1],
    with each log clamped at -100 as in PyTorch.

    Where x is exactly 0 or 1 the clamped log is flat, so its gradient there is
    0 (PyTorch instead divides by a clamped x (1 - x) and returns about 1e12).
    """
    check_reduction("binary_cross_entropy", reduction)
    check_same_shape("binary_cross_entropy", input, target)
    _check_weight("binary_cross_entropy", weight, tuple(input.shape))
    x = input.data if isinstance(input, Tensor) else np.asarray(input)
    if x.size and not (x.min() >= 0 and x.max() <= 1):
        raise ValueError(f"binary_cross_entropy: input values must be probabilities in "
                         f"[0, 1], got values from {x.min()} to {x.max()}; apply sigmoid "
                         f"first, or use binary_cross_entropy_with_logits on the logits "
                         f"(more stable)")
    log_x = ops.clamp(ops.log(ops.clamp(input, min=_TINY)), min=_LOG_FLOOR)
    log_1mx = ops.clamp(ops.log(ops.clamp(1 - input, min=_TINY)), min=_LOG_FLOOR)
    loss = -(target * log_x + (1 - target) * log_1mx)
    if weight is not None:
        loss = loss * weight
    return reduce(loss, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean",
                                     pos_weight=None):
    """Binary cross-entropy of sigmoid(x), computed from the logits x without
    ever forming sigmoid(x):

        loss = (1 - y) x + (1 + (p - 1) y) softplus(-x),
        softplus(-x) = -log sigmoid(x) = max(-x, 0) + log1p(exp(-|x|)),

    with p the ``pos_weight`` (1 when not given; it weighs the positive term and
    broadcasts along the last dimension, one entry per class). exp only ever
    sees -|x| <= 0, so nothing overflows for any logit. ``maximum(-x, 0)`` (not
    relu) keeps the gradient right at x = 0: maximum splits a tie evenly, so
    the two kinks there (of max and of |x|) add up to softplus'(0) = 1/2.
    """
    name = "binary_cross_entropy_with_logits"
    check_reduction(name, reduction)
    check_same_shape(name, input, target)
    _check_weight(name, weight, tuple(input.shape))
    _check_weight(name, pos_weight, tuple(input.shape), "pos_weight")
    softplus_neg = ops.maximum(-input, 0.0) + ops.log1p(ops.exp(-ops.abs(input)))
    if pos_weight is None:
        loss = (1 - target) * input + softplus_neg
    else:
        loss = (1 - target) * input + (1 + (pos_weight - 1) * target) * softplus_neg
    if weight is not None:
        loss = loss * weight
    return reduce(loss, reduction)
