"""``RNN``, ``LSTM`` and ``GRU``: recurrent layers over whole sequences.

Shapes as PyTorch's: the input is (T, B, input_size), or (B, T, input_size)
with ``batch_first=True``, or unbatched (T, input_size); the output holds the
last layer's h_t for every t, (T, B, D * H) (D = 2 when bidirectional, the
two directions side by side, forward first); ``h_n`` (and the LSTM's
``c_n``) hold the final state of every layer and direction,
(num_layers * D, B, H), in the order layer 0 forward, layer 0 reverse,
layer 1 forward, ... The initial states have that shape too (zeros when not
given). Parameters per layer k and direction: ``weight_ih_l{k}``,
``weight_hh_l{k}``, ``bias_ih_l{k}``, ``bias_hh_l{k}``, with ``_reverse``
appended for the backward direction, so a ``state_dict`` moves between
chainrule and PyTorch unchanged.

How one layer and direction runs (``run_direction``):

1. the input gates of ALL T steps are one ``linear`` gate (one matrix
   product into one array), x W_ih^T + b_ih (+ b_hh for the RNN and LSTM,
   whose hidden bias adds to the same sum), of shape (T, B, gates * H);
2. ``unbind`` splits it into T per-step tensors (one gate, whose backward is
   one ``stack``);
3. the time loop, in Python: per step one product h W_hh^T and the
   elementwise work. The LSTM and GRU record ONE gate per step
   (``lstm_cell``/``gru_cell``, product included); the vanilla RNN records
   three (``linear`` for h W_hh^T, then add and tanh or relu, core gates);
4. ``stack`` joins the T outputs.

Backpropagation through time is then the engine's ordinary backward over
that graph. Between layers, dropout with probability ``dropout`` is
applied to each layer's output except the last one's, in training mode.
"""
import warnings

from ... import dtypes
from ...functions import cat
from ...tensor import Tensor
from ..functional.dropout import check_probability, dropout as dropout_fn
from ..module import Module
from .rnn_cells import (STEPS, check_nonlinearity, check_size, input_gates, make_weights,
                        reset_uniform)
from .rnn_ops import stack, unbind


def run_direction(mode, input, state, weights, reverse=False, time_dim=0):
    """One layer in one direction over the whole sequence.

    ``weights`` = (W_ih, W_hh, b_ih, b_hh) (biases may be None); ``state`` is
    the initial state (h, or (h, c) for the LSTM; None for zeros). Returns
    ``(outputs stacked along time_dim, final state)``.
    """
    weight_ih, weight_hh, bias_ih, bias_hh = weights
    steps = unbind(input_gates(mode, input, weight_ih, bias_ih, bias_hh), dim=time_dim)
    step = STEPS[mode]
    outputs = [None] * len(steps)
    for t in (reversed(range(len(steps))) if reverse else range(len(steps))):
        outputs[t], state = step(steps[t], state, weight_hh, bias_hh)
    return stack(*outputs, dim=time_dim), state


