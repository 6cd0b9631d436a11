"""Joining and tiling gates: ``cat``, ``repeat``, ``flip`` and constant ``pad``.

Each moves elements without changing them (pad adds constants), so each
backward routes the gradient back along the same paths: ``cat`` splits it,
``repeat`` sums the tiles, ``flip`` flips it back, ``pad`` crops what it
padded (and zero-pads what it cropped).
"""
import numpy as np

from ..tensor import Tensor, _check_dim
from .binary import promote
from .index import basic_getitem
from .reduce import normalize_dims, sum
from .registry import Op, register
from .shape import reshape

__all__ = ["cat", "flip", "repeat", "pad"]


def _int_tuple(op, name, values):
    values = tuple(values)
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise TypeError(f"{op}: {name} must be ints, got {values!r}")
    return tuple(int(v) for v in values)


@register
class Cat(Op):
    """out = the inputs joined along ``dim`` (sizes must match in every other
    dimension). Mixed dtypes are promoted as PyTorch does (int64 with float32
    gives float32), by a recorded cast. As PyTorch, 1-D empty tensors (shape
    ``(0,)``) are skipped whatever the others' shapes.

    Gradient: grad_out split back into pieces of the inputs' sizes along dim."""
    name = "cat"

    def __call__(self, *tensors, dim=0):
        if not tensors:
            raise ValueError("cat: expects a non-empty sequence of tensors")
        dtypes = {np.result_type(t.data if isinstance(t, Tensor) else t) for t in tensors}
        if len(dtypes) > 1:
            tensors = promote(tensors)
        return Op.__call__(self, *tensors, dim=dim)

    def forward(self, ctx, *arrays, dim=0):
        arrays = [np.asarray(a) for a in arrays]
        skipped = [a.shape == (0,) for a in arrays]
        first = skipped.index(False) if not all(skipped) else 0
        ref = arrays[first]
        if ref.ndim == 0:
            raise ValueError(f"cat: the tensor at position {first} is zero-dimensional and "
                             f"cannot be concatenated; use stack, or unsqueeze it first")
        dim = _check_dim(dim, ref.ndim, "cat")
        for i, a in enumerate(arrays):
            if skipped[i] and i != first:
                continue
            if a.ndim != ref.ndim:
                raise ValueError(f"cat: the tensor at position {i} has shape {a.shape} but the "
                                 f"tensor at position {first} has shape {ref.shape}; all need "
                                 f"the same number of dimensions")
            for d, (m, n) in enumerate(zip(a.shape, ref.shape)):
                if d != dim and m != n:
                    raise ValueError(f"cat: the tensor at position {i} has shape {a.shape} but "
                                     f"the tensor at position {first} has shape {ref.shape}; "
                                     f"sizes must match except in dimension {dim} (they "
                                     f"differ in dimension {d})")
        kept = [a for a, s in zip(arrays, skipped) if not s] or arrays
        sizes = tuple(None if s and not all(skipped) else a.shape[dim]
                      for a, s in zip(arrays, skipped))
        ctx.save(dim=dim, sizes=sizes, shapes=tuple(a.shape for a in arrays))
        return np.concatenate(kept, axis=dim)

    def vjp(self, ctx, grad_out):
        grads, start = [], 0
        before = (slice(None),) * ctx.dim
        for needs, size in zip(ctx.needs_input_grad, ctx.sizes):
            if size is None:            # a skipped (0,) tensor
                grads.append(np.zeros((0,), dtype=grad_out.dtype) if needs else None)
                continue
            piece = before + (slice(start, start + size),)
            grads.append(basic_getitem(grad_out, index=piece) if needs else None)
            start += size
        return tuple(grads)

    def jvp(self, ctx, *tangents):
        dtype = next(t for t in tangents if t is not None).dtype
        return cat(*[np.zeros(shape, dtype=dtype) if t is None else t
                     for t, shape in zip(tangents, ctx.shapes)], dim=ctx.dim)

    def samples(self, rng):
        x = rng.standard_normal
        return [((x((2, 3)), x((2, 1)), x((2, 4))), {"dim": 1}),
                ((x((2, 3, 2)), x((1, 3, 2))), {"dim": 0}),
                ((x((3,)), x((2,))), {"dim": -1}),
                ((x((0,)), x((2, 2)), x((1, 2))), {"dim": 0})]


@register
class Flip(Op):
    """out = x reversed along each of ``dims``. A copy, as PyTorch's flip (NumPy's
    would be a view). Gradient: grad_out flipped back along the same dims."""
    name = "flip"

    def forward(self, ctx, x, dims):
        dims = normalize_dims("flip", dims, np.ndim(x)) if len(dims) else ()   # () flips nothing
        ctx.save(dims=dims)
        return np.flip(x, axis=dims).copy()

    def vjp(self, ctx, grad_out):
        return (flip(grad_out, dims=ctx.dims),)

    def jvp(self, ctx, x_dot):
        return flip(x_dot, dims=ctx.dims)

    def samples(self, rng):
        x = rng.standard_normal
        return [((x((2, 3, 4)),), {"dims": (0, 2)}),
                ((x((3, 2)),), {"dims": (-1,)}),
                ((x(()),), {"dims": ()})]


