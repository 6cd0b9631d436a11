"""``Parameter``: a Tensor that a Module registers as one of its weights.

A Parameter is an ordinary leaf Tensor (it shares the array it was made
from, as PyTorch's does) with one extra meaning: assigning it as an attribute
of a Module adds it to ``module.parameters()``. Results of operations on a
Parameter are plain Tensors, so only the weights themselves are Parameters.
"""
import numpy as np

from ..dtypes import get_default_dtype
from ..tensor import Tensor


class Parameter(Tensor):
    """``Parameter(data=None, requires_grad=True)``: a learnable leaf tensor.

    ``data`` is a Tensor or anything ``np.asarray`` accepts; its array is
    shared, not copied. ``requires_grad=True`` needs a floating dtype (an
    integer Parameter must pass ``requires_grad=False``).
    """

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = np.zeros((0,), get_default_dtype())
        if isinstance(data, Tensor):
            data = data.data
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol):
        # the Tensor slots plus the Parameter's class: copy.deepcopy(module) keeps
        # its weights Parameters with their own arrays
        return (_rebuild_parameter, (self.data, self.requires_grad, self.grad))


def _rebuild_parameter(data, requires_grad, grad):
    p = Parameter(data, requires_grad=requires_grad)
    p.grad = grad
    return p
