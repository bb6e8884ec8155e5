"""Models at the edges, each of which once ended in a traceback or a silent surprise."""

from pathlib import Path

import numpy as np

import brainsim
from backends.identity import assert_identical

MODELS = Path(__file__).resolve().parents[2] / "models"


def both(model, duration=None):
    numpy_results = model.compile("numpy").run(duration)
    jax_results = model.compile("jax").run(duration)
    assert_identical(numpy_results, jax_results)
    return numpy_results


def test_a_time_constant_far_below_dt_runs():
    """tau_syn = 5 ns (typed for 5 ms): the propagator of I_syn underflows to exactly zero,
    so its update is a constant; both backends used to crash on the scalar it gave."""
    text = (MODELS / "visual_pathway.brain").read_text().replace("tau_syn = 5 ms", "tau_syn = 5 ns")
    assert "5 ns" in text
    results = both(brainsim.loads(text, "fast_synapse.brain"), 0.02)
    assert np.all(results.final_state["V1.simple"]["I_syn"] == 0.0)
    assert results.spike_counts["Retina.photoreceptors"].sum() > 0


def test_a_chain_of_600_aliases_runs():
    aliases = "  ".join(f"a{i} = a{i - 1} + 1 mV" for i in range(1, 600))
    text = f"""
simulation {{ duration = 1 ms }}
neuron N {{ parameters {{ tau = 10 ms }}  state {{ v = 0 mV }}
  aliases {{ a0 = v  {aliases} }}
  equations {{ dv/dt = -(a599 - 599 mV) / tau }} }}
region R {{ n = N[2] }}
record v of R
"""
    results = both(brainsim.loads(text, "aliases.brain"))
    assert np.all(np.abs(results.final_state["R.n"]["v"]) < 1e-12)  # 599 additions of 1 mV round a little


def test_pulses_without_stop_go_on_when_the_run_is_longer_than_the_file():
    model = brainsim.load(MODELS / "visual_pathway.brain")
    assert model.network.simulation.duration == 0.15
    results = both(model, 0.3)
    late = results.spikes["Retina.photoreceptors"].times > 0.15
    assert late.sum() > 0.4 * (~late).sum()  # the flashes go on after the file's 150 ms
