"""Results as a Neurodata Without Borders file (`.nwb`, the `nwb` extra: pynwb).

- `units`: the Units table, one row per neuron of each population whose spikes were
  recorded, in network order; `spike_times` (s), and the columns `population` and
  `neuron` (its index within the population); `obs_intervals` is the run.
- `acquisition/<population>.<variable>`: a `TimeSeries` per recorded neuron state,
  data [samples, neurons] in the variable's SI unit, `starting_time` and `rate` (Hz);
  `comments` holds the JSON {"population", "variable", "neurons"}: which neuron
  each column is.
- `processing/synapses/<projection>.<variable>`: a `TimeSeries` per synapse record,
  data [samples, synapses], with `timestamps` (snapshots need not be evenly spaced);
  `comments` names the synapses (their positions in projection order).
- session: `session_description` (the model file, from the CLI), a fresh UUID
  `identifier`, `session_start_time` the time of writing, `was_generated_by`
  brainsim's version, and the run's backend and steps in `notes`.

Spike counts of populations whose spikes were not recorded, final states and final
synapse states are not in the file: the `.npz` export holds everything.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from importlib import metadata
from pathlib import Path

import numpy as np

from brainsim.export.common import by_neuron, sampling_period, time_span
from brainsim.extras import DISTRIBUTION, require
from brainsim.results import Results, SynapseTrace, Trace


def write(results: Results, path: Path, description: str | None = None) -> None:
    """Write `results` to the NWB file `path` (see the module docstring).

    Raises:
        MissingExtraError: pynwb is not installed.
    """
    pynwb = require("pynwb", "nwb", f"writing {str(path)!r}")
    start = time_span(results)[0]
    nwbfile = pynwb.NWBFile(
        session_description=description or "a brainsim simulation",
        identifier=str(uuid.uuid4()),
        session_start_time=datetime.now().astimezone(),
        was_generated_by=[[DISTRIBUTION, metadata.version(DISTRIBUTION)]],
        notes=(f"simulated by brainsim on the {results.backend} backend: {results.n_steps} steps of "
               f"{results.dt:g} s from t = {start:g} s"),
    )
    if results.spikes:
        nwbfile.units = _units(pynwb, results)
    for trace in results.traces.values():
        nwbfile.add_acquisition(_series(pynwb, trace, results.dt, "population", trace.population, "neurons"))
    if results.synapse_traces:
        module = nwbfile.create_processing_module("synapses", "synapse states recorded by brainsim")
        for trace in results.synapse_traces.values():
            module.add(_series(pynwb, trace, results.dt, "projection", trace.projection, "synapses"))
    with pynwb.NWBHDF5IO(str(path), "w") as io:
        io.write(nwbfile)


def _units(pynwb, results: Results):
    """The Units table, built column by column (`add_unit`, a row at a time, takes 2 ms a neuron)."""
    from hdmf.common import ElementIdentifiers, VectorData, VectorIndex  # hdmf: pynwb's base

    ordered = [by_neuron(trains) for trains in results.spikes.values()]
    sizes = [trains.size for trains in results.spikes.values()]
    neurons = sum(sizes)
    spike_times = VectorData(name="spike_times", description="the times of the neuron's spikes (s)",
                             data=np.concatenate([np.zeros(0)] + [times for times, _ in ordered]))
    intervals = VectorData(name="obs_intervals", description="the run: when spikes were recorded (s)",
                           data=np.tile(time_span(results), (neurons, 1)))
    columns = [
        spike_times,
        VectorIndex(name="spike_times_index", data=np.cumsum(np.concatenate([counts for _, counts in ordered])),
                    target=spike_times),
        intervals,
        VectorIndex(name="obs_intervals_index", data=np.arange(1, neurons + 1), target=intervals),
        VectorData(name="population", description="the brainsim population of the neuron",
                   data=np.repeat(list(results.spikes), sizes)),
        VectorData(name="neuron", description="the index of the neuron within its population",
                   data=np.concatenate([np.arange(size) for size in sizes])),
    ]
    return pynwb.misc.Units(name="units", description="the neurons whose spikes brainsim recorded",
                            id=ElementIdentifiers(name="id", data=np.arange(neurons)), columns=columns)


def _series(pynwb, trace: Trace | SynapseTrace, dt: float, kind: str, name: str, elements: str):
    """A record of the `elements` of `kind` `name` as a `TimeSeries`: `rate` where its samples
    are evenly spaced, else `timestamps`."""
    period = sampling_period(trace, dt)
    timing = {"timestamps": trace.times} if period is None else {"starting_time": float(trace.times[0]),
                                                                 "rate": 1 / period}
    return pynwb.TimeSeries(
        name=f"{name}.{trace.variable}",
        data=trace.values,
        unit=trace.unit,
        description=f"{trace.variable} of {name}, one column per recorded {elements.removesuffix('s')}",
        comments=json.dumps({kind: name, "variable": trace.variable, elements: trace.indices.tolist()}),
        **timing,
    )
