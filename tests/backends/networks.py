"""IR networks built by hand for the backend tests (the DSL will produce these later).

`cuba` mirrors models/cuba.brain, `visual_pathway` mirrors models/visual_pathway.brain,
`single_lif` and `delay_probe` are small networks with known answers.
"""

from __future__ import annotations

from brainsim import ir
from brainsim.integrators.rewrite import add, div, mul, sub, var  # noqa: F401 (re-exported for the tests)
from brainsim.units import DIMENSIONLESS

ms, mV, nA, Mohm = 1e-3, 1e-3, 1e-9, 1e6


def const(value: float) -> ir.Const:
    return ir.Const(value)


def gt(a: ir.Expr, b: ir.Expr) -> ir.Expr:
    return ir.Binary(ir.BinaryOp.GT, a, b)


def neg(a: ir.Expr) -> ir.Expr:
    return ir.Unary(ir.UnaryOp.NEG, a)


def parameters(**values: float) -> tuple[ir.Parameter, ...]:
    return tuple(ir.Parameter(name, value, DIMENSIONLESS) for name, value in values.items())


def state(name: str, initial: ir.Initializer) -> ir.StateVariable:
    return ir.StateVariable(name, DIMENSIONLESS, initial)


def cuba_model(t_ref: float = 5 * ms) -> ir.NeuronModel:
    """CubaLIF of models/cuba.brain."""
    return ir.NeuronModel(
        name="CubaLIF",
        parameters=parameters(taum=20 * ms, taue=5 * ms, taui=10 * ms, Vt=-50 * mV, Vr=-60 * mV, El=-49 * mV, t_ref=t_ref),
        states=(state("v", ir.Uniform(-60 * mV, -50 * mV)), state("ge", ir.Constant(0.0)), state("gi", ir.Constant(0.0))),
        inputs=(),
        equations=(
            ir.Equation("v", div(sub(add(var("ge"), var("gi")), sub(var("v"), var("El"))), var("taum")), True),
            ir.Equation("ge", div(neg(var("ge")), var("taue"))),
            ir.Equation("gi", div(neg(var("gi")), var("taui"))),
        ),
        threshold=gt(var("v"), var("Vt")),
        reset=(ir.Assignment("v", ir.AssignOp.SET, var("Vr")),),
        refractory=t_ref,
    )


def current_synapse(name: str, target: str, weight: ir.Initializer) -> ir.SynapseModel:
    """A synapse whose spike adds its weight `w` to `target` of the postsynaptic neuron."""
    return ir.SynapseModel(name, (), (state("w", weight),), (ir.Assignment(target, ir.AssignOp.ADD, var("w")),))


def settings(duration: float, dt: float = 0.1 * ms, seed: int = 42) -> ir.SimulationSettings:
    return ir.SimulationSettings(dt=dt, duration=duration, seed=seed)


def cuba(
    n: int = 4000,
    duration: float = 1.0,
    p: float = 0.02,
    delay: ir.Initializer = ir.Constant(0.1 * ms),
    exc_weight: ir.Initializer = ir.Constant(1.62 * mV),
    inh_weight: ir.Initializer = ir.Constant(-9 * mV),
    seed: int = 42,
) -> ir.Network:
    """models/cuba.brain, with size, duration, weights and delays open to change."""
    model = cuba_model()
    n_exc = n * 4 // 5
    exc = ir.Population("Cortex.exc", "Cortex", n_exc, model, ir.NeuronKind.EXCITATORY)
    inh = ir.Population("Cortex.inh", "Cortex", n - n_exc, model, ir.NeuronKind.INHIBITORY)
    projections = []
    for source, synapse in (
        ("Cortex.exc", current_synapse("ExcitatoryCUBA", "ge", exc_weight)),
        ("Cortex.inh", current_synapse("InhibitoryCUBA", "gi", inh_weight)),
    ):
        for target in ("Cortex.exc", "Cortex.inh"):
            projections.append(
                ir.Projection(f"{source}->{target}", source, target, synapse, ir.FixedProbability(p), delay)
            )
    return ir.Network(
        simulation=settings(duration, seed=seed),
        regions=(ir.Region("Cortex", ("Cortex.exc", "Cortex.inh")),),
        populations=(exc, inh),
        projections=tuple(projections),
        stimuli=(),
        spike_records=(ir.SpikeRecord("Cortex.exc"), ir.SpikeRecord("Cortex.inh")),
        state_records=(ir.StateRecord("Cortex.exc", "v", (0, 1, 2, 3, 4)),),
        source_name="cuba",
    )


