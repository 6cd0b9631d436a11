"""``Dataset`` (the interface) and ``TensorDataset`` (rows of tensors).

A dataset is anything with ``len(ds)`` and ``ds[i]``; the ``DataLoader``
turns it into batches. ``TensorDataset`` is the common case: several
tensors that share their first dimension, ``ds[i]`` being the tuple of
their ``i``-th rows.
"""
from abc import ABC, abstractmethod

from ..tensor import Tensor


class Dataset(ABC):
    """A map from indices ``0 .. len(self) - 1`` to samples.

    Subclasses define ``__getitem__(index)`` and ``__len__()``. A sample may be
    a Tensor, a NumPy array, a Python number, or a tuple, list or dict of those;
    the ``DataLoader`` stacks samples of the same structure into a batch.
    """

    @abstractmethod
    def __getitem__(self, index):
        """The sample at ``index``."""

    @abstractmethod
    def __len__(self):
        """The number of samples."""


class TensorDataset(Dataset):
    """Samples are rows: ``ds[i] == tuple(t[i] for t in ds.tensors)``.

    Every tensor must have at least one dimension and the same size along the
    first one (the sample dimension), as in ``torch.utils.data.TensorDataset``.
    The tensors are kept as given, not copied.
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: needs at least one tensor, got none")
        for position, t in enumerate(tensors):
            if not isinstance(t, Tensor):
                raise TypeError(
                    f"TensorDataset: argument {position} is a {type(t).__name__}, not a "
                    f"Tensor; wrap arrays with cr.from_numpy(array) or cr.tensor(data)")
            if t.ndim == 0:
                raise ValueError(
                    f"TensorDataset: argument {position} is a 0-d tensor; every tensor needs "
                    f"a first (sample) dimension")
        sizes = [t.shape[0] for t in tensors]
        if len(set(sizes)) > 1:
            shapes = ", ".join(str(tuple(t.shape)) for t in tensors)
            raise ValueError(
                f"TensorDataset: tensors must have the same size in their first dimension, "
                f"got sizes {sizes} (shapes {shapes})")
        self.tensors = tuple(tensors)

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]

    def __repr__(self):
        shapes = ", ".join(str(tuple(t.shape)) for t in self.tensors)
        return f"TensorDataset({len(self)} samples; shapes {shapes})"
