"""``RNNCell``, ``LSTMCell`` and ``GRUCell``: one time step, and the step
functions that the sequence layers (``rnn.py``) share with them.

PyTorch's equations, gate order and parameter names (W_ih of shape
(gates * H, input_size), W_hh of shape (gates * H, H), two biases):

    RNN:   h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh)      act = tanh or relu
    LSTM:  i, f, g, o = the four H-wide blocks of x W_ih^T + b_ih + h W_hh^T + b_hh
           c' = sigmoid(f) c + sigmoid(i) tanh(g);   h' = sigmoid(o) tanh(c')
    GRU:   r, z, n blocks; r = sigmoid(x_r + h_r), z = sigmoid(x_z + h_z),
           n = tanh(x_n + r * h_n);  h' = (1 - z) n + z h
           where x_* = x W_ih^T + b_ih and h_* = h W_hh^T + b_hh (b_hn inside r * ...)

Default initialisation (PyTorch's): every weight and bias ~ U(-k, k) with
k = 1 / sqrt(hidden_size).

A step function takes the *input gates* (x W_ih^T plus the biases that can
join them) and the previous state, and does the rest: one product
h W_hh^T and the elementwise work (for the LSTM and GRU one fused gate from
``rnn_ops``, product included). A zero previous state is passed as ``None``
and made of zeros: the product with it still runs, so that W_hh gets its
(zero) gradient from that step, as in PyTorch.
"""
import math

import numpy as np

from ... import dtypes
from ...creation import empty
from ...ops import relu, tanh
from .. import init
from ..module import Module
from ..parameter import Parameter
from .rnn_ops import gru_cell, linear, lstm_cell

GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def check_size(where, name, value, minimum=1):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{where}: {name} must be an int, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{where}: {name} must be at least {minimum}, got {value}")
    return int(value)


def check_nonlinearity(where, nonlinearity):
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"{where}: nonlinearity must be 'tanh' or 'relu', got "
                         f"{nonlinearity!r}")
    return f"RNN_{nonlinearity.upper()}"


def make_weights(module, suffix, mode, input_size, hidden_size, bias, dtype):
    """Register ``weight_ih{suffix}``, ``weight_hh{suffix}`` (and the two biases)
    on ``module``, in PyTorch's order; returns their names."""
    gates = GATES[mode] * hidden_size
    shapes = {"weight_ih": (gates, input_size), "weight_hh": (gates, hidden_size)}
    if bias:
        shapes.update(bias_ih=(gates,), bias_hh=(gates,))
    names = []
    for kind, shape in shapes.items():
        name = kind + suffix
        setattr(module, name, Parameter(empty(*shape, dtype=dtype)))
        names.append(name)
    return tuple(names)


def reset_uniform(module, hidden_size):
    """PyTorch's default: every parameter ~ U(-1/sqrt(H), 1/sqrt(H))."""
    bound = 1.0 / math.sqrt(hidden_size)
    for param in module.parameters():
        init.uniform_(param, -bound, bound)


def input_gates(mode, input, weight_ih, bias_ih, bias_hh):
    """x W_ih^T + b_ih, plus b_hh where it adds to the same sum (RNN, LSTM),
    as one ``linear`` gate; the GRU's b_hh goes to ``gru_cell``, since b_hn
    sits inside r * (...)."""
    if bias_ih is not None and mode != "GRU":
        bias_ih = bias_ih + bias_hh
    return linear(input, weight_ih, bias_ih)


