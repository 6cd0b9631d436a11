"""AdamW (Loshchilov & Hutter, 2019): Adam with decoupled weight decay.

Plain Adam with ``weight_decay`` adds ``weight_decay * p`` to the gradient, so
the decay passes through the adaptive denominator and is weakest exactly where
gradients are large. AdamW shrinks the parameter directly instead, before the
Adam step and outside the moments:

    p <- p * (1 - lr * weight_decay)
    (then the Adam update of ``adam.adam_update`` with the raw gradient)

The decay is scaled by ``lr`` (as in PyTorch; the paper uses a separate
schedule multiplier), so a learning-rate schedule also anneals the decay.
"""
from .adam import Adam


class AdamW(Adam):
    """Adam with decoupled weight decay (default ``weight_decay=1e-2``).

    Options and state as ``Adam``; ``decoupled_weight_decay`` is always True.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True)

    def load_state_dict(self, state_dict):
        """As ``Optimizer.load_state_dict``; the decay stays decoupled whatever was saved."""
        super().load_state_dict(state_dict)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
