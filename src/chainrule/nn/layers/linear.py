"""``Linear`` (a fully connected layer) and ``Identity``."""
import math

from ... import dtypes
from ...creation import empty
from .. import functional as F
from .. import init
from ..module import Module
from ..parameter import Parameter


class Identity(Module):
    """Returns its input unchanged (a placeholder, e.g. to remove a layer).
    Any constructor arguments are accepted and ignored, as in PyTorch."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    """y = x W^T + b, with ``weight`` W of shape (out_features, in_features)
    and ``bias`` b of shape (out_features,).

    Default initialisation (PyTorch's): W ~ U(-k, k) and b ~ U(-k, k) with
    k = 1 / sqrt(in_features) -- for W this is ``kaiming_uniform_(a=sqrt(5))``.
    Parameters are of the default dtype unless ``dtype`` is given.
    """

    def __init__(self, in_features, out_features, bias=True, dtype=None):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        dtype = dtypes.get_default_dtype() if dtype is None else dtype
        self.weight = Parameter(empty(out_features, in_features, dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.in_features
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")