def seed_neuron(t_ref: float = 2 * ms) -> ir.NeuronModel:
    """SeedNeuron of models/visual_pathway.brain: v and I_syn, with an input I_ext."""
    drive = mul(var("R_m"), add(var("I_syn"), var("I_ext")))
    return ir.NeuronModel(
        name="SeedNeuron",
        parameters=parameters(
            tau_m=10 * ms, E_L=-70 * mV, V_th=-55 * mV, V_reset=-70 * mV, R_m=10 * Mohm, t_ref=t_ref, tau_syn=5 * ms
        ),
        states=(state("v", ir.Constant(-70 * mV)), state("I_syn", ir.Constant(0.0))),
        inputs=(ir.Input("I_ext", DIMENSIONLESS, 0.0),),
        equations=(
            ir.Equation("v", div(add(sub(var("E_L"), var("v")), drive), var("tau_m")), True),
            ir.Equation("I_syn", div(neg(var("I_syn")), var("tau_syn"))),
        ),
        threshold=gt(var("v"), var("V_th")),
        reset=(ir.Assignment("v", ir.AssignOp.SET, var("V_reset")),),
        refractory=t_ref,
    )


def visual_pathway(duration: float = 150 * ms, amplitude: float = 10 * nA, seed: int = 42) -> ir.Network:
    """models/visual_pathway.brain."""
    model = seed_neuron()
    populations = (
        ir.Population("Retina.photoreceptors", "Retina", 10, model),
        ir.Population("V1.simple", "V1", 20, model),
        ir.Population("Visual_Association.out", "Visual_Association", 5, model),
    )
    return ir.Network(
        simulation=settings(duration, seed=seed),
        regions=(
            ir.Region("Retina", ("Retina.photoreceptors",)),
            ir.Region("V1", ("V1.simple",)),
            ir.Region("Visual_Association", ("Visual_Association.out",)),
        ),
        populations=populations,
        projections=(
            ir.Projection(
                "Retina->V1", "Retina.photoreceptors", "V1.simple",
                current_synapse("Excitatory", "I_syn", ir.Constant(0.5 * nA)),
                ir.FixedProbability(0.5), ir.Uniform(1 * ms, 3 * ms),
            ),
            ir.Projection(
                "V1->Visual_Association", "V1.simple", "Visual_Association.out",
                current_synapse("Excitatory", "I_syn", ir.Constant(0.7 * nA)),
                ir.FixedProbability(0.5), ir.Constant(2 * ms),
            ),
        ),
        stimuli=(
            ir.Stimulus(
                "Retina.photoreceptors", "I_ext",
                ir.PulseTrain(period=20 * ms, width=10 * ms, amplitude=amplitude, start=0.0, stop=float("inf")),
            ),
        ),
        spike_records=tuple(ir.SpikeRecord(p.name) for p in populations),
        state_records=(ir.StateRecord("V1.simple", "v", (0, 1, 2)),),
        source_name="visual_pathway",
    )


def single_lif(current: float, duration: float, t_ref: float = 2 * ms, dt: float = 0.1 * ms) -> ir.Network:
    """One SeedNeuron driven by a constant current into I_ext, v and I_ext recorded."""
    population = ir.Population("Solo.lif", "Solo", 1, seed_neuron(t_ref))
    return ir.Network(
        simulation=settings(duration, dt=dt),
        regions=(ir.Region("Solo", ("Solo.lif",)),),
        populations=(population,),
        projections=(),
        stimuli=(ir.Stimulus("Solo.lif", "I_ext", ir.ConstantCurrent(current)),),
        spike_records=(ir.SpikeRecord("Solo.lif"),),
        state_records=(ir.StateRecord("Solo.lif", "v", (0,)), ir.StateRecord("Solo.lif", "I_ext", (0,))),
        source_name="single_lif",
    )


def delay_probe(delay: float, pulse_start: float, duration: float = 10 * ms) -> ir.Network:
    """A driver neuron that fires once, early, into a silent probe whose I_syn is recorded.

    The driver gets a huge current for one step starting at `pulse_start`, so it
    fires in that step; its event reaches the probe after `delay`.
    """
    model = seed_neuron(t_ref=1.0)  # never fires twice within `duration`
    populations = (ir.Population("Probe.driver", "Probe", 1, model), ir.Population("Probe.probe", "Probe", 1, model))
    return ir.Network(
        simulation=settings(duration),
        regions=(ir.Region("Probe", ("Probe.driver", "Probe.probe")),),
        populations=populations,
        projections=(
            ir.Projection(
                "driver->probe", "Probe.driver", "Probe.probe",
                current_synapse("Tiny", "I_syn", ir.Constant(1e-15)), ir.OneToOne(), ir.Constant(delay),
            ),
        ),
        stimuli=(
            ir.Stimulus(
                "Probe.driver", "I_ext",
                ir.PulseTrain(period=1.0, width=0.1 * ms, amplitude=1e3, start=pulse_start, stop=float("inf")),
            ),
        ),
        spike_records=(ir.SpikeRecord("Probe.driver"),),
        state_records=(ir.StateRecord("Probe.probe", "I_syn", (0,)),),
        source_name="delay_probe",
    )


