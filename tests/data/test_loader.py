"""DataLoader: batch contents and sizes, drop_last, reproducible shuffling,
generic datasets, and argument checks."""
import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.data import DataLoader, Dataset, TensorDataset


def _indexed(n):
    """Dataset whose row i holds i, so a batch shows which rows it took."""
    x = cr.from_numpy(np.arange(n, dtype=np.float32)[:, None] * np.ones(3, np.float32))
    return TensorDataset(x, cr.from_numpy(np.arange(n)))


def _orders(loader):
    return np.concatenate([y.data for _, y in loader])


class Squares(Dataset):
    """A generic dataset returning a mix of sample types."""

    def __init__(self, n):
        self.n = n

    def __getitem__(self, i):
        return cr.tensor([float(i), float(i * i)]), i, {"half": i / 2}

    def __len__(self):
        return self.n


def test_batches_in_order_with_short_last_batch():
    loader = DataLoader(_indexed(10), batch_size=4)
    batches = list(loader)
    assert len(loader) == len(batches) == 3
    assert [b[0].shape for b in batches] == [(4, 3), (4, 3), (2, 3)]
    assert all(isinstance(t, cr.Tensor) for b in batches for t in b)
    assert batches[0][0].dtype == np.float32 and batches[0][1].dtype == np.int64
    np.testing.assert_array_equal(_orders(loader), np.arange(10))
    np.testing.assert_array_equal(batches[2][0].data, [[8.0] * 3, [9.0] * 3])


def test_drop_last():
    loader = DataLoader(_indexed(10), batch_size=4, drop_last=True)
    assert len(loader) == 2
    assert [y.shape[0] for _, y in loader] == [4, 4]
    exact = DataLoader(_indexed(8), batch_size=4, drop_last=True)
    assert len(exact) == 2 and len(list(exact)) == 2


def test_batches_are_copies_without_graph():
    x = cr.from_numpy(np.zeros((4, 2)))
    x.requires_grad_(True)
    (batch,) = next(iter(DataLoader(TensorDataset(x), batch_size=4)))
    assert batch.grad_fn is None and not batch.requires_grad
    batch.data[:] = 7.0
    np.testing.assert_array_equal(x.data, 0.0)


def test_shuffle_visits_every_row_once_per_epoch():
    loader = DataLoader(_indexed(23), batch_size=5, shuffle=True, seed=3)
    for _ in range(3):
        order = _orders(loader)
        np.testing.assert_array_equal(np.sort(order), np.arange(23))


def test_same_seed_same_order_and_epochs_differ():
    first = DataLoader(_indexed(50), batch_size=8, shuffle=True, seed=11)
    second = DataLoader(_indexed(50), batch_size=8, shuffle=True, seed=11)
    epoch1, epoch2 = _orders(first), _orders(first)
    assert not np.array_equal(epoch1, epoch2)
    np.testing.assert_array_equal(_orders(second), epoch1)
    np.testing.assert_array_equal(_orders(second), epoch2)
    other = DataLoader(_indexed(50), batch_size=8, shuffle=True, seed=12)
    assert not np.array_equal(_orders(other), epoch1)


def test_manual_seed_controls_loader_without_seed():
    cr.manual_seed(5)
    a = DataLoader(_indexed(50), batch_size=8, shuffle=True)
    after_a = cr.randn(3).data
    cr.manual_seed(5)
    b = DataLoader(_indexed(50), batch_size=8, shuffle=True)
    after_b = cr.randn(3).data
    np.testing.assert_array_equal(_orders(a), _orders(b))
    # spawning the loader's generator leaves the global stream where it was
    cr.manual_seed(5)
    np.testing.assert_array_equal(cr.randn(3).data, after_a)
    np.testing.assert_array_equal(after_a, after_b)
    cr.manual_seed(6)
    c = DataLoader(_indexed(50), batch_size=8, shuffle=True)
    assert not np.array_equal(_orders(c), _orders(a))


