"""How numbers and arrays are written in every text, SVG and HTML output.

Numbers use the ASCII hyphen-minus (``-8.0``, never the typographic U+2212),
so anything shown can be copied back into Python and parsed. A float is
written with ``digits`` significant digits and always shows it is a float
(``3.0``, not ``3``); ``-0.0`` is written ``0.0``, since a signed zero in a
gradient table reads as a mistake. Arrays of at most ``SMALL`` elements are
written out in full; larger ones as a summary: min, mean and max.
"""
import math

import numpy as np

SMALL = 6        # arrays with at most this many elements are written out in full
DIGITS = 4       # significant digits of a float


def number(value, digits=DIGITS):
    """One number as text: ``-8.0``, ``0.7311``, ``nan``, ``-inf``."""
    if isinstance(value, (bool, np.bool_)):
        return "True" if value else "False"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    v = float(value)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v == 0:
        return "0.0"
    text = f"{v:.{digits}g}"
    if not any(c in text for c in ".en"):
        text += ".0"     # 3.0, not 3: the value is a float
    return text


def array(value, digits=DIGITS, small=SMALL):
    """An array (or number) as text: in full when small, else a summary."""
    a = np.asarray(value)
    if a.ndim == 0:
        return number(a.item(), digits)
    if a.size <= small:
        return _nested(a, digits)
    return summary(a, digits)


def _nested(a, digits):
    if a.ndim == 0:
        return number(a.item(), digits)
    return "[" + ", ".join(_nested(row, digits) for row in a) + "]"


def summary(a, digits=DIGITS):
    """``min -1.2 mean 0.1 max 2.3`` (over the finite entries, with a count of
    the others when there are any)."""
    a = np.asarray(a)
    if a.size == 0:
        return "empty"
    if a.dtype.kind == "b":
        return f"{int(a.sum())} of {a.size} true"
    finite = a[np.isfinite(a)] if a.dtype.kind in "fc" else a
    parts = []
    if finite.size:
        parts.append(f"min {number(finite.min(), digits)} mean {number(finite.mean(), digits)} "
                     f"max {number(finite.max(), digits)}")
    if finite.size != a.size:
        parts.append(f"{a.size - finite.size} non-finite")
    return ", ".join(parts)


def shape(value):
    """``(3, 4)``; ``()`` for a scalar."""
    s = tuple(np.shape(value))
    return "(" + ", ".join(str(n) for n in s) + ("," if len(s) == 1 else "") + ")"
