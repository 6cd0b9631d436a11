"""Indexing gates: reading ``x[index]`` and writing ``x[index] = value`` out
of place (``index_put``). PyTorch's ``gather`` and its adjoint ``scatter_add``
are in gather.py; ``cat``, ``flip``, ``repeat`` and ``pad`` in join.py.

Reading picks elements out of x, so its backward puts each gradient back
where its element came from: into zeros of x's shape, *adding* where one
element was picked several times (``x[[0, 0, 1]]`` uses ``x[0]`` twice, so
``x[0]`` receives the sum of both gradients). The backward of reading is
therefore ``index_put(zeros, grad_out, accumulate=True)``, whose own backward
is reading again: both directions are ops, so second derivatives work.

Indices follow NumPy (and PyTorch) semantics: ints (negative count from the
end), slices with any step (negative steps too, which PyTorch lacks), None,
Ellipsis, integer arrays, lists or Tensors (advanced indexing: several index
arrays broadcast together; when they are separated by a slice or None, their
dimensions move to the front) and boolean masks. A 0-d integer Tensor counts
as an int. Basic indices (no arrays) give a view of x, as NumPy and PyTorch
do; advanced ones give a copy.

Where NumPy and PyTorch differ, this follows PyTorch: ints are applied
before index arrays, so they never take part in the arrays' broadcast.
``x[1, :, [0, 2]]`` on a (3, 4, 5) tensor is ``x[1][:, [0, 2]]``, of shape
(4, 2), where NumPy would give (2, 4).
"""
import numpy as np

from ..tensor import Tensor
from .binary import to, where
from .broadcast import sum_to
from .registry import Op, register
from .shape import reshape

__all__ = ["getitem", "index_put"]


# -- index normalisation and checks ------------------------------------------
def _normalize(op, index):
    """``index`` as a tuple of int, slice, None, Ellipsis or ndarray entries.

    Tensors and lists become arrays (copied, so editing the index afterwards
    cannot change a recorded gradient); 0-d integer arrays become ints."""
    if type(index) is not tuple:
        index = (index,)
    return tuple(_entry(op, e) for e in index)


def _entry(op, e):
    if e is None or e is Ellipsis or isinstance(e, slice):
        return e
    # bool is an int subclass, but as an index it is a 0-d mask
    if isinstance(e, (bool, np.bool_)):
        return np.array(e)
    if isinstance(e, (int, np.integer)):
        return int(e)
    if isinstance(e, Tensor):
        e = e.data
    if isinstance(e, (list, tuple, np.ndarray)):
        a = np.array(e)
        if a.dtype.kind == "b":
            return a
        if a.size == 0 and a.dtype.kind == "f":
            a = a.astype(np.intp)          # `x[[]]` selects nothing; np.array([]) is float
        if a.dtype.kind in "iu":
            return int(a) if a.ndim == 0 else a
        raise TypeError(f"{op}: an index array must hold integers or booleans, got dtype "
                        f"{a.dtype}; convert it with .long()")
    raise TypeError(f"{op}: cannot index with {type(e).__name__} {e!r}; use ints, slices, "
                    f"None, ..., integer or boolean arrays/Tensors")


def _is_basic(index):
    return not any(isinstance(e, np.ndarray) for e in index)


def _check(op, index, shape):
    """Raise a clear error where NumPy would raise a terse one (or none)."""
    used = sum(e.ndim if isinstance(e, np.ndarray) and e.dtype.kind == "b" else
               0 if e is None or e is Ellipsis else 1 for e in index)
    ellipses = sum(e is Ellipsis for e in index)
    if ellipses > 1:
        raise IndexError(f"{op}: an index can only have a single ellipsis ('...')")
    if used > len(shape):
        raise IndexError(f"{op}: too many indices for a tensor of shape {shape}: {used} "
                         f"dimension(s) indexed but it has {len(shape)}")
    d = 0
    broadcast = []
    for e in index:
        if e is None:
            continue
        if e is Ellipsis:
            d += len(shape) - used
        elif isinstance(e, slice):
            if e.step == 0:
                raise ValueError(f"{op}: slice step cannot be zero (dimension {d})")
            d += 1
        elif isinstance(e, int):
            _check_range(op, e, d, shape[d])
            d += 1
        elif e.dtype.kind == "b":
            covered = shape[d:d + e.ndim]
            if e.shape != covered:
                raise IndexError(f"{op}: the boolean mask of shape {e.shape} does not match "
                                 f"the shape {covered} of the dimension(s) {d}..{d + e.ndim - 1} "
                                 f"it indexes")
            broadcast += [(int(np.count_nonzero(e)),)] * max(e.ndim, 1)
            d += e.ndim
        else:
            bad = (e < -shape[d]) | (e >= shape[d])
            if bad.any():
                _check_range(op, int(e[bad][0]), d, shape[d])
            broadcast.append(e.shape)
            d += 1
    try:
        np.broadcast_shapes(*broadcast)
    except ValueError:
        listed = ", ".join(str(s) for s in broadcast)
        raise IndexError(f"{op}: the index arrays have shapes {listed}, which cannot be "
                         f"broadcast together") from None


