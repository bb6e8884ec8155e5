"""The seed's five demonstrations, on brainsim's engine: `python examples/simulation_demo.py`
(or `brainsim demo`).

1. Single neuron: an action potential, -70 -> -55 -> +30 mV, then 2 ms refractory.
2. Nernst potentials: the equilibrium potential of each ion.
3. Synaptic transmission: a presynaptic spike reaches the postsynaptic neuron after the delay.
4. Hebbian learning: co-activity strengthens a synapse (LTP), activity alone weakens it (LTD).
5. Network simulation: a flashing light propagates Retina -> V1 -> Visual_Association.

With matplotlib installed (`pip install brainsim[plot]`), the voltage trace of
demo 1 and the spike raster of demo 5 are drawn into `simulation_demo.png`
(`--plot FILE` to choose the file, `--no-plot` to skip it).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from brain_simulation import (
    ActionPotential, BrainSimulation, IonConcentrations, NeuronType, SimulatedNeuron, Synapse,
)

DT_MS = 0.1


def single_neuron() -> list[float]:
    """Demo 1: one neuron given 15 nA of synaptic input; returns its voltage trace (mV)."""
    print("1. Single neuron: an action potential")
    print(f"   {ActionPotential.get_resting_state()}")
    neuron = SimulatedNeuron(neuron_id=0, neuron_type=NeuronType.EXCITATORY, region="Hippocampus")
    neuron.add_synaptic_input(15.0)
    trace = []
    for _ in range(60):
        spiked = neuron.update(dt_ms=DT_MS)
        trace.append(neuron.voltage_mv)
        if spiked:
            print(f"   spike at {neuron.time_ms:.1f} ms: {neuron.voltage_mv:+.1f} mV "
                  f"(threshold {neuron.threshold_mv:+.0f} mV)")
    lowest_after = min(trace[trace.index(max(trace)):])
    print(f"   peak {max(trace):+.1f} mV, back to {lowest_after:+.1f} mV for {neuron.refractory_period_ms:g} ms "
          f"(the refractory period), then {trace[-1]:+.1f} mV at {neuron.time_ms:.1f} ms")
    return trace


def nernst_potentials() -> None:
    """Demo 2: E_ion = RT/(zF) ln([out]/[in]) for the four ions."""
    print("2. Nernst potentials (37 degrees C)")
    ions = IonConcentrations()
    for ion, name in (("na", "Na+"), ("k", "K+"), ("ca", "Ca2+"), ("cl", "Cl-")):
        print(f"   E_{name:<5} {ions.calculate_nernst_potential(ion):+7.1f} mV")


def synaptic_transmission() -> None:
    """Demo 3: a spike of `pre` at 10 ms arrives at `post` 1 ms later."""
    print("3. Synaptic transmission")
    pre, post = SimulatedNeuron(0, NeuronType.EXCITATORY), SimulatedNeuron(1, NeuronType.EXCITATORY)
    synapse = Synapse(pre, post, initial_weight=8.0, delay_ms=1.0)
    for step in range(250):
        if step == 100:
            pre.add_synaptic_input(15.0)
        pre_spiked = pre.update(dt_ms=DT_MS)
        now = pre.time_ms  # the end of this step, when its spike is stamped
        if delivered := synapse.transmit(current_time_ms=now, pre_spiked=pre_spiked):
            print(f"   {now:.1f} ms: {delivered:g} nA delivered to the postsynaptic neuron")
        if post.update(dt_ms=DT_MS):
            print(f"   {post.time_ms:.1f} ms: the postsynaptic neuron fires")
    print(f"   presynaptic spikes at {', '.join(f'{t:.1f}' for t in pre.spike_times)} ms; "
          f"postsynaptic at {', '.join(f'{t:.1f}' for t in post.spike_times) or 'none'} ms")


def hebbian_learning() -> None:
    """Demo 4: the seed's LTP and LTD on one synapse."""
    print("4. Hebbian learning")
    synapse = Synapse(SimulatedNeuron(0), SimulatedNeuron(1), initial_weight=2.0, delay_ms=1.0)
    for _ in range(10):
        synapse.apply_hebbian_learning(pre_spiked=True, post_spiked=True)
    print(f"   10 co-active steps (LTP):    weight 2.0 -> {synapse.weight:.4f} nA")
    before = synapse.weight
    for _ in range(100):
        synapse.apply_hebbian_learning(pre_spiked=True, post_spiked=False)
    print(f"   100 steps pre only (LTD):   weight {before:.4f} -> {synapse.weight:.4f} nA")


def network_simulation() -> BrainSimulation:
    """Demo 5: the seed's flashing-pattern example, Retina -> V1 -> Visual_Association."""
    print("5. Network simulation: a light flashing 10 ms on, 10 ms off")
    np.random.seed(42)
    sim = BrainSimulation(dt_ms=DT_MS)
    sim.create_simple_network(n_sensory=10, n_processing=20, n_output=5)
    duration_ms = 150.0
    for step in range(int(duration_ms / sim.dt_ms)):
        if int(step * sim.dt_ms / 10.0) % 2 == 0:
            sim.stimulate_region("Retina", current=25.0)
        sim.simulate_step(enable_learning=True)
    stats = sim.get_statistics()
    print(f"   {stats['num_neurons']} neurons, {stats['num_synapses']} synapses, {stats['simulation_time_ms']:.1f} ms")
    for region, numbers in stats["regions"].items():
        print(f"   {region:<19} {numbers['total_spikes']:4d} spikes ({numbers['average_firing_rate_hz']:6.1f} Hz)")
    return sim


def plot(trace: list[float], sim: BrainSimulation, path: Path) -> None:
    """The action potential of demo 1 and the raster of demo 5, side by side, into `path`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    left.plot(np.arange(1, len(trace) + 1) * DT_MS, trace)
    left.axhline(-55.0, linestyle=":", color="grey")
    left.set(title="1. Action potential", xlabel="time (ms)", ylabel="membrane potential (mV)")
    row = 0
    for region, ids in sim.neuron_groups.items():
        times = [(t, row + k) for k, nid in enumerate(ids) for t in sim.get_spike_times(nid)]
        if times:
            right.scatter(*zip(*times), s=4, label=region)
        row += len(ids)
    right.set(title="5. Network: spikes", xlabel="time (ms)", ylabel="neuron")
    right.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plot", type=Path, default=Path("simulation_demo.png"), metavar="FILE",
                        help="where to draw the figures (needs matplotlib; default simulation_demo.png)")
    parser.add_argument("--no-plot", action="store_true", help="print only")
    args = parser.parse_args(argv)
    trace = single_neuron()
    for demo in (nernst_potentials, synaptic_transmission, hebbian_learning):
        print()
        demo()
    print()
    sim = network_simulation()
    if args.no_plot:
        return 0
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("\n(matplotlib is not installed: `pip install brainsim[plot]` draws the figures)")
        return 0
    plot(trace, sim, args.plot)
    print(f"\nfigures: {args.plot}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
