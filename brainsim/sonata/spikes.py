"""Spike trains for virtual nodes, from the SONATA spike files the config's inputs name.

A SONATA spike file (developer guide, "Spike file"; bmtk, NEST and PyNN write it)
holds, per node population, the node id and time of every spike::

    /spikes/<population>/node_ids      (older files: gids)
    /spikes/<population>/timestamps    attribute units: "ms" (the default) or "s"

NEST also reads a file with the two datasets directly under /spikes, for the one
population the input's `node_set` names; so does this module.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from brainsim.errors import SonataError
from brainsim.sonata.config import SpikeInput
from brainsim.sonata.hdf5 import column, is_dataset, open_hdf5, same_lengths

_MS_PER = {"ms": 1.0, "s": 1000.0}


def input_spikes(inputs: tuple[SpikeInput, ...], populations: set[str]) -> dict[str, tuple[np.ndarray, np.ndarray, Path]]:
    """The spikes of each of `populations` (virtual node populations) that an input gives:
    population -> (node ids, times in ms, the file).

    Raises SonataError if a spike file has no /spikes group, its datasets differ in length,
    its times have an unknown unit, or two inputs give spikes to one population.
    """
    found: dict[str, tuple[np.ndarray, np.ndarray, Path]] = {}
    for spike_input in inputs:
        with open_hdf5(spike_input.file, "spike file") as handle:
            if "spikes" not in handle or is_dataset(handle["spikes"]):
                raise SonataError(f"the spike file {spike_input.file.name} (input `{spike_input.name}`) has no "
                                  f"/spikes group")
            spikes = handle["spikes"]
            if "timestamps" in spikes:  # the flat layout: one population, named by the input
                groups = {spike_input.node_set: spikes} if spike_input.node_set in populations else {}
            else:
                groups = {name: spikes[name] for name in spikes if name in populations}
            for name, group in groups.items():
                if name in found:
                    raise SonataError(f"two inputs give spikes to the node population `{name}`: "
                                      f"{found[name][2].name} and {spike_input.file.name}")
                found[name] = (*_trains(group, spike_input.file), spike_input.file)
    return found


def _trains(group, path: Path) -> tuple[np.ndarray, np.ndarray]:
    ids = "node_ids" if "node_ids" in group else "gids"
    columns = {ids: column(group, ids, path, integer=True), "timestamps": column(group, "timestamps", path)}
    same_lengths(columns, group.name, path)
    unit = group["timestamps"].attrs.get("units", "ms")
    unit = unit.decode() if isinstance(unit, bytes) else str(unit)
    if unit not in _MS_PER:
        raise SonataError(f"{group.name}/timestamps of {path.name} is in `{unit}`; spike times are in ms or s")
    return columns[ids], columns["timestamps"] * _MS_PER[unit]
