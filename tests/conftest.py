"""Shared test setup.

* ``tests/`` is put on ``sys.path`` so test modules anywhere below import the
  shared helpers by name (``from oracle import ORACLE``, ``import strategies``).
* PyTorch, the test oracle, runs on one thread: the tensors in tests are tiny,
  so threads only add start-up cost, and the machine's cores are shared.
  Comparisons never rely on PyTorch's default dtype: ``oracle.to_torch`` keeps
  each array's own dtype, so a float64 array is compared in float64.
* hypothesis runs without a deadline (timings on a shared machine are noise)
  and derandomized, so a failure reproduces on the next run without a local
  example database.
"""
import os
import sys
import zlib

import numpy as np
import pytest
import torch
from hypothesis import settings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

torch.set_num_threads(1)

settings.register_profile("chainrule", deadline=None, derandomize=True, database=None)
settings.load_profile("chainrule")


@pytest.fixture
def rng(request):
    """A NumPy Generator seeded from the test's id: reproducible, and different
    from test to test."""
    return np.random.default_rng(zlib.crc32(request.node.nodeid.encode()))
