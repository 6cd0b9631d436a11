"""Convolution layers: ``Conv1d`` and ``Conv2d`` (PyTorch's, zero padding)."""
import math

from ... import dtypes
from ...creation import empty
from .. import functional as F
from .. import init
from ..module import Module
from ..parameter import Parameter


class _ConvNd(Module):
    """A convolution with its weight (out_channels, in_channels/groups,
    *kernel_size) and bias (out_channels,); see ``F.conv1d``/``F.conv2d``.

    Default initialisation (PyTorch's): weight ``kaiming_uniform_(a=sqrt(5))``,
    which is U(-k, k) with k = 1/sqrt(fan_in), and bias U(-k, k) likewise,
    fan_in = in_channels/groups * prod(kernel_size). kernel_size, stride,
    padding and dilation are kept as tuples (padding may be 'valid' or
    'same'), as PyTorch does. Only ``padding_mode='zeros'`` is implemented.
    """

    d = None                 # spatial dimensions, set by the subclasses
    functional = None

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 dilation=1, groups=1, bias=True, padding_mode="zeros", dtype=None):
        super().__init__()
        name = type(self).__name__
        for arg, value in (("in_channels", in_channels), ("out_channels", out_channels),
                           ("groups", groups)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}: {arg} must be a positive int, got {value!r}")
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: groups={groups} must divide in_channels={in_channels} "
                             f"and out_channels={out_channels}")
        if padding_mode != "zeros":
            raise ValueError(f"{name}: padding_mode {padding_mode!r} is not supported; only "
                             f"'zeros' is (pad the input yourself with F.pad for another "
                             f"border)")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = self._tuple(kernel_size)
        self.stride = self._tuple(stride)
        self.dilation = self._tuple(dilation)
        if isinstance(padding, str):
            if padding not in ("valid", "same"):
                raise ValueError(f"{name}: padding must be an int, a tuple, 'valid' or 'same', "
                                 f"got {padding!r}")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(f"{name}: padding='same' needs stride 1, got stride "
                                 f"{self.stride}")
            self.padding = padding
        else:
            self.padding = self._tuple(padding)
        self.padding_mode = padding_mode
        dtype = dtypes.get_default_dtype() if dtype is None else dtype
        self.weight = Parameter(empty(out_channels, in_channels // groups, *self.kernel_size,
                                      dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def _tuple(self, value):
        return tuple(value) if isinstance(value, (tuple, list)) else (value,) * self.d

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.in_channels // self.groups * math.prod(self.kernel_size)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        return self.functional(input, self.weight, self.bias, self.stride, self.padding,
                               self.dilation, self.groups)

    def extra_repr(self):
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0,) * self.d:
            text += f", padding={self.padding}"
        if self.dilation != (1,) * self.d:
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        return text


class Conv1d(_ConvNd):
    """1-D convolution over (N, C_in, L) or (C_in, L); see ``F.conv1d``."""
    d = 1
    functional = staticmethod(F.conv1d)


class Conv2d(_ConvNd):
    """2-D convolution over (N, C_in, H, W) or (C_in, H, W); see ``F.conv2d``."""
    d = 2
    functional = staticmethod(F.conv2d)
