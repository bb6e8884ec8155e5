"""Where the jax backend keeps its arrays: one device, or the neurons split over several.

`placement(devices)` answers for `JaxSimulation`'s `devices` option:

* None: one device, jax's default (`OneDevice`);
* a number n, or a list of jax devices: a 1-D mesh over them (`Sharded`). The
  groups' state variables and refractory counters are split along the mesh
  axis "neurons" with `jax.sharding.NamedSharding`; everything else (ring
  buffers, noise states, spike histories, connectivity, parameters, synapse
  states) is replicated on every device. The jitted chunk
  is the same program: XLA's SPMD partitioner (GSPMD) splits the element-wise
  work by the arrays' shardings and inserts the exchanges (the spikes each
  device needs, every step) itself.

jax splits an axis only into equal parts, so a group whose size is not a
multiple of the number of devices stays whole (replicated): choose population
sizes divisible by it. Ring buffers stay whole because split ones changed a
plastic network's results on 2 devices (docs/decisions.md, "Sharding").
"""

from __future__ import annotations

from typing import Any

import numpy as np

from brainsim.errors import InvalidValueError

AXIS = "neurons"


def placement(devices) -> "OneDevice | Sharded":
    """Where a simulation's arrays go for the `devices` option (None, a count, or jax devices).

    Raises:
        InvalidValueError: more devices asked for than jax has, a count below 1, or
            something that is neither a count nor a list of jax devices.
    """
    import jax

    available = jax.devices()
    match devices:
        case None:
            return OneDevice()
        case bool():
            pass  # True is an int to Python, not a number of devices
        case int() if 1 <= devices <= len(available):
            return Sharded(tuple(available[:devices]))
        case int() if devices > len(available):
            raise InvalidValueError(
                f"devices={devices} asks for more devices than exist: jax has {len(available)} "
                f"({', '.join(sorted({d.platform for d in available}))}); on CPU, XLA_FLAGS="
                f"--xla_force_host_platform_device_count={devices} before jax starts gives {devices}"
            )
        case list() | tuple() if devices and all(isinstance(d, jax.Device) for d in devices):
            if len(set(devices)) < len(devices):
                raise InvalidValueError(f"devices lists a device twice: {list(devices)}")
            return Sharded(tuple(devices))
    raise InvalidValueError(f"devices is a number of devices (at least 1) or a list of jax devices, not {devices!r}")


class OneDevice:
    """Every array on jax's default device."""

    devices = 1

    def members(self) -> tuple:
        """The jax devices the arrays go to: the default one."""
        import jax

        return (jax.devices()[0],)

    def carry(self, carry):
        """`carry` on the device (a no-op for arrays already there)."""
        import jax

        return jax.device_put(carry)

    def arrays(self, arrays):
        """The runtime constants on the device."""
        import jax

        return jax.device_put(arrays)


class Sharded:
    """The carry's neuron-indexed arrays split over a 1-D mesh of `devices`, the rest replicated."""

    def __init__(self, devices: tuple):
        from jax.sharding import Mesh, NamedSharding, PartitionSpec

        self.devices = len(devices)
        self._members = devices
        self.mesh = Mesh(np.array(devices, dtype=object), (AXIS,))
        self.split = NamedSharding(self.mesh, PartitionSpec(AXIS))
        self.whole = NamedSharding(self.mesh, PartitionSpec())

    def members(self) -> tuple:
        """The jax devices of the mesh."""
        return self._members

    def carry(self, carry):
        """`carry` (a `brainsim.backends.kernel.Carry`) with the groups' states split by
        neuron where their size allows, everything else replicated."""
        import jax

        shardings = jax.tree.map(lambda _: self.whole, carry)._replace(groups=jax.tree.map(self._by_neuron, carry.groups))
        return jax.device_put(carry, shardings)

    def arrays(self, arrays):
        """The runtime constants, replicated on every device."""
        import jax

        return jax.device_put(arrays, jax.tree.map(lambda _: self.whole, arrays))

    def _by_neuron(self, x: Any):
        shape = np.shape(x)
        return self.split if len(shape) == 1 and shape[0] % self.devices == 0 else self.whole
