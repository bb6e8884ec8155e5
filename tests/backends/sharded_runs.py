"""Run networks split over 4 CPU devices and check them bit for bit against one device and numpy.

Run as a program (`python -m tests.backends.sharded_runs NAME ...` from the repository
root) by tests/backends/test_sharding.py: XLA_FLAGS=--xla_force_host_platform_device_count=4
must be set before jax starts, so it cannot run inside the test process. Exits non-zero,
with the difference, if any run differs.
"""

from __future__ import annotations

import os
import sys

DEVICES = 4
os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} --xla_force_host_platform_device_count={DEVICES}".strip()

from brainsim.backends.jax_backend import JaxSimulation, configure  # noqa: E402  (after XLA_FLAGS)

assert configure() is None, configure()

import jax  # noqa: E402
import numpy as np  # noqa: E402

import brainsim  # noqa: E402
from brainsim import ir  # noqa: E402
from brainsim.backends.numpy_backend import NumpySimulation  # noqa: E402
from brainsim.errors import InvalidValueError  # noqa: E402
from tests.backends import networks, plastic_networks  # noqa: E402
from tests.backends.identity import assert_identical  # noqa: E402

ms = 1e-3


def stdp_four_targets() -> ir.Network:
    """tests/backends/plastic_networks' STDP network with 4 targets, so that they can be split."""
    synapse = plastic_networks.stdp(bounds=(0.0, 1.0))
    pre = {0: [10 * ms, 30 * ms], 1: [20 * ms, 25.1 * ms], 2: [25 * ms, 60 * ms]}
    drive = {0: [14.9 * ms, 40 * ms], 1: [24.9 * ms], 3: [30 * ms, 58 * ms]}
    return plastic_networks.stdp_network(pre, drive, synapse, n_post=4, duration=80 * ms)


# name -> (network, duration, whether some neuron-indexed array must be split)
NETWORKS = {
    "cuba_small": lambda: (networks.cuba_small(0.03), None, True),  # random delays 0.1 to 2 ms
    "cuba_delayed": lambda: (networks.cuba(n=800, duration=0.05, p=0.05, seed=3, delay=ir.Constant(0.3 * ms)), None, True),
    "stdp_four_targets": lambda: (stdp_four_targets(), None, True),
    "stdp_song2000": lambda: (brainsim.load("models/stdp_song2000.brain").network, 0.05, False),
}


def same_bits(a, b) -> bool:
    """Bit for bit, -0.0 apart from 0.0 (np.array_equal would call them equal)."""
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and bool((a.view(np.uint8) == b.view(np.uint8)).all())


def assert_same_bits(a, b, label: str) -> None:
    assert_identical(a, b)
    for name, variables in a.final_state.items():
        for variable, values in variables.items():
            assert same_bits(values, b.final_state[name][variable]), f"{label}: final {name}.{variable}"
    for key, trace in a.traces.items():
        assert same_bits(trace.values, b.traces[key].values), f"{label}: trace {key}"


def check(name: str) -> None:
    network, duration, split = NETWORKS[name]()
    reference = NumpySimulation(network).run(duration)
    one = JaxSimulation(network).run(duration)
    sharded = JaxSimulation(network, devices=DEVICES)
    listed = JaxSimulation(network, devices=jax.devices()[:2])
    carry = sharded._placement.carry(sharded._initial)
    split_arrays = [x.shape for x in jax.tree.leaves((carry.groups, carry.buffers)) if x.sharding == sharded._placement.split]
    assert split_arrays or not split, f"{name}: no array was split"
    assert_same_bits(reference, one, f"{name}: numpy vs one device")
    assert_same_bits(one, sharded.run(duration), f"{name}: one device vs {DEVICES}")
    assert_same_bits(one, listed.run(duration), f"{name}: one device vs 2 listed devices")
    print(f"{name}: identical on 1, 2 and {DEVICES} devices and numpy; split: {split_arrays}")


def check_errors() -> None:
    network = networks.cuba_small(0.01)
    try:
        JaxSimulation(network, devices=DEVICES + 1)
    except InvalidValueError as error:
        assert f"jax has {DEVICES}" in str(error), error
    else:
        raise AssertionError("asking for more devices than exist was accepted")
    try:
        JaxSimulation(network, devices=2, compiled_updates=True)
    except InvalidValueError as error:
        assert "compiled_updates runs on one CPU device, not on 2 (cpu, cpu)" in str(error), error
    else:
        raise AssertionError("compiled updates split over devices were accepted")
    print("errors: more devices than exist named, compiled updates over two refused")


if __name__ == "__main__":
    for name in sys.argv[1:]:
        check_errors() if name == "errors" else check(name)
