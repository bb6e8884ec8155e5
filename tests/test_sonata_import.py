"""Importing SONATA point-neuron networks (brainsim.sonata): a network built here with h5py.

`write_network` writes a small network the way bmtk and NEST lay one out: a
circuit config with a manifest, three node populations (two of NEST neurons, one
of virtual nodes whose spikes come from a SONATA spike file), node ids out of
order and types interleaved, positions and a per-node V_m in node groups, and
three edge populations with weights and delays per edge and per edge type (and
bmtk's nsyns). The tests import it, compare what the model holds and builds
with what the files say, run it on both backends, and feed each bad input.
"""

import json
from pathlib import Path

import h5py
import numpy as np
import pytest

import brainsim
from brainsim import ir
from brainsim.cli import main
from brainsim.errors import SonataError
from brainsim.network import build
from brainsim.network.values import neuron_values
from brainsim.results import compare_results
from brainsim.sonata import import_sonata
from brainsim.sonata.importer import convert

DT, TSTOP = 0.1, 60.0  # ms
EXC = {"C_m": 250.0, "tau_m": 20.0, "E_L": -65.0, "V_th": -50.0, "V_reset": -65.0, "t_ref": 2.0, "I_e": 250.0}
INH = {"C_m": 200.0, "tau_m": 10.0, "E_L": -70.0, "V_th": -52.0, "V_reset": -70.0, "t_ref": 1.0,
       "tau_syn_ex": 1.0, "tau_syn_in": 1.0, "V_min": -80.0}  # V_min: a NEST parameter LifCurrentAlpha lacks
L4 = {"g_L": 20.0, "E_L": -68.0, "V_th": -54.0, "tau_syn_ex": 0.5, "I_e": 400.0}
SIZES = {"v1.exc": 40, "v1.inh": 10, "l4.pyr": 20, "lgn.tON": 30}
UNITS = {"pA": 1e-12, "nS": 1e-9}


def _table(path: Path, header: list[str], rows: list[list]) -> None:
    path.write_text("\n".join("  ".join(str(v) for v in row) for row in [header, *rows]) + "\n")


def _nodes(path: Path, population: str, node_ids, type_ids, group=None, dynamics=None) -> None:
    with h5py.File(path, "w") as f:
        pop = f.create_group(f"nodes/{population}")
        pop["node_id"] = np.asarray(node_ids, dtype=np.uint64)
        pop["node_type_id"] = np.asarray(type_ids, dtype=np.uint32)
        pop["node_group_id"] = np.zeros(len(node_ids), dtype=np.uint32)
        pop["node_group_index"] = np.arange(len(node_ids), dtype=np.uint32)
        zero = pop.create_group("0")
        for key, values in (group or {}).items():
            zero[key] = values
        for key, values in (dynamics or {}).items():
            zero[f"dynamics_params/{key}"] = values


def _edges(path: Path, name: str, source: str, target: str, pre, post, type_ids, group=None) -> None:
    with h5py.File(path, "w") as f:
        pop = f.create_group(f"edges/{name}")
        pop["source_node_id"] = np.asarray(pre, dtype=np.uint64)
        pop["source_node_id"].attrs["node_population"] = source
        pop["target_node_id"] = np.asarray(post, dtype=np.uint64)
        pop["target_node_id"].attrs["node_population"] = target
        pop["edge_type_id"] = np.asarray(type_ids, dtype=np.uint32)
        pop["edge_group_id"] = np.zeros(len(pre), dtype=np.uint32)
        pop["edge_group_index"] = np.arange(len(pre), dtype=np.uint32)
        zero = pop.create_group("0")
        for key, values in (group or {}).items():
            zero[key] = values


def _config(root: Path, nodes: list[str], edges: list[tuple[str, str]], **more) -> Path:
    config = {
        "target_simulator": "NEST",
        "manifest": {"$BASE_DIR": "${configdir}", "$NETWORK_DIR": "$BASE_DIR/network",
                     "$COMPONENTS_DIR": "$BASE_DIR/components"},
        "components": {"point_neuron_models_dir": "$COMPONENTS_DIR/cell_models",
                       "synaptic_models_dir": "${COMPONENTS_DIR}/synapses"},
        "networks": {
            "nodes": [{"nodes_file": f"$NETWORK_DIR/{p}_nodes.h5", "node_types_file": f"$NETWORK_DIR/{p}_node_types.csv"}
                      for p in nodes],
            "edges": [{"edges_file": f"$NETWORK_DIR/{e}_edges.h5", "edge_types_file": f"$NETWORK_DIR/{t}_edge_types.csv"}
                      for e, t in edges],
        },
        "run": {"dt": DT, "tstop": TSTOP},
        **more,
    }
    path = root / "circuit_config.json"
    path.write_text(json.dumps(config, indent=2))
    return path


