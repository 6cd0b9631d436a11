"""Reverse-mode transforms: ``grad``, ``value_and_grad``, ``vjp``, ``jacrev``.

Each runs f once, recording, on fresh copies of the inputs it
differentiates (see ``nesting``), then pulls cotangents back through the
recording with ``autograd.grad``:

* ``vjp``: for a cotangent v shaped like f's output, v^T J: one reverse pass
  per call of ``vjp_fn``, whatever the number of inputs;
* ``grad``: the vjp of a scalar with v = 1, i.e. the gradient;
* ``jacrev``: one reverse pass per element of the output (v runs over the
  unit vectors), the rows of J stacked into shape output.shape + input.shape.
  A Jacobian of m outputs and n inputs costs m passes here and n in
  ``jacfwd``: pick the smaller.

Inside another transform the reverse pass runs with ``create_graph=True``
(its formulas are recorded ops on Tensors), so the outer transform can
differentiate the result again; at the top level it records nothing.
"""
import functools

import numpy as np

from ..autograd.engine import grad as autograd_grad
from ..autograd.grad_mode import enable_grad
from ..creation import zeros, zeros_like
from ..dtypes import is_floating
from ..functions import reshape, stack
from . import arguments, nesting, pytree


class Trace:
    """f run once on fresh differentiable copies of the arguments at
    ``positions`` (the others are passed unchanged).

    ``inputs`` are those copies' leaves, in order; ``in_specs`` the structure
    of each differentiated argument; ``outputs`` and ``out_spec`` f's output
    flattened to Tensors; ``aux`` what f returned beside it (has_aux)."""

    def __init__(self, f, args, kwargs, positions, has_aux, where):
        self.inputs, self.in_specs, self.counts = [], [], []
        for p in positions:
            leaves, spec = arguments.differentiable_leaves(args[p], where, f"argument {p}")
            self.inputs += [nesting.reverse_input(t) for t in leaves]
            self.in_specs.append(spec)
            self.counts.append(len(leaves))
        call_args = arguments.place(args, positions, self.in_specs, self.counts, self.inputs)
        output, self.aux = arguments.split_aux(f(*call_args, **kwargs), has_aux, where)
        self.outputs, self.out_spec = arguments.output_leaves(output, where)

    def per_argument(self, flat, many):
        """Per-input values (one per leaf of ``inputs``) in the arguments'
        structures: a tuple over the positions when ``many``, else the one."""
        return arguments.per_argument(flat, self.in_specs, self.counts, many)


def pullback(outputs, cotangents, inputs, create_graph, retain_graph=True):
    """v^T J for each input: the sum over outputs of cotangent times the
    output's derivative (zeros for an input no output depends on)."""
    pairs = [(o, v) for o, v in zip(outputs, cotangents) if o.requires_grad]
    grads = (None,) * len(inputs)
    if pairs:
        grads = autograd_grad([o for o, _ in pairs], inputs, [v for _, v in pairs],
                              retain_graph=retain_graph, create_graph=create_graph,
                              allow_unused=True)
    return [zeros_like(x) if g is None else g for g, x in zip(grads, inputs)]


def _scalar_output(trace, where):
    if trace.out_spec.n_leaves != 1 or trace.out_spec.kind is not None:
        raise ValueError(f"{where}: f must return one scalar tensor, but it returned the "
                         f"structure {trace.out_spec!r}; to return extra values as well, "
                         f"use has_aux=True and return (loss, aux)")
    out = trace.outputs[0]
    if out.data.size != 1:
        raise ValueError(f"{where}: f must return a scalar (a tensor with one element), but "
                         f"it returned shape {tuple(out.shape)}. For a non-scalar output use "
                         f"cr.func.jacrev (the full Jacobian) or cr.func.vjp (a "
                         f"vector-Jacobian product), or reduce it first (.sum(), .mean())")
    if not is_floating(out.dtype):
        raise TypeError(f"{where}: f returned a {out.dtype} scalar; only a floating-point "
                        f"output has a gradient")
    return out


def _value_and_grad(f, argnums, has_aux, where, name):
    arguments.check_callable(f, where)

    @functools.wraps(f)
    def value_and_grad_f(*args, **kwargs):
        positions, many = arguments.normalize_argnums(argnums, len(args), where)
        outer = nesting.nested()
        with nesting.running(name), enable_grad():
            trace = Trace(f, args, kwargs, positions, has_aux, where)
            out = _scalar_output(trace, where)
            grads = pullback([out], [None], trace.inputs, create_graph=outer,
                             retain_graph=outer)
        value = nesting.result(out)
        grads = trace.per_argument([nesting.result(g) for g in grads], many)
        if has_aux:
            return (value, pytree.tree_map(nesting.result, trace.aux)), grads
        return value, grads
    return value_and_grad_f


