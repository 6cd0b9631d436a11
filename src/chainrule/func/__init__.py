"""Function transforms (``torch.func`` / JAX style): derivatives as functions.

``grad(f)`` is a new function computing the gradient of f; transforms take
Python functions of Tensors, NumPy arrays or floats (an array keeps its
dtype, a float takes the default dtype), return Tensors, accept nested
tuples, lists and dicts as inputs and outputs, and compose: ``grad(grad(f))``,
``jacrev(jacrev(f))``, ``jacfwd(jacrev(f))``. They never touch the caller's
tensors (no ``.grad`` is set, no input is modified).

Reverse mode (``grad``, ``value_and_grad``, ``vjp``, ``jacrev``) costs one
backward pass per output element; forward mode (``jvp``, ``jacfwd``) one
forward pass per input element; ``hessian`` and ``hvp`` are forward over
reverse.
"""
from .forward import jacfwd, jvp
from .reverse import grad, jacrev, value_and_grad, vjp
from .second_order import hessian, hvp

__all__ = ["grad", "value_and_grad", "vjp", "jvp", "jacrev", "jacfwd", "hessian", "hvp"]
