"""``detect_anomaly``: stop at the first NaN or Inf, in forward or backward.

Inside the context every op checks its output, and the engine checks every
gradient it computes; the error names the operation and the line of the
user's code where it was recorded.
"""
import numpy as np


class _State:
    __slots__ = ("enabled",)

    def __init__(self):
        self.enabled = False


state = _State()


class detect_anomaly:
    """Context manager (and decorator) that raises at the first non-finite value."""

    def __init__(self, check_nan=True):
        self.check_nan = check_nan

    def __enter__(self):
        self._prev = state.enabled
        state.enabled = self.check_nan

    def __exit__(self, *exc):
        state.enabled = self._prev
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.check_nan):
                return fn(*args, **kwargs)
        return wrapper


def _bad(array):
    array = np.asarray(array)
    if array.dtype.kind not in "fc" or np.isfinite(array).all():
        return None
    return "NaN" if np.isnan(array).any() else "Inf"


def check_forward(op, node, out):
    from .node import user_site
    if node is not None and node.where is None:
        node.where = user_site()   # so a NaN in backward can name the line too
    bad = _bad(out.data)
    if bad is None:
        return
    file, line = user_site()
    raise FloatingPointError(
        f"detect_anomaly: {op.name} produced {bad} in its forward output "
        f"(at {file}:{line})")


def check_backward(node, grads):
    for i, g in enumerate(grads):
        if g is None:
            continue
        bad = _bad(getattr(g, "data", g))
        if bad is not None:
            file, line = node.site()
            raise FloatingPointError(
                f"detect_anomaly: {node.name} returned {bad} in the gradient for its "
                f"input {i} during backward; the operation was recorded at {file}:{line}")
