"""The gates a recurrent layer is built from: the input projection of all
steps (``linear``), ``unbind``/``stack`` over time, and the fused LSTM and GRU
cells.

Why these five exist (each could be composed from the core ops):

* ``linear(x, W, b)`` computes the input projections of all T steps, x W^T + b,
  into one array (see ``Linear`` for why that matters).
* ``unbind(x, dim)`` splits the input projections of all T steps, computed in
  one matrix product, into T per-step tensors. Composed from T ``getitem``
  views, the backward pass would build T zero arrays of the full (T, B, 4H)
  shape, one per step: O(T^2) memory traffic. As one gate with T outputs its
  backward is one ``stack`` of the T gradients.
* ``stack(*xs, dim)`` joins the per-step outputs: one gate instead of T
  ``unsqueeze`` gates and a ``cat``. Each is the other's backward.
* ``lstm_cell`` and ``gru_cell`` do one step's product h W_hh^T and its
  elementwise work (about 15 small ops composed) in one gate, so that the
  Python overhead per time step stays small next to the step's arithmetic.

The ops of several outputs (``unbind``, and ``lstm_cell`` with its ``(h, c)``)
share one node, as PyTorch's do: the engine hands ``vjp`` one gradient per
output, ``None`` for an output that received none.

Each backward formula is written with operators and ops, so under
``create_graph=True`` it is recorded and differentiates again. The fused cells
keep their activations from the forward pass for an ordinary backward (the
fast path); under ``create_graph`` they recompute them from the inputs with
recorded ops instead, because a saved intermediate array would be a constant
there and the second derivative through it would be lost.
"""
import numpy as np

from ...autograd import anomaly, forward_ad
from ...autograd.grad_mode import state as _grad_state
from ...autograd.node import Node, TensorCtx
from ...ops import cat, getitem, matmul, sigmoid, tanh
from ...ops.linalg import mT
from ...ops.reduce import sum as reduce_sum
from ...ops.registry import NO_CTX, Op, register
from ...ops.shape import expand, reshape
from ...tensor import Tensor, _check_dim

__all__ = ["unbind", "stack", "linear", "lstm_cell", "gru_cell"]


class MultiOutputOp(Op):
    """An op whose ``forward`` returns a tuple of arrays: the call returns a
    tuple of Tensors made by one node (``n_outputs`` of them, each with its
    ``_output_nr``), and ``vjp(ctx, *grad_outputs)`` / ``jvp`` (returning a
    tuple) work per output. Otherwise the call is ``Op.__call__``'s."""

    def __call__(self, *args, **params):
        for a in args:
            if isinstance(a, Tensor):
                break
        else:
            return self.forward(NO_CTX, *args, **params)
        arrays = [a.data if isinstance(a, Tensor) else a for a in args]
        needs = tuple([isinstance(a, Tensor) and a.requires_grad for a in args])
        dual = bool(forward_ad.state.levels)
        record = True in needs and _grad_state.enabled
        ctx = Node(self, args, needs) if record or dual else NO_CTX
        raws = self.forward(ctx, *arrays, **params)
        node = ctx if record else None
        outs = tuple(Tensor._make(raw, node, record) for raw in raws)
        if record:
            ctx.n_outputs = len(outs)
            for k, out in enumerate(outs):
                out._output_nr = k
        if ctx is not NO_CTX and ctx._saved is not None:
            ctx.track(outs, raws)
        if self.view:
            base = args[0] if args[0]._base is None else args[0]._base
            for out in outs:
                out._version, out._base = args[0]._version, base
        if dual:
            _propagate_tangents(self, ctx, args, outs)
        if anomaly.state.enabled:
            for out in outs:
                anomaly.check_forward(self, node, out)
        return outs


def _propagate_tangents(op, ctx, args, outs):
    """Forward mode for several outputs: ``forward_ad.propagate``, per output."""
    tangents = [forward_ad.tangent_of(a) for a in args]
    if all(t is None for t in tangents):
        return
    level = forward_ad.state.levels[-1]
    for out, out_dot in zip(outs, op.jvp(ctx, *tangents)):
        if out_dot is not None:
            level[id(out)] = (out, out_dot)


def _zeros(shape, like):
    return np.zeros(shape, dtype=like.dtype)


