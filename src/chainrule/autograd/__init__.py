"""Reverse-mode automatic differentiation: the engine, custom gates, checks."""
from .anomaly import detect_anomaly  # noqa: F401
from .engine import backward, grad  # noqa: F401
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled  # noqa: F401
from .function import Function  # noqa: F401
from . import forward_ad  # noqa: F401
from .gradcheck import GradcheckError, gradcheck, gradgradcheck  # noqa: F401
