"""Runtime random numbers: Philox4x32-10 written once against `xp`, the same bits on every backend.

A draw is a pure function of (seed, stream, step, neuron): nothing is carried
from step to step, so the numbers do not depend on the backend, on how a run
is cut into chunks, on batching or on the number of devices. The generator is
Philox4x32-10 (Salmon, Moraes, Dror, Shaw, "Parallel random numbers: as easy
as 1, 2, 3", SC11, 2011; the Random123 library), in integer arithmetic that
numpy and XLA both do exactly: each 32-bit word is held in a uint64, so that
the 32 x 32 -> 64-bit products of the rounds are exact.

The layout of one draw (`random_words`):

    key     = (seed mod 2**32, seed div 2**32)                           the run
    counter = (neuron, step mod 2**32,
               step div 2**32 + (stream mod 2**24) * 2**8, stream div 2**24)

`neuron` is the index within its population, `step` the step n of
docs/semantics.md (below 2**40: `brainsim.resources.MAX_TOTAL_STEPS`), and
`stream` a 56-bit id the host gives each use of randomness (`stream_id`): a
48-bit hash of the purpose and the population's *name* (so the numbers of a
population do not depend on where it is declared, nor on the other populations:
`brainsim.network.keys`), and a number within both (one population's k-th
noise, say) in its low 8 bits. One call gives four
32-bit words per neuron: two make a `uniform`, two more an independent second one.

Floating-point results are bit-identical on both backends as well: `uniform`
is exact integer-to-float conversion and scaling, and `normal` is Wichura's
AS241 inverse normal CDF from + - * `xp.divide`, `xp.sqrt` and `xmath.log`,
with `xp.where` in place of branches.

Speed per 10**5 draws (one step of 10**5 neurons), CPU time on the shared 2-core
development machine: numpy `random_words` 3.4 ms, then `uniform` 0.13 ms more or
`normal` 11.3 ms more (5 ms of it `xmath.log`, which every element pays because
there are no branches); jax under `jax.jit`, words and uniform 0.8 ms, words and
normal 2.5 ms. The numpy figures came from this command (on one line), then
with the statement "r.uniform(w, xp)" and "r.normal(w, xp)":

    python -m timeit -p -s "import numpy as np; from brainsim.backends import random as r;
        from brainsim.backends.numpy_backend import NumpyNumerics; xp = NumpyNumerics(); n = np.arange(10**5);
        w = r.random_words(42, 7, 12345, n, xp)" "r.random_words(42, 7, 12345, n, xp)"
"""

from __future__ import annotations

from brainsim.backends import xmath
from brainsim.network.keys import name_hash

POISSON = 1  # the purpose of a stream: the spikes of a Poisson source
NOISE = 2  # the purpose of a stream: white noise in an equation
STIMULUS = 3  # the purpose of a stream: a noise current (Ornstein-Uhlenbeck) of a stimulus

_NUMBER_BITS = 8
_HASH_DROPPED = 16  # of the name's 64-bit hash: 48 bits are kept
_STEP_HIGH_BITS = 8  # the step's bits above 32: steps below 2**40
_LOW_32 = 0xFFFFFFFF
_ROUNDS = 10
# Philox4x32's round multipliers, and the Weyl sequence that bumps the key between
# rounds (the golden ratio and sqrt(3) - 1 as 32-bit fractions), from Salmon et al.
_MULTIPLIERS = (0xD2511F53, 0xCD9E8D57)
_WEYL = (0x9E3779B9, 0xBB67AE85)


def stream_id(purpose: int, population: str, k: int) -> int:
    """The 56-bit stream of one use of randomness: the top 48 bits of a hash of `purpose` and
    the population's name (`brainsim.network.keys.name_hash`), then `k` in the low 8 bits.
    Two of a network's streams are the same by chance with probability about n^2 / 2^49 for n
    populations (1e-10 for a hundred).

    Args:
        purpose: what the numbers are for, `POISSON`, `NOISE` or `STIMULUS` (below 2**8).
        population: the population's (qualified) name.
        k: which use of that purpose in that population (below 2**8).

    Raises:
        ValueError: `purpose` or `k` out of its range, which would alias another stream.
    """
    for name, value in (("purpose", purpose), ("k", k)):
        if not 0 <= value < 1 << _NUMBER_BITS:
            raise ValueError(f"a stream's {name} is in [0, {1 << _NUMBER_BITS}), not {value}")
    return name_hash(population, salt=purpose) >> _HASH_DROPPED << _NUMBER_BITS | k


