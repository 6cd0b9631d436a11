"""Broadcasting's backward: the one place gradients are summed back to shape.

When an input of shape (3, 1) was broadcast to (2, 3, 4) in the forward, each
of its elements fed several outputs, and by the chain rule its gradient is the
sum of theirs: sum over the leading axes that broadcasting added, and over the
axes where the input had size 1.
"""
import numpy as np


def broadcast_shapes(op, *shapes):
    """NumPy's broadcast of ``shapes``, or an error naming ``op`` and the shapes."""
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        listed = " and ".join(str(tuple(s)) for s in shapes)
        raise ValueError(f"{op}: shapes {listed} cannot be broadcast together "
                         f"(trailing dimensions must be equal or 1)") from None


def sum_to(grad, shape):
    """Sum ``grad`` (an array or a Tensor) down to ``shape``."""
    gshape = grad.shape
    if gshape == shape:
        return grad
    from .reduce import sum as _sum
    from .shape import reshape
    lead = len(gshape) - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and gshape[lead + i] != 1)
    if axes:
        grad = _sum(grad, dim=axes, keepdim=True)
    return reshape(grad, shape=shape)
