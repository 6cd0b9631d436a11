"""``embedding``: a lookup table, row ``i`` of the weight for index ``i``."""
import numpy as np

from ... import ops
from ...tensor import Tensor

__all__ = ["embedding"]


def check_indices(name, indices, size):
    """The integer array behind ``indices``, checked to lie in [0, size)."""
    idx = indices.data if isinstance(indices, Tensor) else np.asarray(indices)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{name}: indices must be an integer tensor (int64), got dtype "
                        f"{idx.dtype}; convert with .long()")
    if idx.size and (idx.min() < 0 or idx.max() >= size):
        bad = idx.min() if idx.min() < 0 else idx.max()
        raise IndexError(f"{name}: index {bad} is out of range for a table of {size} rows "
                         f"(valid indices are 0 to {size - 1})")
    return idx


def normalize_padding_idx(name, padding_idx, size):
    if padding_idx is None:
        return None
    if not -size <= padding_idx < size:
        raise ValueError(f"{name}: padding_idx {padding_idx} must be in [-{size}, {size - 1}] "
                         f"for a table of {size} rows")
    return padding_idx % size


def embedding(input, weight, padding_idx=None):
    """out[..., :] = weight[input[...], :], for integer ``input`` of any shape.

    Gradient: each row receives the sum of the gradients of the positions
    that looked it up (repeated indices accumulate). The row ``padding_idx``
    receives no gradient: its positions output the row's value but pass it
    on detached.
    """
    if weight.ndim != 2:
        raise ValueError(f"embedding: weight must be 2-D (num_embeddings, embedding_dim), "
                         f"got shape {tuple(weight.shape)}")
    idx = check_indices("embedding", input, weight.shape[0])
    padding_idx = normalize_padding_idx("embedding", padding_idx, weight.shape[0])
    rows = weight[idx]
    if padding_idx is None:
        return rows
    keep = (idx != padding_idx)[..., None]
    return ops.where(keep, rows, rows.detach())
