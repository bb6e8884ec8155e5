"""exp, expm1, log, log10, tanh, sin, cos and pow computed from + - * / and exact scaling, the same on every backend.

numpy's and XLA's own exp, tanh and log differ in the last bit on some inputs
(exp and tanh on 13-60%, log on about 0.2%), so a model that evaluates them
each step would drift apart between backends. These versions use only
IEEE-exact building blocks (basic arithmetic without FMA, rounding to an
integer, splitting off the binary exponent, multiplication by exact powers of
two from `xp.pow2`), so numpy and jax produce the same bits. exp and log are
within 1 ulp of the correctly rounded result, expm1 within 2 ulps of glibc's, tanh within 3; sin and cos
within 1 ulp for |x| < 2^52 (nan beyond), log10 within 2 ulps and exact at
powers of ten (measured against Python's `math` on a million arguments, see
tests/backends/test_xmath_trig.py). `sqrt` is correctly rounded by IEEE 754 on both backends and
`floor` is exact, so both are taken from the array module.

All of this is float64 work. A program in float32 (`xp.float_dtype`) takes
each function from the array module instead (`float64_only`): bit-identity
across backends is promised in float64 only, a float32 run is judged against
the float64 reference (`brainsim.precision`), and the module's native float32
functions are the fast ones (docs/decisions.md, "float32").
"""

from __future__ import annotations

import functools
import math

_LN2_HI = 6.93147180369123816490e-01  # ln 2 split so that k * _LN2_HI is exact (fdlibm)
_LN2_LO = 1.90821492927058770002e-10
_INV_LN2 = 1.44269504088896338700e00
_OVERFLOW = 709.782712893384  # exp(x) is inf above
_UNDERFLOW = -745.1332191019412  # exp(x) is 0 below
# 1/k! for k = 13 .. 2: the Taylor series of expm1(r) = r + r^2/2! + ... on |r| <= ln2 / 2,
# whose truncation error after r^13 is below 1e-17.
_TAYLOR = tuple(1.0 / math.factorial(k) for k in range(13, 1, -1))


def float64_only(own):
    """`own(x, xp)` where `xp` computes in float64, else the array module's function of
    the same name (numpy's and jax.numpy's exp, log, ... are named alike)."""
    name = own.__name__

    @functools.wraps(own)
    def function(x, xp):
        if xp.float_dtype == xp.float64:
            return own(x, xp)
        return getattr(xp, name)(x)

    return function


def _horner(z, coefficients: tuple):
    """c[0] z^(m-1) + c[1] z^(m-2) + ... + c[m-1] by Horner's rule, ((c[0] z + c[1]) z + c[2]) ...

    After the first product the steps run in place: numpy then reuses one array instead of
    allocating two per coefficient (a third faster on 4 000 values), and jax, whose arrays
    are immutable, rebinds the names to new values. The operations, and so the bits, are
    the same either way.
    """
    p = z * coefficients[0] + coefficients[1]
    for coefficient in coefficients[2:]:
        p *= z
        p += coefficient
    return p


def _expm1_reduced(r):
    """expm1(r) = r + r^2 P(r) for |r| <= ln 2 / 2."""
    value = r * r
    value *= _horner(r, _TAYLOR)
    value += r
    return value


def _clamped(x, xp):
    """x limited to [-746, 710], past which exp and expm1 saturate, and nan replaced by a
    number (the callers put the nan back at the end): fmax and fmin ignore nan."""
    return xp.fmin(xp.fmax(x, -746.0), 710.0)


def _reduce(x, xp):
    """x = k ln2 + r with k an integer (as float) and |r| <= ln 2 / 2."""
    k = xp.rint(x * _INV_LN2)
    return k, (x - k * _LN2_HI) - k * _LN2_LO


@float64_only
def exp(x, xp):
    """e**x, elementwise."""
    x = xp.asarray(x)
    finite = _clamped(x, xp)
    k, r = _reduce(finite, xp)
    k = k.astype(xp.int64)
    # Two exact scalings keep each power of two normal while the product reaches the subnormals.
    half = k >> 1
    value = ((1.0 + _expm1_reduced(r)) * xp.pow2(half)) * xp.pow2(k - half)
    value = xp.where(x > _OVERFLOW, math.inf, xp.where(x < _UNDERFLOW, 0.0, value))
    return xp.where(xp.isnan(x), x, value)


