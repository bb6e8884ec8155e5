"""Nested regions and dotted endpoints, Dale's law at each connect, and derived neuron models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import brainsim
from brainsim import ir
from brainsim.dsl import compile_text
from brainsim.errors import DaleError, DuplicateNameError, InvalidValueError, UnknownNameError
from tests.backends.identity import assert_identical

LIF = """
simulation { dt = 0.1 ms  duration = 40 ms  seed = 7 }
neuron LIF {
    parameters { tau = 10 ms  E_L = -70 mV  V_th = -50 mV  V_reset = E_L }
    inputs { I_ext = 0 mV }
    state { v = E_L  I = 0 mV }
    equations {
        dv/dt = (E_L - v + I + I_ext) / tau
        dI/dt = -I / (2 ms)
    }
    spike when v > V_th
    reset { v = V_reset }
}
neuron COBA {
    parameters { tau = 10 ms  E_L = -70 mV  E_i = -80 mV  V_th = -50 mV }
    state { v = E_L  g = 0 nS }
    equations {
        dv/dt = (E_L - v + g * (E_i - v) / (10 nS)) / tau
        dg/dt = -g / (5 ms)
    }
    spike when v > V_th
    reset { v = E_L }
}
synapse S { state { w = 1 mV }  on pre { I += w } }
synapse Sub { state { w = 1 mV }  on pre { I -= w } }
synapse G { state { w = 1 nS }  on pre { g += w } }
excitatory synapse AMPA { state { w = 1 mV }  on pre { I += w } }
inhibitory synapse GABA { state { w = 1 mV }  on pre { I -= w } }
"""

NESTED = LIF + """
region Cortex {
    region L4 { excitatory exc = LIF[6]  inhibitory inh = LIF[2] }
    region L23 { region deep { pyr = LIF[3] } }
    top = LIF[4]
}
region Thalamus { relay = LIF[5] }
"""


def lower(text: str) -> ir.Network:
    return compile_text(text, "test.brain")


def error_of(text: str, kind: type = brainsim.BrainsimError) -> brainsim.BrainsimError:
    with pytest.raises(kind) as caught:
        lower(text)
    return caught.value


# --------------------------------------------------------------------------- nested regions


def test_nested_regions_qualify_their_populations_and_know_their_parent() -> None:
    network = lower(NESTED)
    assert [(p.name, p.region) for p in network.populations] == [
        ("Cortex.L4.exc", "Cortex.L4"),
        ("Cortex.L4.inh", "Cortex.L4"),
        ("Cortex.L23.deep.pyr", "Cortex.L23.deep"),
        ("Cortex.top", "Cortex"),
        ("Thalamus.relay", "Thalamus"),
    ]
    assert [(r.name, r.parent, r.populations) for r in network.regions] == [
        ("Cortex", None, ("Cortex.top",)),
        ("Cortex.L4", "Cortex", ("Cortex.L4.exc", "Cortex.L4.inh")),
        ("Cortex.L23", "Cortex", ()),
        ("Cortex.L23.deep", "Cortex.L23", ("Cortex.L23.deep.pyr",)),
        ("Thalamus", None, ("Thalamus.relay",)),
    ]


@pytest.mark.parametrize(
    ("endpoint", "selected"),
    [
        ("Cortex", ["Cortex.L4.exc", "Cortex.L4.inh", "Cortex.L23.deep.pyr", "Cortex.top"]),
        ("Cortex.L4", ["Cortex.L4.exc", "Cortex.L4.inh"]),
        ("Cortex.L23", ["Cortex.L23.deep.pyr"]),
        ("Cortex.L4.inh", ["Cortex.L4.inh"]),
        ("Cortex.top", ["Cortex.top"]),
    ],
)
def test_an_endpoint_selects_a_region_at_any_depth_or_one_population(endpoint: str, selected: list[str]) -> None:
    network = lower(NESTED + f"connect Thalamus -> {endpoint} with S\nstimulus {endpoint} {{ I_ext += 1 mV }}\n"
                    f"record spikes of {endpoint}\n")
    assert [p.target for p in network.projections] == selected
    assert [s.population for s in network.stimuli] == selected
    assert [r.population for r in network.spike_records] == selected


@pytest.mark.parametrize(
    ("endpoint", "kind", "fragment", "hint"),
    [
        ("Cortex.L44", UnknownNameError, "region `Cortex` has no region or population `L44`", "did you mean `L4`?"),
        ("Cortex.Lx23", UnknownNameError, "has no region or population `Lx23`", "did you mean `L23`?"),
        ("Cortex.zzz", UnknownNameError, "has no region or population `zzz`",
         "its regions are L4, L23; its populations are top"),
        ("Cortex.L4.pyr", UnknownNameError, "region `Cortex.L4` has no population `pyr`",
         "its populations are exc, inh"),
        ("Cortex.L4.exc.x", UnknownNameError, "`Cortex.L4.exc` is a population; it has no regions", None),
        ("L4", UnknownNameError, "unknown region `L4`", "`L4` is inside region `Cortex`: write `Cortex.L4`"),
        ("exc", UnknownNameError, "unknown region `exc`", "write `Cortex.L4.exc`"),
        ("Cortx", UnknownNameError, "unknown region `Cortx`", "did you mean `Cortex`?"),
    ],
)
def test_an_unknown_part_of_an_endpoint_is_named_with_what_is_there(endpoint, kind, fragment, hint) -> None:
    error = error_of(NESTED + f"connect Thalamus -> {endpoint} with S\n", kind)
    assert fragment in error.message
    assert error.hint == hint or (hint is not None and hint in error.hint)
    assert error.span.line == NESTED.count("\n") + 1


def test_the_error_points_at_the_unknown_part() -> None:
    error = error_of(NESTED + "record spikes of Cortex.L4.pyr\n")
    assert error.span.column == len("record spikes of Cortex.L4.") + 1


@pytest.mark.parametrize(
    ("regions", "fragment"),
    [
        ("region C { region L4 { a = LIF[1] }  region L4 { b = LIF[1] } }", "region `C` has two regions `L4`"),
        ("region C { region L4 { a = LIF[1] }  L4 = LIF[2] }", "a population and a region both named `L4`"),
        ("region C { a = LIF[1] }  region C { b = LIF[1] }", "region `C` is declared twice"),
        ("region C { region D { a = LIF[1]  a = LIF[2] } }", "region `C.D` already has a population `a`"),
    ],
)
def test_names_inside_a_region_are_unique(regions: str, fragment: str) -> None:
    assert fragment in error_of(LIF + regions, DuplicateNameError).message


def test_a_stimulus_of_a_sub_region_drives_only_it_on_both_backends() -> None:
    model = brainsim.loads(NESTED + """
        stimulus Cortex.L4 { I_ext += 30 mV }
        connect Cortex.L4.exc -> Cortex.L23 with S { p = 0.5  weight = 100 mV }
        record spikes of Cortex
        record v of Cortex.L23.deep.pyr[0:2]
    """, "nested.brain")
    numpy, jax = (model.compile(backend=b).run() for b in ("numpy", "jax"))
    assert_identical(numpy, jax)
    counts = {name: int(numpy.spike_counts[name].sum()) for name in numpy.spike_counts}
    assert counts["Cortex.L4.exc"] > 0 and counts["Cortex.L4.inh"] > 0
    assert counts["Cortex.L23.deep.pyr"] > 0  # driven through the projection only
    assert counts["Cortex.top"] == 0 and counts["Thalamus.relay"] == 0


# --------------------------------------------------------------------------- Dale's law


DALE = LIF + """
region R {
    excitatory exc = LIF[4]
    inhibitory inh = LIF[4]
    other = LIF[4]
}
region C { cond = COBA[4] }
region D { excitatory drive = PoissonSource[4] { rate = 10 Hz } }
"""


def test_a_synapse_marked_with_the_other_kind_is_a_dale_error_naming_both() -> None:
    text = DALE + "connect R.exc -> R.other with GABA\n"
    error = error_of(text, DaleError)
    assert error.message.startswith("`R.exc` is excitatory, but synapse `GABA` is inhibitory")
    assert (error.span.line, error.span.column) == (text.count("\n"), len("connect R.exc -> R.other with ") + 1)
    assert isinstance(error, InvalidValueError)
    assert "`R.inh` is inhibitory, but synapse `AMPA` is excitatory" in error_of(
        DALE + "connect R.inh -> R with AMPA\n", DaleError).message


@pytest.mark.parametrize(
    "connect",
    [
        "connect R.exc -> R with AMPA",
        "connect R.inh -> R with GABA { weight = 3 mV }",   # `I -= w`: lowers I
        "connect R.exc -> R with S",
        "connect R.inh -> R with Sub",
        "connect R.inh -> R with S { weight = -1 mV }",
        "connect R.inh -> R with S { weight = 0 mV }",
        "connect R.exc -> R with S { weight = uniform(0 mV, 2 mV) }",
        "connect R.inh -> C.cond with G",                   # a conductance is positive for inhibition too
        "connect R.exc -> C.cond with G",
        "connect R.other -> R with S { weight = -5 mV }",   # an unmarked population: no rule
        "connect R.other -> R with GABA",
        "connect R.inh -> R with AMPA { weight = -1 mV }".replace("AMPA", "GABA"),
    ],
)
def test_connections_that_keep_dales_law_lower(connect: str) -> None:
    lower(DALE + connect + "\n")


@pytest.mark.parametrize(
    ("connect", "fragment"),
    [
        ("connect R.exc -> R.other with S { weight = -1 mV }", "can change `I += ...` of `R.other` by -0.001"),
        ("connect R.exc -> R.other with Sub", "can change `I -= ...` of `R.other` by -0.001"),
        ("connect R.exc -> R.other with S { weight = uniform(-1 mV, 2 mV) }", "by -0.001"),
        ("connect R.inh -> R.other with S", "`R.inh` is inhibitory, but synapse `S` can change `I += ...` of "
                                            "`R.other` by +0.001"),
        ("connect R.inh -> R.other with Sub { weight = -2 mV }", "by +0.002"),
        ("connect R.inh -> C.cond with G { weight = -1 nS }", "a conductance must not fall"),
        ("connect R.exc -> C.cond with G { w = -1 nS }", "a conductance must not fall"),
        ("connect D.drive -> R.other with S { weight = -1 mV }", "`D.drive` is excitatory"),
    ],
)
def test_an_effect_of_the_wrong_sign_is_a_dale_error(connect: str, fragment: str) -> None:
    text = DALE + connect + "\n"
    error = error_of(text, DaleError)
    assert fragment in error.message
    assert error.span.line == text.count("\n")
    assert error.span.column == connect.index(" with ") + len(" with ") + 1


def test_a_region_endpoint_is_checked_for_each_marked_population_in_it() -> None:
    error = error_of(DALE + "connect R -> R.other with S\n", DaleError)  # R.inh raises I
    assert error.message.startswith("`R.inh` is inhibitory")


def test_a_model_that_keeps_dales_law_runs_identically_on_both_backends() -> None:
    model = brainsim.loads(DALE + """
        stimulus R.exc { I_ext += 25 mV }
        connect R.exc -> R with AMPA { p = 0.8  weight = 60 mV }
        connect R.inh -> R.exc with GABA { weight = 2 mV }
        record spikes of R
    """, "dale.brain")
    numpy, jax = (model.compile(backend=b).run() for b in ("numpy", "jax"))
    assert_identical(numpy, jax)
    assert numpy.spike_counts["R.exc"].sum() > 0 and numpy.spike_counts["R.inh"].sum() > 0
    kinds = {p.synapse.name: p.synapse.kind for p in model.network.projections}
    assert kinds == {"AMPA": ir.NeuronKind.EXCITATORY, "GABA": ir.NeuronKind.INHIBITORY}


# --------------------------------------------------------------------------- derived neuron models


DERIVED = LIF + """
neuron Slow = Fast { tau = 20 ms }                 # derived from one declared below
neuron Fast = LIF { tau = 5 ms  E_L = -65 mV }
neuron Same = LIF
"""


def test_a_derived_model_has_the_base_equations_and_its_own_values() -> None:
    network = lower(DERIVED + "region R { slow = Slow[1]  fast = Fast[1]  same = Same[1]  lif = LIF[1] }")
    models = {p.name: p.model for p in network.populations}
    values = {name: {q.name: q.value for q in m.parameters} for name, m in models.items()}
    assert values["R.fast"] == {"tau": 0.005, "E_L": -0.065, "V_th": -0.05, "V_reset": -0.065}  # V_reset = E_L follows
    assert values["R.slow"] == {"tau": 0.02, "E_L": -0.065, "V_th": -0.05, "V_reset": -0.065}
    assert values["R.same"] == values["R.lif"]
    assert [m.name for m in models.values()] == ["Slow", "Fast", "Same", "LIF"]
    assert models["R.slow"].equations == models["R.lif"].equations
    assert models["R.fast"].states[0].initial == ir.Constant(-0.065)  # v = E_L follows too


def test_a_population_overrides_a_derived_model_again() -> None:
    network = lower(DERIVED + "region R { a = Fast[1] { E_L = -60 mV } }")
    (population,) = network.populations
    assert {p.name: p.value for p in population.model.parameters} == {
        "tau": 0.005, "E_L": -0.06, "V_th": -0.05, "V_reset": -0.06}
    assert population.model.name == "Fast"


def test_a_derived_model_runs_like_the_model_written_out_on_both_backends() -> None:
    written_out = LIF.replace("tau = 10 ms  E_L = -70 mV", "tau = 5 ms  E_L = -65 mV")
    network = """
        region R { a = {model}[5] }
        stimulus R { I_ext += 40 mV }
        record spikes of R
        record v of R.a
    """
    derived = brainsim.loads(DERIVED + network.replace("{model}", "Fast"), "derived.brain")
    plain = brainsim.loads(written_out + network.replace("{model}", "LIF"), "plain.brain")
    runs = {(name, b): m.compile(backend=b).run() for name, m in (("derived", derived), ("plain", plain))
            for b in ("numpy", "jax")}
    assert_identical(runs["derived", "numpy"], runs["derived", "jax"])
    assert_identical(runs["derived", "numpy"], runs["plain", "numpy"])
    assert runs["derived", "numpy"].spike_counts["R.a"].sum() > 0
    assert np.array_equal(runs["derived", "jax"].traces["R.a", "v"].values, runs["plain", "jax"].traces["R.a", "v"].values)


@pytest.mark.parametrize(
    ("statement", "kind", "fragment", "hint"),
    [
        ("neuron X = LIFF { tau = 1 ms }", UnknownNameError, "unknown neuron model `LIFF`", "did you mean `LIF`?"),
        ("neuron X = AMPA { w = 1 mV }", UnknownNameError, "unknown neuron model `AMPA`", "is a synapse model"),
        ("neuron X = PoissonSource", UnknownNameError, "unknown neuron model `PoissonSource`", "spike source"),
        ("neuron X = LIF { taus = 1 ms }", UnknownNameError, "neuron model `LIF` has no parameter or state variable "
                                                             "`taus`", "did you mean `tau`?"),
        ("neuron X = LIF { tau = 1 mV }", brainsim.UnitError, "`tau` has dimension s", None),
        ("neuron X = Y  neuron Y = Z { }  neuron Z = X", InvalidValueError,
         "neuron models are derived from each other in a cycle: X -> Y -> Z -> X", None),
        ("neuron X = X", InvalidValueError, "in a cycle: X -> X", None),
        ("neuron LIF = COBA", DuplicateNameError, "model `LIF` is declared twice", None),
    ],
)
def test_a_wrong_derivation_is_an_error_at_its_position(statement, kind, fragment, hint) -> None:
    text = LIF + statement + "\n"
    error = error_of(text, kind)
    assert fragment in error.message
    assert hint is None or hint in error.hint
    assert error.span.line == text.count("\n")


# --------------------------------------------------------------------------- the examples in docs/language.md


def _doc_models(*markers: str) -> list[str]:
    """The complete models (fenced blocks starting with `simulation {`) of docs/language.md holding a marker."""
    lines = (Path(__file__).parents[2] / "docs" / "language.md").read_text(encoding="utf-8").splitlines()
    blocks, current = [], None
    for line in lines:
        if line.startswith("```"):
            if current is None:
                current = []
            else:
                blocks.append("\n".join(current))
                current = None
        elif current is not None:
            current.append(line)
    return [b for b in blocks if b.startswith("simulation {") and any(m in b for m in markers)]


@pytest.mark.parametrize("text", _doc_models("RegularSpiking =", "GABA_A", "region L4  {"))
def test_the_documented_examples_run_identically_on_both_backends(text: str) -> None:
    model = brainsim.loads(text, "language.md")
    numpy, jax = (model.compile(backend=b).run() for b in ("numpy", "jax"))
    assert_identical(numpy, jax)
    assert sum(int(c.sum()) for c in numpy.spike_counts.values()) > 0


def test_the_three_documented_examples_are_found() -> None:
    assert len(_doc_models("RegularSpiking =", "GABA_A", "region L4  {")) == 3


def test_a_regions_statistics_count_its_populations_at_any_depth(tmp_path):
    """The run table's total for `Cortex` includes Cortex.L4's populations, and each
    population has one row."""
    text = (
        "simulation { duration = 20 ms }\n"
        "neuron N { parameters { tau = 10 ms }  inputs { I = 0 mV }  state { v = 0 mV }\n"
        "           equations { dv/dt = (I - v) / tau }  spike when v > 10 mV  reset { v = 0 mV } }\n"
        "region Cortex { region L4 { exc = N[10] } inh = N[5] }\n"
        "stimulus Cortex.L4 { I += 25 mV }\n"
    )
    results = brainsim.loads(text).compile().run()
    assert results.regions == {"Cortex": ("Cortex.L4.exc", "Cortex.inh"), "Cortex.L4": ("Cortex.L4.exc",)}
    rows = {(row.name, row.kind): row for row in results.statistics()}
    assert [row.name for row in results.statistics()].count("Cortex.L4.exc") == 1
    assert rows[("Cortex", "region")].neurons == 15
    assert rows[("Cortex", "region")].spikes == rows[("Cortex.L4", "region")].spikes > 0
