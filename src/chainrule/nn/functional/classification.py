"""Classification losses on class-index targets: nll_loss, cross_entropy,
multi_margin_loss.

The input holds one score per class along dimension 1, shape (N, C) or
(N, C, d1, d2, ...) (a class per pixel, per time step), or (C,) for a single
sample; the target holds int64 class indices of shape (N,), (N, d1, ...) or
(). ``reduction='mean'`` of nll_loss and cross_entropy divides by the total
weight of the counted targets (the number of targets not equal to
``ignore_index`` when there is no class weight), as PyTorch.
"""
import numpy as np

from ... import ops
from .activation import log_softmax
from .loss_checks import check_class_weight, check_reduction, class_target, reduce

__all__ = ["nll_loss", "cross_entropy", "multi_margin_loss"]


def _batched(input, t):
    """A single sample (C,) with target () as a batch of one."""
    if input.ndim == 1:
        return input.reshape(1, -1), t.reshape(1), True
    return input, t, False


def _unbatched(loss, single, reduction):
    return loss.reshape(()) if single and reduction == "none" else loss


def _picked(logp, t, weight, ignore_index):
    """``-w[t] * logp[n, t, ...]`` per target position, and ``w[t]`` itself (zero
    where the target is ignore_index)."""
    valid = t != ignore_index
    safe = np.where(valid, t, 0)      # any valid class: the ignored entries are zeroed below
    picked = ops.gather(logp, np.expand_dims(safe, 1), dim=1).reshape(t.shape)
    mask = valid.astype(logp.dtype)
    target_weight = mask if weight is None else weight[safe] * mask
    return -(picked * target_weight), target_weight


def _weighted_reduce(loss, target_weight, reduction):
    if reduction == "mean":
        return loss.sum() / target_weight.sum()
    return reduce(loss, reduction)


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """-w[y] * input[n, y] for log-probabilities ``input`` (take log_softmax
    first, or use cross_entropy on the logits)."""
    check_reduction("nll_loss", reduction)
    t = class_target("nll_loss", input, target, ignore_index)
    input, t, single = _batched(input, t)
    check_class_weight("nll_loss", weight, input.shape[1])
    loss, target_weight = _picked(input, t, weight, ignore_index)
    return _unbatched(_weighted_reduce(loss, target_weight, reduction), single, reduction)


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean",
                  label_smoothing=0.0):
    """nll_loss(log_softmax(input, dim=1), target): the logits go through
    logsumexp, so any scale of logits is stable.

    With label smoothing e the target distribution is (1 - e) one-hot + e
    uniform over the C classes, so the loss is
    ``(1 - e) * nll + e / C * sum_c -w_c logp_c`` (the second term reduced like
    the first: in the mean, divided by the same total target weight).
    """
    check_reduction("cross_entropy", reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got "
                         f"{label_smoothing!r}")
    t = class_target("cross_entropy", input, target, ignore_index)
    input, t, single = _batched(input, t)
    classes = input.shape[1]
    check_class_weight("cross_entropy", weight, classes)
    logp = log_softmax(input, dim=1)
    loss, target_weight = _picked(logp, t, weight, ignore_index)
    nll = _weighted_reduce(loss, target_weight, reduction)
    if label_smoothing == 0:
        return _unbatched(nll, single, reduction)
    class_shape = (1, classes) + (1,) * (input.ndim - 2)
    weighted = logp if weight is None else logp * weight.reshape(class_shape)
    smooth = -weighted.sum(1) * (t != ignore_index).astype(logp.dtype)
    smooth = _weighted_reduce(smooth, target_weight, reduction)
    out = nll * (1 - label_smoothing) + smooth * (label_smoothing / classes)
    return _unbatched(out, single, reduction)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, reduction="mean"):
    """The multiclass hinge (SVM) loss of each sample,

        loss(x, y) = sum_{j != y} w[y] * max(0, margin - x[y] + x[j])^p / C,

    for input (N, C) or (C,), p = 1 or 2. A class scored within ``margin`` of
    the true class adds to the loss; ``reduction='mean'`` averages over samples.
    """
    check_reduction("multi_margin_loss", reduction)
    if p not in (1, 2):
        raise ValueError(f"multi_margin_loss: p must be 1 or 2, got {p!r}")
    if input.ndim not in (1, 2):
        raise ValueError(f"multi_margin_loss: input must have shape (N, C) or (C,), got "
                         f"{tuple(input.shape)}")
    t = class_target("multi_margin_loss", input, target)
    input, t, single = _batched(input, t)
    n, classes = input.shape
    check_class_weight("multi_margin_loss", weight, classes)
    true_score = ops.gather(input, t[:, None], dim=1)
    hinge = ops.relu(input - true_score + margin)
    if p == 2:
        hinge = hinge * hinge
    others = np.ones((n, classes), dtype=input.dtype)
    others[np.arange(n), t] = 0       # the true class is not a margin violation
    hinge = hinge * others
    if weight is not None:
        hinge = hinge * weight[t][:, None]
    loss = hinge.sum(1) / classes
    return _unbatched(reduce(loss, reduction), single, reduction)
