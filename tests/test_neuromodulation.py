"""std/neuromodulation: dopamine, and the conditioning experiment of Izhikevich (2007).

The experiment (the paper's Fig. 1, at small scale): 20 presynaptic and 20
postsynaptic neurons fire at random at 1 Hz, all to all through 400
reward-modulated STDP synapses. Thirty times, 2 s apart, presynaptic neuron 0
fires and postsynaptic neuron 0 fires 5 ms later, and 1 s after each such
pairing a reward releases dopamine (d += 0.5). Only synapse 0 -> 0 is tagged
(its eligibility trace c, decaying over 1 s, still holds the pairing when the
dopamine comes); the others see the same dopamine with traces left by chance
coincidences, more often negative than positive (A_minus > A_plus). The
measure: the rewarded synapse ends within 10% of w_max (from w = w_max / 4);
no other synapse grows by a third as much (some fall to 0: chance coincidences
shortly before a reward can depress as well as potentiate); their mean change is
not positive. (A numpy prototype of the same protocol, six random seeds: the
rewarded synapse at w_max each time, the largest other growth 0.66-0.80 mV
against 3 mV, the mean change of the others -0.06 to -0.14 mV.)
"""

import numpy as np
import pytest

from plastic_puppets import PUPPET, assert_synapses_identical, driver_times, run, spike_times

DT = 1e-3
SIZE = 20
RATE = 1.0  # Hz, the random firing of every neuron
PAIRINGS = 30
INTERVAL = 2.0  # s between pairings
FIRST = 0.5  # s, the first pairing
LAG = 5e-3  # s, post after pre in a pairing
REWARD_DELAY = 1.0  # s
DURATION = FIRST + PAIRINGS * INTERVAL + 1.0
W_0, W_MAX = 1e-3, 4e-3  # V: RewardModulatedSTDP's w and w_max


def protocol(seed: int = 3):
    """(pre trains, post trains, reward times), in s on the step grid."""
    generator = np.random.default_rng(seed)
    steps = round(DURATION / DT)
    onsets = round(FIRST / DT) + np.arange(PAIRINGS) * round(INTERVAL / DT)

    def random_trains(extra: np.ndarray) -> list[np.ndarray]:
        # the driver of a puppet fires LATENCY steps earlier, so start after 3 steps
        fired = [np.flatnonzero(generator.random(steps - 10) < RATE * DT) + 3 for _ in range(SIZE)]
        fired[0] = np.union1d(fired[0], extra)
        return [train * DT for train in fired]

    pre = random_trains(onsets)
    post = random_trains(onsets + round(LAG / DT))
    rewards = (onsets + round(REWARD_DELAY / DT)) * DT
    return pre, post, rewards


def model() -> str:
    pre, post, rewards = protocol()
    return f"""
simulation {{ dt = 1 ms  duration = {DURATION * 1e3:.0f} ms }}
import neuromodulation from std
{PUPPET}
region Net {{
    presyn = SpikeTimes[{SIZE}] {{ {spike_times(pre, DT)} }}
    driver = SpikeTimes[{SIZE}] {{ {spike_times(driver_times(post, DT), DT)} }}
    postsyn = Puppet[{SIZE}]
}}
region Reward {{ cue = SpikeTimes[1] {{ {spike_times([rewards], DT)} }}  dopamine = Dopamine[1] }}
connect Net.driver -> Net.postsyn with Kick {{ rule = one_to_one }}
connect Reward.cue -> Reward.dopamine with DopamineRelease
connect Net.presyn -> Net.postsyn with RewardModulatedSTDP {{ modulator = Reward.dopamine }}
record d of Reward.dopamine
record spikes of Net.postsyn
"""


PROJECTION = "Net.presyn->Net.postsyn"


@pytest.fixture(scope="module")
def runs():
    text = model()
    return {backend: run(text, backend, "conditioning.brain") for backend in ("numpy", "jax")}


def test_only_the_rewarded_synapse_grows(runs):
    synapses = runs["numpy"].synapses[PROJECTION]
    rewarded = (synapses.pre == 0) & (synapses.post == 0)
    change = synapses.states["w"] - W_0
    assert np.count_nonzero(rewarded) == 1 and len(change) == SIZE * SIZE
    grown = change[rewarded][0]
    assert grown >= 0.9 * W_MAX - W_0
    others = change[~rewarded]
    assert np.max(others) < grown / 3
    assert np.mean(others) <= 0


def test_dopamine_decays_with_tau_d_after_each_reward(runs):
    """Between rewards d decays exactly: d(t + dt) = d(t) exp(-dt / 200 ms)."""
    d = runs["numpy"].traces[("Reward.dopamine", "d")].values[:, 0]
    _, _, rewards = protocol()
    arrival = np.rint(rewards / DT).astype(int) + 1  # the sample after the step the release arrives in
    assert np.all(d[: arrival[0]] == 0)
    # the release is delivered at the start of a step and decays over that step
    assert d[arrival[0]] == pytest.approx(0.5 * np.exp(-DT / 0.2), rel=1e-12)
    decay = d[arrival[0] + 1 : arrival[1]] / d[arrival[0] : arrival[1] - 1]
    assert np.allclose(decay, np.exp(-DT / 0.2), rtol=1e-12, atol=0)


def test_backends_identical(runs):
    assert_synapses_identical(runs["numpy"], runs["jax"])
    key = ("Reward.dopamine", "d")
    assert np.array_equal(runs["numpy"].traces[key].values, runs["jax"].traces[key].values)


def test_a_stimulus_releases_dopamine():
    """`release` is a rate: a pulse of amplitude A over W adds A tau (1 - exp(-W / tau)) by its end."""
    text = """
simulation { dt = 1 ms  duration = 100 ms }
import neuromodulation from std
region Reward { dopamine = Dopamine[1] }
stimulus Reward { release += pulses(period = 1 s, width = 20 ms, amplitude = 5 Hz, start = 10 ms) }
record d of Reward
"""
    for backend in ("numpy", "jax"):
        d = run(text, backend, "release.brain").traces[("Reward.dopamine", "d")].values[:, 0]
        # the pulse acts in steps 10..29; the sample after step 29 is index 29
        assert d[29] == pytest.approx(5.0 * 0.2 * (1 - np.exp(-20e-3 / 0.2)), rel=1e-12)
        assert d[99] == pytest.approx(d[29] * np.exp(-70e-3 / 0.2), rel=1e-12)
