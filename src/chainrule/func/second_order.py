"""Second derivatives: ``hessian`` and ``hvp``, forward over reverse.

Both put forward mode outside reverse mode. The reverse pass inside runs with
``create_graph=True``, so its formulas are ops on Tensors; while the outer
dual level is open those ops carry tangents too, and the tangent of the
gradient is the Hessian applied to the input tangent: H u = d/dt grad f(x + t u).

* ``hvp``: H u in one forward-over-reverse pass (about the cost of a few
  gradients), never forming H: the way to use curvature when n is large.
* ``hessian``: ``jacfwd(jacrev(f))``, n such passes, one per input element.
  Reverse over reverse (``jacrev(jacrev(f))``) gives the same matrix with one
  pass per element of the gradient, also n; forward over reverse is the
  usual choice because a jvp through the backward pass is cheaper than a
  second recorded reverse pass.
"""
from . import arguments
from .forward import jacfwd, jvp
from .reverse import _value_and_grad, jacrev


def hessian(f, argnums=0):
    """A function returning the Hessian of the scalar f with respect to the
    argument(s) ``argnums``: ``jacfwd(jacrev(f, argnums), argnums)``. For an
    input of shape T it has shape T + T; for a tuple ``argnums``, the nested
    tuple of blocks H[i][j] = d^2 f / dx_i dx_j."""
    arguments.check_callable(f, "cr.func.hessian")
    return jacfwd(jacrev(f, argnums=argnums), argnums=argnums)


def hvp(f, primals, tangents):
    """``(output, hvp_out)``: the scalar f at ``primals`` and the Hessian of f
    (with respect to all the primals) applied to ``tangents``, without forming
    the Hessian: the jvp of the gradient (forward over reverse).

    ``hvp_out`` is a tuple with one entry per primal, shaped like it (as
    ``torch.autograd.functional.hvp`` with tuple inputs)."""
    where = "cr.func.hvp"
    arguments.check_callable(f, where)
    if not isinstance(primals, (tuple, list)) or not primals:
        raise TypeError(f"{where}: primals must be a non-empty tuple (one entry per argument "
                        f"of f), got {type(primals).__name__}; write hvp(f, (x,), (u,))")
    value_and_grad_f = _value_and_grad(f, tuple(range(len(primals))), False, where, "hvp")

    def gradient_with_value(*args):
        value, gradient = value_and_grad_f(*args)
        return gradient, value

    _, hvp_out, value = jvp(gradient_with_value, primals, tangents, has_aux=True)
    return value, hvp_out
