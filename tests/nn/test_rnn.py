"""RNN, LSTM, GRU and their cells against torch.nn in float64 (weights copied
over through the state_dict), their default initialisation, the gates they
are built from, and their errors."""
import math

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.autograd.forward_ad import dual_level, make_dual, unpack_dual
from chainrule.autograd.gradcheck import gradgradcheck
from chainrule.nn.layers.rnn import GRU, LSTM, RNN, run_direction
from chainrule.nn.layers.rnn_cells import GRUCell, LSTMCell, RNNCell
from chainrule.nn.layers.rnn_ops import gru_cell, linear, lstm_cell, stack, unbind
from nn.nn_oracle import assert_close, assert_param_grads, copy_weights, to_torch

INPUT, HIDDEN, SEQ, BATCH = 3, 4, 5, 2
LAYERS = {"rnn_tanh": (RNN, torch.nn.RNN, {}),
          "rnn_relu": (RNN, torch.nn.RNN, {"nonlinearity": "relu"}),
          "lstm": (LSTM, torch.nn.LSTM, {}),
          "gru": (GRU, torch.nn.GRU, {})}
CELLS = {"rnn_tanh": (RNNCell, torch.nn.RNNCell, {}),
         "rnn_relu": (RNNCell, torch.nn.RNNCell, {"nonlinearity": "relu"}),
         "lstm": (LSTMCell, torch.nn.LSTMCell, {}),
         "gru": (GRUCell, torch.nn.GRUCell, {})}


def make_twins(kind, **options):
    ours_cls, theirs_cls, extra = LAYERS[kind]
    ours = ours_cls(INPUT, HIDDEN, **extra, **options).double()
    theirs = theirs_cls(INPUT, HIDDEN, **extra, **options).double()
    copy_weights(ours, theirs)
    return ours, theirs


def leaves(array):
    return cr.tensor(array, requires_grad=True), to_torch(array, requires_grad=True)


def backward_random(outputs, their_outputs, rng):
    """Backpropagate one random upstream gradient per output through both."""
    ours = theirs = 0
    for o, t in zip(outputs, their_outputs):
        w = rng.standard_normal(tuple(o.shape))
        ours = ours + (o * cr.tensor(w)).sum()
        theirs = theirs + (t * torch.from_numpy(w)).sum()
    ours.backward()
    theirs.backward()


# -- the layers against torch ---------------------------------------------------------
@pytest.mark.parametrize("given_state", [False, True], ids=["zero-state", "given-state"])
@pytest.mark.parametrize("batch_first", [False, True], ids=["seq-first", "batch-first"])
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("kind", LAYERS)
def test_layer_matches_torch(kind, num_layers, bidirectional, batch_first, given_state, rng):
    """Output, final states and every gradient (input, initial states, each
    parameter by name) equal torch's."""
    ours, theirs = make_twins(kind, num_layers=num_layers, bidirectional=bidirectional,
                              batch_first=batch_first)
    x, tx = leaves(rng.standard_normal((BATCH, SEQ, INPUT) if batch_first
                                       else (SEQ, BATCH, INPUT)))
    state_shape = (num_layers * (2 if bidirectional else 1), BATCH, HIDDEN)
    states, their_states = [], []
    if given_state:
        for _ in range(2 if kind == "lstm" else 1):
            s, ts = leaves(rng.standard_normal(state_shape))
            states.append(s)
            their_states.append(ts)
        hx = tuple(states) if kind == "lstm" else states[0]
        their_hx = tuple(their_states) if kind == "lstm" else their_states[0]
        out, final = ours(x, hx)
        their_out, their_final = theirs(tx, their_hx)
    else:
        out, final = ours(x)
        their_out, their_final = theirs(tx)
    finals = list(final) if kind == "lstm" else [final]
    their_finals = list(their_final) if kind == "lstm" else [their_final]
    for name, o, t in zip(["output", "h_n", "c_n"], [out] + finals, [their_out] + their_finals):
        assert_close(o, t, what=name)
    backward_random([out] + finals, [their_out] + their_finals, rng)
    assert_close(x.grad, tx.grad, what="gradient of the input")
    for k, (s, ts) in enumerate(zip(states, their_states)):
        assert_close(s.grad, ts.grad, what=f"gradient of initial state {k}")
    assert_param_grads(ours, theirs)