def _check_range(op, i, dim, size):
    if not -size <= i < size:
        raise IndexError(f"{op}: index {i} is out of range for dimension {dim} with size "
                         f"{size} (valid: {-size} to {size - 1})")


def _split(a, index):
    """``(view, rest)`` with PyTorch's ``a[index]`` equal to NumPy's ``view[rest]``.

    PyTorch selects with ints first and then applies the index arrays to what
    is left; NumPy treats an int next to an array as one more array. When an
    index mixes the two, take the ints (and slices, None) first as a view,
    then the arrays with slices over the dimensions already handled."""
    if _is_basic(index) or not any(isinstance(e, int) for e in index):
        return a, index
    first, rest = [], []
    for e in index:
        if isinstance(e, np.ndarray):
            first += [slice(None)] * (e.ndim if e.dtype.kind == "b" else 1)
            rest.append(e)
        elif isinstance(e, int):
            first.append(e)
        else:
            first.append(e)
            rest.append(slice(None) if e is None else e)
    return a[tuple(first)], tuple(rest)


def _add_at(out, index, values):
    """``out[index] += values`` where a position indexed twice receives every
    value: NumPy's ``ufunc.at`` (plain ``+=`` would keep only one of them)."""
    np.add.at(out, index, values)


def _last_writes(index, shape, target):
    """For ``x[index] = value`` with repeated positions: a bool mask over the
    indexed shape, True where that write is the one that stays (None when no
    position is written twice). Uses the same NumPy assignment as the forward,
    so it agrees with it about which write wins."""
    ids = np.arange(int(np.prod(target)), dtype=np.intp).reshape(target)
    owner = np.full(shape, -1, dtype=np.intp)
    view, rest = _split(owner, index)
    view[rest] = ids
    stays = view[rest] == ids
    return None if stays.all() else stays


# -- reading: x[index] -------------------------------------------------------
def getitem(x, index=()):
    """``x[index]``: a view (op ``getitem``) for a basic index of ints, slices,
    None and Ellipsis; a copy (op ``index``) when arrays or masks are involved."""
    index = _normalize("getitem", index)
    if _is_basic(index):
        return basic_getitem(x, index=index)
    return advanced_index(x, index=index)


@register
class BasicGetitem(Op):
    """y = x[index] with ints, slices (any step), None and Ellipsis: a view of x.

    Gradient: zeros of x's shape with grad_out written at the indexed
    positions (a basic index never reaches an element twice, so writing is
    enough)."""
    name = "getitem"
    view = True

    def forward(self, ctx, x, index=()):
        index = _normalize("getitem", index)
        if not _is_basic(index):
            raise TypeError("getitem: this op takes basic indices only; call "
                            "ops.getitem(x, index=...), which routes arrays to the 'index' op")
        x = np.asarray(x)
        _check("getitem", index, x.shape)
        ctx.save(shape=x.shape, index=index)
        # an index of ints only would give a NumPy scalar (a copy); a trailing
        # Ellipsis makes it a 0-d view instead
        if not any(e is Ellipsis for e in index):
            index = index + (Ellipsis,)
        return x[index]

    def vjp(self, ctx, grad_out):
        zeros = np.zeros(ctx.shape, dtype=grad_out.dtype)
        return (index_put(zeros, grad_out, index=ctx.index),)

    def jvp(self, ctx, x_dot):
        return basic_getitem(x_dot, index=ctx.index)

    def samples(self, rng):
        x = rng.standard_normal
        return [((x((3, 4, 5)),), {"index": (1, slice(None, None, -2))}),
                ((x((3, 4, 5)),), {"index": (None, Ellipsis, slice(1, 3))}),
                ((x((4,)),), {"index": -1}),
                ((x((3, 4)),), {"index": (slice(2, 0, -1), None, 0)})]


@register
class AdvancedIndex(Op):
    """y = x[index] where the index holds integer arrays or boolean masks (a copy).

    Gradient: zeros of x's shape with grad_out *added* at the indexed
    positions, so an element picked k times receives k contributions."""
    name = "index"

    def forward(self, ctx, x, index):
        index = _normalize("index", index)
        x = np.asarray(x)
        _check("index", index, x.shape)
        ctx.save(shape=x.shape, index=index)
        view, rest = _split(x, index)
        return view[rest]

    def vjp(self, ctx, grad_out):
        zeros = np.zeros(ctx.shape, dtype=grad_out.dtype)
        return (index_put(zeros, grad_out, index=ctx.index, accumulate=True),)

    def jvp(self, ctx, x_dot):
        return advanced_index(x_dot, index=ctx.index)

    def samples(self, rng):
        x = rng.standard_normal
        return [((x((4, 3)),), {"index": np.array([0, 0, 1, 3, 0])}),
                ((x((3, 4)),), {"index": rng.uniform(size=(3, 4)) > 0.5}),
                ((x((3, 4, 5)),), {"index": (np.array([[0], [2]]), slice(None),
                                             np.array([1, 1, 4]))}),
                ((x((3, 4)),), {"index": (slice(None), np.array([3, -1, 0, 3]))}),
                ((x((2, 3)),), {"index": (None, Ellipsis, np.array([[1, 1], [0, 2]]))})]


