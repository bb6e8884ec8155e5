"""What a run may take: a memory limit (the user's, or what the machine has free), a bound
on steps, and the refusals that name the estimate and what to change.

A network is checked before it is built, from `brainsim.backends.estimate`: building
all_to_all between two populations of 10^5 neurons would draw 10^10 synapses, and it
is the drawing that runs out of memory, so the refusal must come first. A run is
checked before its first step: its recordings, held in memory until the run ends
(twice while its chunks are joined), against what is free then, or, under a limit
of the user's, with the network, against that limit. Streamed recordings
(`Simulation.stream`, `brainsim.export.stream`) are bounded by a chunk and are not
counted.

The memory available is Linux's own estimate of what can be allocated without
swapping (MemAvailable in /proc/meminfo), less where a cgroup (a container) allows
less; elsewhere, the free physical pages (`os.sysconf`). A limit given with
`--max-memory 4GB` (`max_memory=` in Python) replaces it: lower, to keep a run
within a share of the machine, or higher, to run what the estimate overrates.

On an accelerator (a GPU) the network's arrays live in the device's own memory, so the
jax backend also holds the network to what its devices have free (`device_limit`, from
jax's `Device.memory_stats`); recordings come back to the host chunk by chunk and are
held to the host's memory. A user's limit replaces both figures.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

from brainsim.errors import InvalidValueError, ResourceError

MAX_STEPS = 2**31 - 1
"""Steps one run may take (docs/decisions.md, "A run is at most 2^31 - 1 steps")."""
MAX_TOTAL_STEPS = 2**40 - 1
"""Steps a simulation may reach from t = 0 over all its runs: the runtime generator counts
steps in 40 bits of its counter (`brainsim.backends.random`); 3.5 years of simulated time at
0.1 ms."""

_UNITS = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12,
          "ki": 2**10, "mi": 2**20, "gi": 2**30, "ti": 2**40}
_SIZE = re.compile(r"^\s*(?P<number>\d+\.?\d*|\.\d+)(?:[eE](?P<exponent>[-+]?\d+))?\s*(?P<prefix>[kKmMgGtT]i?)?[bB]?\s*$")

RECORDING_ADVICE = ("record fewer neurons or less often (`every = 1 ms`), run for less, or stream the recordings to a "
                    "file (`brainsim run model.brain --output run.h5 --stream`; in Python, "
                    "brainsim.export.stream.stream_to_file)")


@dataclass(frozen=True, slots=True)
class MemoryLimit:
    """At most `bytes` may be used; `source` says where that figure comes from, for a message;
    `user` is True for a limit the user set (which covers the whole run, network included)."""

    bytes: int
    source: str
    user: bool


def parse_memory(value: int | str) -> int:
    """A memory size in bytes, from a number of bytes or a text such as "4GB", "512 MB",
    "1.5GiB" (kB, MB, GB, TB are powers of 1000; KiB, MiB, GiB, TiB of 1024).

    Raises:
        InvalidValueError: neither, or not above zero.
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        size = value
    else:
        match = _SIZE.match(value) if isinstance(value, str) else None
        if match is None:
            raise InvalidValueError(f"a memory limit is a size such as 4GB, 512MB or 1.5GiB (or a number of bytes), "
                                    f"not {value!r}")
        number = float(f"{match['number']}e{match['exponent'] or 0}")  # 1e400 is inf, refused below
        size = number * _UNITS[(match["prefix"] or "").lower()]
    if not (math.isfinite(size) and size >= 1):
        raise InvalidValueError(f"a memory limit must be at least one byte, not {value!r}")
    return int(size)


def memory_limit(max_memory: int | str | None = None) -> MemoryLimit | None:
    """The limit a run is held to: `max_memory` where given (`parse_memory`), else the memory
    available now (None where it cannot be known)."""
    if max_memory is not None:
        size = parse_memory(max_memory)
        return MemoryLimit(size, f"the limit of {format_bytes(size)} set with --max-memory (max_memory=)", True)
    available = available_memory()
    if available is None:
        return None
    return MemoryLimit(available, f"the {format_bytes(available)} of memory available", False)


def device_limit(devices) -> MemoryLimit | None:
    """The memory free on the fullest of the jax `devices` a network's arrays are placed on
    (every device holds the synapses whole, so each must hold the network); None where no
    device reports its memory (a CPU device, whose memory is the host's)."""
    rooms = []
    for device in devices:
        stats = device.memory_stats() or {}
        if "bytes_limit" in stats:
            rooms.append((stats["bytes_limit"] - stats.get("bytes_in_use", 0), str(device), device.device_kind))
    if not rooms:
        return None
    room, name, kind = min(rooms)
    room = max(room, 0)
    return MemoryLimit(room, f"the {format_bytes(room)} of memory free on {name} ({kind})", False)


def available_memory() -> int | None:
    """Bytes that can be allocated now without swapping: MemAvailable, capped by the cgroup's
    limit where there is one; elsewhere the free physical pages; None if none can be read."""
    figures = [size for size in (_meminfo_available(), _cgroup_room()) if size is not None]
    if figures:
        return min(figures)
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def _meminfo_available() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _cgroup_room() -> int | None:
    """What a cgroup v2 limit leaves (memory.max - memory.current); None without one."""
    folder = Path("/sys/fs/cgroup")
    try:
        limit = (folder / "memory.max").read_text().strip()
        if limit == "max":
            return None
        return max(0, int(limit) - int((folder / "memory.current").read_text()))
    except (OSError, ValueError):
        return None


