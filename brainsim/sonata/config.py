"""The circuit config of a SONATA network: where its node and edge files are, and its run.

The config is JSON (SONATA developer guide, "Tying it all together"; NEST's
`SonataNetwork` and bmtk read the same parts)::

    {
      "manifest":   {"$BASE_DIR": "${configdir}", "$NETWORK_DIR": "$BASE_DIR/network"},
      "components": {"point_neuron_models_dir": "$BASE_DIR/point_neuron_models",
                     "synaptic_models_dir": "$BASE_DIR/synaptic_models"},
      "networks": {
        "nodes": [{"nodes_file": "$NETWORK_DIR/v1_nodes.h5", "node_types_file": "$NETWORK_DIR/v1_node_types.csv"}],
        "edges": [{"edges_file": "$NETWORK_DIR/v1_v1_edges.h5", "edge_types_file": "$NETWORK_DIR/v1_v1_edge_types.csv"}]
      },
      "run":    {"dt": 0.1, "tstop": 1000.0},
      "inputs": {"lgn_spikes": {"input_type": "spikes", "input_file": "$BASE_DIR/lgn_spikes.h5", "node_set": "lgn"}}
    }

Manifest variables, written `$NAME` or `${NAME}`, may use each other and the
predefined `configdir` (the config's folder) and `workingdir` (the current
folder); every string of `networks`, `components` and `inputs` has them
substituted, and a path that is still relative is relative to the config's
folder. A simulation config that names its circuit in another file
(`"network": "circuit_config.json"`, as bmtk splits them) is followed: the
networks and components come from there, the run and inputs from either.
Times (`dt`, `tstop`) are in ms.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from brainsim.errors import SonataError, SourceSpan

_VARIABLE = re.compile(r"\$\{(?P<braced>\w+)\}|\$(?P<bare>\w+)")
_SPIKE_FILES = (".h5", ".hdf5")


@dataclass(frozen=True)
class NodeFiles:
    """One entry of `networks.nodes`: a nodes HDF5 file and its node types table."""

    nodes: Path
    node_types: Path


@dataclass(frozen=True)
class EdgeFiles:
    """One entry of `networks.edges`: an edges HDF5 file and its edge types table."""

    edges: Path
    edge_types: Path


@dataclass(frozen=True)
class SpikeInput:
    """An input of spike trains from a SONATA spike file (`input_type` "spikes"); `node_set`
    names the (virtual) node population it drives, if the config says."""

    name: str
    file: Path
    node_set: str | None


@dataclass(frozen=True)
class Circuit:
    """What the config says: the files of the network, where the dynamics_params JSON files
    of node and edge types are (`components`; the config's folder without one), the run
    (ms; None if not given), the spike inputs, and the names of inputs of other kinds."""

    path: Path
    nodes: tuple[NodeFiles, ...]
    edges: tuple[EdgeFiles, ...]
    neuron_models: Path
    synapse_models: Path
    dt: float | None
    tstop: float | None
    spike_inputs: tuple[SpikeInput, ...]
    other_inputs: tuple[str, ...]


def read_circuit(path: str | Path) -> Circuit:
    """Read the SONATA config at `path`, with its manifest variables resolved.

    Raises:
        SonataError: the config is missing or is not JSON, a manifest variable cannot be
            resolved, `networks.nodes` is missing or empty, an entry lacks a file name,
            or a named nodes, node types, edges or edge types file does not exist.
    """
    path = Path(path)
    config, variables = _load(path)
    circuit_path, circuit, circuit_variables = path, config, variables
    if "networks" not in config and isinstance(config.get("network"), str):
        circuit_path = _path(config["network"], variables, path, "network")
        circuit, circuit_variables = _load(circuit_path)
    networks = circuit.get("networks")
    if not isinstance(networks, dict) or not networks.get("nodes"):
        raise SonataError(f"{circuit_path.name} has no node populations: a circuit config lists them in "
                          f'"networks": {{"nodes": [{{"nodes_file": ..., "node_types_file": ...}}]}}')
    nodes = tuple(
        NodeFiles(*_files(entry, ("nodes_file", "node_types_file"), circuit_variables, circuit_path, f"networks.nodes[{k}]"))
        for k, entry in enumerate(_listed(networks, "nodes", circuit_path))
    )
    edges = tuple(
        EdgeFiles(*_files(entry, ("edges_file", "edge_types_file"), circuit_variables, circuit_path, f"networks.edges[{k}]"))
        for k, entry in enumerate(_listed(networks, "edges", circuit_path))
    )
    components = circuit.get("components") if isinstance(circuit.get("components"), dict) else {}
    models = {
        key: _path(components[key], circuit_variables, circuit_path, f"components.{key}")
        if key in components else circuit_path.parent
        for key in ("point_neuron_models_dir", "synaptic_models_dir")
    }
    run = config.get("run", circuit.get("run", {}))
    inputs_config, inputs_variables, inputs_path = (
        (config["inputs"], variables, path) if "inputs" in config else (circuit.get("inputs", {}), circuit_variables, circuit_path)
    )
    spike_inputs, others = _inputs(inputs_config, inputs_variables, inputs_path)
    return Circuit(
        path=path,
        nodes=nodes,
        edges=edges,
        neuron_models=models["point_neuron_models_dir"],
        synapse_models=models["synaptic_models_dir"],
        dt=_time(run, "dt", path),
        tstop=_time(run, "tstop", path),
        spike_inputs=spike_inputs,
        other_inputs=others,
    )


def _load(path: Path) -> tuple[dict, dict[str, str]]:
    """The JSON object in `path` and its manifest's variables."""
    if not path.is_file():
        raise SonataError(f"SONATA config not found: {path}")
    try:
        text = path.read_text(encoding="utf-8")
        config = json.loads(text)
    except (OSError, UnicodeDecodeError) as problem:
        raise SonataError(f"cannot read the SONATA config {path}: {problem}") from None
    except json.JSONDecodeError as problem:
        span = SourceSpan(str(path), problem.lineno, problem.colno, problem.lineno, problem.colno + 1, text)
        raise SonataError(f"{path.name} is not valid JSON: {problem.msg}", span) from None
    if not isinstance(config, dict):
        raise SonataError(f"{path.name} must hold a JSON object (a circuit config), not a {type(config).__name__}")
    manifest = config.get("manifest", {})
    if not isinstance(manifest, dict):
        raise SonataError(f'"manifest" of {path.name} must be an object of variables ("$BASE_DIR": "${{configdir}}")')
    return config, _variables(manifest, path)


def _variables(manifest: dict, path: Path) -> dict[str, str]:
    """The manifest's variables with their values resolved, and the predefined ones.

    A variable may use one defined anywhere in the manifest; each is resolved once all the
    variables it uses are, so a cycle, or a variable the manifest does not define, is an error.
    """
    known = {"configdir": str(path.parent.resolve()), "workingdir": str(Path.cwd())}
    pending = {}
    for key, value in manifest.items():
        if not isinstance(value, str):
            raise SonataError(f'manifest variable "{key}" of {path.name} must be a string, not {value!r}')
        pending[key.removeprefix("$")] = value
    while pending:
        ready = [key for key, value in pending.items() if all(name in known for name in _names(value))]
        if not ready:
            undefined = sorted({name for value in pending.values() for name in _names(value)} - set(known) - set(pending))
            why = f"they use {', '.join('$' + n for n in undefined)}, which it does not define" if undefined else "they use each other in a cycle"
            raise SonataError(f"the manifest of {path.name} cannot resolve {', '.join('$' + k for k in sorted(pending))}: {why}")
        for key in ready:
            known[key] = _substitute(pending.pop(key), known, path, f'manifest "${key}"')
    return known


def _names(text: str) -> list[str]:
    return [match["braced"] or match["bare"] for match in _VARIABLE.finditer(text)]


def _substitute(text: str, variables: dict[str, str], path: Path, where: str) -> str:
    def value(match: re.Match) -> str:
        name = match["braced"] or match["bare"]
        if name not in variables:
            raise SonataError(f'{where} of {path.name} is "{text}", which uses ${name}, but the manifest does not '
                              f"define it (it defines {', '.join('$' + k for k in variables)})")
        return variables[name]

    return _VARIABLE.sub(value, text)


def _path(value: object, variables: dict[str, str], path: Path, where: str) -> Path:
    """The path written at `where`, variables substituted, relative to the config's folder."""
    if not isinstance(value, str):
        raise SonataError(f"{where} of {path.name} must be a file name (a string), not {value!r}")
    written = Path(_substitute(value, variables, path, where))
    return written if written.is_absolute() else path.parent / written


def _files(entry: object, keys: tuple[str, str], variables: dict[str, str], path: Path, where: str) -> list[Path]:
    """The existing files that `entry` names under `keys` (a data file and its types table)."""
    found = []
    for key in keys:
        if not isinstance(entry, dict) or key not in entry:
            raise SonataError(f'{where} of {path.name} has no "{key}"; each entry names "{keys[0]}" and "{keys[1]}"')
        file = _path(entry[key], variables, path, f"{where}.{key}")
        if not file.is_file():
            raise SonataError(f'{where}.{key} of {path.name} is "{entry[key]}", but there is no such file ({file})')
        found.append(file)
    return found


def _listed(networks: dict, key: str, path: Path) -> list:
    entries = networks.get(key, [])
    if not isinstance(entries, list):
        raise SonataError(f'"networks.{key}" of {path.name} must be a list of entries, not {entries!r}')
    return entries


def _time(run: object, key: str, path: Path) -> float | None:
    value = run.get(key) if isinstance(run, dict) else None
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise SonataError(f'"run.{key}" of {path.name} must be a positive number of ms, not {value!r}')
    return float(value)


def _inputs(inputs: object, variables: dict[str, str], path: Path) -> tuple[tuple[SpikeInput, ...], tuple[str, ...]]:
    """The spike inputs read from SONATA spike files, and the names of the other inputs."""
    if not isinstance(inputs, dict):
        raise SonataError(f'"inputs" of {path.name} must be an object of named inputs, not {inputs!r}')
    spikes, others = [], []
    for name, entry in inputs.items():
        entry = entry if isinstance(entry, dict) else {}
        file = entry.get("input_file")
        if entry.get("input_type", "spikes") != "spikes" or not isinstance(file, str) or not file.endswith(_SPIKE_FILES):
            others.append(name)
            continue
        found = _path(file, variables, path, f"inputs.{name}.input_file")
        if not found.is_file():
            raise SonataError(f'inputs.{name}.input_file of {path.name} is "{file}", but there is no such file ({found})')
        node_set = entry.get("node_set")
        spikes.append(SpikeInput(name, found, node_set if isinstance(node_set, str) else None))
    return tuple(spikes), tuple(others)