@pytest.mark.parametrize("kind", LAYERS)
def test_layer_without_bias_matches_torch(kind, rng):
    ours, theirs = make_twins(kind, bias=False, num_layers=2)
    assert [n for n, _ in ours.named_parameters()] == \
        ["weight_ih_l0", "weight_hh_l0", "weight_ih_l1", "weight_hh_l1"]
    x, tx = leaves(rng.standard_normal((SEQ, BATCH, INPUT)))
    out, their_out = ours(x)[0], theirs(tx)[0]
    assert_close(out, their_out)
    backward_random([out], [their_out], rng)
    assert_param_grads(ours, theirs)


@pytest.mark.parametrize("kind", LAYERS)
def test_unbatched_input_matches_torch(kind, rng):
    """A 2-D input (seq_len, input_size) is one sequence; states lose the batch dim."""
    ours, theirs = make_twins(kind, bidirectional=True)
    x, tx = leaves(rng.standard_normal((SEQ, INPUT)))
    h0 = rng.standard_normal((2, HIDDEN))
    hx = (cr.tensor(h0), cr.tensor(h0)) if kind == "lstm" else cr.tensor(h0)
    their_hx = (to_torch(h0), to_torch(h0)) if kind == "lstm" else to_torch(h0)
    out, final = ours(x, hx)
    their_out, their_final = theirs(tx, their_hx)
    finals = list(final) if kind == "lstm" else [final]
    their_finals = list(their_final) if kind == "lstm" else [their_final]
    for o, t in zip([out] + finals, [their_out] + their_finals):
        assert_close(o, t)
    backward_random([out] + finals, [their_out] + their_finals, rng)
    assert_close(x.grad, tx.grad)
    assert_param_grads(ours, theirs)


def test_lstm_gradients_when_only_the_last_hidden_state_is_used(rng):
    """The benchmark's loss: c_n and all but one output get no gradient."""
    ours, theirs = make_twins("lstm")
    x, tx = leaves(rng.standard_normal((SEQ, BATCH, INPUT)))
    (ours(x)[0][-1] ** 2).sum().backward()
    (theirs(tx)[0][-1] ** 2).sum().backward()
    assert_close(x.grad, tx.grad)
    assert_param_grads(ours, theirs)


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn_tanh"])
def test_gradient_of_a_gradient_matches_torch(kind, rng):
    """A gradient penalty: d/dtheta |d loss / d x|^2 goes through every step's
    backward formula a second time (create_graph=True)."""
    ours, theirs = make_twins(kind, num_layers=2)
    x, tx = leaves(rng.standard_normal((SEQ, BATCH, INPUT)))
    w = rng.standard_normal((SEQ, BATCH, HIDDEN))
    loss = (ours(x)[0] * cr.tensor(w)).sum()
    their_loss = (theirs(tx)[0] * torch.from_numpy(w)).sum()
    (grad_x,) = cr.autograd.grad(loss, x, create_graph=True)
    (their_grad_x,) = torch.autograd.grad(their_loss, tx, create_graph=True)
    assert_close(grad_x, their_grad_x)
    (grad_x ** 2).sum().backward()
    (their_grad_x ** 2).sum().backward()
    assert_param_grads(ours, theirs)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_forward_mode_through_the_layer_matches_torch(kind, rng):
    """jvp of the output with respect to the input, one forward pass."""
    ours, theirs = make_twins(kind, bidirectional=True)
    x, u = rng.standard_normal((SEQ, BATCH, INPUT)), rng.standard_normal((SEQ, BATCH, INPUT))
    with dual_level():
        out = ours(make_dual(cr.tensor(x), cr.tensor(u)))[0]
        tangent = unpack_dual(out)[1]
    _, expected = torch.func.jvp(lambda a: theirs(a)[0], (to_torch(x),), (to_torch(u),))
    assert_close(tangent, expected)


