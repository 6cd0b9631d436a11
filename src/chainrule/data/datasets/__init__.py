"""Ready-made datasets, each a ``TensorDataset`` of ``(inputs, targets)``.

``digits`` is embedded (no download).
"""
from .digits import digits  # noqa: F401

__all__ = ["digits"]
