"""The node populations of a SONATA nodes file.

    /nodes/<population>/node_type_id       one per node: its row of the node types table
    /nodes/<population>/node_id            optional; without it the nodes are 0, 1, 2, ...
    /nodes/<population>/node_group_id      the group holding the node's own attributes
    /nodes/<population>/node_group_index   the node's row in that group
    /nodes/<population>/<group>/x, y, z              per-node attributes (here: positions, um)
    /nodes/<population>/<group>/dynamics_params/...  per-node model parameters

A node's own value of an attribute overrides its node type's (`brainsim.sonata.mapping`
applies that rule). This module reads the datasets and rejects a file whose
datasets disagree: different lengths, a node id given twice, a group or group
row that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import numpy as np

from brainsim.errors import SonataError
from brainsim.sonata.hdf5 import column, grouped, is_dataset, open_hdf5, same_lengths


@dataclass(frozen=True, eq=False)
class NodePopulation:
    """The nodes of one population, in file order: their ids, node types, numeric attributes
    and dynamics_params (one float per node, NaN where the node's group has none)."""

    name: str
    path: Path
    node_ids: np.ndarray
    type_ids: np.ndarray
    attributes: Mapping[str, np.ndarray]
    dynamics: Mapping[str, np.ndarray]

    @property
    def size(self) -> int:
        return len(self.node_ids)


def read_nodes(path: Path) -> tuple[NodePopulation, ...]:
    """Every node population in the nodes file at `path`.

    Raises SonataError if the file has no /nodes group or no population, a population lacks
    `node_type_id` (or, with groups, `node_group_id` and `node_group_index`), its datasets
    differ in length, a node id is given twice, or a node names a missing group or row.
    """
    with open_hdf5(path, "nodes file") as handle:
        if "nodes" not in handle or is_dataset(handle["nodes"]) or not len(handle["nodes"]):
            raise SonataError(f"the nodes file {path.name} has no populations: SONATA puts them in /nodes/<population>")
        return tuple(_population(handle["nodes"][name], name, path) for name in handle["nodes"])


def _population(group, name: str, path: Path) -> NodePopulation:
    columns = {"node_type_id": column(group, "node_type_id", path, integer=True)}
    if "node_id" in group:
        columns["node_id"] = column(group, "node_id", path, integer=True)
    has_groups = any(not is_dataset(group[key]) for key in group)
    for key in ("node_group_id", "node_group_index"):
        if key in group or has_groups:
            columns[key] = column(group, key, path, integer=True)
    n = same_lengths(columns, f"/nodes/{name}", path)
    node_ids = columns.get("node_id", np.arange(n, dtype=np.int64))
    unique, counts = np.unique(node_ids, return_counts=True)
    if (counts > 1).any():
        raise SonataError(f"node id {int(unique[np.argmax(counts > 1)])} is given twice in /nodes/{name}/node_id of {path.name}")
    attributes, dynamics = {}, {}
    if "node_group_id" in columns:
        ids, index = columns["node_group_id"], columns["node_group_index"]
        attributes = grouped(group, ids, index, path)
        dynamics = grouped(group, ids, index, path, sub="dynamics_params")
    return NodePopulation(name, path, node_ids, columns["node_type_id"], attributes, dynamics)
