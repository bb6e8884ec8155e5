"""Hodgkin-Huxley against a peer simulator: brainsim's spike times match Brian2's.

brainsim integrates models/hodgkin_huxley.brain with forward Euler at 10 us;
the reference is Brian2 2.11 with fourth-order Runge-Kutta at 1 us
(benchmarks/peers/brian2_hodgkin_huxley.py wrote tests/data/brian2_hodgkin_huxley.json).
Euler's error is first order in dt, so the spike times agree to a fraction of a
millisecond; at 7 uA, just above the onset of repetitive firing, the period is
most sensitive to integration error and the tolerance is wider.
"""

import json
from pathlib import Path

import numpy as np
import pytest

import brainsim

ROOT = Path(__file__).parent.parent
REFERENCE = json.loads((ROOT / "tests" / "data" / "brian2_hodgkin_huxley.json").read_text())["spike_times_s"]
TOLERANCE_S = {"Axon.rest": 0.0, "Axon.i5": 0.1e-3, "Axon.i7": 0.5e-3, "Axon.i10": 0.1e-3, "Axon.i20": 0.1e-3}


@pytest.fixture(scope="module")
def results():
    # The jax backend gives the same bits as numpy (tests/test_models.py) and runs this model faster.
    return brainsim.load(ROOT / "models" / "hodgkin_huxley.brain").compile(backend="jax").run()


@pytest.mark.parametrize("population", sorted(REFERENCE))
def test_spike_times_match_brian2(results, population):
    ours = results.spikes[population].times
    reference = np.array(REFERENCE[population])
    assert len(ours) == len(reference), f"{len(ours)} spikes, Brian2 {len(reference)}"
    if len(ours):
        assert np.max(np.abs(ours - reference)) <= TOLERANCE_S[population]


def test_repetitive_firing_starts_between_5_and_7_uA(results):
    """The classic result: one spike and silence at 5 uA/cm^2, tonic firing from ~6.3 uA/cm^2."""
    counts = {name: int(results.spike_counts[name][0]) for name in REFERENCE}
    assert counts["Axon.rest"] == 0
    assert counts["Axon.i5"] == 1
    assert counts["Axon.i7"] > 5
    assert counts["Axon.i7"] < counts["Axon.i10"] < counts["Axon.i20"]
