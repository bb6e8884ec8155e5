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


def test_an_input_without_stimulus_is_recorded_as_its_default_for_every_neuron():
    text = """
simulation { duration = 2 ms }
neuron N { inputs { I = 1.5 nA }  state { v = 0 mV }  equations { dv/dt = -v / (10 ms) } }
region R { n = N[4] }
record I of R[0:3]
"""
    trace = both(brainsim.loads(text, "inputs.brain")).traces[("R.n", "I")]
    assert trace.values.shape == (20, 3) and np.all(trace.values == 1.5e-9)


def test_estimated_capacities_hold_a_poisson_tail():
    """The bound is at least mean + 6 sqrt(mean) + 8 and a power of two, for any mean."""
    from brainsim.backends.bounds import tail

    for mean in (0.0, 0.5, 3.2, 20.0, 320.0, 1e5):
        bound = tail(mean)
        assert bound >= mean + 6 * np.sqrt(mean) + 8 and bound & (bound - 1) == 0