@register
class Repeat(Op):
    """out = x tiled ``sizes[i]`` times along dimension i (PyTorch's ``repeat``,
    NumPy's ``tile``). With more sizes than dimensions, x is first given
    leading size-1 dimensions; fewer sizes is an error.

    Gradient: each element of x appears once per tile, so its gradient is the
    sum over the tiles: grad_out reshaped to (r0, n0, r1, n1, ...) and summed
    over the r axes."""
    name = "repeat"

    def forward(self, ctx, x, sizes):
        sizes = _int_tuple("repeat", "sizes", sizes)
        shape = np.shape(x)
        if len(sizes) < len(shape):
            raise ValueError(f"repeat: got {len(sizes)} sizes {sizes} for a tensor of shape "
                             f"{shape}; give at least one size per dimension")
        if any(r < 0 for r in sizes):
            raise ValueError(f"repeat: sizes must be non-negative, got {sizes}")
        padded = (1,) * (len(sizes) - len(shape)) + shape
        ctx.save(shape=shape, sizes=sizes, padded=padded)
        return np.tile(np.reshape(x, padded), sizes)

    def vjp(self, ctx, grad_out):
        tiles = tuple(n for pair in zip(ctx.sizes, ctx.padded) for n in pair)
        grad = sum(reshape(grad_out, shape=tiles), dim=tuple(range(0, len(tiles), 2)))
        return (reshape(grad, shape=ctx.shape),)

    def jvp(self, ctx, x_dot):
        return repeat(x_dot, sizes=ctx.sizes)

    def samples(self, rng):
        x = rng.standard_normal
        return [((x((2, 3)),), {"sizes": (2, 1, 3)}),
                ((x((3,)),), {"sizes": (2, 2)}),
                ((x(()),), {"sizes": (3,)})]


@register
class Pad(Op):
    """Constant padding: ``pad = (left, right)`` pairs counted from the LAST
    dimension backwards, as PyTorch's ``F.pad``: (1, 2) pads the last
    dimension with 1 element before and 2 after; (1, 2, 0, 3) also pads the
    second-to-last with 0 and 3. Negative amounts crop. Formally, out[i] =
    x[i - left] where that lies inside x and ``value`` elsewhere, with out's
    size n + left + right (which must not be negative).

    Gradient: the adjoint of that window is the window with the amounts
    negated and value 0: pad(grad_out, -pad) crops what was padded and
    zero-pads what was cropped."""
    name = "pad"

    def forward(self, ctx, x, pad, value=0):
        pad = _int_tuple("pad", "pad", pad)
        x = np.asarray(x)
        if len(pad) % 2 or len(pad) // 2 > x.ndim:
            raise ValueError(f"pad: pad must hold (left, right) pairs for at most {x.ndim} "
                             f"dimension(s) of the tensor of shape {x.shape}, got {pad}")
        if isinstance(value, Tensor) or not isinstance(value, (int, float, np.number)):
            raise TypeError(f"pad: value must be a Python number, got {type(value).__name__}")
        widths = [(0, 0)] * x.ndim
        for k in range(len(pad) // 2):
            widths[x.ndim - 1 - k] = (pad[2 * k], pad[2 * k + 1])
        out_shape = tuple(n + lo + hi for n, (lo, hi) in zip(x.shape, widths))
        if any(n < 0 for n in out_shape):
            raise ValueError(f"pad: padding {pad} gives the tensor of shape {x.shape} the "
                             f"negative size {out_shape}; crop less")
        out = np.full(out_shape, value, dtype=x.dtype)
        src, dst = [], []
        for n, (lo, hi) in zip(x.shape, widths):
            start, stop = max(0, -lo), min(n, n + hi)   # the part of x that survives
            length = max(0, stop - start)
            src.append(slice(start, start + length))
            dst.append(slice(max(0, lo), max(0, lo) + length))
        out[tuple(dst)] = x[tuple(src)]
        ctx.save(pad=pad)
        return out

    def vjp(self, ctx, grad_out):
        return (pad(grad_out, pad=tuple(-p for p in ctx.pad)),)

    def jvp(self, ctx, x_dot):
        return pad(x_dot, pad=ctx.pad)

    def samples(self, rng):
        x = rng.standard_normal
        return [((x((2, 3, 4)),), {"pad": (1, 2)}),
                ((x((2, 3, 4)),), {"pad": (1, -1, -1, 2, 0, 1), "value": 0.5}),
                ((x((3,)),), {"pad": (2, -4)})]


cat, flip, repeat, pad = Cat, Flip, Repeat, Pad
