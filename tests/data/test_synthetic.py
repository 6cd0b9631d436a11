"""xor, symmetry, spirals and moons: shapes, dtypes, the defining property of each, seeds."""
import numpy as np
import pytest

from chainrule.data import TensorDataset
from chainrule.data.datasets import moons, spirals, symmetry, xor


def _arrays(ds):
    assert isinstance(ds, TensorDataset)
    return tuple(t.data for t in ds.tensors)


def test_xor_patterns():
    x, y = _arrays(xor())
    assert x.shape == (4, 2) and y.shape == (4, 1)
    assert x.dtype == np.float32 and y.dtype == np.float32
    assert {tuple(r) for r in x} == {(0, 0), (0, 1), (1, 0), (1, 1)}
    np.testing.assert_array_equal(y[:, 0], np.logical_xor(x[:, 0], x[:, 1]))


def test_symmetry_has_all_patterns_and_eight_palindromes():
    x, y = _arrays(symmetry())
    assert x.shape == (64, 6) and y.shape == (64, 1)
    assert x.dtype == np.float32 and y.dtype == np.float32
    assert len({tuple(r) for r in x}) == 64 and set(np.unique(x)) == {0.0, 1.0}
    palindromes = [r for r, t in zip(x.astype(int), y[:, 0]) if t == 1]
    assert len(palindromes) == 8
    for r, t in zip(x.astype(int).tolist(), y[:, 0]):
        assert (r == r[::-1]) == (t == 1)
    # pattern i is i in binary, most significant bit first
    assert x[5].tolist() == [0, 0, 0, 1, 0, 1]


@pytest.mark.parametrize("n, classes", [(300, 2), (301, 3), (10, 4)])
def test_spirals_counts_and_radii(n, classes):
    x, y = _arrays(spirals(n, classes, seed=1))
    assert x.shape == (n, 2) and y.shape == (n,)
    assert x.dtype == np.float32 and y.dtype == np.int64
    counts = np.bincount(y, minlength=classes)
    assert counts.sum() == n and counts.max() - counts.min() <= 1
    radius = np.hypot(x[:, 0], x[:, 1])
    assert radius.min() >= 0.05 - 1e-6 and radius.max() <= 1 + 1e-6


def test_spirals_arms_are_rotated_copies():
    """Without noise arm k would be arm 0 turned by 2 pi k / C; with 0.15 rad of noise, the
    mean angle offset between arms at equal radius is that turn."""
    x, y = _arrays(spirals(3000, 3, seed=0))
    angles = []
    for k in range(3):
        arm = x[y == k]
        arm = arm[np.argsort(np.hypot(arm[:, 0], arm[:, 1]))]
        angles.append(np.arctan2(arm[:, 1], arm[:, 0]))
    for k in (1, 2):
        offset = np.angle(np.mean(np.exp(1j * (angles[k] - angles[0]))))
        assert abs(np.angle(np.exp(1j * (offset - 2 * np.pi * k / 3)))) < 0.05


def test_moons_match_their_arcs_without_noise():
    x, y = _arrays(moons(101, noise=0.0))
    assert x.shape == (101, 2) and y.shape == (101,)
    assert x.dtype == np.float32 and y.dtype == np.int64
    assert np.bincount(y).tolist() == [50, 51]
    upper, lower = x[y == 0], x[y == 1]
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0, atol=1e-6)
    assert upper[:, 1].min() >= -1e-6
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5), 1.0, atol=1e-6)
    assert lower[:, 1].max() <= 0.5 + 1e-6


def test_moons_noise_has_the_requested_spread():
    clean = _arrays(moons(4000, noise=0.0, seed=2))
    noisy = _arrays(moons(4000, noise=0.2, seed=2))
    # same seed: same order, so the difference is the noise itself
    np.testing.assert_array_equal(clean[1], noisy[1])
    residual = noisy[0] - clean[0]
    assert abs(residual.std() - 0.2) < 0.01 and abs(residual.mean()) < 0.01


@pytest.mark.parametrize("make", [spirals, moons])
def test_seeded_generators_are_reproducible(make):
    a, b, c = _arrays(make(seed=4)), _arrays(make(seed=4)), _arrays(make(seed=5))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_defaults_count_all_points():
    assert len(spirals()) == 300 and len(moons()) == 200


@pytest.mark.parametrize("call, error, message", [
    (lambda: spirals(n=2, classes=3), ValueError, "n=2 points cannot cover 3 classes"),
    (lambda: spirals(classes=1), ValueError, "classes must be >= 2"),
    (lambda: spirals(n=10.0), TypeError, "spirals: n must be an int, got float"),
    (lambda: moons(n=1), ValueError, "moons: n must be >= 2"),
    (lambda: moons(noise=-0.1), ValueError, "noise must be >= 0"),
    (lambda: moons(noise="low"), TypeError, "noise must be a number"),
    (lambda: moons(seed=None), TypeError, "seed must be an int"),
])
def test_bad_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()
