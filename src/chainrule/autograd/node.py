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
_ndarray, _generic = np.ndarray, np.generic
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def user_site(skip=0):
    """``(filename, lineno)`` of the innermost frame outside chainrule, from
    the caller's caller outwards, passing over ``skip`` frames the caller
    knows to be chainrule's."""
    return readable_site(code_site(3 + skip))


def code_site(depth):
    """``(code, offset)`` of the innermost frame outside chainrule, looking
    from ``depth`` frames above this function outwards (``None`` if none).

    This is what a node records: the line number is looked up from it only
    when an error message needs it (``readable_site``), because
    ``frame.f_lineno`` scans the code's line table on every call. Frames
    known to be chainrule's are best passed over with ``depth``: looking at
    a frame makes Python build a frame object for it."""
    frame = _getframe(depth)
    while frame is not None:
        code = frame.f_code
        filename = code.co_filename
        own = _is_own_file.get(filename)
        if own is None:
            own = _is_own_file[filename] = filename.startswith(_PACKAGE_DIR)
        if not own:
            return code, frame.f_lasti
        frame = frame.f_back
    return None


def readable_site(site):
    """``(filename, lineno)`` from what ``code_site`` returned (or ``user_site``)."""
    if site is None:
        return ("<unknown>", 0)
    code, offset = site
    if isinstance(code, str):
        return site                      # already (filename, lineno)
    for start, end, line in code.co_lines():
        if start <= offset < end:
            return (code.co_filename, line or 0)
    return (code.co_filename, 0)


_getframe = sys._getframe
_is_own_file = {}   # file name -> is it chainrule's? (user_site runs per recorded op)


class SavedTensors(list):
    """What a Function saved, resolved after its forward (freed by backward)."""


class Node:
    """One gate of the graph; ``grad_fn`` of the tensor it made.

    ``next_functions`` gives, per input, ``(grad_fn or None, output_nr)`` as
    PyTorch does (leaves that require grad appear with ``None`` here, since
    chainrule accumulates into leaves without a node of their own).
    """

    # Every op makes a node, and the engine reads these fields of every node:
    # slots, set once here, are the cheapest to read. Saved values live in
    # the instance dict, so that a formula reads them as ``ctx.<name>``.
    __slots__ = ("op", "inputs", "needs_input_grad", "seq", "n_outputs", "_saved", "_checks",
                 "where", "freeable", "freed", "watched", "__dict__", "__weakref__")

    # rarely used: these live in the instance dict once set
    out_hooks = None       # output_nr -> [hook]
    retained = None        # output_nr -> weakref to a tensor that called retain_grad

    def __init__(self, op, inputs, needs_input_grad):
        self.op = op
        self.inputs = inputs
        self.needs_input_grad = needs_input_grad   # one bool per input
        self.seq = next(_sequence)
        self.n_outputs = 1
        self._saved = None       # name -> value given to ctx.save
        self._checks = ()        # (name, source, version_counter, version_at_save)
        self.where = None        # the user's line (see site()); set when arrays are saved
        self.freeable = False    # holds saved arrays, which backward frees
        self.freed = False
        self.watched = False     # True once out_hooks or retained is set

    # -- the ctx API -------------------------------------------------------
    def save(self, **values):
        """Keep ``values`` for backward, reachable as ``ctx.<name>``."""
        saved = self._saved
        if saved is None:
            self._saved = values
        else:
            saved.update(values)
        self.__dict__.update(values)

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
        with the raw value and then replaced by the tensor's array. (Runs for
        every recorded op that saves something: the loops are written out.)"""
        checks = []
        arrays = False
        for name, value in self._saved.items():
            if type(value) is not _ndarray and not isinstance(value, _generic):
                continue                     # a shape, an option, None
            arrays = True
            source = -1                      # output k is source -1 - k; input i is i
            for raw in raw_outputs:
                if value is raw:
                    t = outputs[-1 - source]
                    if type(raw) is not _ndarray:
                        self.__dict__[name] = self._saved[name] = t.data
                    break
                source -= 1
            else:
                source = 0
                for t in self.inputs:
                    if isinstance(t, Tensor) and value is t.data:
                        break
                    source += 1
                else:
                    continue                 # an array made by forward (a mask)
            counter = t._version
            checks.append((name, source, counter, counter[0]))
        if arrays:
            # only nodes holding arrays can fail a version check or be freed,
            # so only they pay for finding the user's line
            self._checks = checks
            self.freeable = True
            self.where = code_site(3)   # passes over track and the op's __call__

    def site(self):
        """``(file, line)`` where this node was recorded, when known."""
        return readable_site(self.where)

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
        self._saved = None
        self._checks = ()
        self.freed = True

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
