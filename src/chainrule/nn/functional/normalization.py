"""Batch and layer normalisation, as composites of existing ops.

Both normalise with the *biased* variance (divide by n): ``x_hat = (x - mean)
/ sqrt(var + eps)``, then scale and shift by the affine weight and bias.
``batch_norm`` in training also updates running estimates, and there (as in
PyTorch) the running variance is updated with the *unbiased* batch variance
(divide by n - 1), the estimate of the population variance.
"""
import numbers

from ... import ops
from ...autograd.grad_mode import no_grad

__all__ = ["batch_norm", "layer_norm"]


def _normalize(input, axes, eps):
    """(x - mean) / sqrt(var + eps) over ``axes``, with the biased variance;
    also returns the batch mean and variance (keepdim)."""
    mean = input.mean(axes, keepdim=True)
    centered = input - mean
    var = (centered * centered).mean(axes, keepdim=True)
    return centered / ops.sqrt(var + eps), mean, var


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Normalise each channel (dimension 1) over the batch and every other dimension.

    ``training=True``: use the batch's statistics, and when ``running_mean`` and
    ``running_var`` are given, update them in place:
    ``running = (1 - momentum) * running + momentum * batch_stat``
    (``batch_stat`` is the unbiased variance for ``running_var``).
    ``training=False``: use the running statistics.
    """
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected an input of shape (N, C, ...), got shape "
                         f"{tuple(input.shape)}")
    channels = input.shape[1]
    stat_shape = (1, channels) + (1,) * (input.ndim - 2)
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != (channels,):
            raise ValueError(f"batch_norm: {name} has shape {tuple(t.shape)} but the input "
                             f"of shape {tuple(input.shape)} has {channels} channels "
                             f"(dimension 1); expected shape ({channels},)")
    if training:
        axes = (0,) + tuple(range(2, input.ndim))
        count = input.numel() // max(channels, 1)
        if count <= 1:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when "
                             f"training, got input of shape {tuple(input.shape)}; use a "
                             f"batch of at least 2, or call .eval()")
        out, mean, var = _normalize(input, axes, eps)
        if running_mean is not None and running_var is not None:
            with no_grad():
                batch_mean = mean.detach().reshape(channels)
                batch_var = var.detach().reshape(channels) * (count / (count - 1))
                running_mean.mul_(1 - momentum).add_(batch_mean * momentum)
                running_var.mul_(1 - momentum).add_(batch_var * momentum)
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: running_mean and running_var are needed when "
                             "training=False")
        out = (input - running_mean.reshape(stat_shape)) \
            / ops.sqrt(running_var.reshape(stat_shape) + eps)
    if weight is not None:
        out = out * weight.reshape(stat_shape)
    if bias is not None:
        out = out + bias.reshape(stat_shape)
    return out


def normalized_shape_tuple(normalized_shape):
    if isinstance(normalized_shape, numbers.Integral):
        return (int(normalized_shape),)
    return tuple(int(n) for n in normalized_shape)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the last ``len(normalized_shape)`` dimensions of each sample
    (no running statistics: training and evaluation compute the same)."""
    shape = normalized_shape_tuple(normalized_shape)
    k = len(shape)
    if k == 0 or input.ndim < k or tuple(input.shape[input.ndim - k:]) != shape:
        raise ValueError(f"layer_norm: input of shape {tuple(input.shape)} does not end in "
                         f"normalized_shape {shape}")
    out, _, _ = _normalize(input, tuple(range(input.ndim - k, input.ndim)), eps)
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out