def test_two_unseeded_loaders_get_different_streams():
    cr.manual_seed(0)
    a = DataLoader(_indexed(50), shuffle=True)
    b = DataLoader(_indexed(50), shuffle=True)
    assert not np.array_equal(_orders(a), _orders(b))


def test_generic_dataset_is_stacked_by_structure():
    batches = list(DataLoader(Squares(5), batch_size=2))
    assert len(batches) == 3
    pairs, ints, halves = batches[1]
    np.testing.assert_array_equal(pairs.data, [[2.0, 4.0], [3.0, 9.0]])
    assert pairs.dtype == np.float32
    np.testing.assert_array_equal(ints.data, [2, 3])
    assert ints.dtype == np.int64
    assert isinstance(halves, dict)
    np.testing.assert_array_equal(halves["half"].data, [1.0, 1.5])
    assert batches[2][0].shape == (1, 2)


def test_generic_dataset_shuffles_like_tensor_dataset():
    class Rows(Dataset):
        def __getitem__(self, i):
            return np.array([i]), np.int64(i)

        def __len__(self):
            return 30

    generic = np.concatenate([y.data for _, y in DataLoader(Rows(), 7, shuffle=True, seed=2)])
    tensor = _orders(DataLoader(_indexed(30), 7, shuffle=True, seed=2))
    np.testing.assert_array_equal(generic, tensor)


def test_empty_dataset_yields_nothing():
    loader = DataLoader(_indexed(0), batch_size=3, shuffle=True, seed=0)
    assert len(loader) == 0 and list(loader) == []


def test_mismatched_samples_are_rejected():
    class Ragged(Dataset):
        def __getitem__(self, i):
            return np.zeros(i + 1)

        def __len__(self):
            return 3

    with pytest.raises(ValueError, match=r"cannot stack samples of shapes \[\(1,\), \(2,\)\]"):
        next(iter(DataLoader(Ragged(), batch_size=2)))

    class Strings(Dataset):
        def __getitem__(self, i):
            return "abc"

        def __len__(self):
            return 2

    with pytest.raises(TypeError, match="cannot batch samples of type str"):
        next(iter(DataLoader(Strings(), batch_size=2)))


@pytest.mark.parametrize("kwargs, error, message", [
    ({"batch_size": 0}, ValueError, "batch_size must be >= 1, got 0"),
    ({"batch_size": -2}, ValueError, "batch_size must be >= 1, got -2"),
    ({"batch_size": 2.0}, TypeError, "batch_size must be an int, got float"),
    ({"batch_size": True}, TypeError, "batch_size must be an int, got bool"),
    ({"shuffle": 1}, TypeError, "shuffle must be True or False"),
    ({"drop_last": "yes"}, TypeError, "drop_last must be True or False"),
    ({"seed": 1.5}, TypeError, "seed must be an int"),
    ({"seed": -1}, ValueError, "seed must be >= 0"),
])
def test_bad_arguments_name_the_argument(kwargs, error, message):
    with pytest.raises(error, match=message):
        DataLoader(_indexed(4), **kwargs)


def test_dataset_must_be_indexable():
    with pytest.raises(TypeError, match="dataset must define __len__ and __getitem__, got int"):
        DataLoader(5)


@pytest.mark.parametrize("n, batch_size, drop_last",
                         [(10, 3, False), (10, 3, True), (9, 3, True), (2, 5, False),
                          (2, 5, True), (7, 1, False)])
def test_unshuffled_batches_match_pytorch(n, batch_size, drop_last):
    x = np.random.default_rng(0).standard_normal((n, 2))
    y = np.arange(n)
    ours = list(DataLoader(TensorDataset(cr.from_numpy(x), cr.from_numpy(y)),
                           batch_size=batch_size, drop_last=drop_last))
    theirs = list(torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)),
        batch_size=batch_size, drop_last=drop_last))
    assert len(ours) == len(theirs)
    for (ox, oy), (tx, ty) in zip(ours, theirs):
        np.testing.assert_array_equal(ox.data, tx.numpy())
        np.testing.assert_array_equal(oy.data, ty.numpy())
