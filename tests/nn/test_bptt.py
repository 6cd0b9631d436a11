"""Truncated BPTT and detach_state: the windows follow the definition, the
gradient reaches back exactly k2 steps, k1 = k2 training equals the same
loop written in torch, and carrying a state without detaching it fails."""
import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F
from chainrule import optim
from chainrule.nn.bptt import Window, detach_state, tbptt_windows, truncated_bptt
from chainrule.nn.layers.rnn import LSTM
from nn.nn_oracle import assert_close, copy_weights, to_torch


# -- detach_state ---------------------------------------------------------------------------
def test_detach_state_keeps_nested_structure_and_memory():
    h = cr.tensor(np.ones((2, 3)), requires_grad=True) * 2
    c = cr.tensor(np.zeros((2, 3)), requires_grad=True) + 1
    state = [(h, c), h, None]
    detached = detach_state(state)
    assert isinstance(detached, list) and isinstance(detached[0], tuple)
    assert detached[2] is None
    for old, new in [(h, detached[0][0]), (c, detached[0][1]), (h, detached[1])]:
        assert new.grad_fn is None and not new.requires_grad
        assert new.data is old.data          # the same memory, no copy
    assert detach_state(None) is None


def test_detach_state_refuses_other_values():
    with pytest.raises(TypeError, match="detach_state: expected a Tensor, None, or a"):
        detach_state({"h": cr.zeros(2)})


def test_carrying_a_state_without_detaching_it_fails_at_the_second_backward(rng):
    """The second chunk's graph reaches into the first one, whose buffers the
    first backward freed; the engine says what to do."""
    lstm = LSTM(2, 3).double()
    x = cr.tensor(rng.standard_normal((4, 1, 2)))
    out, state = lstm(x[:2])
    out.sum().backward()
    out, state = lstm(x[2:], state)
    with pytest.raises(RuntimeError, match=r"a second time.*\.detach\(\) it"):
        out.sum().backward()


# -- the windows -----------------------------------------------------------------------------
def test_windows_of_equal_k1_and_k2_are_chunks():
    assert tbptt_windows(10, 3) == [Window(0, 0, 3), Window(3, 3, 6), Window(6, 6, 9),
                                    Window(9, 9, 10)]


def test_windows_with_longer_k2_reach_back_k2_steps():
    # every 3 steps an update; the last 3 losses are backpropagated through 5 steps
    assert tbptt_windows(9, 3, 5) == [Window(0, 0, 3), Window(1, 3, 6), Window(4, 6, 9)]


def test_windows_with_shorter_k2_carry_the_first_steps_forward_only():
    # every 4 steps an update through the last 2 steps, whose losses are counted
    assert tbptt_windows(8, 4, 2) == [Window(2, 2, 4), Window(6, 6, 8)]


@pytest.mark.parametrize("length", [1, 7, 12, 13])
@pytest.mark.parametrize("k1, k2", [(1, 1), (3, 3), (3, 5), (4, 9), (5, 2), (20, 20)])
def test_windows_follow_the_definition(length, k1, k2):
    windows = tbptt_windows(length, k1, k2)
    stops = [w.stop for w in windows]
    assert stops == sorted(set(list(range(k1, length, k1)) + [length]))
    for previous, w in zip([0] + stops, windows):
        chunk = w.stop - previous
        assert w.stop - w.loss_start == min(chunk, k2)        # the losses backpropagated
        assert w.loss_start - w.start == (0 if k2 <= k1 else
                                          min(k2 - k1, w.loss_start))    # history before them
    if k2 >= k1:   # every step's loss is counted exactly once
        counted = np.concatenate([np.arange(w.loss_start, w.stop) for w in windows])
        np.testing.assert_array_equal(counted, np.arange(length))


@pytest.mark.parametrize("args, match", [
    ((10, 0), r"k1 must be a positive int"),
    ((10, 3, -1), r"k2 must be a positive int"),
    ((10, 2.5), r"k1 must be a positive int"),
    ((-1, 3), r"the sequence length must be a non-negative int"),
])
def test_bad_window_settings_are_refused(args, match):
    with pytest.raises(ValueError, match=match):
        tbptt_windows(*args)


# -- training --------------------------------------------------------------------------------
class Readout(nn.Module):
    """An LSTM with a linear read-out: model(x, state) -> (output, state)."""

    def __init__(self):
        super().__init__()
        self.lstm = LSTM(2, 3)
        self.head = nn.Linear(3, 1)

    def forward(self, x, state):
        out, state = self.lstm(x, state)
        return self.head(out), state


def make_model():
    return Readout().double()


