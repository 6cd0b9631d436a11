"""``graph(t)``: the computational graph behind a tensor, ready to draw.

A ``Graph`` has tensor nodes (``GraphTensor``: label, shape, dtype, forward
value, gradient) and gate nodes (``GraphGate``: the operation), joined by
edges tensor -> gate -> tensor, as the teaching figures draw a circuit:
values in green, gradients in red.

Gradients come from a replay of the backward pass (``trace``) when one is
possible: the tensor is a scalar that requires grad and no backward has
freed its graph. Every tensor then shows its gradient, computed tensors
included, and ``.to_html()`` can step through the pass. Otherwise (after a
plain ``backward()``) the leaves show their ``.grad`` and computed tensors
theirs when ``retain_grad()`` kept it. ``replay=True`` insists on a replay
(and raises if it cannot), ``replay=False`` never replays.

Large graphs: past ``max_nodes`` drawn nodes, chains of one repeated gate
(``x = x * 1.0001`` ten thousand times) are drawn as one gate marked
``x 10000``; if that is still too many the graph draws a summary that says
how large it is and how to narrow it, instead of a layout nobody could read
(or wait for).
"""
import numpy as np

from ..tensor import Tensor
from . import formatting
from .collapse import collapse_chains
from .trace import _not_a_tensor, replay as _replay
from .walk import Walk

SYMBOLS = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "**", "neg": "*-1",
           "matmul": "@", "maximum": "max", "minimum": "min"}


class GraphTensor:
    """A tensor (or constant) node. ``kind``: ``"leaf"`` (requires grad),
    ``"input"`` (a tensor without grad, e.g. data), ``"result"`` (computed),
    ``"constant"`` (a number or array that is not a Tensor)."""

    def __init__(self, id, key, label, kind, value, grad=None, grad_source=None, named=False):
        self.id, self.key, self.label, self.kind = id, key, label, kind
        self.value = np.asarray(value)
        self.grad = None if grad is None else np.asarray(grad)
        self.grad_source = grad_source        # "replay", ".grad" or None
        self.named = named                    # did the user give the name?

    @property
    def shape(self):
        return self.value.shape

    @property
    def dtype(self):
        return self.value.dtype

    @property
    def value_text(self):
        return formatting.array(self.value)

    @property
    def grad_text(self):
        return "" if self.grad is None else formatting.array(self.grad)

    def __repr__(self):
        return f"<GraphTensor {self.label} {formatting.shape(self.value)} {self.dtype}>"


class GraphGate:
    """An operation node; ``count`` > 1 for a collapsed chain of that gate."""

    def __init__(self, id, name, op, inputs, outputs, count=1):
        self.id, self.name, self.op = id, name, op
        self.inputs, self.outputs = inputs, outputs     # tensor ids
        self.count = count

    @property
    def symbol(self):
        s = SYMBOLS.get(self.op, self.op)
        return s if self.count == 1 else f"{s} x{self.count}"

    def __repr__(self):
        return f"<GraphGate {self.name}{'' if self.count == 1 else f' x{self.count}'}>"