def test_state_dict_moves_between_chainrule_and_torch(rng):
    """Same keys, shapes and order as torch; a torch state_dict loads into ours."""
    theirs = torch.nn.LSTM(INPUT, HIDDEN, num_layers=2, bidirectional=True).double()
    ours = LSTM(INPUT, HIDDEN, num_layers=2, bidirectional=True).double()
    their_state = theirs.state_dict()
    assert list(ours.state_dict()) == list(their_state)
    for key, value in ours.state_dict().items():
        assert tuple(value.shape) == tuple(their_state[key].shape), key
    ours.load_state_dict({k: v.numpy() for k, v in their_state.items()})
    x = rng.standard_normal((SEQ, BATCH, INPUT))
    assert_close(ours(cr.tensor(x))[0], theirs(to_torch(x))[0])


@pytest.mark.parametrize("kind", LAYERS)
def test_repr_matches_torch(kind):
    ours, theirs = make_twins(kind, num_layers=2, batch_first=True, dropout=0.25,
                              bidirectional=True)
    expected = repr(theirs)
    if kind == "rnn_relu":
        # torch's RNN repr omits the nonlinearity; ours names it
        expected = expected.replace("RNN(3, 4,", "RNN(3, 4, nonlinearity='relu',")
    assert repr(ours) == expected


# -- default initialisation -------------------------------------------------------------
@pytest.mark.parametrize("module", [LSTM(30, 200, num_layers=2, bidirectional=True),
                                    GRU(30, 200), RNN(30, 200), LSTMCell(30, 200)],
                         ids=["lstm", "gru", "rnn", "lstm_cell"])
def test_default_init_is_uniform_with_bound_one_over_sqrt_hidden(module):
    bound = 1 / math.sqrt(200)
    for name, p in module.named_parameters():
        values = p.data
        assert p.dtype == cr.float32 and p.requires_grad and p.is_leaf, name
        assert np.abs(values).max() <= bound, name
        assert np.abs(values).max() > 0.95 * bound, name
        if values.size > 10_000:
            assert abs(values.std() - bound / math.sqrt(3)) < 0.02 * bound, name
            assert abs(values.mean()) < 0.02 * bound, name


def test_init_follows_the_global_seed():
    cr.manual_seed(3)
    first = LSTM(4, 5).state_dict()
    cr.manual_seed(3)
    second = LSTM(4, 5).state_dict()
    for key in first:
        np.testing.assert_array_equal(first[key].data, second[key].data)


def test_parameter_shapes_follow_torch():
    ours = GRU(INPUT, HIDDEN, num_layers=2, bidirectional=True)
    theirs = torch.nn.GRU(INPUT, HIDDEN, num_layers=2, bidirectional=True)
    assert [(n, tuple(p.shape)) for n, p in ours.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in theirs.named_parameters()]


# -- dropout between layers ---------------------------------------------------------------
def test_dropout_acts_between_layers_in_training_only(rng):
    model = LSTM(INPUT, HIDDEN, num_layers=2, dropout=0.5).double()
    x = cr.tensor(rng.standard_normal((SEQ, BATCH, INPUT)))
    model.eval()
    reference = model(x)[0].data
    np.testing.assert_array_equal(model(x)[0].data, reference)
    model.train()
    cr.manual_seed(0)
    dropped = model(x)[0].data
    assert not np.allclose(dropped, reference)
    # with the same masks the run repeats exactly
    cr.manual_seed(0)
    np.testing.assert_array_equal(model(x)[0].data, dropped)


