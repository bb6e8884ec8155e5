"""`brainsim info`: a model described in text, from what a run would build.

    simulation: dt 0.1 ms, duration 1000 ms (10000 steps), seed 42
    populations (4,000 neurons):
      Cortex.exc: 3200 x CubaLIF excitatory, exact integration (linear with constant coefficients)
    projections (320,239 synapses; counts exact: drawn from the seed, as every run draws them):
      Cortex.exc->Cortex.exc: ExcitatoryCUBA, fixed probability p=0.02, 205,025 synapses
    memory in float64 (every array a backend holds; recordings for 1000 ms):
      synapses         3.88 MB  (12.1 B per synapse)

The connectivity is drawn on the host (`brainsim.network.build`, the arrays both
backends start from), so the synapse counts are those of a run with the model's
seed; the memory is measured from the arrays the step is built with
(`brainsim.backends.memory`), with the numpy backend's array module and nothing
compiled (the jax backend holds arrays of the same sizes). `--ir` adds the
lowered IR (`brainsim.ir_text`).

A network whose estimate (`brainsim.backends.estimate`) passes the memory available
(or `max_memory`), or whose rules lead one to expect more than `DRAW_AT_MOST` synapses,
is not built unless asked (`draw`; `brainsim info --draw`): drawing the 0.3 billion
synapses of the full microcircuit takes minutes, a description should take a second.
Its synapse counts are then those its rules lead one to expect, and its memory the
estimate by part, which is what a run would refuse with.
"""

from __future__ import annotations

from brainsim import ir
from brainsim.backends.estimate import Estimate, estimate
from brainsim.backends.kernel import compile_step
from brainsim.backends.memory import NetworkMemory, network_memory, recording_bytes
from brainsim.backends.numpy_backend import NumpyEvents, NumpyNumerics
from brainsim.integrators import format_expr, integrate
from brainsim.ir_text import format_ir
from brainsim.model import Model
from brainsim.network import HostNetwork, build
from brainsim.network.values import heterogeneous, neuron_values
from brainsim.phrases import connection_rule, plasticity
from brainsim.resources import MemoryLimit, format_bytes, memory_limit
from brainsim.validate import deep_expressions, validate

SPIKE_BYTES = 16  # a recorded spike in `Results`: its time (float64) and neuron (int64)
DRAW_AT_MOST = 20_000_000  # synapses `describe` draws unasked: Brunel 2000's 16.9 million take 7.6 s here


def describe(model: Model, updates: bool = False, ir_text: bool = False, dtype: str = "float64",
             max_memory: int | str | None = None, draw: bool = False) -> str:
    """A human-readable summary of a model: populations with their integration methods,
    projections with their synapse counts, stimuli, records and the memory a run in `dtype`
    takes; with `updates`, the integration of each population as the backends will run it;
    with `ir_text`, the lowered IR. A network that would take more than `max_memory` (default:
    the memory available) is described from its estimate, without building it; so is one
    of more than `DRAW_AT_MOST` expected synapses, unless `draw`.

    Raises:
        BrainsimError: the model fails a check that runs on the built network (a degree
            larger than a condition leaves, a drawn delay under one step, ...).
    """
    network = model.network
    with deep_expressions():
        validate(network)
    settings = network.simulation
    lines = [f"simulation: dt {settings.dt * 1e3:g} ms, duration {settings.duration * 1e3:g} ms "
             f"({settings.n_steps} steps), seed {settings.seed}"]
    expected, limit = estimate(network, dtype), memory_limit(max_memory)
    if why := _not_drawn(expected, limit, draw):
        lines += _populations(network, updates, built=False)
        lines += _expected_projections(network, expected, why)
        lines += _stimuli(network) + _records(network) + _estimated_memory(expected, why)
    else:
        with deep_expressions():
            host = build(network)
        lines += _populations(network, updates)
        lines += _projections(host)
        lines += _stimuli(network) + _records(network) + _memory(host, dtype)
    if ir_text:
        lines += ["lowered IR (SI units):", format_ir(network)]
    return "\n".join(lines)


