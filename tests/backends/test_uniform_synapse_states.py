"""A static pathway's synapse state that every synapse starts at one constant, and nothing
changes, is read by the pathway's effects as a scalar (`kernel.uniform_states`): the same
runs, bit for bit, as where the state is read synapse by synapse, on every backend."""

from __future__ import annotations

import pytest

import brainsim
from brainsim.backends import kernel
from brainsim.backends.numpy_backend import NumpyNumerics
from brainsim.network import build
from tests.backends.identity import assert_identical

NET = """
simulation {{ dt = 0.1 ms  duration = 40 ms  seed = 3 }}
neuron LIF {{
    parameters {{ tau = 10 ms  v_th = 10 mV }}
    state {{ v = uniform(0 mV, 12 mV) }}
    equations {{ dv/dt = (11 mV - v) / tau }}
    spike when v > v_th
    reset {{ v = 0 mV }}
    refractory 2 ms
}}
synapse Kick {{ state {{ w = 0.9 mV }}  on pre {{ v += w }} }}
region Net {{ a = LIF[300]  b = LIF[200] }}
connect Net.a -> Net.a with Kick {{ p = 0.1  w = {a}  delay = 0.2 ms }}
connect Net.a -> Net.b with Kick {{ p = 0.1  w = {b}  delay = 0.2 ms }}
connect Net.b -> Net.a with Kick {{ p = 0.1  w = -1.5 mV  delay = 0.1 ms }}
record spikes of Net
"""

# The same weights, as a formula of each synapse's presynaptic index: read synapse by synapse
FORMULA = "{} * (1 + 0 * i)"


def model(a: str = "0.9 mV", b: str = "0.9 mV") -> brainsim.Model:
    return brainsim.loads(NET.format(a=a, b=b), "kick.brain")


def folded(m: brainsim.Model) -> list[dict[str, float]]:
    """`uniform_states` of each pathway of `m`, and a check that the code reads them as scalars."""
    host = build(m.network)
    found = []
    for c, _ in enumerate(host.pathways):
        code, arrays = kernel.pathway_code(host, c, NumpyNumerics(), None)
        uniform = kernel.uniform_states(host, c)
        assert set(uniform) <= set(arrays.scalars)
        assert not {code.states[k] for k in code.gathered} & set(uniform)
        found.append(uniform)
    return found


def test_a_constant_weight_of_every_projection_of_a_pathway_is_a_scalar():
    # Net.a -> Net.a and Net.a -> Net.b share one pathway (one source, one target group, one synapse)
    assert folded(model()) == [{"w": 0.9e-3}, {"w": -1.5e-3}]


@pytest.mark.parametrize("a, b", [("0.9 mV", "0.7 mV"),  # one pathway, two values
                                  ("0 mV", "-0 mV"),  # equal, but x + 0.0 and x + -0.0 differ where x is -0.0
                                  ("normal(0.9 mV, 0.1 mV)", "0.9 mV"),
                                  (FORMULA.format("0.9 mV"), FORMULA.format("0.9 mV"))])
def test_a_weight_that_is_not_one_constant_in_every_synapse_is_read_synapse_by_synapse(a, b):
    assert folded(model(a, b))[0] == {}


@pytest.mark.parametrize("backend, compiled", [("numpy", False), ("numpy", "auto"), ("jax", False), ("jax", "auto")])
def test_a_scalar_weight_runs_as_the_same_weight_read_from_every_synapse(backend, compiled, monkeypatch):
    monkeypatch.delenv("BRAINSIM_COMPILED_UPDATES", raising=False)  # "auto": the compiled loops where they build
    as_scalar = model().compile(backend=backend, compiled_updates=compiled).run()
    per_synapse = model(FORMULA.format("0.9 mV"), FORMULA.format("0.9 mV")).compile(
        backend=backend, compiled_updates=compiled).run()
    assert sum(int(c.sum()) for c in as_scalar.spike_counts.values()) > 100  # the synapses do act
    assert_identical(as_scalar, per_synapse)
    assert all((projection.states["w"] == projection.states["w"][0]).all() for projection in as_scalar.synapses.values())
