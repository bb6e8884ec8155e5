"""models/poisson_lif.brain against theory: Poisson sources emit at their rate, and
the LIF neurons they drive fire at the rate the diffusion approximation predicts.

The prediction is Siegert's mean first-passage time of the Ornstein-Uhlenbeck
process (Brunel 2000, eq. 21),

    1 / rate = t_ref + tau_m sqrt(pi) int_{y_r}^{y_th} exp(u^2) (1 + erf u) du,
    y_th = (V_th - mu) / sigma,  y_r = (V_r - mu) / sigma,
    mu = tau_m J k nu,  sigma = J sqrt(k nu tau_m)   (k inputs at rate nu, jumps J),

with two refinements, each for a property of the simulated model:

* in-degree: each neuron has its own k ~ Binomial(N_sources, p); the population
  rate is the mean of the rate over that distribution;
* discrete time: the threshold is looked at once a step, so a path that crosses
  and comes back within a step goes unseen. Siegmund's corrected diffusion
  approximation (Siegmund 1979, Adv Appl Probab 11:701) moves the threshold up
  by -zeta(1/2) / sqrt(2 pi) = 0.5826 standard deviations of the one-step
  increment, sigma sqrt(dt / tau_m).

A refractory neuron drops the jumps that arrive while it holds v
(docs/semantics.md), so after t_ref it restarts from V_r exactly, as Siegert's
formula assumes. (Until issue 6 brainsim kept those jumps, and this test
averaged the passage time over the start V_r + J m, m ~ Binomial(k R, nu dt);
that predicted 9.218 Hz. With the jumps dropped the prediction is 8.558 Hz
and the model measures 8.465 Hz, 1.1% below.)

Without the last correction the prediction was 5.3% above a direct numpy
simulation of the discrete-time process that kept refractory jumps (2000
neurons, 4 s: 9.157 +- 0.034 Hz against 9.638 Hz); with it, 1.3% above. The
remaining error is of higher order in J / sigma (0.1) and dt / tau_m, so the
test allows 4% for the approximation plus three standard errors of the
measured rate.
"""

import math
from pathlib import Path

import numpy as np
import pytest

import brainsim

ROOT = Path(__file__).parent.parent
BACKENDS = ("numpy", "jax")

# models/poisson_lif.brain, in SI units.
TAU_M, V_TH, V_R, T_REF = 20e-3, 20e-3, 10e-3, 2e-3
J, RATE_HZ, N_SOURCES, P_CONNECT = 0.2e-3, 50.0, 9000, 0.01
N_NEURONS, DT = 500, 1e-4
WARM_UP_S = 0.2  # the initial uniform v is not the stationary distribution: skip its transient
SIEGMUND_SHIFT = 0.5826  # -zeta(1/2) / sqrt(2 pi)
APPROXIMATION_TOLERANCE = 0.04

_erfc = np.vectorize(math.erfc, otypes=[float])
_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(64)


def scaled_erfc(x: np.ndarray) -> np.ndarray:
    """exp(x^2) erfc(x), for |x| < 26. math.erfc is accurate in its tail, so
    unlike exp(x^2) (1 - erf(x)) nothing cancels for large x."""
    assert np.all(np.abs(x) < 26), "exp(x^2) would overflow"
    return np.exp(x * x) * _erfc(x)


def siegert_integral(low: np.ndarray, high: float) -> np.ndarray:
    """sqrt(pi) * int_low^high exp(u^2) (1 + erf u) du, for each low, by 64-point
    Gauss-Legendre on 4 equal panels (the integrand is smooth: exp(u^2) erfc(-u))."""
    low = np.asarray(low, dtype=float)
    total = np.zeros_like(low)
    for panel in range(4):
        a = low + (high - low) * panel / 4
        b = low + (high - low) * (panel + 1) / 4
        u = a[..., None] + (b - a)[..., None] * (_NODES + 1) / 2
        total += (b - a) / 2 * np.sum(_WEIGHTS * scaled_erfc(-u), axis=-1)
    return math.sqrt(math.pi) * total