# -- unbind and stack ---------------------------------------------------------------
@register
class Unbind(MultiOutputOp):
    """``unbind(x, dim)``: the slices ``x[..., k, ...]`` along ``dim``, as a tuple
    of views (PyTorch's ``torch.unbind``). Gradient: the slices' gradients
    stacked back along ``dim``, zeros for a slice that received none."""
    name = "unbind"
    view = True

    def forward(self, ctx, x, dim=0):
        x = np.asarray(x)
        if x.ndim == 0:
            raise ValueError("unbind: cannot unbind a 0-d tensor; it has no dimension to "
                             "split along")
        dim = _check_dim(dim, x.ndim, "unbind")
        ctx.save(shape=x.shape, dim=dim)
        before = (slice(None),) * dim
        return tuple(x[before + (k,)] for k in range(x.shape[dim]))

    def vjp(self, ctx, *grad_outputs):
        piece = ctx.shape[:ctx.dim] + ctx.shape[ctx.dim + 1:]
        like = next(g for g in grad_outputs if g is not None)
        return (stack(*[_zeros(piece, like) if g is None else g for g in grad_outputs],
                      dim=ctx.dim),)

    def jvp(self, ctx, x_dot):
        return unbind(x_dot, dim=ctx.dim)

    def samples(self, rng):
        x = rng.standard_normal
        return [((x((3, 2, 4)),), {"dim": 0}),
                ((x((2, 3)),), {"dim": -1}),
                ((x((4,)),), {"dim": 0})]


@register
class Stack(Op):
    """``stack(*xs, dim)``: tensors of one shape joined along a new dimension
    ``dim`` (PyTorch's ``torch.stack(xs, dim)``). Gradient: grad_out unbound
    along ``dim``, one slice per input."""
    name = "stack"

    def forward(self, ctx, *arrays, dim=0):
        if not arrays:
            raise ValueError("stack: expects a non-empty sequence of tensors")
        shape = np.shape(arrays[0])
        for k, a in enumerate(arrays):
            if np.shape(a) != shape:
                raise ValueError(f"stack: the tensor at position {k} has shape {np.shape(a)} "
                                 f"but the tensor at position 0 has shape {shape}; stack needs "
                                 f"tensors of one shape")
        dim = _check_dim(dim, len(shape) + 1, "stack")
        ctx.save(dim=dim, shape=shape)
        return np.stack(arrays, axis=dim)

    def vjp(self, ctx, grad_out):
        pieces = unbind(grad_out, dim=ctx.dim)
        return tuple(p if needed else None for p, needed in zip(pieces, ctx.needs_input_grad))

    def jvp(self, ctx, *tangents):
        like = next(t for t in tangents if t is not None)
        return stack(*[_zeros(ctx.shape, like) if t is None else t for t in tangents],
                     dim=ctx.dim)

    def samples(self, rng):
        x = rng.standard_normal
        return [((x((2, 3)), x((2, 3)), x((2, 3))), {"dim": 0}),
                ((x((2, 3)), x((2, 3))), {"dim": -1}),
                ((x(()), x(())), {"dim": 0})]


