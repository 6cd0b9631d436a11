"""The local gradient of a gate, for the ``local`` column of a trace.

For an **elementwise** gate (one-input ops such as exp, sigmoid, relu, neg;
the broadcasting two-input ops add, sub, mul, div, pow, maximum, minimum;
``where`` and the dtype cast) the Jacobian is diagonal once the inputs are
broadcast to the output's shape, so the local gradient of input i is an
array of the output's shape, ``d out[k] / d input_i[k]``, and the chain rule
at the gate reads, element by element,

    downstream_i = upstream * local_i        (then summed over broadcast axes)

It is found without restating any formula: the gate's own ``vjp`` is called
with an all-ones upstream gradient. With a diagonal Jacobian that returns the
diagonal itself. When an input was broadcast, ``vjp`` would sum over the
broadcast axes, so the gate's forward is first run again on inputs broadcast
to the output's shape (these ops have no options, so their inputs are all
there is to rerun) and ``vjp`` is asked on that rerun.

For **any other** gate (sum, mean, matmul, reshape, getitem, ...) there is no
elementwise ``upstream * local``. The local gradient shown is then what the
gate sends to each input when every upstream entry is 1, i.e. the sums of
its Jacobian's columns: all ones for ``sum``, ``1/n`` for ``mean``, the other
vector for a dot product, ``ones @ B.T`` for a matrix product. For a
reduction it is still exact per element (each input entry feeds one output
entry, so ``downstream = upstream broadcast back * local``); the downstream
gradient itself always comes from the gate's ``vjp`` with the real upstream.

Inputs that need no gradient (constants, data) get ``None``; so do all the
inputs of a gate with several outputs (split, unbind, a fused RNN step),
whose upstream gradient is one array per output.
"""
import numpy as np

from ..ops.binary import To, Where
from ..ops.registry import BinaryOp, UnaryOp
from ..tensor import Tensor


def is_elementwise(node):
    """Is the gate's Jacobian diagonal (after broadcasting)?"""
    op = node.op
    return node.n_outputs == 1 and isinstance(op, (UnaryOp, BinaryOp, type(Where), type(To)))


def local_gradients(node, upstream):
    """One local gradient (array or None) per input of ``node``, and whether
    they are elementwise (``downstream = upstream * local``)."""
    if node.n_outputs != 1:
        return (None,) * len(node.inputs), False
    ones = np.ones(np.shape(upstream), dtype=np.result_type(upstream))
    if not is_elementwise(node):
        return _as_arrays(node.op.vjp(node, ones), node.inputs), False
    out_shape = ones.shape
    ctx = node
    if any(np.shape(_array(x)) != out_shape for x, needed in
           zip(node.inputs, node.needs_input_grad) if needed):
        ctx = _broadcast_rerun(node, out_shape, ones.dtype)
    return _as_arrays(node.op.vjp(ctx, ones), node.inputs), True


class _Rerun:
    """A ctx for rerunning a gate's forward on broadcast inputs: it keeps what
    the forward saves, and offers the inputs and ``needs_input_grad``."""

    def __init__(self, inputs, needs_input_grad):
        self.inputs = inputs
        self.needs_input_grad = needs_input_grad

    def save(self, **values):
        self.__dict__.update(values)


def _broadcast_rerun(node, out_shape, dtype):
    arrays = []
    for x in node.inputs:
        a = _array(x)
        if not isinstance(x, (Tensor, np.ndarray)):
            a = np.asarray(a, dtype=dtype)    # a Python number: the output's dtype
        arrays.append(np.broadcast_to(a, out_shape))
    ctx = _Rerun(arrays, node.needs_input_grad)
    node.op.forward(ctx, *arrays)
    return ctx


def _array(x):
    return x.data if isinstance(x, Tensor) else x


def _as_arrays(grads, inputs):
    """One entry per input: an array, or None where no gradient flows."""
    out = [None if g is None else np.asarray(_array(g)) for g in grads]
    return tuple(out) + (None,) * (len(inputs) - len(out))