# -- writing: x[index] = value, out of place ---------------------------------
@register
class IndexPut(Op):
    """out = x with ``out[index] = value`` (``accumulate=False``) or
    ``out[index] += value`` (``accumulate=True``); x itself is not modified.

    ``value`` is broadcast to the indexed shape (leading size-1 dimensions
    beyond it are dropped, as PyTorch's ``x[i] = v`` allows) and cast to
    x's dtype. ``Tensor.__setitem__`` runs this through the in-place
    machinery.

    Repeated positions: with ``accumulate=True`` every value is added. With
    ``accumulate=False`` the last write wins (NumPy's behaviour; PyTorch
    leaves it undefined), and the gradient follows the forward exactly: only
    the value that stayed receives a gradient (PyTorch gives one to every
    duplicate).

    Gradients: x receives grad_out, with the overwritten positions zeroed
    when ``accumulate=False``; value receives ``grad_out[index]`` summed back
    to its shape.
    """
    name = "index_put"

    def forward(self, ctx, x, value, index, accumulate=False):
        index = _normalize("index_put", index)
        out = np.array(x)
        _check("index_put", index, out.shape)
        view, rest = _split(out, index)
        target = view[rest].shape
        v = np.asarray(value)
        extra = v.ndim - len(target)
        if extra > 0 and all(n == 1 for n in v.shape[:extra]):
            v = v.reshape(v.shape[extra:])
        try:
            v = np.broadcast_to(v, target)
        except ValueError:
            raise ValueError(f"index_put: value of shape {np.shape(value)} cannot be broadcast "
                             f"to the indexed shape {target}") from None
        v = v.astype(out.dtype, copy=False)
        if accumulate:
            _add_at(view, rest, v)
        else:
            view[rest] = v
        ctx.save(shape=out.shape, index=index, target=target, accumulate=accumulate,
                 value_shape=np.shape(value), value_dtype=np.result_type(value))
        return out

    def vjp(self, ctx, grad_out):
        needs_x, needs_value = ctx.needs_input_grad
        grad_x = grad_value = None
        if needs_x:
            grad_x = grad_out if ctx.accumulate else index_put(grad_out, 0.0, index=ctx.index)
        if needs_value:
            grad_value = getitem(grad_out, index=ctx.index)
            if not ctx.accumulate and not _is_basic(ctx.index):
                stays = _last_writes(ctx.index, ctx.shape, ctx.target)
                if stays is not None:
                    grad_value = where(stays, grad_value, 0.0)
            grad_value = _sum_to_value(grad_value, ctx.value_shape)
            if ctx.value_dtype.kind == "f" and ctx.value_dtype != grad_value.dtype:
                grad_value = to(grad_value, dtype=ctx.value_dtype)
        return grad_x, grad_value

    def jvp(self, ctx, x_dot, value_dot):
        if x_dot is None:
            x_dot = np.zeros(ctx.shape, dtype=value_dot.dtype)
        return index_put(x_dot, 0.0 if value_dot is None else value_dot, index=ctx.index,
                         accumulate=ctx.accumulate)

    def samples(self, rng):
        x = rng.standard_normal
        repeated = np.array([0, 2, 0])
        return [((x((4, 3)), x((3,))), {"index": np.array([0, 2])}),
                ((x((4, 3)), x((3, 3))), {"index": repeated, "accumulate": True}),
                ((x((4, 3)), x((3, 1))), {"index": repeated}),
                ((x((4, 3)), x(())), {"index": (slice(1, None), -1)}),
                ((x((3, 4)), x((1, 4))), {"index": 1}),
                ((x((3, 4)), x(())), {"index": rng.uniform(size=(3, 4)) > 0.5})]


def _sum_to_value(grad, value_shape):
    """Sum a gradient over the indexed shape back to value's shape, restoring
    the leading size-1 dimensions the forward dropped."""
    kept = value_shape[max(len(value_shape) - grad.ndim, 0):]
    grad = sum_to(grad, kept)
    return grad if kept == value_shape else reshape(grad, shape=value_shape)


basic_getitem, advanced_index, index_put = BasicGetitem, AdvancedIndex, IndexPut

# gather and scatter_add live in gather.py, cat, flip, repeat and pad in
# join.py; re-exported here so that the ops namespace (which star-imports
# this module) has them
from .gather import gather, scatter_add  # noqa: E402,F401
from .join import cat, flip, pad, repeat  # noqa: E402,F401

__all__ += ["gather", "scatter_add", "cat", "flip", "repeat", "pad"]
