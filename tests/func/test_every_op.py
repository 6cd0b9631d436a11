"""Every registered op through cr.func's forward mode, against PyTorch.

``tests/ops/test_registry_ops.py`` checks each op's ``jvp`` rule against its
``vjp`` rule by calling them directly on a recorded node. Here the same
samples go through the transforms instead, as a user's function would:

* ``jvp``: true forward mode (dual tensors; the ops compute tangents while
  they run, with nothing recorded for reverse mode), against
  ``torch.autograd.functional.jvp``;
* ``hvp``: forward over reverse on <w, op(x)> for a random w: the backward
  formulas of the op run as recorded ops while a dual level is open, so
  every tangent must flow through them (including through the outputs and
  inputs they read from ctx); against ``torch.autograd.functional.hvp``.

Float arrays among the op's positional inputs are differentiated; other
positional inputs (indices, masks) are constants.
"""
import zlib

import numpy as np
import pytest
import torch

from chainrule import func
from chainrule.cli.gradcheck import load_registry
from func.support import assert_tree_close
from oracle import ORACLE, to_torch

REGISTRY = load_registry()
CASES = []
for _name in sorted(REGISTRY):
    _samples = REGISTRY[_name].samples(np.random.default_rng(zlib.crc32(_name.encode())))
    CASES += [pytest.param(_name, k, inputs, params, id=f"{_name}-{k}")
              for k, (inputs, params) in enumerate(_samples)]


def _float_positions(inputs):
    return [i for i, a in enumerate(inputs) if isinstance(a, np.ndarray) and a.dtype.kind == "f"]


def _twins(name, inputs, params, only=None):
    """The op as a function of its float inputs (or of input ``only`` alone,
    the others then constants), in chainrule and in torch; and those inputs."""
    op = REGISTRY[name]
    diff = _float_positions(inputs) if only is None else [only]

    def ours(*xs):
        full = list(inputs)
        for i, x in zip(diff, xs):
            full[i] = x
        return op(*full, **params)

    def theirs(*xs):
        full = [to_torch(a) for a in inputs]
        for i, x in zip(diff, xs):
            full[i] = x
        return ORACLE[name](*full, **params)

    return ours, theirs, [inputs[i] for i in diff]


def _torch(arrays):
    return tuple(to_torch(a) for a in arrays)


@pytest.mark.parametrize("name, k, inputs, params", CASES)
def test_jvp_matches_torch(name, k, inputs, params, rng):
    ours, theirs, xs = _twins(name, inputs, params)
    us = [rng.standard_normal(x.shape) for x in xs]
    result = func.jvp(ours, tuple(xs), tuple(us))
    expected = torch.autograd.functional.jvp(theirs, _torch(xs), _torch(us))
    assert_tree_close(result, expected)


MULTI = [c for c in CASES if len(_float_positions(c.values[2])) > 1]


@pytest.mark.parametrize("name, k, inputs, params", MULTI)
def test_jvp_with_one_input_carrying_a_tangent(name, k, inputs, params, rng):
    """The others are constants: a rule must still give a tangent of the
    output's full shape (x + b with a tangent on the bias b alone)."""
    for only in _float_positions(inputs):
        ours, theirs, xs = _twins(name, inputs, params, only)
        us = [rng.standard_normal(x.shape) for x in xs]
        result = func.jvp(ours, tuple(xs), tuple(us))
        expected = torch.autograd.functional.jvp(theirs, _torch(xs), _torch(us))
        assert_tree_close(result, expected)


@pytest.mark.parametrize("name, k, inputs, params", CASES)
def test_hvp_matches_torch(name, k, inputs, params, rng):
    ours, theirs, xs = _twins(name, inputs, params)
    out = ours(*xs)
    outs = out if isinstance(out, (tuple, list)) else (out,)
    ws = [rng.standard_normal(o.shape) for o in outs]
    us = [rng.standard_normal(x.shape) for x in xs]

    def weighted(f, weights):
        # <outputs, w> summed over every output, so multi-output gates are covered too
        def scalar(*a):
            res = f(*a)
            res = res if isinstance(res, (tuple, list)) else (res,)
            return sum((r * w).sum() for r, w in zip(res, weights))
        return scalar

    result = func.hvp(weighted(ours, ws), tuple(xs), tuple(us))
    expected = torch.autograd.functional.hvp(weighted(theirs, [torch.from_numpy(w) for w in ws]),
                                             _torch(xs), _torch(us))
    assert_tree_close(result, expected)


def test_where_with_one_branch_carrying_a_tangent_and_a_small_condition(rng):
    """cond (3,) and y (3,) broadcast against x (2, 3): the tangent of y alone
    still gives a (2, 3) output tangent."""
    cond = np.array([True, False, True])
    x, y, u = rng.standard_normal((2, 3)), rng.standard_normal(3), rng.standard_normal(3)
    result = func.jvp(lambda b: REGISTRY["where"](cond, x, b), (y,), (u,))
    expected = torch.autograd.functional.jvp(
        lambda b: torch.where(to_torch(cond), to_torch(x), b), _torch([y]), _torch([u]))
    assert_tree_close(result, expected)
