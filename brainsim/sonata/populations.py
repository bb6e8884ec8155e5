"""SONATA nodes in brainsim's terms: one population per node type of each node population.

The nodes of one node type in one SONATA node population become one brainsim
population (a `Group`), in a region named after the node population and named
after the type's `pop_name` (`type_<id>` without one); neuron k of the group is
the group's k-th node in node id order. A point neuron (`model_type`
`point_neuron`, or bmtk's `point_process`) gets the standard-library model of
its `model_template` (`brainsim.sonata.templates`), with the values of its
NEST parameters: a node's own (`dynamics_params` datasets of its group) over its
node type's (the `dynamics_params` JSON file the table names) over NEST's
default. A `virtual` node only sends spikes: its group is a spike source with
the spikes a spike file of the config gives it (none otherwise, a TODO).
Positions are the nodes' `x`, `y`, `z` (um; a node's own over its type's).

What a standard-library model cannot hold (an unknown NEST parameter, a `Fixed`
one set to another value, spikes outside the run or twice in one step) is noted for the model's
header, as something left to the user.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from brainsim.dsl.parser import lark_parser
from brainsim.errors import SonataError
from brainsim.sonata.nodes import NodePopulation
from brainsim.sonata.tables import TypeRow, TypeTable, dynamics_params
from brainsim.sonata.templates import TEMPLATES, Template

_NEURONS = ("point_neuron", "point_process")  # SONATA's name, and bmtk's


@dataclass(frozen=True)
class Clock:
    """The run the import writes (ms): spikes of inputs must fall on its steps."""

    dt: float
    duration: float


@dataclass(frozen=True, eq=False)
class Group:
    """One brainsim population: the nodes of one node type in one SONATA node population.

    `values` holds each parameter and initial state of the model, one number per neuron in
    its NEST unit (name -> (values, unit)); `current` the constant current I_e per neuron;
    `positions` (n, 3) in um or None; `spikes` (neuron indices, times in ms) for a spike
    source, time-ordered; `template` is None for a spike source.
    """

    region: str
    name: str
    node_ids: np.ndarray
    template: Template | None
    values: dict[str, tuple[np.ndarray, str]]
    current: np.ndarray | None
    positions: np.ndarray | None
    spikes: tuple[np.ndarray, np.ndarray] | None
    origin: str

    @property
    def qualified(self) -> str:
        return f"{self.region}.{self.name}"

    @property
    def size(self) -> int:
        return len(self.node_ids)


def node_groups(population: NodePopulation, table: TypeTable, region: str, models: Path, clock: Clock,
                spikes: tuple[np.ndarray, np.ndarray, Path] | None, notes: list[str]) -> list[Group]:
    """The groups of one SONATA node population, by node type id.

    `models` is the folder of the dynamics_params JSON files; `spikes` (node ids, times in
    ms, file) the spikes an input gives the population, if any.

    Raises SonataError if a node's type is not in the table, a node type's `model_type` is
    not a point neuron or virtual, its `model_template` is not in the table of
    `brainsim.sonata.templates`, its dynamics_params file is missing or not a JSON object
    of numbers, or a spike is given to a node the population does not have.
    """
    rows = _rows(population, table)
    names = _group_names(rows)
    if spikes is not None and (unknown := np.setdiff1d(spikes[0], population.node_ids)).size:
        raise SonataError(f"the spike file {spikes[2].name} gives spikes to node {int(unknown[0])} of `{population.name}`, "
                          f"but /nodes/{population.name} of {population.path.name} has no such node")
    groups = []
    for row in rows:
        members = np.flatnonzero(population.type_ids == row.type_id)
        members = members[np.argsort(population.node_ids[members], kind="stable")]
        node_ids = population.node_ids[members]
        name = names[row.type_id]
        label = f"{region}.{name}"
        model_type = row.get("model_type")
        if model_type == "virtual":
            template, values, current = None, {}, None
            trains = _trains(node_ids, spikes, clock, label, notes)
            origin = f"node type {row.type_id} of {table.path.name}: virtual nodes"
        elif model_type in _NEURONS:
            template = _template(row, table)
            file, written = dynamics_params(row, table, models)
            values, current = _values(template, file, written, population, members, label, notes)
            trains = None
            origin = f"node type {row.type_id} of {table.path.name}: {template.nest}" + (
                f" ({row.get('dynamics_params')})" if row.get("dynamics_params") else "")
        else:
            raise SonataError(
                f"node type {row.type_id} of {table.path.name} has "
                f"{'no model_type' if model_type is None else f'model_type `{model_type}`'}; brainsim imports point "
                f"neurons (`point_neuron`, `point_process`) and `virtual` nodes",
                row.span,
            )
        groups.append(Group(region, name, node_ids, template, values, current,
                            _positions(population, row, members), trains, origin))
    return groups


def identifier(text: str, taken: set[str]) -> str:
    """`text` as a name the language accepts (letters, digits, `_`; not a keyword; not
    starting with a digit or `_`), made unique among `taken` with a numeric suffix."""
    name = re.sub(r"\W", "_", text, flags=re.ASCII).strip("_") or "nodes"
    if name[0].isdigit() or name in lark_parser().options.postlex.keywords:
        name = f"p_{name}"
    unique, k = name, 2
    while unique in taken:
        unique, k = f"{name}_{k}", k + 1
    taken.add(unique)
    return unique


def _rows(population: NodePopulation, table: TypeTable) -> list[TypeRow]:
    """The table row of each node type the population uses, by type id."""
    rows = []
    for type_id in np.unique(population.type_ids):
        row = table.row(int(type_id), population.name)
        if row is None:
            node = int(population.node_ids[np.argmax(population.type_ids == type_id)])
            raise SonataError(
                f"node {node} of /nodes/{population.name} in {population.path.name} has node_type_id {int(type_id)}, "
                f"but {table.path.name} has no such node type (its node_type_ids are "
                f"{', '.join(map(str, table.ids(population.name))) or 'none'})"
            )
        rows.append(row)
    return rows


def _group_names(rows: list[TypeRow]) -> dict[int, str]:
    """Each type's population name: its pop_name (with `_<id>` where types share one), or type_<id>."""
    wanted = {row.type_id: row.get("pop_name") or f"type_{row.type_id}" for row in rows}
    shared = [name for name in wanted.values() if list(wanted.values()).count(name) > 1]
    taken: set[str] = set()
    return {type_id: identifier(f"{name}_{type_id}" if name in shared else name, taken) for type_id, name in wanted.items()}


