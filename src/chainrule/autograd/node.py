"""The recorded gate: one ``Node`` per operation, which is also its ``ctx``.

A node holds the op, its inputs (Tensors or constants, in call order) and
exactly what the op's backward needs, saved by ``ctx.save(name=value)`` in the
forward. Saving an array that is an input's or the output's data also records
that tensor's version, so an in-place edit before backward is caught instead
of silently giving a wrong gradient.

Under ``create_graph`` the formulas must see Tensors, not arrays, so the
engine hands them a ``TensorCtx``: the same saved names, resolved to the input
Tensor or to a Tensor of the output whose ``grad_fn`` is this node. The node
never holds its own output Tensor, so no reference cycle is formed.
"""
import itertools
import os
import sys

import numpy as np

from ..tensor import Tensor
from . import forward_ad

_sequence = itertools.count()
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def user_site():
    """``(filename, lineno)`` of the innermost frame outside chainrule."""
    frame = sys._getframe(2)
    while frame is not None:
        filename = frame.f_code.co_filename
        own = _is_own_file.get(filename)
        if own is None:
            own = _is_own_file[filename] = filename.startswith(_PACKAGE_DIR)
        if not own:
            return (filename, frame.f_lineno)
        frame = frame.f_back
    return ("<unknown>", 0)


_is_own_file = {}   # file name -> is it chainrule's? (user_site runs per recorded op)


class SavedTensors(list):
    """What a Function saved, resolved after its forward (freed by backward)."""


class Node:
    """One gate of the graph; ``grad_fn`` of the tensor it made.

    ``next_functions`` gives, per input, ``(grad_fn or None, output_nr)`` as
    PyTorch does (leaves that require grad appear with ``None`` here, since
    chainrule accumulates into leaves without a node of their own).
    """

    __slots__ = ("op", "inputs", "needs_input_grad", "seq", "__dict__", "__weakref__")

    # rarely used state lives in the instance dict only when set
    n_outputs = 1
    _saved = None          # name -> value given to ctx.save
    _checks = ()           # (name, source, version_counter, version_at_save)
    where = None           # (file, line) of the user's code; set when arrays are saved
    freeable = False       # saved arrays that backward frees
    freed = False
    watched = False        # True once out_hooks or retained is set
    out_hooks = None       # output_nr -> [hook]
    retained = None        # output_nr -> weakref to a tensor that called retain_grad

    def __init__(self, op, inputs, needs_input_grad):
        self.op = op
        self.inputs = inputs
        self.needs_input_grad = needs_input_grad   # one bool per input
        self.seq = next(_sequence)

    # -- the ctx API -------------------------------------------------------
    def save(self, **values):
        """Keep ``values`` for backward, reachable as ``ctx.<name>``."""
        d = self.__dict__
        if "_saved" in d:
            d["_saved"].update(values)
        else:
            d["_saved"] = values
        d.update(values)

    @property
    def name(self):
        return self.op.node_name

    @property
    def next_functions(self):
        return tuple((t.grad_fn, t._output_nr) if isinstance(t, Tensor) else (None, 0)
                     for t in self.inputs)

    def __repr__(self):
        return f"<{self.name}>"

    # -- bookkeeping used by the op machinery and the engine ---------------
    def track(self, outputs, raw_outputs):
        """After forward: tie each saved array to the tensor whose data it is.

        ``raw_outputs`` are what forward returned: NumPy gives a scalar, not a
        0-d array, for 0-d results, so a saved output is found by identity
        with the raw value and then replaced by the tensor's array."""
        saved = self._saved
        checks = []
        arrays = False
        for name, value in saved.items():
            if type(value) is not np.ndarray and not isinstance(value, np.generic):
                continue
            arrays = True
            for k, raw in enumerate(raw_outputs):
                if value is raw:
                    out = outputs[k]
                    self.__dict__[name] = saved[name] = out.data
                    checks.append((name, -1 - k, out._version, out._version[0]))
                    break
            else:
                for i, t in enumerate(self.inputs):
                    if isinstance(t, Tensor) and value is t.data:
                        checks.append((name, i, t._version, t._version[0]))
                        break
        if arrays:
            # only nodes holding arrays can fail a version check or be freed,
            # so only they pay for finding the user's line
            self._checks = checks
            self.freeable = True
            self.where = user_site()

    def site(self):
        """``(file, line)`` where this node was recorded, when known."""
        return self.where or ("<unknown>", 0)

    def check_versions(self):
        for name, source, counter, saved_at in self._checks:
            if counter[0] != saved_at:
                what = "its output" if source < 0 else f"its input {source}"
                file, line = self.site()
                raise RuntimeError(
                    f"backward: {self.name} (recorded at {file}:{line}) saved {what} "
                    f"as '{name}' at version {saved_at}, but it has been modified in place "
                    f"since (now version {counter[0]}), so its gradient would be wrong. "
                    f"Use the out-of-place form of the operation that modified it, "
                    f"or .clone() the tensor before modifying it.")

    def check_not_freed(self):
        if self.freed:
            file, line = self.site()
            raise RuntimeError(
                f"backward: trying to backward through {self.name} (recorded at {file}:{line}) "
                f"a second time, but its saved values were freed by the first backward. "
                f"Pass retain_graph=True to the first backward() (or autograd.grad) to keep them; "
                f"if you carry a state from one step to the next (an RNN's hidden state), "
                f".detach() it so the new graph does not reach into the old one.")

    def release(self):
        """Free what forward saved (backward ran and cannot run again)."""
        d = self.__dict__
        for name in self._saved:
            d.pop(name, None)
        d["_saved"] = None
        d["_checks"] = ()
        d["freed"] = True

    def saved_tensor(self, name):
        """The Tensor form of saved value ``name`` (for create_graph formulas)."""
        value = self.__dict__[name]
        for saved_name, source, counter, _ in self._checks:
            if saved_name != name:
                continue
            if source >= 0:
                return self.inputs[source]
            out = Tensor._make(value, self, True)
            out._output_nr = -1 - source
            out._version = counter
            forward_ad.adopt(self, out)
            return out
        return value


class TensorCtx:
    """The ctx seen by a formula under ``create_graph=True``: saved input and
    output arrays come back as Tensors, so the formula's own operations are
    recorded and can be differentiated again."""

    __slots__ = ("node",)

    def __init__(self, node):
        self.node = node

    def __getattr__(self, name):
        node = self.node
        if name in node.__dict__:
            return node.saved_tensor(name)
        return getattr(node, name)
