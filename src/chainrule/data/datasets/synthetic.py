"""Small generated tasks: XOR, six-bit symmetry, spirals and two moons.

Each returns a ``TensorDataset`` of ``(inputs, targets)``. Random ones draw
from a ``numpy.random.Generator`` seeded by their ``seed`` argument alone, so
the same call gives the same data whatever else the program has drawn.
"""
import numpy as np

import chainrule as cr
from ..dataset import TensorDataset


def _check_count(fn, name, value, minimum):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{fn}: {name} must be an int, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{fn}: {name} must be >= {minimum}, got {value}")
    return int(value)


def _dataset(inputs, targets):
    return TensorDataset(cr.from_numpy(inputs), cr.from_numpy(targets))


def xor():
    """The four XOR patterns: inputs float32 (4, 2) in {0, 1}; targets float32 (4, 1),
    1 where exactly one input is 1 (shaped for a sigmoid output with BCE or MSE)."""
    inputs = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    targets = (inputs[:, :1] != inputs[:, 1:]).astype(np.float32)
    return _dataset(inputs, targets)


def symmetry():
    """Six-bit mirror symmetry (Rumelhart, Hinton & Williams, 1986).

    All 64 patterns of six bits, pattern ``i`` being the binary digits of
    ``i`` (most significant first): inputs float32 (64, 6) in {0, 1}; targets
    float32 (64, 1), 1 iff the pattern reads the same backwards (8 of the 64
    do). The paper solved it with two hidden units.
    """
    inputs = ((np.arange(64)[:, None] >> np.arange(5, -1, -1)) & 1).astype(np.float32)
    targets = (inputs == inputs[:, ::-1]).all(axis=1, keepdims=True).astype(np.float32)
    return _dataset(inputs, targets)


def _split_evenly(n, parts):
    """Sizes of ``parts`` groups summing to ``n``; the first ``n % parts`` get one more."""
    return [n // parts + (k < n % parts) for k in range(parts)]


def spirals(n=300, classes=2, seed=0):
    """Interleaved spiral arms, one per class: ``n`` points in all.

    Arm ``k`` of ``C`` holds ``n / C`` points (the first ``n % C`` arms one
    more), at radius ``r`` evenly spaced in [0.05, 1] and angle
    ``2 pi k / C + 2 pi r + e`` with ``e ~ N(0, 0.15^2)`` radians: one full
    turn each, rotated apart, so no straight line separates them.
    inputs float32 (n, 2) = ``r (cos angle, sin angle)``; targets int64 (n,)
    the arm. Rows come in random order.
    """
    n = _check_count("spirals", "n", n, 1)
    classes = _check_count("spirals", "classes", classes, 2)
    seed = _check_count("spirals", "seed", seed, 0)
    if n < classes:
        raise ValueError(f"spirals: n={n} points cannot cover {classes} classes; "
                         f"use n >= classes")
    rng = np.random.default_rng(seed)
    points, labels = [], []
    for k, size in enumerate(_split_evenly(n, classes)):
        radius = np.linspace(0.05, 1.0, size)
        angle = 2 * np.pi * k / classes + 2 * np.pi * radius + rng.normal(0.0, 0.15, size)
        points.append(radius[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1))
        labels.append(np.full(size, k, dtype=np.int64))
    order = rng.permutation(n)
    return _dataset(np.concatenate(points)[order].astype(np.float32),
                    np.concatenate(labels)[order])


def moons(n=200, noise=0.1, seed=0):
    """Two interleaving half circles, as scikit-learn's ``make_moons``: ``n`` points in all.

    Class 0: ``floor(n / 2)`` points ``(cos t, sin t)``; class 1: the other
    ``ceil(n / 2)`` points ``(1 - cos t, 0.5 - sin t)``; ``t`` evenly spaced
    in [0, pi] on each arc. Gaussian noise of standard deviation ``noise``
    is added to both coordinates. inputs float32 (n, 2); targets int64 (n,).
    Rows come in random order.
    """
    n = _check_count("moons", "n", n, 2)
    seed = _check_count("moons", "seed", seed, 0)
    if isinstance(noise, (bool, np.bool_)) or not isinstance(noise, (int, float, np.number)):
        raise TypeError(f"moons: noise must be a number, got {type(noise).__name__}")
    if not noise >= 0:
        raise ValueError(f"moons: noise must be >= 0 (a standard deviation), got {noise}")
    rng = np.random.default_rng(seed)
    upper = n // 2
    lower = n - upper
    t_upper, t_lower = np.linspace(0, np.pi, upper), np.linspace(0, np.pi, lower)
    points = np.concatenate([
        np.stack([np.cos(t_upper), np.sin(t_upper)], axis=1),
        np.stack([1 - np.cos(t_lower), 0.5 - np.sin(t_lower)], axis=1),
    ])
    points += rng.normal(0.0, noise, points.shape)
    labels = np.repeat(np.array([0, 1], dtype=np.int64), [upper, lower])
    order = rng.permutation(n)
    return _dataset(points[order].astype(np.float32), labels[order])
