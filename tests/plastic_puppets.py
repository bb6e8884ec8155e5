"""Neurons that fire exactly when a plasticity test says, and the text that makes them.

A plasticity rule's reference result is a function of the pre- and postsynaptic
spike times, so its test must choose both. A presynaptic side is a `SpikeTimes`
source; a postsynaptic side must be a neuron (it has to be a projection's target),
so it is a `Puppet`: it fires when its `kick` exceeds 1/2, and only a `Kick`
synapse from a `SpikeTimes` driver changes `kick`. Its other states (`v`, `g_ex`,
`I_syn`) only collect what the plastic synapses under test add to them, so
they never make it fire. With the driver's one-step delay, a driver spike
stamped T reaches the puppet at the start of the step beginning at T + dt
(docs/semantics.md, "Delays"), and the puppet's spike is stamped T + 2 dt.
"""

from __future__ import annotations

import numpy as np

import brainsim

PUPPET = """
neuron Puppet {
    state { kick = 0  v = 0 mV  g_ex = 0 nS  I_syn = 0 pA }
    spike when kick > 0.5
    reset { kick = 0 }
}
synapse Kick { state { w = 1 }  on pre { kick += w } }
"""

LATENCY_STEPS = 2
"""Steps from a driver's spike to its puppet's spike."""


def spike_times(trains: list[np.ndarray], dt: float) -> str:
    """The settings of a `SpikeTimes[len(trains)]` source in which neuron i fires at
    `trains[i]` (s, on the step grid): `indices = [...]  times = [...]`, sorted by time."""
    steps = [np.rint(np.asarray(train) / dt).astype(np.int64) for train in trains]
    pairs = sorted((int(step), index) for index, train in enumerate(steps) for step in train)
    indices = ", ".join(str(index) for _, index in pairs)
    times = ", ".join(f"{step * dt * 1e3:.12g} ms" for step, _ in pairs)
    return f"indices = [{indices}]  times = [{times}]"


def driver_times(trains: list[np.ndarray], dt: float) -> list[np.ndarray]:
    """The driver spike times that make puppet i fire at `trains[i]`."""
    return [np.asarray(train) - LATENCY_STEPS * dt for train in trains]


def run(text: str, backend: str, filename: str):
    """Load the model `text` and run it on `backend`."""
    return brainsim.loads(text, filename=filename).compile(backend=backend).run()


def assert_synapses_identical(a, b):
    """Every synapse state of every projection is the same in runs `a` and `b`, bit for bit."""
    assert a.synapses.keys() == b.synapses.keys()
    for name, states in a.synapses.items():
        assert np.array_equal(states.pre, b.synapses[name].pre)
        assert np.array_equal(states.post, b.synapses[name].post)
        assert states.states.keys() == b.synapses[name].states.keys()
        for variable, values in states.states.items():
            assert np.array_equal(values, b.synapses[name].states[variable]), (name, variable)