def test_dropout_is_not_applied_after_the_last_layer(rng):
    """With dropout=1 every input of layer 2 is zero, so its output is the
    input-free recurrence, the same for every sequence of the batch."""
    model = GRU(INPUT, HIDDEN, num_layers=2, dropout=1.0).double()
    out = model(cr.tensor(rng.standard_normal((SEQ, BATCH, INPUT))))[0].data
    np.testing.assert_allclose(out[:, 0], out[:, 1])
    assert np.abs(out).max() > 0      # the last layer's output itself was not dropped


def test_dropout_with_one_layer_warns():
    with pytest.warns(UserWarning, match="acts between layers"):
        LSTM(INPUT, HIDDEN, dropout=0.3)


# -- cells ----------------------------------------------------------------------------------
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("given_state", [False, True])
@pytest.mark.parametrize("kind", CELLS)
def test_cell_matches_torch(kind, given_state, batched, bias, rng):
    ours_cls, theirs_cls, extra = CELLS[kind]
    ours = ours_cls(INPUT, HIDDEN, bias=bias, **extra).double()
    theirs = theirs_cls(INPUT, HIDDEN, bias=bias, **extra).double()
    copy_weights(ours, theirs)
    lead = (BATCH,) if batched else ()
    x, tx = leaves(rng.standard_normal(lead + (INPUT,)))
    states, their_states = [], []
    args, their_args = [x], [tx]
    if given_state:
        for _ in range(2 if kind == "lstm" else 1):
            s, ts = leaves(rng.standard_normal(lead + (HIDDEN,)))
            states.append(s)
            their_states.append(ts)
        args.append(tuple(states) if kind == "lstm" else states[0])
        their_args.append(tuple(their_states) if kind == "lstm" else their_states[0])
    out, their_out = ours(*args), theirs(*their_args)
    outs = list(out) if kind == "lstm" else [out]
    their_outs = list(their_out) if kind == "lstm" else [their_out]
    for o, t in zip(outs, their_outs):
        assert_close(o, t)
    backward_random(outs, their_outs, rng)
    assert_close(x.grad, tx.grad)
    for s, ts in zip(states, their_states):
        assert_close(s.grad, ts.grad)
    assert_param_grads(ours, theirs)
    assert repr(ours) == repr(theirs)


def test_a_cell_loop_equals_the_layer(rng):
    """LSTMCell stepped by hand with the layer's weights gives the layer's output."""
    layer = LSTM(INPUT, HIDDEN).double()
    cell = LSTMCell(INPUT, HIDDEN).double()
    cell.load_state_dict({k[:-3]: v for k, v in layer.state_dict().items()})
    x = cr.tensor(rng.standard_normal((SEQ, BATCH, INPUT)))
    state, outs = None, []
    for t in range(SEQ):
        state = cell(x[t], state)
        outs.append(state[0].data)
    np.testing.assert_allclose(np.stack(outs), layer(x)[0].data, rtol=1e-12, atol=1e-14)


# -- the gates ------------------------------------------------------------------------------
def test_unbind_backward_fills_unused_slices_with_zeros(rng):
    x, tx = leaves(rng.standard_normal((4, 3)))
    pieces, their_pieces = unbind(x, dim=1), torch.unbind(tx, 1)
    assert len(pieces) == 3 and all(p._base is x for p in pieces)
    (pieces[2] * 2).sum().backward()
    (their_pieces[2] * 2).sum().backward()
    assert_close(x.grad, tx.grad)


@pytest.mark.parametrize("shape, bias", [((5, 3), True), ((2, 5, 3), True), ((3,), False)])
def test_linear_matches_torch(shape, bias, rng):
    arrays = [rng.standard_normal(shape), rng.standard_normal((4, 3))] + \
        ([rng.standard_normal(4)] if bias else [])
    ours = [cr.tensor(a, requires_grad=True) for a in arrays]
    theirs = [to_torch(a, requires_grad=True) for a in arrays]
    out = linear(*ours)
    their_out = torch.nn.functional.linear(*theirs)
    assert_close(out, their_out)
    backward_random([out], [their_out], rng)
    for a, b in zip(ours, theirs):
        assert_close(a.grad, b.grad)


