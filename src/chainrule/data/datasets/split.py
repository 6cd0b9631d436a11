"""A stratified train/test split, index for index the one scikit-learn makes.

``stratified_split(labels, test_size, seed)`` returns the same ``(train,
test)`` index arrays as scikit-learn's ``train_test_split(...,
test_size=test_size, stratify=labels, random_state=seed)`` (the
``StratifiedShuffleSplit`` algorithm), so ``digits(train=True)`` matches what
a scikit-learn user gets, without scikit-learn installed. The algorithm:

1. Sizes: ``n_test = ceil(test_size * n)`` for a fraction (or ``test_size``
   itself for an int), ``n_train = n - n_test``.
2. Per-class quotas: class ``c`` with ``n_c`` members gets
   ``floor(n_c / n * n_train)`` training rows; the rows still missing go one
   each to the classes with the largest fractional remainders, ties broken
   by a random choice. The test quotas are apportioned the same way from the
   members each class has left.
3. Per class (in sorted label order), a random permutation of its members:
   the first quota go to train, the next to test.
4. Both index lists are shuffled.

All draws come, in this order, from one legacy ``numpy.random.RandomState``
seeded with ``seed``: matching scikit-learn exactly requires its stream,
which differs from ``numpy.random.Generator``'s.
"""
import math

import numpy as np


def _apportion(counts, total, rng):
    """Split ``total`` draws among classes of sizes ``counts``, near proportionally.

    This is the floor-then-largest-remainder rule; it is written with the same
    floating-point expression as scikit-learn's, because a remainder tie
    (compared with ``==``) decides whether a random draw happens at all.
    """
    continuous = counts / counts.sum() * total
    quota = np.floor(continuous)
    missing = int(total - quota.sum())
    remainder = continuous - quota
    for value in np.unique(remainder)[::-1]:     # largest remainders first
        if missing == 0:
            break
        (tied,) = np.where(remainder == value)
        take = min(len(tied), missing)
        quota[rng.choice(tied, size=take, replace=False)] += 1
        missing -= take
    return quota.astype(np.int64)


def _test_count(test_size, n):
    if isinstance(test_size, (bool, np.bool_)):
        raise TypeError(f"stratified_split: test_size must be a fraction or a count, got "
                        f"{test_size!r}")
    if isinstance(test_size, (int, np.integer)):
        if not 0 < test_size < n:
            raise ValueError(f"stratified_split: test_size={test_size} must be between 1 and "
                             f"{n - 1} for {n} samples")
        return int(test_size)
    if isinstance(test_size, (float, np.floating)):
        if not 0.0 < test_size < 1.0:
            raise ValueError(f"stratified_split: a fractional test_size must be in (0, 1), got "
                             f"{test_size}")
        n_test = math.ceil(test_size * n)
        if n_test >= n:
            raise ValueError(f"stratified_split: test_size={test_size} leaves no training "
                             f"samples out of {n}")
        return n_test
    raise TypeError(f"stratified_split: test_size must be a float fraction or an int count, "
                    f"got {type(test_size).__name__}")


def stratified_split(labels, test_size=0.2, seed=0):
    """Indices ``(train, test)`` of a stratified random split of ``labels``.

    Args:
        labels: 1-D array of class labels (any sortable values).
        test_size: fraction of the samples (rounded up) or number of samples
            for the test set.
        seed: int seed of the ``RandomState`` that makes every random choice.

    Returns:
        Two int64 arrays of indices into ``labels``, in random order.
    """
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"stratified_split: labels must be 1-D, got shape {labels.shape}")
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"stratified_split: seed must be an int, got {type(seed).__name__}")
    n = labels.shape[0]
    n_test = _test_count(test_size, n)
    n_train = n - n_test

    classes, class_of, counts = np.unique(labels, return_inverse=True, return_counts=True)
    if counts.min() < 2:
        raise ValueError(f"stratified_split: every class needs at least 2 members; classes "
                         f"{classes[counts < 2].tolist()} have 1")
    for name, size in (("train", n_train), ("test", n_test)):
        if size < len(classes):
            raise ValueError(f"stratified_split: the {name} set of {size} samples cannot hold "
                             f"one of each of the {len(classes)} classes")

    # members of each class, in index order
    members = np.split(np.argsort(class_of, kind="stable"), np.cumsum(counts)[:-1])

    rng = np.random.RandomState(seed)
    train_quota = _apportion(counts, n_train, rng)
    test_quota = _apportion(counts - train_quota, n_test, rng)
    train, test = [], []
    for rows, k_train, k_test in zip(members, train_quota, test_quota):
        shuffled = rows[rng.permutation(len(rows))]
        train.append(shuffled[:k_train])
        test.append(shuffled[k_train:k_train + k_test])
    train = rng.permutation(np.concatenate(train)).astype(np.int64)
    test = rng.permutation(np.concatenate(test)).astype(np.int64)
    return train, test
