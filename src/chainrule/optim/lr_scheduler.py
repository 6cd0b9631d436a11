"""Learning-rate schedules: each sets ``group["lr"]`` of an optimiser's groups, epoch by epoch.

As in PyTorch, a scheduler counts epochs in ``last_epoch`` and applies epoch 0
when it is constructed: each group's current ``lr`` is saved as
``group["initial_lr"]`` (the base, kept in ``base_lrs``) and the epoch-0 rate
is set at once, so ``LambdaLR`` makes ``lr = base * lambda(0)`` before the
first ``step()``. Call ``scheduler.step()`` once per epoch, after that epoch's
``optimizer.step()`` calls.

The multiplicative schedules (``StepLR``, ``ExponentialLR``, the recursive
``CosineAnnealingLR``) update the group's CURRENT lr, not the base, as
PyTorch does: they compose with other changes to ``lr`` made between epochs,
and their values equal PyTorch's to the last bit.

To resume: build the optimiser and the scheduler, then load both state dicts
(the optimiser's after constructing the scheduler, whose epoch-0 step would
otherwise overwrite the restored ``lr``).
"""
import copy
import math
import types

from .optimizer import Optimizer


class LRScheduler:
    """Base class: subclasses implement ``get_lr()``, the rates for ``self.last_epoch``.

    ``last_epoch=-1`` starts a schedule; a later epoch resumes one whose
    groups already hold ``initial_lr``.
    """

    def __init__(self, optimizer, last_epoch=-1):
        _check_optimizer(type(self).__name__, optimizer)
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise ValueError(
                        f"{type(self).__name__}: last_epoch={last_epoch} resumes a schedule, but "
                        f"param_groups[{i}] has no 'initial_lr'; load the optimizer's state "
                        "dict first, or start with last_epoch=-1")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._step_count = 0
        self._is_initial = True     # the epoch-0 step run by the constructor
        self.step()
        self._is_initial = False

    def get_lr(self):
        """The learning rate of each group at epoch ``self.last_epoch``."""
        raise NotImplementedError

    def step(self):
        """Advance one epoch and write the new rate into every group."""
        self._step_count += 1
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = self._current_lrs()

    def get_last_lr(self):
        """The rates set by the latest ``step()`` (or by the constructor), one per group."""
        return self._last_lr

    def state_dict(self):
        """A copy of every attribute except the optimiser (which has its own state dict)."""
        return {key: copy.deepcopy(value) for key, value in self.__dict__.items()
                if key != "optimizer"}

    def load_state_dict(self, state_dict):
        """Restore (copies of) the attributes saved by ``state_dict()``."""
        self.__dict__.update(copy.deepcopy(state_dict))

    def _current_lrs(self):
        return [group["lr"] for group in self.optimizer.param_groups]


class LambdaLR(LRScheduler):
    """``lr = base_lr * lr_lambda(epoch)``; one function, or a list of one per group.

    ``state_dict`` cannot hold plain functions: like PyTorch it stores
    ``None`` for them and the ``__dict__`` of callable objects, whose
    attributes ``load_state_dict`` restores into the current ones.
    """

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        _check_optimizer("LambdaLR", optimizer)
        n_groups = len(optimizer.param_groups)
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != n_groups:
                raise ValueError(f"LambdaLR: lr_lambda has {len(lr_lambda)} functions but the "
                                 f"optimizer has {n_groups} param groups; give one per group")
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * n_groups
        for fn in self.lr_lambdas:
            if not callable(fn):
                raise TypeError(f"LambdaLR: lr_lambda must be callable, got {type(fn).__name__}")
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [base_lr * fn(self.last_epoch)
                for fn, base_lr in zip(self.lr_lambdas, self.base_lrs)]

    def state_dict(self):
        state = {key: copy.deepcopy(value) for key, value in self.__dict__.items()
                 if key not in ("optimizer", "lr_lambdas")}
        state["lr_lambdas"] = [None if _is_plain_function(fn) else copy.deepcopy(fn.__dict__)
                               for fn in self.lr_lambdas]
        return state

    def load_state_dict(self, state_dict):
        state = copy.deepcopy(state_dict)
        saved_lambdas = state.pop("lr_lambdas")
        self.__dict__.update(state)
        for fn, saved in zip(self.lr_lambdas, saved_lambdas):
            if saved is not None:
                fn.__dict__.update(saved)


class StepLR(LRScheduler):
    """Multiply the lr by ``gamma`` every ``step_size`` epochs.

    From the base: ``lr = base * gamma**(epoch // step_size)``.
    """

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        if isinstance(step_size, bool) or not isinstance(step_size, int) or step_size < 1:
            raise ValueError(f"StepLR: step_size must be a positive int, got {step_size!r}")
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]


class ExponentialLR(LRScheduler):
    """Multiply the lr by ``gamma`` every epoch: ``base * gamma**epoch``."""

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self._is_initial:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]