class RNNBase(Module):
    """The layers' shared machinery; ``mode`` is "RNN_TANH", "RNN_RELU", "LSTM"
    or "GRU"."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, dtype=None):
        super().__init__()
        where = type(self).__name__
        self.mode = mode
        self.input_size = check_size(where, "input_size", input_size, 0)
        self.hidden_size = check_size(where, "hidden_size", hidden_size)
        self.num_layers = check_size(where, "num_layers", num_layers)
        check_probability(where, dropout)
        if dropout > 0 and num_layers == 1:
            warnings.warn(f"{where}: dropout={dropout} acts between layers, so with "
                          f"num_layers=1 it does nothing", UserWarning, stacklevel=3)
        self.bias = bool(bias)
        self.batch_first = bool(batch_first)
        self.dropout = float(dropout)
        self.bidirectional = bool(bidirectional)
        dtype = dtypes.get_default_dtype() if dtype is None else dtype
        directions = 2 if bidirectional else 1
        self._weight_names = []     # [layer][direction] -> the 2 or 4 parameter names
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size * directions
            self._weight_names.append([
                make_weights(self, f"_l{layer}{'_reverse' if d else ''}", mode, layer_input,
                             hidden_size, bias, dtype)
                for d in range(directions)])
        self.reset_parameters()

    def reset_parameters(self):
        reset_uniform(self, self.hidden_size)

    def _weights(self, layer, direction):
        params = [self._parameters[name] for name in self._weight_names[layer][direction]]
        return tuple(params) if self.bias else (params[0], params[1], None, None)

    # -- checks ------------------------------------------------------------------
    def _check_input(self, input):
        where = type(self).__name__
        if not isinstance(input, Tensor):
            raise TypeError(f"{where}: input must be a Tensor, got {type(input).__name__}; "
                            f"wrap an array with cr.from_numpy(array)")
        if input.ndim not in (2, 3):
            raise ValueError(f"{where}: expected a 3-D input ({self._layout()}) or a 2-D "
                             f"unbatched one (seq_len, input_size), got shape "
                             f"{tuple(input.shape)}")
        if input.shape[-1] != self.input_size:
            raise ValueError(f"{where}: the input has {input.shape[-1]} features in its last "
                             f"dimension (shape {tuple(input.shape)}) but input_size="
                             f"{self.input_size}")
        weight = self.weight_ih_l0
        if input.dtype != weight.dtype:
            raise TypeError(f"{where}: input dtype {input.dtype} does not match the weights' "
                            f"dtype {weight.dtype}; convert the input (x.to({weight.dtype})) "
                            f"or the module (module.to({input.dtype}))")
        time_dim = 1 if self.batch_first and input.ndim == 3 else 0
        if input.shape[time_dim] == 0:
            raise ValueError(f"{type(self).__name__}: the input sequence is empty (shape "
                             f"{tuple(input.shape)}); it needs at least one time step")

    def _batch_size(self, input):
        """B, or None for an unbatched input."""
        if input.ndim == 2:
            return None
        return input.shape[0 if self.batch_first else 1]

    def _layout(self):
        return ("batch, seq_len, input_size" if self.batch_first
                else "seq_len, batch, input_size")

    def _check_state(self, name, state, batch):
        """``state`` must be (num_layers * D, batch, H), or (num_layers * D, H) unbatched."""
        if state is None:
            return
        stacked = self.num_layers * (2 if self.bidirectional else 1)
        expected = (stacked, self.hidden_size) if batch is None \
            else (stacked, batch, self.hidden_size)
        if tuple(state.shape) != expected:
            raise ValueError(f"{type(self).__name__}: {name} has shape {tuple(state.shape)} "
                             f"but this input needs {expected} (num_layers * num_directions, "
                             f"{'' if batch is None else 'batch, '}hidden_size)")

    # -- the computation -----------------------------------------------------------
    def _run(self, input, initial):
        """``initial``: a list of per-layer-and-direction initial states (or None
        for zeros) in h_n's order. Returns (output, list of final states)."""
        unbatched = input.ndim == 2
        if unbatched:
            input = input.unsqueeze(1)
        time_dim = 1 if self.batch_first and not unbatched else 0
        directions = 2 if self.bidirectional else 1
        finals = []
        layer_input = input
        for layer in range(self.num_layers):
            outputs = []
            for d in range(directions):
                out, final = run_direction(self.mode, layer_input,
                                           initial[layer * directions + d],
                                           self._weights(layer, d), reverse=d == 1,
                                           time_dim=time_dim)
                outputs.append(out)
                finals.append(final)
            layer_input = outputs[0] if directions == 1 else cat(outputs, dim=-1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_input = dropout_fn(layer_input, self.dropout, True)
        output = layer_input.squeeze(1) if unbatched else layer_input
        return output, finals

    def _split_state(self, state, unbatched):
        """A (num_layers * D, [B,] H) initial state as a list of per-entry (B, H)
        states (None when not given)."""
        stacked = self.num_layers * (2 if self.bidirectional else 1)
        if state is None:
            return [None] * stacked
        if unbatched:
            state = state.unsqueeze(1)
        return list(unbind(state, dim=0))

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"
        if self.mode == "RNN_RELU":
            text += ", nonlinearity='relu'"
        for name, default in (("num_layers", 1), ("bias", True), ("batch_first", False),
                              ("dropout", 0.0), ("bidirectional", False)):
            if getattr(self, name) != default:
                text += f", {name}={getattr(self, name)}"
        return text


class _SingleStateRNN(RNNBase):
    """RNN and GRU: one state h. ``forward(input, hx=None)`` returns
    ``(output, h_n)``."""

    def forward(self, input, hx=None):
        self._check_input(input)
        unbatched = input.ndim == 2
        self._check_state("hx", hx, self._batch_size(input))
        output, finals = self._run(input, self._split_state(hx, unbatched))
        h_n = stack(*finals, dim=0)
        return output, (h_n.squeeze(1) if unbatched else h_n)


class RNN(_SingleStateRNN):
    """Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), or relu
    with ``nonlinearity='relu'``. See the module docstring for shapes and options.
    Positional order as PyTorch's: (input_size, hidden_size, num_layers,
    nonlinearity, bias, batch_first, dropout, bidirectional)."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, dtype=None):
        self.nonlinearity = nonlinearity
        super().__init__(check_nonlinearity("RNN", nonlinearity), input_size, hidden_size,
                         num_layers, bias, batch_first, dropout, bidirectional, dtype)


class GRU(_SingleStateRNN):
    """Gated recurrent unit (Cho et al. 2014) with PyTorch's equations (see
    ``rnn_cells``): ``forward(input, hx=None)`` returns ``(output, h_n)``."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, dtype)


class LSTM(RNNBase):
    """Long short-term memory (Hochreiter & Schmidhuber 1997, with the forget
    gate of Gers et al. 2000) with PyTorch's equations (see ``rnn_cells``):
    ``forward(input, hx=None)`` with hx = (h_0, c_0) or None returns
    ``(output, (h_n, c_n))``."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, dtype)

    def forward(self, input, hx=None):
        self._check_input(input)
        unbatched = input.ndim == 2
        batch = self._batch_size(input)
        if hx is None:
            initial = self._split_state(None, unbatched)
        else:
            if not (isinstance(hx, tuple) and len(hx) == 2):
                raise TypeError(f"LSTM: hx must be a tuple (h_0, c_0) or None, got "
                                f"{type(hx).__name__}")
            self._check_state("h_0", hx[0], batch)
            self._check_state("c_0", hx[1], batch)
            initial = list(zip(self._split_state(hx[0], unbatched),
                               self._split_state(hx[1], unbatched)))
        output, finals = self._run(input, initial)
        h_n = stack(*[h for h, _ in finals], dim=0)
        c_n = stack(*[c for _, c in finals], dim=0)
        if unbatched:
            h_n, c_n = h_n.squeeze(1), c_n.squeeze(1)
        return output, (h_n, c_n)
