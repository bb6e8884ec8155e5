"""The imported network as a `.brain` model and the data files beside it.

    out_dir/model.brain                      the model: text to read and edit
    out_dir/edges/<source>-<target>.npz      one edge list per `connect` (pre, post, weight, delay)
    out_dir/positions/<population>.csv       x, y, z of each neuron (um)
    out_dir/params/<population>.csv          the values that differ between a population's neurons

A value that is the same for every neuron of a population is written in the
population's braces (`tau_m = 44.9 ms`), one that is not is read from its
params file (`tau_m = from_file("params/V1.exc.csv", column = "tau_m")`). The
constant current I_e becomes a `stimulus` (one per run of neurons with the same
current). The model opens with a header that says where it came from, how each
node type was mapped, and what was left to the user (the TODO lines).
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import numpy as np

from brainsim.errors import InvalidValueError
from brainsim.sonata.connections import Connection
from brainsim.sonata.populations import Clock, Group

_PER_LINE = 10  # list elements per line of the model text


def write_model(config: Path, out_dir: Path, clock: Clock, groups: list[Group], connections: list[Connection],
                notes: list[str], overwrite: bool = False) -> Path:
    """Write out_dir/model.brain and its data files; returns the model's path.

    Raises InvalidValueError if out_dir/model.brain exists and `overwrite` is false, or if
    the folder cannot be written.
    """
    model = out_dir / "model.brain"
    if model.exists() and not overwrite:
        raise InvalidValueError(f"{model} exists; importing again would replace it and the data files beside it",
                                hint="give another output folder, or overwrite (--force, overwrite=True)")
    try:
        for folder in ("edges", "positions", "params"):
            (out_dir / folder).mkdir(parents=True, exist_ok=True)
        text = _text(config, out_dir, clock, groups, connections, notes)
        model.write_text(text, encoding="utf-8")
    except OSError as problem:
        raise InvalidValueError(f"cannot write the imported model to {out_dir}: {problem}") from None
    return model


def _text(config: Path, out_dir: Path, clock: Clock, groups: list[Group], connections: list[Connection],
          notes: list[str]) -> str:
    """The model's text; the data files of its populations and connections are written on the way."""
    modules = sorted({module for group in groups if group.template for module in group.template.modules})
    lines = [*_header(config, groups, connections, notes), "",
             f"simulation {{ dt = {_number(clock.dt)} ms  duration = {_number(clock.duration)} ms  seed = 0 }}"]
    if modules:
        lines.append(f"import {', '.join(modules)} from std")
    regions = list(dict.fromkeys(group.region for group in groups))
    for region in regions:
        lines += ["", f"region {region} {{"]
        for group in (g for g in groups if g.region == region):
            lines += ["    " + line for line in "\n".join(_population(group, out_dir)).splitlines()]
        lines.append("}")
    stimuli = [line for group in groups for line in _stimuli(group)]
    if stimuli:
        lines += ["", "# NEST's constant currents (I_e)", *stimuli]
    if connections:
        lines += ["", "# The edges, one edge list per source, target and synapse"]
    names: set[str] = set()
    for connection in connections:
        edges = _edges(connection, out_dir, names)
        lines.append(f"connect {connection.source.qualified} -> {connection.target.qualified} with "
                     f"{connection.synapse} {{ edges = \"{edges}\" }}   # {len(connection.pre)} from {connection.origin}")
    lines += ["", f"record spikes of {', '.join(regions)}", ""]
    return "\n".join(lines)


def _header(config: Path, groups: list[Group], connections: list[Connection], notes: list[str]) -> list[str]:
    neurons = sum(group.size for group in groups)
    edges = sum(len(connection.pre) for connection in connections)
    lines = [
        f"# Imported from the SONATA network {config} by `brainsim import-sonata`",
        f"# (brainsim.sonata, docs/sonata.md): {len(groups)} populations of {neurons} nodes in all, and {edges} edges",
        "# in the edge lists of edges/. This file and its data files are the model now: edit them freely.",
        "#",
        "# Each node type of each SONATA node population is a population here:",
    ]
    for group in groups:
        model = group.template.model if group.template else "SpikeTimes"
        lines.append(f"#   {group.qualified}: {group.size} x {model}, from {group.origin}")
    lines += ["#", "# Recorded: the spikes of every population (add `record v of ...` for membrane traces).", "#"]
    if notes:
        lines.append("# Left to you:")
        lines += [f"#   TODO {note}" for note in notes]
    else:
        lines.append("# Nothing was left to you: every node type, edge and input was imported.")
    return lines


