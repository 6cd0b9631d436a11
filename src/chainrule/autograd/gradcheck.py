"""Gradient checks: the analytic Jacobian against central finite differences.

For a function of the inputs that require grad, every entry of the Jacobian
J[j, p] = d out_j / d in_p is computed twice:

* analytically, one row per output element j, as the vector-Jacobian product
  with the unit vector e_j: ``autograd.grad(out, inputs, grad_outputs=e_j)``.
  That is exactly what ``backward`` computes, so every row runs the engine and
  each op's ``vjp``;
* numerically, one column per input element p, by central differences

      (f(x + eps e_p) - f(x - eps e_p)) / (2 eps),

  whose truncation error is O(eps**2 |f'''|) and whose rounding error is about
  1e-16 |f| / eps. With eps = 1e-6 both are near 1e-10 in float64; in float32
  the rounding term alone is near 1e-1, which is why only float64 inputs are
  accepted.

An entry passes when |analytic - numerical| <= atol + rtol |numerical|
(``numpy.allclose`` with the numerical value as the reference). The error
reported is the relative error

      |analytic - numerical| / (|numerical| + atol / rtol),

the ordinary relative error wherever |numerical| is large, finite where the
numerical value is 0, and at most ``rtol`` exactly when the entry passes.

``gradgradcheck`` applies the same check to the first derivative itself: the
function (x, v) -> J(x)^T v, computed with ``create_graph=True``, is checked
against finite differences of it, so each op's backward formula is
differentiated once more (Hessian-vector products, gradient penalties).
"""
from dataclasses import dataclass

import numpy as np

from ..random import default_generator
from ..tensor import Tensor
from .engine import grad

_TOLERANCE_RULE = ("an entry passes when |analytic - numerical| <= atol + rtol * |numerical|; "
                   "relative error = |analytic - numerical| / (|numerical| + atol / rtol)")


class GradcheckError(RuntimeError):
    """The analytic gradient disagrees with finite differences.

    ``entry`` is the worst Jacobian entry (a ``JacobianEntry``), or ``None``
    when the problem is not one entry (a gradient of the wrong shape).
    """

    def __init__(self, message, entry=None):
        super().__init__(message)
        self.entry = entry


@dataclass(frozen=True)
class JacobianEntry:
    """One Jacobian entry d outputs[output_index][output_element] /
    d inputs[input_index][element], computed both ways."""

    input_index: int
    element: tuple
    output_index: int
    output_element: tuple
    numerical: float
    analytic: float
    relative_error: float


@dataclass(frozen=True)
class Report:
    """The outcome of one check: ``passed``, the largest relative error over
    all entries, the worst entry and, on failure, the message to raise."""

    passed: bool
    max_relative_error: float
    worst: JacobianEntry = None
    message: str = ""


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """Check the gradients of ``fn`` at ``inputs`` against finite differences.

    ``fn`` returns a Tensor or a tuple of Tensors; ``inputs`` is a Tensor or a
    tuple (of Tensors and constants). Only inputs with ``requires_grad`` are
    checked, and they must be float64. Returns ``True``; on a mismatch raises
    ``GradcheckError`` naming the input, the worst element, both values and
    their relative error, or returns ``False`` if ``raise_exception=False``.
    """
    return _verdict(gradcheck_report(fn, inputs, eps=eps, atol=atol, rtol=rtol),
                    raise_exception)


def gradgradcheck(fn, inputs, grad_outputs=None, eps=1e-6, atol=1e-5, rtol=1e-3,
                  raise_exception=True):
    """Check the second derivatives of ``fn``: the gradient of
    v -> J(x)^T v (built with ``create_graph=True``) with respect to the inputs
    and to v, against finite differences of the first derivative.

    ``grad_outputs`` (one per output that requires grad) defaults to random
    normal float64 tensors from the global generator, which require grad and
    so are checked too. Returns and raises as ``gradcheck``.
    """
    return _verdict(gradgradcheck_report(fn, inputs, grad_outputs, eps=eps, atol=atol,
                                         rtol=rtol), raise_exception)


def gradcheck_report(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3):
    """The ``Report`` behind ``gradcheck`` (used by ``chainrule gradcheck``,
    which shows the largest relative error even when the check passes)."""
    inputs = _as_tuple(inputs, "gradcheck")
    labels = [f"input {i}" for i in range(len(inputs))]
    return _compare(fn, inputs, eps, atol, rtol, "gradcheck", labels, lambda k: f"output {k}")


