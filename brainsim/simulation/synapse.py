"""The seed's `Synapse` between two `SimulatedNeuron`s, with the seed's Hebbian rule.

    >>> synapse = Synapse(pre, post, initial_weight=2.0, delay_ms=1.0)
    >>> synapse.transmit(current_time_ms=10.0, pre_spiked=True)   # arrives at post at 11 ms
    >>> synapse.apply_hebbian_learning(pre_spiked=True, post_spiked=True)   # LTP

The weight is the current (nA) a presynaptic spike adds to the postsynaptic
neuron's synaptic current, in [0, 10] as in the seed. The learning rule is
not written here again: `apply_hebbian_learning` evaluates the weight update
of std/seed.brain's `Hebbian` synapse (its `on pre` statement for `w`, with
eta = learning_rate, and its bounds), with the numpy backend's own compiled
expressions, so this object and a `.brain` model learn by the same formula.
"""

from __future__ import annotations

import math
from collections import deque
from functools import cache

import numpy as np

from brainsim import ir
from brainsim.backends.expressions import compile_expr
from brainsim.backends.numpy_backend import NumpyNumerics
from brainsim.simulation.errors import SeedValueError, is_number
from brainsim.simulation.neuron import SimulatedNeuron
from brainsim.simulation.seed_values import seed_synapse_model

WEIGHT_RANGE = (0.0, 10.0)
"""The seed's weights, in nA: std/seed.brain's `Hebbian` bounds (and its gated variants', which `BrainSimulation` uses)."""

@cache
def _weight_update():
    """(the compiled value of `Hebbian`'s `w` statement, its op, its parameters, its bounds on w)."""
    model = seed_synapse_model("Hebbian")
    (statement,) = [a for a in model.on_pre if a.variable == "w"]
    (bound,) = [b for b in model.bounds if b.variable == "w"]
    parameters = {p.name: p.value for p in model.parameters}
    return compile_expr(statement.value, NumpyNumerics()), statement.op, parameters, bound


def _number(name: str, value, low: float = -math.inf, high: float = math.inf) -> float:
    if not is_number(value) or not (low <= value <= high):
        raise SeedValueError(f"{name} must be a number in [{low:g}, {high:g}], but it is {value!r}")
    return float(value)


class Synapse:
    """A connection from `pre` to `post`: `weight` (nA, in [0, 10]), `delay_ms`, `learning_rate`."""

    def __init__(self, pre: SimulatedNeuron, post: SimulatedNeuron, initial_weight: float = 2.0,
                 delay_ms: float = 1.0, learning_rate: float = 0.01):
        for side, neuron in (("pre", pre), ("post", post)):
            if not isinstance(neuron, SimulatedNeuron):
                raise SeedValueError(f"the {side}synaptic neuron must be a SimulatedNeuron, but it is {neuron!r}")
        self.pre, self.post = pre, post
        self.weight = _number("initial_weight", initial_weight, *WEIGHT_RANGE)
        self.delay_ms = _number("delay_ms", delay_ms, 0.0)
        self.learning_rate = _number("learning_rate", learning_rate, 0.0)
        self._in_flight: deque[tuple[float, float]] = deque()  # (arrival time in ms, weight), in order

    def transmit(self, current_time_ms: float, pre_spiked: bool) -> float:
        """Send a spike of `pre` at `current_time_ms` (if `pre_spiked`), and deliver to `post`
        every spike sent `delay_ms` or more earlier; returns the current delivered now (nA)."""
        now = _number("current_time_ms", current_time_ms)
        if pre_spiked:
            self._in_flight.append((now + self.delay_ms, self.weight))
        delivered = 0.0
        while self._in_flight and self._in_flight[0][0] <= now:
            delivered += self._in_flight.popleft()[1]
        if delivered:
            self.post.add_synaptic_input(delivered)
        return delivered

    def apply_hebbian_learning(self, pre_spiked: bool, post_spiked: bool) -> float:
        """The seed's rule, as std/seed.brain's `Hebbian` has it: when `pre_spiked`, LTP
        w += eta (w_max - w) if `post_spiked` too, else LTD w -= eta 0.005 w; w stays in
        [0, 10]. Returns the new weight."""
        if not pre_spiked:
            return self.weight
        value, op, parameters, bound = _weight_update()
        # The rule is homogeneous in w and w_max, so it runs in the seed's own unit, nA, on the seed's numbers.
        env = {**{name: _in_na(v) if name == "w_max" else v for name, v in parameters.items()},
               "eta": self.learning_rate, "w": self.weight, ir.SPIKED + ir.POST_SUFFIX: np.bool_(post_spiked)}
        assert op is ir.AssignOp.ADD, "std/seed.brain's Hebbian adds to w"
        self.weight = min(max(self.weight + float(value(env)), _in_na(bound.low)), _in_na(bound.high))
        return self.weight


def _in_na(amperes: float) -> float:
    """A current of std/seed.brain (A) in nA, as written there (10 nA -> 10.0, not 10.000000000000002)."""
    return float(f"{amperes * 1e9:.12g}")
