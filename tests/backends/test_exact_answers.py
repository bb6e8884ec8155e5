"""Whole runs of tiny models whose answer is known exactly, through the public API.

Both backends share the kernel, the integrators and the host code, so their
agreement cannot catch a bug there; each test here pins one rule of
docs/semantics.md to a number worked out by hand: how seconds become whole
steps (rounded, never truncated), what `-=` does in `on pre` and in a reset,
that forward Euler holds `(unless refractory)` variables for exactly R steps,
and how the jax spike capacity grows. docs/testing.md lists the one-line
mutations of the engine each test was written to catch.

The driver neuron below spikes exactly when its input pulse is on: a pulse that
starts at 1 ms (step 10) makes it spike in step 10, stamped t_11.
"""

import numpy as np
import pytest

import brainsim
from brainsim.backends import compile_network
from brainsim import ir
from brainsim.integrators import integrate

from .identity import assert_identical

BACKENDS = ["numpy", "jax"]
# A model without state variables (once an IndexError on jax).
DRIVER = """
neuron Driver { inputs { I = 0 nA }  spike when I > 0.5 nA }
"""
KICK = "stimulus A.driver { I += pulses(period = 100 ms, width = 0.1 ms, amplitude = 1 nA, start = 1 ms) }"
SPIKE_STEP = 10  # the driver's spike, stamped t_11


def run(text: str, backend: str = "numpy"):
    return brainsim.loads(text).compile(backend).run()


def delayed_effect(delay: str, effect: str = "x -= w") -> str:
    """A driver that spikes once, in step 10, onto a target whose x (10 mV) only synapses change."""
    return f"""
simulation {{ dt = 0.1 ms  duration = 4 ms }}
{DRIVER}
neuron Target {{ state {{ x = 10 mV }} }}
synapse Kick {{ state {{ w = 3 mV }}  on pre {{ {effect} }} }}
region A {{ driver = Driver[1]  target = Target[2] }}
connect A.driver -> A.target with Kick {{ delay = {delay} }}
{KICK}
record spikes of A
record x of A.target
"""


# --------------------------------------------------------------------------- on pre and delays


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_on_pre_subtraction_lowers_the_target_by_exactly_w(backend):
    results = run(delayed_effect("0.1 ms"), backend)
    assert np.array_equal(results.spikes["A.driver"].times, [(SPIKE_STEP + 1) * 0.1e-3])
    x = results.traces[("A.target", "x")].values
    arrival = SPIKE_STEP + 1 + 1  # sample index n is the state after step n
    assert np.all(x[:arrival] == 0.01)
    assert np.all(x[arrival:] == 0.01 - 0.003)


@pytest.mark.parametrize("backend", BACKENDS)
def test_on_pre_effects_of_one_synapse_apply_in_order_with_their_signs(backend):
    """`x += w  x -= w  x -= w` nets to -w, but only if each sign is kept: the ring-buffer
    slot sums the three events in order, then is added to x."""
    results = run(delayed_effect("0.1 ms", "x += w  x -= w  x -= w"), backend)
    x = results.traces[("A.target", "x")].values[:, 0]
    assert x[-1] == 0.01 + (0.003 - 0.003 - 0.003)


@pytest.mark.parametrize(
    "delay, steps",
    [
        ("1.26 ms", 13),  # 12.6 steps: rounded up, not truncated to 12
        ("1.24 ms", 12),  # 12.4 steps: rounded down, not up to 13
        ("uniform(1.26 ms, 1.29 ms)", 13),  # drawn per synapse (12.6 to 12.9 steps): the non-uniform path
    ],
)
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.filterwarnings("ignore::brainsim.errors.DelayRoundingWarning")  # the rounding is what is tested
def test_a_delay_is_rounded_to_the_nearest_whole_step(backend, delay, steps):
    """The event of the spike in step 10 is added at the start of step 11 + d."""
    x = run(delayed_effect(delay), backend).traces[("A.target", "x")].values
    changed = np.flatnonzero(np.any(x != 0.01, axis=1))
    assert changed[0] == SPIKE_STEP + 1 + steps


