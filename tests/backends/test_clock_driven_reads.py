"""Clock-driven synapse equations that read `X_pre` and `X_post`, on both backends.

Regression: the clock-driven phase gathers the neuron-side values of every
synapse of a pathway, including the pathway's sentinel synapse, whose pre and
post indices are one past the end; numpy raised IndexError there (jax clamps).
Each synapse integrates dz/dt = (a_pre + b_post) / 1 s, with a and b constant
and different per neuron, so z after n steps is n dt (a_pre + b_post).
"""

import numpy as np

import brainsim
from backends.identity import assert_identical

MODEL = """
simulation { dt = 1 ms  duration = 20 ms }
neuron Held { parameters { a = 0 }  state { c = 0  g = 0 } }
synapse Reads {
    state { w = 0  z = 0 }
    equations (clock-driven) { dz/dt = (c_pre + c_post) / (1 s) }
    on pre { g += w }
}
region Net { first = Held[2] { c = i + 1 }  second = Held[3] { c = 10 * (i + 1) } }
connect Net.first -> Net.second with Reads
"""


def test_clock_driven_equations_read_both_neurons_of_each_synapse():
    model = brainsim.loads(MODEL, filename="clock_reads.brain")
    a, b = (model.compile(backend=backend).run() for backend in ("numpy", "jax"))
    assert_identical(a, b)
    synapses = a.synapses["Net.first->Net.second"]
    assert np.array_equal(synapses.states["z"], b.synapses["Net.first->Net.second"].states["z"])
    pre_c, post_c = np.array([1.0, 2.0])[synapses.pre], np.array([10.0, 20.0, 30.0])[synapses.post]
    assert np.allclose(synapses.states["z"], 20 * 1e-3 * (pre_c + post_c), rtol=1e-12, atol=0)
