"""``Optimizer``: parameter groups, per-parameter state, and checkpoints.

An optimiser holds state and calls a plain update function. This base class
does everything that is not the update rule itself:

* ``param_groups`` -- a list of dicts, each with ``"params"`` (a list of
  parameters) and every option of the optimiser; options a group does not
  give are filled in from the constructor's defaults, so a group can override
  ``lr`` alone.
* ``state`` -- per-parameter state (momentum buffers, moment estimates, step
  counts), keyed by the parameter object itself.
* ``step(closure=None)`` walks the groups and hands each parameter that has a
  gradient to the subclass's ``_update``, which calls the update function of
  its own file (``sgd.py``, ``adam.py``, ...) on plain NumPy arrays.
* ``state_dict()`` / ``load_state_dict()`` in PyTorch's shape, so that a
  resumed run continues bit for bit.

A parameter is anything with ``.data`` (a ``numpy.ndarray``, updated in place
so every view and reference to it stays valid) and ``.grad`` (``None`` or an
object whose ``.data`` is an ndarray of the same shape) -- a ``cr.Tensor``
made with ``requires_grad=True``, or an ``nn.Parameter``.
"""
import copy
from collections.abc import MutableMapping

import numpy as np

from ..autograd.grad_mode import enable_grad


class ParamState(MutableMapping):
    """Per-parameter state, keyed by the parameter's identity.

    A plain ``dict`` keyed by tensors would call ``Tensor.__eq__`` (an
    elementwise comparison) on a hash collision; keying on ``id`` avoids that,
    and each entry keeps its parameter alive so the id cannot be reused. As in
    PyTorch (a ``defaultdict(dict)``), ``state[p]`` for a parameter without
    state creates its empty dict.
    """

    def __init__(self):
        self._entries = {}          # id(param) -> (param, its state dict)

    def __getitem__(self, param):
        entry = self._entries.get(id(param))
        if entry is None:
            entry = self._entries[id(param)] = (param, {})
        return entry[1]

    def get(self, param, default=None):
        entry = self._entries.get(id(param))
        return default if entry is None else entry[1]

    def __setitem__(self, param, value):
        self._entries[id(param)] = (param, value)

    def __delitem__(self, param):
        del self._entries[id(param)]

    def __contains__(self, param):
        return id(param) in self._entries

    def __iter__(self):
        return (param for param, _ in self._entries.values())

    def __len__(self):
        return len(self._entries)

    def __repr__(self):
        return f"ParamState({len(self)} parameters)"


