"""Linear algebra gates: ``matmul`` (PyTorch's 1-D, 2-D and batched rules)
and ``einsum``.

Both are linear in each input, so each input's gradient is the same kind of
product taken with the upstream gradient in the output's place, and each
forward-mode rule is the sum of the op applied with one tangent at a time.
The formulas call ``matmul``/``einsum``/``permute``/``reshape`` themselves, so
under create_graph the backward pass is recorded and differentiates again.
"""
import math
import string

import numpy as np

from .broadcast import sum_to
from .registry import Op, register
from .shape import permute, reshape

__all__ = ["matmul", "einsum"]


def _same_dtype(op, arrays):
    """PyTorch multiplies matrices of one dtype only; so do we (no silent
    promotion that would hand a float32 input a float64 gradient)."""
    first = np.result_type(arrays[0])
    for a in arrays[1:]:
        other = np.result_type(a)
        if other != first:
            raise TypeError(f"{op}: all operands must have the same dtype, got {first} and "
                            f"{other}; convert one first, e.g. with .to({first}) or .double()")


def mT(x):
    """``x`` with its last two axes swapped (a view; recorded under create_graph)."""
    nd = x.ndim
    return permute(x, dims=tuple(range(nd - 2)) + (nd - 1, nd - 2))


def _is_transposed(x):
    """Whether ``x`` is a matrix stored column by column (the transpose of a
    contiguous one), as ``w.T`` is."""
    flags = getattr(x, "flags", None)
    return flags is not None and x.ndim == 2 and flags.f_contiguous and not flags.c_contiguous


@register
class Matmul(Op):
    """z = a @ b with PyTorch's (and NumPy's) rules:

    * 1-D @ 1-D: the dot product, a 0-d result;
    * 2-D @ 2-D: the matrix product (m, k) @ (k, n) -> (m, n);
    * 1-D @ N-D: a is treated as a row (1, k), then that 1 is removed;
      N-D @ 1-D: b as a column (k, 1), then that 1 is removed;
    * N-D: a stack of matrix products over the leading (batch) dimensions,
      which broadcast against each other.

    Gradients (for the matrix case): grad_a = grad_z @ b^T and
    grad_b = a^T @ grad_z; a batch dimension that was broadcast is summed
    back with ``sum_to``; a removed 1 is put back for the product and taken
    out of the result. Only the gradients ``needs_input_grad`` asks for are
    computed, and only the inputs they need are saved.

    Speed: an N-D @ 2-D product (a Linear layer on a batch of sequences) is
    done as one 2-D product of the flattened batch, several times faster
    than NumPy's loop over the stack; its weight gradient likewise.
    Both operands must have the same dtype (as PyTorch).
    """
    name = "matmul"

    def forward(self, ctx, a, b):
        sa, sb = np.shape(a), np.shape(b)
        if not sa or not sb:
            raise ValueError(f"matmul: both operands must have at least one dimension, got "
                             f"shapes {sa} and {sb}; multiply by a scalar with * instead")
        ka, kb = sa[-1], sb[-2] if len(sb) > 1 else sb[0]
        if ka != kb:
            raise ValueError(f"matmul: shapes {sa} and {sb} do not align ({ka} != {kb})")
        _same_dtype("matmul", (a, b))
        needs = getattr(ctx, "needs_input_grad", None)
        if needs is not None:
            # grad_a needs b, grad_b needs a: keep only those (as PyTorch), so a
            # later in-place change of an input no gradient reads is no error
            ctx.save(shape_a=sa, shape_b=sb, a=a if needs[1] else None,
                     b=b if needs[0] else None,
                     transposed=(_is_transposed(a), _is_transposed(b)))
        if len(sa) > 2 and len(sb) <= 2:
            # one 2-D product of the flattened batch: (B..., m, k) -> (B...*m, k)
            out = np.matmul(np.reshape(a, (math.prod(sa[:-1]), ka)), b)
            return out.reshape(sa[:-1] + sb[1:])
        try:
            return np.matmul(a, b)
        except ValueError:
            raise ValueError(f"matmul: the batch dimensions {sa[:-2]} and {sb[:-2]} of shapes "
                             f"{sa} and {sb} cannot be broadcast together (each pair must "
                             f"be equal or 1)") from None

    def vjp(self, ctx, grad_out):
        need_a, need_b = ctx.needs_input_grad
        sa, sb = ctx.shape_a, ctx.shape_b
        if len(sa) == 2 and len(sb) == 2:
            # the common case in full: exactly the two products, nothing else. An
            # operand that is a transposed matrix (w.T in x @ w.T, as in Linear)
            # gets its gradient in the same layout, as the transpose of the
            # product for w itself: its way back to w's gradient is then a
            # contiguous array, not a strided one that would have to be copied.
            t_a, t_b = ctx.transposed
            grad_a = grad_b = None
            if need_a:
                grad_a = mT(matmul(ctx.b, mT(grad_out))) if t_a else matmul(grad_out, mT(ctx.b))
            if need_b:
                grad_b = mT(matmul(mT(grad_out), ctx.a)) if t_b else matmul(mT(ctx.a), grad_out)
            return grad_a, grad_b
        # put back the 1 a vector operand lost, so every case is a matrix product
        vec_a, vec_b = len(sa) == 1, len(sb) == 1
        sa2 = (1,) + sa if vec_a else sa
        sb2 = sb + (1,) if vec_b else sb
        g = grad_out
        if vec_a or vec_b:
            g = reshape(g, shape=np.broadcast_shapes(sa2[:-2], sb2[:-2]) + (sa2[-2], sb2[-1]))
        grad_a = grad_b = None
        if need_a:
            b = reshape(ctx.b, shape=sb2) if vec_b else ctx.b
            grad_a = sum_to(matmul(g, mT(b)), sa2)
            if vec_a:
                grad_a = reshape(grad_a, shape=sa)
        if need_b:
            a = reshape(ctx.a, shape=sa2) if vec_a else ctx.a
            if len(sb2) == 2 and len(sa2) > 2:
                # a batch against one matrix: fold the batch into one product
                rows = math.prod(g.shape[:-1])
                grad_b = matmul(mT(reshape(a, shape=(rows, sb2[0]))), reshape(g, shape=(rows, sb2[1])))
            else:
                grad_b = sum_to(matmul(mT(a), g), sb2)
            if vec_b:
                grad_b = reshape(grad_b, shape=sb)
        return grad_a, grad_b

    def jvp(self, ctx, a_dot, b_dot):
        terms = []
        if a_dot is not None:
            terms.append(matmul(a_dot, ctx.b))
        if b_dot is not None:
            terms.append(matmul(ctx.a, b_dot))
        return terms[0] if len(terms) == 1 else terms[0] + terms[1]

    def samples(self, rng):
        d = self.domain
        pairs = (((3,), (3,)), ((2, 3), (3, 4)), ((3,), (3, 4)), ((2, 3), (3,)),
                 ((2, 2, 3), (3, 4)), ((2, 1, 2, 3), (3, 3, 2)), ((3,), (2, 3, 4)),
                 ((2, 3, 4), (4,)), ((2, 3), (4, 3, 2)))
        return [((d.sample(rng, sa), d.sample(rng, sb)), {}) for sa, sb in pairs]