# --------------------------------------------------------------------------- stimuli


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_pulse_train_is_rounded_to_whole_steps_at_start_width_period_and_stop(backend):
    """start 0.56 ms -> 6 steps, width 0.26 ms -> 3, period 1.26 ms -> 13, stop 5.06 ms -> 51:
    active in step n when 6 <= n < 51 and (n - 6) mod 13 < 3 (truncation would give 5, 2, 12, 50)."""
    text = f"""
simulation {{ dt = 0.1 ms  duration = 8 ms }}
{DRIVER}
region A {{ driver = Driver[1] }}
stimulus A.driver {{ I += pulses(period = 1.26 ms, width = 0.26 ms, amplitude = 1 nA, start = 0.56 ms, stop = 5.06 ms) }}
record I of A.driver
"""
    drive = run(text, backend).traces[("A.driver", "I")].values[:, 0]
    n = np.arange(len(drive))
    on = (n >= 6) & (n < 51) & ((n - 6) % 13 < 3)
    assert np.array_equal(drive, np.where(on, 1e-9, 0.0))


# --------------------------------------------------------------------------- resets and refractoriness


@pytest.mark.parametrize("backend", BACKENDS)
def test_resets_run_in_order_each_seeing_the_previous_one(backend):
    """From v = 10 mV: v -= 3 mV gives 7 mV, u += v adds those 7 mV, v *= 2 gives 14 mV."""
    text = f"""
simulation {{ dt = 0.1 ms  duration = 2 ms }}
neuron Resettable {{
    inputs {{ I = 0 nA }}
    state {{ v = 10 mV  u = 0 mV }}
    spike when I > 0.5 nA
    reset {{ v -= 3 mV  u += v  v *= 2 }}
}}
region A {{ driver = Resettable[1] }}
{KICK}
record v, u of A.driver
"""
    results = run(text, backend)
    v, u = (results.traces[("A.driver", name)].values[:, 0] for name in ("v", "u"))
    assert np.all(v[:SPIKE_STEP] == 0.01) and np.all(u[:SPIKE_STEP] == 0.0)
    assert np.all(v[SPIKE_STEP:] == (0.01 - 0.003) * 2) and np.all(u[SPIKE_STEP:] == 0.01 - 0.003)


EULER_REFRACTORY = """
simulation { dt = 0.1 ms  duration = 10 ms }
neuron Quadratic {
    parameters { t_ref = 0.56 ms }
    state { v = 0 mV  clock = 0 s }
    equations {
        dv/dt = (1 mV + v * v / (1 V)) / (1 ms)   (unless refractory)
        dclock/dt = 1
    }
    spike when v > 2 mV
    reset { v = 0 mV }
    refractory t_ref
}
region A { q = Quadratic[1] }
record spikes of A
record v, clock of A.q
"""


@pytest.mark.parametrize("backend", BACKENDS)
def test_forward_euler_holds_a_clamped_variable_for_exactly_the_refractory_steps(backend):
    """t_ref = 0.56 ms is R = 6 steps: after the spike in step n, v stays exactly 0 through
    the sample of step n + 6 and moves in step n + 7; the unclamped clock never stops."""
    model = brainsim.loads(EULER_REFRACTORY)
    assert integrate(model.network.populations[0].model, 0.1e-3).method is ir.Method.EULER
    results = model.compile(backend).run()
    spike_steps = np.rint(results.spikes["A.q"].times / 0.1e-3).astype(int) - 1
    assert len(spike_steps) >= 2
    v = results.traces[("A.q", "v")].values[:, 0]
    for n in spike_steps[:-1]:
        assert np.all(v[n : n + 7] == 0.0), v[n : n + 8]
        assert v[n + 7] == 0.1e-3  # one Euler step from 0: dt * 1 mV/ms
    assert np.all(np.diff(spike_steps) > 7)
    clock = results.traces[("A.q", "clock")].values[:, 0]
    assert np.all(np.diff(clock) > 0)