def cuba_small(duration: float = 0.1, seed: int = 3) -> ir.Network:
    """400 CUBA neurons with random weights and random delays from 0.1 to 2 ms."""
    return cuba(
        n=400, duration=duration, p=0.05, seed=seed,
        delay=ir.Uniform(0.1 * ms, 2 * ms),
        exc_weight=ir.Uniform(0.5 * mV, 3 * mV), inh_weight=ir.Uniform(-12 * mV, -6 * mV),
    )


def exponential_lif() -> ir.NeuronModel:
    """An exponential integrate-and-fire neuron: not linear, so integrated by Euler, with exp."""
    spike_current = mul(var("delta_T"), ir.Call(ir.Function.EXP, (div(sub(var("v"), var("V_T")), var("delta_T")),)))
    rhs = div(add(add(sub(var("E_L"), var("v")), spike_current), mul(var("R_m"), add(var("I_syn"), var("I_ext")))), var("tau_m"))
    return ir.NeuronModel(
        name="ExpLIF",
        parameters=parameters(
            tau_m=10 * ms, E_L=-65 * mV, V_T=-50 * mV, delta_T=2 * mV, V_reset=-68 * mV, V_cut=-30 * mV,
            R_m=10 * Mohm, tau_syn=5 * ms,
        ),
        states=(state("v", ir.Uniform(-70 * mV, -55 * mV)), state("I_syn", ir.Constant(0.0))),
        inputs=(ir.Input("I_ext", DIMENSIONLESS, 0.0),),
        equations=(ir.Equation("v", rhs, True), ir.Equation("I_syn", div(neg(var("I_syn")), var("tau_syn")))),
        threshold=gt(var("v"), var("V_cut")),
        reset=(ir.Assignment("v", ir.AssignOp.SET, var("V_reset")),),
        refractory=1 * ms,
    )


def mixed(duration: float = 60 * ms) -> ir.Network:
    """Exponential LIF neurons driven by pulses into seed neurons: Euler, exp and exact together."""
    populations = (
        ir.Population("Mixed.exp", "Mixed", 30, exponential_lif()),
        ir.Population("Mixed.seed", "Mixed", 20, seed_neuron()),
    )
    return ir.Network(
        simulation=settings(duration, seed=11),
        regions=(ir.Region("Mixed", ("Mixed.exp", "Mixed.seed")),),
        populations=populations,
        projections=(
            ir.Projection("exp->seed", "Mixed.exp", "Mixed.seed", current_synapse("E", "I_syn", ir.Uniform(0.5 * nA, 2 * nA)),
                          ir.FixedProbability(0.3), ir.Uniform(0.5 * ms, 1.5 * ms)),
            ir.Projection("seed->exp", "Mixed.seed", "Mixed.exp", current_synapse("E", "I_syn", ir.Constant(-1 * nA)),
                          ir.AllToAll(), ir.Constant(1 * ms)),
        ),
        stimuli=(
            ir.Stimulus("Mixed.exp", "I_ext", ir.ConstantCurrent(1.6 * nA)),
            ir.Stimulus("Mixed.exp", "I_ext", ir.PulseTrain(7 * ms, 2 * ms, 1 * nA, 5 * ms, 40 * ms)),
        ),
        spike_records=tuple(ir.SpikeRecord(p.name) for p in populations),
        state_records=(ir.StateRecord("Mixed.exp", "v", (0, 5)), ir.StateRecord("Mixed.exp", "I_ext", (0,))),
        source_name="mixed",
    )


def runaway() -> ir.Network:
    """dv/dt = v^2 / tau from v = 1 (Euler): v goes to inf in about 20 steps."""
    model = ir.NeuronModel(
        name="Runaway",
        parameters=parameters(tau=1 * ms),
        states=(state("v", ir.Constant(1.0)),),
        inputs=(),
        equations=(ir.Equation("v", div(mul(var("v"), var("v")), var("tau"))),),
        threshold=None,
        reset=(),
        refractory=0.0,
    )
    quiet = ir.Population("Lab.quiet", "Lab", 3, seed_neuron())
    return ir.Network(
        simulation=settings(10 * ms),
        regions=(ir.Region("Lab", ("Lab.quiet", "Lab.runaway")),),
        populations=(quiet, ir.Population("Lab.runaway", "Lab", 2, model)),
        projections=(),
        stimuli=(),
        spike_records=(),
        state_records=(),
        source_name="runaway",
    )
