"""In-place operations (``add_``, ``mul_``, ``x += y``, ``zero_``, ``copy_``, ``fill_``).

An in-place op computes the out-of-place result, writes it into the
tensor's own array (so views see it) and bumps the version counter that the
tensor shares with its views. When the op is recorded, the node is given a
snapshot of the old values, so its own backward stays right, and the tensor
takes the node as its new ``grad_fn``. Any *other* node that saved the old
values sees the version change and raises at backward instead of returning a
wrong gradient.
"""
import numpy as np

from ..autograd.grad_mode import state as _grad_state
from ..tensor import Tensor
from .broadcast import sum_to
from .registry import Op, register

__all__ = ["apply_inplace", "overwrite"]


def apply_inplace(t, op, *args, **params):
    """``t <- op(t, *args, **params)`` in place; returns ``t``."""
    name = f"{op.name}_"
    if not t.data.flags.writeable:
        raise RuntimeError(f"{name}: this tensor's memory is read-only (an expanded or "
                           f"broadcast view shares one element across many positions); "
                           f".clone() it before modifying it in place")
    recording = _grad_state.enabled and (
        t.requires_grad or any(isinstance(a, Tensor) and a.requires_grad for a in args))
    if not recording:
        values = op(t.data, *[a.data if isinstance(a, Tensor) else a for a in args], **params)
        _write(t, values, name)
        return t
    if t.requires_grad and t.grad_fn is None:
        raise RuntimeError(
            f"{name}: a leaf tensor that requires grad cannot be modified in place while "
            f"gradients are recorded (its .grad would no longer match its value). Do the "
            f"update inside `with cr.no_grad():`, as optimisers do, or use the out-of-place "
            f"form.")
    if t._base is not None and (t._base.requires_grad or t.requires_grad):
        raise RuntimeError(
            f"{name}: in-place modification of a view of a tensor that is part of a graph is "
            f"not supported; build the new value out of place (e.g. with cr.where or cr.cat)")
    old = Tensor._make(t.data.copy(), t.grad_fn, t.requires_grad)
    old._output_nr = t._output_nr
    # x.mul_(x): the other operand is the old value too, not the one being overwritten
    out = op(old, *[old if a is t else a for a in args], **params)
    _write(t, out.data, name)
    node = out.grad_fn
    t.grad_fn, t.requires_grad, t._output_nr = node, True, 0
    # the node's saved output now lives in t: follow t's version from here on
    node._checks = [(n, src, t._version, t._version[0]) if src < 0 else (n, src, c, v)
                    for n, src, c, v in node._checks]
    for n, src, _, _ in node._checks:
        if src < 0:
            node.__dict__[n] = t.data
    return t


def _write(t, values, name):
    values = np.asarray(values)
    if values.shape != t.data.shape:
        raise RuntimeError(f"{name}: the result has shape {values.shape} but the tensor being "
                           f"modified has shape {t.data.shape}; an in-place op cannot change "
                           f"a tensor's shape")
    if not np.can_cast(values.dtype, t.data.dtype, "same_kind"):
        raise RuntimeError(f"{name}: the result has dtype {values.dtype}, which cannot be "
                           f"stored in this {t.data.dtype} tensor; convert the tensor first")
    np.copyto(t.data, values, casting="same_kind")
    t._version[0] += 1


@register
class Overwrite(Op):
    """y = src broadcast to x's shape (what ``copy_``, ``fill_`` and ``zero_``
    compute).  x's old value is discarded, so it gets no gradient."""
    name = "overwrite"

    def forward(self, ctx, x, src):
        ctx.save(src_shape=np.shape(src), shape=np.shape(x))
        return np.broadcast_to(np.asarray(src, dtype=np.result_type(x)), np.shape(x)).copy()

    def vjp(self, ctx, grad_out):
        needs = ctx.needs_input_grad
        return (None, sum_to(grad_out, ctx.src_shape) if needs[1] else None)

    def jvp(self, ctx, x_dot, src_dot):
        from .shape import expand
        return None if src_dot is None else expand(src_dot, shape=ctx.shape)

    def samples(self, rng):
        return [((rng.standard_normal((2, 3)), rng.standard_normal((3,))), {})]


overwrite = Overwrite
