"""Optimisers and learning-rate schedules, shaped like ``torch.optim``.

Each optimiser holds its state and calls a plain update function on NumPy
arrays (``sgd_update``, ``adam_update``, ...), which states the exact rule
in its docstring; each follows PyTorch's update step for step.
"""
from . import lr_scheduler
from .adagrad import Adagrad, adagrad_update
from .adam import Adam, adam_update
from .adamw import AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop, rmsprop_update
from .sgd import SGD, sgd_update

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "lr_scheduler",
           "sgd_update", "adam_update", "rmsprop_update", "adagrad_update"]
