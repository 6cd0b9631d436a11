"""Adam (Kingma & Ba, 2015), with AMSGrad and optional decoupled weight decay.

The update (PyTorch's, step for step), with g the gradient, p the parameter and
t the step count starting at 1:

    g <- -g                                   if maximize
    p <- p * (1 - lr * weight_decay)          if decoupled_weight_decay (AdamW)
    g <- g + weight_decay * p                 otherwise (L2 folded into g)
    m <- m + (1 - beta1) * (g - m)            = beta1 m + (1 - beta1) g
    v <- beta2 * v + (1 - beta2) * g * g
    v_max <- max(v_max, v)                    if amsgrad; then v_max replaces v below
    p <- p - lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)

eps is added to the bias-corrected sqrt(v), as in the paper's main algorithm
and in PyTorch. The paper's "more efficient" variant adds it to sqrt(v) before
correcting, which scales eps by 1 / sqrt(1 - beta2**t): about 30 times larger
at the first step for beta2 = 0.999, so the two disagree early in training.
The first moment is written as PyTorch's lerp, m + w (g - m): the same value
as the two-product form, rounded differently.
"""
import numpy as np

from .optimizer import Optimizer, check_range


def adam_update(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, *, step, lr, beta1, beta2,
                eps, weight_decay=0.0, amsgrad=False, maximize=False,
                decoupled_weight_decay=False):
    """One Adam step on NumPy arrays: updates ``param`` and the moments in place.

    ``step`` is this step's number (1 on the first call); ``max_exp_avg_sq``
    is used only when ``amsgrad`` (pass ``None`` otherwise). ``grad`` is only
    read.
    """
    if maximize:
        grad = -grad
    if weight_decay != 0:
        if decoupled_weight_decay:
            param *= 1 - lr * weight_decay
        else:
            grad = grad + weight_decay * param
    exp_avg += (1 - beta1) * (grad - exp_avg)
    exp_avg_sq *= beta2
    exp_avg_sq += (1 - beta2) * grad * grad

    step_size = lr / (1 - beta1 ** step)
    bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
    if amsgrad:
        np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        second_moment = max_exp_avg_sq
    else:
        second_moment = exp_avg_sq
    denom = np.sqrt(second_moment) / bias_correction2_sqrt + eps
    param -= step_size * exp_avg / denom


class Adam(Optimizer):
    """Adam; see ``adam_update`` for the exact rule.

    Options (per group): ``lr=1e-3``, ``betas=(0.9, 0.999)``, ``eps=1e-8``,
    ``weight_decay=0``, ``amsgrad=False``, ``maximize=False``,
    ``decoupled_weight_decay=False`` (True turns Adam into AdamW). State per
    parameter: ``step`` (an int), ``exp_avg``, ``exp_avg_sq`` and, with
    amsgrad, ``max_exp_avg_sq``.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 amsgrad=False, *, maximize=False, decoupled_weight_decay=False):
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "amsgrad": amsgrad, "maximize": maximize,
                    "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)

    def _check_options(self, options):
        name = type(self).__name__
        check_range(name, "lr", options["lr"])
        check_range(name, "eps", options["eps"])
        betas = options["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"{name}: betas must be a pair (beta1, beta2), got {betas!r}")
        check_range(name, "betas[0]", betas[0], 0.0, 1.0)
        check_range(name, "betas[1]", betas[1], 0.0, 1.0)
        check_range(name, "weight_decay", options["weight_decay"])

    def _update(self, param, grad, group):
        state = self.state[param]
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(param.data)
            state["exp_avg_sq"] = np.zeros_like(param.data)
        if group["amsgrad"] and "max_exp_avg_sq" not in state:
            state["max_exp_avg_sq"] = np.zeros_like(param.data)
        state["step"] += 1
        beta1, beta2 = group["betas"]
        adam_update(param.data, grad, state["exp_avg"], state["exp_avg_sq"],
                    state.get("max_exp_avg_sq"), step=state["step"], lr=group["lr"],
                    beta1=beta1, beta2=beta2, eps=group["eps"],
                    weight_decay=group["weight_decay"], amsgrad=group["amsgrad"],
                    maximize=group["maximize"],
                    decoupled_weight_decay=group["decoupled_weight_decay"])