# -- einsum ------------------------------------------------------------------
_LETTERS = string.ascii_letters


def _parse(equation, shapes):
    """The equation with every ``...`` spelled out in letters: ``(inputs,
    output)``, each a string of single-letter subscripts, one per dimension.

    An operand's ellipsis stands for its dimensions not otherwise named; the
    ellipses of all operands are aligned from the right (they broadcast), and
    the output's ``...`` (or, in implicit mode, the output's front) gets all of
    them. Implicit mode (no ``->``) outputs the letters used exactly once, in
    alphabetical order, as NumPy and PyTorch do.
    """
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")      # forward has checked them against the operands
    used = set(eq) - set(".,->")
    spare = [c for c in _LETTERS if c not in used]
    ell_ndim = [len(s) - (len(t) - 3) if "..." in t else 0 for t, s in zip(terms, shapes)]
    width = max(ell_ndim, default=0)
    if width > len(spare):
        _unsupported(equation, "too many dimensions under '...'")
    ell = "".join(spare[:width])
    inputs = [t.replace("...", ell[width - n:] if n else "") for t, n in zip(terms, ell_ndim)]
    if arrow:
        output = rhs.replace("...", ell)
    else:
        counts = {c: lhs.count(c) for c in used}
        output = ell + "".join(sorted(c for c, n in counts.items() if n == 1))
    return inputs, output, spare[width:]


def _unsupported(equation, why):
    raise NotImplementedError(f"einsum: the gradient of {equation!r} is not supported ({why})")