def _template(row: TypeRow, table: TypeTable) -> Template:
    written = row.get("model_template")
    if written not in TEMPLATES:
        raise SonataError(
            f"node type {row.type_id} of {table.path.name} has "
            f"{'no model_template' if written is None else f'model_template `{written}`, which brainsim does not import'}"
            f"; it imports {', '.join(TEMPLATES)}",
            row.span,
            hint="docs/sonata.md shows how each is mapped; for another model, write its neuron in .brain text "
                 "and give this node type one of these templates to import the rest",
        )
    return TEMPLATES[written]


def _values(template: Template, file: str, written: dict[str, object], population: NodePopulation,
            members: np.ndarray, label: str, notes: list[str]) -> tuple[dict[str, tuple[np.ndarray, str]], np.ndarray]:
    """Each brainsim parameter and state of the group, per neuron, and I_e per neuron; `written`
    is the node type's dynamics_params (from `file`)."""

    def value(nest: str, default: float) -> np.ndarray:
        base = written.get(nest, default)
        if isinstance(base, bool) or not isinstance(base, (int, float)) or not math.isfinite(base):
            raise SonataError(f"{label}: NEST parameter {nest} = {base!r} in {file} is not a finite number")
        values = np.full(len(members), float(base))
        if nest in population.dynamics:
            own = population.dynamics[nest][members]
            values = np.where(np.isnan(own), values, own)
            if not np.isfinite(values).all():
                raise SonataError(f"{label}: /nodes/{population.name}/<group>/dynamics_params/{nest} of "
                                  f"{population.path.name} holds a value that is not finite")
        return values

    values = {p.name: (value(p.nest, p.default), p.unit) for p in (*template.parameters, *template.states)}
    for fixed in template.fixed:
        given = value(fixed.nest, fixed.default)
        held = value(fixed.equals, next(p.default for p in template.parameters if p.nest == fixed.equals)) \
            if isinstance(fixed.equals, str) else np.full(len(members), fixed.equals)
        if not np.array_equal(given, held):
            notes.append(f"{label}: NEST's {fixed.nest} is {_listed(given, fixed.unit)}, but {template.model} has no "
                         f"{fixed.nest} of its own; it behaves as if {fixed.nest} = {_listed(held, fixed.unit)}")
    own = {key for key, values in population.dynamics.items() if not np.isnan(values[members]).all()}
    unknown = sorted((set(written) | own) - set(template.names()))
    if unknown:
        listed = ", ".join(f"{key} = {written[key]!r}" if key in written else f"{key} (per node)" for key in unknown)
        notes.append(f"{label}: NEST parameters not imported ({template.model} has no counterpart): {listed}")
    return values, value(template.current.nest, template.current.default)


