"""The error function ``erf`` (and its complement ``erfc``) on NumPy arrays.

    erf(x)  = 2/sqrt(pi) * integral_0^x exp(-t**2) dt,     erfc(x) = 1 - erf(x)

NumPy has no erf, and the short textbook approximations (Abramowitz & Stegun
7.1.26 and the like) are good to 1e-7 at best, while exact GELU,
``x/2 * (1 + erf(x/sqrt(2)))``, must be right to 1e-8. So this module
evaluates W. J. Cody's rational Chebyshev approximations (Math. Comp. 23,
1969, pp. 631-637), which are good to about 1e-16 relative in float64:

* ``|x| <= 0.46875``:  erf(x) = x * A(x**2) / B(x**2), degrees 4/4.
  Near zero erf is odd and ~ 2x/sqrt(pi), so the leading factor x keeps full
  relative accuracy down to the smallest subnormals.
* ``0.46875 < |x| <= 4``:  erfc(y) = exp(-y**2) * C(y) / D(y), degrees 8/8.
* ``|x| > 4``:  erfc(y) = exp(-y**2) / y * (1/sqrt(pi) - z * P(z) / Q(z)),
  z = 1/y**2, degrees 5/5 -- the asymptotic form, where erfc ~ exp(-y**2) /
  (y sqrt(pi)).

Away from zero erf is computed as ``1 - erfc(|x|)`` with the sign put back,
because erfc is the small, well-conditioned quantity there.

``exp(-y**2)`` is evaluated as ``exp(-s**2) * exp(-(y - s)(y + s))`` with
``s = y`` rounded down to a multiple of 1/16: ``s**2`` is exact, and the
rounding error of squaring y in one step (relative 1e-16, which exp would
multiply by y**2 ~ 700) is confined to the small second factor.

Special values: erf(+-inf) = +-1, erf(nan) = nan, erf(-0.0) = -0.0;
erfc(+inf) = 0, erfc(-inf) = 2. float16 and float32 inputs are computed in
float64 and rounded back, so they are correctly rounded nearly everywhere.
The result is always an ndarray of the input's shape and dtype (0-d in, 0-d
out). Integer, boolean and complex inputs raise TypeError instead of being
promoted silently; the op layer decides promotion.
"""
import numpy as np

# Coefficients of Cody's approximations, in ascending powers.
# |x| <= 0.46875: erf(x) = x * A(x^2) / B(x^2)
_ERF_A = (3.20937758913846947e03, 3.77485237685302021e02, 1.13864154151050156e02,
          3.16112374387056560e00, 1.85777706184603153e-1)
_ERF_B = (2.84423683343917062e03, 1.28261652607737228e03, 2.44024637934444173e02,
          2.36012909523441209e01, 1.0)
# 0.46875 < y <= 4: erfc(y) = exp(-y^2) * C(y) / D(y)
_ERFC_C = (1.23033935479799725e03, 2.05107837782607147e03, 1.71204761263407058e03,
           8.81952221241769090e02, 2.98635138197400131e02, 6.61191906371416295e01,
           8.88314979438837594e00, 5.64188496988670089e-1, 2.15311535474403846e-8)
_ERFC_D = (1.23033935480374942e03, 3.43936767414372164e03, 4.36261909014324716e03,
           3.29079923573345963e03, 1.62138957456669019e03, 5.37181101862009858e02,
           1.17693950891312499e02, 1.57449261107098347e01, 1.0)
# y > 4, z = 1/y^2: erfc(y) = exp(-y^2) / y * (1/sqrt(pi) - z * P(z) / Q(z))
_ERFC_P = (6.58749161529837803e-4, 1.60837851487422766e-2, 1.25781726111229246e-1,
           3.60344899949804439e-1, 3.05326634961232344e-1, 1.63153871373020978e-2)
_ERFC_Q = (2.33520497626869185e-3, 6.05183413124413191e-2, 5.27905102951428412e-1,
           1.87295284992346047e00, 2.56852019228982242e00, 1.0)

_INV_SQRT_PI = 0.56418958354775628695
_SMALL = 0.46875
_MIDDLE = 4.0
# erfc(y) underflows to 0 long before y = 40 (at about 27.3), so clamping y
# there changes no result and keeps y*16 and y*y far from overflow.
_CLAMP = 40.0


def erf(x):
    """Return erf(x) elementwise, same shape and floating dtype as ``x``."""
    x, dtype = _float64_copy("erf", x)
    flat = x.reshape(-1)
    y = np.abs(flat)
    out = np.empty_like(flat)

    # nan fails both comparisons and lands in the erfc branch, which keeps it nan
    small = y <= _SMALL
    out[small] = _erf_small(flat[small])
    large = ~small
    # 0.5 - e + 0.5 rather than 1 - e: the same in exact arithmetic, but it
    # rounds once near 1 instead of twice (Cody's ordering)
    out[large] = np.copysign((0.5 - _erfc_positive(y[large])) + 0.5, flat[large])
    return out.reshape(x.shape).astype(dtype, copy=False)


def erfc(x):
    """Return erfc(x) = 1 - erf(x) elementwise, same shape and dtype as ``x``.

    Accurate in relative terms also where erfc is tiny (x up to ~26.5; it
    underflows to 0 beyond about 27.3), which ``1 - erf(x)`` is not.
    """
    x, dtype = _float64_copy("erfc", x)
    flat = x.reshape(-1)
    y = np.abs(flat)
    out = np.empty_like(flat)

    small = y <= _SMALL
    out[small] = 1.0 - _erf_small(flat[small])
    large = ~small
    tail = _erfc_positive(y[large])
    # erfc(-y) = 2 - erfc(y)
    out[large] = np.where(flat[large] < 0, 2.0 - tail, tail)
    return out.reshape(x.shape).astype(dtype, copy=False)


def _float64_copy(name, x):
    """Return (x as a float64 ndarray, dtype the result must have)."""
    x = np.asarray(x)
    if x.dtype.kind != "f":
        raise TypeError(
            f"{name}: expected a floating-point array, got dtype {x.dtype}; "
            f"convert it first, e.g. x.astype(np.float64)")
    return x.astype(np.float64), x.dtype


def _polynomial(coefficients, t):
    """Horner evaluation of sum_k coefficients[k] * t**k."""
    value = np.full_like(t, coefficients[-1])
    for c in reversed(coefficients[:-1]):
        value = value * t + c
    return value


def _erf_small(x):
    """erf(x) for |x| <= 0.46875."""
    t = x * x
    return x * _polynomial(_ERF_A, t) / _polynomial(_ERF_B, t)


def _erfc_positive(y):
    """erfc(y) for y > 0.46875 (or nan)."""
    y = np.minimum(y, _CLAMP)
    middle = y <= _MIDDLE
    ratio = np.empty_like(y)

    ym = y[middle]
    ratio[middle] = _polynomial(_ERFC_C, ym) / _polynomial(_ERFC_D, ym)

    yt = y[~middle]
    z = 1.0 / (yt * yt)
    ratio[~middle] = (_INV_SQRT_PI - z * _polynomial(_ERFC_P, z) / _polynomial(_ERFC_Q, z)) / yt

    s = np.trunc(y * 16.0) / 16.0
    with np.errstate(under="ignore"):
        return np.exp(-s * s) * np.exp(-(y - s) * (y + s)) * ratio
