"""Recorded spikes as a SONATA spike file (`spikes.h5`, the `sonata` extra: h5py).

The layout of the SONATA developer guide ("Spike file"), as bmtk, NEST and PyNN
write it and libsonata reads it:

    /                           attributes magic = 0x0A7A (uint32), version = [0, 1] (uint32)
    /spikes/<population>        group, attribute sorting: enum {none: 0, by_id: 1, by_time: 2} = by_time
    /spikes/<population>/timestamps   float64 [spikes], attribute units = "ms"
    /spikes/<population>/node_ids     uint64 [spikes]: the neuron's index within the population

one group per population whose spikes were recorded (an empty one if it did not
fire), spikes in time order (by neuron within a step). The guide makes `sorting`
an HDF5 enum, which libsonata requires; h5py reads it as its number (2), and
`h5py.check_enum_dtype(group.attrs.get_id("sorting").dtype)` gives the names.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from brainsim.errors import InvalidValueError
from brainsim.extras import require
from brainsim.results import Results

MAGIC, VERSION = 0x0A7A, (0, 1)
SORTING = {"none": 0, "by_id": 1, "by_time": 2}


def write(results: Results, path: Path, description: str | None = None) -> None:
    """Write the recorded spikes of `results` to the SONATA spike file `path`.

    `description` is not written: a spike file has no place for one.

    Raises:
        MissingExtraError: h5py is not installed.
        InvalidValueError: no population's spikes were recorded.
    """
    h5py = require("h5py", "sonata", f"writing {str(path)!r}")
    if not results.spikes:
        raise InvalidValueError("no spikes were recorded, so there is nothing to put in a spike file "
                                "(add `record spikes of ...` to the model)")
    sorting = h5py.enum_dtype(SORTING, basetype="i1")
    with h5py.File(path, "w") as file:
        file.attrs["magic"] = np.uint32(MAGIC)
        file.attrs["version"] = np.array(VERSION, dtype=np.uint32)
        for name, trains in results.spikes.items():
            group = file.create_group(f"spikes/{name}")
            group.attrs.create("sorting", SORTING["by_time"], dtype=sorting)
            group.create_dataset("timestamps", data=trains.times * 1e3, dtype=np.float64).attrs["units"] = "ms"
            group.create_dataset("node_ids", data=trains.indices, dtype=np.uint64)
