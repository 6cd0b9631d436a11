"""Whether operations are recorded: ``no_grad``, ``enable_grad``, ``set_grad_enabled``.

Each is both a context manager and a decorator, as in PyTorch. The state is a
single module-level flag read by every op, so checking it costs one attribute
load.
"""
import functools


class _State:
    __slots__ = ("enabled",)

    def __init__(self):
        self.enabled = True


state = _State()


def is_grad_enabled():
    """True when new operations are recorded for backward."""
    return state.enabled


class _GradMode:
    """Base for the switches: entering sets ``mode``, leaving restores the old one."""

    mode = True

    def __enter__(self):
        self._prev = state.enabled
        state.enabled = self.mode

    def __exit__(self, *exc):
        state.enabled = self._prev
        return False

    def __call__(self, fn):
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            prev = state.enabled
            state.enabled = mode
            try:
                return fn(*args, **kwargs)
            finally:
                state.enabled = prev
        return wrapper


class no_grad(_GradMode):
    """Record nothing inside: results have ``requires_grad=False``."""

    mode = False


class enable_grad(_GradMode):
    """Record operations again, e.g. inside a ``no_grad`` block."""

    mode = True


class set_grad_enabled(_GradMode):
    """Record operations iff ``mode``. As in PyTorch the plain call takes
    effect at once; as a context or decorator the old mode comes back after."""

    def __init__(self, mode):
        if not isinstance(mode, bool):
            raise TypeError(f"set_grad_enabled: mode must be a bool, got {type(mode).__name__}")
        self.mode = mode
        self._prev = state.enabled
        state.enabled = mode

    def __enter__(self):
        pass  # already switched by __init__; _prev holds the mode to restore

    def __call__(self, fn):
        state.enabled = self._prev  # decorating must not switch the caller's mode
        return super().__call__(fn)
