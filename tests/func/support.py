"""Shared helpers for the cr.func tests: nested results compared with PyTorch's."""
import numpy as np
import torch

import chainrule as cr
from chainrule.func import pytree

RTOL, ATOL = 1e-10, 1e-12


def assert_tree_close(ours, theirs, rtol=RTOL, atol=ATOL):
    """Same nesting (tuples, lists, dicts), every leaf a chainrule Tensor
    equal to the torch tensor in its place, with the same shape and dtype."""
    our_leaves, our_spec = pytree.flatten(ours)
    their_leaves, their_spec = pytree.flatten(theirs)
    assert our_spec == their_spec, f"structure {our_spec!r}, torch gives {their_spec!r}"
    for k, (a, b) in enumerate(zip(our_leaves, their_leaves)):
        assert isinstance(a, cr.Tensor), f"leaf {k} is a {type(a).__name__}, not a Tensor"
        b = b.detach().numpy()
        assert a.shape == b.shape, f"leaf {k}: shape {a.shape}, torch {b.shape}"
        assert a.dtype == b.dtype, f"leaf {k}: dtype {a.dtype}, torch {b.dtype}"
        np.testing.assert_allclose(a.data, b, rtol=rtol, atol=atol, err_msg=f"leaf {k}")


def torch_tree(tree):
    """A nested structure of arrays as torch tensors (copies, same dtype)."""
    return pytree.tree_map(lambda a: torch.from_numpy(np.array(a, copy=True)), tree)
