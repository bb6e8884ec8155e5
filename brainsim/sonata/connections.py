"""SONATA edges in brainsim's terms: one edge list per (source group, target group, synapse).

Each edge joins a node of its source node population to one of its target node
population (`brainsim.sonata.populations.Group` holds where each node went). Its
weight and delay are its own (`syn_weight`, `delay` datasets of its edge group)
over its edge type's (columns of the edge types table), NEST's static_synapse
defaults (1, 1 ms) where neither gives one; with `nsyns` (per edge or per type)
the weight is `syn_weight * nsyns`, as bmtk's PointNet builds it. Weights are
in the unit the target's NEST model reads them in (pA, nS, mV), delays in ms.

The edges from one group to another become one `Connection`, whose synapse is
the one the target's template names (`brainsim.sonata.templates`); a
conductance-based target gets two, the edges of negative weight going to its
inhibitory synapse as positive conductances. Edge types of another synapse model
than static_synapse keep their weights and delays, and the model is noted.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from brainsim.errors import SonataError
from brainsim.sonata.edges import EdgePopulation
from brainsim.sonata.populations import Group
from brainsim.sonata.tables import TypeTable, dynamics_params

_STATIC = (None, "static_synapse", "nest:static_synapse")
_NEST_DEFAULTS = {"syn_weight": 1.0, "delay": 1.0}  # static_synapse: weight 1, delay 1 ms
_NOT_PARAMETERS = ("level_of_detail", "synapse_model", "model")  # bmtk's names of the model itself


@dataclass(frozen=True, eq=False)
class Connection:
    """The edges from `source` to `target` that `synapse` carries: neuron indices in the two
    groups, weights (`weight_unit`) and delays (ms), in file order."""

    source: Group
    target: Group
    synapse: str
    pre: np.ndarray
    post: np.ndarray
    weight: np.ndarray
    delay: np.ndarray
    weight_unit: str
    origin: str


class Lookup:
    """Where each node of one SONATA node population went: its group and index there."""

    def __init__(self, name: str, groups: list[Group]):
        self.name = name
        self.groups = groups
        ids = np.concatenate([group.node_ids for group in groups])
        self._order = np.argsort(ids, kind="stable")
        self._ids = ids[self._order]
        self._group = np.concatenate([np.full(group.size, g) for g, group in enumerate(groups)])[self._order]
        self._index = np.concatenate([np.arange(group.size) for group in groups])[self._order]

    def locate(self, ids: np.ndarray, edges: EdgePopulation, dataset: str) -> tuple[np.ndarray, np.ndarray]:
        """The group (index into `groups`) and neuron index of each node id.

        Raises SonataError naming the first edge whose node the population does not have.
        """
        at = np.minimum(np.searchsorted(self._ids, ids), len(self._ids) - 1)
        missing = self._ids[at] != ids
        if missing.any():
            k = int(np.argmax(missing))
            raise SonataError(
                f"edge {k} of /edges/{edges.name} in {edges.path.name} has {dataset} {int(ids[k])}, but the node "
                f"population `{self.name}` has no node {int(ids[k])}"
            )
        return self._group[at], self._index[at]


def connections(edges: EdgePopulation, table: TypeTable, lookups: dict[str, Lookup], models: Path,
                notes: list[str]) -> list[Connection]:
    """The connections of one edge population; `models` is the folder of the edge types'
    dynamics_params JSON files.

    Raises SonataError if the edges name a node population the network does not have, a
    node it does not have, an edge type the table does not have, a virtual node as target,
    or a weight or delay that is not a finite number.
    """
    source, target = (_population(lookups, name, edges, side) for name, side in
                      ((edges.source, "source"), (edges.target, "target")))
    source_group, pre = source.locate(edges.source_ids, edges, "source_node_id")
    target_group, post = target.locate(edges.target_ids, edges, "target_node_id")
    weight, delay = _weights_and_delays(edges, table, models, notes)
    origin = f"/edges/{edges.name} of {edges.path.name}"
    found = []
    pairs = np.unique(np.stack([source_group, target_group], axis=1), axis=0) if edges.size else np.zeros((0, 2), int)
    for s, t in pairs:
        mask = (source_group == s) & (target_group == t)
        into = target.groups[t]
        if into.template is None:
            k = int(np.argmax(mask))
            raise SonataError(f"edge {k} of {origin} targets node {int(edges.target_ids[k])} of `{target.name}`, a "
                              f"virtual node: virtual nodes only send spikes")
        template = into.template
        split = ((template.synapse, mask & (weight >= 0)), (template.inhibitory, mask & (weight < 0))) \
            if template.inhibitory else ((template.synapse, mask),)
        for synapse, chosen in split:
            if chosen.any():
                found.append(Connection(source.groups[s], into, synapse, pre[chosen], post[chosen],
                                        np.abs(weight[chosen]) if template.inhibitory else weight[chosen],
                                        delay[chosen], template.weight_unit, origin))
    return found


def _population(lookups: dict[str, Lookup], name: str, edges: EdgePopulation, side: str) -> Lookup:
    if name not in lookups:
        raise SonataError(
            f"/edges/{edges.name}/{side}_node_id of {edges.path.name} has node_population `{name}`, but the network "
            f"has no node population `{name}` (it has {', '.join(lookups)})"
        )
    return lookups[name]


def _weights_and_delays(edges: EdgePopulation, table: TypeTable, models: Path, notes: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Each edge's weight (syn_weight * nsyns) and delay (ms): its own, over its type's, over NEST's default."""
    values = {key: np.full(edges.size, np.nan) for key in ("syn_weight", "delay", "nsyns")}
    for type_id in np.unique(edges.type_ids):
        row = table.row(int(type_id), edges.name)
        if row is None:
            k = int(np.argmax(edges.type_ids == type_id))
            raise SonataError(
                f"edge {k} of /edges/{edges.name} in {edges.path.name} has edge_type_id {int(type_id)}, but "
                f"{table.path.name} has no such edge type (its edge_type_ids are "
                f"{', '.join(map(str, table.ids(edges.name))) or 'none'})"
            )
        members = edges.type_ids == type_id
        for key, column in values.items():
            if (number := row.number(key)) is not None:
                column[members] = number
        label = f"edge type {row.type_id} of {table.path.name}"
        if (template := row.get("model_template")) not in _STATIC:
            notes.append(f"{label} is a {template}; it was imported as a static synapse with its weights and "
                         f"delays (replace the synapse of its `connect` by a plastic one by hand)")
        file, written = dynamics_params(row, table, models)
        if extra := {key: value for key, value in written.items() if key not in _NOT_PARAMETERS}:
            notes.append(f"{label}: dynamics_params {file} sets "
                         f"{', '.join(f'{k} = {v!r}' for k, v in extra.items())}, which were not imported")
    for key, column in values.items():
        if key in edges.values:
            own = edges.values[key]
            column[:] = np.where(np.isnan(own), column, own)
    for key, default in _NEST_DEFAULTS.items():
        if (unset := np.isnan(values[key])).any():
            notes.append(f"/edges/{edges.name} of {edges.path.name}: {int(unset.sum())} edge(s) have no {key}; "
                         f"they have NEST's default, {default:g}{' ms' if key == 'delay' else ''}")
            values[key][unset] = default
    weight = values["syn_weight"] * np.where(np.isnan(values["nsyns"]), 1.0, values["nsyns"])
    for name, column in (("weight", weight), ("delay", values["delay"])):
        if not np.isfinite(column).all():
            k = int(np.argmax(~np.isfinite(column)))
            raise SonataError(f"edge {k} of /edges/{edges.name} in {edges.path.name} has a {name} that is not a "
                              f"finite number ({column[k]!r})")
    return weight, values["delay"]