def gradgradcheck_report(fn, inputs, grad_outputs=None, eps=1e-6, atol=1e-5, rtol=1e-3):
    """The ``Report`` behind ``gradgradcheck``."""
    where = "gradgradcheck"
    inputs = _as_tuple(inputs, where)
    diff = _differentiable(inputs, where)
    outputs = _call(fn, inputs, where)
    targets = [k for k, out in enumerate(outputs) if out.requires_grad and _is_float(out)]
    if not targets:
        raise ValueError(f"{where}: no output of fn requires grad, so there is no first "
                         f"derivative to check")
    grad_outputs = _grad_outputs(grad_outputs, [outputs[k] for k in targets], where)
    n = len(inputs)

    def first_derivative(*args):
        outs = _call(fn, args[:n], where)
        grads = grad([outs[k] for k in targets], [args[i] for i in diff],
                     grad_outputs=list(args[n:]), create_graph=True, allow_unused=True)
        # an input the outputs do not depend on has derivative zero
        return tuple(Tensor(np.zeros(args[i].shape)) if g is None else g
                     for i, g in zip(diff, grads))

    labels = [f"input {i}" for i in range(n)] + \
        [f"grad_outputs[{k}]" for k in range(len(grad_outputs))]
    return _compare(first_derivative, inputs + grad_outputs, eps, atol, rtol, where, labels,
                    lambda q: f"the gradient w.r.t. input {diff[q]}")


# -- the comparison ------------------------------------------------------------
def _compare(fn, inputs, eps, atol, rtol, where, input_labels, output_label):
    if not eps > 0:
        raise ValueError(f"{where}: eps must be positive, got {eps}")
    if not rtol > 0 or not atol >= 0:
        raise ValueError(f"{where}: rtol must be positive and atol non-negative, "
                         f"got rtol={rtol}, atol={atol}")
    diff = _differentiable(inputs, where)
    outputs = _call(fn, inputs, where)
    keys = [k for k, out in enumerate(outputs) if _is_float(out)]
    try:
        analytic = _analytic_jacobian(outputs, keys, inputs, diff, where, input_labels)
    except GradcheckError as e:
        return Report(False, float("inf"), None, str(e))
    numerical = _numerical_jacobian(fn, inputs, diff, outputs, keys, eps, where)

    worst, worst_rel = None, 0.0
    for (k, i), a in analytic.items():
        if a.size == 0:
            continue
        n = numerical[k, i]
        rel = _relative_error(a, n, atol, rtol)
        j, p = np.unravel_index(int(np.argmax(rel)), rel.shape)
        if worst is None or rel[j, p] > worst_rel:
            worst_rel = rel[j, p]
            worst = JacobianEntry(
                input_index=i, element=_index(p, inputs[i].shape),
                output_index=k, output_element=_index(j, outputs[k].shape),
                numerical=float(n[j, p]), analytic=float(a[j, p]),
                relative_error=float(_raw_relative_error(a[j, p], n[j, p], atol, rtol)))
    if worst_rel <= rtol:
        return Report(True, float(worst_rel), worst)
    message = (
        f"{where}: Jacobian mismatch for {input_labels[worst.input_index]} at element "
        f"{worst.element} ({output_label(worst.output_index)}, element "
        f"{worst.output_element}): numerical {worst.numerical:.10g}, analytic "
        f"{worst.analytic:.10g}, relative error {worst.relative_error:.3g} > rtol={rtol:g} "
        f"(atol={atol:g}, eps={eps:g}; {_TOLERANCE_RULE})")
    return Report(False, float(worst_rel), worst, message)


def _raw_relative_error(a, n, atol, rtol):
    gap = np.abs(a - n)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(gap == 0, 0.0, gap / (np.abs(n) + atol / rtol))


def _relative_error(a, n, atol, rtol):
    """The relative error with NaN ranked worst of all (a NaN never passes)."""
    rel = _raw_relative_error(a, n, atol, rtol)
    return np.where(np.isnan(rel), np.inf, rel)


def _analytic_jacobian(outputs, keys, inputs, diff, where, input_labels):
    """``{(output k, input i): J}`` with one row per output element, each the
    vector-Jacobian product with a unit vector."""
    xs = [inputs[i] for i in diff]
    jac = {}
    for k in keys:
        out = outputs[k]
        rows = {i: np.zeros((out.data.size, inputs[i].data.size)) for i in diff}
        jac.update(((k, i), r) for i, r in rows.items())
        if not out.requires_grad:
            continue   # a constant output: its analytic Jacobian is zero
        for j in range(out.data.size):
            unit = np.zeros(out.shape, dtype=out.dtype)
            unit.reshape(-1)[j] = 1
            grads = grad(out, xs, grad_outputs=Tensor(unit), retain_graph=True,
                         allow_unused=True)
            for i, g in zip(diff, grads):
                if g is None:
                    continue
                if g.shape != inputs[i].shape:
                    raise GradcheckError(
                        f"{where}: the gradient computed for {input_labels[i]} has shape "
                        f"{tuple(g.shape)}, but that input has shape "
                        f"{tuple(inputs[i].shape)}; a vjp must return one gradient of "
                        f"its input's shape")
                rows[i][j] = g.data.reshape(-1)
    return jac