# -- the input projection ------------------------------------------------------------
@register
class Linear(Op):
    """``linear(x, weight, bias=None)`` = x W^T + b, PyTorch's ``F.linear`` as
    one gate: x (..., in), W (out, in), b (out,) or None.

    One gate rather than a matmul and an add because the product is written
    into the output array and the bias added in place, so the result is ONE
    array. For the input gates of a whole sequence, (T, B, 4H), composing
    would allocate a second array of that size on every forward pass, and that
    alone was enough to make glibc return the heap to the system after every
    training step and fault it back in page by page in the next one (measured:
    2,300 to 4,300 page faults per step of the LSTM benchmark with it, none
    without). Leading dimensions are folded into one 2-D product.

    Gradients (g = grad_out with the leading dimensions folded):
    d x = g W;  d W = g^T x;  d b = g summed over the folded rows.
    """
    name = "linear"

    def forward(self, ctx, x, weight, bias=None):
        x_shape, w_shape = np.shape(x), np.shape(weight)
        if len(w_shape) != 2 or not x_shape or x_shape[-1] != w_shape[1]:
            raise ValueError(f"linear: input of shape {x_shape} and weight of shape {w_shape} "
                             f"do not fit: the weight must be (out_features, in_features) "
                             f"with in_features the input's last dimension")
        if bias is not None and np.shape(bias) != w_shape[:1]:
            raise ValueError(f"linear: bias has shape {np.shape(bias)}, expected "
                             f"{w_shape[:1]} (out_features)")
        dtypes = {np.result_type(a) for a in (x, weight, bias) if a is not None}
        if len(dtypes) > 1:
            raise TypeError(f"linear: input, weight and bias must have one dtype, got "
                            f"{sorted(map(str, dtypes))}; convert with .to(dtype)")
        needs = getattr(ctx, "needs_input_grad", None)
        if needs is not None:
            # each gradient reads only the other operand: keep just those
            ctx.save(x=x if needs[1] else None, weight=weight if needs[0] else None,
                     x_shape=x_shape, out_shape=x_shape[:-1] + w_shape[:1])
        rows = np.reshape(x, (-1, w_shape[1]))
        out = np.matmul(rows, np.transpose(weight))
        if bias is not None:
            out += bias
        return out.reshape(x_shape[:-1] + w_shape[:1])

    def vjp(self, ctx, grad_out):
        needs = ctx.needs_input_grad
        out_features = grad_out.shape[-1]
        rows = reshape(grad_out, shape=(-1, out_features))
        grad_x = grad_w = grad_b = None
        if needs[0]:
            grad_x = reshape(matmul(rows, ctx.weight), shape=ctx.x_shape)
        if needs[1]:
            grad_w = matmul(mT(rows), reshape(ctx.x, shape=(-1, ctx.x_shape[-1])))
        if len(needs) > 2 and needs[2]:
            grad_b = reduce_sum(rows, dim=0)
        return (grad_x, grad_w) if len(needs) == 2 else (grad_x, grad_w, grad_b)

    def jvp(self, ctx, x_dot, weight_dot, bias_dot=None):
        if x_dot is None and weight_dot is None:
            return expand(bias_dot, shape=ctx.out_shape)
        return _tangent_sum(None if x_dot is None else linear(x_dot, ctx.weight),
                            None if weight_dot is None else linear(ctx.x, weight_dot),
                            bias_dot)

    def samples(self, rng):
        x = rng.standard_normal
        return [((x((4, 3)), x((2, 3)), x((2,))), {}),
                ((x((2, 5, 3)), x((4, 3)), x((4,))), {}),
                ((x((3,)), x((2, 3))), {})]


# -- the fused cells ----------------------------------------------------------------
def _check_cell(op, input_gates, h_prev, weight_hh, state, per_unit):
    """input_gates (B, kH), h_prev and state (B, H), weight_hh (kH, H), one
    dtype; returns H. (Runs at every time step: no more than the checks.)"""
    w_shape, h_shape = np.shape(weight_hh), np.shape(h_prev)
    if len(w_shape) != 2 or len(h_shape) != 2:
        raise ValueError(f"{op}: weight_hh ({per_unit} * hidden, hidden) and h_prev (batch, "
                         f"hidden) must be 2-D, got shapes {w_shape} and {h_shape}; add a "
                         f"batch dimension of 1 for one sequence")
    batch, hidden = h_shape[0], w_shape[1]
    for name, value, shape in (("input_gates", input_gates, (batch, per_unit * hidden)),
                               ("h_prev", h_prev, (batch, hidden)),
                               ("weight_hh", weight_hh, (per_unit * hidden, hidden)),
                               ("c_prev", state, (batch, hidden))):
        if value is not None and np.shape(value) != shape:
            raise ValueError(f"{op}: {name} has shape {np.shape(value)}, expected {shape} "
                             f"(batch {batch} from h_prev, hidden {hidden} from weight_hh "
                             f"of shape {w_shape}; {per_unit} gates per hidden unit)")
    dtype = np.result_type(weight_hh)
    for value in (input_gates, h_prev, state):
        if value is not None and np.result_type(value) != dtype:
            raise TypeError(f"{op}: all inputs must have one dtype, got {np.result_type(value)} "
                            f"and weight_hh's {dtype}; convert them with .to(dtype)")
    return hidden


_SCALES = {}


def _gate_scale(hidden, dtype, sigmoid_blocks):
    """Per column: s = 1/2 for a sigmoid block, 1 for a tanh block; the offset
    1 - s and s^2 (see LstmCell). Cached: every step needs the same ones."""
    key = (hidden, dtype, sigmoid_blocks)
    if key not in _SCALES:
        scale = np.ones(len(sigmoid_blocks) * hidden, dtype=dtype)
        for k, is_sigmoid in enumerate(sigmoid_blocks):
            if is_sigmoid:
                scale[k * hidden:(k + 1) * hidden] = 0.5
        constants = (scale, 1 - scale, scale * scale)
        for c in constants:
            c.flags.writeable = False
        _SCALES[key] = constants
    return _SCALES[key]