def _population(group: Group, out_dir: Path) -> list[str]:
    """The lines declaring one population (and writing its positions and params files)."""
    at = ""
    if group.positions is not None:
        positions = f"positions/{group.qualified}.csv"
        _csv(out_dir / positions, ("x [um]", "y [um]", "z [um]"), group.positions.T)
        at = f' at from_file("{positions}")'
    if group.template is None:
        indices, times = group.spikes
        settings = [f"indices = {_list(str(int(i)) for i in indices)}"] if len(times) else []
        settings.append(f"times = {_list(f'{_number(t)} ms' for t in times)}")
        return [f"{group.name} = SpikeTimes[{group.size}]{at} {{", *("    " + s for s in settings), "}"]
    varying = {name: values for name, (values, _) in group.values.items() if not (values == values[0]).all()}
    params = f"params/{group.qualified}.csv"
    if varying:
        _csv(out_dir / params, [_heading(name, group.values[name][1]) for name in varying], list(varying.values()))
    settings = [
        f'{name} = from_file("{params}", column = "{name}")' if name in varying else f"{name} = {_quantity(values[0], unit)}"
        for name, (values, unit) in group.values.items()
    ]
    rows = ["  ".join(settings[k:k + 4]) for k in range(0, len(settings), 4)]
    return [f"{group.name} = {group.template.model}[{group.size}]{at} {{", *("    " + row for row in rows), "}"]


def _stimuli(group: Group) -> list[str]:
    """`stimulus` lines for the group's I_e: one per run of neighbouring neurons with the same current."""
    if group.template is None or not group.current.any():
        return []
    current, given = group.current, group.template.current
    starts = np.flatnonzero(np.r_[True, current[1:] != current[:-1]])
    ends = np.r_[starts[1:], len(current)]
    lines = []
    for start, end in zip(starts, ends):
        if current[start] == 0:
            continue
        selection = "" if end - start == group.size else f"[{start}]" if end - start == 1 else f"[{start}:{end}]"
        lines.append(f"stimulus {group.qualified}{selection} {{ {given.name} += {_quantity(current[start], given.unit)} }}")
    return lines


def _edges(connection: Connection, out_dir: Path, names: set[str]) -> str:
    """Write the connection's edge list; returns its name relative to out_dir."""
    stem = f"{connection.source.qualified}-{connection.target.qualified}"
    if connection.synapse.startswith("Inhibitory"):
        stem += ".inhibitory"
    name, k = f"edges/{stem}.npz", 2
    while name in names:
        name, k = f"edges/{stem}.{k}.npz", k + 1
    names.add(name)
    np.savez(out_dir / name, pre=connection.pre, post=connection.post,
             **{f"weight [{connection.weight_unit}]": connection.weight, "delay [ms]": connection.delay})
    return name


def _csv(path: Path, header: Iterable[str], columns: list[np.ndarray]) -> None:
    rows = zip(*([_number(v) for v in column] for column in columns))
    path.write_text("\n".join([", ".join(header), *(", ".join(row) for row in rows)]) + "\n", encoding="utf-8")


def _heading(name: str, unit: str) -> str:
    return f"{name} [{unit}]" if unit else name


def _quantity(value: float, unit: str) -> str:
    return f"{_number(value)} {unit}" if unit else _number(value)


def _number(value: float) -> str:
    """`value` as the shortest text that reads back as the same float (`-70`, `44.9`, `1e-05`)."""
    value = float(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def _list(items: Iterable[str]) -> str:
    """A `[...]` list, `_PER_LINE` elements to a line."""
    items = list(items)
    if len(items) <= _PER_LINE:
        return f"[{', '.join(items)}]"
    rows = [", ".join(items[k:k + _PER_LINE]) for k in range(0, len(items), _PER_LINE)]
    return "[\n        " + ",\n        ".join(rows) + "\n    ]"
