"""Feeding data to a model: ``Dataset``, ``TensorDataset``, ``DataLoader``, and
ready-made datasets in ``chainrule.data.datasets``."""
from .dataset import Dataset, TensorDataset  # noqa: F401
from .loader import DataLoader  # noqa: F401
from . import datasets  # noqa: F401

__all__ = ["DataLoader", "Dataset", "TensorDataset", "datasets"]
