"""``chainrule gradcheck``: every registered op's gradients against finite differences.

For each op in the registry that has sample inputs (``op.samples``; ops
without a gradient have none), every sample is run through ``gradcheck``
(first derivatives) and ``gradgradcheck`` (derivatives of the backward pass
itself, through ``create_graph``). One row per op gives the number of
samples, the largest relative error over all of them and pass/FAIL; a
failure is then explained in full. The exit status is 1 if any op fails.

Samples are drawn from a generator seeded with ``(--seed, op name)``, so an
op's inputs do not depend on which other ops are checked with it.
"""
import importlib
import pkgutil
import zlib

import numpy as np

from ..autograd.gradcheck import gradcheck_report, gradgradcheck_report
from ..tensor import Tensor
from .main import UsageError

EPS, ATOL, RTOL = 1e-6, 1e-5, 1e-3


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "gradcheck", help="check every op's gradients against finite differences",
        description="Check the first and second derivatives of every registered op "
                    "against central finite differences in float64.")
    parser.add_argument("--op", action="append", metavar="NAME",
                        help="check only this op (repeat to check several)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed for the sample inputs and upstream gradients (default 0)")
    parser.set_defaults(run=run)


def load_registry():
    """``REGISTRY`` after importing every module of ``chainrule.ops``: an op is
    registered when its module is imported, and this command checks them all."""
    from .. import ops
    for module in pkgutil.iter_modules(ops.__path__):
        importlib.import_module(f"{ops.__name__}.{module.name}")
    return ops.REGISTRY


def run(args):
    registry = load_registry()
    names = _selected(args.op, registry)
    checked, skipped, failures = 0, [], []
    width = max(len("op"), *(len(n) for n in names))
    for name in names:
        rng = np.random.default_rng([args.seed, zlib.crc32(name.encode())])
        samples = registry[name].samples(rng)
        if not samples:
            skipped.append(name)
            continue
        if not checked:
            print(f"{'op':<{width}}  samples  max rel error  result")
        checked += 1
        worst, problem = check_op(registry[name], samples, rng)
        print(f"{name:<{width}}  {len(samples):>7}  {worst:>13.2e}  "
              f"{'pass' if problem is None else 'FAIL'}", flush=True)
        if problem is not None:
            failures.append((name, problem))
    for name, problem in failures:
        print(f"\nFAIL {name}: {problem}")
    print(f"\n{checked} op(s) checked: {checked - len(failures)} pass, {len(failures)} FAIL "
          f"(central differences, eps={EPS:g}; an entry passes when |analytic - numerical| "
          f"<= {ATOL:g} + {RTOL:g} * |numerical|)")
    if skipped:
        print(f"not checked (no gradient, so no samples): {', '.join(skipped)}")
    return 1 if failures else 0


def _selected(requested, registry):
    if not requested:
        return sorted(registry)
    for name in requested:
        if name not in registry:
            raise UsageError(f"unknown op {name!r}; valid names: {', '.join(sorted(registry))}")
    return list(dict.fromkeys(requested))


def check_op(op, samples, rng):
    """``(largest relative error, None)`` if every sample passes both checks,
    else ``(largest relative error, description of the first failure)``."""
    worst = 0.0
    for k, (inputs, params) in enumerate(samples):
        tensors = tuple(Tensor(a, requires_grad=True) if _is_float_array(a) else a
                        for a in inputs)

        def fn(*args):
            return op(*args, **params)

        try:
            first = gradcheck_report(fn, tensors, eps=EPS, atol=ATOL, rtol=RTOL)
            reports = [first]
            if first.passed:
                grad_outputs = _grad_outputs(fn(*tensors), rng)
                reports.append(gradgradcheck_report(fn, tensors, grad_outputs, eps=EPS,
                                                    atol=ATOL, rtol=RTOL))
        except Exception as e:   # any error raised by an op is a failure to report
            return float("inf"), f"sample {k} ({_describe(inputs, params)}) raised " \
                                 f"{type(e).__name__}: {e}"
        for report in reports:
            worst = max(worst, report.max_relative_error)
            if not report.passed:
                return worst, f"sample {k} ({_describe(inputs, params)}): {report.message}"
    return worst, None


def _is_float_array(a):
    return isinstance(a, np.ndarray) and a.dtype.kind == "f"


def _grad_outputs(out, rng):
    outputs = (out,) if isinstance(out, Tensor) else out
    return tuple(Tensor(rng.standard_normal(t.shape), requires_grad=True)
                 for t in outputs if t.requires_grad and t.dtype.kind == "f")


def _describe(inputs, params):
    shapes = ", ".join(str(np.shape(a)) for a in inputs)
    options = "".join(f", {k}={_show(v)}" for k, v in params.items())
    return f"input shapes {shapes}{options}"


def _show(value):
    if isinstance(value, np.ndarray):
        return f"<{value.dtype} array of shape {value.shape}>"
    if isinstance(value, tuple):
        return "(" + ", ".join(_show(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    return repr(value)
