"""Import a SONATA point-neuron network: read its files, map it, write it as a model, load it.

    config (JSON) -> node populations and types -> groups (one brainsim population each)
                  -> edge populations and types -> connections (one edge list each)
                  -> out_dir/model.brain + data files -> brainsim.load

`brainsim.sonata.config` reads the config, `tables`, `nodes`, `edges` and `spikes`
the files it names, `populations` and `connections` put them in brainsim's terms
(with `templates`, the table of NEST models), and `writing` writes the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from brainsim.errors import SonataError
from brainsim.model import Model, load
from brainsim.results import text_table
from brainsim.sonata.config import Circuit, read_circuit
from brainsim.sonata.connections import Connection, Lookup, connections
from brainsim.sonata.edges import read_edges
from brainsim.sonata.nodes import NodePopulation, read_nodes
from brainsim.sonata.populations import Clock, Group, identifier, node_groups
from brainsim.sonata.spikes import input_spikes
from brainsim.sonata.tables import TypeTable, read_types
from brainsim.sonata.writing import write_model

DEFAULT_DT, DEFAULT_DURATION = 0.1, 1000.0  # ms, where the config has no run


@dataclass(frozen=True)
class Imported:
    """An imported network: the model as loaded, the file it was written to, its populations
    and connections as mapped, and what was left to the user (the header's TODO lines)."""

    model: Model
    path: Path
    groups: tuple[Group, ...]
    connections: tuple[Connection, ...]
    notes: tuple[str, ...]


def import_sonata(config_path: str | Path, out_dir: str | Path, overwrite: bool = False) -> Model:
    """Import the SONATA network of `config_path` as out_dir/model.brain (and its data files)
    and return the loaded model.

    Args:
        config_path: the circuit config (JSON) naming the nodes, node types, edges and
            edge types files; a simulation config that names one (`"network"`) works too.
        out_dir: where to write the model; created if missing.
        overwrite: replace an out_dir/model.brain that exists.
    Raises:
        SonataError: a file is missing or cannot be read, the tables disagree, or a node
            type has a model brainsim does not import (docs/sonata.md lists the checks).
        MissingExtraError: h5py (the `sonata` extra) is not installed.
        BrainsimError: out_dir cannot be written, or the written model does not load.
    """
    return convert(config_path, out_dir, overwrite).model


def convert(config_path: str | Path, out_dir: str | Path, overwrite: bool = False) -> Imported:
    """`import_sonata`, returning what was imported besides the model (for the CLI's summary)."""
    circuit = read_circuit(config_path)
    notes: list[str] = []
    clock = _clock(circuit, notes)
    read = _node_populations(circuit)
    virtual = {population.name for population, table in read if _has_virtual(population, table)}
    spikes = input_spikes(circuit.spike_inputs, virtual)
    notes += [f"input `{name}` of {circuit.path.name} is not a SONATA spike file; it was not imported"
              for name in circuit.other_inputs]
    groups, lookups, regions = [], {}, set()
    for population, table in read:
        made = node_groups(population, table, identifier(population.name, regions), circuit.neuron_models, clock,
                           spikes.get(population.name), notes)
        groups += made
        lookups[population.name] = Lookup(population.name, made)
    wired = []
    for files in circuit.edges:
        table = read_types(files.edge_types, "edge_type_id")
        for edges in read_edges(files.edges):
            wired += connections(edges, table, lookups, circuit.synapse_models, notes)
    path = write_model(circuit.path.resolve(), Path(out_dir), clock, groups, wired, notes, overwrite)
    return Imported(load(path), path, tuple(groups), tuple(wired), tuple(notes))


def summary(imported: Imported) -> str:
    """What was imported, for the CLI: the populations, the connections and the TODO lines."""
    populations = text_table(
        ("population", "model", "from", "neurons"),
        [(g.qualified, g.template.model if g.template else "SpikeTimes", g.origin, str(g.size)) for g in imported.groups],
        numeric_from=3,
    )
    wired = text_table(
        ("connection", "synapse", "from", "edges"),
        [(f"{c.source.qualified} -> {c.target.qualified}", c.synapse, c.origin, str(len(c.pre)))
         for c in imported.connections],
        numeric_from=3,
    )
    neurons = sum(group.size for group in imported.groups)
    edges = sum(len(connection.pre) for connection in imported.connections)
    lines = [f"imported {imported.path}: {len(imported.groups)} populations, "
             f"{neurons} neurons, {edges} edges", "", populations, "", wired]
    if imported.notes:
        lines += ["", f"left to you (the TODO lines at the top of {imported.path.name}):",
                  *(f"  - {note}" for note in imported.notes)]
    return "\n".join(lines)


def _node_populations(circuit: Circuit) -> list[tuple[NodePopulation, TypeTable]]:
    """Every node population of the network with its node types table.

    Raises SonataError if two files hold populations of the same name.
    """
    read, seen = [], {}
    for files in circuit.nodes:
        table = read_types(files.node_types, "node_type_id")
        for population in read_nodes(files.nodes):
            if population.name in seen:
                raise SonataError(f"two node files hold a population named `{population.name}`: "
                                  f"{seen[population.name].name} and {files.nodes.name}")
            seen[population.name] = files.nodes
            read.append((population, table))
    return read


def _has_virtual(population: NodePopulation, table: TypeTable) -> bool:
    rows = (table.row(int(type_id), population.name) for type_id in np.unique(population.type_ids))
    return any(row is not None and row.get("model_type") == "virtual" for row in rows)


def _clock(circuit: Circuit, notes: list[str]) -> Clock:
    """The run of the config (`run.dt`, `run.tstop`, ms), whole steps; defaults noted."""
    dt = circuit.dt if circuit.dt is not None else DEFAULT_DT
    if circuit.dt is None:
        notes.append(f"{circuit.path.name} gives no run.dt: the model steps {DEFAULT_DT:g} ms")
    if circuit.tstop is None:
        notes.append(f"{circuit.path.name} gives no run.tstop: the model runs {DEFAULT_DURATION:g} ms")
    duration = circuit.tstop if circuit.tstop is not None else DEFAULT_DURATION
    steps = max(round(duration / dt), 1)
    if abs(steps * dt - duration) > 1e-9 * duration:
        notes.append(f"run.tstop = {duration:g} ms is not a whole number of {dt:g} ms steps: the model runs "
                     f"{steps * dt:g} ms")
    return Clock(dt, steps * dt)
