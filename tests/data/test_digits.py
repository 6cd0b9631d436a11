"""digits(): the embedded table against scikit-learn's, the split, and ranges and balance."""
import subprocess
import sys

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from chainrule.data import TensorDataset
from chainrule.data.datasets import digits


def _arrays(ds):
    return tuple(t.data for t in ds.tensors)


def test_all_digits_equal_sklearn_scaled():
    x, y = _arrays(digits())
    reference = load_digits()
    assert x.shape == (1797, 64) and y.shape == (1797,)
    assert x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(x, (reference.data / 16).astype(np.float32))
    np.testing.assert_array_equal(y, reference.target)
    assert x.min() == 0.0 and x.max() == 1.0


@pytest.mark.parametrize("seed", [0, 3, 42])
def test_train_and_test_equal_sklearn_split(seed):
    reference = load_digits()
    x_train, x_test, y_train, y_test = train_test_split(
        reference.data, reference.target, test_size=0.2, stratify=reference.target,
        random_state=seed)
    train, test = digits(train=True, seed=seed), digits(train=False, seed=seed)
    assert isinstance(train, TensorDataset)
    assert (len(train), len(test)) == (1437, 360)
    np.testing.assert_array_equal(train.tensors[0].data, (x_train / 16).astype(np.float32))
    np.testing.assert_array_equal(train.tensors[1].data, y_train)
    np.testing.assert_array_equal(test.tensors[0].data, (x_test / 16).astype(np.float32))
    np.testing.assert_array_equal(test.tensors[1].data, y_test)


def test_split_is_class_balanced_and_a_partition():
    _, y_all = _arrays(digits())
    x_train, y_train = _arrays(digits(train=True))
    x_test, y_test = _arrays(digits(train=False))
    share = np.bincount(y_all) / len(y_all)
    assert np.all(np.abs(np.bincount(y_test, minlength=10) - share * 360) < 1)
    assert np.all(np.abs(np.bincount(y_train, minlength=10) - share * 1437) < 1)
    # together the two sets hold every image exactly as often as the full data does
    x_all = _arrays(digits())[0]
    assert sorted(map(bytes, np.concatenate([x_train, x_test]))) == sorted(map(bytes, x_all))


def test_different_seeds_give_different_splits():
    a, b = digits(train=False, seed=0), digits(train=False, seed=1)
    assert not np.array_equal(a.tensors[1].data, b.tensors[1].data)


def test_returned_tensors_are_independent_copies():
    first = digits()
    first.tensors[0].data[:] = -1.0
    assert digits().tensors[0].data.min() == 0.0


def test_digits_do_not_need_sklearn_at_runtime():
    code = ("import sys; import chainrule.data.datasets as D; D.digits(train=True); "
            "assert 'sklearn' not in sys.modules, 'sklearn was imported'")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("kwargs, message", [
    ({"train": "yes"}, "train must be None, True or False, got 'yes'"),
    ({"train": 1}, "train must be None, True or False, got 1"),
    ({"seed": 0.5}, "seed must be an int, got float"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(TypeError, match=message):
        digits(**kwargs)
