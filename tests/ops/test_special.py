"""erf and erfc against math.erf/math.erfc (C libm) and torch.special in float64."""
import math

import numpy as np
import pytest
import torch

from chainrule.ops.special import erf, erfc

# breakpoints between Cody's three approximations, where errors would show first
BREAKPOINTS = (0.46875, 4.0)


def _math(fn, x):
    return np.array([fn(v) for v in np.asarray(x, dtype=np.float64).ravel()]).reshape(np.shape(x))


def _dense_grid():
    coarse = np.linspace(-30.0, 30.0, 120_001)
    near_breaks = [b + s * np.linspace(0.0, 1e-3, 2_001) for b in BREAKPOINTS for s in (-1, 1)]
    return np.concatenate([coarse, *near_breaks, *(-g for g in near_breaks)])


def _random_points(rng):
    """Normal draws at several scales plus log-uniform magnitudes from subnormal to 1e3."""
    normal = np.concatenate([rng.standard_normal(20_000) * s for s in (0.1, 1.0, 3.0, 10.0)])
    magnitude = 10.0 ** rng.uniform(-320, 3, 20_000)
    return np.concatenate([normal, magnitude * rng.choice([-1.0, 1.0], magnitude.size)])


def _relative_error(got, want):
    """Relative error where the reference is a normal double.

    Subnormal values carry fewer significant digits, so there the error is
    measured by ``_subnormal_error`` in units of the smallest subnormal.
    """
    normal = np.abs(want) >= np.finfo(np.float64).tiny
    return np.abs(got - want)[normal] / np.abs(want)[normal]


def _subnormal_error(got, want):
    subnormal = np.abs(want) < np.finfo(np.float64).tiny
    return np.abs(got - want)[subnormal] / np.finfo(np.float64).smallest_subnormal


def test_erf_matches_math_erf_on_dense_grid():
    x = _dense_grid()
    got, want = erf(x), _math(math.erf, x)
    assert np.max(np.abs(got - want)) < 1e-14
    assert np.max(_relative_error(got, want)) < 1e-15


def test_erf_matches_math_erf_on_random_points():
    x = _random_points(np.random.default_rng(0))
    got, want = erf(x), _math(math.erf, x)
    assert np.max(np.abs(got - want)) < 1e-14
    assert np.max(_relative_error(got, want)) < 1e-15
    assert np.max(_subnormal_error(got, want)) <= 1


def test_erfc_relative_accuracy_in_the_tail():
    x = np.concatenate([_dense_grid(), _random_points(np.random.default_rng(1))])
    got, want = erfc(x), _math(math.erfc, x)
    assert np.max(_relative_error(got, want)) < 2e-15
    # near its underflow (x ~ 27) exp(-x**2) is already subnormal before it is
    # multiplied by the rational factor, and each product rounds again
    assert np.max(_subnormal_error(got, want)) <= 4


def test_erf_and_erfc_match_torch_special_in_float64():
    x = _random_points(np.random.default_rng(2))
    want_erf = torch.special.erf(torch.from_numpy(x)).numpy()
    want_erfc = torch.special.erfc(torch.from_numpy(x)).numpy()
    assert np.max(np.abs(erf(x) - want_erf)) < 1e-15
    assert np.max(_relative_error(erf(x), want_erf)) < 2e-15
    assert np.max(_subnormal_error(erf(x), want_erf)) <= 1
    assert np.max(_relative_error(erfc(x), want_erfc)) < 2e-15


def test_exact_gelu_built_on_erf_meets_the_contract():
    x = np.random.default_rng(3).standard_normal(10_000) * 5
    gelu = 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))
    want = torch.nn.functional.gelu(torch.from_numpy(x)).numpy()
    assert np.max(np.abs(gelu - want)) < 1e-8


def test_special_values():
    x = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0, 1e308, -1e308, 5e-324, -5e-324, 1e-200])
    got = erf(x)
    np.testing.assert_array_equal(got, _math(math.erf, x))
    assert np.signbit(got[4]) and not np.signbit(got[3])
    np.testing.assert_array_equal(erfc(x), _math(math.erfc, x))


def test_erf_is_exactly_odd():
    x = _random_points(np.random.default_rng(4))
    np.testing.assert_array_equal(erf(-x), -erf(x))


@pytest.mark.parametrize("dtype", [np.float16, np.float32])
def test_low_precision_in_same_dtype_out_correctly_rounded(dtype):
    x = np.linspace(-6, 6, 20_001).astype(dtype)
    for fn, ref in ((erf, math.erf), (erfc, math.erfc)):
        got = fn(x)
        assert got.dtype == dtype
        # computed in float64 and rounded once: within one unit in the last place
        want = _math(ref, x).astype(dtype)
        assert np.all(np.abs(got.astype(np.float64) - want) <= np.spacing(np.abs(want)))


def test_shapes_0d_size0_and_strided_input():
    scalar = erf(np.array(0.5))
    assert isinstance(scalar, np.ndarray) and scalar.shape == ()
    assert scalar == pytest.approx(math.erf(0.5), rel=1e-15)

    empty = erf(np.zeros((0, 3), dtype=np.float32))
    assert empty.shape == (0, 3) and empty.dtype == np.float32

    base = np.random.default_rng(5).standard_normal((6, 8))
    strided = base.T[::2]
    before = strided.copy()
    got = erf(strided)
    assert got.shape == strided.shape
    np.testing.assert_allclose(got, _math(math.erf, strided), rtol=1e-15, atol=0)
    np.testing.assert_array_equal(strided, before)


@pytest.mark.parametrize("fn", [erf, erfc])
@pytest.mark.parametrize("bad", [np.arange(3), np.array([True]), np.array([1 + 2j])])
def test_non_float_input_is_refused(fn, bad):
    name = fn.__name__
    with pytest.raises(TypeError, match=rf"{name}: expected a floating-point array, got dtype "
                                        rf"{bad.dtype}; convert it first"):
        fn(bad)