def refuse_network(estimate, limit: MemoryLimit | None) -> None:
    """ResourceError if building the network of `estimate` (a `brainsim.backends.estimate.Estimate`)
    would pass `limit`, giving the estimate by part and what to change."""
    if limit is None or estimate.network <= limit.bytes:
        return
    parts = [(name, size) for name, size in estimate.parts() if name != "recordings"]
    count = sum(e.count for e in estimate.expected)
    raise ResourceError(
        f"building this network would take about {format_bytes(estimate.network)}, more than {limit.source}:\n"
        + _table(parts, {"synapses": f"  ({count:,} synapses)"}),
        hint=f"{_advice(max(parts, key=lambda part: part[1])[0], estimate)}; {_raise_limit(limit)}",
    )


def refuse_recordings(n_steps: int, recordings: int, limit: MemoryLimit | None, built: int = 0) -> None:
    """ResourceError if the `recordings` of a run of `n_steps` steps (bytes held until it ends)
    would pass `limit`: against a user's limit with the `built` network's bytes (its estimate),
    against the memory available now (the network already in it) alone."""
    if limit is None:
        return
    needed = recordings + (built if limit.user else 0)
    if needed <= limit.bytes:
        return
    parts = [("network", built)] if limit.user else []
    raise ResourceError(
        f"recording this run of {n_steps:,} steps would take about {format_bytes(recordings)} "
        f"(the samples are held until the run ends, and twice while its chunks are joined)"
        + (f", {format_bytes(needed)} with the network," if limit.user else ",")
        + f" more than {limit.source}:\n" + _table(parts + [("recordings", recordings)], {}),
        hint=f"{RECORDING_ADVICE}; {_raise_limit(limit)}",
    )


def refuse_steps(n_steps: int, dt: float, done: int = 0) -> None:
    """ResourceError if one run would take more than `MAX_STEPS` steps, or a run after `done`
    steps would pass `MAX_TOTAL_STEPS`."""
    if n_steps <= MAX_STEPS and done + n_steps > MAX_TOTAL_STEPS:
        raise ResourceError(
            f"a run of {n_steps:,} steps after the {done:,} already done would pass the {MAX_TOTAL_STEPS:,} steps "
            f"a simulation may reach ({MAX_TOTAL_STEPS * dt:.6g} s at dt = {dt:g} s)",
            hint="reset the simulation (Simulation.reset) or use a larger dt",
        )
    if n_steps <= MAX_STEPS:
        return
    raise ResourceError(
        f"a run of {n_steps:,} steps ({n_steps * dt:.6g} s at dt = {dt:g} s) is more than the {MAX_STEPS:,} steps "
        "one run may take",
        hint=f"run for at most {MAX_STEPS * dt:.6g} s at a time: each run continues where the last ended, bit for bit "
             "(Simulation.run, or Simulation.stream for the recordings), or use a larger dt",
    )


def _table(parts: list[tuple[str, int]], notes: dict[str, str]) -> str:
    """The parts as aligned rows, a part that is not empty with its note."""
    notes = notes | {"recordings": "  (+ 16 B per recorded spike)"}
    return "\n".join(f"  {name:<16}{format_bytes(size):>10}{notes.get(name, '') if size else ''}" for name, size in parts)


def _advice(part: str, estimate) -> str:
    """What to change where `part` takes the most."""
    match part:
        case "synapses":
            largest = max(zip(estimate.memory.synapses, estimate.expected), key=lambda pair: pair[0].bytes)
            return (f"connect fewer pairs (a smaller p, a fixed indegree instead of all_to_all) or use smaller "
                    f"populations: {largest[0].projections[0]} alone has {largest[1].count:,} synapses "
                    f"({largest[1].how})")
        case "neuron state":
            return "use fewer neurons, or fewer populations"
        case "ring buffers":
            return ("use shorter delays or a larger dt: a ring buffer holds every neuron of a target group for each "
                    "step of the longest delay into it")
        case "stimulus tables":
            return ("give each sinusoid a `stop`, or shorten the duration: a sinusoid, a step current, a time series "
                    "and a spike source are tabulated with one value per step")
    return RECORDING_ADVICE


def _raise_limit(limit: MemoryLimit) -> str:
    if limit.user:
        return "or raise the limit given with --max-memory"
    return "or, if you know it fits, set a limit of your own with --max-memory (max_memory= in Python)"


def format_bytes(size: int) -> str:
    """`size` bytes as 96 B, 12.3 kB, 4.56 MB, 1.23 GB, 4.5 TB (powers of 1000); past 10^18 B
    as a power of ten (an estimate may be larger than a float holds). The messages that
    show an estimate say "about" themselves."""
    if size >= 10**18:
        return f"10^{len(str(int(size))) - 1} B"
    for unit, scale in (("PB", 1e15), ("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if size >= scale:
            return f"{size / scale:.3g} {unit}"
    return f"{size} B"