_LSTM_BLOCKS = (True, True, False, True)    # sigmoid i, f, o; tanh g


def _four(act, hidden):
    """The views of the four gate blocks (i, f, g, o) of an activation array."""
    return (act[:, :hidden], act[:, hidden:2 * hidden], act[:, 2 * hidden:3 * hidden],
            act[:, 3 * hidden:])


def _blocks(x, hidden, count):
    """The ``count`` gate blocks of width ``hidden`` along the last axis."""
    return [getitem(x, index=(Ellipsis, slice(k * hidden, (k + 1) * hidden)))
            for k in range(count)]


def _join(parts):
    """The gate blocks side by side: ``cat`` for Tensors; for arrays (an
    ordinary backward) ``np.concatenate`` directly, skipping cat's checks,
    since this runs at every time step."""
    if any(isinstance(p, Tensor) for p in parts):
        return cat(*parts, dim=-1)
    return np.concatenate(parts, axis=-1)


def _product(a, b, transpose_a=False):
    """a @ b, or a^T @ b, inside a formula: the recorded ``matmul`` on Tensors;
    on arrays (an ordinary backward, at every time step) ``np.matmul``
    directly, as the op's checks would cost more than a small product."""
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return matmul(mT(a) if transpose_a else a, b)
    return np.matmul(a.T if transpose_a else a, b)


def _or_zero(g):
    """A missing gradient or tangent is zero; 0.0 broadcasts in every formula."""
    return 0.0 if g is None else g


def _tangent_sum(*terms):
    """The sum of the tangent terms that are not None; None if all are."""
    present = [t for t in terms if t is not None]
    if not present:
        return None
    total = present[0]
    for t in present[1:]:
        total = total + t
    return total


def _recurrent_dot(h_prev, weight_hh, h_dot, w_dot):
    """The tangent of h_prev W^T: h_dot W^T + h_prev w_dot^T, or None."""
    return _tangent_sum(None if h_dot is None else matmul(h_dot, mT(weight_hh)),
                        None if w_dot is None else matmul(h_prev, mT(w_dot)))


def _tangent_blocks(x_dot, hidden, count):
    """The gate blocks of a tangent, or ``count`` zeros for a missing one."""
    return [0.0] * count if x_dot is None else _blocks(x_dot, hidden, count)


