"""Ready-made datasets, each a ``TensorDataset`` of ``(inputs, targets)``.

``digits`` is embedded (no download); ``mnist`` reads IDX files from disk and
downloads only when asked; the rest are generated from a seed.
"""
from .adding import adding_problem  # noqa: F401
from .digits import digits  # noqa: F401
from .mnist import mnist  # noqa: F401
from .synthetic import moons, spirals, symmetry, xor  # noqa: F401

__all__ = ["adding_problem", "digits", "mnist", "moons", "spirals", "symmetry", "xor"]
