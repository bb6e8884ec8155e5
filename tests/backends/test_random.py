"""The runtime generator: Philox4x32-10's known answers, the same bits on both backends, and the
statistics of its uniform and normal variates.

Every statistical test below draws from fixed seeds, so it passes or fails the same way each run;
each bound is a few standard errors of its statistic (or a 1% critical value), so a wrong
generator or a wrong transform fails it, while this right one would pass for most seeds.
"""

import math

import jax
import numpy as np
import pytest

from brainsim.backends import random
from brainsim.backends.jax_backend import JaxNumerics
from brainsim.backends.numpy_backend import NumpyNumerics
from brainsim.network.keys import name_hash

NP, JAX = NumpyNumerics(), JaxNumerics()
SEED = 0x1234_5678_9ABC_DEF0  # both halves of the key non-zero
STREAM = random.stream_id(random.POISSON, "Input.drive", 1)
N_NEURONS = 100_000
NEURONS = np.arange(N_NEURONS)
STEPS = (0, 1, 12_345, 2**32 + 7)  # the last one needs the step's high bits


def words(seed=SEED, stream=STREAM, step=0, neuron=NEURONS, xp=NP):
    return random.random_words(seed, stream, step, neuron, xp)


# --------------------------------------------------------------------------- Philox4x32-10