def test_stack_then_unbind_round_trip(rng):
    xs = [cr.tensor(rng.standard_normal((2, 3)), requires_grad=True) for _ in range(4)]
    joined = stack(*xs, dim=1)
    assert joined.shape == (2, 4, 3) and joined.grad_fn.name == "StackBackward"
    for x, piece in zip(xs, unbind(joined, dim=1)):
        np.testing.assert_array_equal(piece.data, x.data)


@pytest.mark.parametrize("used", ["h", "c"])
def test_lstm_cell_with_one_output_used_matches_torch(used, rng):
    """The engine hands the gate None for the output that got no gradient."""
    arrays = [rng.standard_normal(s) for s in ((2, 8), (2, 2), (8, 2), (2, 2))]
    ours = [cr.tensor(a, requires_grad=True) for a in arrays]
    theirs = [to_torch(a, requires_grad=True) for a in arrays]
    h, c = lstm_cell(*ours)
    gates = theirs[0] + theirs[1] @ theirs[2].T
    i, f, g, o = gates.chunk(4, dim=-1)
    tc = torch.sigmoid(f) * theirs[3] + torch.sigmoid(i) * torch.tanh(g)
    th = torch.sigmoid(o) * torch.tanh(tc)
    assert h.grad_fn is c.grad_fn and h.grad_fn.name == "LstmCellBackward"
    ((h if used == "h" else c) ** 2).sum().backward()
    ((th if used == "h" else tc) ** 2).sum().backward()
    for a, b in zip(ours, theirs):
        assert_close(a.grad, b.grad)


@pytest.mark.parametrize("mode, gates", [("LSTM", 4), ("GRU", 3), ("RNN_TANH", 1)])
def test_second_derivative_through_the_time_loop_by_finite_differences(mode, gates, rng):
    """gradgradcheck of one layer-direction as a function of input and weights."""
    def layer(x, w_ih, w_hh, b_ih, b_hh):
        return run_direction(mode, x, None, (w_ih, w_hh, b_ih, b_hh), reverse=True)[0]

    shapes = [(3, 1, 2), (gates * 2, 2), (gates * 2, 2), (gates * 2,), (gates * 2,)]
    inputs = tuple(cr.tensor(rng.standard_normal(s), requires_grad=True) for s in shapes)
    assert gradgradcheck(layer, inputs)


# -- errors ------------------------------------------------------------------------------------
@pytest.mark.parametrize("make, call, match", [
    (lambda: LSTM(3, 4), lambda m: m(cr.zeros(5, 2, 6)),
     r"LSTM: the input has 6 features .*input_size=3"),
    (lambda: GRU(3, 4), lambda m: m(cr.zeros(5, 3)[0]),
     r"GRU: expected a 3-D input \(seq_len, batch, input_size\)"),
    (lambda: RNN(3, 4, batch_first=True), lambda m: m(cr.zeros(2, 5, 3, 1)),
     r"RNN: expected a 3-D input \(batch, seq_len, input_size\)"),
    (lambda: LSTM(3, 4), lambda m: m(cr.zeros(5, 2, 3, dtype=cr.float64)),
     r"LSTM: input dtype float64 does not match the weights' dtype float32"),
    (lambda: GRU(3, 4, num_layers=2), lambda m: m(cr.zeros(5, 2, 3), cr.zeros(1, 2, 4)),
     r"GRU: hx has shape \(1, 2, 4\) but this input needs \(2, 2, 4\)"),
    (lambda: LSTM(3, 4), lambda m: m(cr.zeros(5, 2, 3), cr.zeros(1, 2, 4)),
     r"LSTM: hx must be a tuple \(h_0, c_0\) or None, got Tensor"),
    (lambda: LSTM(3, 4, batch_first=True),
     lambda m: m(cr.zeros(2, 5, 3), (cr.zeros(1, 2, 4), cr.zeros(1, 5, 4))),
     r"LSTM: c_0 has shape \(1, 5, 4\) but this input needs \(1, 2, 4\)"),
    (lambda: LSTM(3, 4), lambda m: m(cr.zeros(0, 2, 3)), r"LSTM: the input sequence is empty"),
    (lambda: LSTM(3, 4), lambda m: m(np.zeros((5, 2, 3))), r"LSTM: input must be a Tensor"),
    (lambda: LSTMCell(3, 4), lambda m: m(cr.zeros(2, 5)),
     r"LSTMCell: expected an input of shape \(batch, 3\) or \(3,\), got \(2, 5\)"),
    (lambda: GRUCell(3, 4), lambda m: m(cr.zeros(2, 3), cr.zeros(3, 4)),
     r"GRUCell: hx has shape \(3, 4\) but the input needs \(2, 4\)"),
    (lambda: LSTMCell(3, 4), lambda m: m(cr.zeros(2, 3), cr.zeros(2, 4)),
     r"LSTMCell: hx must be a tuple \(h, c\) or None"),
])
def test_bad_inputs_are_refused(make, call, match):
    module = make()
    with pytest.raises((ValueError, TypeError), match=match):
        call(module)