def check_range(where, name, value, low=0.0, high=None):
    """Raise ValueError naming ``name`` unless ``low <= value`` (and ``value < high``)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{where}: {name} must be a number, got {value!r}")
    # written as "not (in range)" so that NaN is rejected too
    if not (low <= value and (high is None or value < high)):
        allowed = f">= {low}" if high is None else f"in [{low}, {high})"
        raise ValueError(f"{where}: invalid {name} {value!r}, it must be {allowed}")


class Optimizer:
    """Base class of the optimisers: groups, state, ``step``, checkpoints.

    Subclasses pass their ``defaults`` (every option with its default value),
    implement ``_check_options(options)`` (raise ValueError naming a bad
    option) and ``_update(param, grad, group)`` (one parameter, one step).
    """

    def __init__(self, params, defaults):
        name = type(self).__name__
        if _is_param_like(params):
            raise TypeError(
                f"{name}: params must be an iterable of tensors or of dicts, got one "
                f"{type(params).__name__}; wrap it in a list: {name}([p], ...)")
        _check_ordered(name, params)
        self._check_options(defaults)
        self.defaults = dict(defaults)
        self.state = ParamState()
        self.param_groups = []
        groups = list(params)
        if not groups:
            raise ValueError(f"{name}: optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # -- subclass hooks -------------------------------------------------------
    def _check_options(self, options):
        """Raise ValueError naming any invalid option in ``options``."""
        raise NotImplementedError

    def _update(self, param, grad, group):
        """Update ``param.data`` in place from ``grad`` (an ndarray) and ``group``."""
        raise NotImplementedError

    # -- parameter groups ----------------------------------------------------
    def add_param_group(self, param_group):
        """Append a group: ``{"params": [...], option: value, ...}``.

        Missing options come from ``defaults``. A parameter may appear only
        once in the whole optimiser (PyTorch only warns about a repeat inside a
        group; here a repeat would be stepped twice, so it is an error).
        """
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(
                f"{name}: a param group must be a dict, got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError(f"{name}: a param group needs a 'params' entry, got keys "
                             f"{sorted(param_group)}")
        params = param_group["params"]
        _check_ordered(name, params)
        params = [params] if _is_param_like(params) else list(params)
        for p in params:
            _check_param(name, p)
        group = dict(param_group)
        group["params"] = params
        for option, default in self.defaults.items():
            group.setdefault(option, default)
        self._check_options(group)

        seen = {id(p) for g in self.param_groups for p in g["params"]}
        for i, p in enumerate(params):
            if id(p) in seen:
                raise ValueError(
                    f"{name}: parameter {i} of the new group (shape {p.data.shape}) appears more "
                    "than once in the optimizer; pass each parameter once")
            seen.add(id(p))
        self.param_groups.append(group)

    # -- one step ------------------------------------------------------------
    def step(self, closure=None):
        """Update every parameter that has a gradient; return ``closure()``'s loss.

        ``closure`` (optional) re-evaluates the model and returns the loss; it
        runs with gradient recording on, as in PyTorch. Parameters whose
        ``.grad`` is ``None`` are skipped.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        todo = [(p, p.grad.data, group)
                for group in self.param_groups for p in group["params"] if p.grad is not None]
        # check every gradient before changing anything: no half-taken step on error
        for p, grad, _ in todo:
            if grad.shape != p.data.shape or grad.dtype != p.data.dtype:
                raise ValueError(
                    f"{type(self).__name__}.step: a gradient of shape {grad.shape} and dtype "
                    f"{grad.dtype} does not match its parameter ({p.data.shape}, "
                    f"{p.data.dtype}); set .grad to an array of the parameter's shape and dtype")
        for p, grad, group in todo:
            self._update(p, grad, group)
        return loss

    def zero_grad(self, set_to_none=True):
        """Clear the gradients: set them to ``None`` (default), or zero them in place.

        ``set_to_none=False`` writes zeros into each existing gradient array,
        so references to it see the zeros; a gradient recorded under
        ``create_graph=True`` is first cut from its graph, as in PyTorch.
        """
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                    continue
                if getattr(p.grad, "grad_fn", None) is not None:
                    p.grad.detach_()
                p.grad.data[...] = 0

    # -- checkpoints -----------------------------------------------------------
    def state_dict(self):
        """A snapshot ``{"state": {index: {...}}, "param_groups": [{..., "params": [indices]}]}``.

        Parameters are replaced by their position across all groups (0, 1, ...
        in group order), as PyTorch does; only parameters that have state
        appear under ``"state"``. Arrays are copied, so later steps do not
        change a saved snapshot.
        """
        index = {}
        groups = []
        for group in self.param_groups:
            packed = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state = {index[id(p)]: copy.deepcopy(s) for p, s in self.state.items() if id(p) in index}
        return {"state": dict(sorted(state.items())), "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore groups and state from ``state_dict()`` of a same-shaped optimiser.

        The saved groups must match the current ones in number and size;
        saved parameter indices are mapped onto the current parameters in
        order. Options (``lr`` included) come from the saved groups. Floating
        state arrays are copied and cast to their parameter's dtype, and must
        have its shape.
        """
        name = type(self).__name__
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{name}.load_state_dict: the state dict has {len(saved_groups)} parameter "
                f"groups but the optimizer has {len(self.param_groups)}")
        for i, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    f"{name}.load_state_dict: parameter group {i} has {len(saved['params'])} "
                    f"parameters in the state dict but {len(group['params'])} in the optimizer")
        param_of = {saved_id: p
                    for saved, group in zip(saved_groups, self.param_groups)
                    for saved_id, p in zip(saved["params"], group["params"])}

        state = ParamState()
        for saved_id, saved_state in state_dict["state"].items():
            if saved_id not in param_of:
                raise ValueError(f"{name}.load_state_dict: state for parameter {saved_id}, "
                                 "which no parameter group lists")
            p = param_of[saved_id]
            state[p] = {key: _cast_state(name, saved_id, key, value, p)
                        for key, value in saved_state.items()}

        groups = []
        for saved, group in zip(saved_groups, self.param_groups):
            restored = {k: copy.deepcopy(v) for k, v in saved.items() if k != "params"}
            restored["params"] = group["params"]
            groups.append(restored)
        self.state = state
        self.param_groups = groups

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {group[k]}" for k in sorted(group) if k != "params"]
        return "\n".join(lines + [")"])


def _is_param_like(obj):
    return hasattr(obj, "data") and hasattr(obj, "grad")


def _check_ordered(where, params):
    if isinstance(params, (set, frozenset)):
        raise TypeError(f"{where}: params must be an ordered collection (a list); a set's "
                        "order changes from run to run, so state would not match on reload")


def _check_param(where, p):
    """A parameter has an ndarray ``.data`` and a ``.grad``, and is a leaf."""
    if not (isinstance(getattr(p, "data", None), np.ndarray) and hasattr(p, "grad")):
        raise TypeError(
            f"{where}: can only optimize tensors (objects with an ndarray .data and a .grad), "
            f"got {type(p).__name__}; make parameters with cr.tensor(array, requires_grad=True) "
            "or nn.Parameter")
    if not getattr(p, "is_leaf", True) and not getattr(p, "retains_grad", False):
        raise ValueError(
            f"{where}: can't optimize a non-leaf tensor (shape {p.data.shape}, made by "
            f"{getattr(p.grad_fn, 'name', 'an operation')}); optimize the leaf it was computed "
            "from, or a .detach().requires_grad_() copy")


def _cast_state(where, saved_id, key, value, param):
    """A private copy of one saved state value, floating arrays in the param's dtype."""
    if not isinstance(value, np.ndarray):
        return copy.deepcopy(value)
    if value.shape != param.data.shape:
        raise ValueError(
            f"{where}.load_state_dict: state {key!r} of parameter {saved_id} has shape "
            f"{value.shape} but the parameter has shape {param.data.shape}")
    if np.issubdtype(value.dtype, np.floating):
        return value.astype(param.data.dtype, copy=True)
    return value.copy()
