"""The 8x8 handwritten digits that scikit-learn ships, embedded in chainrule.

``digits.csv.gz`` (1,797 rows: 64 pixel counts in 0..16, then the label) is
the test part of the UCI "Optical Recognition of Handwritten Digits" data
(E. Alpaydin and C. Kaynak, 1998), copied unchanged from scikit-learn 1.9.1
(``sklearn/datasets/data/digits.csv.gz``), which distributes it under the
BSD 3-Clause licence, Copyright (c) 2007-2026 The scikit-learn developers;
see README.md here.
Embedding it lets every example run offline without scikit-learn.
"""
import functools
import gzip
from importlib import resources

import numpy as np

import chainrule as cr
from ..dataset import TensorDataset
from .split import stratified_split


@functools.lru_cache(maxsize=1)
def _load_table():
    """The raw table as int64, parsed once per process (read-only: callers copy)."""
    with resources.files(__package__).joinpath("digits.csv.gz").open("rb") as raw:
        with gzip.open(raw, "rt") as text:
            table = np.loadtxt(text, delimiter=",", dtype=np.int64)
    table.flags.writeable = False
    return table


def digits(train=None, seed=0):
    """The digits as a ``TensorDataset`` of ``(inputs, targets)``.

    inputs: float32 of shape (N, 64), the 8x8 image in row-major order, each
    pixel count divided by 16 so values lie in [0, 1]. targets: int64 labels
    0..9 of shape (N,).

    Args:
        train: ``None`` for all 1,797 samples; ``True`` for the 1,437 training
            and ``False`` for the 360 test samples of scikit-learn's
            ``train_test_split(X, y, test_size=0.2, stratify=y,
            random_state=seed)``, in that function's order.
        seed: int seed of the split (ignored when ``train`` is ``None``).
    """
    if train is not None and not isinstance(train, (bool, np.bool_)):
        raise TypeError(f"digits: train must be None, True or False, got {train!r}")
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"digits: seed must be an int, got {type(seed).__name__} {seed!r}")
    table = _load_table()
    pixels, labels = table[:, :64], table[:, 64]
    if train is not None:
        train_rows, test_rows = stratified_split(labels, test_size=0.2, seed=int(seed))
        rows = train_rows if train else test_rows
        pixels, labels = pixels[rows], labels[rows]
    inputs = (pixels / 16.0).astype(np.float32)
    return TensorDataset(cr.from_numpy(inputs), cr.from_numpy(labels.astype(np.int64)))