# --------------------------------------------------------------------------- jax capacities


BURST = """
simulation { dt = 0.1 ms  duration = 1 ms  seed = 4 }
neuron Once { state { v = uniform(0 mV, 1 mV) }  spike when v > 0.75 mV  reset { v = 0 mV } }
region A { burst = Once[16] }
record spikes of A
"""


def test_a_spike_capacity_that_overflows_grows_to_at_least_twice_and_to_the_peak():
    """With seed 4, 4 of the 16 neurons start above threshold and spike together in step 0.
    A capacity of 3 overflows by one (4 <= 2 * 3): it must grow to a power of two at least
    twice the old and at least the peak, and no spike may be lost."""
    numpy_run = run(BURST)
    peak = len(numpy_run.spikes["A.burst"].times)
    assert peak == 4 and np.all(numpy_run.spikes["A.burst"].times == 0.1e-3)
    model = brainsim.loads(BURST)
    simulation = compile_network(model.network, "jax", spike_capacity=peak - 1)
    assert simulation.capacities == {"A.burst": 3}
    assert_identical(numpy_run, simulation.run())
    grown = simulation.capacities["A.burst"]
    assert grown >= 2 * 3 and grown >= peak and grown & (grown - 1) == 0


# --------------------------------------------------------------------------- survivors of the mutation run


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_threshold_written_with_not_fires_when_its_operand_is_false(backend):
    text = f"""
simulation {{ dt = 0.1 ms  duration = 2 ms }}
neuron Negated {{ inputs {{ I = 0 nA }}  spike when not (I < 0.5 nA) }}
region A {{ driver = Negated[1] }}
{KICK}
record spikes of A
"""
    assert np.array_equal(run(text, backend).spikes["A.driver"].times, [(SPIKE_STEP + 1) * 0.1e-3])


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_connection_probability_of_zero_makes_no_synapses(backend):
    text = delayed_effect("0.1 ms").replace("{ delay = 0.1 ms }", "{ p = 0  delay = 0.1 ms }")
    assert np.all(run(text, backend).traces[("A.target", "x")].values == 0.01)


REFRACTORY_INPUT = f"""
simulation {{ dt = 0.1 ms  duration = 3 ms }}
{DRIVER}
neuron Held {{
    inputs {{ I = 0 nA }}
    state {{ v = 0 mV  g = 0 mV }}
    equations {{ dv/dt = 0 mV / ms   (unless refractory)   dg/dt = 0 mV / ms }}
    method = euler   # x + dt * 0 is x exactly
    spike when I > 0.5 nA
    reset {{ v = 5 mV }}
    refractory 1 ms
}}
synapse Kick {{ state {{ w = 3 mV }}  on pre {{ v += w  g += w }} }}
region A {{ driver = Driver[1]  target = Held[1] }}
connect A.driver -> A.target with Kick {{ delay = 0.9 ms }}
connect A.driver -> A.target with Kick {{ delay = 1 ms }}
{KICK}
stimulus A.target {{ I += pulses(period = 100 ms, width = 0.1 ms, amplitude = 1 nA, start = 1 ms) }}
record v, g of A.target
"""


@pytest.mark.parametrize("backend", BACKENDS)
def test_input_arriving_while_refractory_is_dropped_on_a_held_variable_and_kept_on_another(backend):
    """Both neurons spike in step 10: the target is refractory in steps 11..20 (R = 10).
    The kick with delay 9 steps arrives in step 20, the last refractory one: v (held)
    drops it, g (not held) keeps it; the kick with delay 10 arrives in step 21, when
    the target integrates again, and both keep it (NEST's iaf_psc_delta, docs/decisions.md)."""
    results = run(REFRACTORY_INPUT, backend)
    v, g = (results.traces[("A.target", name)].values[:, 0] for name in ("v", "g"))
    assert np.array_equal(v[9:23], [0.0] + [0.005] * 11 + [0.005 + 0.003] * 2)
    assert np.array_equal(g[9:23], [0.0] * 11 + [0.003] + [0.003 + 0.003] * 2)