def _numerical_jacobian(fn, inputs, diff, outputs, keys, eps, where):
    """``{(output k, input i): J}`` with one column per input element, by
    central differences."""
    jac = {(k, i): np.zeros((outputs[k].data.size, inputs[i].data.size))
           for k in keys for i in diff}
    shapes = {k: outputs[k].shape for k in keys}
    for i in diff:
        x = inputs[i]
        work = np.array(x.data, dtype=np.float64, order="C")   # so flat is a view
        flat = work.reshape(-1)
        args = list(inputs)
        for p in range(flat.size):
            centre = flat[p]
            flat[p] = centre + eps
            step = flat[p]
            args[i] = Tensor(work, requires_grad=x.requires_grad)
            plus = _float_values(fn, args, keys, shapes, where)
            flat[p] = centre - eps
            step -= flat[p]       # divide by the step actually taken, not 2 eps
            args[i] = Tensor(work, requires_grad=x.requires_grad)
            minus = _float_values(fn, args, keys, shapes, where)
            flat[p] = centre
            for k in keys:
                jac[k, i][:, p] = ((plus[k] - minus[k]) / step).reshape(-1)
    return jac


def _float_values(fn, args, keys, shapes, where):
    """fn's floating outputs at ``args``, copied (an output may be a view of
    the array being perturbed)."""
    outputs = _call(fn, args, where)
    values = {}
    for k in keys:
        out = outputs[k]
        if out.shape != shapes[k]:
            raise ValueError(f"{where}: output {k} changed shape from {tuple(shapes[k])} to "
                             f"{tuple(out.shape)} under a small perturbation of the inputs")
        values[k] = np.array(out.data, dtype=np.float64, copy=True)
    return values


# -- inputs and outputs ----------------------------------------------------------
def _as_tuple(x, where):
    if isinstance(x, Tensor):
        return (x,)
    if isinstance(x, (tuple, list)):
        return tuple(x)
    raise TypeError(f"{where}: inputs must be a Tensor or a tuple of Tensors (and "
                    f"constants), got {type(x).__name__}")


def _differentiable(inputs, where):
    """Indices of the inputs to check; each must be float64."""
    diff = []
    for i, x in enumerate(inputs):
        if not (isinstance(x, Tensor) and x.requires_grad):
            continue
        if x.dtype != np.float64:
            raise TypeError(
                f"{where}: input {i} has dtype {x.dtype}, but finite differences need "
                f"float64 (in float32 their rounding error alone is about 1e-1); pass "
                f"x.detach().double().requires_grad_() instead")
        diff.append(i)
    if not diff:
        raise ValueError(f"{where}: no input requires grad, so there is nothing to check; "
                         f"create the inputs with requires_grad=True")
    return diff


def _call(fn, args, where):
    out = fn(*args)
    outputs = (out,) if isinstance(out, Tensor) else out
    if not isinstance(outputs, (tuple, list)) or not all(isinstance(t, Tensor)
                                                         for t in outputs):
        raise TypeError(f"{where}: fn must return a Tensor or a tuple of Tensors, got "
                        f"{type(out).__name__}")
    return tuple(outputs)


def _is_float(t):
    return t.dtype.kind == "f"


def _grad_outputs(grad_outputs, targets, where):
    """One float64 upstream gradient per output that requires grad."""
    if grad_outputs is None:
        rng = default_generator()
        return tuple(Tensor(rng.standard_normal(t.shape), requires_grad=True)
                     for t in targets)
    grad_outputs = _as_tuple(grad_outputs, where)
    if len(grad_outputs) != len(targets):
        raise ValueError(f"{where}: got {len(grad_outputs)} grad_outputs for "
                         f"{len(targets)} outputs that require grad; pass one per output")
    for k, (g, t) in enumerate(zip(grad_outputs, targets)):
        if not isinstance(g, Tensor) or g.shape != t.shape:
            got = tuple(g.shape) if isinstance(g, Tensor) else type(g).__name__
            raise ValueError(f"{where}: grad_outputs[{k}] must be a Tensor of the output's "
                             f"shape {tuple(t.shape)}, got {got}")
    return grad_outputs


def _index(flat, shape):
    return tuple(int(n) for n in np.unravel_index(flat, shape)) if shape else ()


def _verdict(report, raise_exception):
    if report.passed:
        return True
    if raise_exception:
        raise GradcheckError(report.message, report.worst)
    return False
