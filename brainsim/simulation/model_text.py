"""A `BrainSimulation` written as a `.brain` model, with its synapses in .npz edge lists beside it.

The same writer makes the model the engine steps (without stimuli: the
injections are handed to it step by step) and the file `to_brain` leaves (with
them, as `steps(...)` stimuli, and with records of every spike and voltage), so
that both are one model: lowered by the same parser, with the same numbers.

    simulation { dt = 0.1 ms  duration = 150.0 ms }
    import seed from std
    region Retina { excitatory exc = SeedNeuron[10] }
    region Plasticity { gate = LearningGate[1] }
    connect Retina.exc -> V1.exc with GatedHebbian { edges = "net.Retina.exc-V1.exc.npz"  modulator = Plasticity.gate }
    stimulus Retina.exc { I_ext += steps(times = [0.0 ms, 10.0 ms], amplitudes = [25.0 nA, 0.0 nA]) }

Weights are written in amperes and delays in seconds as the language reads `2.0 nA`
and `1.0 ms` (`brainsim.units.to_si`), so an edge list holds the model's own bits.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from brainsim.simulation.action_potential import NeuronType
from brainsim.simulation.drive import SteppedCurrent, nanoamperes_in_si
from brainsim.simulation.wiring import CONTROL_REGION, Layout, Projection
from brainsim.units import to_si

GATE = f"{CONTROL_REGION}.gate"
_SYNAPSE = {NeuronType.EXCITATORY: "GatedHebbian", NeuronType.INHIBITORY: "InhibitoryGatedHebbian"}


def write_model(
    path: Path,
    layout: Layout,
    projections: list[Projection],
    dt_ms: float,
    n_steps: int,
    currents: list[SteppedCurrent] = (),
    learning: list[tuple[int, bool]] = (),
    records: bool = False,
) -> Path:
    """Write the model to `path` (a `.brain` file) and its edge lists beside it; returns `path`.

    `currents` and `learning` (the steps where learning was switched on or off) become
    stimuli; `records` adds `record spikes` and `record v` of every region.
    """
    populations = layout.populations
    lines = [
        "# Written by brainsim's BrainSimulation (the seed's object API): the same network as a model.",
        f"simulation {{ dt = {dt_ms!r} ms  duration = {_time(n_steps, dt_ms)} }}",
        "import seed from std",
        "",
    ]
    for region in layout.regions:
        members = "  ".join(f"{p.kind.value} {p.name.split('.')[1]} = SeedNeuron[{len(p.ids)}]"
                            for p in populations if p.region == region)
        lines.append(f"region {region} {{ {members} }}")
    if projections:
        lines.append(f"region {CONTROL_REGION} {{ gate = LearningGate[1] }}   # learning on (1) or off (0), step by step")
    lines.append("")
    for projection in projections:
        source, target = populations[projection.source], populations[projection.target]
        edges = path.with_name(f"{path.stem}.{source.name}-{target.name}.npz")
        _write_edges(edges, projection, dt_ms)
        lines.append(f'connect {source.name} -> {target.name} with {_SYNAPSE[source.kind]} '
                     f'{{ edges = "{edges.name}"  modulator = {GATE} }}')
    for current in currents:
        population = populations[current.population]
        selection = "" if (current.start, current.stop) == (0, len(population.ids)) else f"[{current.start}:{current.stop}]"
        lines.append(f"stimulus {population.name}{selection} {{ I_ext += {_steps(current.steps, current.amplitudes_na, 'nA', dt_ms)} }}")
    if learning:
        steps, enabled = zip(*learning)
        lines.append(f"stimulus {GATE} {{ enabled += {_steps(steps, [float(e) for e in enabled], '', dt_ms)} }}")
    if records:
        regions = ", ".join(layout.regions)
        lines += [f"record spikes of {regions}", f"record v of {regions}"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _time(steps: int, dt_ms: float) -> str:
    """`steps` steps as a time to read: 6.1 ms, not 6.1000000000000005 ms (the engine rounds
    every time to whole steps, so 12 digits are exact for any run shorter than 10^10 steps)."""
    return f"{steps * dt_ms:.12g} ms"


def _steps(steps, amplitudes, unit: str, dt_ms: float) -> str:
    times = ", ".join(_time(step, dt_ms) for step in steps)
    values = ", ".join(f"{a!r}{' ' + unit if unit else ''}" for a in amplitudes)
    return f"steps(times = [{times}], amplitudes = [{values}])"


def _write_edges(path: Path, projection: Projection, dt_ms: float) -> None:
    delays = {int(k): to_si(repr(int(k) * dt_ms), "ms")[0] for k in np.unique(projection.delay_steps)}
    np.savez(
        path,
        pre=projection.pre,
        post=projection.post,
        **{"weight [A]": np.array([nanoamperes_in_si(w) for w in projection.weight_na]),
           "delay [s]": np.array([delays[int(k)] for k in projection.delay_steps])},
    )