class CosineAnnealingLR(LRScheduler):
    """Cosine annealing from the base lr down to ``eta_min`` over ``T = T_max`` epochs.

    The closed form (Loshchilov & Hutter, SGDR, without restarts) is

        lr(t) = eta_min + (base - eta_min) * (1 + cos(pi t / T)) / 2

    but, as in PyTorch, the rate is updated recursively from the current lr,

        lr(t) = eta_min + (lr(t-1) - eta_min) * (1 + cos(pi t / T)) / (1 + cos(pi (t-1) / T))

    so that it composes with outside changes to ``lr``. The ratio is 0/0 where
    the cosine leaves its trough (t - 1 = T, 3 T, ...); there the step adds
    ``(base - eta_min) * (1 - cos(pi / T)) / 2`` instead. Past ``T`` the
    schedule does not stop: it climbs back to the base lr over the next ``T``
    epochs, and so on, with period ``2 T``.
    """

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        if isinstance(T_max, bool) or not isinstance(T_max, int) or T_max < 1:
            raise ValueError(f"CosineAnnealingLR: T_max must be a positive int, got {T_max!r}")
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        t, T, eta_min = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return self._current_lrs()
        if (t - 1 - T) % (2 * T) == 0:
            return [lr + (base_lr - eta_min) * (1 - math.cos(math.pi / T)) / 2
                    for base_lr, lr in zip(self.base_lrs, self._current_lrs())]
        return [(1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T))
                * (lr - eta_min) + eta_min
                for lr in self._current_lrs()]


class ReduceLROnPlateau(LRScheduler):
    """Multiply the lr by ``factor`` when a metric stops improving for ``patience`` epochs.

    ``step(metric)`` once per epoch. The metric improves when it beats the
    best so far by the threshold:
    ``mode='min'``: ``metric < best * (1 - threshold)`` (``'rel'``) or
    ``metric < best - threshold`` (``'abs'``); ``'max'`` mirrors these. After
    more than ``patience`` epochs without improvement each group's lr becomes
    ``max(lr * factor, min_lr)`` -- unless that changes it by no more than
    ``eps`` -- and then ``cooldown`` epochs pass in which bad epochs are not
    counted. The first epoch always improves on the initial best (+-inf).
    It does not set ``initial_lr`` and does not change ``lr`` on construction.
    """

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4,
                 threshold_mode="rel", cooldown=0, min_lr=0.0, eps=1e-8):
        _check_optimizer("ReduceLROnPlateau", optimizer)
        if not factor < 1.0:
            raise ValueError(f"ReduceLROnPlateau: factor must be < 1.0, got {factor!r}")
        self.optimizer = optimizer
        self.factor = factor
        n_groups = len(optimizer.param_groups)
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != n_groups:
                raise ValueError(f"ReduceLROnPlateau: min_lr has {len(min_lr)} values but the "
                                 f"optimizer has {n_groups} param groups; give one per group")
            self.default_min_lr = None
            self.min_lrs = list(min_lr)
        else:
            self.default_min_lr = min_lr
            self.min_lrs = [min_lr] * n_groups
        self.patience = patience
        self.cooldown = cooldown
        self.eps = eps
        self.last_epoch = 0
        self._last_lr = self._current_lrs()
        self._set_mode(mode, threshold, threshold_mode)
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    def _set_mode(self, mode, threshold, threshold_mode):
        if mode not in ("min", "max"):
            raise ValueError(f"ReduceLROnPlateau: mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError("ReduceLROnPlateau: threshold_mode must be 'rel' or 'abs', got "
                             f"{threshold_mode!r}")
        self.mode, self.threshold, self.threshold_mode = mode, threshold, threshold_mode
        self.mode_worse = math.inf if mode == "min" else -math.inf

    def _is_better(self, current, best):
        """Whether ``current`` improves on ``best`` by more than the threshold."""
        if self.mode == "min":
            if self.threshold_mode == "rel":
                return current < best * (1.0 - self.threshold)
            return current < best - self.threshold
        if self.threshold_mode == "rel":
            return current > best * (self.threshold + 1.0)
        return current > best + self.threshold

    @property
    def in_cooldown(self):
        return self.cooldown_counter > 0

    def step(self, metrics):
        """Record one epoch's metric (a number or 0-d tensor) and reduce the lr if it plateaued."""
        current = float(metrics)
        self.last_epoch += 1
        if self._is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0     # epochs in cooldown are not held against the lr
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = self._current_lrs()

    def _reduce_lr(self):
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise ValueError(
                    f"ReduceLROnPlateau: the optimizer now has {len(groups)} param groups but "
                    f"min_lr gave {len(self.min_lrs)}; set scheduler.min_lrs to one per group")
            self.min_lrs = [self.default_min_lr] * len(groups)
        for group, min_lr in zip(groups, self.min_lrs):
            old_lr = float(group["lr"])
            new_lr = max(old_lr * self.factor, min_lr)
            if old_lr - new_lr > self.eps:
                group["lr"] = new_lr

    def load_state_dict(self, state_dict):
        self.__dict__.update(copy.deepcopy(state_dict))
        self._set_mode(self.mode, self.threshold, self.threshold_mode)


def _check_optimizer(where, optimizer):
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{where}: expected a chainrule.optim Optimizer, got "
                        f"{type(optimizer).__name__}")


def _is_plain_function(fn):
    """A def or lambda (its state is its code); other callables keep state in ``__dict__``."""
    return isinstance(fn, types.FunctionType)
