"""``explain("(x + y) * z", x=-2, y=5, z=-4)``: an expression's graph, forward
and backward pass, worked out.

The expression is checked by ``parse`` (a whitelist over Python's ``ast``;
nothing is evaluated by Python) and then built with chainrule operations:
each variable is a float64 leaf tensor named after it, each number a
constant, ``-e`` the ``neg`` gate (the "x -1" gate of the teaching figures),
``max``/``min`` the elementwise ``maximum``/``minimum`` gates, ``sum``/``mean``
reductions. Every computed tensor is named by the text that made it
(``x + y``); the result is named ``f``. A constant-only part (``2 * 3``) is
worked out in float64 as a number, so it is one constant, not a gate.

A value may be a list (a vector): the expression is then elementwise with
NumPy broadcasting, and a vector result is summed before the backward pass
(as ``f.sum().backward()``), which the table says.

The backward pass is first replayed by ``trace`` (the table and the HTML
page's steps), then run for real by ``backward()``; ``.grads`` are the
leaves' ``.grad`` from that real run.
"""
import ast

import numpy as np

from .. import functions as F
from ..autograd.grad_mode import enable_grad
from ..tensor import Tensor
from . import formatting
from .graph import build
from .parse import parse
from .trace import replay
from .walk import Walk

MAX_VECTOR = 10_000


class Explanation:
    """``value`` (float, or array for a vector result), ``grads`` (variable
    name -> float or array), ``steps`` (the ``Trace``), ``graph`` (the
    ``Graph``); ``str()`` is the worked table."""

    def __init__(self, expression, values, value, grads, steps, graph, summed):
        self.expression, self.values = expression, values
        self.value, self.grads = value, grads
        self.steps, self.graph, self.summed = steps, graph, summed

    def __str__(self):
        at = ", ".join(f"{k} = {formatting.array(v)}" for k, v in self.values.items())
        lines = [f"f = {self.expression}   at {at}",
                 f"value: f = {formatting.array(self.value)}", "", str(self.steps)]
        return "\n".join(lines)

    def __repr__(self):
        return f"<Explanation of {self.expression!r}: f = {formatting.array(self.value)}>"

    def _repr_html_(self):
        return self.graph._repr_html_()


def explain(expr, **values):
    """Parse ``expr`` safely, build its graph at ``values``, run forward and
    backward, and return the ``Explanation``. Raises ``ValueError`` for
    anything outside the whitelist, a missing or unused value, or values of
    shapes that do not broadcast."""
    parsed = parse(expr)
    missing = [v for v in parsed.variables if v not in values]
    if missing:
        raise ValueError(f"explain: no value for {', '.join(map(repr, missing))}; pass "
                         + ", ".join(f"{v}=..." for v in missing)
                         + " (on the command line: --at " + " ".join(f"{v}=..." for v in missing)
                         + ")")
    unused = [k for k in values if k not in parsed.variables]
    if unused:
        raise ValueError(f"explain: {', '.join(map(repr, unused))} given but not used in "
                         f"{parsed.text!r}; its variables are: {', '.join(parsed.variables) or 'none'}")
    if not parsed.variables:
        raise ValueError(f"explain: {parsed.text!r} has no variables, so there is nothing to "
                         f"differentiate; write one with a name, e.g. '2 * x' at x=3")
    arrays = {name: _value(name, values[name]) for name in parsed.variables}
    with enable_grad():
        leaves = {name: Tensor(a, requires_grad=True, name=name) for name, a in arrays.items()}
        try:
            with np.errstate(all="ignore"):
                result = _Builder(parsed, leaves).build(parsed.tree)
        except (ValueError, RuntimeError, TypeError) as e:
            raise ValueError(f"explain: cannot compute {parsed.text!r} at these values: "
                             f"{e}") from None
        if result.grad_fn is None:
            result = result.clone()     # f = x: f gets a node of its own, not x's name
        result.name = "out" if "f" in leaves else "f"
        summed = result.data.size != 1
        root = result.sum() if summed else result
        note = None
        if summed:
            root.name = f"sum({result.name})"
            note = (f"{result.name} is a vector: the backward pass starts from its sum, "
                    f"as {result.name}.sum().backward()")
        walk = Walk(root)
        steps = replay(root, walk, note=note)
        graph = build(walk, steps, title=f"{result.name} = {parsed.text}")
        root.backward()
    value = result.data.copy() if summed else float(result.data)
    grads = {}
    for name, leaf in leaves.items():
        g = np.zeros_like(leaf.data) if leaf.grad is None else leaf.grad.data
        grads[name] = float(g) if g.ndim == 0 else g.copy()
    return Explanation(parsed.text, arrays, value, grads, steps, graph, summed)


