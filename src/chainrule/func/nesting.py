"""How transforms nest, and how one takes its inputs and hands back results.

A transform runs the user's function on inputs of its own: fresh Tensors
holding a copy of the values, so the user's tensors and arrays are never
modified and never receive a ``.grad``. What those inputs are connected to
depends on whether another transform is running around this one:

* At the top level (no transform running) an input is cut from any history
  the user's tensor has, and the results are handed back as plain Tensors
  (no ``grad_fn``): ``cr.func`` computes values, it does not record into the
  user's graph.
* Inside another transform, an input is a recorded copy (the ``clone`` op)
  of the value the outer transform passed in. The copy keeps the outer
  transform's connection: its history, for an outer reverse transform, or
  its tangent, for an outer forward one (``clone``'s forward rule passes the
  tangent on). The inner reverse pass then runs with ``create_graph=True``,
  so its formulas are ops on Tensors, recorded and carrying tangents, and
  the outer transform can differentiate them: ``grad(grad(f))``,
  ``jacrev(jacrev(f))`` and ``jacfwd(jacrev(f))`` work.

Forward mode must be outermost. Its rules run on plain arrays (``ctx``
holds arrays while a dual level is open), so a tangent has no history to
differentiate (reverse over forward), and one dual level hides another's
tangents (forward over forward). ``refuse_nested_forward`` says so instead
of returning a silently wrong derivative.
"""
import contextlib

import numpy as np

from ..ops import clone
from ..tensor import Tensor

_active = []     # names of the transforms whose function is running, outermost first


@contextlib.contextmanager
def running(name):
    """Mark transform ``name`` as running for the duration of the block."""
    _active.append(name)
    try:
        yield
    finally:
        _active.pop()


def nested():
    """Is some transform running around the caller?"""
    return bool(_active)


def refuse_nested_forward(where):
    if _active:
        raise NotImplementedError(
            f"{where} inside cr.func.{_active[-1]}: forward mode must be the outermost "
            f"transform (its tangents carry no reverse history and one forward level "
            f"cannot see another's tangents). Put forward mode outside: "
            f"jacfwd(jacrev(f)), jvp(grad(f), ...), cr.func.hessian, cr.func.hvp; "
            f"for reverse over reverse use jacrev(jacrev(f)) or grad(grad(f))")


def reverse_input(t):
    """The Tensor a reverse transform differentiates with respect to."""
    x = clone(t if _active else t.detach())
    if not x.requires_grad:
        x.requires_grad_(True)
    return x


def forward_input(t):
    """A primal for a forward transform (always top level): a fresh leaf."""
    return Tensor(np.array(t.data, copy=True))


def result(t):
    """A Tensor handed back to the caller: as it is inside another transform
    (which differentiates it), else a plain Tensor with no history (a new
    Tensor on the same array, so the transform's graph can be freed)."""
    if _active or not isinstance(t, Tensor):
        return t
    return Tensor(t.data)