def write_network(root: Path) -> dict:
    """Write the network under `root`; returns what was written, for the tests to compare with."""
    rng = np.random.default_rng(10)
    net, models = root / "network", root / "components" / "cell_models"
    for folder in (net, models, root / "components" / "synapses", root / "inputs"):
        folder.mkdir(parents=True)
    for name, params in (("exc", EXC), ("inh", INH), ("l4", L4)):
        (models / f"{name}.json").write_text(json.dumps(params))
    (root / "components" / "synapses" / "static.json").write_text(json.dumps({"level_of_detail": "static_synapse"}))

    # v1: node ids 0..49 out of order, the two types interleaved; positions and V_m per node
    v1_types = np.array([100] * 40 + [101] * 10)[rng.permutation(50)]
    v1_ids = rng.permutation(50)
    v1_xyz = rng.uniform(0, 200, (50, 3)).round(1)
    v1_vm = rng.uniform(-70, -55, 50).round(2)
    _nodes(net / "v1_nodes.h5", "v1", v1_ids, v1_types, {"x": v1_xyz[:, 0], "y": v1_xyz[:, 1], "z": v1_xyz[:, 2]},
           {"V_m": v1_vm})
    _table(net / "v1_node_types.csv", ["node_type_id", "model_type", "model_template", "dynamics_params", "pop_name"],
           [[100, "point_neuron", "nest:iaf_psc_alpha", "exc.json", "exc"],
            [101, "point_process", "nest:iaf_psc_alpha", "inh.json", "inh"]])
    # l4: conductance-based; x from the node types table, y per node
    l4_ids = np.arange(100, 120)
    _nodes(net / "l4_nodes.h5", "l4", l4_ids, np.full(20, 300), {"y": np.linspace(0, 95, 20)})
    _table(net / "l4_node_types.csv", ["node_type_id", "model_type", "model_template", "dynamics_params", "pop_name", "x"],
           [[300, "point_neuron", "nest:iaf_cond_alpha", "l4.json", "pyr", 12.5]])
    # lgn: virtual, spikes from a SONATA spike file (one after the run, one twice in a step: both left out)
    _nodes(net / "lgn_nodes.h5", "lgn", np.arange(30), np.full(30, 200))
    _table(net / "lgn_node_types.csv", ["node_type_id", "model_type", "model_template", "pop_name"],
           [[200, "virtual", "NULL", "tON"]])
    spike_ids = np.r_[rng.integers(0, 30, 200), 3, 5]
    spike_times = np.r_[np.round(rng.uniform(1, TSTOP, 200), 1), 75.0, 0.0]
    spike_ids[201], spike_times[201] = spike_ids[0], spike_times[0] + 0.01  # the step of spike 0, again
    with h5py.File(root / "inputs" / "lgn_spikes.h5", "w") as f:
        f["spikes/lgn/node_ids"] = spike_ids.astype(np.uint64)
        f["spikes/lgn/timestamps"] = spike_times
        f["spikes/lgn/timestamps"].attrs["units"] = "ms"

    # lgn -> v1.exc and l4: weight and delay per edge; the edge type's delay is overridden
    n = 300
    lgn_pre, to_l4 = rng.integers(0, 30, n), rng.integers(0, 2, n).astype(bool)
    v1_exc_ids = np.sort(v1_ids[v1_types == 100])
    lgn_post = np.where(to_l4, rng.integers(100, 120, n), v1_exc_ids[rng.integers(0, 40, n)])
    lgn_weight, lgn_delay = rng.uniform(0.5, 4, n).round(2), rng.integers(10, 40, n) / 10
    edges = []
    for target, mask, scale in (("v1", ~to_l4, 100.0), ("l4", to_l4, 1.0)):  # pA onto v1, nS onto l4
        _edges(net / f"lgn_{target}_edges.h5", f"lgn_to_{target}", "lgn", target, lgn_pre[mask], lgn_post[mask],
               np.full(mask.sum(), 10), {"syn_weight": lgn_weight[mask] * scale, "delay": lgn_delay[mask]})
        edges.append(("lgn", target, lgn_pre[mask], lgn_post[mask], lgn_weight[mask] * scale, lgn_delay[mask]))
    _table(net / "lgn_edge_types.csv", ["edge_type_id", "model_template", "dynamics_params", "delay"],
           [[10, "static_synapse", "static.json", 5.0]])

    # v1.exc -> v1 (weight and delay per edge type, nsyns per edge) and v1 -> l4 (inhibitory: negative)
    m = 250
    v1_pre, v1_post, nsyns = v1_exc_ids[rng.integers(0, 40, m)], rng.integers(0, 50, m), rng.integers(1, 4, m)
    _edges(net / "v1_edges.h5", "v1_to_v1", "v1", "v1", v1_pre, v1_post, np.full(m, 20), {"nsyns": nsyns})
    edges.append(("v1", "v1", v1_pre, v1_post, 30.0 * nsyns, np.full(m, 1.5)))
    k = 120
    l4_pre, l4_post = rng.integers(0, 50, k), rng.integers(100, 120, k)
    inhibitory = np.isin(l4_pre, v1_ids[v1_types == 101])
    _edges(net / "v1_l4_edges.h5", "v1_to_l4", "v1", "l4", l4_pre, l4_post, np.where(inhibitory, 31, 30))
    edges.append(("v1", "l4", l4_pre, l4_post, np.where(inhibitory, -3.0, 2.0), np.where(inhibitory, 1.0, 2.0)))
    _table(net / "v1_edge_types.csv", ["edge_type_id", "model_template", "syn_weight", "delay"],
           [[20, "static_synapse", 30.0, 1.5], [21, "static_synapse", -60.0, 0.8],
            [30, "static_synapse", 2.0, 2.0], [31, "static_synapse", -3.0, 1.0]])

    inputs = {"lgn_spikes": {"input_type": "spikes", "module": "sonata",
                             "input_file": "$BASE_DIR/inputs/lgn_spikes.h5", "node_set": "lgn"}}
    config = _config(root, ["v1", "l4", "lgn"], [("lgn_v1", "lgn"), ("lgn_l4", "lgn"), ("v1", "v1"), ("v1_l4", "v1")],
                     inputs=inputs)
    return {"config": config, "v1_ids": v1_ids, "v1_types": v1_types, "v1_xyz": v1_xyz, "v1_vm": v1_vm,
            "l4_ids": l4_ids, "spikes": (spike_ids[:200], spike_times[:200]), "edges": edges}


