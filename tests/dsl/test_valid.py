"""Valid models: every file in tests/dsl/valid/ and models/ parses and lowers,
and the shipped models lower to exactly the network they describe."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from brainsim import ir
from brainsim.dsl import compile_text, parse
from brainsim.units import lookup_unit

HERE = Path(__file__).parent
VALID = sorted((HERE / "valid").glob("*.brain"))
MODELS = sorted((HERE.parent.parent / "models").glob("*.brain"))
VOLT = lookup_unit("V")[1]
AMPERE = lookup_unit("A")[1]


def load(path: Path) -> ir.Network:
    return compile_text(path.read_text(encoding="utf-8"), str(path))


@pytest.mark.parametrize("path", VALID + MODELS, ids=lambda path: path.stem)
def test_valid_model_parses_and_lowers(path: Path) -> None:
    network = load(path)
    assert isinstance(network, ir.Network)
    assert network.source_name == str(path)
    hash(network)  # the IR is hashable: frozen all the way down
    assert parse(path.read_text(encoding="utf-8"), str(path)) == parse(path.read_text(encoding="utf-8"), str(path))


def test_the_shipped_models_are_all_checked() -> None:
    assert {path.name for path in MODELS} >= {"cuba.brain", "visual_pathway.brain"}
    assert len(VALID) >= 6


def test_cuba_lowers_to_the_benchmark_network() -> None:
    network = load(HERE.parent.parent / "models" / "cuba.brain")
    assert network.simulation == ir.SimulationSettings(dt=1e-4, duration=1.0, seed=42)
    assert network.simulation.n_steps == 10_000
    assert [(p.name, p.size, p.kind) for p in network.populations] == [
        ("Cortex.exc", 3200, ir.NeuronKind.EXCITATORY),
        ("Cortex.inh", 800, ir.NeuronKind.INHIBITORY),
    ]
    assert network.regions == (ir.Region("Cortex", ("Cortex.exc", "Cortex.inh")),)
    model = network.populations[0].model
    assert {p.name: p.value for p in model.parameters} == {
        "taum": 0.02, "taue": 0.005, "taui": 0.01, "Vt": -0.05, "Vr": -0.06, "El": -0.049, "t_ref": 0.005,
    }
    assert [(s.name, s.dimension, s.initial) for s in model.states] == [
        ("v", VOLT, ir.Uniform(-0.06, -0.05)),
        ("ge", VOLT, ir.Constant(0.0)),
        ("gi", VOLT, ir.Constant(0.0)),
    ]
    assert [(e.variable, e.clamped_when_refractory) for e in model.equations] == [
        ("v", True), ("ge", False), ("gi", False),
    ]
    assert model.threshold == ir.Binary(ir.BinaryOp.GT, ir.Var("v"), ir.Var("Vt"))
    assert model.reset == (ir.Assignment("v", ir.AssignOp.SET, ir.Var("Vr")),)
    assert model.refractory == 0.005
    assert [(p.name, p.source, p.target) for p in network.projections] == [
        ("Cortex.exc->Cortex.exc", "Cortex.exc", "Cortex.exc"),
        ("Cortex.exc->Cortex.inh", "Cortex.exc", "Cortex.inh"),
        ("Cortex.inh->Cortex.exc", "Cortex.inh", "Cortex.exc"),
        ("Cortex.inh->Cortex.inh", "Cortex.inh", "Cortex.inh"),
    ]
    for projection in network.projections:
        assert projection.rule == ir.FixedProbability(0.02)
        assert projection.delay == ir.Constant(1e-4)
        assert projection.allow_autapses is False
    weights = [p.synapse.states[0].initial for p in network.projections]
    assert weights == [ir.Constant(0.00162)] * 2 + [ir.Constant(-0.009)] * 2
    assert network.projections[0].synapse.on_pre == (ir.Assignment("ge", ir.AssignOp.ADD, ir.Var("w")),)
    assert network.stimuli == ()
    assert network.spike_records == (ir.SpikeRecord("Cortex.exc"), ir.SpikeRecord("Cortex.inh"))
    assert network.state_records == (ir.StateRecord("Cortex.exc", "v", (0, 1, 2, 3, 4)),)


def test_visual_pathway_lowers_to_the_seed_network() -> None:
    """Structure only: the weights and the stimulus amplitude are tuned in the model file."""
    network = load(HERE.parent.parent / "models" / "visual_pathway.brain")
    assert network.simulation == ir.SimulationSettings(dt=1e-4, duration=0.15, seed=42)
    assert [(p.name, p.region, p.size) for p in network.populations] == [
        ("Retina.photoreceptors", "Retina", 10),
        ("V1.simple", "V1", 20),
        ("Visual_Association.out", "Visual_Association", 5),
    ]
    model = network.populations[0].model
    assert model.inputs == (ir.Input("I_ext", AMPERE, 0.0),)
    assert {p.name: p.value for p in model.parameters}["R_m"] == 1e7
    first, second = network.projections
    assert (first.name, first.delay) == ("Retina.photoreceptors->V1.simple", ir.Uniform(0.001, 0.003))
    assert (second.name, second.delay) == ("V1.simple->Visual_Association.out", ir.Constant(0.002))
    for projection in network.projections:
        assert isinstance(projection.rule, ir.FixedProbability)
        (weight,) = projection.synapse.states
        assert weight.name == "w" and weight.dimension == AMPERE
        assert 0 < weight.initial.value < 1e-8
    (stimulus,) = network.stimuli
    assert (stimulus.population, stimulus.variable) == ("Retina.photoreceptors", "I_ext")
    pulses = stimulus.waveform
    assert (pulses.period, pulses.width, pulses.start, pulses.stop) == (0.02, 0.01, 0.0, math.inf)
    assert [r.population for r in network.spike_records] == [p.name for p in network.populations]
    assert network.state_records == (ir.StateRecord("V1.simple", "v", (0, 1, 2)),)
