"""The op machinery: ``Op`` (one gate), ``register`` and how a call is recorded.

An op is a singleton object with

* ``forward(ctx, *arrays, **params)`` on NumPy arrays, saving what backward
  needs with ``ctx.save(name=value)``;
* ``vjp(ctx, grad_out)`` returning one gradient per input (``None`` where
  ``ctx.needs_input_grad`` is False), written with operators and the op
  namespace so that the same lines run on arrays (an ordinary backward) and on
  Tensors (under ``create_graph``, where they are recorded);
* ``jvp(ctx, *input_tangents)``, the forward-mode rule beside it.

Calling an op dispatches on its arguments: with no Tensor among them it is a
plain array function (this is what formulas use in an ordinary backward);
with Tensors it returns a Tensor and, when an input requires grad and grad
mode is on, records a node. The engine never names an op; it only calls
``vjp``.
"""
import numpy as np

from .. import dtypes
from ..autograd import anomaly
from ..autograd import forward_ad
from ..autograd.grad_mode import state as _grad_state
from ..autograd.node import Node
from ..tensor import Tensor

REGISTRY = {}

# bound once: each op call reads these, one attribute load apiece
_dual = forward_ad.state
_anomaly = anomaly.state
_make = Tensor._make


def register(cls):
    """Class decorator: instantiate the op, list it in ``REGISTRY``, return the instance."""
    op = cls()
    if op.name in REGISTRY:
        raise ValueError(f"register: an op named {op.name!r} is already registered")
    REGISTRY[op.name] = op
    return op


class _NoCtx:
    """The ctx of an unrecorded call: saving is a no-op."""

    __slots__ = ()
    needs_input_grad = None   # forward may ask, to save only what gradients need

    def save(self, **values):
        pass


NO_CTX = _NoCtx()
# needs_input_grad of one- and two-input ops, made once instead of per call
_ONE_NEEDED, _NONE_NEEDED = (True,), (False,)
_BINARY_NEEDS = ((None, (False, True)), ((True, False), (True, True)))   # [needs a][needs b]


class Domain:
    """Where gradcheck and the tests draw an op's inputs from."""

    def __init__(self, low=-2.0, high=2.0, avoid=None):
        self.low, self.high, self.avoid = low, high, avoid

    def sample(self, rng, shape):
        x = rng.uniform(self.low, self.high, size=shape)
        if self.avoid is not None:
            # keep finite differences away from a kink or pole (|x - avoid| >= 0.1)
            near = np.abs(x - self.avoid) < 0.1
            x = np.where(near, x + np.copysign(0.2, x - self.avoid + 1e-12), x)
        return x


def Real():
    return Domain()


def Positive():
    return Domain(0.1, 3.0)


class Op:
    """Base class of every gate. Subclasses set ``name`` and implement
    ``forward``, ``vjp`` and (for forward mode) ``jvp``."""

    name = None
    domain = Real()
    view = False            # the output may share memory with input 0
    differentiable = True

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        if cls.name is not None:
            cls.node_name = "".join(p.capitalize() for p in cls.name.strip("_").split("_")) \
                + "Backward"

    def forward(self, ctx, *arrays, **params):
        raise NotImplementedError(f"{type(self).__name__}.forward")

    def vjp(self, ctx, grad_out):
        raise NotImplementedError(f"{self.name}: no reverse-mode rule")

    def jvp(self, ctx, *tangents):
        raise NotImplementedError(f"{self.name}: no forward-mode rule")

    def samples(self, rng):
        """``[(inputs, params), ...]`` the tests and ``chainrule gradcheck`` use."""
        return [((self.domain.sample(rng, shape),), {}) for shape in ((), (3,), (2, 3))]

    def __call__(self, *args, **params):
        if len(args) == 1:
            # one input (reshape, sum, permute, ...), the most common call
            # here: the loops below written out
            x = args[0]
            if not isinstance(x, Tensor):
                return self.forward(NO_CTX, x, **params)   # a plain array in, array out
            arrays = (x.data,)
            needs = _ONE_NEEDED if x.requires_grad else _NONE_NEEDED
        else:
            for a in args:
                if isinstance(a, Tensor):
                    break
            else:
                return self.forward(NO_CTX, *args, **params)   # plain arrays in, array out
            arrays = [a.data if isinstance(a, Tensor) else a for a in args]
            needs = tuple([isinstance(a, Tensor) and a.requires_grad for a in args])
        if _dual.levels:
            return _call_dual(self, args, params)
        if True in needs and _grad_state.enabled and self.differentiable:
            node = Node(self, args, needs)
            raw = self.forward(node, *arrays, **params)
            out = _make(raw, node, True)
            if node._saved is not None:
                node.track((out,), (raw,))
        else:
            node = None
            out = _make(self.forward(NO_CTX, *arrays, **params), None, False)
        if self.view:
            base = args[0]
            out._version = base._version
            out._base = base if base._base is None else base._base
        if _anomaly.enabled:
            anomaly.check_forward(self, node, out)
        return out


