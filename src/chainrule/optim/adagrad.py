"""Adagrad (Duchi, Hazan & Singer, 2011): per-coordinate steps from the summed squares.

The update (PyTorch's, step for step), with g the gradient, p the parameter
and t the step count starting at 1:

    g <- -g                                   if maximize
    g <- g + weight_decay * p
    lr_t = lr / (1 + (t - 1) * lr_decay)
    s <- s + g * g                            s starts at initial_accumulator_value
    p <- p - lr_t * g / (sqrt(s) + eps)

s only grows, so each coordinate's step only shrinks: coordinates with rare
large gradients keep larger steps than those with frequent ones.
"""
import numpy as np

from .optimizer import Optimizer, check_range


def adagrad_update(param, grad, state_sum, *, step, lr, lr_decay=0.0, weight_decay=0.0,
                   eps=1e-10, maximize=False):
    """One Adagrad step on NumPy arrays: updates ``param`` and ``state_sum`` in place.

    ``step`` is this step's number (1 on the first call). ``grad`` is only read.
    """
    if maximize:
        grad = -grad
    if weight_decay != 0:
        grad = grad + weight_decay * param
    step_lr = lr / (1 + (step - 1) * lr_decay)
    state_sum += grad * grad
    param -= step_lr * grad / (np.sqrt(state_sum) + eps)


class Adagrad(Optimizer):
    """Adagrad; see ``adagrad_update`` for the exact rule.

    Options (per group): ``lr=1e-2``, ``lr_decay=0``, ``weight_decay=0``,
    ``initial_accumulator_value=0``, ``eps=1e-10``, ``maximize=False``.
    State per parameter: ``step`` (an int) and ``sum``.

    As in PyTorch, the constructor makes the state of every parameter it is
    given (so ``state_dict`` lists parameters that never had a gradient);
    parameters added later by ``add_param_group`` get theirs at their first
    step. One choice differs: ``initial_accumulator_value`` is read from the
    parameter's own group, where PyTorch uses the constructor's value for
    every group.
    """

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                 initial_accumulator_value=0.0, eps=1e-10, *, maximize=False):
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value,
                    "maximize": maximize}
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group)

    def _init_state(self, param, group):
        state = self.state[param]
        state["step"] = 0
        state["sum"] = np.full_like(param.data, group["initial_accumulator_value"])

    def _check_options(self, options):
        for name in ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            check_range("Adagrad", name, options[name])

    def _update(self, param, grad, group):
        state = self.state[param]
        if not state:
            self._init_state(param, group)
        state["step"] += 1
        adagrad_update(param.data, grad, state["sum"], step=state["step"], lr=group["lr"],
                       lr_decay=group["lr_decay"], weight_decay=group["weight_decay"],
                       eps=group["eps"], maximize=group["maximize"])