def philox4x32(counter, key, xp):
    """Philox4x32-10 of `counter` under `key`, elementwise over the counters' broadcast shape.

    Args:
        counter: four words, each an integer or integer array with values in [0, 2**32).
        key: two such words (integers or arrays: a traced seed is fine).
        xp: the array module.

    Returns:
        Four uint32 arrays.
    """
    c0, c1, c2, c3 = (_wide(word, xp) for word in counter)
    k0, k1 = (_wide(word, xp) for word in key)
    m0, m1 = _MULTIPLIERS
    for round_ in range(_ROUNDS):
        if round_:
            k0, k1 = (k0 + _WEYL[0]) & _LOW_32, (k1 + _WEYL[1]) & _LOW_32
        p0, p1 = m0 * c0, m1 * c2
        c0, c1, c2, c3 = (p1 >> 32) ^ c1 ^ k0, p1 & _LOW_32, (p0 >> 32) ^ c3 ^ k1, p0 & _LOW_32
    return tuple(word.astype(xp.uint32) for word in xp.broadcast_arrays(c0, c1, c2, c3))


def random_words(seed, stream, step, neuron, xp):
    """The four random 32-bit words of `neuron` in step `step` of `stream`, in the run of `seed`.

    Args:
        seed: the network's seed, an int in [0, 2**64) (or an integer array, e.g. traced).
        stream: a `stream_id` (an int, or a uint64 array that broadcasts against `neuron`).
        step: the step number, in [0, 2**40) (`brainsim.resources.MAX_TOTAL_STEPS`), an int or an int64 scalar
            (traced under jax); it may also be an array that broadcasts against `neuron`.
        neuron: integer array of indices within the population.
        xp: the array module.

    Returns:
        Four uint32 arrays of the broadcast shape of `step` and `neuron`.

    Raises:
        ValueError: an int seed outside [0, 2**64), which the key cannot hold.
    """
    match seed:
        case int() if not 0 <= seed < 1 << 64:
            raise ValueError(f"a seed for runtime randomness is in [0, 2**64), not {seed}")
    # As uint64 before they share a word: int64 | uint64 would promote to float64 (jax, numpy).
    step, stream = _wide(step, xp), _wide(stream, xp)
    low, high = _LOW_32 >> _STEP_HIGH_BITS, 32 - _STEP_HIGH_BITS
    counter = (neuron, step & _LOW_32, (step >> 32) | (stream & low) << _STEP_HIGH_BITS, stream >> high)
    return philox4x32(counter, (seed & _LOW_32, seed >> 32), xp)


def uniform(words, xp):
    """Uniform floats (`xp.float_dtype`) in the open interval (0, 1) from the first two of `words`.

    In float64, 52 random bits: u = (2j + 1) 2**-53 for j = (w0 >> 6) 2**26 + (w1 >> 6),
    so every u is exact, the smallest is 2**-53, the largest 1 - 2**-53, and 1 - u is a
    value as likely as u (the mean is exactly 1/2). (A 53rd bit would need u = (j + 1/2)
    2**-53 with j < 2**53, which float64 cannot hold and would round up to 1.)
    In float32 the same with 23 bits of w0 alone: u = (2j + 1) 2**-24, j = w0 >> 9.
    `uniform(words[2:], xp)` is an independent second variate from the same call.
    """
    if xp.float_dtype == xp.float32:
        return ((words[0] >> 8) | 1).astype(xp.float32) * 2.0**-24  # (w0 >> 9) * 2 + 1
    high = (words[0] >> 6).astype(xp.float64)
    low = ((words[1] >> 5) | 1).astype(xp.float64)  # (w1 >> 6) * 2 + 1
    return high * 2.0**-26 + low * 2.0**-53


