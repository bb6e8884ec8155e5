"""The fuzz tests run jax: set it up for bit-exact float64 before anything starts its CPU backend."""

from brainsim.backends.jax_backend import configure

configure()
