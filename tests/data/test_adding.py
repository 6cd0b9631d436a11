"""The adding problem: marker layout, targets, and the statistics each variant promises."""
import numpy as np
import pytest

from chainrule.data.datasets import adding_problem


def _arrays(ds):
    return tuple(t.data for t in ds.tensors)


@pytest.mark.parametrize("variant", ["1997", "sum"])
def test_shapes_and_exactly_two_markers(variant):
    x, y = _arrays(adding_problem(500, 40, variant=variant, seed=1))
    assert x.shape == (500, 40, 2) and y.shape == (500, 1)
    assert x.dtype == np.float32 and y.dtype == np.float32
    markers = x[:, :, 1]
    assert set(np.unique(markers)) == {0.0, 1.0}
    np.testing.assert_array_equal(markers.sum(axis=1), 2)


def test_1997_layout_and_target():
    seq_len = 50
    x, y = _arrays(adding_problem(4000, seq_len, variant="1997", seed=2))
    values, markers = x[:, :, 0], x[:, :, 1]
    assert values.min() >= -1 and values.max() <= 1 and values.min() < -0.99
    positions = np.sort(np.nonzero(markers)[1].reshape(-1, 2), axis=1)
    # one marker among the first ten steps, both among the first T/2 - 1 = 24 steps
    # (or the first ten steps, whichever is longer)
    assert positions[:, 0].max() < 10
    assert positions[:, 1].max() < max(seq_len // 2 - 1, 10)
    assert positions[:, 1].max() == seq_len // 2 - 2          # the last allowed step is used
    # the second marker is uniform on the free steps: all 24 steps get used
    assert len(np.unique(positions)) == seq_len // 2 - 1
    marked_sum = (values * markers).sum(axis=1)
    np.testing.assert_allclose(y[:, 0], 0.5 + marked_sum / 4, rtol=0, atol=1e-6)
    assert y.min() >= 0 and y.max() <= 1


def test_1997_second_marker_is_uniform_given_the_first():
    """Given the first marker at step f < m, the second is uniform on the m - 1 other
    steps of [0, m); checked by counting over many sequences with f = 3."""
    seq_len, m = 16, 7
    x, _ = _arrays(adding_problem(60_000, seq_len, variant="1997", seed=3))
    markers = x[:, :, 1]
    # the first marker is not identifiable from the output alone when both lie in [0, 10),
    # so use the symmetric statement: every unordered pair inside [0, 7) is equally likely
    pairs = np.nonzero(markers)[1].reshape(-1, 2)
    inside = pairs[(pairs < m).all(axis=1)]
    counts = np.zeros((m, m))
    np.add.at(counts, (inside[:, 0], inside[:, 1]), 1)
    upper = counts[np.triu_indices(m, 1)]
    assert upper.size == 21 and upper.min() > 0
    assert upper.std() / upper.mean() < 0.05


def test_1997_baseline_mse_is_one_24th():
    _, y = _arrays(adding_problem(200_000, 12, variant="1997", seed=4))
    mse = np.mean((y.astype(np.float64) - 0.5) ** 2)
    # standard error of this mean is about 0.0001
    assert abs(mse - 1 / 24) < 6e-4


def test_sum_variant_layout_and_statistics():
    seq_len = 21
    x, y = _arrays(adding_problem(200_000, seq_len, variant="sum", seed=5))
    values, markers = x[:, :, 0], x[:, :, 1]
    assert values.min() >= 0 and values.max() <= 1
    np.testing.assert_array_equal(markers[:, :seq_len // 2].sum(axis=1), 1)
    np.testing.assert_array_equal(markers[:, seq_len // 2:].sum(axis=1), 1)
    np.testing.assert_allclose(y[:, 0], (values * markers).sum(axis=1), atol=1e-6)
    assert abs(np.mean((y.astype(np.float64) - 1.0) ** 2) - 1 / 6) < 2e-3


def test_seed_reproducibility():
    a, b = _arrays(adding_problem(10, 20, seed=7)), _arrays(adding_problem(10, 20, seed=7))
    c = _arrays(adding_problem(10, 20, seed=8))
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], c[0])


@pytest.mark.parametrize("kwargs, error, message", [
    ({"variant": "2015"}, ValueError, r"variant must be one of '1997', 'sum', got '2015'"),
    ({"seq_len": 5}, ValueError, "seq_len must be >= 6, got 5"),
    ({"seq_len": 1, "variant": "sum"}, ValueError, "seq_len must be >= 2, got 1"),
    ({"n": 0}, ValueError, "n must be >= 1, got 0"),
    ({"n": 3.0}, TypeError, "n must be an int, got float"),
    ({"seed": "a"}, TypeError, "seed must be an int, got str"),
])
def test_bad_arguments(kwargs, error, message):
    arguments = {"n": 4, "seq_len": 20, **kwargs}
    with pytest.raises(error, match=message):
        adding_problem(**arguments)