@register
class Einsum(Op):
    """Einstein summation, ``einsum(*operands, equation="ij,jk->ik")``, with
    NumPy's (and PyTorch's) subscripts: ``...`` for broadcast dimensions, a
    letter repeated in one operand for its diagonal (``"ii->i"``), implicit
    output when there is no ``->``, size-1 dimensions broadcasting. The
    forward is ``np.einsum`` (with ``optimize=True`` for more than two
    operands, where the contraction order matters).

    The output is linear in each operand, so the gradient of operand i is an
    einsum of grad_out (in the output's place) with the other operands,
    producing operand i's subscripts. Three things need more than swapping
    subscripts, each handled by one more constant operand:

    * a letter repeated in operand i (its diagonal): the gradient lives on
      the diagonal only, so each repeat gets a fresh letter and the identity
      matrix over the pair (``"ii"`` becomes ``"ij"`` times ``eye`` over
      ``"ij"``);
    * a letter of operand i found nowhere else, or only at size 1 (it was
      summed away in the forward, or broadcast): every element along it gets
      the same gradient, so a vector of ones supplies the dimension;
    * a size-1 dimension of operand i that broadcast against a longer one:
      it gets a fresh letter of size 1 (with ones), so the longer one is
      summed over.

    Running out of letters for these raises NotImplementedError naming the
    equation. Both operands' dtypes must agree (as PyTorch).
    """
    name = "einsum"

    def forward(self, ctx, *operands, equation):
        if not isinstance(equation, str):
            raise TypeError(f"einsum: equation must be a string such as 'ij,jk->ik', got "
                            f"{type(equation).__name__}")
        if not operands:
            raise ValueError("einsum: expects at least one operand")
        _same_dtype("einsum", operands)
        try:
            out = np.einsum(equation, *operands, optimize=len(operands) > 2)
        except ValueError as e:
            shapes = ", ".join(str(np.shape(x)) for x in operands)
            raise ValueError(f"einsum: {equation!r} does not fit operands of shapes "
                             f"{shapes}: {e}") from None
        ctx.save(equation=equation, shapes=tuple(np.shape(x) for x in operands),
                 **{f"operand{i}": x for i, x in enumerate(operands)})
        return np.asarray(out)

    def _operands(self, ctx):
        return [getattr(ctx, f"operand{i}") for i in range(len(ctx.shapes))]

    def vjp(self, ctx, grad_out):
        inputs, output, spare = _parse(ctx.equation, ctx.shapes)
        operands = self._operands(ctx)
        sizes = {}
        for subs, shape in zip(inputs, ctx.shapes):
            for c, n in zip(subs, shape):
                sizes[c] = max(sizes.get(c, 1), n)
        return tuple(
            self._grad(ctx.equation, i, inputs, output, operands, grad_out, sizes, spare)
            if need else None for i, need in enumerate(ctx.needs_input_grad))

    def _grad(self, equation, i, inputs, output, operands, grad_out, sizes, spare):
        """Operand i's gradient as one einsum (see the class docstring)."""
        dtype = grad_out.dtype
        fresh = iter(spare)
        terms = [output] + [s for j, s in enumerate(inputs) if j != i]
        args = [grad_out] + [x for j, x in enumerate(operands) if j != i]
        target, first = "", {}      # first: a letter of operand i -> its letter in target
        for c, n in zip(inputs[i], np.shape(operands[i])):
            if c in first or (n == 1 and sizes[c] > 1):
                letter = next(fresh, None)
                if letter is None:
                    _unsupported(equation, "it needs more subscript letters than remain")
                if c in first:      # a repeat: tie it to the first occurrence by eye
                    terms.append(first[c] + letter)
                    args.append(np.eye(n, dtype=dtype))
            else:
                letter = c
            first.setdefault(c, letter)
            target += letter
        # any letter the other terms do not supply at full length comes from ones
        available = {}
        for subs, x in zip(terms, args):
            for c, n in zip(subs, np.shape(x)):
                available[c] = max(available.get(c, 0), n)
        for c, n in zip(target, np.shape(operands[i])):
            if available.get(c, 0) < n:
                terms.append(c)
                args.append(np.ones(n, dtype=dtype))
                available[c] = n
        return einsum(*args, equation=",".join(terms) + "->" + target)

    def jvp(self, ctx, *tangents):
        operands = self._operands(ctx)
        out_dot = None
        for i, t in enumerate(tangents):
            if t is None:
                continue
            term = einsum(*operands[:i], t, *operands[i + 1:], equation=ctx.equation)
            out_dot = term if out_dot is None else out_dot + term
        return out_dot

    def samples(self, rng):
        d = self.domain
        cases = (("ij,jk->ik", ((2, 3), (3, 4))), ("i,i->", ((3,), (3,))),
                 ("ii->i", ((3, 3),)), ("ii", ((3, 3),)), ("ij->", ((2, 3),)),
                 ("ij->j", ((2, 3),)), ("iij->ji", ((2, 2, 3),)),
                 ("...ij,...jk->...ik", ((2, 1, 2, 3), (4, 3, 2))),
                 ("bij,bjk->bik", ((1, 2, 3), (4, 3, 2))), ("i,j->ij", ((2,), (3,))),
                 ("ij,jk,kl->il", ((2, 3), (3, 4), (4, 2))), ("ij,j", ((2, 3), (3,))),
                 ("i...->...", ((2, 3, 4),)), ("ij,kj->ik", ((2, 3), (2, 3))))
        return [(tuple(d.sample(rng, s) for s in shapes), {"equation": eq})
                for eq, shapes in cases]


matmul, einsum = Matmul, Einsum
