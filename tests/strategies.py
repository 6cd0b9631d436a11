"""hypothesis strategies for the shapes and options ops are tested on.

Shapes run from 0-d to ``max_dims`` dimensions with sides from 0 (size-0
tensors) to ``max_side``; small sides keep each example cheap and still reach
every broadcasting and reduction case.
"""
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

MAX_DIMS, MAX_SIDE = 3, 4


def shapes(min_dims=0, max_dims=MAX_DIMS, min_side=0, max_side=MAX_SIDE):
    """Array shapes, 0-d and size-0 included by default."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def broadcast_pairs(max_dims=MAX_DIMS, min_side=0, max_side=MAX_SIDE):
    """``(shape_a, shape_b)`` that broadcast together: different numbers of
    dimensions, size-1 dimensions stretched either way, 0-d and size-0."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=2, min_dims=0, max_dims=max_dims, min_side=min_side,
        max_side=max_side).map(lambda shapes: shapes.input_shapes)


@st.composite
def dims(draw, ndim):
    """A reduction's ``dim`` for a tensor of ``ndim`` dimensions: ``None``, an
    int, or a non-empty tuple of distinct dimensions, each possibly negative.

    A 0-d tensor accepts dim 0 and -1, as in PyTorch. The empty tuple is left
    out: PyTorch reads ``dim=()`` as "every dimension" while NumPy reads
    ``axis=()`` as "no dimension", so it is not a case with one meaning.
    """
    size = max(ndim, 1)
    kind = draw(st.sampled_from(("none", "int", "tuple")))
    if kind == "none":
        return None
    if kind == "int":
        return draw(st.integers(-size, size - 1))
    chosen = draw(st.lists(st.integers(0, size - 1), min_size=1, max_size=size, unique=True))
    return tuple(d - size if draw(st.booleans()) else d for d in chosen)


@st.composite
def reductions(draw, min_side=0, max_side=MAX_SIDE):
    """``(shape, dim, keepdim)`` for a reduction."""
    shape = draw(shapes(min_side=min_side, max_side=max_side))
    return shape, draw(dims(len(shape))), draw(st.booleans())


def seeds():
    """Seeds for the NumPy generator that fills an example's arrays from the
    op's own domain (hypothesis chooses shapes; the values need no shrinking)."""
    return st.integers(0, 2**32 - 1)