@float64_only
def expm1(x, xp):
    """e**x - 1, elementwise, without the cancellation of exp(x) - 1 near 0.

    With x = k ln2 + r: expm1(x) = 2^k expm1(r) + (2^k - 1), where 2^k - 1 is exact for
    the k at hand, and expm1(r) itself for k = 0 (fdlibm's s_expm1.c splits the same way);
    below k = -60 it is -1, and at k = 1024, where 2^k overflows, 2 (2^1023 (1 + p)).
    """
    x = xp.asarray(x)
    finite = _clamped(x, xp)
    k, r = _reduce(finite, xp)
    p = _expm1_reduced(r)
    k = k.astype(xp.int64)
    scale = xp.pow2(xp.minimum(xp.maximum(k, -60), 1023))  # below 2^-60 the value rounds to -1 whatever p is
    value = xp.where(k == 0, p, scale * p + (scale - 1.0))
    value = xp.where(k > 1023, (scale * (1.0 + p)) * 2.0, value)
    value = xp.where(x > _OVERFLOW, math.inf, value)
    value = xp.where(x == 0.0, xp.copysign(0.0, x), value)  # -0 stays -0 (a subnormal x reads as 0)
    return xp.where(xp.isnan(x), x, value)


@float64_only
def tanh(x, xp):
    """tanh(x) = -expm1(-2|x|) / (2 + expm1(-2|x|)), with the sign of x, elementwise."""
    x = xp.asarray(x)
    y = -2.0 * xp.minimum(xp.abs(x), 40.0)  # tanh(40) rounds to 1; also maps nan to nan
    k, r = _reduce(xp.where(xp.isnan(y), 0.0, y), xp)
    p = _expm1_reduced(r)
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


def _log_pieces(x, xp):
    """x = 2^k (1 + f) with 1 + f in [sqrt(1/2), sqrt(2)), and the parts of log(1 + f).

    Returns (normal, k, f, f^2 / 2, correction) where log(1 + f) = f - (f^2/2 - correction);
    `normal` marks the x that are finite normal positive numbers.
    """
    normal = (x >= _SMALLEST_NORMAL) & (x < math.inf)
    m, e = xp.frexp(xp.where(normal, x, 1.0))  # x = m 2^e, m in [1/2, 1): exact
    low = m < _SQRT_HALF
    f = xp.where(low, m * 2.0, m) - 1.0  # in [sqrt(1/2) - 1, sqrt(2) - 1), exactly
    k = xp.where(low, e - 1, e).astype(xp.float64)
    s = xp.divide(f, 2.0 + f)
    z = s * s
    r = _horner(z, _LOG_POLYNOMIAL)
    r *= z
    half_square = 0.5 * f * f
    return normal, k, f, half_square, s * (half_square + r)


def _log_special(x, normal, value, xp):
    """`value` for normal x; -inf at 0 (and subnormals, which both backends read as 0), nan below 0."""
    special = xp.where(x == math.inf, math.inf, xp.where(x < 0.0, math.nan, -math.inf))
    return xp.where(normal, value, xp.where(xp.isnan(x), x, special))


@float64_only
def log(x, xp):
    """The natural logarithm, elementwise; -inf at 0 (and for subnormals, which
    both backends read as 0), nan below 0."""
    x = xp.asarray(x)
    normal, k, f, half_square, correction = _log_pieces(x, xp)
    value = k * _LN2_HI - ((half_square - (correction + k * _LN2_LO)) - f)
    return _log_special(x, normal, value, xp)


# log10(2) split so that k * _LOG10_2_HI is exact for every binary exponent k (41 bits).
_LOG10_2_HI = 0.30102999566383914
_LOG10_2_LO = 1.42050232272661e-13
_INV_LN10 = 0.4342944819032518


@float64_only
def log10(x, xp):
    """The base-10 logarithm, elementwise: k log10(2) + log(1 + f) / ln 10 (x = 2^k (1 + f)),
    with k log10(2) in two parts, so that powers of ten give whole numbers exactly."""
    x = xp.asarray(x)
    normal, k, f, half_square, correction = _log_pieces(x, xp)
    log_mantissa = f - (half_square - correction)
    value = k * _LOG10_2_HI + (k * _LOG10_2_LO + _INV_LN10 * log_mantissa)
    return _log_special(x, normal, value, xp)