class Graph:
    """Tensor and gate nodes, edges between them, and the replayed steps."""

    def __init__(self, tensors, gates, root, steps=None, title=None, max_nodes=400,
                 sizes=None, notes=()):
        self.tensors = tensors          # id -> GraphTensor
        self.gates = gates              # id -> GraphGate, in forward order
        self.root = root                # id of the output tensor
        self.steps = steps              # Trace, or None
        self.title = title
        self.max_nodes = max_nodes
        self.collapsed = 0              # gates hidden inside collapsed chains
        self.too_large = None           # (gates, tensors, counts per gate) when summarised
        self.sizes = sizes              # (gates, tensors) before any collapsing
        self.notes = list(notes)

    @property
    def edges(self):
        out = []
        for g in self.gates.values():
            out.extend((t, g.id) for t in g.inputs)
            out.extend((g.id, t) for t in g.outputs)
        return out

    def tensor(self, label):
        """The tensor node labelled ``label``."""
        for t in self.tensors.values():
            if t.label == label:
                return t
        raise KeyError(f"graph: no tensor labelled {label!r}; labels: "
                       f"{', '.join(t.label for t in self.tensors.values())}")

    @property
    def can_step(self):
        """Can the HTML page step through the backward pass gate by gate?"""
        return self.steps is not None and not self.collapsed and self.too_large is None

    # -- output --------------------------------------------------------------
    def to_dot(self):
        from .render_dot import render_dot
        return render_dot(self)

    def to_svg(self):
        from .render_svg import render_svg
        return render_svg(self)

    def to_html(self):
        from .render_html import render_html
        return render_html(self)

    def save(self, path):
        """Write the graph to ``path``; the format follows the suffix
        (``.svg``, ``.html``/``.htm``, ``.dot``/``.gv``)."""
        path = str(path)
        suffix = path.rsplit(".", 1)[-1].lower() if "." in path else ""
        writers = {"svg": self.to_svg, "html": self.to_html, "htm": self.to_html,
                   "dot": self.to_dot, "gv": self.to_dot}
        if suffix not in writers:
            raise ValueError(f"Graph.save: cannot tell the format of {path!r} from its suffix; "
                             f"use .svg, .html, .htm, .dot or .gv")
        text = writers[suffix]()
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def _repr_svg_(self):
        return self.to_svg()

    def _repr_html_(self):
        from .render_html import render_fragment
        return render_fragment(self)

    def __repr__(self):
        return (f"<Graph: {len(self.gates)} gate(s), {len(self.tensors)} tensor(s)"
                f"{'' if self.steps is None else ', gradients replayed'}>")


def graph(tensor, names=None, replay=None, max_nodes=400, title=None):
    """The computational graph behind ``tensor`` (see the module docstring).

    ``names``: labels for unnamed tensors, a mapping name -> Tensor or a
    Module (its parameters' names). ``replay``: None (replay the backward
    pass when possible), True or False. ``max_nodes``: how many nodes are
    drawn before repeated chains collapse and, failing that, a summary is
    drawn instead.
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(_not_a_tensor("graph", tensor))
    walk = Walk(tensor, names)
    steps = None
    if replay is None:
        replay = (tensor.requires_grad and tensor.grad_fn is not None
                  and tensor.data.size == 1 and not walk.freed)
    if replay:
        steps = _replay(tensor, walk)
    return build(walk, steps, max_nodes=max_nodes, title=title)


def build(walk, steps=None, max_nodes=400, title=None, notes=()):
    """A ``Graph`` from a walk (and the trace of its backward pass, if any)."""
    ids = {}
    tensors = {}
    for n, info in enumerate(walk.tensors.values()):
        tid = ids[info.key] = f"v{n}"
        grad, source = None, None
        if steps is not None:
            grad = steps._by_key.get(info.key)
            source = "replay" if grad is not None else None
        elif info.tensor is not None and info.tensor.grad is not None:
            grad, source = info.tensor.grad.data, ".grad"
        tensors[tid] = GraphTensor(tid, info.key, info.label, info.kind, info.value, grad,
                                   source, named=info.tensor is not None
                                   and info.tensor.name is not None)
    gates = {}
    for gate in walk.gates:
        gid = f"g{gate.index}"
        gates[gid] = GraphGate(gid, gate.name, gate.op_name, [ids[k] for k in gate.inputs],
                               [ids[k] for k in gate.outputs])
    g = Graph(tensors, gates, ids[walk.root_key], steps, title, max_nodes,
              sizes=(len(gates), len(tensors)), notes=notes)
    if len(tensors) + len(gates) > max_nodes:
        collapse_chains(g)
    if len(g.tensors) + len(g.gates) > max_nodes:
        counts = {}
        for gate in walk.gates:
            counts[gate.name] = counts.get(gate.name, 0) + 1
        g.too_large = (len(walk.gates), len(walk.tensors), counts)
    return g