def _listed(values: np.ndarray, unit: str) -> str:
    distinct = np.unique(values)
    shown = ", ".join(f"{v:g}" for v in distinct[:3]) + (", ..." if len(distinct) > 3 else "")
    return f"{shown} {unit}".strip() if len(distinct) == 1 else f"({shown}) {unit}".strip()


def _positions(population: NodePopulation, row: TypeRow, members: np.ndarray) -> np.ndarray | None:
    """The nodes' x, y, z (um): a node's own, else its type's, else 0; None if none is given."""
    axes = []
    for axis in "xyz":
        own = population.attributes.get(axis)
        base = row.number(axis)
        if own is None and base is None:
            axes.append(None)
            continue
        fallback = 0.0 if base is None else base
        axes.append(np.full(len(members), fallback) if own is None else np.where(np.isnan(own[members]), fallback, own[members]))
    if all(axis is None for axis in axes):
        return None
    return np.stack([np.zeros(len(members)) if axis is None else axis for axis in axes], axis=1)


def _trains(node_ids: np.ndarray, spikes: tuple[np.ndarray, np.ndarray, Path] | None, clock: Clock, label: str,
            notes: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The spikes of a virtual group: (neuron index, time in ms), in time order, each on a
    step of the run from the first to the last (a spike source emits in whole steps, at
    most once per neuron and step)."""
    if spikes is None:
        notes.append(f"{label}: no input gives these virtual nodes spikes (the config's inputs name no SONATA spike "
                     f"file for them); give them times (SpikeTimes) or rates (PoissonSource)")
        return np.zeros(0, np.int64), np.zeros(0)
    ids, times, path = spikes
    mine = np.isin(ids, node_ids)
    index, times = np.searchsorted(node_ids, ids[mine]), times[mine]
    steps = np.rint(times / clock.dt).astype(np.int64)  # halves to even, as the language rounds spike times
    inside = (steps >= 1) & (steps <= round(clock.duration / clock.dt))
    if dropped := int((~inside).sum()):
        notes.append(f"{label}: {dropped} spike(s) of {path.name} fall outside the run (the first step to "
                     f"{clock.duration:g} ms) and were left out")
    order = np.lexsort((index[inside], times[inside]))
    index, times, steps = index[inside][order], times[inside][order], steps[inside][order]
    # the first spike of each (neuron, step), in time order
    kept = np.sort(np.unique(index * (steps.max(initial=0) + 1) + steps, return_index=True)[1])
    if twice := len(index) - len(kept):
        notes.append(f"{label}: {twice} spike(s) of {path.name} fall in the same {clock.dt:g} ms step as another "
                     f"of the same node and were left out")
    return index[kept], times[kept]
