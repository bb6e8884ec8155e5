"""Neurons split over several devices (`brainsim.backends.sharding`): bit for bit the results
of one device and of numpy, and clear errors for devices that do not exist.

The identity checks run tests/backends/sharded_runs.py in a subprocess, where XLA_FLAGS
gives jax 4 CPU devices before it starts (this process has one).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import jax
import pytest

import brainsim
from brainsim.backends.jax_backend import JaxSimulation
from brainsim.errors import InvalidValueError
from tests.backends import networks
from tests.backends.identity import assert_identical

ROOT = Path(__file__).parents[2]


def sharded_runs(*names: str) -> str:
    done = subprocess.run([sys.executable, "-m", "tests.backends.sharded_runs", *names], cwd=ROOT,
                          capture_output=True, text=True, env={**os.environ, "XLA_FLAGS": ""}, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.mark.slow
@pytest.mark.parametrize("name", ["cuba_small", "cuba_delayed", "stdp_four_targets", "stdp_song2000", "errors"])
def test_a_network_split_over_devices_is_identical_to_one_device_and_numpy(name):
    assert name in sharded_runs(name)


def test_more_devices_than_exist_are_named():
    n = len(jax.devices())
    with pytest.raises(InvalidValueError, match=f"devices={n + 1} asks for more devices than exist: jax has {n} "):
        JaxSimulation(networks.cuba_small(0.01), devices=len(jax.devices()) + 1)


@pytest.mark.parametrize("devices", [0, -1, True, "4", [], ["cpu:0"]])
def test_devices_is_a_count_or_jax_devices(devices):
    with pytest.raises(InvalidValueError, match="devices"):
        JaxSimulation(networks.cuba_small(0.01), devices=devices)


def test_one_listed_device_runs_as_usual():
    network = networks.cuba_small(0.02)
    assert_identical(JaxSimulation(network).run(), JaxSimulation(network, devices=jax.devices()[:1]).run())


def test_the_numpy_backend_takes_no_devices():
    with pytest.raises(InvalidValueError, match="the numpy backend takes no option devices"):
        brainsim.load("models/cuba.brain").compile(backend="numpy", devices=2)