# Random123's known-answer vectors for philox4x32 with 10 rounds: counter (4 words), key
# (2 words), result (4 words); DEShawResearch/random123, tests/kat_vectors, commit 9545ff6.
KNOWN_ANSWERS = [
    ((0x00000000, 0x00000000, 0x00000000, 0x00000000), (0x00000000, 0x00000000),
     (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF), (0xFFFFFFFF, 0xFFFFFFFF),
     (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
]


@pytest.mark.parametrize("counter, key, expected", KNOWN_ANSWERS)
def test_philox_gives_random123s_known_answers(counter, key, expected):
    result = random.philox4x32(counter, key, NP)
    assert all(word.dtype == np.uint32 for word in result)
    assert tuple(int(word) for word in result) == expected


def test_philox_gives_the_known_answers_elementwise_and_under_jit_on_jax():
    # The three vectors as one array of counters under one key array per word: the broadcast
    # path, with every word a runtime argument.
    counters = [np.array([c[i] for c, _, _ in KNOWN_ANSWERS], dtype=np.uint32) for i in range(4)]
    keys = [np.array([k[i] for _, k, _ in KNOWN_ANSWERS], dtype=np.uint32) for i in range(2)]
    expected = [np.array([e[i] for _, _, e in KNOWN_ANSWERS], dtype=np.uint32) for i in range(4)]
    on_numpy = random.philox4x32(counters, keys, NP)
    on_jax = jax.jit(lambda c, k: random.philox4x32(c, k, JAX))(counters, keys)
    for got_numpy, got_jax, want in zip(on_numpy, on_jax, expected):
        assert np.array_equal(got_numpy, want)
        assert np.asarray(got_jax).dtype == np.uint32 and np.array_equal(np.asarray(got_jax), want)


def test_flipping_any_bit_of_counter_or_key_changes_every_output_word_and_half_the_bits():
    rng = np.random.default_rng(5)
    n = 1000
    counter = [rng.integers(0, 2**32, n, dtype=np.uint64) for _ in range(4)]
    key = [rng.integers(0, 2**32, n, dtype=np.uint64) for _ in range(2)]
    base = random.philox4x32(counter, key, NP)
    for word in range(6):
        for bit in range(32):
            flipped = [w.copy() for w in counter + key]
            flipped[word] ^= np.uint64(1 << bit)
            out = random.philox4x32(flipped[:4], flipped[4:], NP)
            changes = [a ^ b for a, b in zip(base, out)]
            assert all((c != 0).all() for c in changes), (word, bit)
            # 128 000 output bits, each flipped with probability 1/2: standard error 0.0014.
            fraction = sum(np.unpackbits(c.view(np.uint8)).mean() for c in changes) / 4
            assert abs(fraction - 0.5) < 0.01, (word, bit, fraction)


# --------------------------------------------------------------------------- the stream layout


def test_stream_id_is_a_hash_of_purpose_and_name_with_the_number_in_its_low_byte():
    stream = random.stream_id(random.NOISE, "Cortex.exc", 0x56)
    assert stream == name_hash("Cortex.exc", salt=random.NOISE) >> 16 << 8 | 0x56
    assert stream & 0xFF == 0x56 and stream < 2**56
    assert stream == random.stream_id(random.NOISE, "Cortex.exc", 0x56)  # a function of its arguments only
    others = {random.stream_id(purpose, name, k) for purpose in (random.POISSON, random.NOISE, random.STIMULUS)
              for name in ("Cortex.exc", "Cortex.inh", "cortex.exc") for k in (0, 1, 255)}
    assert len(others) == 27


@pytest.mark.parametrize("purpose, population, k", [(256, "R.p", 0), (1, "R.p", 256), (-1, "R.p", 0), (1, "R.p", -1)])
def test_stream_id_rejects_parts_that_would_alias_another_stream(purpose, population, k):
    with pytest.raises(ValueError, match="a stream's"):
        random.stream_id(purpose, population, k)


@pytest.mark.parametrize("seed", [-1, 2**64])
def test_a_seed_the_key_cannot_hold_is_rejected(seed):
    with pytest.raises(ValueError, match="seed"):
        words(seed=seed)


def test_random_words_are_philox_of_the_documented_counter_and_key():
    step = 2**32 * 3 + 17
    counter = (NEURONS[:10], 17, 3 | (STREAM & 0xFFFFFF) << 8, STREAM >> 24)
    expected = random.philox4x32(counter, (SEED & 0xFFFFFFFF, SEED >> 32), NP)
    for got, want in zip(words(step=step, neuron=NEURONS[:10]), expected):
        assert np.array_equal(got, want)


def test_a_draw_depends_on_its_neuron_and_step_only_not_on_chunks_or_batches():
    whole = words(step=12_345)
    pieces = [words(step=12_345, neuron=NEURONS[a:b]) for a, b in ((0, 1), (1, 40_000), (40_000, N_NEURONS))]
    batched = words(step=np.array(STEPS)[:, None])
    for i in range(4):
        assert np.array_equal(np.concatenate([p[i] for p in pieces]), whole[i])
        for row, step in enumerate(STEPS):
            assert np.array_equal(batched[i][row], words(step=step)[i])


# --------------------------------------------------------------------------- both backends


def bits(x) -> np.ndarray:
    return np.asarray(x).view(np.uint64)


@pytest.mark.parametrize("step", STEPS)
def test_words_uniforms_and_normals_are_bit_identical_on_numpy_and_jitted_jax(step):
    def draw(step, neuron, xp):
        w = random.random_words(SEED, STREAM, step, neuron, xp)
        return w, random.uniform(w, xp), random.uniform(w[2:], xp), random.normal(w, xp)

    expected = draw(step, NEURONS, NP)
    got = jax.jit(lambda step, neuron: draw(step, neuron, JAX))(np.int64(step), NEURONS)
    for want, have in zip(expected[0], got[0]):
        assert np.array_equal(want, np.asarray(have))
    for want, have in zip(expected[1:], got[1:]):
        assert np.array_equal(bits(want), bits(have))


def test_a_scan_over_steps_on_jax_draws_what_the_numpy_loop_draws():
    neurons = NEURONS[:5_000]

    def body(carry, step):
        return carry, random.normal(random.random_words(SEED, STREAM, step, neurons, JAX), JAX)

    _, scanned = jax.jit(lambda steps: jax.lax.scan(body, 0, steps))(np.arange(100, 164))
    looped = np.stack([random.normal(words(step=step, neuron=neurons), NP) for step in range(100, 164)])
    assert np.array_equal(bits(scanned), bits(looped))


# Standard normal quantiles of these (binary) p, by Newton's method on Phi in 120-digit decimal
# arithmetic (erfc by its Taylor series below 7, its continued fraction above), the first two also
# the textbook values 1.959963984540054 (of decimal 0.975) and -6.361340902404056; one p in each region of AS241 and
# the smallest and largest uniforms, 2**-53 and 1 - 2**-53.
QUANTILES = [
    (0.975, 1.9599639845400539),
    (1e-10, -6.3613409024040562),
    (0.6, 0.25334710313579974),
    (0.9, 1.2815515655446006),
    (0.3, -0.52440051270804082),
    (1e-20, -9.2623400897984076),
    (2.0**-53, -8.2095361516013869),
    (1 - 2.0**-53, 8.2095361516013869),
    (1e-300, -37.047096299361199),
]


def test_as241_coefficients_match_wichuras_transcription_hash_sums():
    # AS241 publishes, for each region, the sum of the mantissas of its coefficients (the
    # denominators' leading 1 left out) "for use in checking transcription".
    def mantissa(x):
        return x / 10 ** math.floor(math.log10(x))

    published = {"AB": 55.8831928806149014439, "CD": 49.33206503301610289036, "EF": 47.52583317549289671629}
    for name, (numerator, denominator) in zip(published, (random._CENTRAL, random._NEAR_TAIL, random._FAR_TAIL)):
        assert denominator[-1] == 1.0
        total = sum(map(mantissa, numerator)) + sum(map(mantissa, denominator[:-1]))
        assert abs(total - published[name]) < 1e-13, name


def test_normal_quantile_matches_known_quantiles_to_1e_15_on_both_backends():
    p = np.array([p for p, _ in QUANTILES])
    expected = np.array([x for _, x in QUANTILES])
    on_numpy = random.normal_quantile(p, NP)
    on_jax = np.asarray(jax.jit(lambda p: random.normal_quantile(p, JAX))(p))
    assert np.array_equal(bits(on_numpy), bits(on_jax))
    np.testing.assert_allclose(on_numpy, expected, rtol=1e-15, atol=0)


def test_normal_quantile_is_bit_identical_on_both_backends_across_all_three_regions():
    p = np.concatenate([np.geomspace(1e-300, 0.5, 20_000), 1 - np.geomspace(2.0**-53, 0.5, 20_000)])
    on_jax = jax.jit(lambda p: random.normal_quantile(p, JAX))(p)
    assert np.array_equal(bits(random.normal_quantile(p, NP)), bits(on_jax))


# --------------------------------------------------------------------------- uniform variates


def test_uniform_is_the_documented_exact_value_and_stays_inside_the_open_interval():
    w = words(step=7, neuron=NEURONS[:1000])
    u = random.uniform(w, NP)
    j = (w[0].astype(np.int64) >> 6 << 26) + (w[1].astype(np.int64) >> 6)
    assert np.array_equal(u, np.array([math.ldexp(2 * int(k) + 1, -53) for k in j]))
    extremes = random.uniform((np.array([0, 2**32 - 1], np.uint32), np.array([0, 2**32 - 1], np.uint32)), NP)
    assert extremes.tolist() == [2.0**-53, 1 - 2.0**-53]


def uniforms(n_steps=10) -> np.ndarray:
    """10**6 uniforms: one per neuron and step, from the first two words of each draw."""
    return np.concatenate([random.uniform(words(step=step), NP) for step in range(n_steps)])


def test_uniform_mean_variance_and_kolmogorov_smirnov_distance():
    u = uniforms()
    n = len(u)
    # Mean 1/2, variance 1/12; the variance of the sample variance is (mu_4 - sigma^4) / n
    # = (1/80 - 1/144) / n = 1 / (180 n).
    assert abs(u.mean() - 0.5) < 4 * math.sqrt(1 / 12 / n)
    assert abs(u.var() - 1 / 12) < 4 * math.sqrt(1 / 180 / n)
    u.sort()
    ranks = np.arange(1, n + 1)
    distance = max((ranks / n - u).max(), (u - (ranks - 1) / n).max())
    assert distance < 1.63 / math.sqrt(n)  # the asymptotic 1% critical value


def correlation(a, b) -> float:
    return float(np.corrcoef(a, b)[0, 1])


def test_different_streams_steps_neurons_seeds_and_words_are_uncorrelated():
    base = words(step=5)
    others = {
        "stream": words(stream=random.stream_id(random.POISSON, "Input.drive", 2), step=5),
        "purpose": words(stream=random.stream_id(random.NOISE, "Input.drive", 1), step=5),
        "population": words(stream=random.stream_id(random.POISSON, "Input.drivf", 1), step=5),
        "step": words(step=6),
        "seed": words(seed=SEED + 1, step=5),
        "neuron": words(step=5, neuron=NEURONS + 1),
    }
    bound = 4 / math.sqrt(N_NEURONS)  # four standard errors of a correlation of independent samples
    u = random.uniform(base, NP)
    for name, other in others.items():
        assert abs(correlation(u, random.uniform(other, NP))) < bound, name
        # equal 32-bit words by chance: 10**5 / 2**32 expected, so none
        assert not any((a == b).any() for a, b in zip(base, other)), name
    assert abs(correlation(u, random.uniform(base[2:], NP))) < bound
    assert abs(correlation(u[:-1], u[1:])) < bound


# --------------------------------------------------------------------------- normal variates


def normals(n_steps=10) -> np.ndarray:
    return np.concatenate([random.normal(words(step=step), NP) for step in range(n_steps)])


def test_normal_moments():
    z = normals()
    n = len(z)
    centred = z - z.mean()
    variance = (centred**2).mean()
    skewness = (centred**3).mean() / variance**1.5
    excess_kurtosis = (centred**4).mean() / variance**2 - 3
    # Standard errors for n normal samples: 1/sqrt(n), sqrt(2/n), sqrt(6/n), sqrt(24/n).
    assert abs(z.mean()) < 4 / math.sqrt(n)
    assert abs(variance - 1) < 4 * math.sqrt(2 / n)
    assert abs(skewness) < 4 * math.sqrt(6 / n)
    assert abs(excess_kurtosis) < 4 * math.sqrt(24 / n)


def test_normal_kolmogorov_smirnov_distance_against_phi():
    z = np.sort(normals(n_steps=2))
    n = len(z)
    phi = np.frompyfunc(lambda x: 0.5 * math.erfc(-x / math.sqrt(2)), 1, 1)(z).astype(np.float64)
    ranks = np.arange(1, n + 1)
    distance = max((ranks / n - phi).max(), (phi - (ranks - 1) / n).max())
    assert distance < 1.63 / math.sqrt(n)


def test_normal_is_exactly_odd_on_the_uniform_grid():
    # 1 - u is exact for every uniform, so z(1 - u) = -z(u) bit for bit: no bias between the tails.
    u = random.uniform(words(step=3), NP)
    assert np.array_equal(random.normal_quantile(1 - u, NP), -random.normal_quantile(u, NP))
