"""Showing the work: graphs, the backward pass step by step, and gradient health.

* ``graph(t)``: the computational graph behind ``t`` (values green, gradients
  red) as DOT, SVG or a self-contained HTML page that steps through the
  backward pass.
* ``trace(t)``: the backward pass replayed gate by gate in the engine's order,
  as ``Step``s (upstream x local = downstream); ``str()`` is a table.
* ``explain(expr, **values)``: the same for an arithmetic expression, parsed
  safely (a whitelist over ``ast``; never ``eval``).
* ``GradientMonitor(model)``: per-layer gradient norms and weight and
  activation statistics during training, with flags for vanishing,
  exploding and non-finite gradients.
"""
from .explain import Explanation, explain  # noqa: F401
from .graph import Graph, GraphGate, GraphTensor, graph  # noqa: F401
from .monitor import GradientMonitor  # noqa: F401
from .trace import Accumulation, Step, Trace, trace  # noqa: F401
