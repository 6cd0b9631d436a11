"""``trace(t)``: the backward pass replayed, one gate at a time, as the engine runs it.

The replay follows ``autograd/engine.py`` step for step: gates wait in a heap
keyed by their recording number ``seq`` and the latest pending gate runs
next, after every gradient that can reach it has been added into its buffer
(fan-out accumulates there; the table shows each ``+=``). Each gate's own
``op.vjp`` computes what flows to its inputs, on plain arrays, exactly as in
an ordinary backward. Unlike ``backward()`` the replay

* never writes ``.grad`` and frees nothing, so the graph can still be drawn,
  traced again or backpropagated afterwards;
* runs no gradient hooks (they may have side effects, e.g. a
  ``GradientMonitor`` recording statistics), so a hook that changes
  gradients is not reflected.

It needs the values the forward pass saved: call it before ``backward()``, or
after ``backward(retain_graph=True)``.
"""
import heapq

import numpy as np

from ..autograd.grad_mode import no_grad
from ..tensor import Tensor
from .local import local_gradients
from .trace_table import format_trace
from .walk import Walk, key_of


class Accumulation:
    """A gradient arriving at a tensor: ``after = before + added`` (``before``
    is None for the first arrival, where ``after = added``)."""

    __slots__ = ("target", "key", "before", "added", "after")

    def __init__(self, target, key, before, added, after):
        self.target, self.key = target, key
        self.before, self.added, self.after = before, added, after

    def __repr__(self):
        op = "=" if self.before is None else "+="
        return f"Accumulation({self.target} {op} {np.asarray(self.added).tolist()})"


class Step:
    """One gate of the backward pass.

    ``node``: the gate's name (``"MulBackward"``); ``upstream``: the total
    gradient of its output (a tuple, one per output, for a multi-output
    gate); ``local`` and ``downstream``: one entry per input, in call order
    (``None`` for inputs that need no gradient); ``inputs``/``output``: the
    labels of the tensors; ``elementwise``: whether ``downstream = upstream *
    local`` holds element by element (see ``viz/local.py``);
    ``accumulations``: one per input, where its downstream gradient went and
    the running total there (``+=`` on fan-out; None where nothing went);
    ``grad_fn``: the recorded node itself.
    """

    __slots__ = ("node", "grad_fn", "index", "output", "upstream", "inputs", "input_keys",
                 "local", "downstream", "elementwise", "accumulations")

    def __init__(self, **fields):
        for name in self.__slots__:
            setattr(self, name, fields[name])

    def __repr__(self):
        return (f"Step({self.node}, upstream={_short(self.upstream)}, "
                f"local={tuple(_short(x) for x in self.local)}, "
                f"downstream={tuple(_short(x) for x in self.downstream)})")


def _short(a):
    if a is None:
        return None
    if isinstance(a, tuple):
        return tuple(_short(x) for x in a)
    a = np.asarray(a)
    return a.item() if a.size == 1 else f"<array {a.shape}>"


class Trace(list):
    """The steps in the engine's order; ``str()`` is the table.

    ``grads`` maps each tensor's label to its total gradient (leaves and
    computed tensors alike); ``grad(t)`` gives it for a Tensor; ``leaves`` lists
    the labels of the leaves that received a gradient, in forward order;
    ``seed`` is the gradient the pass started from (ones for a scalar).
    """

    def __init__(self, steps, walk, grads_by_key, seed, note=None):
        super().__init__(steps)
        self.walk = walk
        self.seed = seed
        self.note = note
        self._by_key = grads_by_key
        self.grads = {walk.tensors[k].label: g for k, g in grads_by_key.items()}
        self.leaves = [info.label for info in walk.tensors.values()
                       if info.kind == "leaf" and info.key in grads_by_key]

    def grad(self, tensor):
        """The total gradient the pass sends to ``tensor`` (None if none reaches it)."""
        return self._by_key.get(key_of(tensor))

    def __str__(self):
        return format_trace(self)

    def __repr__(self):
        return f"<Trace of {len(self)} step(s); str() shows the table>"


