"""The global random generator, seeded by ``cr.manual_seed``.

Every random draw in chainrule (``cr.randn``, dropout masks, weight
initialisation, DataLoader shuffling when no seed is given) comes from one
``numpy.random.Generator``, so one call to ``manual_seed`` makes a whole run
reproducible.
"""
import numpy as np

_state = {"generator": np.random.default_rng()}


def manual_seed(seed):
    """Seed the global generator; returns it, as PyTorch returns its Generator."""
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"manual_seed: seed must be an int, got {type(seed).__name__}")
    _state["generator"] = np.random.default_rng(int(seed))
    return _state["generator"]


def default_generator():
    """The global ``numpy.random.Generator`` (replaced by each ``manual_seed``)."""
    return _state["generator"]
