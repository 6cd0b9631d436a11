"""What a transform is given: ``argnums``, values to turn into Tensors, and
``(output, aux)`` pairs. Every error names the transform, the argument and
the fix.
"""
import numbers

import numpy as np

from .. import dtypes
from ..creation import tensor
from ..tensor import Tensor
from . import pytree


def normalize_argnums(argnums, n_args, where):
    """``(positions, many)``: the non-negative positions ``argnums`` names
    among ``n_args`` positional arguments, and whether it was a tuple (then
    the transform returns one result per position)."""
    many = isinstance(argnums, tuple)
    items = argnums if many else (argnums,)
    if many and not items:
        raise ValueError(f"{where}: argnums=() names no argument; give an int or a "
                         f"non-empty tuple of ints")
    positions = []
    for a in items:
        if isinstance(a, bool) or not isinstance(a, (int, np.integer)):
            raise TypeError(f"{where}: argnums must be an int or a tuple of ints, got "
                            f"{argnums!r}")
        if not -n_args <= a < n_args:
            valid = (f"0 to {n_args - 1}, or -{n_args} to -1" if n_args
                     else "none: f was called with no positional argument")
            raise ValueError(f"{where}: argnums={a} is out of range: f was called with "
                             f"{n_args} positional argument(s) (valid: {valid})")
        p = int(a) % n_args
        if p in positions:
            raise ValueError(f"{where}: argnums={argnums!r} names argument {p} twice")
        positions.append(p)
    return tuple(positions), many


def to_tensor(value, where, what):
    """``value`` as a Tensor: a Tensor as it is, a NumPy array or scalar in
    its own dtype, a Python float (or list of floats) in the default dtype
    (``cr.get_default_dtype()``), as ``cr.tensor`` does."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (np.ndarray, np.generic)):
        return Tensor(np.asarray(value))
    if isinstance(value, (numbers.Number, list)) and not isinstance(value, complex):
        return tensor(value)
    raise TypeError(f"{where}: {what} is a {type(value).__name__}; expected a Tensor, a NumPy "
                    f"array, a float, or tuples, lists and dicts of them")


def check_floating(t, where, what):
    """Only floating-point values have derivatives."""
    if not dtypes.is_floating(t.dtype):
        raise TypeError(f"{where}: {what} has dtype {t.dtype}; only floating-point inputs "
                        f"can be differentiated. Pass floats (1.0, not 1) or convert with "
                        f".double() / .float() (a NumPy array: .astype(np.float64))")


def differentiable_leaves(tree, where, what):
    """``(tensors, spec)``: the leaves of ``tree`` as floating-point Tensors."""
    leaves, spec = pytree.flatten(tree)
    out = []
    for k, leaf in enumerate(leaves):
        name = what if spec.n_leaves == 1 else f"{what}, leaf {k} of {spec!r},"
        t = to_tensor(leaf, where, name)
        check_floating(t, where, name)
        out.append(t)
    return out, spec


def split_aux(result, has_aux, where):
    """``(output, aux)`` of what f returned (aux None unless ``has_aux``)."""
    if not has_aux:
        return result, None
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
        raise ValueError(f"{where}: with has_aux=True, f must return a pair (output, aux), "
                         f"got {type(result).__name__}"
                         + (f" of length {len(result)}" if isinstance(result, (tuple, list))
                            else ""))
    return result[0], result[1]


def output_leaves(output, where):
    """``(tensors, spec)``: the leaves of f's output as Tensors. A leaf that is
    not a Tensor (a float, an array) cannot depend on the inputs: it becomes a
    constant Tensor, whose derivative is zero."""
    leaves, spec = pytree.flatten(output)
    what = "f's output" if spec.n_leaves == 1 else "a leaf of f's output"
    return [to_tensor(leaf, where, what) for leaf in leaves], spec


def place(args, positions, specs, counts, leaves):
    """``args`` with the argument at each of ``positions`` rebuilt from the
    next ``counts[i]`` of ``leaves`` in the structure ``specs[i]``."""
    call_args, start = list(args), 0
    for p, spec, n in zip(positions, specs, counts):
        call_args[p] = pytree.unflatten(leaves[start:start + n], spec)
        start += n
    return call_args


def like(v, ref, where, what):
    """``v`` (a cotangent or tangent) as a Tensor checked against the value
    ``ref`` it goes with: the same shape, and ``ref``'s dtype. A Python number
    or list takes ``ref``'s dtype (a literal has none of its own); an array or
    Tensor of another dtype is an error rather than a silent cast."""
    if isinstance(v, (Tensor, np.ndarray, np.generic)):
        if v.dtype != ref.dtype:
            raise TypeError(f"{where}: {what} has dtype {v.dtype} but its value has dtype "
                            f"{ref.dtype}; convert it (e.g. .to({ref.dtype}))")
        v = to_tensor(v, where, what)
    else:
        v = Tensor(np.asarray(to_tensor(v, where, what).data, dtype=ref.dtype))
    if tuple(v.shape) != tuple(ref.shape):
        raise ValueError(f"{where}: {what} has shape {tuple(v.shape)} but its value has "
                         f"shape {tuple(ref.shape)}; they must match")
    return v


def per_argument(flat, specs, counts, many):
    """Values given per input leaf (``flat``), rebuilt in the structure of
    each differentiated argument: a tuple over the arguments when ``many``
    (argnums was a tuple), else the one argument's structure."""
    trees, start = [], 0
    for spec, n in zip(specs, counts):
        trees.append(pytree.unflatten(flat[start:start + n], spec))
        start += n
    return tuple(trees) if many else trees[0]


def check_callable(f, where):
    if not callable(f):
        raise TypeError(f"{where}: f must be a callable (a function of Tensors), "
                        f"got {type(f).__name__}")
