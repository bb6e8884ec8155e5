"""How every random draw is keyed: by the seed, by what is drawn, and by the *name* of what it
belongs to, never by where that was declared.

A population's initial values, a projection's synapses, a Poisson source's spikes: each
comes from a generator whose key holds a 64-bit hash of the population's (or the
projection's) name. So the draws of a population do not change when the file declares its
populations, projections or stimuli in another order, nor when a population is added or
removed elsewhere; and Python's own `hash`, which changes from process to process
(`PYTHONHASHSEED`), plays no part. docs/semantics.md, "Determinism", lists every key.
"""

from __future__ import annotations

import hashlib

# What a host-side draw is for: the second word of its key (`host_key`).
INITIAL_STATE = 0  # initial value of a neuron state variable
SYNAPSES = 1  # which pairs a projection connects
SYNAPSE_STATE = 2  # initial value of a synapse state variable
DELAYS = 3  # a projection's delays
RATES = 4  # a Poisson source's per-channel rates
PARAMETERS = 5  # a heterogeneous neuron parameter
POSITIONS = 6  # a population's random positions
ESTIMATE = 7  # the memory estimate's sample of a projection (`brainsim.backends.estimate`)

_LOW_32 = 0xFFFFFFFF


def name_hash(name: str, salt: int = 0) -> int:
    """A 64-bit hash of `name` (and of `salt`, below 2**8), the same in every process and on
    every machine: BLAKE2b of the UTF-8 name."""
    digest = hashlib.blake2b(name.encode("utf-8", "surrogatepass"), digest_size=8, salt=bytes([salt])).digest()
    return int.from_bytes(digest, "little")


def host_key(seed: int, purpose: int, name: str, *more: int) -> list[int]:
    """The entropy of the numpy generator (`np.random.default_rng(key)`) of one host-side draw:
    [seed, purpose, the name's hash in two 32-bit words, *more] (`more`: which state or
    parameter, by its index in the model)."""
    hashed = name_hash(name)
    return [seed, purpose, hashed & _LOW_32, hashed >> 32, *more]