def _zeros(input_gates, gates_per_unit):
    """The zero state (B, H) for input gates of shape (B, gates_per_unit * H)."""
    batch, width = input_gates.shape
    return np.zeros((batch, width // gates_per_unit), dtype=input_gates.dtype)


def rnn_step(activation):
    """The step of a vanilla RNN with ``activation`` (tanh or relu), composed of
    core gates: act(input_gates + h W_hh^T), the biases being in input_gates."""
    def step(input_gates, h, weight_hh, bias_hh):
        h = _zeros(input_gates, 1) if h is None else h
        h = activation(input_gates + linear(h, weight_hh))
        return h, h
    return step


def lstm_step(input_gates, state, weight_hh, bias_hh):
    """One LSTM step: ``(h, (h, c))``; ``state`` is ``(h, c)`` or None (zeros)."""
    h, c = (None, None) if state is None else state
    h = _zeros(input_gates, 4) if h is None else h
    c = _zeros(input_gates, 4) if c is None else c
    h, c = lstm_cell(input_gates, h, weight_hh, c)
    return h, (h, c)


def gru_step(input_gates, h, weight_hh, bias_hh):
    """One GRU step: ``(h, h)``; ``h`` None is the zero state."""
    h = gru_cell(input_gates, _zeros(input_gates, 3) if h is None else h, weight_hh, bias_hh)
    return h, h


STEPS = {"RNN_TANH": rnn_step(tanh), "RNN_RELU": rnn_step(relu), "LSTM": lstm_step,
         "GRU": gru_step}


def check_input(where, input, input_size, weight):
    """A (batch, input_size) or unbatched (input_size,) Tensor of the weights' dtype."""
    if input.ndim not in (1, 2) or input.shape[-1] != input_size:
        raise ValueError(f"{where}: expected an input of shape (batch, {input_size}) or "
                         f"({input_size},), got {tuple(input.shape)}")
    if input.dtype != weight.dtype:
        raise TypeError(f"{where}: input dtype {input.dtype} does not match the weights' "
                        f"dtype {weight.dtype}; convert the input (x.to({weight.dtype})) or "
                        f"the module (module.to({input.dtype}))")


def check_state(where, name, state, expected):
    if state is not None and tuple(state.shape) != expected:
        raise ValueError(f"{where}: {name} has shape {tuple(state.shape)} but the input "
                         f"needs {expected}")


class _CellBase(Module):
    """Parameters and checks shared by the three cells."""

    mode = None

    def __init__(self, input_size, hidden_size, bias=True, dtype=None):
        super().__init__()
        where = type(self).__name__
        self.input_size = check_size(where, "input_size", input_size, 0)
        self.hidden_size = check_size(where, "hidden_size", hidden_size)
        self.bias = bool(bias)
        dtype = dtypes.get_default_dtype() if dtype is None else dtype
        make_weights(self, "", self.mode, input_size, hidden_size, bias, dtype)
        self.reset_parameters()

    def reset_parameters(self):
        reset_uniform(self, self.hidden_size)

    def _step(self, input, state):
        bias_ih, bias_hh = (self.bias_ih, self.bias_hh) if self.bias else (None, None)
        gates = input_gates(self.mode, input, self.weight_ih, bias_ih, bias_hh)
        return STEPS[self.mode](gates, state, self.weight_hh, bias_hh)

    def _prepare(self, input, hx):
        """``(batched input, batched hx, was_unbatched)``, checked."""
        where = type(self).__name__
        check_input(where, input, self.input_size, self.weight_ih)
        unbatched = input.ndim == 1
        expected = (self.hidden_size,) if unbatched else (input.shape[0], self.hidden_size)
        states = hx if isinstance(hx, tuple) else (hx,)
        for k, state in enumerate(states):
            check_state(where, "hx" if len(states) == 1 else f"hx[{k}]", state, expected)
        if unbatched:
            input = input.unsqueeze(0)
            states = tuple(None if s is None else s.unsqueeze(0) for s in states)
        return input, states, unbatched

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            text += ", bias=False"
        if self.mode == "RNN_RELU":
            text += ", nonlinearity=relu"
        return text


class RNNCell(_CellBase):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu, with
    ``nonlinearity='relu'``). ``forward(input, hx=None)``: input (batch,
    input_size) or unbatched (input_size,); hx of the matching (batch,
    hidden_size) or (hidden_size,), zeros when None. Returns h'."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", dtype=None):
        self.mode = check_nonlinearity("RNNCell", nonlinearity)
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, dtype)

    def forward(self, input, hx=None):
        input, (h,), unbatched = self._prepare(input, hx)
        h, _ = self._step(input, h)
        return h.squeeze(0) if unbatched else h


class LSTMCell(_CellBase):
    """One LSTM step (see the module docstring): ``forward(input, hx=None)``
    with hx = (h, c) or None (zeros) returns (h', c')."""

    mode = "LSTM"

    def forward(self, input, hx=None):
        if hx is not None and not (isinstance(hx, tuple) and len(hx) == 2):
            raise TypeError(f"LSTMCell: hx must be a tuple (h, c) or None, got "
                            f"{type(hx).__name__}")
        input, states, unbatched = self._prepare(input, hx)
        _, (h, c) = self._step(input, None if hx is None else states)
        return (h.squeeze(0), c.squeeze(0)) if unbatched else (h, c)


class GRUCell(_CellBase):
    """One GRU step (see the module docstring): ``forward(input, hx=None)``
    returns h'."""

    mode = "GRU"

    def forward(self, input, hx=None):
        input, (h,), unbatched = self._prepare(input, hx)
        h, _ = self._step(input, h)
        return h.squeeze(0) if unbatched else h
