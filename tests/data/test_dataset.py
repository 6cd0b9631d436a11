"""Dataset and TensorDataset: rows, lengths, and the errors for bad tensors."""
import numpy as np
import pytest

import chainrule as cr
from chainrule.data import Dataset, TensorDataset


def test_dataset_is_abstract():
    with pytest.raises(TypeError, match="abstract"):
        Dataset()


def test_tensor_dataset_rows_and_length():
    x = cr.from_numpy(np.arange(12.0).reshape(4, 3))
    y = cr.from_numpy(np.array([3, 1, 4, 1]))
    ds = TensorDataset(x, y)
    assert len(ds) == 4
    assert ds.tensors[0] is x and ds.tensors[1] is y
    row_x, row_y = ds[2]
    np.testing.assert_array_equal(row_x.data, [6.0, 7.0, 8.0])
    assert row_y.item() == 4
    sliced_x, _ = ds[1:3]
    assert sliced_x.shape == (2, 3)


def test_tensor_dataset_rejects_different_first_sizes():
    with pytest.raises(ValueError, match=r"same size in their first dimension, got sizes \[4, 5\]"):
        TensorDataset(cr.zeros(4, 2), cr.zeros(5))


def test_tensor_dataset_rejects_arrays_and_scalars():
    with pytest.raises(TypeError, match=r"argument 1 is a ndarray.*cr.from_numpy"):
        TensorDataset(cr.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match="argument 0 is a 0-d tensor"):
        TensorDataset(cr.tensor(1.0))
    with pytest.raises(ValueError, match="at least one tensor"):
        TensorDataset()
