"""The builder's memory layout changes nothing: the microcircuit at (0.02, 0.05) builds the very
arrays, and fires the very spikes, that the builder made before it packed synapses in narrow
dtypes (tests/data/make_microcircuit_digest.py wrote the digests then, from main at 4941404)."""

import json
import sys
from pathlib import Path

from brainsim.describe import host_network

DATA = Path(__file__).parent / "data"
sys.path.insert(0, str(DATA))

import make_microcircuit_digest as made  # noqa: E402


def test_the_microcircuit_builds_and_fires_as_before():
    recorded = json.loads((DATA / "microcircuit_digest.json").read_text())
    scaled = made.model()
    assert made.array_digest(host_network(scaled.network)) == recorded["arrays"]
    assert made.spike_digest(scaled.compile(backend="numpy").run(recorded["duration"])) == recorded["spikes"]