def normal(words, xp):
    """Standard normal floats (`xp.float_dtype`) from the first two of `words`: `normal_quantile(uniform(words))`."""
    return normal_quantile(uniform(words, xp), xp)


# Wichura, "Algorithm AS 241: the percentage points of the normal distribution",
# Applied Statistics 37 (1988) 477-484, PPND16: rational approximations in three regions,
# coefficients highest degree first (the denominators' constant terms are 1).
_CENTRAL_SPLIT, _CENTRAL_OFFSET = 0.425, 0.180625
_TAIL_SPLIT, _NEAR_OFFSET = 5.0, 1.6
_CENTRAL = (
    (2.5090809287301226727e3, 3.3430575583588128105e4, 6.7265770927008700853e4, 4.5921953931549871457e4,
     1.3731693765509461125e4, 1.9715909503065514427e3, 1.3314166789178437745e2, 3.3871328727963666080e0),
    (5.2264952788528545610e3, 2.8729085735721942674e4, 3.9307895800092710610e4, 2.1213794301586595867e4,
     5.3941960214247511077e3, 6.8718700749205790830e2, 4.2313330701600911252e1, 1.0),
)
_NEAR_TAIL = (
    (7.74545014278341407640e-4, 2.27238449892691845833e-2, 2.41780725177450611770e-1, 1.27045825245236838258e0,
     3.64784832476320460504e0, 5.76949722146069140550e0, 4.63033784615654529590e0, 1.42343711074968357734e0),
    (1.05075007164441684324e-9, 5.47593808499534494600e-4, 1.51986665636164571966e-2, 1.48103976427480074590e-1,
     6.89767334985100004550e-1, 1.67638483018380384940e0, 2.05319162663775882187e0, 1.0),
)
_FAR_TAIL = (
    (2.01033439929228813265e-7, 2.71155556874348757815e-5, 1.24266094738807843860e-3, 2.65321895265761230930e-2,
     2.96560571828504891230e-1, 1.78482653991729133580e0, 5.46378491116411436990e0, 6.65790464350110377720e0),
    (2.04426310338993978564e-15, 1.42151175831644588870e-7, 1.84631831751005468180e-5, 7.86869131145613259100e-4,
     1.48753612908506148525e-2, 1.36929880922735805310e-1, 5.99832206555887937690e-1, 1.0),
)


def normal_quantile(p, xp):
    """The standard normal quantile Phi^-1(p), elementwise, for normal floats p in (0, 1)
    (Wichura's AS241); `uniform`'s values are all such. In float32 the same
    coefficients, rounded, and the array module's log (`xmath.float64_only`).

    Relative error about 1e-16 (the approximation's) plus a few roundings. Every
    region's rational function is evaluated on every element, and one division
    serves all three: for such p each polynomial's argument stays in [-4.2, 25.1]
    outside its region too, where all are finite and every denominator is at least
    0.002, so the values thrown away raise no warnings.
    """
    q = p - 0.5
    central = xp.abs(q) <= _CENTRAL_SPLIT
    r = _CENTRAL_OFFSET - q * q
    # sqrt(-log(p)) in the lower tail, with p -> 1 - p (exact there) in the upper one.
    t = xp.sqrt(-xmath.log(xp.minimum(p, 1.0 - p), xp))
    near = t <= _TAIL_SPLIT
    near_t, far_t = t - _NEAR_OFFSET, t - _TAIL_SPLIT
    tail_numerator = xp.where(near, _horner(_NEAR_TAIL[0], near_t), _horner(_FAR_TAIL[0], far_t))
    numerator = xp.where(central, q * _horner(_CENTRAL[0], r), xp.copysign(tail_numerator, q))
    denominator = xp.where(central, _horner(_CENTRAL[1], r),
                           xp.where(near, _horner(_NEAR_TAIL[1], near_t), _horner(_FAR_TAIL[1], far_t)))
    return xp.divide(numerator, denominator)


def _horner(coefficients, x):
    value = coefficients[0]
    for coefficient in coefficients[1:]:
        value = value * x + coefficient
    return value


def _wide(word, xp):
    """A 32-bit word as uint64, so that products of two words are exact."""
    return xp.asarray(word).astype(xp.uint64)
