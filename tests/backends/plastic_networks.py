"""Plastic networks built directly as IR, with spike schedules known in advance.

`stdp_network`: SpikeTimes channels (`In.pre`) onto target neurons (`Out.post`)
through a plastic projection; each target neuron is forced to fire by a drive
channel (`In.drive`, one to one, a kick of 10 onto a threshold of 1 after one
step's delay), so a drive spike at T makes the target fire at T + 2 dt (the
kick arrives in the next step, and the target fires at that step's end). The plastic synapse's effect lands on `g`, which nothing reads, so
learning never changes who fires.
"""

from __future__ import annotations

from brainsim import ir
from tests.backends.networks import div, gt, mul, neg, parameters, settings, state, var

ms = 1e-3
DT = 0.1 * ms


def target_neuron() -> ir.NeuronModel:
    """v is kicked over threshold by the drive; g takes the plastic synapses' effects."""
    return ir.NeuronModel(
        name="Target",
        parameters=parameters(tau=10 * ms, tau_g=5 * ms),
        states=(state("v", ir.Constant(0.0)), state("g", ir.Constant(0.0))),
        inputs=(),
        equations=(ir.Equation("v", div(neg(var("v")), var("tau"))), ir.Equation("g", div(neg(var("g")), var("tau_g")))),
        threshold=gt(var("v"), ir.Const(1.0)),
        reset=(ir.Assignment("v", ir.AssignOp.SET, ir.Const(0.0)),),
        refractory=0.0,
    )


def plus(variable: str, value: ir.Expr) -> ir.Assignment:
    """`variable += value`."""
    return ir.Assignment(variable, ir.AssignOp.ADD, value)


def stdp(w0: float = 0.5, bounds: tuple[float, float] | None = None, clock_driven: bool = False,
         A_pre: float = 0.01, A_post: float = -0.0105) -> ir.SynapseModel:
    """The contract's all-to-all pair STDP: traces a_pre, a_post relax to 0."""
    return ir.SynapseModel(
        name="STDP",
        parameters=parameters(tau_pre=20 * ms, tau_post=20 * ms, A_pre=A_pre, A_post=A_post, w_max=1.0),
        states=(state("w", ir.Constant(w0)), state("a_pre", ir.Constant(0.0)), state("a_post", ir.Constant(0.0))),
        on_pre=(plus("g", var("w")), plus("a_pre", var("A_pre")), plus("w", mul(var("a_post"), var("w_max")))),
        equations=(
            ir.Equation("a_pre", div(neg(var("a_pre")), var("tau_pre"))),
            ir.Equation("a_post", div(neg(var("a_post")), var("tau_post"))),
        ),
        clock_driven=clock_driven,
        on_post=(plus("a_post", var("A_post")), plus("w", mul(var("a_pre"), var("w_max")))),
        bounds=() if bounds is None else (ir.Bound("w", *bounds),),
    )


def schedule(spikes: dict[int, list[float]]) -> ir.SpikeTimes:
    pairs = sorted((t, i) for i, times in spikes.items() for t in times)
    return ir.SpikeTimes(tuple(i for _, i in pairs), tuple(t for t, _ in pairs))


def stdp_network(
    pre: dict[int, list[float]],
    drive: dict[int, list[float]],
    synapse: ir.SynapseModel,
    n_pre: int = 3,
    n_post: int = 2,
    duration: float = 100 * ms,
    synapse_records: tuple[ir.SynapseRecord, ...] = (),
    modulator: ir.NeuronModel | None = None,
    delay: float = DT,
    axonal_delay: float = 0.0,
    dendritic_delay: float = 0.0,
) -> ir.Network:
    """`n_pre` channels spiking at `pre`, all to all onto `n_post` targets forced to fire
    two steps after the times `drive`; `modulator`: a one-neuron population `Reward.da`."""
    populations = [
        ir.Population("In.pre", "In", n_pre, schedule(pre)),
        ir.Population("In.drive", "In", n_post, schedule(drive)),
        ir.Population("Out.post", "Out", n_post, target_neuron()),
    ]
    regions = [ir.Region("In", ("In.pre", "In.drive")), ir.Region("Out", ("Out.post",))]
    if modulator is not None:
        populations.append(ir.Population("Reward.da", "Reward", 1, modulator))
        regions.append(ir.Region("Reward", ("Reward.da",)))
    kick = ir.SynapseModel("Kick", (), (state("w", ir.Constant(10.0)),), (plus("v", var("w")),))
    return ir.Network(
        simulation=settings(duration, dt=DT),
        regions=tuple(regions),
        populations=tuple(populations),
        projections=(
            ir.Projection("In.drive->Out.post", "In.drive", "Out.post", kick, ir.OneToOne(), ir.Constant(DT)),
            ir.Projection("In.pre->Out.post", "In.pre", "Out.post", synapse, ir.AllToAll(), ir.Constant(delay),
                          modulator=None if modulator is None else "Reward.da",
                          axonal_delay=axonal_delay, dendritic_delay=dendritic_delay),
        ),
        stimuli=(),
        spike_records=(ir.SpikeRecord("In.pre"), ir.SpikeRecord("Out.post")),
        state_records=(),
        source_name="stdp",
        synapse_records=synapse_records,
    )
