"""The seed's object API on brainsim's engine against a per-object Python implementation, side by side.

    python benchmarks/seed_api_speed.py [--neurons 1000] [--synapses 100000] [--steps 200] [--rounds 3]
                                        [--backends baseline,numpy,jax] [--warmup 300] [--no-example]

Builds one random network twice, with the seed's calls (`add_neuron`,
`connect_neurons`, `stimulate_region`, `simulate_step(enable_learning=True)`):
in benchmarks/seed_objects.py's `SeedNetwork` (one Python object per neuron and
per synapse, the seed's style) and in `brain_simulation.BrainSimulation` on
each brainsim backend asked for. Weights and delays are drawn once from a numpy
Generator with a fixed seed; a share of the neurons (region Input) gets a
constant current in every step, the rest (Cortex) only synaptic input. Every
neuron is excitatory and every weight >= 0, as in the seed, so the network has
no inhibition to hold it: its weights (uniform in [0, 0.1] nA) stay well below
the point, near 0.18 nA, where the recurrent excitation ignites and every
neuron fires at hundreds of Hz. So Input fires at tens of Hz, and Cortex, which
only synapses reach, stays below threshold almost always.

The implementations then step in turn, round after round (on a shared machine
timings drift by tens of percent over minutes, so only interleaved runs
compare), after 300 untimed steps (30 ms: any compilation, and Input's first
spikes, which come after 28 ms from rest at 1.6 nA). At 100 000 synapses the
baseline takes about 0.06 s a step, so the default run takes about a minute. It prints
seconds per step, the baseline's time over each one's (the median of the
per-round ratios), and their spikes: the two integrate differently (forward
Euler here, the engine's own method there), so the counts agree in order, not
spike for spike.

Then, unless --no-example, the seed's own example (its flashing pattern:
create_simple_network(10, 20, 5), 150 ms, Retina stimulated in every other
10 ms) is timed in the seed's API, and again as the `.brain` file that
`to_brain` writes, loaded and run by brainsim.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import seed_objects  # noqa: E402

STIMULATED = "Input"
UNSTIMULATED = "Cortex"


def draw_network(neurons: int, synapses: int, seed: int) -> tuple[np.ndarray, ...]:
    """(pre, post, weight nA, delay ms) of `synapses` distinct connections, no neuron onto itself."""
    rng = np.random.default_rng(seed)
    flat = rng.choice(neurons * (neurons - 1), size=synapses, replace=False)
    pre, post = np.divmod(np.sort(flat), neurons - 1)
    post += post >= pre  # skip the diagonal
    weight = rng.uniform(0.0, 0.1, size=synapses)
    delay = rng.integers(10, 51, size=synapses) / 10  # 1.0 to 5.0 ms, the seed's "typically 1-5 ms"
    return pre, post, weight, delay


def build(sim, excitatory, network: tuple[np.ndarray, ...], neurons: int, stimulated: int):
    """Add the neurons (the first `stimulated` to region Input) and the synapses to `sim`; returns it."""
    for neuron_id in range(neurons):
        sim.add_neuron(neuron_id, excitatory, region=STIMULATED if neuron_id < stimulated else UNSTIMULATED)
    for pre, post, weight, delay in zip(*(a.tolist() for a in network)):
        sim.connect_neurons(pre_id=pre, post_id=post, weight=weight, delay_ms=delay)
    return sim


def step(sim, steps: int, current: float) -> dict[str, int]:
    """`steps` steps with `current` nA into Input in each, learning on; spikes per region."""
    totals = {STIMULATED: 0, UNSTIMULATED: 0}
    for _ in range(steps):
        sim.stimulate_region(STIMULATED, current=current)
        for region, count in sim.simulate_step(enable_learning=True).items():
            totals[region] += count
    return totals


def simulations(args) -> dict[str, object]:
    """One built simulation per backend asked for ("baseline" is seed_objects.SeedNetwork)."""
    network = draw_network(args.neurons, args.synapses, args.seed)
    stimulated = round(args.stimulated * args.neurons)
    built = {}
    for backend in args.backends.split(","):
        start = time.perf_counter()
        if backend == "baseline":
            sim = build(seed_objects.SeedNetwork(dt_ms=0.1), seed_objects.NeuronType.EXCITATORY,
                        network, args.neurons, stimulated)
        else:
            from brain_simulation import BrainSimulation, NeuronType

            sim = build(BrainSimulation(dt_ms=0.1, backend=backend), NeuronType.EXCITATORY,
                        network, args.neurons, stimulated)
        print(f"{backend:8s} built in {time.perf_counter() - start:.2f} s")
        built[backend] = sim
    return built


def compare(args) -> None:
    """Step every simulation in interleaved rounds and print the table."""
    built = simulations(args)
    for sim in built.values():
        step(sim, args.warmup, args.current)  # compilation and first-call costs, untimed
    seconds = {backend: [] for backend in built}
    spikes = {backend: {STIMULATED: 0, UNSTIMULATED: 0} for backend in built}
    for _ in range(args.rounds):
        for backend, sim in built.items():
            start = time.perf_counter()
            counts = step(sim, args.steps, args.current)
            seconds[backend].append((time.perf_counter() - start) / args.steps)
            for region, count in counts.items():
                spikes[backend][region] += count
    simulated_s = args.rounds * args.steps * 0.1e-3
    stimulated = round(args.stimulated * args.neurons)
    print(f"\n{args.neurons} neurons, {args.synapses} synapses, {args.rounds} rounds of {args.steps} steps "
          f"(dt 0.1 ms, {args.current} nA into {stimulated} neurons), learning on")
    print(f"{'':10s} {'s / step':>10s} {'baseline / it':>14s} {'spikes':>8s} {'Input Hz':>9s} {'Cortex Hz':>10s}")
    for backend in built:
        ratio = ("" if "baseline" not in seconds else
                 f"{statistics.median(b / s for b, s in zip(seconds['baseline'], seconds[backend])):.1f}")
        rates = [spikes[backend][STIMULATED] / max(stimulated, 1) / simulated_s,
                 spikes[backend][UNSTIMULATED] / max(args.neurons - stimulated, 1) / simulated_s]
        print(f"{backend:10s} {statistics.median(seconds[backend]):10.2e} {ratio:>14s} "
              f"{sum(spikes[backend].values()):8d} {rates[0]:9.1f} {rates[1]:10.1f}")


def seed_example(backend: str) -> None:
    """The seed's example network, verbatim in the seed's API, then as its `.brain` file; both timed."""
    import brainsim
    from brain_simulation import BrainSimulation

    np.random.seed(42)
    sim = BrainSimulation(dt_ms=0.1, backend=backend)
    sim.create_simple_network(n_sensory=10, n_processing=20, n_output=5)
    duration_ms = 150.0
    start = time.perf_counter()
    for n in range(int(duration_ms / sim.dt_ms)):
        if int(n * sim.dt_ms / 10.0) % 2 == 0:  # flash on / off every 10 ms
            sim.stimulate_region("Retina", current=25.0)
        sim.simulate_step(enable_learning=True)
    seed_seconds = time.perf_counter() - start
    total = sim.get_statistics()["total_spikes"]
    print(f"\nthe seed's example on {backend}: seed API {seed_seconds:.3f} s for 150 ms, {total} spikes")
    with tempfile.TemporaryDirectory() as folder:
        path = sim.to_brain(Path(folder) / "seed_example.brain")
        start = time.perf_counter()
        results = brainsim.load(path).compile(backend=backend).run()
        brain_seconds = time.perf_counter() - start
    spikes = sum(int(counts.sum()) for counts in results.spike_counts.values())
    print(f"  as a .brain file: load + compile + run {brain_seconds:.3f} s "
          f"(compile {results.compile_seconds:.3f} s, run {results.run_seconds:.3f} s), {spikes} spikes")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--neurons", type=int, default=1000)
    parser.add_argument("--synapses", type=int, default=100_000)
    parser.add_argument("--steps", type=int, default=200, help="steps per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=300,
                        help="untimed steps before the rounds: compilation, and 30 ms for Input to start firing")
    parser.add_argument("--backends", default="baseline,numpy",
                        help="comma-separated: baseline (benchmarks/seed_objects.py), numpy, jax")
    parser.add_argument("--stimulated", type=float, default=0.2, help="share of the neurons in region Input")
    parser.add_argument("--current", type=float, default=1.6, help="nA into each Input neuron in every step")
    parser.add_argument("--seed", type=int, default=8, help="of the numpy Generator that draws the network")
    parser.add_argument("--no-example", action="store_true", help="skip the seed's example network")
    args = parser.parse_args()
    compare(args)
    if not args.no_example:
        for backend in args.backends.split(","):
            if backend != "baseline":
                seed_example(backend)


if __name__ == "__main__":
    main()
