"""The graph behind a tensor, walked once: its gates and its tensors, labelled.

Both the drawing (``graph``) and the replayed backward pass (``trace``) read
this walk, so a tensor has the same label in the picture and in the table.

The walk starts at the tensor's ``grad_fn`` and follows each node's
``inputs`` with an explicit stack (no recursion: a 10,000-gate chain is as
easy as a 3-gate one). A node never holds its own output, so a computed
tensor is found as an input of the gate that consumed it (or as the root).

Labels: the tensor's ``.name`` when it has one, else a name from ``names``
(e.g. ``dict(model.named_parameters())``), else ``leaf1, leaf2, ...`` for
leaves and ``t1, t2, ...`` for computed tensors, numbered in the order the
forward pass made them. A label used twice gets ``#2``, ``#3``: labels key the
gradients of a trace. Constants (numbers and arrays that are not Tensors)
are labelled by their value.
"""
import numpy as np

from ..tensor import Tensor
from . import formatting


class TensorInfo:
    """One tensor (or constant) of the graph."""

    __slots__ = ("key", "tensor", "constant", "kind", "label", "producer")

    def __init__(self, key, tensor=None, constant=None, kind="leaf", producer=None):
        self.key = key
        self.tensor = tensor          # the Tensor, or None for a constant
        self.constant = constant      # a constant's value
        self.kind = kind              # "leaf", "input" (no grad), "result", "constant"
        self.label = None
        self.producer = producer      # index of the gate that made it (results)

    @property
    def value(self):
        return self.tensor.data if self.tensor is not None else np.asarray(self.constant)


class GateInfo:
    """One recorded gate: its node and the keys of its inputs and outputs."""

    __slots__ = ("index", "node", "inputs", "outputs")

    def __init__(self, index, node, inputs):
        self.index = index
        self.node = node
        self.inputs = inputs          # one tensor key per input, in call order
        self.outputs = []             # keys of the outputs seen (consumed, or the root)

    @property
    def name(self):
        return self.node.name

    @property
    def op_name(self):
        return getattr(self.node.op, "name", None) or self.node.name


def key_of(t):
    """A computed tensor is known by (its node, which output); a leaf by itself."""
    if t.grad_fn is None:
        return ("leaf", id(t))
    return ("out", id(t.grad_fn), t._output_nr)


class Walk:
    """Gates in forward order (``gates``) and tensors by key (``tensors``)."""

    def __init__(self, root, names=None):
        self.root_key = key_of(root)
        self.tensors = {}
        self.gates = []
        nodes = _collect_nodes(root)
        nodes.sort(key=lambda n: n.seq)               # the forward pass's order
        index_of = {id(n): i for i, n in enumerate(nodes)}
        self._add_tensor(root)
        for i, node in enumerate(nodes):
            keys = []
            for pos, x in enumerate(node.inputs):
                if isinstance(x, Tensor):
                    keys.append(self._add_tensor(x))
                else:
                    key = ("const", id(node), pos)
                    self.tensors[key] = TensorInfo(key, constant=x, kind="constant")
                    keys.append(key)
            self.gates.append(GateInfo(i, node, keys))
        for info in self.tensors.values():
            if info.kind == "result":
                _, node_id, _ = info.key
                info.producer = index_of[node_id]
                self.gates[info.producer].outputs.append(info.key)
        self._label(_names_by_id(names))

    def _add_tensor(self, t):
        key = key_of(t)
        if key not in self.tensors:
            kind = "result" if t.grad_fn is not None else ("leaf" if t.requires_grad else "input")
            self.tensors[key] = TensorInfo(key, tensor=t, kind=kind)
        return key

    @property
    def freed(self):
        """Has a backward pass freed what the gates saved?"""
        return any(g.node.freed for g in self.gates)

    def _label(self, names):
        counts = {"leaf": 0, "result": 0}
        taken = {}
        for info in self._in_forward_order():
            if info.kind == "constant":
                info.label = formatting.array(info.constant)
                continue
            label = info.tensor.name or names.get(id(info.tensor))
            if label is None:
                prefix = "t" if info.kind == "result" else "leaf"
                counter = "result" if info.kind == "result" else "leaf"
                counts[counter] += 1
                label = f"{prefix}{counts[counter]}"
            label = str(label)
            seen = taken.get(label, 0)
            taken[label] = seen + 1
            info.label = label if not seen else f"{label}#{seen + 1}"

    def _in_forward_order(self):
        """Tensors as the forward pass met them: each gate's inputs, then its outputs."""
        done = set()
        for gate in self.gates:
            for key in gate.inputs + gate.outputs:
                if key not in done:
                    done.add(key)
                    yield self.tensors[key]
        if self.root_key not in done:      # a leaf given as the root
            yield self.tensors[self.root_key]


def _collect_nodes(root):
    nodes, seen = [], set()
    stack = [root.grad_fn] if root.grad_fn is not None else []
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        nodes.append(node)
        for x in node.inputs:
            if isinstance(x, Tensor) and x.grad_fn is not None and id(x.grad_fn) not in seen:
                stack.append(x.grad_fn)
    return nodes


def _names_by_id(names):
    """``names`` (a mapping name -> Tensor, or a Module: its named parameters)
    as ``{id(tensor): name}``."""
    if names is None:
        return {}
    if hasattr(names, "named_parameters") and callable(names.named_parameters):
        names = dict(names.named_parameters())
    if not hasattr(names, "items"):
        raise TypeError(f"names must be a mapping of name to Tensor (e.g. "
                        f"dict(model.named_parameters())) or a Module, got {type(names).__name__}")
    return {id(t): name for name, t in names.items() if isinstance(t, Tensor)}
