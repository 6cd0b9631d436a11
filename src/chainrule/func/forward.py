"""Forward-mode transforms: ``jvp`` and ``jacfwd``.

Forward mode carries a tangent (a direction u in input space) alongside
every value: inside a dual level (``autograd.forward_ad``) each op computes
its output's tangent from its inputs' tangents with its ``jvp`` rule, so one
pass of f gives f(x) and J u together. Nothing is recorded for a reverse
pass and no reverse pass runs here.

* ``jvp``: J u for one tangent u: one pass, at about twice the cost of f;
* ``jacfwd``: one pass per input element (u runs over the unit vectors),
  the columns of J stacked into shape output.shape + input.shape. A
  Jacobian of n inputs and m outputs costs n passes here and m in
  ``jacrev``: forward mode wins when inputs are few and outputs many.

Forward mode must be the outermost transform (see ``nesting``); inside it,
reverse transforms work and carry its tangents through their own backward
formulas: ``jacfwd(jacrev(f))`` is the Hessian, forward over reverse.
"""
import functools

import numpy as np

from ..autograd import forward_ad
from ..dtypes import is_floating
from ..tensor import Tensor
from . import arguments, nesting, pytree


def jvp(f, primals, tangents, has_aux=False):
    """``(output, jvp_out)``: f at ``primals`` and J u for the ``tangents`` u,
    in one forward pass (true forward mode: no reverse pass runs).

    ``primals`` is a tuple of f's positional arguments (each may be a
    structure of tensors); ``tangents`` has the same structure, shapes and
    dtypes. ``jvp_out`` has the structure of the output. With
    ``has_aux=True``: ``(output, jvp_out, aux)``."""
    where = "cr.func.jvp"
    arguments.check_callable(f, where)
    nesting.refuse_nested_forward(where)
    for name, value in (("primals", primals), ("tangents", tangents)):
        if not isinstance(value, (tuple, list)):
            raise TypeError(f"{where}: {name} must be a tuple (one entry per argument of f), "
                            f"got {type(value).__name__}; write jvp(f, (x,), (u,))")
    ps, p_spec = arguments.differentiable_leaves(tuple(primals), where, "primals")
    us, u_spec = pytree.flatten(tuple(tangents))
    if u_spec != p_spec:
        raise ValueError(f"{where}: tangents have the structure {u_spec!r} but primals have "
                         f"{p_spec!r}; give one tangent per primal, shaped like it")
    us = [arguments.like(u, p, where, f"tangent {k}").data for k, (u, p) in enumerate(zip(us, ps))]
    with nesting.running("jvp"), forward_ad.dual_level():
        duals = [forward_ad.make_dual(nesting.forward_input(p), u) for p, u in zip(ps, us)]
        output, aux = arguments.split_aux(f(*pytree.unflatten(duals, p_spec)), has_aux, where)
        outs, out_spec = arguments.output_leaves(output, where)
        out_dots = [Tensor(_tangent(o)) for o in outs]
    out = pytree.unflatten([nesting.result(o) for o in outs], out_spec)
    jvp_out = pytree.unflatten(out_dots, out_spec)
    if has_aux:
        return out, jvp_out, pytree.tree_map(nesting.result, aux)
    return out, jvp_out


def jacfwd(f, argnums=0, has_aux=False):
    """A function returning the Jacobian of f by forward mode: one jvp per
    input element.

    Shapes and structures as ``jacrev``: output.shape + input.shape per
    pair; a tuple ``argnums`` gives, per output, a tuple over the
    arguments. ``(jacobian, aux)`` with ``has_aux=True``."""
    where = "cr.func.jacfwd"
    arguments.check_callable(f, where)

    @functools.wraps(f)
    def jacfwd_f(*args, **kwargs):
        nesting.refuse_nested_forward(where)
        positions, many = arguments.normalize_argnums(argnums, len(args), where)
        inputs, specs, counts = [], [], []
        for p in positions:
            leaves, spec = arguments.differentiable_leaves(args[p], where, f"argument {p}")
            inputs += [nesting.forward_input(t) for t in leaves]
            specs.append(spec)
            counts.append(len(leaves))

        def run(leaves):
            call_args = arguments.place(args, positions, specs, counts, leaves)
            output, aux = arguments.split_aux(f(*call_args, **kwargs), has_aux, where)
            return arguments.output_leaves(output, where) + (aux,)

        columns = None      # columns[output][input]: the tangents, one per input element
        with nesting.running("jacfwd"):
            for i, x in enumerate(inputs):
                for j in range(x.data.size):
                    unit = np.zeros(x.shape, dtype=x.dtype)
                    unit.flat[j] = 1
                    with forward_ad.dual_level():
                        leaves = list(inputs)
                        leaves[i] = forward_ad.make_dual(x, unit)
                        outs, out_spec, aux = run(leaves)
                        dots = [_tangent(o) for o in outs]
                    if columns is None:
                        columns = [[[] for _ in inputs] for _ in outs]
                    for per_input, dot in zip(columns, dots):
                        per_input[i].append(dot)
            if columns is None:     # no input has an element: f runs once for its output
                outs, out_spec, aux = run(inputs)
                columns = [[[] for _ in inputs] for _ in outs]
        jac = [_assemble(o, inputs, cols) for o, cols in zip(outs, columns)]
        jac = pytree.unflatten([arguments.per_argument(row, specs, counts, many) for row in jac],
                               out_spec)
        return (jac, pytree.tree_map(nesting.result, aux)) if has_aux else jac
    return jacfwd_f


def _tangent(out):
    """The tangent ``out`` carries (zeros if it does not depend on the
    primals), as an array of ``out``'s shape and dtype."""
    dot = forward_ad.unpack_dual(out)[1]
    if dot is None:
        return np.zeros(out.shape, dtype=out.dtype)
    dot = np.asarray(dot.data if isinstance(dot, Tensor) else dot)
    if dot.shape != tuple(out.shape):
        raise RuntimeError(f"forward mode: an output of shape {tuple(out.shape)} carries a "
                           f"tangent of shape {dot.shape}; the jvp rule of "
                           f"{getattr(out.grad_fn, 'name', 'its op')} is wrong")
    return dot.astype(out.dtype, copy=False) if is_floating(out.dtype) else dot


def _assemble(out, inputs, columns):
    """d out / d x for each input x, from its columns: shape out.shape + x.shape."""
    blocks = []
    for x, cols in zip(inputs, columns):
        dtype = out.dtype if is_floating(out.dtype) else x.dtype
        shape = tuple(out.shape) + tuple(x.shape)
        if cols:
            block = np.stack(cols, axis=-1).astype(dtype, copy=False).reshape(shape)
        else:
            block = np.zeros(shape, dtype=dtype)
        blocks.append(Tensor(block))
    return blocks