def value_and_grad(f, argnums=0, has_aux=False):
    """A function returning ``(f(*args), gradient)``, for a scalar f.

    The gradient is taken with respect to the argument(s) ``argnums`` (an
    int, or a tuple giving a tuple of gradients) and has each argument's
    structure and dtype. With ``has_aux=True`` f returns ``(loss, aux)`` and
    the result is ``((loss, aux), gradient)`` (JAX's order)."""
    return _value_and_grad(f, argnums, has_aux, "cr.func.value_and_grad", "value_and_grad")


def grad(f, argnums=0, has_aux=False):
    """A function returning the gradient of the scalar f with respect to the
    argument(s) ``argnums``; ``(gradient, aux)`` with ``has_aux=True``.

    ``grad(f)(x)`` is one forward and one reverse pass. It composes:
    ``grad(grad(f))`` is the second derivative of a scalar function."""
    inner = _value_and_grad(f, argnums, has_aux, "cr.func.grad", "grad")

    @functools.wraps(f)
    def grad_f(*args, **kwargs):
        value, grads = inner(*args, **kwargs)
        return (grads, value[1]) if has_aux else grads
    return grad_f


def vjp(f, *primals, has_aux=False):
    """``(output, vjp_fn)``: f evaluated at ``primals`` and the function
    ``vjp_fn(cotangents) = v^T J``, one tuple entry per primal.

    ``cotangents`` has the structure and shapes of the output; each call of
    ``vjp_fn`` is one reverse pass through the recording made here (it may be
    called many times). With ``has_aux=True``: ``(output, vjp_fn, aux)``."""
    where = "cr.func.vjp"
    arguments.check_callable(f, where)
    if not primals:
        raise ValueError(f"{where}: give at least one primal: vjp(f, x, ...)")
    with nesting.running("vjp"), enable_grad():
        trace = Trace(f, primals, {}, range(len(primals)), has_aux, where)
    outputs = trace.outputs

    def vjp_fn(cotangents):
        vs = _cotangents(cotangents, trace, f"{where}'s vjp_fn")
        outer = nesting.nested()
        with nesting.running("vjp"), enable_grad():
            grads = pullback(outputs, vs, trace.inputs, create_graph=outer)
        return trace.per_argument([nesting.result(g) for g in grads], True)

    out = pytree.unflatten([nesting.result(o) for o in outputs], trace.out_spec)
    if has_aux:
        return out, vjp_fn, pytree.tree_map(nesting.result, trace.aux)
    return out, vjp_fn


def _cotangents(cotangents, trace, where):
    leaves, spec = pytree.flatten(cotangents)
    if spec != trace.out_spec:
        raise ValueError(f"{where}: the cotangents have the structure {spec!r} but f's "
                         f"output has the structure {trace.out_spec!r}; pass one cotangent "
                         f"per output, shaped like it")
    return [arguments.like(v, o, where, f"cotangent {k}") for k, (v, o)
            in enumerate(zip(leaves, trace.outputs))]


def jacrev(f, argnums=0, has_aux=False):
    """A function returning the Jacobian of f by reverse mode: one reverse
    pass per output element.

    For an output of shape S and an input of shape T the Jacobian has shape
    S + T. A structured output gives that structure of Jacobians; a tuple
    ``argnums`` gives, per output, a tuple over the arguments (as
    ``torch.func.jacrev``). ``(jacobian, aux)`` with ``has_aux=True``."""
    where = "cr.func.jacrev"
    arguments.check_callable(f, where)

    @functools.wraps(f)
    def jacrev_f(*args, **kwargs):
        positions, many = arguments.normalize_argnums(argnums, len(args), where)
        outer = nesting.nested()
        with nesting.running("jacrev"), enable_grad():
            trace = Trace(f, args, kwargs, positions, has_aux, where)
            blocks = [_jacobian_rows(o, trace.inputs, outer) for o in trace.outputs]
        jac = pytree.unflatten(
            [trace.per_argument([nesting.result(b) for b in row], many) for row in blocks],
            trace.out_spec)
        return (jac, pytree.tree_map(nesting.result, trace.aux)) if has_aux else jac
    return jacrev_f


def _jacobian_rows(out, inputs, create_graph):
    """d out / d x for each input x: one pullback per element of ``out``
    (the unit cotangents), stacked and shaped out.shape + x.shape."""
    if not (out.requires_grad and is_floating(out.dtype)) or out.data.size == 0:
        dtype = out.dtype if is_floating(out.dtype) else None
        return [zeros(tuple(out.shape) + tuple(x.shape), dtype=dtype or x.dtype)
                for x in inputs]
    rows = [[] for _ in inputs]
    for k in range(out.data.size):
        unit = np.zeros(out.shape, dtype=out.dtype)
        unit.flat[k] = 1
        for row, g in zip(rows, pullback([out], [unit], inputs, create_graph)):
            row.append(g)
    return [reshape(stack(row), tuple(out.shape) + tuple(x.shape))
            for row, x in zip(rows, inputs)]
