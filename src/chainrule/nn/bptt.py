"""Truncated backpropagation through time, and ``detach_state``.

Backpropagation through time (BPTT) is the ordinary backward pass over the
graph of an unrolled recurrence: the loss at step t reaches the weights
through h_t, h_{t-1}, ..., h_1. Over a long sequence (a book, for a language
model) that graph grows without bound, and so do memory and the time to the
first update. Truncated BPTT, in the terms of Williams & Peng (1990) and
Sutskever (2013, section 2.8), runs the sequence forward k1 steps at a time
and, after each k1 steps, backpropagates through the last k2 steps only:

* every k1 steps there is one update; the losses of the last min(k1, k2)
  steps are backpropagated;
* the gradient flows back k2 steps at most: the state that enters those k2
  steps is *detached*, a constant, so the graph behind it is not part of
  this backward pass (and can be freed);
* the state carried on is the real one, so the forward computation never
  forgets; only the gradient is truncated.

k1 = k2 (the default) is the common case: the sequence is cut into chunks of
k1 steps, each chunk is one graph, and the state passes from chunk to chunk
detached. With k2 > k1 the windows overlap: each update reruns the last k2
steps from the state stored at their start (what Williams & Peng call
BPTT(h; h') with h = k2, h' = k1), so an early loss in the window still sees
k2 - k1 steps of history. With k2 < k1 the first k1 - k2 steps of each chunk
only carry the state forward (under ``no_grad``) and carry no loss.

``detach(t)`` returns a tensor with the same values (the same memory) and no
``grad_fn``: to the engine it is a leaf that needs no gradient, so a backward
pass from a later loss stops there. docs/bptt.md draws it.
"""
from dataclasses import dataclass

from ..autograd.grad_mode import no_grad
from ..functions import cat
from ..tensor import Tensor
from .utils import clip_grad_norm_

__all__ = ["detach_state", "Window", "tbptt_windows", "truncated_bptt"]


def detach_state(state):
    """``state`` with every Tensor detached, nested tuples and lists kept
    (``(h, c)`` of an LSTM, a list of per-layer states); None stays None."""
    if state is None:
        return None
    if isinstance(state, Tensor):
        return state.detach()
    if isinstance(state, (tuple, list)):
        return type(state)(detach_state(s) for s in state)
    raise TypeError(f"detach_state: expected a Tensor, None, or a (nested) tuple or list of "
                    f"them, got {type(state).__name__}")


@dataclass(frozen=True)
class Window:
    """One update of truncated BPTT: steps [start, stop) run with gradients
    (the state entering ``start`` detached); the losses of steps
    [loss_start, stop) are backpropagated."""
    start: int
    loss_start: int
    stop: int


def _check_steps(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"truncated BPTT: {name} must be a positive int (a number of time "
                         f"steps), got {value!r}")
    return value


def tbptt_windows(length, k1, k2=None):
    """The windows of TBPTT(k1, k2) over a sequence of ``length`` steps: one
    update after every k1 steps (and one after a last, shorter chunk of c
    steps), backpropagating the losses of the last min(k1, k2) steps (min(c,
    k2) for the short chunk) through k2 steps (c + k2 - k1 for the short one)."""
    k1 = _check_steps("k1", k1)
    k2 = k1 if k2 is None else _check_steps("k2", k2)
    if isinstance(length, bool) or not isinstance(length, int) or length < 0:
        raise ValueError(f"truncated BPTT: the sequence length must be a non-negative int, "
                         f"got {length!r}")
    windows = []
    for stop in range(k1, length + k1, k1):
        stop = min(stop, length)
        chunk = stop - windows[-1].stop if windows else stop
        loss_start = stop - min(chunk, k2)
        # k2 > k1: k2 - k1 steps of history before the chunk (a last, shorter
        # chunk gets the same history, so k1 = k2 never reruns a step)
        windows.append(Window(start=max(0, loss_start - max(0, k2 - k1)),
                              loss_start=loss_start, stop=stop))
    return windows


def _slice(x, start, stop, time_dim):
    return x[(slice(None),) * time_dim + (slice(start, stop),)]


def truncated_bptt(model, inputs, targets, loss_fn, optimizer, k1, k2=None, state=None,
                   time_dim=0, max_norm=None):
    """Train ``model`` on one long sequence with TBPTT(k1, k2); returns
    ``(mean loss, final state)``.

    * ``model(x, state) -> (output, state)`` runs a stretch of the sequence
      (``nn.LSTM`` and friends do; ``state`` None means zeros);
    * ``inputs`` and ``targets`` hold time along ``time_dim``, and so does
      ``output``;
    * ``loss_fn(output, target)`` is the mean loss over the steps it is given;
    * after each window: ``optimizer.zero_grad()``, backward, optionally
      ``clip_grad_norm_(max_norm)``, ``optimizer.step()``.

    The mean loss weighs each window by its number of loss steps (the value
    before the window's update). The returned state is detached: pass it to
    the next call to go on where this sequence ended.
    """
    length = inputs.shape[time_dim]
    windows = tbptt_windows(length, k1, k2)
    states = {0: detach_state(state)}      # position -> the (detached) state entering it
    total, steps = 0.0, 0
    for i, w in enumerate(windows):
        later_starts = {v.start for v in windows[i + 1:]}
        if w.start not in states:
            # k2 < k1: carry the state from the last update to the window, no graph
            begin = max(p for p in states if p < w.start)
            with no_grad():
                _, carried = model(_slice(inputs, begin, w.start, time_dim), states[begin])
            states[w.start] = detach_state(carried)
        # the forward is cut where a later window starts, to keep its state
        current, outputs, position = states[w.start], [], w.start
        for cut in sorted(s for s in later_starts if w.start < s < w.stop) + [w.stop]:
            output, current = model(_slice(inputs, position, cut, time_dim), current)
            outputs.append(output)
            states[cut] = detach_state(current)
            position = cut
        output = outputs[0] if len(outputs) == 1 else cat(outputs, dim=time_dim)
        loss = loss_fn(_slice(output, w.loss_start - w.start, w.stop - w.start, time_dim),
                       _slice(targets, w.loss_start, w.stop, time_dim))
        optimizer.zero_grad()
        loss.backward()
        if max_norm is not None:
            clip_grad_norm_([p for group in optimizer.param_groups for p in group["params"]],
                            max_norm)
        optimizer.step()
        total += loss.item() * (w.stop - w.loss_start)
        steps += w.stop - w.loss_start
        states = {p: v for p, v in states.items() if p in later_starts or p == w.stop}
    if not windows:
        return float("nan"), detach_state(state)
    return total / steps, states[length]
