"""exp, log, tanh and pow computed from + - * / and exact scaling, the same on every backend.

numpy's and XLA's own exp, tanh and log differ in the last bit on some inputs
(exp and tanh on 13-60%, log on about 0.2%), so a model that evaluates them
each step would drift apart between backends. These versions use only
IEEE-exact building blocks (basic arithmetic without FMA, rounding to an
integer, splitting off the binary exponent, multiplication by exact powers of
two from `xp.pow2`), so numpy and jax produce the same bits. exp and log are
within 1 ulp of the correctly rounded result, tanh within 3. `sqrt` is
correctly rounded by IEEE 754 on both backends and is taken from the array
module.
"""

from __future__ import annotations

import math

_LN2_HI = 6.93147180369123816490e-01  # ln 2 split so that k * _LN2_HI is exact (fdlibm)
_LN2_LO = 1.90821492927058770002e-10
_INV_LN2 = 1.44269504088896338700e00
_OVERFLOW = 709.782712893384  # exp(x) is inf above
_UNDERFLOW = -745.1332191019412  # exp(x) is 0 below
# 1/k! for k = 13 .. 2: the Taylor series of expm1(r) = r + r^2/2! + ... on |r| <= ln2 / 2,
# whose truncation error after r^13 is below 1e-17.
_TAYLOR = tuple(1.0 / math.factorial(k) for k in range(13, 1, -1))


def _expm1_reduced(r, xp):
    """expm1(r) for |r| <= ln 2 / 2, by Horner's rule."""
    p = _TAYLOR[0]
    for coefficient in _TAYLOR[1:]:
        p = p * r + coefficient
    return r + (r * r) * p


def _reduce(x, xp):
    """x = k ln2 + r with k an integer (as float) and |r| <= ln 2 / 2."""
    k = xp.rint(x * _INV_LN2)
    return k, (x - k * _LN2_HI) - k * _LN2_LO


def exp(x, xp):
    """e**x, elementwise."""
    x = xp.asarray(x)
    finite = xp.where(xp.isnan(x), 0.0, xp.clip(x, -746.0, 710.0))
    k, r = _reduce(finite, xp)
    k = k.astype(xp.int64)
    # Two exact scalings keep each power of two normal while the product reaches the subnormals.
    half = k >> 1
    value = ((1.0 + _expm1_reduced(r, xp)) * xp.pow2(half)) * xp.pow2(k - half)
    value = xp.where(x > _OVERFLOW, math.inf, xp.where(x < _UNDERFLOW, 0.0, value))
    return xp.where(xp.isnan(x), x, value)


def tanh(x, xp):
    """tanh(x) = -expm1(-2|x|) / (2 + expm1(-2|x|)), with the sign of x, elementwise."""
    x = xp.asarray(x)
    y = -2.0 * xp.minimum(xp.abs(x), 40.0)  # tanh(40) rounds to 1; also maps nan to nan
    k, r = _reduce(xp.where(xp.isnan(y), 0.0, y), xp)
    p = _expm1_reduced(r, xp)
    scale = xp.pow2(k.astype(xp.int64))
    m = xp.where(k == 0.0, p, scale * p + (scale - 1.0))  # expm1(y); scale - 1 is exact here
    return xp.where(xp.isnan(x), x, xp.copysign(xp.divide(-m, 2.0 + m), x))


# fdlibm's e_log.c: log(1 + f) = f - (f^2/2 - s (f^2/2 + R(s^2))), s = f / (2 + f).
_LOG_POLYNOMIAL = (
    1.479819860511658591e-01, 1.531383769920937332e-01, 1.818357216161805012e-01, 2.222219843214978396e-01,
    2.857142874366239149e-01, 3.999999999940941908e-01, 6.666666666666735130e-01,
)
_SQRT_HALF = 0.7071067811865476
_SMALLEST_NORMAL = 2.2250738585072014e-308


def log(x, xp):
    """The natural logarithm, elementwise; -inf at 0 (and for subnormals, which
    both backends read as 0), nan below 0."""
    x = xp.asarray(x)
    normal = (x >= _SMALLEST_NORMAL) & (x < math.inf)
    m, e = xp.frexp(xp.where(normal, x, 1.0))  # x = m 2^e, m in [1/2, 1): exact
    low = m < _SQRT_HALF
    f = xp.where(low, m * 2.0, m) - 1.0  # in [sqrt(1/2) - 1, sqrt(2) - 1), exactly
    k = xp.where(low, e - 1, e).astype(xp.float64)
    s = xp.divide(f, 2.0 + f)
    z = s * s
    r = _LOG_POLYNOMIAL[0]
    for coefficient in _LOG_POLYNOMIAL[1:]:
        r = r * z + coefficient
    r = r * z
    half_square = 0.5 * f * f
    value = k * _LN2_HI - ((half_square - (s * (half_square + r) + k * _LN2_LO)) - f)
    special = xp.where(x == math.inf, math.inf, xp.where(x < 0.0, math.nan, -math.inf))
    return xp.where(normal, value, xp.where(xp.isnan(x), x, special))


def power(base, exponent, xp):
    """base**exponent for a non-literal exponent, as exp(exponent * log(base)).

    Defined for base >= 0 (a negative base gives nan); literal integer exponents
    never come here (the kernel multiplies them out).
    """
    return exp(exponent * log(base, xp), xp)
