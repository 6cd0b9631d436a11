"""Stochastic gradient descent, with momentum, Nesterov momentum and weight decay.

The update (PyTorch's, step for step), with g the gradient and p the parameter:

    g <- -g                       if maximize
    g <- g + weight_decay * p     (L2 penalty folded into the gradient)
    b <- g                        on the first step (no dampening yet)
    b <- momentum * b + (1 - dampening) * g      afterwards
    g <- g + momentum * b   if nesterov,  else  g <- b
    p <- p - lr * g

Note where lr sits: it multiplies the velocity, not the gradient inside it
(Sutskever et al. write v <- mu v - lr g), so changing lr mid-run rescales
the whole velocity at once. The buffer starts as a copy of the first gradient
rather than at zero; with dampening > 0 the two differ.
"""
from .optimizer import Optimizer, check_range


def sgd_update(param, grad, momentum_buffer, *, lr, momentum=0.0, dampening=0.0,
               weight_decay=0.0, nesterov=False, maximize=False):
    """One SGD step on NumPy arrays: updates ``param`` (and the buffer) in place.

    ``grad`` is only read. ``momentum_buffer`` is ``None`` before the first
    step with momentum; the buffer in use is returned (the new one on the
    first step), and the caller keeps it for the next step.
    """
    if maximize:
        grad = -grad
    if weight_decay != 0:
        grad = grad + weight_decay * param
    if momentum != 0:
        if momentum_buffer is None:
            momentum_buffer = grad.copy()
        else:
            momentum_buffer *= momentum
            momentum_buffer += (1 - dampening) * grad
        grad = grad + momentum * momentum_buffer if nesterov else momentum_buffer
    param -= lr * grad
    return momentum_buffer


class SGD(Optimizer):
    """Stochastic gradient descent (optionally with momentum); see ``sgd_update``.

    Options (per group): ``lr=1e-3``, ``momentum=0``, ``dampening=0``,
    ``weight_decay=0``, ``nesterov=False``, ``maximize=False``. State per
    parameter: ``momentum_buffer`` (only when momentum is non-zero). As in
    PyTorch, a group may set ``momentum=0`` under ``nesterov=True`` defaults:
    it then takes plain gradient steps.
    """

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,
                 nesterov=False, *, maximize=False):
        if nesterov and momentum <= 0:
            raise ValueError(f"SGD: nesterov=True requires momentum > 0, got momentum={momentum}")
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening,
                    "weight_decay": weight_decay, "nesterov": nesterov, "maximize": maximize}
        super().__init__(params, defaults)

    def _check_options(self, options):
        check_range("SGD", "lr", options["lr"])
        check_range("SGD", "momentum", options["momentum"])
        check_range("SGD", "weight_decay", options["weight_decay"])
        # a group may turn momentum off (nesterov then has nothing to act on),
        # but Nesterov's look-ahead is only defined for an undamped buffer
        if options["nesterov"] and options["momentum"] != 0 and options["dampening"] != 0:
            raise ValueError(
                "SGD: nesterov=True requires dampening = 0, got dampening="
                f"{options['dampening']}")

    def _update(self, param, grad, group):
        with_momentum = group["momentum"] != 0
        buffer = self.state[param].get("momentum_buffer") if with_momentum else None
        buffer = sgd_update(param.data, grad, buffer, lr=group["lr"], momentum=group["momentum"],
                            dampening=group["dampening"], weight_decay=group["weight_decay"],
                            nesterov=group["nesterov"], maximize=group["maximize"])
        if with_momentum:
            self.state[param]["momentum_buffer"] = buffer