def _populations(network: ir.Network, updates: bool, built: bool = True) -> list[str]:
    """Each population with its size, model and integration method (or rate, or spikes); where
    the network is not `built`, the method of a population with heterogeneous parameters is
    left out (choosing it draws them)."""
    settings = network.simulation
    lines = [f"populations ({sum(p.size for p in network.populations):,} neurons):"]
    for population in network.populations:
        kind = "" if population.kind is ir.NeuronKind.UNSPECIFIED else f" {population.kind.value}"
        head = f"  {population.name}: {population.size} x {population.model.name}{kind}"
        match population.model:
            case ir.NeuronModel() if not built and heterogeneous(population.model):
                lines.append(f"{head}, integration chosen when its parameters are drawn")
            case ir.NeuronModel():
                drawn = neuron_values(population, settings.seed).parameters if built else {}
                integration = integrate(population.model, settings.dt, drawn)
                lines.append(f"{head}, {integration.method.value} integration ({integration.reason})")
                if updates:
                    lines.extend("      " + line for line in str(integration).splitlines())
            case ir.PoissonSource(rate=rate):
                lines.append(f"{head}, rate {_rate(rate)}")
            case ir.SpikeTimes(times=times):
                lines.append(f"{head}, {len(times)} spike(s) given")
    return lines


def _projections(host: HostNetwork) -> list[str]:
    """Each projection with its synapse model, rule, plasticity and drawn synapse count."""
    total = sum(c.n_synapses for c in host.projections)
    lines = [f"projections ({_synapses(total)}; counts exact: drawn from the seed, as every run draws them):"]
    for connectivity in host.projections:
        projection = connectivity.projection
        lines.append(f"  {projection.name}: {projection.synapse.name}, {connection_rule(projection.rule)}"
                     f"{plasticity(projection.synapse)}, {_synapses(connectivity.n_synapses)}")
    return lines


def _expected_projections(network: ir.Network, expected: Estimate, why: str) -> list[str]:
    """Each projection with the synapse count its rule leads one to expect (nothing is drawn)."""
    lines = [f"projections ({_synapses(expected.synapses)}, from the rules; not drawn: {why}):"]
    for projection, count in zip(network.projections, expected.expected):
        lines.append(f"  {projection.name}: {projection.synapse.name}, {connection_rule(projection.rule)}"
                     f"{plasticity(projection.synapse)}, {_synapses(count.count)} ({count.how})")
    return lines


def _stimuli(network: ir.Network) -> list[str]:
    if not network.stimuli:
        return []
    lines = ["stimuli:"]
    for stimulus in network.stimuli:
        target = f"{stimulus.population}{_neurons(stimulus.indices)}"
        lines.append(f"  {target}.{stimulus.variable} += {_waveform(stimulus.waveform)}")
    return lines


def _records(network: ir.Network) -> list[str]:
    lines = ["records:"]
    for record in network.spike_records:
        lines.append(f"  spikes of {record.population}")
    for record in network.state_records:
        lines.append(f"  {record.variable} of {record.population} ({len(record.indices)} neurons)")
    for record in network.synapse_records:
        which = "all synapses" if record.indices is None else f"{len(record.indices)} synapses"
        when = "every step" if record.times is None else f"at {len(record.times)} time(s)"
        lines.append(f"  {record.variable} of {record.projection} ({which}, {when})")
    return lines


def synapse_counts(network: ir.Network, draw: bool = False) -> list[tuple[int, str]]:
    """(count, how it is known) of each projection's synapses: drawn from the seed ("exact")
    where the network has at most `DRAW_AT_MOST` expected synapses and fits the memory
    available, or `draw`; else what its rule leads one to expect (`Expected.how`).

    Raises:
        BrainsimError: the network fails a check, or a drawn value does.
    """
    expected = estimate(network)
    if _not_drawn(expected, memory_limit(None), draw):
        with deep_expressions():
            validate(network)
        return [(e.count, e.how) for e in expected.expected]
    return [(c.n_synapses, "exact") for c in host_network(network).projections]


def _not_drawn(expected: Estimate, limit: MemoryLimit | None, draw: bool) -> str | None:
    """Why a network of this estimate is described without drawing it, or None to draw it."""
    if limit is not None and expected.network > limit.bytes:
        return f"more than {limit.source}"
    if not draw and expected.synapses > DRAW_AT_MOST:
        return f"more than {DRAW_AT_MOST:,} synapses, which `brainsim info --draw` draws"
    return None


def host_network(network: ir.Network) -> HostNetwork:
    """`network` checked and built on the host from its seed, as every backend starts from it
    (connectivity drawn, so its synapse counts are exact), with nothing compiled.

    Raises:
        BrainsimError: the network fails a check (`brainsim.validate`), or a drawn value does.
    """
    with deep_expressions():
        validate(network)
        return build(network)