def _where(written: dict) -> dict:
    """SONATA population -> node id -> (brainsim population, index): the mapping docs/sonata.md states."""
    where = {"lgn": {i: ("lgn.tON", i) for i in range(30)}, "l4": {int(i): ("l4.pyr", k) for k, i in enumerate(written["l4_ids"])}}
    where["v1"] = {}
    for type_id, name in ((100, "v1.exc"), (101, "v1.inh")):
        for k, node in enumerate(np.sort(written["v1_ids"][written["v1_types"] == type_id])):
            where["v1"][int(node)] = (name, k)
    return where


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    root = tmp_path_factory.mktemp("sonata")
    written = write_network(root)
    result = convert(written["config"], root / "imported")
    runs = {backend: result.model.compile(backend=backend).run() for backend in ("numpy", "jax")}
    return written, result, runs


def _population(model, name: str) -> ir.Population:
    return next(p for p in model.network.populations if p.name == name)


def test_every_node_type_is_a_population_of_its_size_and_model(imported):
    _, result, _ = imported
    network = result.model.network
    assert {p.name: p.size for p in network.populations} == SIZES
    models = {p.name: p.model.name for p in network.populations}
    assert models == {"v1.exc": "LifCurrentAlpha", "v1.inh": "LifCurrentAlpha", "l4.pyr": "LifConductanceAlpha",
                      "lgn.tON": "SpikeTimes"}
    assert [r.name for r in network.regions] == ["v1", "l4", "lgn"]


EXPECTED_PARAMETERS = {  # SI: the node type's dynamics_params (NEST's units), else NEST's defaults
    "v1.exc": {"C_m": 250e-12, "tau_m": 20e-3, "E_L": -65e-3, "V_th": -50e-3, "V_reset": -65e-3, "t_ref": 2e-3,
               "tau_syn": 2e-3},
    "v1.inh": {"C_m": 200e-12, "tau_m": 10e-3, "E_L": -70e-3, "V_th": -52e-3, "V_reset": -70e-3, "t_ref": 1e-3,
               "tau_syn": 1e-3},
    "l4.pyr": {"C_m": 250e-12, "g_L": 20e-9, "E_L": -68e-3, "V_th": -54e-3, "V_reset": -60e-3, "t_ref": 2e-3,
               "E_ex": 0.0, "E_in": -85e-3, "tau_ex": 0.5e-3, "tau_in": 2e-3},
}