class Recorder:
    """An optimiser stand-in: records the input gradient per update, changes nothing."""

    def __init__(self, params, watched):
        self.param_groups = [{"params": list(params)}]
        self.watched, self.grads = watched, []

    def zero_grad(self):
        for p in self.param_groups[0]["params"] + [self.watched]:
            p.grad = None

    def step(self):
        self.grads.append(self.watched.grad.data.copy())


@pytest.mark.parametrize("k1, k2", [(3, 3), (3, 5), (4, 2)])
def test_gradient_reaches_back_exactly_to_the_window_start(k1, k2, rng):
    model = make_model()
    x = cr.tensor(rng.standard_normal((10, 2, 2)), requires_grad=True)
    y = cr.tensor(rng.standard_normal((10, 2, 1)))
    recorder = Recorder(model.parameters(), x)
    truncated_bptt(model, x, y, F.mse_loss, recorder, k1, k2)
    windows = tbptt_windows(10, k1, k2)
    assert len(recorder.grads) == len(windows)
    for w, grad in zip(windows, recorder.grads):
        reached = np.abs(grad).sum(axis=(1, 2)) > 0
        np.testing.assert_array_equal(reached, (np.arange(10) >= w.start)
                                      & (np.arange(10) < w.stop))


@pytest.mark.parametrize("k1, k2", [(4, 4), (3, 7), (5, 2)])
def test_without_updates_the_state_and_mean_loss_are_the_full_sequences(k1, k2, rng):
    """Truncation changes gradients only: with weights held still, the carried
    state is the one a single pass gives, and (k2 >= k1) so is the mean loss."""
    model = make_model()
    x = cr.tensor(rng.standard_normal((11, 2, 2)))
    y = cr.tensor(rng.standard_normal((11, 2, 1)))
    recorder = Recorder(model.parameters(), cr.zeros(1, requires_grad=True))
    recorder.step = lambda: None
    mean, (h, c) = truncated_bptt(model, x, y, F.mse_loss, recorder, k1, k2)
    output, (h_full, c_full) = model(x, None)
    assert_close(h, h_full.data.copy())
    assert_close(c, c_full.data.copy())
    assert h.grad_fn is None and c.grad_fn is None
    if k2 >= k1:
        assert mean == pytest.approx(F.mse_loss(output, y).item(), rel=1e-12)


def test_chunked_training_equals_the_same_loop_in_torch(rng):
    """TBPTT(4, 4) with SGD and clipping, against the loop written by hand in
    torch: chunk, forward from the detached state, backward, clip, step."""
    ours = make_model()
    theirs_lstm = torch.nn.LSTM(2, 3).double()
    theirs_head = torch.nn.Linear(3, 1).double()
    copy_weights(ours.lstm, theirs_lstm)
    copy_weights(ours.head, theirs_head)
    x, y = rng.standard_normal((14, 3, 2)), rng.standard_normal((14, 3, 1))
    state = (cr.tensor(rng.standard_normal((1, 3, 3))), cr.tensor(rng.standard_normal((1, 3, 3))))
    their_state = tuple(to_torch(s) for s in state)
    optimizer = optim.SGD(ours.parameters(), lr=0.1)
    their_params = list(theirs_lstm.parameters()) + list(theirs_head.parameters())
    their_optimizer = torch.optim.SGD(their_params, lr=0.1)

    mean, final = truncated_bptt(ours, cr.tensor(x), cr.tensor(y), F.mse_loss, optimizer,
                                 k1=4, state=state, max_norm=0.5)
    losses = []
    for start in range(0, 14, 4):
        out, their_state = theirs_lstm(to_torch(x[start:start + 4]), their_state)
        loss = torch.nn.functional.mse_loss(theirs_head(out), to_torch(y[start:start + 4]))
        their_optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(their_params, 0.5)
        their_optimizer.step()
        their_state = tuple(s.detach() for s in their_state)
        losses.append(loss.item() * len(x[start:start + 4]))
    assert mean == pytest.approx(sum(losses) / 14, rel=1e-10)
    for ours_p, theirs_p in zip(ours.parameters(), their_params):
        assert_close(ours_p, theirs_p)
    assert_close(final[0], their_state[0])
    assert_close(final[1], their_state[1])


def test_batch_first_sequences(rng):
    """time_dim=1: the windows cut the second dimension."""
    model = make_model()
    model.lstm.batch_first = True
    x = cr.tensor(rng.standard_normal((2, 6, 2)), requires_grad=True)
    y = cr.tensor(rng.standard_normal((2, 6, 1)))
    recorder = Recorder(model.parameters(), x)
    truncated_bptt(model, x, y, F.mse_loss, recorder, k1=3, time_dim=1)
    reached = [np.abs(g).sum(axis=(0, 2)) > 0 for g in recorder.grads]
    np.testing.assert_array_equal(reached[0], [1, 1, 1, 0, 0, 0])
    np.testing.assert_array_equal(reached[1], [0, 0, 0, 1, 1, 1])