def _value(name, v):
    """A variable's value as a float64 array: a number or a flat list of numbers."""
    if isinstance(v, Tensor):
        v = v.data
    if isinstance(v, (bool, np.bool_)):
        raise ValueError(f"explain: {name}={v!r}: a value must be a number or a list of "
                         f"numbers, not a bool")
    if isinstance(v, (int, float, np.integer, np.floating)):
        return np.array(float(v))
    if isinstance(v, (list, tuple, np.ndarray)):
        a = np.asarray(v)
        if a.ndim != 1 or a.size == 0 or a.dtype.kind not in "iuf":
            raise ValueError(f"explain: {name} must be a number or a non-empty flat list of "
                             f"numbers (a vector), got {v!r}")
        if a.size > MAX_VECTOR:
            raise ValueError(f"explain: {name} has {a.size} entries; at most {MAX_VECTOR}")
        return a.astype(np.float64)
    raise ValueError(f"explain: {name} must be a number or a list of numbers, "
                     f"got {type(v).__name__}")


class _Builder:
    """Walks a checked syntax tree, calling chainrule operations. Constant
    parts are worked out as float64 numbers (no gates)."""

    _BINARY = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply,
               ast.Div: np.true_divide, ast.Pow: np.power}
    _CALLS = {"exp": F.exp, "log": F.log, "log1p": F.log1p, "sqrt": F.sqrt, "abs": F.abs,
              "sin": F.sin, "cos": F.cos, "tanh": F.tanh, "sigmoid": F.sigmoid,
              "relu": F.relu, "max": F.maximum, "min": F.minimum,
              "sum": lambda t: t.sum(), "mean": lambda t: t.mean()}

    def __init__(self, parsed, leaves):
        self.parsed, self.leaves = parsed, leaves

    def build(self, node):
        out = self._build(node)
        if isinstance(out, Tensor) and out.grad_fn is not None and out.name is None:
            out.name = self.parsed.source(node)
        return out

    def _build(self, node):
        if isinstance(node, ast.Constant):
            return np.float64(node.value)
        if isinstance(node, ast.Name):
            return self.leaves[node.id]
        if isinstance(node, ast.UnaryOp):
            x = self.build(node.operand)
            return x if isinstance(node.op, ast.UAdd) else -x
        if isinstance(node, ast.BinOp):
            a, b = self.build(node.left), self.build(node.right)
            if not isinstance(a, Tensor) and not isinstance(b, Tensor):
                return self._BINARY[type(node.op)](a, b)
            a, b = _scalar(a), _scalar(b)
            op = type(node.op)
            if op is ast.Add:
                return a + b
            if op is ast.Sub:
                return a - b
            if op is ast.Mult:
                return a * b
            if op is ast.Div:
                return a / b
            return a ** b
        args = [self.build(a) for a in node.args]           # an ast.Call (checked)
        fn = self._CALLS[node.func.id]
        if not any(isinstance(a, Tensor) for a in args):
            return np.float64(fn(*[Tensor(np.asarray(a)) for a in args]).data)
        return fn(*[_scalar(a) for a in args])


def _scalar(x):
    """A constant as a Python float (a weak scalar that keeps float64 float64)."""
    return float(x) if isinstance(x, np.floating) else x
