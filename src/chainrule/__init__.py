"""chainrule: backpropagation you can read — a reverse-mode autodiff engine and
neural-network library on NumPy with a PyTorch-shaped API."""
from .tensor import Tensor  # noqa: F401
from . import ops  # noqa: F401
from . import tensor_methods  # noqa: F401  (binds Tensor's operators and methods)
from .dtypes import (  # noqa: F401
    bool, float16, float32, float64, get_default_dtype, int32, int64, set_default_dtype, uint8)
from .random import manual_seed  # noqa: F401
from .creation import (  # noqa: F401
    arange, empty, eye, from_numpy, full, full_like, linspace, ones, ones_like, rand, rand_like,
    randint, randn, randn_like, tensor, zeros, zeros_like)
from .functions import *  # noqa: F401,F403
from . import autograd  # noqa: F401
from .serialization import load, save  # noqa: F401
from . import data  # noqa: F401
from . import func  # noqa: F401
from . import nn  # noqa: F401  (as torch.nn: and its gates join the op registry)
from . import optim  # noqa: F401
from . import viz  # noqa: F401
from .autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled  # noqa: F401

__version__ = "0.1.0"
