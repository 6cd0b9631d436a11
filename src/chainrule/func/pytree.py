"""Nested inputs and outputs: a structure of tuples, lists and dicts, flattened
to its leaves and rebuilt.

A transform works on a flat list of tensors, while the user's function may
take or return ``{"W": w, "b": b}`` or ``(loss, (h, c))``. ``flatten`` walks
such a structure in a fixed order (tuples and lists by position, dicts by
their insertion order, as ``torch.utils._pytree`` does; JAX sorts dict keys
instead) and returns the leaves and a ``Spec`` from which ``unflatten``
rebuilds the same structure around new leaves. Named tuples are rebuilt as
their own type. Anything else (a Tensor, an array, a number, None, a string)
is a leaf: the transforms then say whether they can use it.
"""


class Spec:
    """The shape of a nested structure: ``kind`` is None for a leaf, else the
    container's type; ``keys`` are a dict's keys; ``children`` one Spec per
    element."""

    __slots__ = ("kind", "keys", "children", "n_leaves")

    def __init__(self, kind=None, keys=None, children=()):
        self.kind, self.keys, self.children = kind, keys, tuple(children)
        self.n_leaves = 1 if kind is None else sum(c.n_leaves for c in self.children)

    def __eq__(self, other):
        return (isinstance(other, Spec) and self.kind is other.kind
                and self.keys == other.keys and self.children == other.children)

    def __hash__(self):
        return hash((self.kind, self.keys, self.children))

    def __repr__(self):
        if self.kind is None:
            return "*"
        if issubclass(self.kind, dict):
            inner = ", ".join(f"{k!r}: {c!r}" for k, c in zip(self.keys, self.children))
            return "{" + inner + "}"
        inner = ", ".join(repr(c) for c in self.children)
        if self.kind is list:
            return f"[{inner}]"
        if self.kind is tuple:
            return f"({inner}{',' if len(self.children) == 1 else ''})"
        return f"{self.kind.__name__}({inner})"


LEAF = Spec()


def _is_namedtuple(x):
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def flatten(tree):
    """``(leaves, spec)``: the leaves of ``tree`` in order, and its shape."""
    leaves = []
    return leaves, _flatten(tree, leaves)


def _flatten(x, leaves):
    if isinstance(x, dict):
        keys = tuple(x)
        return Spec(type(x), keys, [_flatten(x[k], leaves) for k in keys])
    if type(x) in (tuple, list) or _is_namedtuple(x):
        return Spec(type(x), None, [_flatten(v, leaves) for v in x])
    leaves.append(x)
    return LEAF


def unflatten(leaves, spec):
    """The structure ``spec`` describes, with ``leaves`` (in flatten's order)."""
    leaves = list(leaves)
    if len(leaves) != spec.n_leaves:
        raise ValueError(f"unflatten: the structure {spec!r} has {spec.n_leaves} leaves, "
                         f"got {len(leaves)}")
    return _build(iter(leaves), spec)


def _build(leaves, spec):
    if spec.kind is None:
        return next(leaves)
    children = [_build(leaves, c) for c in spec.children]
    if issubclass(spec.kind, dict):
        return spec.kind(zip(spec.keys, children))
    if spec.kind in (tuple, list):
        return spec.kind(children)
    return spec.kind(*children)     # a named tuple


def tree_map(fn, tree):
    """``tree`` with every leaf replaced by ``fn(leaf)``."""
    leaves, spec = flatten(tree)
    return unflatten([fn(x) for x in leaves], spec)
