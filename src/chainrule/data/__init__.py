"""Feeding data to a model: ``Dataset``, ``TensorDataset``, ``DataLoader``."""
from .dataset import Dataset, TensorDataset  # noqa: F401
from .loader import DataLoader  # noqa: F401

__all__ = ["DataLoader", "Dataset", "TensorDataset"]
