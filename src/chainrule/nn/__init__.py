"""``chainrule.nn``: modules, layers, losses and their function forms
(``import chainrule.nn as nn``, ``import chainrule.nn.functional as F``)."""
from . import functional, init, utils  # noqa: F401
from .containers import ModuleDict, ModuleList, Sequential  # noqa: F401
from .layers import *  # noqa: F401,F403
from .module import Module  # noqa: F401
from .parameter import Parameter  # noqa: F401
