"""Activation functions, each a composite of existing ops (no new gradient
formula: the chain rule through the pieces gives the gradient).

Choices a PyTorch user could trip on:

* ``relu'(0) = 0``; ``leaky_relu'(0) = negative_slope`` (PyTorch's choices).
* ``gelu`` is the exact form ``x * Phi(x) = x / 2 * (1 + erf(x / sqrt(2)))``,
  with chainrule's own erf (accurate to about 1e-15); ``approximate="tanh"``
  gives PyTorch's tanh approximation.
* ``softplus`` returns x itself where ``beta * x > threshold`` (as PyTorch),
  and its exp never sees more than ``threshold``, so it cannot overflow.
* ``softmax`` and ``log_softmax`` need ``dim``; they go through ``logsumexp``,
  so large logits neither overflow nor lose precision.
"""
import math

from ... import ops

__all__ = ["relu", "leaky_relu", "sigmoid", "tanh", "gelu", "silu", "softplus", "softmax",
           "log_softmax"]


def relu(input):
    """max(x, 0); gradient 1 where x > 0, else 0."""
    return ops.relu(input)


def leaky_relu(input, negative_slope=0.01):
    """x where x > 0, else negative_slope * x."""
    return ops.where(input > 0, input, input * negative_slope)


def sigmoid(input):
    """1 / (1 + exp(-x)), stable for any x (sigmoid(+-1000) is 1 or 0, no warning)."""
    return ops.sigmoid(input)


def tanh(input):
    return ops.tanh(input)


def gelu(input, approximate="none"):
    """x * Phi(x), Phi the standard normal CDF.

    ``approximate="none"`` (the default): ``x / 2 * (1 + erf(x / sqrt(2)))``,
    exact. ``approximate="tanh"``: ``x / 2 * (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``.
    """
    if approximate == "none":
        return input * 0.5 * (1 + ops.erf(input * (1 / math.sqrt(2))))
    if approximate == "tanh":
        inner = (input + 0.044715 * (input * input * input)) * math.sqrt(2 / math.pi)
        return input * 0.5 * (1 + ops.tanh(inner))
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def silu(input):
    """x * sigmoid(x) (also called swish)."""
    return input * ops.sigmoid(input)


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta x)) / beta, and x itself where beta * x > threshold.

    The smooth branch is evaluated on min(beta x, threshold): a plain ``where``
    over log1p(exp(beta x)) would overflow for large x, and the inf it makes
    would turn the (discarded) branch's zero gradient into NaN (0 * inf).
    """
    scaled = input * beta
    smooth = ops.log1p(ops.exp(ops.clamp(scaled, max=threshold))) / beta
    return ops.where(scaled > threshold, input, smooth)


def _check_dim(name, dim):
    if dim is None:
        raise ValueError(f"{name}: pass dim explicitly (the dimension that sums to 1, "
                         f"usually dim=-1 or dim=1 for (N, C) scores); PyTorch's implicit "
                         f"choice of dim is deprecated")


def log_softmax(input, dim=None):
    """x - logsumexp(x, dim): stable for any logits."""
    _check_dim("log_softmax", dim)
    return input - ops.logsumexp(input, dim=dim, keepdim=True)


def softmax(input, dim=None):
    """exp(x - logsumexp(x, dim)): stable for any logits."""
    _check_dim("softmax", dim)
    return ops.exp(log_softmax(input, dim))