@pytest.mark.parametrize("make, error, match", [
    (lambda: RNN(3, 4, nonlinearity="sigmoid"), ValueError,
     r"RNN: nonlinearity must be 'tanh' or 'relu', got 'sigmoid'"),
    (lambda: RNNCell(3, 4, nonlinearity="gelu"), ValueError, r"RNNCell: nonlinearity must be"),
    (lambda: LSTM(3, 0), ValueError, r"LSTM: hidden_size must be at least 1, got 0"),
    (lambda: GRU(3, 4, num_layers=0), ValueError, r"GRU: num_layers must be at least 1"),
    (lambda: LSTM(3.0, 4), TypeError, r"LSTM: input_size must be an int, got float"),
    (lambda: GRU(3, 4, dropout=1.5), ValueError, r"GRU: dropout probability p must be"),
])
def test_bad_options_are_refused(make, error, match):
    with pytest.raises(error, match=match):
        make()


@pytest.mark.parametrize("call, match", [
    (lambda: lstm_cell(np.zeros((2, 8)), np.zeros((2, 2)), np.zeros((8, 3)), np.zeros((2, 2))),
     r"lstm_cell: input_gates has shape \(2, 8\), expected \(2, 12\)"),
    (lambda: lstm_cell(np.zeros((2, 8)), np.zeros(2), np.zeros((8, 2)), np.zeros((2, 2))),
     r"lstm_cell: weight_hh .* and h_prev .* must be 2-D"),
    (lambda: gru_cell(np.zeros((2, 6)), np.zeros((2, 2)), np.zeros((6, 2)), np.zeros(4)),
     r"gru_cell: bias_hh has shape \(4,\), expected \(6,\)"),
    (lambda: gru_cell(np.zeros((2, 6)), np.zeros((2, 2), np.float32), np.zeros((6, 2)), None),
     r"gru_cell: all inputs must have one dtype, got float32 and weight_hh.s float64"),
    (lambda: stack(np.zeros(2), np.zeros(3)),
     r"stack: the tensor at position 1 has shape \(3,\) but the tensor at position 0"),
    (lambda: unbind(np.float64(1.0)), r"unbind: cannot unbind a 0-d tensor"),
    (lambda: linear(np.zeros((2, 3)), np.zeros((4, 5))),
     r"linear: input of shape \(2, 3\) and weight of shape \(4, 5\) do not fit"),
    (lambda: linear(np.zeros((2, 3)), np.zeros((4, 3)), np.zeros(3)),
     r"linear: bias has shape \(3,\), expected \(4,\)"),
    (lambda: linear(np.zeros((2, 3), np.float32), np.zeros((4, 3))),
     r"linear: input, weight and bias must have one dtype"),
])
def test_gates_refuse_bad_shapes(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()
