"""The ordered (atomic-free) scatter-add of `brainsim.backends.ordered_sum`: the bits of the
sequential scatter-add (numpy's np.add.at, XLA's CPU scatter) on inputs where the order of
the additions decides the result, and whole models run with it identical to numpy."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import brainsim
from brainsim.backends.jax_backend import JaxSimulation
from brainsim.backends.numpy_backend import NumpySimulation
from brainsim.backends.ordered_sum import chosen_summation, ordered_scatter_add
from brainsim.errors import InvalidValueError
from tests.backends import networks
from tests.backends.identity import assert_identical

ordered = jax.jit(ordered_scatter_add)


def sequential(flat, index, values):
    out = flat.copy()
    np.add.at(out, index, values)
    return out


def same_bits(a, b) -> bool:
    return np.asarray(a).view(np.int64).tolist() == np.asarray(b).view(np.int64).tolist()


def adversarial(rng, cells: int, k: int):
    """`k` updates onto `cells` cells (most onto cell 0), magnitudes from 1e-12 to 1e12 and
    both signs: sums that change with the order of the additions."""
    index = np.where(rng.random(k) < 0.7, 0, rng.integers(0, cells, k))
    values = rng.choice([-1.0, 1.0], k) * rng.random(k) * 10.0 ** rng.integers(-12, 13, k)
    return rng.standard_normal(cells), index, values


@pytest.mark.parametrize("cells, k", [(1, 1), (1, 2000), (7, 500), (300, 4000)])
def test_the_ordered_sum_has_the_bits_of_the_sequential_one(cells, k):
    rng = np.random.default_rng(cells * k)
    flat, index, values = adversarial(rng, cells, k)
    expected = sequential(flat, index, values)
    assert same_bits(ordered(jnp.asarray(flat), jnp.asarray(index), jnp.asarray(values)), expected)
    assert same_bits(jax.jit(lambda f, i, v: f.at[i].add(v))(flat, index, values), expected)  # XLA's CPU scatter


def test_the_inputs_are_ones_where_order_matters():
    """Summed in another order (reversed), the adversarial inputs give other bits, so the
    test above could fail."""
    flat, index, values = adversarial(np.random.default_rng(7), 7, 500)
    assert not same_bits(sequential(flat, index[::-1], values[::-1]), sequential(flat, index, values))


def test_a_negative_zero_stays_negative():
    flat = np.array([-0.0, 1.0])
    got = ordered(jnp.asarray(flat), jnp.array([1, 1]), jnp.array([-1.0, 0.0]))
    assert same_bits(got, sequential(flat, np.array([1, 1]), np.array([-1.0, 0.0])))
    assert np.signbit(np.asarray(got)[0])


def test_no_updates_leave_the_array_as_it_is():
    flat = jnp.arange(3.0)
    assert same_bits(ordered(flat, jnp.zeros(0, dtype=jnp.int64), jnp.zeros(0)), np.arange(3.0))


@pytest.mark.parametrize("network", [
    networks.cuba_small(0.05),
    brainsim.load("models/stdp_song2000.brain").network,
], ids=["cuba_small", "stdp_song2000"])
def test_a_model_summed_in_order_is_identical_to_numpy(network):
    duration = 0.05
    simulation = JaxSimulation(network, summation="ordered")
    assert simulation.summation == "ordered"
    assert_identical(NumpySimulation(network).run(duration), simulation.run(duration))


def test_the_cpu_keeps_xla_scatter_and_other_platforms_sum_in_order():
    assert chosen_summation(None, "cpu") == "scatter"
    assert chosen_summation(None, "gpu") == "ordered"
    assert chosen_summation("ordered", "cpu") == "ordered"


def test_an_unknown_summation_is_named():
    with pytest.raises(InvalidValueError, match="unknown summation 'atomic'"):
        JaxSimulation(networks.cuba_small(0.01), summation="atomic")