@pytest.mark.parametrize("name", sorted(EXPECTED_PARAMETERS))
def test_parameters_are_the_node_types_then_nests_defaults(imported, name):
    _, result, _ = imported
    values = {p.name: p.value for p in _population(result.model, name).model.parameters}
    assert values == pytest.approx(EXPECTED_PARAMETERS[name], rel=1e-15)


def test_per_node_values_override_the_node_types(imported):
    written, result, _ = imported
    network = result.model.network
    for population in network.populations:
        if population.name.startswith("v1."):
            type_id = 100 if population.name == "v1.exc" else 101
            nodes = np.sort(written["v1_ids"][written["v1_types"] == type_id])
            v_m = written["v1_vm"][np.argsort(written["v1_ids"])][nodes]
            assert np.allclose(neuron_values(population, 0).initial["v"], v_m * 1e-3, rtol=1e-15)
    l4 = neuron_values(_population(result.model, "l4.pyr"), 0).initial["v"]
    assert np.all(l4 == -70e-3), "NEST's V_m is -70 mV whatever E_L"


def test_positions_are_the_nodes_then_their_types(imported):
    written, result, _ = imported
    by_id = written["v1_xyz"][np.argsort(written["v1_ids"])]
    for name, type_id in (("v1.exc", 100), ("v1.inh", 101)):
        nodes = np.sort(written["v1_ids"][written["v1_types"] == type_id])
        placed = _population(result.model, name).positions
        assert isinstance(placed, ir.Placed)
        assert np.allclose(np.array(placed.points), by_id[nodes] * 1e-6, rtol=1e-15)
    l4 = np.array(_population(result.model, "l4.pyr").positions.points)
    assert np.allclose(l4, np.stack([np.full(20, 12.5), np.linspace(0, 95, 20), np.zeros(20)], axis=1) * 1e-6)
    assert _population(result.model, "lgn.tON").positions is None


def test_the_virtual_nodes_spike_as_the_spike_file_says(imported):
    written, result, _ = imported
    source = _population(result.model, "lgn.tON").model
    ids, times = written["spikes"]
    inside = times <= TSTOP
    expected = sorted(zip(np.round(times[inside] * 1e-3, 12), ids[inside]))
    assert sorted(zip(np.round(source.times, 12), source.indices)) == expected


def test_built_synapses_are_the_edges(imported):
    """Each projection's synapses, as the host builds them, are the SONATA edges that join its
    two populations: the same pairs, weights (syn_weight * nsyns in NEST's units) and delays."""
    written, result, _ = imported
    where = _where(written)
    expected: dict[tuple[str, str], list] = {}
    for source, target, pre, post, weight, delay in written["edges"]:
        for i, j, w, d in zip(pre, post, weight, delay):
            (a, i_), (b, j_) = where[source][int(i)], where[target][int(j)]
            unit = "nS" if b == "l4.pyr" else "pA"
            synapse = ("Inhibitory" if w < 0 else "Excitatory") + "ConductanceAlpha" if unit == "nS" else "CurrentAlphaSynapse"
            expected.setdefault((f"{a}->{b}", synapse), []).append((i_, j_, abs(w) * UNITS[unit], round(d / DT)))
    host = build(result.model.network)
    built = {}
    for connectivity in host.projections:
        projection = connectivity.projection
        pre = np.repeat(np.arange(connectivity.source_size), np.diff(connectivity.indptr))
        rows = zip(pre, connectivity.post - connectivity.target_offset, connectivity.states["w"], connectivity.delay_steps)
        built[(projection.name.split("#")[0], projection.synapse.name)] = sorted((int(i), int(j), w, int(d)) for i, j, w, d in rows)
    assert set(built) == set(expected)
    for key, edges in expected.items():
        got = built[key]
        assert [(i, j, d) for i, j, _, d in got] == [(i, j, d) for i, j, _, d in sorted(edges)], key
        assert np.allclose([w for *_, w, _ in got], [w for *_, w, _ in sorted(edges)], rtol=1e-14), key
    assert sum(len(e) for e in built.values()) == sum(len(edge[2]) for edge in written["edges"]) == 670


def test_the_import_runs_identically_on_both_backends(imported):
    _, _, runs = imported
    comparison = compare_results(runs["numpy"], runs["jax"])
    assert comparison.identical, comparison.format()
    counts = {name: int(c.sum()) for name, c in runs["numpy"].spike_counts.items()}
    assert counts["v1.exc"] > 0 and counts["l4.pyr"] > 0 and counts["lgn.tON"] == 200