def trace(tensor, gradient=None, names=None, note=None):
    """Replay the backward pass of ``tensor`` and return its ``Trace``.

    ``tensor`` must be a scalar (one element), unless ``gradient`` (the
    upstream gradient, of its shape) is given, as for ``backward``. ``names``
    labels unnamed tensors (a mapping name -> Tensor, or a Module for its
    parameters).
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(_not_a_tensor("trace", tensor))
    walk = Walk(tensor, names)
    return replay(tensor, walk, gradient, note)


def replay(tensor, walk, gradient=None, note=None):
    """The trace of ``tensor`` over an existing walk (``graph`` shares its walk)."""
    if not tensor.requires_grad:
        raise RuntimeError(
            "trace: the tensor does not require grad, so there is no backward pass to show: "
            "it was not computed from a tensor with requires_grad=True (or it was computed "
            "under no_grad)")
    seed = _seed(tensor, gradient)
    if walk.freed:
        raise RuntimeError(
            "trace: the graph's saved values were freed by an earlier backward(), so the "
            "backward pass cannot be replayed. Call cr.viz.trace(t) before t.backward(), or "
            "call t.backward(retain_graph=True)")
    for gate in walk.gates:
        try:
            gate.node.check_versions()
        except RuntimeError as e:
            raise RuntimeError("trace: " + str(e).removeprefix("backward: ")) from None
    with no_grad():
        return _run(tensor, walk, seed, note)


def _seed(tensor, gradient):
    if gradient is None:
        if tensor.data.size != 1:
            raise RuntimeError(
                f"trace: the tensor has shape {tuple(tensor.shape)}; the backward pass starts "
                f"from a scalar (one element). Trace a scalar (e.g. cr.viz.trace(y.sum())) or "
                f"pass gradient=<an array of shape {tuple(tensor.shape)}>")
        return np.ones_like(tensor.data)
    g = np.array(gradient.data if isinstance(gradient, Tensor) else gradient,
                 dtype=tensor.data.dtype)
    if g.shape != tensor.shape:
        raise RuntimeError(f"trace: gradient has shape {g.shape} but the tensor has shape "
                           f"{tuple(tensor.shape)}; they must match")
    return g


def _run(root, walk, seed, note):
    gate_of = {id(g.node): g for g in walk.gates}
    totals = {}             # tensor key -> gradient received so far
    root_key = walk.root_key
    totals[root_key] = seed
    steps = []
    heap = []
    if root.grad_fn is not None:
        heap.append((-root.grad_fn.seq, root.grad_fn))
    pending = {id(root.grad_fn)} if root.grad_fn is not None else set()
    while heap:
        node = heapq.heappop(heap)[1]
        gate = gate_of[id(node)]
        upstream = _upstream(gate, totals)
        if node.n_outputs == 1:
            grads = node.op.vjp(node, upstream)
        else:
            grads = node.op.vjp(node, *upstream)
        local, elementwise = local_gradients(node, upstream)
        downstream, accumulations = [], []
        for key, g, needed in zip(gate.inputs, grads, node.needs_input_grad):
            if not needed or g is None:
                downstream.append(None)
                accumulations.append(None)
                continue
            g = np.asarray(g.data if isinstance(g, Tensor) else g)
            downstream.append(g)
            before = totals.get(key)
            after = g if before is None else before + g
            totals[key] = after
            accumulations.append(Accumulation(walk.tensors[key].label, key, before, g, after))
            nxt = walk.tensors[key].tensor.grad_fn
            if nxt is not None and id(nxt) not in pending:
                pending.add(id(nxt))
                heapq.heappush(heap, (-nxt.seq, nxt))
        steps.append(Step(
            node=node.name, grad_fn=node, index=gate.index,
            output=_output_label(gate, walk), upstream=upstream,
            inputs=tuple(walk.tensors[k].label for k in gate.inputs), input_keys=tuple(gate.inputs),
            local=local, downstream=tuple(downstream), elementwise=elementwise,
            accumulations=tuple(accumulations)))
    return Trace(steps, walk, totals, seed, note)


def _upstream(gate, totals):
    node = gate.node
    if node.n_outputs == 1:
        return totals[("out", id(node), 0)]
    return tuple(totals.get(("out", id(node), k)) for k in range(node.n_outputs))


def _output_label(gate, walk):
    return ", ".join(walk.tensors[k].label for k in sorted(gate.outputs, key=lambda k: k[2]))


def _not_a_tensor(where, value):
    if hasattr(value, "named_parameters") and hasattr(value, "forward"):
        return (f"{where}: got a Module ({type(value).__name__}); pass the output tensor "
                f"instead: cr.viz.{where}(model(x)) (or the loss computed from it)")
    return f"{where}: expected a Tensor, got {type(value).__name__}"
