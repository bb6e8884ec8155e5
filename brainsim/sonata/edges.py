"""The edge populations of a SONATA edges file.

    /edges/<population>/source_node_id     one per edge; attribute node_population: whose ids
    /edges/<population>/target_node_id     one per edge; attribute node_population
    /edges/<population>/edge_type_id       the edge's row of the edge types table
    /edges/<population>/edge_group_id      the group holding the edge's own attributes
    /edges/<population>/edge_group_index   the edge's row in that group
    /edges/<population>/<group>/syn_weight, delay, nsyns, ...   per-edge attributes

An edge's own value overrides its edge type's (`brainsim.sonata.mapping`). This
module reads the datasets and rejects a file whose datasets disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import numpy as np

from brainsim.errors import SonataError
from brainsim.sonata.hdf5 import column, grouped, is_dataset, open_hdf5, same_lengths


@dataclass(frozen=True, eq=False)
class EdgePopulation:
    """The edges of one population, in file order: the node populations they join, their
    source and target node ids, edge types, and numeric attributes (one float per edge,
    NaN where the edge's group has none)."""

    name: str
    path: Path
    source: str
    target: str
    source_ids: np.ndarray
    target_ids: np.ndarray
    type_ids: np.ndarray
    values: Mapping[str, np.ndarray]

    @property
    def size(self) -> int:
        return len(self.type_ids)


def read_edges(path: Path) -> tuple[EdgePopulation, ...]:
    """Every edge population in the edges file at `path`.

    Raises SonataError if the file has no /edges group, a population lacks a required
    dataset or the `node_population` attribute of its node ids, its datasets differ in
    length, or an edge names a missing group or row.
    """
    with open_hdf5(path, "edges file") as handle:
        if "edges" not in handle or is_dataset(handle["edges"]) or not len(handle["edges"]):
            raise SonataError(f"the edges file {path.name} has no populations: SONATA puts them in /edges/<population>")
        return tuple(_population(handle["edges"][name], name, path) for name in handle["edges"])


def _population(group, name: str, path: Path) -> EdgePopulation:
    keys = ["source_node_id", "target_node_id", "edge_type_id"]
    has_groups = any(not is_dataset(group[key]) for key in group if key != "indices")
    keys += [key for key in ("edge_group_id", "edge_group_index") if key in group or has_groups]
    columns = {key: column(group, key, path, integer=True) for key in keys}
    same_lengths(columns, f"/edges/{name}", path)
    populations = {}
    for side in ("source", "target"):
        found = group[f"{side}_node_id"].attrs.get("node_population")
        if found is None:
            raise SonataError(f"/edges/{name}/{side}_node_id of {path.name} has no attribute `node_population` "
                              f"naming the node population its ids are in")
        populations[side] = found.decode() if isinstance(found, bytes) else str(found)
    values = {}
    if "edge_group_id" in columns:
        values = grouped(group, columns["edge_group_id"], columns["edge_group_index"], path)
    return EdgePopulation(
        name, path, populations["source"], populations["target"],
        columns["source_node_id"], columns["target_node_id"], columns["edge_type_id"], values,
    )
