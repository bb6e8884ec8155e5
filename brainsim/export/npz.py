"""Results as a numpy `.npz` archive, and back: every array of a `Results`, under flat keys.

The archive needs nothing but numpy to read (`np.load(path)`, no pickles), and
`load_npz` rebuilds the `Results` from it exactly, bit for bit. Keys, with
`<population>`, `<projection>`, `<variable>` the model's names (which never hold "/"):

    meta/format, meta/version         "brainsim-results", 1
    meta/backend, meta/description    str
    meta/dt, meta/duration, meta/start, meta/compile_seconds, meta/run_seconds   float64, s
    spike_counts/<population>         int64 [size]: every population, in network order
    spikes/<population>/times         float64 [spikes], s: recorded populations only
    spikes/<population>/indices       int64 [spikes]: the neuron of each spike
    traces/<population>/<variable>/indices|times|values|unit    a `Trace`
    final_state/<population>/<variable>                         float64 [size]
    regions/<region>                  str [populations]: at any depth
    synapses/<projection>/pre|post    int64 [synapses]
    synapses/<projection>/states/<variable>                     float64 [synapses]
    synapses/<projection>/units/<variable>                      str: its SI unit
    synapse_traces/<projection>/<variable>/indices|times|values|unit   a `SynapseTrace`

Entries are stored in the order of the `Results` mappings, and read back in that order.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from brainsim.errors import InvalidValueError
from brainsim.results import Results, SpikeTrains, SynapseStates, SynapseTrace, Trace

FORMAT, VERSION = "brainsim-results", 1
_RECORD_FIELDS = ("indices", "times", "values", "unit")
_TIMES = ("dt", "duration", "start", "compile_seconds", "run_seconds")


def arrays(results: Results, description: str | None = None) -> dict[str, np.ndarray]:
    """The archive's entries: key -> array, in the layout of the module docstring."""
    out = {"meta/format": np.array(FORMAT), "meta/version": np.array(VERSION),
           "meta/backend": np.array(results.backend), "meta/description": np.array(description or "")}
    out |= {f"meta/{name}": np.array(getattr(results, name), dtype=np.float64) for name in _TIMES}
    out |= {f"spike_counts/{p}": np.asarray(c, dtype=np.int64) for p, c in results.spike_counts.items()}
    for name, trains in results.spikes.items():
        out[f"spikes/{name}/times"], out[f"spikes/{name}/indices"] = trains.times, trains.indices
    for (population, variable), trace in results.traces.items():
        out |= _record(f"traces/{population}/{variable}", trace)
    for population, states in results.final_state.items():
        out |= {f"final_state/{population}/{v}": values for v, values in states.items()}
    out |= {f"regions/{r}": np.array(populations, dtype=str) for r, populations in results.regions.items()}
    for name, synapses in results.synapses.items():
        out[f"synapses/{name}/pre"], out[f"synapses/{name}/post"] = synapses.pre, synapses.post
        out |= {f"synapses/{name}/states/{v}": values for v, values in synapses.states.items()}
        out |= {f"synapses/{name}/units/{v}": np.array(unit) for v, unit in synapses.units.items()}
    for (projection, variable), trace in results.synapse_traces.items():
        out |= _record(f"synapse_traces/{projection}/{variable}", trace)
    return out


def _record(prefix: str, trace: Trace | SynapseTrace) -> dict[str, np.ndarray]:
    return {f"{prefix}/{field}": np.asarray(getattr(trace, field)) for field in _RECORD_FIELDS}


def write(results: Results, path: Path, description: str | None = None) -> None:
    """Write `results` to the `.npz` archive `path` (uncompressed: spike times do not compress)."""
    with open(path, "wb") as file:  # a file object: np.savez would add ".npz" to a name without it
        np.savez(file, **arrays(results, description))


def load_npz(path: str | Path) -> Results:
    """The `Results` saved in the archive at `path` by `Results.save` (bit for bit).

    Raises:
        InvalidValueError: the file cannot be read, or is not a brainsim results archive.
    """
    try:
        with np.load(path, allow_pickle=False) as archive:
            entries = {key: archive[key] for key in archive.files}
    except (OSError, ValueError) as error:
        raise InvalidValueError(f"cannot read results archive {str(path)!r}: {error}") from None
    if entries.get("meta/format", np.array("")).item() != FORMAT:
        raise InvalidValueError(f"{str(path)!r} is not a brainsim results archive (it has no meta/format {FORMAT!r})")
    return _results(entries)


def _results(entries: dict[str, np.ndarray]) -> Results:
    """Rebuild a `Results` from the entries of an archive, in their order."""
    groups: dict[str, dict] = {}
    for key, value in entries.items():
        section, *names = key.split("/")
        if section in ("traces", "synapse_traces"):  # keyed by (name, variable), as in Results, to keep their order
            names = [(names[0], names[1]), *names[2:]]
        *path, last = names
        node = groups.setdefault(section, {})
        for name in path:
            node = node.setdefault(name, {})
        node[last] = value
    meta = groups["meta"]
    counts = groups.get("spike_counts", {})
    final_state = {p: {} for p in counts} | groups.get("final_state", {})

    def record(kind, key, fields):
        return kind(*key, fields["indices"], fields["times"], fields["values"], fields["unit"].item())

    return Results(
        backend=meta["backend"].item(),
        **{name: float(meta[name]) for name in _TIMES},
        spikes={p: SpikeTrains(p, len(counts[p]), s["times"], s["indices"]) for p, s in groups.get("spikes", {}).items()},
        spike_counts=counts,
        traces={key: record(Trace, key, fields) for key, fields in groups.get("traces", {}).items()},
        final_state=final_state,
        regions={r: tuple(populations.tolist()) for r, populations in groups.get("regions", {}).items()},
        synapses={name: SynapseStates(name, s["pre"], s["post"], s.get("states", {}),
                                      {v: unit.item() for v, unit in s.get("units", {}).items()})
                  for name, s in groups.get("synapses", {}).items()},
        synapse_traces={key: record(SynapseTrace, key, fields) for key, fields in groups.get("synapse_traces", {}).items()},
    )
