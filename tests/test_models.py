"""Every model in models/ runs on both backends with bit-identical results."""

from pathlib import Path

import numpy as np
import pytest

import brainsim
from backends.identity import assert_identical
from brainsim import microcircuit

MODELS = sorted((Path(__file__).parent.parent / "models").glob("*.brain"))
# Identity is checked over the first part of the largest models; their own tests
# (test_peer_cobahh.py, test_poisson_lif.py) run them at full length; stdp_song2000's
# 100 s is benchmarks/song2000.py's.
IDENTITY_DURATION = {"brunel": 0.05, "cobahh": 0.2, "izhikevich": 0.2, "microcircuit": 0.1, "poisson_lif": 1.0,
                     "stdp_song2000": 0.2}
# A model too large to check in a test at the size written is checked scaled down: the
# microcircuit's 0.3e9 synapses take 13 GB and minutes to build (tests/test_microcircuit.py).
SCALED = {"microcircuit": microcircuit.values(0.02, 0.05)}


def _model(path):
    model = brainsim.load(path)
    return model.with_values(SCALED[path.stem]) if path.stem in SCALED else model


@pytest.fixture(scope="module")
def runs():
    """Each model run once per backend, shared by the tests below."""
    return {
        path.stem: {
            backend: _model(path).compile(backend=backend).run(IDENTITY_DURATION.get(path.stem))
            for backend in ("numpy", "jax")
        }
        for path in MODELS
    }


def test_models_folder_is_not_empty():
    assert {path.stem for path in MODELS} >= {"visual_pathway", "cuba"}


@pytest.mark.parametrize("name", [path.stem for path in MODELS])
def test_backends_identical(runs, name):
    assert_identical(runs[name]["numpy"], runs[name]["jax"])


def _mean_rate(results, population):
    return results.spike_counts[population].mean() / results.duration


def test_visual_pathway_signal_propagates(runs):
    results = runs["visual_pathway"]["numpy"]
    retina = _mean_rate(results, "Retina.photoreceptors")
    v1 = _mean_rate(results, "V1.simple")
    association = _mean_rate(results, "Visual_Association.out")
    assert retina > v1 > association > 0


def test_visual_pathway_follows_the_flashes(runs):
    """The Retina fires while the light is on (first 10 ms of every 20 ms) and is
    silent a few membrane time constants into each dark phase."""
    trains = runs["visual_pathway"]["numpy"].spikes["Retina.photoreceptors"]
    phase = np.mod(trains.times, 20e-3)
    assert np.all(phase[phase > 0] <= 10.5e-3), "a Retina spike fell in a dark phase"


def test_cuba_is_asynchronous_and_irregular(runs):
    """Vogels & Abbott's CUBA network settles into irregular firing at low rates."""
    results = runs["cuba"]["numpy"]
    for population in ("Cortex.exc", "Cortex.inh"):
        rate = _mean_rate(results, population)
        assert 1.0 < rate < 50.0, f"{population} fires at {rate:.1f} Hz"
    rows = {row.name: row for row in results.statistics()}
    assert rows["Cortex.exc"].cv_isi > 0.5


def test_seed_neuron_shows_its_peak_and_computes_its_nernst_potentials(runs):
    """models/seed_neuron.brain: every spike's sample is +30 mV and only those are above
    threshold; the model's Nernst potentials are the seed's (+66, -98, +132, -89 mV)."""
    results = runs["seed_neuron"]["numpy"]
    v = results.traces[("Cortex.cell", "v")].values[:, 0]
    spikes = len(results.spikes["Cortex.cell"].times)
    assert spikes >= 2
    assert np.count_nonzero(v == 30e-3) == spikes and np.count_nonzero(v > -55e-3) == spikes
    model = brainsim.load(Path(__file__).parent.parent / "models" / "seed_neuron.brain").network.populations[0].model
    potentials = {p.name: p.value for p in model.parameters if p.name.startswith("E_") and p.name != "E_L"}
    expected = {"E_Na": 66e-3, "E_K": -98e-3, "E_Ca": 132e-3, "E_Cl": -89e-3}
    assert potentials == pytest.approx(expected, abs=1e-3)
