"""Backend tests need jax set up for bit-exact float64 before anything starts its
CPU backend; collection imports this file before any test runs."""

from brainsim.backends.jax_backend import configure

configure()
