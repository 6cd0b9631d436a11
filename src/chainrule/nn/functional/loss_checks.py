"""The checks every loss makes before computing: the reduction, matching
shapes, and class-index targets.

PyTorch lets a target of shape (N,) broadcast against an input of shape
(N, 1) (with only a warning): the loss then compares every prediction with
every target, an (N, N) matrix, and trains silently wrong. Here mismatched
shapes are an error that names both shapes and the likely fix.
"""
import numpy as np

from ...tensor import Tensor

REDUCTIONS = ("mean", "sum", "none")


def check_reduction(name, reduction):
    if reduction not in REDUCTIONS:
        raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def reduce(loss, reduction):
    """The mean or the sum of the elementwise ``loss``, or ``loss`` itself."""
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def check_same_shape(name, input, target):
    """Raise unless ``input`` and ``target`` have exactly the same shape."""
    ishape, tshape = tuple(input.shape), tuple(target.shape)
    if ishape == tshape:
        return
    if int(np.prod(ishape)) == int(np.prod(tshape)):
        fix = (f"if they hold the same values in a different layout, reshape one, e.g. "
               f"target.reshape{ishape}")
        if ishape == tshape + (1,):
            fix = "use target.unsqueeze(-1) or input.squeeze(-1)"
        elif tshape == ishape + (1,):
            fix = "use input.unsqueeze(-1) or target.squeeze(-1)"
    else:
        fix = "check that the target belongs to this output (the sizes differ)"
    raise ValueError(f"{name}: input has shape {ishape} but target has shape {tshape}; they "
                     f"must be the same (broadcasting would pair every prediction with every "
                     f"target): {fix}")


def class_target(name, input, target, ignore_index=None):
    """Check a class-index target against an input of shape (N, C, d1, ...) or (C,).

    Returns the target's int64 array. Targets must be int64 (float targets are
    usually probabilities or one-hot rows, which these losses do not take),
    have the input's shape without the class dimension, and lie in [0, C)
    (or equal ``ignore_index``).
    """
    t = target.data if isinstance(target, Tensor) else np.asarray(target)
    if t.dtype != np.int64:
        hint = (" (class indices, not probabilities or one-hot rows: use "
                "target.argmax(1) for one-hot targets)" if t.dtype.kind == "f" else "")
        raise TypeError(f"{name}: target must hold class indices as int64 (cr.int64), got "
                        f"dtype {t.dtype}{hint}; convert with target.long()")
    ishape = tuple(input.shape)
    if len(ishape) == 0:
        raise ValueError(f"{name}: input must have a class dimension, shape (N, C, ...) or "
                         f"(C,), got a 0-d input")
    expected = () if len(ishape) == 1 else (ishape[0],) + ishape[2:]
    if t.shape != expected:
        hint = ""
        if t.shape == ishape:
            hint = (" (a target shaped like the input looks one-hot; pass class indices with "
                    "target.argmax(1))")
        raise ValueError(f"{name}: input of shape {ishape} needs a target of shape {expected} "
                         f"(one class index per sample; classes are dimension "
                         f"{0 if len(ishape) == 1 else 1}), got target shape {t.shape}{hint}")
    classes = ishape[0] if len(ishape) == 1 else ishape[1]
    valid = t if ignore_index is None else t[t != ignore_index]
    if valid.size and (valid.min() < 0 or valid.max() >= classes):
        bad = valid.min() if valid.min() < 0 else valid.max()
        also = "" if ignore_index is None else f", or ignore_index={ignore_index}"
        raise IndexError(f"{name}: target value {bad} is out of range for {classes} classes "
                         f"(valid: 0 to {classes - 1}{also})")
    return t


def check_class_weight(name, weight, classes):
    if weight is not None and tuple(weight.shape) != (classes,):
        raise ValueError(f"{name}: weight must have one entry per class, shape ({classes},), "
                         f"got shape {tuple(weight.shape)}")
