"""A run's recordings streamed to an HDF5 file chunk by chunk, so that memory stays bounded by a chunk.

    brainsim run model.brain --output run.h5 --stream
    summary = stream_to_file(model.compile(), "run.h5", duration=1000.0)

`Simulation.stream` hands out each chunk's `Results` as soon as it is done;
`StreamFile.append` adds it to the file's resizable datasets and keeps nothing of
it, so a run of 10^6 steps holds one chunk's recordings at a time (at most
`brainsim.backends.simulation.OUTPUT_BYTES_PER_CHUNK`), however long it is. The
file is a SONATA spike file (the layout of `brainsim.export.sonata`, which
libsonata, bmtk and NEST read) with the traces beside the spikes (the `sonata`
extra: h5py):

    /                                         attributes magic, version (SONATA's), format = "brainsim-stream",
                                              format_version = 1, dt (s), start (s), steps (written so far),
                                              complete (False until the last chunk is in), backend, dtype, description
    /spikes/<population>/timestamps           float64 [spikes], ms (attribute units), in time order
    /spikes/<population>/node_ids             uint64 [spikes], the neuron's index within the population
    /traces/<population>/<variable>/times     float64 [samples], s
    /traces/<population>/<variable>/values    [samples, neurons] in the run's dtype; attribute unit (SI)
    /traces/<population>/<variable>/indices   int64 [neurons], the recorded neurons
    /synapse_traces/<projection>/<variable>/  times, values [samples, synapses], indices (as for traces)
    /spike_counts/<population>                int64 [neurons], every population's counts so far
    /final_state/<population>/<variable>      the state after the last step (written at the end)

The spike datasets are grown in place after every chunk (chunked HDF5 datasets
with an unlimited first axis), so a reader of a file whose run failed or was
stopped finds every chunk written before, with `complete` False.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from brainsim import arguments
from brainsim.errors import ExportError, Interrupted, SimulationError
from brainsim.interrupts import deferred, requested
from brainsim.export.sonata import MAGIC, SORTING, VERSION
from brainsim.extras import require
from brainsim.progress import Progress, RunBar
from brainsim.results import Results

FORMAT, FORMAT_VERSION = "brainsim-stream", 1


class StreamFile:
    """An HDF5 file that the chunks of one run are appended to (module docstring: the layout).

    `written` lists, per chunk appended, the number of values it added (spike times,
    samples times recorded values): what the file took from memory at once.
    """

    def __init__(self, path: str | Path, simulation, description: str | None = None):
        h5py = require("h5py", "sonata", f"streaming results to {str(path)!r}")
        self.path = Path(path)
        self._file = h5py.File(self.path, "w")
        self._sorting = h5py.enum_dtype(SORTING, basetype="i1")
        self.written: list[int] = []
        attrs = self._file.attrs
        attrs["magic"], attrs["version"] = np.uint32(MAGIC), np.array(VERSION, dtype=np.uint32)
        attrs["format"], attrs["format_version"] = FORMAT, FORMAT_VERSION
        attrs["dt"], attrs["start"], attrs["steps"] = simulation.host.dt, simulation.time, 0
        attrs["backend"], attrs["dtype"], attrs["complete"] = simulation.backend, simulation.dtype, False
        attrs["description"] = description or ""

    def append(self, chunk: Results) -> None:
        """Add the spikes and samples of `chunk`, the next chunk of the run, and its spike counts."""
        count = 0
        for name, trains in chunk.spikes.items():
            group = self._spikes(name)
            count += _extend(group["timestamps"], trains.times * 1e3) + _extend(group["node_ids"], trains.indices)
        for (population, variable), trace in chunk.traces.items():
            count += self._samples(f"traces/{population}/{variable}", trace)
        for (projection, variable), trace in chunk.synapse_traces.items():
            count += self._samples(f"synapse_traces/{projection}/{variable}", trace)
        for name, counts in chunk.spike_counts.items():
            key = f"spike_counts/{name}"
            if key in self._file:
                self._file[key][...] += counts
            else:
                self._file.create_dataset(key, data=counts.astype(np.int64))
        self._file.attrs["steps"] = int(self._file.attrs["steps"]) + chunk.n_steps
        self._file.flush()
        self.written.append(count)

    def finish(self, final_state, complete: bool = True) -> None:
        """Write `final_state` (`Results.final_state` of the run's last chunk), mark the file
        complete (or not: a run stopped early) and close it."""
        for population, variables in final_state.items():
            for variable, values in variables.items():
                self._file.create_dataset(f"final_state/{population}/{variable}", data=values)
        self._file.attrs["complete"] = complete
        self.close()

    def close(self) -> None:
        """Close the file as it is (`complete` stays False unless `finish` set it)."""
        self._file.close()

    def _spikes(self, name: str):
        """The SONATA group of population `name`, created empty at its first chunk."""
        key = f"spikes/{name}"
        if key not in self._file:
            group = self._file.create_group(key)
            group.attrs.create("sorting", SORTING["by_time"], dtype=self._sorting)
            group.create_dataset("timestamps", shape=(0,), maxshape=(None,), dtype=np.float64, chunks=True)
            group["timestamps"].attrs["units"] = "ms"
            group.create_dataset("node_ids", shape=(0,), maxshape=(None,), dtype=np.uint64, chunks=True)
        return self._file[key]

    def _samples(self, key: str, trace) -> int:
        if key not in self._file:
            group = self._file.create_group(key)
            group.create_dataset("times", shape=(0,), maxshape=(None,), dtype=np.float64, chunks=True)
            width = len(trace.indices)
            group.create_dataset("values", shape=(0, width), maxshape=(None, width), dtype=trace.values.dtype,
                                 chunks=(max(1, min(1024, 2**20 // max(width, 1))), max(width, 1)) if width else True)
            group["values"].attrs["unit"] = trace.unit
            group.create_dataset("indices", data=np.asarray(trace.indices, dtype=np.int64))
        group = self._file[key]
        return _extend(group["times"], trace.times) + _extend(group["values"], trace.values)


def _extend(dataset, values: np.ndarray) -> int:
    """Append `values` along the first axis of the resizable `dataset`; the number of values added."""
    if len(values):
        start = dataset.shape[0]
        dataset.resize(start + len(values), axis=0)
        dataset[start:] = values
    return int(np.size(values))


def stream_to_file(simulation, path: str | Path, duration: float | str | None = None, progress: Progress = None,
                   description: str | None = None) -> Results:
    """Run `simulation` for `duration` (as `Simulation.run` takes it; default: the model's), from where it stands, writing each
    chunk's recordings to `path` as soon as it is done (module docstring: the layout).

    `progress` as `Simulation.run` takes it. Returns the run's `Results` without its
    recordings (spike counts, final state and synapses: what stays in memory); the
    spikes and samples are in the file. A run that fails or is stopped leaves the steps
    done so far in the file, with the attribute `complete` False; a state that went nan
    or inf and Ctrl-C leave every step before it there, and the state after the last.

    Raises:
        ExportError: the file cannot be written (h5py missing, no such folder, ...).
        ResourceError, InvalidValueError: as `Simulation.stream`.
        SimulationError: a state went nan or inf; its `results` are the summary of the steps before.
        Interrupted: Ctrl-C stopped the run; its `results` are the summary of the steps done.
    """
    from brainsim.export import check_output

    check_output(path, format="sonata")  # h5py there, and the folder writable
    chunks = simulation.stream(duration)  # checks the duration before the file is made
    summary = None
    sink = StreamFile(path, simulation, description)
    end = (simulation.steps_done + _steps(simulation, duration)) * simulation.host.dt
    try:
        with deferred(), RunBar(progress, _steps(simulation, duration), simulation.host.dt) as bar:
            try:
                for chunk in chunks:
                    sink.append(chunk)
                    bar.advance(chunk.n_steps)
                    bare = replace(chunk, spikes={}, traces={}, synapse_traces={})
                    summary = bare if summary is None else Results.joined((summary, bare))
                    del chunk, bare  # nothing of a chunk's recordings outlives its append
            except SimulationError as fault:  # the steps before it are in the file
                fault.results = summary
                sink.finish(summary.final_state, complete=False)
                raise
            if requested():
                sink.finish(summary.final_state, complete=False)
                raise Interrupted(summary, simulation.time, end)
        sink.finish(summary.final_state)
    except OSError as error:
        sink.close()
        raise ExportError(f"streaming to {str(path)!r} failed: {error}", str(path), str(error)) from error
    except BaseException:
        sink.close()
        raise
    return summary


def _steps(simulation, duration: float | str | None) -> int:
    """The steps a run of `duration` (default: the model's) from where `simulation` stands takes."""
    duration = simulation.network.simulation.duration if duration is None else arguments.duration(duration)
    return simulation.host.steps(duration, simulation.steps_done)
