"""models/brunel.brain in the four regimes of Brunel (2000), Fig. 8, against Brian2.

tests/data/make_brian2_brunel.py ran the same model in Brian2 with several seeds
and saved, per regime, the signatures of tests/brunel_signatures.py (the rate and
ISI CV of the excitatory neurons, the Fano factor of their population count in
1 ms bins, the dominant frequency of its spectrum) with their mean and spread over
the seeds. brainsim runs each regime once, from its own seed, and each signature
must lie within SIGMAS standard deviations of Brian2's mean plus a FLOOR: with
three seeds Brian2's spread is itself uncertain, and the two drives differ
slightly (Brian2 gives each neuron C_E independent Poisson inputs; the model, 100
channels of a shared pool; docs/models.md).

The regime is chosen by rewriting the two lines of the model marked `# regime:`.
A full regime (1.2 s of 12 500 neurons) takes about a minute on the jax backend
(156 s on numpy), so the four are marked slow (`pytest -m slow`); regimes C and D
over 0.4 s (about 30 s and 10 s) run always.
"""

import json
import math
import re
from pathlib import Path

import pytest

import brainsim
from brunel_signatures import signatures

ROOT = Path(__file__).parent.parent
MODEL = (ROOT / "models" / "brunel.brain").read_text()
REFERENCE = json.loads((ROOT / "tests" / "data" / "brian2_brunel.json").read_text())
C_E, NU_THR_HZ, N_E = 1000, 10.0, 10_000
CHANNELS = 100  # external channels per neuron in models/brunel.brain
SIGMAS = 4.0
# Absolute floor plus a fraction of Brian2's mean, per signature.
FLOOR = {"rate_hz": (0.5, 0.05), "cv": (0.05, 0.05), "fano": (0.5, 0.2), "frequency_hz": (4.0, 0.1)}
# The frequency is a signature only where there is a global oscillation.
OSCILLATING = {"A", "B", "D"}


def regime_text(g: float, ratio: float) -> str:
    """models/brunel.brain with the inhibitory weight factor g and nu_ext / nu_thr = ratio."""
    rate_hz = ratio * NU_THR_HZ * C_E / CHANNELS
    text, n_g = re.subn(r"g = [0-9.]+(\s+# regime: g)", rf"g = {g}\1", MODEL)
    text, n_rate = re.subn(r"rate = [0-9.]+ Hz(\s+# regime: rate)", rf"rate = {rate_hz} Hz\1", text)
    assert n_g == n_rate == 1, "models/brunel.brain lost a `# regime:` line"
    return text


def measure(regime: str, window: str) -> dict[str, float]:
    """brainsim's signatures of `regime` over the named window of the reference."""
    g, ratio = REFERENCE["regimes"][regime]["g"], REFERENCE["regimes"][regime]["nu_ext_over_nu_thr"]
    start, stop = REFERENCE["windows_s"][window]
    model = brainsim.loads(regime_text(g, ratio), filename="brunel.brain")
    # jax gives numpy's bits (tests/test_models.py) and runs this network three times faster.
    excitatory = model.compile(backend="jax").run(stop).spikes["Brunel.E"]
    return signatures(excitatory.times, excitatory.indices, N_E, (start, stop))


def assert_matches_brian2(regime: str, window: str, ours: dict[str, float]) -> None:
    reference = REFERENCE["regimes"][regime]["windows"][window]
    compared = [name for name in FLOOR if name != "frequency_hz" or regime in OSCILLATING]
    failures = []
    for name in compared:
        mean, std = reference[name]["mean"], reference[name]["std"] or 0.0  # None: one seed only
        absolute, relative = FLOOR[name]
        tolerance = SIGMAS * std + absolute + relative * abs(mean)
        if not math.isfinite(ours[name]) or abs(ours[name] - mean) > tolerance:
            failures.append(f"{name}: brainsim {ours[name]:.3f}, Brian2 {mean:.3f} +- {std:.3f} (tolerance {tolerance:.3f})")
    assert not failures, f"regime {regime}: " + "; ".join(failures)


def test_regime_text_sets_g_and_the_drive():
    text = regime_text(6.0, 4.0)
    assert "g = 6.0" in text and "rate = 400.0 Hz" in text


def test_brian2_reference_shows_fig_8():
    """The reference itself has the four regimes' traits, so a test against it is a test of Fig. 8.

    A: neurons fire regularly (CV near 0), in lockstep (the largest Fano factor). B: irregular
    firing (CV near 1) under a fast global oscillation (above 100 Hz). C: the least synchronous.
    D: low rates under a slow oscillation (below 40 Hz).
    """
    mean = {
        (regime, name): measure["mean"]
        for regime, data in REFERENCE["regimes"].items()
        for name, measure in data["windows"]["long"].items()
    }
    assert mean["A", "cv"] < 0.1 and mean["A", "fano"] == max(mean[r, "fano"] for r in "ABCD")
    assert mean["B", "cv"] > 0.7 and mean["B", "frequency_hz"] > 100.0
    assert mean["C", "fano"] == min(mean[r, "fano"] for r in "ABCD")
    assert mean["D", "rate_hz"] < 10.0 and mean["D", "frequency_hz"] < 40.0


@pytest.mark.parametrize("regime", ["C", "D"])
def test_regime_matches_brian2_short(regime):
    """The asynchronous irregular regime and the slow oscillation over 0.4 s, on every run;
    the fast regimes (A, B) cost minutes and run with the slow tests."""
    assert_matches_brian2(regime, "short", measure(regime, "short"))


@pytest.mark.slow
@pytest.mark.parametrize("regime", ["A", "B", "C", "D"])
def test_regime_matches_brian2(regime):
    assert_matches_brian2(regime, "long", measure(regime, "long"))
