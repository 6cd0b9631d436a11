"""``dropout``: inverted dropout, the mask drawn from chainrule's global generator."""
import numpy as np

from ...random import default_generator

__all__ = ["dropout"]


def check_probability(name, p):
    if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)) \
            or not 0 <= p <= 1:
        raise ValueError(f"{name}: dropout probability p must be a number in [0, 1], got {p!r}")


def dropout(input, p=0.5, training=True):
    """Zero each element with probability p and scale the survivors by 1/(1-p),
    so the expected value is unchanged and evaluation needs no rescaling.

    The mask comes from ``chainrule.random.default_generator()`` (seeded by
    ``cr.manual_seed``). With ``training=False`` or ``p=0`` the input is
    returned as it is; with ``p=1`` every element is zeroed (gradient zero).
    """
    check_probability("dropout", p)
    if not training or p == 0:
        return input
    keep = default_generator().random(input.shape) >= p
    scale = 0.0 if p == 1 else 1.0 / (1.0 - p)
    return input * (keep * scale).astype(input.dtype)
