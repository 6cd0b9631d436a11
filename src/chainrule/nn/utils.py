"""Gradient clipping and flattening parameters into one vector.

``clip_grad_norm_`` rescales all gradients together so that their joint norm
(the norm of the vector of every gradient element) is at most ``max_norm``:
``g <- g * min(1, max_norm / (total_norm + 1e-6))`` -- the direction of the
update is kept, only its length is limited. ``clip_grad_value_`` clamps each
element to [-clip_value, clip_value] instead, which changes the direction.
"""
import math

import numpy as np

from ..autograd.grad_mode import no_grad
from ..functions import cat
from ..tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector",
           "vector_to_parameters"]


def _as_list(parameters):
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scale the ``.grad`` of ``parameters`` in place so that their total
    ``norm_type``-norm is at most ``max_norm``; returns the total norm *before*
    clipping, as a 0-d Tensor.

    ``norm_type`` may be ``float('inf')`` (or ``'inf'``): the largest absolute
    gradient element. A non-finite total norm raises when
    ``error_if_nonfinite=True``; otherwise the gradients are scaled by a NaN
    factor, as in PyTorch, which makes the problem visible at the next step.
    """
    if not max_norm >= 0:
        raise ValueError(f"clip_grad_norm_: max_norm must be non-negative, got {max_norm!r}")
    norm_type = float(norm_type)
    if not norm_type > 0:
        raise ValueError(f"clip_grad_norm_: norm_type must be positive (or inf), got "
                         f"{norm_type!r}")
    grads = [p.grad for p in _as_list(parameters) if p.grad is not None]
    if not grads:
        return Tensor(np.array(0.0))
    arrays = [np.asarray(g.data) for g in grads]
    if math.isinf(norm_type):
        total = max(float(np.max(np.abs(a))) if a.size else 0.0 for a in arrays)
    else:
        per_param = [np.sum(np.abs(a) ** norm_type) for a in arrays]
        total = float(np.sum(per_param)) ** (1.0 / norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the "
                           f"gradients is {total}, so they cannot be clipped; look for a NaN "
                           f"or inf in the loss (cr.autograd.detect_anomaly() names the "
                           f"operation), or pass error_if_nonfinite=False")
    coef = min(1.0, max_norm / (total + 1e-6)) if math.isfinite(total) else float("nan")
    with no_grad():
        for g in grads:
            g.mul_(coef)
    return Tensor(np.array(total, dtype=arrays[0].dtype))


def clip_grad_value_(parameters, clip_value):
    """Clamp every gradient element of ``parameters`` to [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    if not clip_value >= 0:
        raise ValueError(f"clip_grad_value_: clip_value must be non-negative, got {clip_value}")
    with no_grad():
        for p in _as_list(parameters):
            if p.grad is not None:
                p.grad.clamp_(-clip_value, clip_value)


def parameters_to_vector(parameters):
    """All parameters flattened and joined into one 1-D tensor (differentiable)."""
    params = _as_list(parameters)
    if not params:
        raise ValueError("parameters_to_vector: got no parameters")
    return cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec, parameters):
    """Copy consecutive slices of the 1-D ``vec`` into ``parameters``, in place."""
    if not isinstance(vec, Tensor) or vec.ndim != 1:
        raise TypeError(f"vector_to_parameters: expected a 1-D Tensor, got "
                        f"{type(vec).__name__}"
                        + (f" of shape {tuple(vec.shape)}" if isinstance(vec, Tensor) else ""))
    params = _as_list(parameters)
    total = sum(p.numel() for p in params)
    if vec.shape[0] != total:
        raise ValueError(f"vector_to_parameters: the vector has {vec.shape[0]} elements but "
                         f"the parameters have {total} in all")
    start = 0
    with no_grad():
        for p in params:
            n = p.numel()
            p.copy_(vec.data[start:start + n].reshape(p.shape))
            start += n
