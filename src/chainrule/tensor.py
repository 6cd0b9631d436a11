"""``Tensor``: one NumPy array, its gradient and the node that made it.

Tensor holds state only; its arithmetic and methods are one-line delegations
to the ops (bound in ``tensor_methods.py``), so the op code lives in one place.
Views share a version counter with their base: an in-place change through
either is seen by every node that saved the other.
"""
import numpy as np

from . import dtypes


class Tensor:
    """An n-dimensional array that can record the operations applied to it."""

    # Every op makes a Tensor, so a Tensor is cheap to make: the four fields
    # read on every op are slots, set by _make; the rest keep the class-level
    # defaults below until set (then they live in the instance's __dict__).
    __slots__ = ("data", "grad_fn", "requires_grad", "_version", "__dict__", "__weakref__")

    grad = None          # a Tensor, once backward reaches this leaf (or retain_grad)
    _output_nr = 0       # which output of grad_fn this is (multi-output ops)
    _base = None         # the tensor a view was taken of (it shares _version)
    name = None
    _hooks = None        # a leaf's gradient hooks (a non-leaf's live on its node)

    # NumPy must hand ``ndarray * Tensor`` to Tensor.__rmul__, not loop over it
    __array_ufunc__ = None
    __array_priority__ = 1000

    def __init__(self, data, requires_grad=False, name=None):
        if isinstance(data, Tensor):
            data = data.data
        self.data = data if type(data) is np.ndarray else np.asarray(data)
        self.grad_fn = None
        self.requires_grad = False
        self._version = [0]
        if name is not None:
            self.name = name
        if requires_grad:
            self.requires_grad_(True)

    @staticmethod
    def _make(data, grad_fn, requires_grad):
        """Fast constructor for op results (no checks: data is an op's output)."""
        t = _new_tensor(Tensor)
        # NumPy returns a scalar, not a 0-d array, for a 0-d result
        t.data = data if type(data) is np.ndarray else np.asarray(data)
        t.grad_fn = grad_fn
        t.requires_grad = requires_grad
        t._version = [0]
        return t

    # -- attributes --------------------------------------------------------
    @property
    def shape(self):
        return self.data.shape

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def device(self):
        return "cpu"

    def dim(self):
        return self.data.ndim

    def numel(self):
        return self.data.size

    def size(self, dim=None):
        if dim is None:
            return self.data.shape
        return self.data.shape[_check_dim(dim, self.data.ndim, "size")]

    def __len__(self):
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    # -- autograd ----------------------------------------------------------
    def requires_grad_(self, requires_grad=True):
        if requires_grad and not dtypes.is_floating(self.data.dtype):
            raise TypeError(
                f"requires_grad: only floating-point tensors can require gradients, "
                f"got dtype {self.data.dtype}; convert first with .float() or .double()")
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError(
                "requires_grad_(False): this tensor is not a leaf (it was computed from "
                "tensors that require grad); use .detach() to get a tensor without history")
        self.requires_grad = bool(requires_grad)
        return self

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad``.

        A non-scalar tensor needs ``gradient`` (the upstream gradient, same
        shape as self): ``y.backward(g)`` computes the vector-Jacobian product.
        """
        from .autograd.engine import backward
        backward((self,), None if gradient is None else (gradient,), retain_graph,
                 create_graph, inputs)

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; a
        non-None return value replaces the gradient. Returns a handle with
        ``.remove()``."""
        if not self.requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that "
                               "does not require grad")
        if self.grad_fn is None:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        else:
            node = self.grad_fn
            node.watched = True
            if node.out_hooks is None:
                node.out_hooks = {}
            hooks = node.out_hooks.setdefault(self._output_nr, [])
        hooks.append(hook)
        return _HookHandle(hooks, hook)

    def retain_grad(self):
        """Keep this non-leaf tensor's gradient in ``.grad`` after backward."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad: cannot retain the gradient of a tensor that "
                               "does not require grad")
        if self.grad_fn is None:
            return
        import weakref
        node = self.grad_fn
        node.watched = True
        if node.retained is None:
            node.retained = {}
        node.retained[self._output_nr] = weakref.ref(self)

    @property
    def retains_grad(self):
        node = self.grad_fn
        return bool(node is not None and node.retained and self._output_nr in node.retained)

    def detach(self):
        """A tensor sharing this data (and its version counter) but with no history."""
        t = Tensor._make(self.data, None, False)
        t._version = self._version
        t._base = self
        return t

    def detach_(self):
        if self._base is not None and self.grad_fn is not None:
            raise RuntimeError("detach_: cannot detach a view in place; use .detach()")
        self.grad_fn = None
        self.requires_grad = False
        return self

    # -- conversion --------------------------------------------------------
    def numpy(self):
        if self.requires_grad:
            raise RuntimeError("numpy: this tensor requires grad; call .detach().numpy() "
                               "(the array would not carry gradients)")
        return self.data

    def __array__(self, dtype=None, copy=None):
        if dtype is not None:
            return self.data.astype(dtype, copy=bool(copy))
        return self.data.copy() if copy else self.data

    def item(self):
        if self.data.size != 1:
            raise ValueError(f"item: only a tensor with one element can be converted to a "
                             f"Python number, this one has shape {self.shape}")
        return self.data.item()

    def tolist(self):
        return self.data.tolist()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self.data.dtype.kind not in "iub" or self.data.size != 1:
            raise TypeError("only a one-element integer tensor can be used as an index")
        return int(self.data.item())

    def __bool__(self):
        if self.data.size != 1:
            raise RuntimeError(f"the truth value of a tensor with {self.data.size} elements "
                               f"is ambiguous; use .any() or .all()")
        return bool(self.data.item())

    __hash__ = object.__hash__

    def __repr__(self):
        body = np.array2string(self.data, separator=", ", precision=4,
                               prefix="tensor(")
        extra = ""
        if self.data.dtype != dtypes.get_default_dtype() and self.data.dtype.kind == "f" \
                or self.data.dtype.kind in "iub" and self.data.dtype != dtypes.int64 \
                and self.data.dtype.kind != "b":
            extra += f", dtype={self.data.dtype}"
        if self.grad_fn is not None:
            extra += f", grad_fn=<{self.grad_fn.name}>"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"


_new_tensor = object.__new__


def _check_dim(dim, ndim, where):
    """Normalise a possibly negative ``dim`` against ``ndim``, or raise."""
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{where}: dim must be an int, got {type(dim).__name__}")
    size = max(ndim, 1)
    if not -size <= dim < size:
        raise IndexError(f"{where}: dim {dim} is out of range for a tensor with "
                         f"{ndim} dimension(s) (expected in [{-size}, {size - 1}])")
    return dim % size


class _HookHandle:
    __slots__ = ("_hooks", "_hook")

    def __init__(self, hooks, hook):
        self._hooks = hooks
        self._hook = hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)

