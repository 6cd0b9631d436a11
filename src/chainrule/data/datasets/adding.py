"""The adding problem: a long-range memory task for recurrent networks.

Each sequence has ``seq_len`` steps of two channels: channel 0 a random value,
channel 1 a marker, 1.0 at exactly two steps and 0.0 elsewhere. The target,
given after the last step, depends only on the two marked values, so a
network must carry them across the steps in between.

``variant="1997"`` follows Hochreiter & Schmidhuber (1997), "Long Short-Term
Memory", experiment 4: values uniform in [-1, 1]; the first marker on one of
the first ten steps, the second on one of the first ``T/2 - 1`` steps
(``T // 2 - 1`` for odd ``T``) other than the first marker's; target
``0.5 + (X1 + X2) / 4``, the sum scaled into [0, 1]. Predicting the constant
0.5 scores a mean squared error of ``Var(X1 + X2) / 16 = (2/3) / 16 = 1/24``,
the baseline a model must beat. Two details of the paper are left out
because they do nothing at a fixed length: its sequence lengths vary between
T and 1.1 T, and its first and last steps carry a -1 marker (with X1 set to
0 when the first step is marked).

``variant="sum"`` is the later, common form (Le, Jaitly & Hinton 2015; Arjovsky,
Shah & Bengio 2016): values uniform in [0, 1], one marker in each half of the
sequence, target ``X1 + X2``. Predicting the constant 1 scores ``1/6``.
"""
import numpy as np

import chainrule as cr
from ..dataset import TensorDataset

VARIANTS = ("1997", "sum")


def _check_int(name, value, minimum):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"adding_problem: {name} must be an int, got {type(value).__name__} "
                        f"{value!r}")
    if value < minimum:
        raise ValueError(f"adding_problem: {name} must be >= {minimum}, got {value}")
    return int(value)


def _markers_1997(rng, n, seq_len):
    """First marker uniform on steps [0, 10); second uniform on the other steps of [0, m)."""
    m = seq_len // 2 - 1
    first = rng.integers(0, min(10, seq_len), size=n)
    # draw among the m - 1 free steps (m when the first marker lies beyond them),
    # then step over the first marker, which keeps the choice uniform
    first_inside = first < m
    second = rng.integers(0, m - first_inside)
    second += first_inside & (second >= first)
    return first, second


def _markers_sum(rng, n, seq_len):
    """One marker uniform in each half: [0, T // 2) and [T // 2, T)."""
    half = seq_len // 2
    return rng.integers(0, half, size=n), rng.integers(half, seq_len, size=n)


def adding_problem(n, seq_len, variant="1997", seed=0):
    """``n`` sequences of the adding problem as a ``TensorDataset``.

    inputs: float32 of shape (n, seq_len, 2) (batch first: channel 0 the
    values, channel 1 the markers); targets: float32 of shape (n, 1).

    Args:
        n: number of sequences.
        seq_len: steps per sequence (``T``); at least 6 for ``"1997"`` (so the
            second marker has a free step) and 2 for ``"sum"``.
        variant: ``"1997"`` or ``"sum"`` (see the module docstring).
        seed: seed of the ``numpy.random.Generator`` that draws the values
            first, then the marker positions.
    """
    if variant not in VARIANTS:
        raise ValueError(f"adding_problem: variant must be one of "
                         f"{', '.join(repr(v) for v in VARIANTS)}, got {variant!r}")
    n = _check_int("n", n, 1)
    seq_len = _check_int("seq_len", seq_len, 6 if variant == "1997" else 2)
    seed = _check_int("seed", seed, 0)
    rng = np.random.default_rng(seed)
    if variant == "1997":
        values = rng.uniform(-1.0, 1.0, size=(n, seq_len))
        first, second = _markers_1997(rng, n, seq_len)
    else:
        values = rng.uniform(0.0, 1.0, size=(n, seq_len))
        first, second = _markers_sum(rng, n, seq_len)

    # targets from the float32 values the model sees, not the float64 draws
    values = values.astype(np.float32)
    rows = np.arange(n)
    markers = np.zeros((n, seq_len), dtype=np.float32)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    total = values[rows, first] + values[rows, second]
    targets = 0.5 + total / 4.0 if variant == "1997" else total
    inputs = np.stack([values, markers], axis=-1)
    return TensorDataset(cr.from_numpy(inputs), cr.from_numpy(targets[:, None]))
