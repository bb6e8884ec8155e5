"""Which standard-library model stands for each NEST point-neuron template, parameter by parameter.

A SONATA point neuron names a NEST model (`model_template` "nest:iaf_psc_alpha")
and sets its parameters in NEST's names and units (`dynamics_params`:
`{"tau_m": 44.9, "C_m": 239.0, ...}`: ms, pF, mV, nS, pA). Each `Template`
says which model of `brainsim/std` has the same equations, the brainsim name of
each NEST parameter, NEST's unit for it and NEST's default (written into the
model when the network leaves it out, so the import starts where NEST starts:
NEST's V_m is -70 mV whatever E_L, for instance), where the constant current
I_e goes, and which synapse carries the edges into such a neuron. docs/sonata.md
shows the same table.

NEST sends a negative weight onto a conductance-based neuron to its inhibitory
receptor (as a positive conductance); such a template has an inhibitory
synapse for the edges of negative weight. A current-based one takes the sign
with the weight. A NEST parameter the brainsim model has no room for is
`Fixed`: the model holds it equal to another parameter, or to a constant, and
a network that sets another value is told so (a TODO in the model's header).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Parameter:
    """NEST's `nest` is brainsim's `name`, written in NEST's `unit`; NEST's `default`."""

    nest: str
    name: str
    unit: str
    default: float


@dataclass(frozen=True)
class Fixed:
    """NEST's parameter `nest` (default `default`, in `unit`) has no brainsim counterpart of its
    own: the model behaves as if it were `equals`, the value of another NEST parameter or a number."""

    nest: str
    default: float
    equals: str | float
    unit: str


@dataclass(frozen=True)
class Template:
    """A NEST point-neuron model and the standard-library model that has its equations."""

    nest: str
    modules: tuple[str, ...]  # the std modules of the neuron model and its synapses
    model: str
    parameters: tuple[Parameter, ...]
    states: tuple[Parameter, ...]  # NEST's initial values (V_m, ...) -> brainsim state variables
    current: Parameter  # I_e -> the input a constant stimulus adds to
    synapse: str  # carries the edges of weight >= 0 (all of them if `inhibitory` is None)
    inhibitory: str | None  # carries the edges of weight < 0, as |weight|
    weight_unit: str
    fixed: tuple[Fixed, ...] = ()

    def names(self) -> tuple[str, ...]:
        """The NEST parameter names this template reads."""
        return (*(p.nest for p in (*self.parameters, *self.states, self.current)), *(f.nest for f in self.fixed))


def _lif(nest: str, model: str, synapse: str, inhibitory: str | None, weight_unit: str, conductance: bool) -> Template:
    membrane = (
        Parameter("C_m", "C_m", "pF", 250.0), Parameter("E_L", "E_L", "mV", -70.0),
        Parameter("V_th", "V_th", "mV", -55.0), Parameter("t_ref", "t_ref", "ms", 2.0),
    )
    if conductance:
        parameters = (*membrane, Parameter("g_L", "g_L", "nS", 16.6667), Parameter("V_reset", "V_reset", "mV", -60.0),
                      Parameter("E_ex", "E_ex", "mV", 0.0), Parameter("E_in", "E_in", "mV", -85.0),
                      Parameter("tau_syn_ex", "tau_ex", "ms", 0.2), Parameter("tau_syn_in", "tau_in", "ms", 2.0))
        fixed = ()
    else:
        parameters = (*membrane, Parameter("tau_m", "tau_m", "ms", 10.0), Parameter("V_reset", "V_reset", "mV", -70.0),
                      Parameter("tau_syn_ex", "tau_syn", "ms", 2.0))
        fixed = (Fixed("tau_syn_in", 2.0, "tau_syn_ex", "ms"),)
    return Template(
        nest=nest, modules=("lif",), model=model, parameters=parameters,
        states=(Parameter("V_m", "v", "mV", -70.0),), current=Parameter("I_e", "I_ext", "pA", 0.0),
        synapse=synapse, inhibitory=inhibitory, weight_unit=weight_unit, fixed=fixed,
    )


TEMPLATES: dict[str, Template] = {
    template.nest: template
    for template in (
        _lif("nest:iaf_psc_alpha", "LifCurrentAlpha", "CurrentAlphaSynapse", None, "pA", conductance=False),
        _lif("nest:iaf_psc_exp", "LifCurrentExp", "CurrentExpSynapse", None, "pA", conductance=False),
        _lif("nest:iaf_cond_alpha", "LifConductanceAlpha", "ExcitatoryConductanceAlpha", "InhibitoryConductanceAlpha",
             "nS", conductance=True),
        _lif("nest:iaf_cond_exp", "LifConductanceExp", "ExcitatoryConductanceExp", "InhibitoryConductanceExp",
             "nS", conductance=True),
        Template(
            nest="nest:aeif_cond_alpha", modules=("adex", "lif"), model="AdexConductanceAlpha",
            parameters=(
                Parameter("C_m", "C", "pF", 281.0), Parameter("g_L", "g_L", "nS", 30.0),
                Parameter("E_L", "E_L", "mV", -70.6), Parameter("V_th", "V_T", "mV", -50.4),
                Parameter("Delta_T", "Delta_T", "mV", 2.0), Parameter("a", "a", "nS", 4.0),
                Parameter("tau_w", "tau_w", "ms", 144.0), Parameter("b", "b", "pA", 80.5),
                Parameter("V_reset", "V_r", "mV", -60.0), Parameter("V_peak", "V_peak", "mV", 0.0),
                Parameter("t_ref", "t_ref", "ms", 0.0), Parameter("E_ex", "E_ex", "mV", 0.0),
                Parameter("E_in", "E_in", "mV", -85.0), Parameter("tau_syn_ex", "tau_ex", "ms", 0.2),
                Parameter("tau_syn_in", "tau_in", "ms", 2.0),
            ),
            states=(Parameter("V_m", "v", "mV", -70.6), Parameter("w", "w", "pA", 0.0)),
            current=Parameter("I_e", "I", "pA", 0.0),
            synapse="ExcitatoryConductanceAlpha", inhibitory="InhibitoryConductanceAlpha", weight_unit="nS",
        ),
        # NEST's izhikevich writes the paper's plain numbers (I_e "pA", c and d "mV");
        # std's Izhikevich reads the same numbers in mV, and a spike adds its weight to v.
        Template(
            nest="nest:izhikevich", modules=("izhikevich",), model="Izhikevich",
            parameters=(
                Parameter("a", "a", "", 0.02), Parameter("b", "b", "", 0.2),
                Parameter("c", "c", "mV", -65.0), Parameter("d", "d", "mV", 8.0),
            ),
            states=(Parameter("V_m", "v", "mV", -65.0), Parameter("U_m", "u", "mV", -13.0)),
            current=Parameter("I_e", "I", "mV", 0.0),
            synapse="IzhikevichPulse", inhibitory=None, weight_unit="mV",
            fixed=(Fixed("V_th", 30.0, 30.0, "mV"),),
        ),
    )
}