class UnaryOp(Op):
    """An op of one input and no options: the same call as ``Op.__call__``,
    written out for one argument because elementwise ops are the most
    frequent calls of all. (No ``**params``: Python would build an empty dict
    on every call; an op with options, like clamp, uses ``Op.__call__``.)"""

    def __call__(self, x):
        if not isinstance(x, Tensor):
            return self.forward(NO_CTX, x)
        if _dual.levels:
            return _call_dual(self, (x,), {})
        if x.requires_grad and _grad_state.enabled:
            node = Node(self, (x,), _ONE_NEEDED)
            raw = self.forward(node, x.data)
            out = _make(raw, node, True)
            if node._saved is not None:
                node.track((out,), (raw,))
        else:
            node = None
            out = _make(self.forward(NO_CTX, x.data), None, False)
        if _anomaly.enabled:
            anomaly.check_forward(self, node, out)
        return out


class BinaryOp(Op):
    """An op of two broadcast inputs, called like ``Op.__call__`` but written
    out for two arguments, with PyTorch's type promotion first.

    The call is a function made for each op (``op.call(a, b)``, see
    ``_binary_call``) so that Tensor's operators can be that function itself:
    ``a * b`` is then one Python call. (Through the op object, an operator
    would need a second call to put the op in front as ``self``, and the
    user's line, looked up for nodes that save arrays, would sit one frame
    further out.)"""

    def __init__(self):
        self.call = _binary_call(self)

    def __call__(self, a, b):
        return self.call(a, b)


def _binary_call(op):
    """``call(a, b)``: ``op`` applied to ``a`` and ``b``, recorded when needed."""
    def call(a, b):
        ta, tb = isinstance(a, Tensor), isinstance(b, Tensor)
        if not (ta or tb):
            return op.forward(NO_CTX, a, b)
        if ta and tb and a.data.dtype is b.data.dtype:
            pass   # the common case, tested first because it is cheap
        elif needs_promotion(a, b):
            a, b = promote((a, b))
        if _dual.levels:
            return _call_dual(op, (a, b), {})
        ra = ta and a.requires_grad
        rb = tb and b.requires_grad
        x = a.data if ta else a
        y = b.data if tb else b
        if (ra or rb) and _grad_state.enabled:
            node = Node(op, (a, b), _BINARY_NEEDS[ra][rb])
            raw = op.forward(node, x, y)
            out = _make(raw, node, True)
            if node._saved is not None:
                node.track((out,), (raw,))
        else:
            node = None
            out = _make(op.forward(NO_CTX, x, y), None, False)
        if _anomaly.enabled:
            anomaly.check_forward(op, node, out)
        return out
    return call


def _call_dual(op, args, params):
    """The call while a forward-mode level is open: forward always runs with a
    real ctx, because the jvp rule reads what forward saved."""
    arrays = [a.data if isinstance(a, Tensor) else a for a in args]
    needs = tuple([isinstance(a, Tensor) and a.requires_grad for a in args])
    # forward saves only what the gradients asked for will read (matmul keeps
    # b only if a needs a gradient); the jvp rule reads the same values for
    # the inputs that carry a tangent, so those count as needing one here
    with_tangent = tuple([n or forward_ad.tangent_of(a) is not None
                          for n, a in zip(needs, args)])
    ctx = Node(op, args, with_tangent)
    raw = op.forward(ctx, *arrays, **params)
    ctx.needs_input_grad = needs
    record = True in needs and _grad_state.enabled and op.differentiable
    out = Tensor._make(raw, ctx if record else None, record)
    if ctx._saved is not None:
        ctx.track((out,), (raw,))
    if op.view:
        base = args[0]
        out._version = base._version
        out._base = base if base._base is None else base._base
    if op.differentiable:
        forward_ad.propagate(op, ctx, args, out)
    if anomaly.state.enabled:
        anomaly.check_forward(op, ctx if record else None, out)
    return out


def as_array(x):
    """The array behind a Tensor, or ``x`` itself (for formulas that accept both)."""
    return x.data if isinstance(x, Tensor) else x


def _operand(x):
    if isinstance(x, (Tensor, np.ndarray)):
        return (x.dtype, x.ndim)
    if isinstance(x, (bool, int, float, np.number, np.bool_)):
        return x
    raise TypeError(f"unsupported operand of type {type(x).__name__}; expected a Tensor, "
                    f"a NumPy array or a Python number")


def promote(args):
    """Cast Tensor/array arguments to PyTorch's result dtype (recorded for Tensors)."""
    from .binary import to
    target = dtypes.result_dtype([_operand(a) for a in args])
    out = []
    for a in args:
        if isinstance(a, (Tensor, np.ndarray)) and a.dtype != target:
            a = to(a, dtype=target)
        out.append(a)
    return out


def needs_promotion(a, b):
    """Do ``a`` and ``b`` need a cast before a binary op? False for two arrays
    of one dtype and for a float array with a Python number (which NumPy
    already treats as PyTorch does)."""
    ta, tb = isinstance(a, (Tensor, np.ndarray)), isinstance(b, (Tensor, np.ndarray))
    if ta and tb:
        return a.dtype != b.dtype
    if not (ta or tb):
        return False
    t, other = (a, b) if ta else (b, a)
    if t.dtype.kind == "f":
        return not isinstance(other, (int, float))
    return True