def log_binomial_pmf(k: np.ndarray, n: int, p: float) -> np.ndarray:
    log_choose = np.array([math.lgamma(n + 1) - math.lgamma(j + 1) - math.lgamma(n - j + 1) for j in k])
    return log_choose + k * math.log(p) + (n - k) * math.log1p(-p)


def rate_with_in_degree(k: int) -> float:
    """The predicted rate (Hz) of a neuron with k inputs (module docstring)."""
    mu = TAU_M * J * k * RATE_HZ
    sigma = J * math.sqrt(k * RATE_HZ * TAU_M)
    threshold = V_TH + SIEGMUND_SHIFT * sigma * math.sqrt(DT / TAU_M)
    passage = TAU_M * siegert_integral(np.array((V_R - mu) / sigma), (threshold - mu) / sigma)
    return 1.0 / (T_REF + float(passage))


def predicted_population_rate() -> float:
    """The mean over neurons: the rate averaged over k ~ Binomial(N_SOURCES, P_CONNECT)."""
    mean = N_SOURCES * P_CONNECT
    k = np.arange(int(mean - 8 * math.sqrt(mean)), int(mean + 8 * math.sqrt(mean)))
    weights = np.exp(log_binomial_pmf(k, N_SOURCES, P_CONNECT))
    return float(sum(w * rate_with_in_degree(int(degree)) for w, degree in zip(weights, k)) / weights.sum())


@pytest.mark.parametrize("mu_mv, sigma_mv, reference_hz", [
    (18, 2, 7.667845762151902), (15, 5, 9.460799805759125), (25, 1, 42.016751416370006), (10, 5, 0.8819234559756665),
])
def test_siegert_integral_matches_reference_values(mu_mv, sigma_mv, reference_hz):
    """Brunel (2000)'s neuron (tau 20 ms, theta 20 mV, V_r 10 mV, t_ref 2 ms); the
    reference rates are scipy.special.erfcx integrated by scipy.integrate.quad
    (relative error 1e-13), computed once outside the test suite."""
    integral = siegert_integral(np.array((10 - mu_mv) / sigma_mv), (20 - mu_mv) / sigma_mv)
    assert 1 / (2e-3 + 20e-3 * integral) == pytest.approx(reference_hz, rel=1e-12)


@pytest.fixture(scope="module")
def runs():
    model = brainsim.load(ROOT / "models" / "poisson_lif.brain")
    return {backend: model.compile(backend=backend).run() for backend in BACKENDS}


@pytest.mark.parametrize("backend", BACKENDS)
def test_sources_fire_at_their_rate(runs, backend):
    """In each step each source spikes with probability rate * dt: the total count is
    Binomial(sources * steps, rate * dt)."""
    results = runs[backend]
    trials = N_SOURCES * round(results.duration / DT)
    expected = trials * RATE_HZ * DT
    standard_error = math.sqrt(expected * (1 - RATE_HZ * DT))
    count = int(results.spike_counts["Input.drive"].sum())
    assert abs(count - expected) < 4 * standard_error, f"{count} source spikes, expected {expected:.0f}"


def test_rate_matches_the_diffusion_approximation(runs):
    results = runs["numpy"]  # the jax run is identical (tests/test_models.py)
    times = results.spikes["Net.cells"].times
    spikes = int(np.sum(times > WARM_UP_S))
    span = results.duration - WARM_UP_S
    measured = spikes / N_NEURONS / span
    # Poisson counting error; neurons share 1% of their inputs, so their counts are nearly independent.
    standard_error = math.sqrt(spikes) / N_NEURONS / span
    predicted = predicted_population_rate()
    tolerance = APPROXIMATION_TOLERANCE * predicted + 3 * standard_error
    assert abs(measured - predicted) < tolerance, (
        f"measured {measured:.3f} Hz, predicted {predicted:.3f} Hz (tolerance {tolerance:.3f} Hz)"
    )
