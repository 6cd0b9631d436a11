"""Ready-made datasets, each a ``TensorDataset`` of ``(inputs, targets)``.

``digits`` is embedded (no download); ``mnist`` reads IDX files from disk and
downloads only when asked.
"""
from .digits import digits  # noqa: F401
from .mnist import mnist  # noqa: F401

__all__ = ["digits", "mnist"]
