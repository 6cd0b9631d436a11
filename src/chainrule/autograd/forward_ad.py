"""Forward mode: tangents carried alongside values, one pass, no reverse pass.

Inside ``dual_level()`` a tensor made by ``make_dual(primal, tangent)``
carries a tangent (a direction ``x_dot``). Every op applied to such tensors
also computes its output's tangent with its forward-mode rule ``jvp`` (the
same derivative its reverse rule uses), so after the forward pass the
output's tangent is the Jacobian-vector product J·x_dot. ``unpack_dual``
reads it back.

Tangents live in a table keyed by tensor identity for the current level, so a
Tensor needs no extra field and ops pay for forward mode only while a level
is open (one flag test otherwise).
"""
import contextlib

from ..tensor import Tensor


class _State:
    __slots__ = ("levels",)

    def __init__(self):
        self.levels = []     # one dict per open level: id(tensor) -> (tensor, tangent)


state = _State()


@contextlib.contextmanager
def dual_level():
    """Open a forward-mode level; tangents made inside are dropped on exit."""
    state.levels.append({})
    try:
        yield
    finally:
        state.levels.pop()


def _level():
    if not state.levels:
        raise RuntimeError("forward mode: make_dual needs an open level; use "
                           "`with cr.autograd.forward_ad.dual_level():`")
    return state.levels[-1]


def make_dual(primal, tangent):
    """A tensor sharing ``primal``'s value (and history) that carries ``tangent``."""
    if not isinstance(primal, Tensor):
        raise TypeError(f"make_dual: primal must be a Tensor, got {type(primal).__name__}")
    t_shape = tangent.shape if hasattr(tangent, "shape") else ()
    if tuple(t_shape) != tuple(primal.shape):
        raise ValueError(f"make_dual: tangent shape {tuple(t_shape)} does not match the "
                         f"primal's shape {tuple(primal.shape)}")
    dual = Tensor._make(primal.data, primal.grad_fn, primal.requires_grad)
    dual._output_nr, dual._version = primal._output_nr, primal._version
    _level()[id(dual)] = (dual, tangent)
    return dual


def tangent_of(t):
    """The tangent ``t`` carries at the innermost level, or None."""
    if not state.levels or not isinstance(t, Tensor):
        return None
    entry = state.levels[-1].get(id(t))
    return entry[1] if entry is not None and entry[0] is t else None


def unpack_dual(t):
    """``(primal, tangent)``: the value, and its tangent or None."""
    return t, tangent_of(t)


def propagate(op, ctx, args, out):
    """Give ``out`` the tangent ``op.jvp`` computes from its inputs' tangents."""
    tangents = [tangent_of(a) for a in args]
    if all(t is None for t in tangents):
        return
    out_dot = op.jvp(ctx, *tangents)
    if out_dot is not None:
        level = state.levels[-1]
        level[id(out)] = (out, out_dot)
        # Under create_graph a formula reads a saved output as a new Tensor
        # made from the node (Node.saved_tensor: the node never holds its
        # output), so the tangent is also filed under the node for adopt().
        level[id(ctx)] = (ctx, out_dot)


def adopt(node, out):
    """Give ``out``, a Tensor re-made from ``node``'s saved output, the
    tangent that output carries at the innermost level (if any).

    Without this, forward-over-reverse (jvp of a gradient, hessian) drops
    the tangent of every output an op's backward formula reads (tanh, exp,
    sigmoid, sqrt ...), and the second derivative misses that term."""
    if state.levels:
        level = state.levels[-1]
        entry = level.get(id(node))
        if entry is not None and entry[0] is node:
            level[id(out)] = (out, entry[1])
