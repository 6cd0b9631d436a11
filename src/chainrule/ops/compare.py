"""Comparisons: elementwise, broadcasting, bool results, no gradient."""
import numpy as np

from .registry import Op, register

__all__ = ["eq", "ne", "lt", "le", "gt", "ge"]


class Compare(Op):
    differentiable = False

    def forward(self, ctx, x, y):
        return self.ufunc(x, y)

    def samples(self, rng):
        return []


@register
class Eq(Compare):
    name = "eq"
    ufunc = staticmethod(np.equal)


@register
class Ne(Compare):
    name = "ne"
    ufunc = staticmethod(np.not_equal)


@register
class Lt(Compare):
    name = "lt"
    ufunc = staticmethod(np.less)


@register
class Le(Compare):
    name = "le"
    ufunc = staticmethod(np.less_equal)


@register
class Gt(Compare):
    name = "gt"
    ufunc = staticmethod(np.greater)


@register
class Ge(Compare):
    name = "ge"
    ufunc = staticmethod(np.greater_equal)


eq, ne, lt, le, gt, ge = Eq, Ne, Lt, Le, Gt, Ge