def test_the_header_says_where_the_model_came_from_and_what_was_left(imported):
    written, result, _ = imported
    text = result.path.read_text()
    assert text.startswith(f"# Imported from the SONATA network {written['config'].resolve()}")
    todos = [line for line in text.splitlines() if line.startswith("#   TODO")]
    assert len(todos) == len(result.notes) == 3
    assert "v1.inh: NEST parameters not imported" in todos[0] and "V_min = -80.0" in todos[0]
    assert "1 spike(s) of lgn_spikes.h5 fall outside the run" in text  # the one at 75 ms
    assert "fall in the same 0.1 ms step" in text
    assert 'tau_m = 20 ms' in text and 'v = from_file("params/v1.exc.csv", column = "v")' in text
    assert "stimulus v1.exc { I_ext += 250 pA }" in text and "stimulus l4.pyr { I_ext += 400 pA }" in text


def test_import_sonata_returns_the_loaded_model(tmp_path):
    written = write_network(tmp_path)
    model = import_sonata(written["config"], tmp_path / "out")
    assert isinstance(model, brainsim.Model)
    assert model.network == brainsim.load(tmp_path / "out" / "model.brain").network
    with pytest.raises(brainsim.InvalidValueError, match="exists"):
        import_sonata(written["config"], tmp_path / "out")
    assert import_sonata(written["config"], tmp_path / "out", overwrite=True).network == model.network


