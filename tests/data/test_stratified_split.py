"""stratified_split against scikit-learn's train_test_split(stratify=...), index for index."""
import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from chainrule.data.datasets.split import stratified_split


def _sklearn(labels, test_size, seed):
    return train_test_split(np.arange(len(labels)), test_size=test_size, stratify=labels,
                            random_state=seed)


@pytest.mark.parametrize("seed", [0, 1, 7, 42, 2024])
def test_digits_labels_match_sklearn(seed):
    labels = load_digits().target
    train, test = stratified_split(labels, test_size=0.2, seed=seed)
    expected_train, expected_test = _sklearn(labels, 0.2, seed)
    np.testing.assert_array_equal(train, expected_train)
    np.testing.assert_array_equal(test, expected_test)
    assert (len(train), len(test)) == (1437, 360)


def test_random_labels_with_remainder_ties_match_sklearn():
    """Small, unbalanced label sets, where the largest-remainder rule must break ties at random."""
    rng = np.random.default_rng(1)
    for case in range(60):
        classes = int(rng.integers(2, 7))
        n = int(rng.integers(4 * classes, 120))
        labels = rng.integers(0, classes, n)
        labels[:2 * classes] = np.repeat(np.arange(classes), 2)   # every class twice at least
        if case % 2:
            test_size = float(rng.uniform(0.15, 0.5))
        else:
            test_size = int(rng.integers(classes, n // 2))
        train, test = stratified_split(labels, test_size=test_size, seed=case)
        expected_train, expected_test = _sklearn(labels, test_size, case)
        np.testing.assert_array_equal(train, expected_train)
        np.testing.assert_array_equal(test, expected_test)


def test_string_labels_match_sklearn():
    labels = np.array(list("aabbbcccc") * 3)
    train, test = stratified_split(labels, test_size=0.3, seed=5)
    expected_train, expected_test = _sklearn(labels, 0.3, 5)
    np.testing.assert_array_equal(train, expected_train)
    np.testing.assert_array_equal(test, expected_test)


def test_split_is_a_partition_with_proportional_classes():
    labels = np.repeat(np.arange(4), [10, 20, 30, 40])
    train, test = stratified_split(labels, test_size=0.25, seed=3)
    assert np.intersect1d(train, test).size == 0
    np.testing.assert_array_equal(np.sort(np.concatenate([train, test])), np.arange(100))
    exact = np.array([10, 20, 30, 40]) * 25 / 100
    assert np.all(np.abs(np.bincount(labels[test]) - exact) < 1)


@pytest.mark.parametrize("labels, kwargs, error, message", [
    (np.zeros((4, 2)), {}, ValueError, r"labels must be 1-D, got shape \(4, 2\)"),
    (np.array([0, 0, 1, 1, 2]), {"test_size": 2}, ValueError, r"classes \[2\] have 1"),
    (np.repeat([0, 1, 2], 4), {"test_size": 2}, ValueError, "test set of 2 samples cannot hold"),
    (np.repeat([0, 1], 4), {"test_size": 1.5}, ValueError, r"must be in \(0, 1\)"),
    (np.repeat([0, 1], 4), {"test_size": 8}, ValueError, "between 1 and 7"),
    (np.repeat([0, 1], 4), {"test_size": "half"}, TypeError, "test_size must be"),
    (np.repeat([0, 1], 4), {"seed": 0.5}, TypeError, "seed must be an int"),
])
def test_bad_arguments(labels, kwargs, error, message):
    with pytest.raises(error, match=message):
        stratified_split(labels, **kwargs)