# pi/2 as a sum of seven doubles of at most 26 significant bits each (the last one ends
# 2^-197 short of pi/2), so that n * part is exact for |n| < 2^27 (Cody and Waite's
# reduction, carried to enough parts for every argument below 2^52; tests derive the
# parts again from a decimal pi).
_PI_HALF_PARTS = (
    1.5707963407039642, -1.3909067675399456e-08, 6.123233932053594e-17, 6.368317178484799e-25,
    -1.497384905065873e-33, 2.0670320881522304e-43, 2.1674168387780482e-51,
)
_TWO_OVER_PI = 0.6366197723675814
# Above this, doubles are 1 or more apart and the reduction would need 2/pi to a thousand
# bits (Payne and Hanek); sin and cos give nan there.
_TRIG_LIMIT = 2.0**52
# Taylor series on |r| <= pi/4: sin r = r + r^3 (-1/3! + r^2/5! - ...), up to r^17,
# cos r = 1 - r^2/2 + r^4 (1/4! - r^2/6! + ...), up to r^18; both truncation errors are
# below 1e-19.
_SIN_TAYLOR = tuple((-1.0) ** k / math.factorial(2 * k + 1) for k in range(8, 0, -1))
_COS_TAYLOR = tuple((-1.0) ** k / math.factorial(2 * k) for k in range(9, 1, -1))


def _two_sum(a, b):
    """a + b as s + e exactly (Knuth's TwoSum: only additions, no FMA)."""
    s = a + b
    b_virtual = s - a
    return s, (a - (s - b_virtual)) + (b - b_virtual)


def _reduce_quadrant(x, xp):
    """x = n pi/2 + (r + r_tail) with |r| <= pi/4, and n mod 4.

    n = rint(x 2/pi) is split in two (a multiple of 2^26 and the rest) so that each
    product with a part of pi/2 is exact, and each subtraction is exact (TwoSum): only
    the small errors are summed with rounding. Above about 2^50 the rounded x 2/pi can
    miss the nearest n by one, so a second pass takes off the multiple of pi/2 left.
    """
    n = xp.rint(x * _TWO_OVER_PI)
    high = xp.rint(n * 2.0**-26) * 2.0**26
    r, tail = _subtract_multiples(x, xp.zeros_like(x), (high, n - high))
    missed = xp.rint(r * _TWO_OVER_PI)
    r, tail = _subtract_multiples(r, tail, (missed,))
    n = n + missed
    return r, tail, n - 4.0 * xp.floor(n * 0.25)


def _subtract_multiples(r, tail, multiples):
    """(r + tail) - sum(multiples) pi/2, as a normalised pair."""
    for part in _PI_HALF_PARTS:
        for multiple in multiples:
            r, error = _two_sum(r, -(multiple * part))
            tail = tail + error
    return _two_sum(r, tail)


def _sin_reduced(r, tail, z):
    """sin(r + tail) for |r| <= pi/4, z = r^2: sin r + tail cos r."""
    p = _horner(z, _SIN_TAYLOR)
    return r + ((r * z) * p + tail * (1.0 - 0.5 * z))


def _cos_reduced(r, tail, z):
    """cos(r + tail) for |r| <= pi/4, z = r^2: cos r - tail sin r, with 1 - z/2 rounded once."""
    p = _horner(z, _COS_TAYLOR)
    half_z = 0.5 * z
    w = 1.0 - half_z
    return w + (((1.0 - w) - half_z) + ((z * z) * p - r * tail))


def _sin_cos(x, xp, shift: float):
    """sin(x + shift pi/2) for shift 0 (sin) or 1 (cos), elementwise."""
    x = xp.asarray(x)
    inside = xp.abs(x) < _TRIG_LIMIT  # false for inf and nan too
    safe = xp.where(inside, x, 0.0)
    r, tail, quadrant = _reduce_quadrant(safe, xp)
    z = r * r
    sine, cosine = _sin_reduced(r, tail, z), _cos_reduced(r, tail, z)
    quadrant = quadrant + shift
    quadrant = xp.where(quadrant == 4.0, 0.0, quadrant)
    value = xp.where(
        quadrant == 0.0, sine, xp.where(quadrant == 1.0, cosine, xp.where(quadrant == 2.0, -sine, -cosine))
    )
    return xp.where(inside, value, math.nan)


@float64_only
def sin(x, xp):
    """The sine, elementwise; nan for |x| >= 2^52 (where doubles are 1 or more apart), inf and nan."""
    x = xp.asarray(x)
    return xp.where(x == 0.0, x, _sin_cos(x, xp, 0.0))  # keeps the sign of -0


@float64_only
def cos(x, xp):
    """The cosine, elementwise; nan for |x| >= 2^52, inf and nan."""
    return _sin_cos(x, xp, 1.0)


def power(base, exponent, xp):
    """base**exponent for a non-literal exponent, as exp(exponent * log(base)).

    Defined for base >= 0 (a negative base gives nan); literal integer exponents
    never come here (the kernel multiplies them out).
    """
    return exp(exponent * log(base, xp), xp)
