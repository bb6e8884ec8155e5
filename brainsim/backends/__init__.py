"""Backends: compile an `ir.Network` into a runnable `Simulation`.

    simulation = compile_network(network, backend="jax")
    results = simulation.run(duration=0.5)

"numpy" is the readable reference; "jax" runs the same step under `jax.jit`
and gives bit-identical results in float64 on CPU. jax is imported only when
the jax backend is asked for. `dtype="float32"` holds every real value in
float32 instead (for speed; compared with the float64 reference by
`brainsim.precision`, not bit for bit).
"""

from __future__ import annotations

from brainsim import arguments, ir
from brainsim.backends.simulation import Simulation
from brainsim.errors import InvalidValueError
from brainsim.validate import deep_expressions

BACKENDS = ("numpy", "jax")
DTYPES = ("float64", "float32")
OPTIONS = {"numpy": ("chunk_steps", "compiled_updates"),
           "jax": ("spike_capacity", "event_batch", "chunk_steps", "summation", "devices", "compiled_updates")}


def compile_network(network: ir.Network, backend: str = "numpy", dtype: str = "float64",
                    max_memory: int | str | None = None, **options) -> Simulation:
    """Build the arrays of `network` and compile its step for `backend`, in `dtype`.

    `max_memory` (bytes, or a text such as "4GB"; default: the memory available) bounds
    what the network and each run's recordings may take; the network is estimated
    before it is built (`brainsim.backends.estimate`) and refused with the estimate
    if it would pass (`brainsim.resources`).

    `dtype` is the float type of every state, parameter, propagator, buffer and
    weight: "float64" (bit-identical across backends) or "float32".

    `options` go to the backend: both take `chunk_steps` (steps per chunk of a
    run: what `Simulation.stream` hands out at once, and for jax what one compiled
    program runs; bounds recording memory) and `compiled_updates` (each group's
    update and each static pathway's delivery run as C loops traced from the same
    code, `brainsim.backends.fused`, in float64 and on jax on one CPU device, whose
    program calls them as XLA custom calls: "auto", the default, where they can run,
    else the plain step and `simulation.plain_updates_reason`; True: required; False:
    off); the jax backend also takes
    `spike_capacity` (initial bound on spikes per step and population, instead of
    the estimate; grown on demand), `event_batch` (synapse slots delivered at
    once per pathway, instead of the estimate), `summation` ("ordered":
    `brainsim.backends.ordered_sum`, the default on GPU; "scatter": XLA's
    scatter-add, the default on CPU) and `devices` (a number or a list of jax
    devices to split the neurons over: `brainsim.backends.sharding`).

    Raises:
        InvalidValueError: unknown backend or dtype, or a network the backends cannot run.
        ResourceError: the network would take more memory than `max_memory` or than is available.
    """
    arguments.choice(backend, BACKENDS, "backend")
    arguments.choice(dtype, DTYPES, "dtype")
    arguments.options(options, OPTIONS[backend], f"the {backend} backend")
    match backend:
        case "numpy":
            from brainsim.backends.numpy_backend import NumpySimulation as Backend
        case "jax":
            _require_jax()
            from brainsim.backends.jax_backend import JaxSimulation as Backend
    with deep_expressions():  # building the step walks every expression
        return Backend(network, dtype=dtype, max_memory=max_memory, **options)


def _require_jax() -> None:
    """InvalidValueError, not an ImportError's traceback, where jax cannot be imported."""
    try:
        import jax  # noqa: F401
    except ImportError as error:
        raise InvalidValueError(
            f"the jax backend needs jax, which cannot be imported here ({error}); install it with "
            "`pip install jax` (on an NVIDIA GPU: `pip install \"jax[cuda12]\"`), or use backend=\"numpy\""
        ) from None


__all__ = ["BACKENDS", "DTYPES", "Simulation", "compile_network"]
