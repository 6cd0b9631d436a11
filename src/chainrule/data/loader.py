"""``DataLoader``: batches from a dataset, optionally shuffled, reproducibly.

Shuffling: the loader owns one ``numpy.random.Generator``, made once when the
loader is made, and draws a fresh permutation from it at the start of every
pass. So two runs with the same seed see the same batches in the same order,
while epoch 2 sees a different order from epoch 1. The generator comes from
``seed`` when given; otherwise it is *spawned* from the global generator that
``cr.manual_seed`` seeds. Spawning derives an independent child stream
without drawing from the parent, so making a loader does not shift the
random numbers that later weight initialisation or dropout will see.
"""
import math

import numpy as np

import chainrule as cr
from ..random import default_generator
from ..tensor import Tensor
from .dataset import TensorDataset


def _check_flag(name, value):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"DataLoader: {name} must be True or False, got {value!r}")
    return bool(value)


def _check_int(name, value, minimum):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"DataLoader: {name} must be an int, got {type(value).__name__} "
                        f"{value!r}")
    if value < minimum:
        raise ValueError(f"DataLoader: {name} must be >= {minimum}, got {value}")
    return int(value)


class DataLoader:
    """Iterate over ``dataset`` in batches of ``batch_size`` samples.

    Each batch has the structure of one sample with a new first dimension of
    length ``batch_size`` (the last batch may be shorter unless
    ``drop_last=True``): a ``TensorDataset`` of ``(inputs, targets)`` yields
    ``(inputs_batch, targets_batch)`` tuples of Tensors.

    Batches are new leaf tensors holding copies of the rows: they carry no
    graph back to the dataset, and editing a batch in place leaves the
    dataset alone.

    Args:
        dataset: a ``Dataset`` (or any object with ``__len__`` and
            ``__getitem__``).
        batch_size: samples per batch, a positive int.
        shuffle: visit the samples in a new random order on every pass.
        drop_last: skip the final batch when it is shorter than ``batch_size``.
        seed: seed of the shuffling generator; ``None`` spawns it from the
            global generator (``cr.manual_seed``) when the loader is made.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, seed=None):
        if not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
            raise TypeError(f"DataLoader: dataset must define __len__ and __getitem__, got "
                            f"{type(dataset).__name__}")
        self.dataset = dataset
        self.batch_size = _check_int("batch_size", batch_size, 1)
        self.shuffle = _check_flag("shuffle", shuffle)
        self.drop_last = _check_flag("drop_last", drop_last)
        if seed is not None:
            seed = _check_int("seed", seed, 0)
        self.seed = seed
        self._generator = None
        if self.shuffle:
            self._generator = (np.random.default_rng(seed) if seed is not None
                               else default_generator().spawn(1)[0])

    def __len__(self):
        """Batches per pass."""
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self):
        n = len(self.dataset)
        order = self._generator.permutation(n) if self.shuffle else np.arange(n)
        stop = n - n % self.batch_size if self.drop_last else n
        for start in range(0, stop, self.batch_size):
            yield self._fetch(order[start:start + self.batch_size])

    def _fetch(self, indices):
        if isinstance(self.dataset, TensorDataset):
            # one fancy-indexing call per tensor instead of one Python call per sample
            return tuple(cr.from_numpy(t.data[indices]) for t in self.dataset.tensors)
        return collate([self.dataset[int(i)] for i in indices])

    def __repr__(self):
        return (f"DataLoader({type(self.dataset).__name__} of {len(self.dataset)}, "
                f"batch_size={self.batch_size}, shuffle={self.shuffle}, "
                f"drop_last={self.drop_last}, seed={self.seed})")


def collate(samples):
    """Stack a list of samples of one structure into a batch.

    Tensors, arrays and NumPy scalars are stacked along a new first dimension
    (dtype kept); Python numbers become a 1-D tensor with ``cr.tensor``'s
    dtypes (floats float32, ints int64); tuples, lists and dicts are collated
    field by field and keep their type.
    """
    first = samples[0]
    if isinstance(first, (tuple, list)):
        lengths = {len(s) for s in samples}
        if len(lengths) > 1:
            raise ValueError(f"DataLoader: samples in one batch have different lengths "
                             f"{sorted(lengths)}; every sample must have the same structure")
        return type(first)(collate(list(field)) for field in zip(*samples))
    if isinstance(first, dict):
        return {key: collate([s[key] for s in samples]) for key in first}
    if isinstance(first, (Tensor, np.ndarray, np.generic)):
        arrays = [s.data if isinstance(s, Tensor) else np.asarray(s) for s in samples]
        shapes = {a.shape for a in arrays}
        if len(shapes) > 1:
            raise ValueError(f"DataLoader: cannot stack samples of shapes "
                             f"{sorted(shapes)} into one batch; samples must share a shape")
        return cr.from_numpy(np.stack(arrays))
    if isinstance(first, (bool, int, float)):
        return cr.tensor(samples)
    raise TypeError(f"DataLoader: cannot batch samples of type {type(first).__name__}; "
                    f"return Tensors, arrays, numbers, or tuples/lists/dicts of them")