def test_cli_prints_what_was_imported(tmp_path, capsys):
    written = write_network(tmp_path)
    assert main(["import-sonata", str(written["config"]), "-o", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "4 populations, 100 neurons, 670 edges" in out
    for name, size in SIZES.items():
        assert any(line.startswith(name) and line.rstrip().endswith(str(size)) for line in out.splitlines()), name
    assert "lgn.tON -> l4.pyr" in out and "left to you" in out
    assert main(["import-sonata", str(written["config"]), "-o", str(tmp_path / "out")]) == 2
    assert "exists" in capsys.readouterr().err
    assert main(["import-sonata", str(written["config"]), "-o", str(tmp_path / "out"), "--force"]) == 0


# ---------------------------------------------------------------- the table of NEST templates

def _single(root: Path, template: str, params: dict) -> Path:
    """A network of three `template` neurons (parameters `params`) and one virtual node that
    sends them an edge of weight +2 and one of -2 (NEST's units)."""
    (root / "network").mkdir()
    (root / "components" / "cell_models").mkdir(parents=True)
    (root / "components" / "cell_models" / "cell.json").write_text(json.dumps(params))
    _nodes(root / "network" / "net_nodes.h5", "net", [0, 1, 2], [1, 1, 1])
    _table(root / "network" / "net_node_types.csv", ["node_type_id", "model_type", "model_template", "dynamics_params"],
           [[1, "point_neuron", template, "cell.json"]])
    _nodes(root / "network" / "src_nodes.h5", "src", [0], [2])
    _table(root / "network" / "src_node_types.csv", ["node_type_id", "model_type"], [[2, "virtual"]])
    _edges(root / "network" / "src_edges.h5", "src_to_net", "src", "net", [0, 0], [0, 1], [5, 5],
           {"syn_weight": [2.0, -2.0]})
    _table(root / "network" / "src_edge_types.csv", ["edge_type_id", "delay"], [[5, 1.0]])
    return _config(root, ["net", "src"], [("src", "src")])


TEMPLATE_CASES = {
    "nest:izhikevich": (
        {"a": 0.1, "b": 0.25, "c": -60.0, "d": 4.0, "V_m": -70.0, "I_e": 5.0, "V_th": 25.0},
        "Izhikevich", {"a": 0.1, "b": 0.25, "c": -0.06, "d": 0.004}, {"v": -0.07, "u": -0.013},
        {"IzhikevichPulse": [2e-3, -2e-3]}, "NEST's V_th is 25 mV"),
    "nest:aeif_cond_alpha": (
        {"C_m": 200.0, "a": 2.0, "b": 60.0, "V_th": -50.0, "tau_w": 300.0, "I_e": 500.0},
        "AdexConductanceAlpha", {"C": 2e-10, "a": 2e-9, "b": 6e-11, "V_T": -0.05, "tau_w": 0.3, "g_L": 30e-9, "V_r": -0.06},
        {"v": -0.0706, "w": 0.0}, {"ExcitatoryConductanceAlpha": [2e-9], "InhibitoryConductanceAlpha": [2e-9]}, None),
    "nest:iaf_psc_exp": (
        {"tau_syn_ex": 5.0}, "LifCurrentExp", {"tau_syn": 5e-3, "tau_m": 10e-3}, {"v": -0.07},
        {"CurrentExpSynapse": [2e-12, -2e-12]}, "NEST's tau_syn_in is 2 ms"),
    "nest:iaf_cond_exp": (
        {"tau_syn_in": 5.0}, "LifConductanceExp", {"tau_in": 5e-3, "tau_ex": 0.2e-3, "g_L": 16.6667e-9}, {"v": -0.07},
        {"ExcitatoryConductanceExp": [2e-9], "InhibitoryConductanceExp": [2e-9]}, None),
}


@pytest.mark.parametrize("template", sorted(TEMPLATE_CASES))
def test_each_template_maps_to_its_standard_library_model(template, tmp_path):
    params, model_name, expected, states, synapses, note = TEMPLATE_CASES[template]
    result = convert(_single(tmp_path, template, params), tmp_path / "out")
    population = _population(result.model, "net.type_1")
    assert population.model.name == model_name
    values = {p.name: p.value for p in population.model.parameters}
    for key, value in expected.items():
        assert values[key] == pytest.approx(value, rel=1e-12), key
    initial = {s.name: s.initial for s in population.model.states}
    for key, value in states.items():
        assert initial[key] == ir.Constant(pytest.approx(value, rel=1e-12, abs=1e-18)), key
    weights = {}
    for projection in result.model.network.projections:
        weights[projection.synapse.name] = list(next(s for s in projection.synapse.states if s.name == "w").initial.values)
    assert weights.keys() == synapses.keys()
    for name, values in synapses.items():
        assert weights[name] == pytest.approx(values, rel=1e-12), name
    mine = [line for line in result.notes if line.startswith("net.")]
    assert (note is None) == (not mine) and (note is None or note in mine[0])
    assert [line for line in result.notes if not line.startswith("net.")] == [
        "src.type_2: no input gives these virtual nodes spikes (the config's inputs name no SONATA spike file for "
        "them); give them times (SpikeTimes) or rates (PoissonSource)"]
    current = [s.waveform.amplitude for s in result.model.network.stimuli]
    assert current == ([pytest.approx(params["I_e"] * (1e-3 if template == "nest:izhikevich" else 1e-12))]
                       if "I_e" in params else [])



def test_per_node_currents_become_stimuli_of_their_neurons(tmp_path):
    config = _single(tmp_path, "nest:iaf_psc_exp", {"I_e": 50.0})
    with h5py.File(tmp_path / "network" / "net_nodes.h5", "a") as f:
        f["nodes/net/0/dynamics_params/I_e"] = [100.0, 100.0, 0.0]
    stimuli = convert(config, tmp_path / "out").model.network.stimuli
    assert [(s.population, s.indices, s.waveform.amplitude) for s in stimuli] == [("net.type_1", (0, 1), pytest.approx(1e-10))]


def test_a_simulation_config_naming_its_circuit_and_a_flat_spike_file(tmp_path):
    """bmtk splits the simulation config from the circuit's; NEST also reads spike files with
    the datasets directly under /spikes, for the population the input's node_set names."""
    circuit = _single(tmp_path, "nest:iaf_psc_alpha", {})
    with h5py.File(tmp_path / "spikes.h5", "w") as f:
        f["spikes/gids"] = np.array([0, 0], dtype=np.uint64)
        f["spikes/timestamps"] = [0.002, 0.0105]
        f["spikes/timestamps"].attrs["units"] = "s"
    (tmp_path / "simulation_config.json").write_text(json.dumps({
        "network": circuit.name, "run": {"dt": 0.5, "tstop": 20.0},
        "inputs": {"cue": {"input_type": "spikes", "input_file": "spikes.h5", "node_set": "src"}}}))
    result = convert(tmp_path / "simulation_config.json", tmp_path / "out")
    settings = result.model.network.simulation
    assert (settings.dt, settings.duration) == (pytest.approx(0.5e-3), pytest.approx(20e-3))
    source = _population(result.model, "src.type_2").model
    assert source.indices == (0, 0) and source.times == pytest.approx((2e-3, 10.5e-3))
    assert result.notes == ()


def test_the_types_tables_dialect(tmp_path):
    """Columns separated by runs of spaces, quoted fields, NULL for no value, a population column."""
    from brainsim.sonata.tables import read_types
    path = tmp_path / "types.csv"
    path.write_text('node_type_id   pop_name        population  dynamics_params\n'
                    '1   "my cells"  v1   NULL\n'
                    '1   other       v2   "a b.json"\n')
    table = read_types(path, "node_type_id")
    assert table.row(1, "v1").values == {"node_type_id": "1", "pop_name": "my cells", "population": "v1"}
    assert table.row(1, "v2").get("dynamics_params") == "a b.json" and table.row(1, "v3") is None
    path.write_text("node_type_id pop_name\n1 a\n2 b extra\n")
    with pytest.raises(SonataError, match="line 3 of types.csv has 3 fields, but the header names 2 columns") as raised:
        read_types(path, "node_type_id")
    assert raised.value.span.line == 3


# ---------------------------------------------------------------- bad input

def _rewrite(path: Path, dataset: str, values) -> None:
    """Replace one dataset of an HDF5 file, keeping its attributes."""
    with h5py.File(path, "a") as f:
        attributes = dict(f[dataset].attrs)
        del f[dataset]
        f[dataset] = values
        f[dataset].attrs.update(attributes)


def _point(path: Path, dataset: str, population: str) -> None:
    """Make the node ids of an edges dataset refer to another node population."""
    with h5py.File(path, "a") as f:
        f[dataset].attrs["node_population"] = population


def _edit_config(root: Path, change) -> None:
    path = root / "circuit_config.json"
    config = json.loads(path.read_text())
    change(config)
    path.write_text(json.dumps(config))


def _drop_line(path: Path, start: str) -> None:
    path.write_text("\n".join(line for line in path.read_text().splitlines() if not line.startswith(start)) + "\n")


def _replace(path: Path, old: str, new: str) -> None:
    path.write_text(path.read_text().replace(old, new))


NET = "network"
BAD_INPUTS = {
    "a nodes file is missing": (
        lambda root: (root / NET / "l4_nodes.h5").unlink(),
        ['networks.nodes[1].nodes_file of circuit_config.json is "$NETWORK_DIR/l4_nodes.h5"', "no such file"]),
    "the node types table is missing": (
        lambda root: (root / NET / "v1_node_types.csv").unlink(),
        ["networks.nodes[0].node_types_file", "v1_node_types.csv", "no such file"]),
    "the edge types table is missing": (
        lambda root: (root / NET / "v1_edge_types.csv").unlink(),
        ["networks.edges[2].edge_types_file", "v1_edge_types.csv", "no such file"]),
    "a node type of the nodes file is not in its table": (
        lambda root: _drop_line(root / NET / "v1_node_types.csv", "101"),
        ["/nodes/v1 in v1_nodes.h5 has node_type_id 101", "v1_node_types.csv has no such node type",
         "its node_type_ids are 100"]),
    "an edge type is not in its table": (
        lambda root: _drop_line(root / NET / "v1_edge_types.csv", "31"),
        ["/edges/v1_to_l4 in v1_l4_edges.h5 has edge_type_id 31", "v1_edge_types.csv has no such edge type"]),
    "an edge goes to a node that does not exist": (
        lambda root: _rewrite(root / NET / "v1_l4_edges.h5", "edges/v1_to_l4/target_node_id", np.full(120, 999, np.uint64)),
        ["edge 0 of /edges/v1_to_l4 in v1_l4_edges.h5 has target_node_id 999", "`l4` has no node 999"]),
    "an edge's source population is not in the network": (
        lambda root: _point(root / NET / "v1_edges.h5", "edges/v1_to_v1/source_node_id", "v2"),
        ["/edges/v1_to_v1/source_node_id of v1_edges.h5 has node_population `v2`",
         "no node population `v2` (it has v1, l4, lgn)"]),
    "the datasets of a node population differ in length": (
        lambda root: _rewrite(root / NET / "v1_nodes.h5", "nodes/v1/node_type_id", np.full(49, 100, np.uint32)),
        ["the datasets of /nodes/v1 in v1_nodes.h5 have different lengths", "node_type_id 49", "node_id 50"]),
    "the datasets of an edge population differ in length": (
        lambda root: _rewrite(root / NET / "v1_edges.h5", "edges/v1_to_v1/edge_type_id", np.full(249, 20, np.uint32)),
        ["/edges/v1_to_v1 in v1_edges.h5 have different lengths", "edge_type_id 249"]),
    "a node's group row does not exist": (
        lambda root: _rewrite(root / NET / "l4_nodes.h5", "nodes/l4/node_group_index", np.arange(1, 21, dtype=np.uint32)),
        ["node 19 of /nodes/l4 in l4_nodes.h5 is row 20 of group /nodes/l4/0 (its node_group_index)",
         "that group has 20 rows"]),
    "an unknown model_template": (
        lambda root: _replace(root / NET / "v1_node_types.csv", "point_process  nest:iaf_psc_alpha", "point_process  nest:iaf_psc_delta"),
        ["v1_node_types.csv:3:1", "node type 101 of v1_node_types.csv has model_template `nest:iaf_psc_delta`",
         "it imports nest:iaf_psc_alpha, nest:iaf_psc_exp"]),
    "a model_type that is not a point neuron": (
        lambda root: _replace(root / NET / "l4_node_types.csv", "point_neuron", "biophysical"),
        ["node type 300 of l4_node_types.csv has model_type `biophysical`"]),
    "a dynamics_params file is missing": (
        lambda root: (root / "components" / "cell_models" / "l4.json").unlink(),
        ["node type 300 of l4_node_types.csv has dynamics_params l4.json, but there is no such file"]),
    "a NEST parameter that is not a number": (
        lambda root: (root / "components" / "cell_models" / "l4.json").write_text(json.dumps({**L4, "g_L": "20 nS"})),
        ["l4.pyr: NEST parameter g_L = '20 nS' in l4.json is not a finite number"]),
    "a manifest variable that is not defined": (
        lambda root: _edit_config(root, lambda c: c["manifest"].update({"$NETWORK_DIR": "$ROOT/network"})),
        ["the manifest of circuit_config.json cannot resolve $NETWORK_DIR", "they use $ROOT"]),
    "a config that is not JSON": (
        lambda root: (root / "circuit_config.json").write_text('{"networks": {\n  "nodes": [,]}}'),
        ["circuit_config.json:2:13", "is not valid JSON"]),
    "a config without node populations": (
        lambda root: _edit_config(root, lambda c: c.pop("networks")),
        ["circuit_config.json has no node populations"]),
    "a nodes file that is not HDF5": (
        lambda root: (root / NET / "l4_nodes.h5").write_bytes(b"not hdf5"),
        ["cannot read the nodes file", "l4_nodes.h5"]),
    "an edge onto a virtual node": (
        lambda root: (_point(root / NET / "v1_l4_edges.h5", "edges/v1_to_l4/target_node_id", "lgn"),
                      _rewrite(root / NET / "v1_l4_edges.h5", "edges/v1_to_l4/target_node_id", np.zeros(120, np.uint64))),
        ["targets node 0 of `lgn`, a virtual node"]),
    "a spike file with spikes of a node that does not exist": (
        lambda root: _rewrite(root / "inputs" / "lgn_spikes.h5", "spikes/lgn/node_ids", np.full(202, 40, np.uint64)),
        ["lgn_spikes.h5 gives spikes to node 40 of `lgn`"]),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_is_a_clear_error(case, tmp_path, capsys):
    written = write_network(tmp_path)
    spoil, fragments = BAD_INPUTS[case]
    spoil(tmp_path)
    with pytest.raises(SonataError) as raised:
        import_sonata(written["config"], tmp_path / "out")
    message = str(raised.value)
    for fragment in fragments:
        assert fragment in message, message
    assert main(["import-sonata", str(written["config"]), "-o", str(tmp_path / "cli")]) == 2
    err = capsys.readouterr().err
    assert "SONATA error" in err and "Traceback" not in err
    assert not (tmp_path / "out" / "model.brain").exists()


def test_a_missing_config_is_a_clear_error(tmp_path):
    with pytest.raises(SonataError, match="SONATA config not found: .*nope.json"):
        import_sonata(tmp_path / "nope.json", tmp_path / "out")


def test_without_h5py_the_error_names_the_extra(tmp_path, monkeypatch):
    written = write_network(tmp_path)
    monkeypatch.setitem(__import__("sys").modules, "h5py", None)  # `import h5py` raises ImportError
    with pytest.raises(brainsim.errors.MissingExtraError, match=r'pip install "brainsim-lang\[sonata\]"'):
        import_sonata(written["config"], tmp_path / "out")


def test_an_output_folder_that_cannot_be_written_is_a_clear_error(tmp_path):
    written = write_network(tmp_path)
    (tmp_path / "taken").write_text("a file, not a folder")
    with pytest.raises(brainsim.InvalidValueError, match="cannot write the imported model to"):
        import_sonata(written["config"], tmp_path / "taken")
