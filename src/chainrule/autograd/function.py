"""``autograd.Function``: a user-defined gate, written as in PyTorch.

    class Cube(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, grad_out):
            (x,) = ctx.saved_tensors
            return grad_out * 3 * x ** 2

    y = Cube.apply(x)

The ctx is the same ``Node`` that built-in ops record, so the engine treats
both alike. ``forward`` runs under ``no_grad`` and its outputs are then given
the node as ``grad_fn``. Saved tensors that are inputs or outputs are kept as
references to the input or as the output's array plus version (never the
output Tensor itself, which would form a reference cycle through its
``grad_fn``).
"""
import numpy as np

from ..tensor import Tensor
from . import grad_mode
from .node import Node, SavedTensors, TensorCtx, user_site


class _FunctionOp:
    """The op side of a Function class: what the engine calls ``vjp`` on."""

    def __init__(self, fn_class):
        self.fn_class = fn_class
        self.name = fn_class.__name__
        self.node_name = f"{fn_class.__name__}Backward"

    def vjp(self, ctx, *grad_outputs):
        graph = isinstance(ctx, TensorCtx)
        node = ctx.node if graph else ctx
        outputs_meta = node._output_meta
        grads = []
        for g, (shape, dtype) in zip(grad_outputs, outputs_meta):
            if g is None and node._materialize:
                g = np.zeros(shape, dtype)
            if g is not None and not isinstance(g, Tensor):
                g = Tensor._make(g, None, False)
            grads.append(g)
        node._graph_mode = graph
        try:
            result = self.fn_class.backward(node, *grads)
        finally:
            node._graph_mode = False
        return self._check(node, result, graph)

    def _check(self, node, result, graph):
        if not isinstance(result, tuple):
            result = (result,)
        n_inputs = len(node.inputs)
        if len(result) < n_inputs or any(g is not None for g in result[n_inputs:]):
            raise RuntimeError(f"{self.name}.backward returned {len(result)} gradient(s) but "
                               f"forward took {n_inputs} input(s); return one per input "
                               f"(None for inputs that need no gradient)")
        out = []
        for i, (g, inp, needed) in enumerate(zip(result, node.inputs, node.needs_input_grad)):
            if g is None or not needed:
                out.append(None)
                continue
            if not isinstance(g, Tensor):
                g = Tensor._make(np.asarray(g, dtype=inp.dtype), None, False)
            if g.shape != inp.shape:
                raise RuntimeError(f"{self.name}.backward returned a gradient of shape "
                                   f"{tuple(g.shape)} for input {i}, which has shape "
                                   f"{tuple(inp.shape)}")
            out.append(g if graph else g.data)
        return out


class Function:
    """Base class of custom gates: subclass it with static ``forward(ctx, ...)``
    and ``backward(ctx, *grad_outputs)``, then call ``.apply(...)``."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("a Function subclass must define forward(ctx, ...)")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("a Function subclass must define backward(ctx, ...)")

    @classmethod
    def apply(cls, *args, **kwargs):
        op = cls.__dict__.get("_op")
        if op is None:
            op = _FunctionOp(cls)
            cls._op = op
        needs = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        record = any(needs) and grad_mode.state.enabled
        ctx = Node(op, args, needs)
        with grad_mode.no_grad():
            result = cls.forward(ctx, *args, **kwargs)
        single = not isinstance(result, (tuple, list))
        outputs = [result] if single else list(result)
        if record:
            outputs = _connect(ctx, args, outputs)
        return outputs[0] if single else type(result)(outputs)


def _connect(ctx, args, outputs):
    """Make ``ctx`` the grad_fn of the outputs and resolve what it saved."""
    non_diff = ctx.__dict__.get("_non_differentiable", ())
    for k, out in enumerate(outputs):
        if not isinstance(out, Tensor):
            continue
        if any(out is a for a in args):
            # an input returned unchanged: give it a new identity, as PyTorch does
            out = outputs[k] = Tensor._make(out.data, None, False)
        if id(out) in non_diff or out.data.dtype.kind not in "fc":
            continue
        out.grad_fn, out.requires_grad, out._output_nr = ctx, True, k
    ctx.n_outputs = len(outputs)
    ctx._output_meta = [(np.shape(o.data if isinstance(o, Tensor) else o),
                         o.data.dtype if isinstance(o, Tensor) else np.float64)
                        for o in outputs]
    saved = ctx.__dict__.get("_raw_saved")
    if saved is not None:
        del ctx._raw_saved
        entries, checks = SavedTensors(), []
        for j, t in enumerate(saved):
            name = f"saved_tensors[{j}]"
            if t is None:
                entries.append(("const", None))
                continue
            k = next((k for k, o in enumerate(outputs) if o is t), None)
            if k is not None:
                entries.append(("out", k, t.data, t._version))
                checks.append((name, -1 - k, t._version, t._version[0]))
                continue
            i = next((i for i, a in enumerate(args) if a is t), None)
            if i is not None:
                entries.append(("in", i))
                checks.append((name, i, t._version, t._version[0]))
            else:
                entries.append(("const", t))
                checks.append((name, len(args), t._version, t._version[0]))
        ctx._saved = {"_saved_entries": entries}
        ctx._saved_entries = entries
        ctx._checks = checks
        ctx.freeable = True
    ctx.where = user_site()
    return outputs


def _save_for_backward(self, *tensors):
    for t in tensors:
        if t is not None and not isinstance(t, Tensor):
            raise TypeError(f"save_for_backward: can only save Tensors (or None), got "
                            f"{type(t).__name__}; keep other values as ctx attributes")
    self._raw_saved = tensors


def _saved_tensors(self):
    raw = self.__dict__.get("_raw_saved")
    if raw is not None:
        return tuple(raw)   # still inside forward
    entries = self.__dict__.get("_saved_entries")
    if entries is None:
        self.check_not_freed()
        return ()
    graph = self.__dict__.get("_graph_mode", False)
    out = []
    for entry in entries:
        kind = entry[0]
        if kind == "in":
            out.append(self.inputs[entry[1]])
        elif kind == "const":
            out.append(entry[1])
        else:
            _, k, data, version = entry
            t = Tensor._make(data, self if graph else None, graph)
            t._output_nr, t._version = k, version
            out.append(t)
    return tuple(out)


def _mark_non_differentiable(self, *tensors):
    self._non_differentiable = {id(t) for t in tensors}


def _set_materialize_grads(self, value):
    self._materialize = bool(value)


# the ctx API of Function, on the one node type every op shares
Node.save_for_backward = _save_for_backward
Node.saved_tensors = property(_saved_tensors)
Node.mark_non_differentiable = _mark_non_differentiable
Node.set_materialize_grads = _set_materialize_grads
Node._materialize = True