def memory(host: HostNetwork, dtype: str = "float64") -> NetworkMemory:
    """The bytes of the arrays a backend holds for `host` in `dtype`, measured on the
    arrays the step is built with (numpy's array module; nothing compiled)."""
    with deep_expressions():
        program = compile_step(host, NumpyNumerics(dtype), NumpyEvents())
    return network_memory(host, program.arrays, program.carry)


def _memory(host: HostNetwork, dtype: str) -> list[str]:
    """The lines of the memory section: each kind of array, the recordings of a run of the
    model's duration, and the total."""
    held = memory(host, dtype)
    settings = host.network.simulation
    recorded = recording_bytes(host, settings.n_steps, dtype)
    count = sum(m.synapses for m in held.synapses)
    per_synapse = f"  ({held.synapse_bytes / count:.1f} B per synapse)" if count else ""
    spikes = f"  (+ {SPIKE_BYTES} B per recorded spike)" if host.network.spike_records else ""
    rows = [
        ("neuron state", held.state, ""),
        ("synapses", held.synapse_bytes, per_synapse),
        ("ring buffers", held.buffers, "  (synaptic events in flight)"),
        ("other", held.other, "  (parameters, stimulus tables, spike sources, record indices)"),
        ("recordings", recorded, spikes),
        ("total", held.total + recorded, ""),
    ]
    lines = [f"memory in {dtype} (every array a backend holds; recordings for {settings.duration * 1e3:g} ms):"]
    lines.extend(f"  {name:<14}{format_bytes(size):>10}{note}" for name, size, note in rows)
    return lines


def _estimated_memory(expected: Estimate, why: str) -> list[str]:
    """The memory section of a network not built: the estimate by part (`brainsim.backends.estimate`)."""
    lines = [f"memory in {expected.dtype}, estimated from the rules, peaks while building (recordings for "
             f"{expected.n_steps:,} steps; not built: {why}):"]
    rows = [*expected.parts(), ("total", expected.total)]
    lines.extend(f"  {name:<16}{format_bytes(size):>10}" for name, size in rows)
    return lines


def _synapses(count: int) -> str:
    return f"{count:,} synapse" + ("" if count == 1 else "s")


def _neurons(indices: tuple[int, ...] | None) -> str:
    """A stimulus's neurons as a selection is written: "" (all), "[3]", "[0:5]", or "[1, 4, 9]"."""
    match indices:
        case None:
            return ""
        case (index,):
            return f"[{index}]"
        case (first, *_, last) if indices == tuple(range(first, last + 1)):
            return f"[{first}:{last + 1}]"
    return f"[{', '.join(map(str, indices))}]"


def _rate(rate: ir.Initializer | ir.Expr) -> str:
    match rate:
        case ir.Constant(value):
            return f"{value:g} Hz"
        case ir.Uniform(low, high):
            return f"uniform({low:g} Hz, {high:g} Hz) per neuron"
        case ir.Values(values):
            return f"one per neuron, {min(values):g} to {max(values):g} Hz"
    return f"{format_expr(rate)} (Hz, an expression of t)"


def _waveform(waveform: ir.Waveform) -> str:
    match waveform:
        case ir.ConstantCurrent(amplitude=amplitude):
            return f"constant {amplitude:g}"
        case ir.PulseTrain(period=period, width=width, amplitude=amplitude, start=start, stop=stop):
            until = "the end of the run" if stop == float("inf") else f"{stop * 1e3:g} ms"
            return (f"pulses of {amplitude:g} for {width * 1e3:g} ms every {period * 1e3:g} ms "
                    f"from {start * 1e3:g} ms to {until}")
        case ir.StepCurrent(times=times):
            return f"steps at {len(times)} time(s) from {times[0] * 1e3:g} ms"
        case ir.Sinusoid(amplitude=amplitude, frequency=frequency, offset=offset):
            return f"sinusoid {offset:g} + {amplitude:g} sin(2 pi {frequency:g} Hz t + phase)"
        case ir.TimeSeries(times=times, interpolation=interpolation):
            return f"{len(times)} samples, {interpolation.value} interpolation"
        case ir.OrnsteinUhlenbeck(mean=mean, std=std, tau=tau):
            return f"Ornstein-Uhlenbeck noise, mean {mean:g}, std {std:g}, tau {tau * 1e3:g} ms"
    raise TypeError(f"not a waveform: {waveform!r}")