@register
class LstmCell(MultiOutputOp):
    """One LSTM step after the input projection: ``(h, c) = lstm_cell(input_gates,
    h_prev, weight_hh, c_prev)``, all of one dtype, batched (B rows). With

        z = input_gates + h_prev W_hh^T          (B, 4H)

    (input_gates = x W_ih^T + b_ih + b_hh, computed for all steps at once by
    the layer) split into PyTorch's gate order (i, f, g, o), each of width H:

        i, f, o = sigmoid(z_i), sigmoid(z_f), sigmoid(z_o);   g = tanh(z_g)
        c = f * c_prev + i * g;                                 h = o * tanh(c)

    The step's one matrix product is inside the gate, so a time step records
    one node, and the product's output is the array the activations are
    computed in (no (B, 4H) temporaries besides it).

    The four activations are one pass over all 4H columns, as in a careful
    hand-written LSTM: sigmoid(z) = tanh(z / 2) / 2 + 1/2, so with s = 1/2 on
    sigmoid columns and s = 1 on tanh ones, y = s tanh(s z) + (1 - s), and
    dy/dz = s^2 - (y - (1 - s))^2 (that is y (1 - y), or 1 - y^2). This form
    cannot overflow.

    Gradient (upstream dh, dc; a missing one is zero):

        dc_total = dc + dh * o * (1 - tanh(c)^2)
        dz = [dc_total g, dc_total c_prev, dc_total i, dh tanh(c)] * dy/dz
        d input_gates = dz;   d h_prev = dz W_hh;   d W_hh = dz^T h_prev
        d c_prev = dc_total * f
    """
    name = "lstm_cell"

    def forward(self, ctx, input_gates, h_prev, weight_hh, c_prev):
        hidden = _check_cell("lstm_cell", input_gates, h_prev, weight_hh, c_prev, 4)
        act = np.matmul(h_prev, np.transpose(weight_hh))
        act += input_gates
        scale, offset, _ = _gate_scale(hidden, act.dtype, _LSTM_BLOCKS)
        act *= scale
        np.tanh(act, out=act)
        act *= scale
        act += offset
        i, f, g, o = _four(act, hidden)
        c = f * c_prev
        c += i * g
        tanh_c = np.tanh(c)
        ctx.save(input_gates=input_gates, h_prev=h_prev, weight_hh=weight_hh, c_prev=c_prev,
                 act=act, tanh_c=tanh_c, hidden=hidden)
        return o * tanh_c, c

    def _local(self, ctx):
        """``(i, f, g, o, dy/dz, tanh(c))``: from the saved arrays normally; under
        create_graph, recomputed from the input Tensors with recorded ops."""
        hidden = ctx.hidden
        if isinstance(ctx, TensorCtx):
            z = ctx.input_gates + matmul(ctx.h_prev, mT(ctx.weight_hh))
            z_i, z_f, z_g, z_o = _blocks(z, hidden, 4)
            i, f, g, o = sigmoid(z_i), sigmoid(z_f), tanh(z_g), sigmoid(z_o)
            slope = cat(i * (1 - i), f * (1 - f), 1 - g * g, o * (1 - o), dim=-1)
            return i, f, g, o, slope, tanh(f * ctx.c_prev + i * g)
        act = ctx.act
        _, offset, scale_squared = _gate_scale(hidden, act.dtype, _LSTM_BLOCKS)
        slope = act - offset
        slope *= slope
        np.subtract(scale_squared, slope, out=slope)
        i, f, g, o = _four(act, hidden)
        return i, f, g, o, slope, ctx.tanh_c

    def vjp(self, ctx, grad_h, grad_c):
        i, f, g, o, slope, tanh_c = self._local(ctx)
        c_prev = ctx.c_prev
        grad_h = _or_zero(grad_h)
        grad_c = _or_zero(grad_c) + grad_h * o * (1 - tanh_c * tanh_c)
        # every block has the state's shape, even with grad_h or grad_c the zero 0.0
        grad_z = _join([grad_c * g, grad_c * c_prev, grad_c * i, grad_h * tanh_c]) * slope
        needs = ctx.needs_input_grad
        return (grad_z if needs[0] else None,
                _product(grad_z, ctx.weight_hh) if needs[1] else None,
                _product(grad_z, ctx.h_prev, transpose_a=True) if needs[2] else None,
                grad_c * f if needs[3] else None)

    def jvp(self, ctx, input_gates_dot, h_prev_dot, weight_hh_dot, c_prev_dot):
        i, f, g, o, slope, tanh_c = self._local(ctx)
        z_dot = _tangent_sum(input_gates_dot, _recurrent_dot(ctx.h_prev, ctx.weight_hh,
                                                             h_prev_dot, weight_hh_dot))
        i_dot, f_dot, g_dot, o_dot = _tangent_blocks(None if z_dot is None else slope * z_dot,
                                                     ctx.hidden, 4)
        c_dot = f_dot * ctx.c_prev + f * _or_zero(c_prev_dot) + i_dot * g + i * g_dot
        return o_dot * tanh_c + o * (1 - tanh_c * tanh_c) * c_dot, c_dot

    def samples(self, rng):
        x = rng.standard_normal
        return [((x((3, 8)), x((3, 2)), x((8, 2)), x((3, 2))), {}),
                ((2 * x((1, 12)), x((1, 3)), x((12, 3)), x((1, 3))), {})]


