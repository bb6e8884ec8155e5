"""sin, cos and log10 of `brainsim.backends.xmath`: the same bits on numpy and jax (jitted),
accurate to 1 ulp (sin, cos) and 2 ulps (log10) against Python's `math`, on a wide range."""

from __future__ import annotations

import math
from decimal import Decimal, getcontext
from fractions import Fraction

import numpy as np
import pytest

from brainsim.backends import xmath
from tests.backends.test_kernel import NP, bits_equal, on_both

# pi to 100 digits, to derive the parts of pi/2 again.
PI = "3.141592653589793238462643383279502884197169399375105820974944592307816406286208998628034825342117068"


def arguments() -> np.ndarray:
    """Small and large magnitudes of both signs, multiples of pi/2 and pi (the hardest to
    reduce), and the edges: zeros, the limit 2^52, inf, nan."""
    rng = np.random.default_rng(7)
    magnitudes = np.exp(rng.uniform(-40.0, 36.0, 60_000)) * rng.choice([-1.0, 1.0], 60_000)
    multiples = np.arange(-20_000, 20_000) * (math.pi / 2)
    large = rng.uniform(2.0**40, 2.0**52, 5_000) * rng.choice([-1.0, 1.0], 5_000)
    edges = np.array([0.0, -0.0, 1e-300, 2.0**52, -(2.0**52), np.nextafter(2.0**52, 0), math.inf, -math.inf, math.nan])
    return np.concatenate([rng.uniform(-10.0, 10.0, 60_000), magnitudes, multiples, large, edges])


@pytest.mark.parametrize(("function", "reference"), [(xmath.sin, math.sin), (xmath.cos, math.cos)])
def test_sin_and_cos_are_identical_on_both_backends_and_within_one_ulp(function, reference) -> None:
    x = arguments()
    expected, got = on_both(lambda x, xp: function(x, xp), x)
    assert bits_equal(expected, got)
    inside = np.abs(x) < 2.0**52
    truth = np.array([reference(value) for value in x[inside]])
    error = np.abs(expected[inside] - truth) / np.spacing(np.maximum(np.abs(truth), np.finfo(float).tiny))
    assert error.max() <= 1.0
    assert np.all(np.isnan(expected[~inside]))  # |x| >= 2^52, inf and nan


def test_sin_keeps_the_sign_of_zero() -> None:
    expected, got = on_both(lambda x, xp: xmath.sin(x, xp), np.array([0.0, -0.0]))
    assert bits_equal(expected, np.array([0.0, -0.0])) and bits_equal(got, expected)


def test_log10_is_identical_on_both_backends_within_two_ulps_and_exact_at_powers_of_ten() -> None:
    rng = np.random.default_rng(8)
    x = np.concatenate([np.exp(rng.uniform(-700.0, 700.0, 100_000)), 10.0 ** np.arange(-300, 301), [0.0, -1.0, math.inf, math.nan]])
    expected, got = on_both(lambda x, xp: xmath.log10(x, xp), x)
    assert bits_equal(expected, got)
    finite = (x > 0) & np.isfinite(x)
    truth = np.log10(x[finite])
    error = np.abs(expected[finite] - truth) / np.spacing(np.maximum(np.abs(truth), np.finfo(float).tiny))
    assert error.max() <= 2.0
    powers = 10.0 ** np.arange(0, 23)  # exactly representable
    assert np.array_equal(xmath.log10(powers, NP), np.arange(0, 23))
    assert bits_equal(expected[-4:], np.array([-math.inf, math.nan, math.inf, math.nan]))


def test_the_parts_of_pi_over_2_sum_to_it_and_each_has_26_bits_at_most() -> None:
    getcontext().prec = 100
    half_pi = Fraction(Decimal(PI) / 2)
    parts = [Fraction(part) for part in xmath._PI_HALF_PARTS]
    assert abs(sum(parts) - half_pi) < Fraction(1, 2**196)
    for part in xmath._PI_HALF_PARTS:
        mantissa = int(abs(math.frexp(part)[0]) * 2**53)
        assert 53 - (mantissa & -mantissa).bit_length() + 1 <= 26, part


def test_the_taylor_kernels_truncate_below_1e_19_on_a_quarter_turn() -> None:
    r = math.pi / 4
    assert r**19 / math.factorial(19) < 1e-19 and r**20 / math.factorial(20) < 1e-19
