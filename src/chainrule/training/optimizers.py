"""``--optimizer NAME`` and ``--schedule``: the optimisers a run can use, and
how its learning rate changes from epoch to epoch.

Only ``lr`` and ``momentum`` come from the command line; every other option
keeps PyTorch's default. Momentum exists only for SGD and RMSprop, so a
non-zero ``--momentum`` with another optimiser is an error rather than
silently ignored.

A learning rate suits one optimiser, not all (0.1 is good for SGD with
momentum and far too large for Adam), so ``DEFAULTS`` gives each optimiser
its own: choosing ``--optimizer adam`` for a task whose default is SGD
brings Adam's learning rate along, unless ``--lr`` is given too.
"""
import math

from .. import optim

OPTIMIZERS = {"sgd": optim.SGD, "adam": optim.Adam, "adamw": optim.AdamW,
              "rmsprop": optim.RMSprop, "adagrad": optim.Adagrad}
WITH_MOMENTUM = ("sgd", "rmsprop")
DEFAULTS = {"sgd": {"lr": 0.1, "momentum": 0.9}, "adam": {"lr": 1e-3, "momentum": 0.0},
            "adamw": {"lr": 1e-3, "momentum": 0.0}, "rmsprop": {"lr": 1e-3, "momentum": 0.0},
            "adagrad": {"lr": 1e-2, "momentum": 0.0}}
SCHEDULES = ("cosine", "constant")


class OptimizerError(Exception):
    """Settings the chosen optimiser cannot take: a user error."""


def build_optimizer(name, parameters, lr, momentum):
    """The optimiser ``name`` over ``parameters`` with learning rate ``lr``."""
    if not lr > 0:      # "not >" also rejects NaN
        raise OptimizerError(f"--lr must be positive, got {lr}")
    if not 0 <= momentum < 1:
        raise OptimizerError(f"--momentum must be in [0, 1), got {momentum}")
    if name in WITH_MOMENTUM:
        return OPTIMIZERS[name](parameters, lr=lr, momentum=momentum)
    if momentum != 0:
        raise OptimizerError(f"--momentum applies to {' and '.join(WITH_MOMENTUM)} only, "
                             f"not to {name}; drop it or choose --optimizer sgd")
    return OPTIMIZERS[name](parameters, lr=lr)


def scheduled_lr(schedule, lr, epoch, epochs):
    """The learning rate of ``epoch`` (1-based) of ``epochs``.

    ``constant``: ``lr`` throughout. ``cosine``: ``lr (1 + cos(pi (epoch - 1) /
    epochs)) / 2``, from ``lr`` in the first epoch down towards 0 in the last
    (``CosineAnnealingLR(T_max=epochs)`` stepped once per epoch, in closed
    form): the last epochs take small steps, so the final model is not one
    noisy step away from a better one. Being a formula of the epoch, it needs
    no saved state to resume.
    """
    if schedule == "constant":
        return lr
    return lr * (1 + math.cos(math.pi * (epoch - 1) / epochs)) / 2


def describe_optimizer(name, lr, momentum, schedule):
    extra = f", momentum {momentum:g}" if name in WITH_MOMENTUM and momentum else ""
    return f"{name} lr {lr:g}{extra} ({schedule})"