@register
class GruCell(Op):
    """One GRU step after the input projection: ``h = gru_cell(input_gates,
    h_prev, weight_hh, bias_hh)`` (``bias_hh`` may be None), batched, with
    input_gates = x W_ih^T + b_ih (all steps at once, by the layer) and

        hidden_gates = h_prev W_hh^T + b_hh      (B, 3H), inside the gate

    both split into PyTorch's gate order (r, z, n), each of width H:

        r = sigmoid(x_r + h_r);  z = sigmoid(x_z + h_z)
        n = tanh(x_n + r * h_n)              # r gates h_n *including* b_hn
        h = (1 - z) * n + z * h_prev

    (So the two biases cannot be merged as in the LSTM: b_hn sits inside r * (...).)

    Gradient (upstream dh):

        dn = dh (1 - z) (1 - n^2);  dz = dh (h_prev - n) z (1 - z)
        dr = dn h_n r (1 - r)
        d input_gates = [dr, dz, dn];  d hidden_gates = [dr, dz, dn r]
        d h_prev = dh z + d hidden_gates W_hh;   d W_hh = d hidden_gates^T h_prev
        d b_hh = d hidden_gates summed over the batch
    """
    name = "gru_cell"

    def forward(self, ctx, input_gates, h_prev, weight_hh, bias_hh=None):
        hidden = _check_cell("gru_cell", input_gates, h_prev, weight_hh, None, 3)
        if bias_hh is not None and np.shape(bias_hh) != (3 * hidden,):
            raise ValueError(f"gru_cell: bias_hh has shape {np.shape(bias_hh)}, expected "
                             f"{(3 * hidden,)}")
        hidden_gates = np.matmul(h_prev, np.transpose(weight_hh))
        if bias_hh is not None:
            hidden_gates += bias_hh
        rz = input_gates[:, :2 * hidden] + hidden_gates[:, :2 * hidden]
        rz *= 0.5               # sigmoid(x) = tanh(x / 2) / 2 + 1/2, one pass for r and z
        np.tanh(rz, out=rz)
        rz *= 0.5
        rz += 0.5
        r, z = rz[:, :hidden], rz[:, hidden:]
        h_n = hidden_gates[:, 2 * hidden:]
        n = h_n * r
        n += input_gates[:, 2 * hidden:]
        np.tanh(n, out=n)
        ctx.save(input_gates=input_gates, h_prev=h_prev, weight_hh=weight_hh, bias_hh=bias_hh,
                 rz=rz, n=n, h_n=h_n, hidden=hidden)
        return n + z * (h_prev - n)

    def _local(self, ctx):
        """``(r, z, n, h_n)``, as ``LstmCell._local``."""
        hidden = ctx.hidden
        if isinstance(ctx, TensorCtx):
            hidden_gates = matmul(ctx.h_prev, mT(ctx.weight_hh))
            if ctx.bias_hh is not None:
                hidden_gates = hidden_gates + ctx.bias_hh
            x_r, x_z, x_n = _blocks(ctx.input_gates, hidden, 3)
            h_r, h_z, h_n = _blocks(hidden_gates, hidden, 3)
            r, z = sigmoid(x_r + h_r), sigmoid(x_z + h_z)
            return r, z, tanh(x_n + r * h_n), h_n
        rz = ctx.rz
        return rz[:, :hidden], rz[:, hidden:], ctx.n, ctx.h_n

    def vjp(self, ctx, grad_out):
        r, z, n, h_n = self._local(ctx)
        h_prev = ctx.h_prev
        grad_n = grad_out * (1 - z) * (1 - n * n)
        grad_z = grad_out * (h_prev - n) * z * (1 - z)
        grad_r = grad_n * h_n * r * (1 - r)
        needs = ctx.needs_input_grad
        grad_hidden = _join([grad_r, grad_z, grad_n * r]) if any(needs[1:]) else None
        return (_join([grad_r, grad_z, grad_n]) if needs[0] else None,
                grad_out * z + _product(grad_hidden, ctx.weight_hh) if needs[1] else None,
                _product(grad_hidden, h_prev, transpose_a=True) if needs[2] else None,
                reduce_sum(grad_hidden, dim=0) if needs[3] else None)

    def jvp(self, ctx, input_gates_dot, h_prev_dot, weight_hh_dot, bias_hh_dot):
        r, z, n, h_n = self._local(ctx)
        hidden = ctx.hidden
        hidden_dot = _tangent_sum(_recurrent_dot(ctx.h_prev, ctx.weight_hh, h_prev_dot,
                                                 weight_hh_dot), bias_hh_dot)
        x_r_dot, x_z_dot, x_n_dot = _tangent_blocks(input_gates_dot, hidden, 3)
        h_r_dot, h_z_dot, h_n_dot = _tangent_blocks(hidden_dot, hidden, 3)
        r_dot = r * (1 - r) * (x_r_dot + h_r_dot)
        z_dot = z * (1 - z) * (x_z_dot + h_z_dot)
        n_dot = (1 - n * n) * (x_n_dot + r_dot * h_n + r * h_n_dot)
        return (1 - z) * n_dot + z_dot * (ctx.h_prev - n) + z * _or_zero(h_prev_dot)

    def samples(self, rng):
        x = rng.standard_normal
        return [((x((3, 6)), x((3, 2)), x((6, 2)), x((6,))), {}),
                ((2 * x((1, 9)), x((1, 3)), x((9, 3)), x((9,))), {})]


unbind, stack, linear, lstm_cell, gru_cell = Unbind, Stack, Linear, LstmCell, GruCell
