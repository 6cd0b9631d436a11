"""RMSprop (Hinton's lecture 6e), optionally centered and with momentum.

The update (PyTorch's, step for step), with g the gradient and p the parameter:

    g <- -g                                      if maximize
    g <- g + weight_decay * p
    v <- alpha * v + (1 - alpha) * g * g         running mean of g**2
    a <- a + (1 - alpha) * (g - a)               if centered: running mean of g
    d <- sqrt(v - a * a) + eps   if centered,  else  d <- sqrt(v) + eps
    b <- momentum * b + g / d;  p <- p - lr * b      if momentum > 0
    p <- p - lr * g / d                              otherwise

eps sits outside the square root (TensorFlow puts it inside), and v starts
at zero with no bias correction, so the first steps are large: with
alpha = 0.99 the first step is about lr * sign(g) / sqrt(0.01) = 10 lr.
The centered form divides by an estimate of the gradient's standard
deviation instead of its root mean square (Graves, 2013).
"""
import numpy as np

from .optimizer import Optimizer, check_range


def rmsprop_update(param, grad, square_avg, grad_avg, momentum_buffer, *, lr, alpha, eps,
                   weight_decay=0.0, momentum=0.0, centered=False, maximize=False):
    """One RMSprop step on NumPy arrays: updates ``param`` and the averages in place.

    ``grad_avg`` is used only when ``centered`` and ``momentum_buffer`` only
    when ``momentum > 0`` (pass ``None`` otherwise). ``grad`` is only read.
    """
    if maximize:
        grad = -grad
    if weight_decay != 0:
        grad = grad + weight_decay * param
    square_avg *= alpha
    square_avg += (1 - alpha) * grad * grad
    if centered:
        grad_avg += (1 - alpha) * (grad - grad_avg)
        avg = np.sqrt(square_avg - grad_avg * grad_avg)
    else:
        avg = np.sqrt(square_avg)
    avg += eps
    if momentum > 0:
        momentum_buffer *= momentum
        momentum_buffer += grad / avg
        param -= lr * momentum_buffer
    else:
        param -= lr * grad / avg


class RMSprop(Optimizer):
    """RMSprop; see ``rmsprop_update`` for the exact rule.

    Options (per group): ``lr=1e-2``, ``alpha=0.99``, ``eps=1e-8``,
    ``weight_decay=0``, ``momentum=0``, ``centered=False``, ``maximize=False``.
    State per parameter: ``step`` (an int, kept as PyTorch does though the
    rule does not use it), ``square_avg``, and ``momentum_buffer`` /
    ``grad_avg`` when momentum / centered are on.
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False, *, maximize=False):
        defaults = {"lr": lr, "alpha": alpha, "eps": eps, "weight_decay": weight_decay,
                    "momentum": momentum, "centered": centered, "maximize": maximize}
        super().__init__(params, defaults)

    def _check_options(self, options):
        for name in ("lr", "eps", "momentum", "weight_decay", "alpha"):
            check_range("RMSprop", name, options[name])

    def _update(self, param, grad, group):
        state = self.state[param]
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(param.data)
        if group["momentum"] > 0 and "momentum_buffer" not in state:
            state["momentum_buffer"] = np.zeros_like(param.data)
        if group["centered"] and "grad_avg" not in state:
            state["grad_avg"] = np.zeros_like(param.data)
        state["step"] += 1
        rmsprop_update(param.data, grad, state["square_avg"], state.get("grad_avg"),
                       state.get("momentum_buffer"), lr=group["lr"], alpha=group["alpha"],
                       eps=group["eps"], weight_decay=group["weight_decay"],
                       momentum=group["momentum"], centered=group["centered"],
                       maximize=group["maximize"])
