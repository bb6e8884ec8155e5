"""The cortical microcircuit on the jax backend's device (a GPU) in float64 and float32,
against the float64 numpy backend on the host CPU: the real-time factor and the spike agreement.

    python benchmarks/gpu_microcircuit.py                         # full scale, 0.1 s compared, 1 s timed
    python benchmarks/gpu_microcircuit.py --scale 0.05 --timed 0.2 --out gpu_microcircuit.txt
    python benchmarks/gpu_microcircuit.py --variants float64 float32 float32-scatter

The numpy backend first runs `--compared` model seconds on the host CPU: the reference.
For each variant (a dtype, and optionally `-scatter` for XLA's atomic scatter-add in
place of the ordered sum that is the GPU's default), the model is compiled and run for
`--compared` model seconds with its spikes recorded, which are compared with the
reference: bit for bit (`brainsim.compare_results`), and per population as counts and as
the share of (step, neuron) spikes both runs have. It then runs `--timed` model seconds
more: that run's wall time over its model time is the real-time factor (below 1 is
faster than real time; GeNN reports 0.27 on an RTX 4090 for this model, NEST GPU 0.39).

The network is drawn once, on the host, and every variant starts from that one draw
(it does not depend on the backend or the dtype); at full scale drawing takes minutes.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
import traceback
from contextlib import contextmanager
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from brainsim.backends.jax_backend import configure  # noqa: E402  (before jax starts)

PROBLEM = configure()

import jax  # noqa: E402

import brainsim  # noqa: E402
from brainsim import microcircuit  # noqa: E402
from brainsim.backends import simulation as simulation_module  # noqa: E402
from brainsim.errors import BrainsimError  # noqa: E402
from brainsim.results import compare_results  # noqa: E402
from benchmarks.gpu_check import device_name, teed  # noqa: E402

MODEL = ROOT / "models" / "microcircuit.brain"


@contextmanager
def one_draw():
    """Within: a network's host arrays are built once and reused by every simulation of it.

    `Simulation.__init__` builds from the IR each time (a user compiles a model once);
    here one model compiles on up to four backends and dtypes, and at full scale each
    build takes minutes. The draw is the same each time, as it comes from the seed."""
    build, built = simulation_module.build, {}

    def build_once(network):
        if id(network) not in built:
            built[id(network)] = build(network)
        return built[id(network)]

    simulation_module.build = build_once
    try:
        yield
    finally:
        simulation_module.build = build


def spike_agreement(reference, other) -> list[tuple[str, int, int, int]]:
    """Per population: (name, reference spikes, other spikes, spikes in both: the same step and neuron)."""
    def pairs(spikes) -> set:
        return set(zip(np.rint(spikes.times / reference.dt).astype(np.int64).tolist(), spikes.indices.tolist()))

    return [(name, len(spikes.times), len(other.spikes[name].times), len(pairs(spikes) & pairs(other.spikes[name])))
            for name, spikes in reference.spikes.items()]


def run_variant(model, reference, variant: str, compared: float, timed: float, write):
    """Compile `variant` on jax's default device, run `compared` s recorded and compare it
    with `reference`, then run `timed` s more; each stage is reported as it ends (a slow
    one shows where the time goes, and a run cut short keeps what it measured)."""
    dtype, _, summation = variant.partition("-")
    # Chunks of the compared run's length: the timed run reuses its program, compiled once.
    options = {"chunk_steps": round(compared / model.network.simulation.dt)} | ({"summation": summation} if summation else {})
    began = time.perf_counter()
    simulation = model.compile(backend="jax", dtype=dtype, **options)
    write(f"{variant}: arrays on the device in {time.perf_counter() - began:.1f} s")
    first = simulation.run(compared)
    write(f"{variant}: {compared:g} s recorded in {first.run_seconds:.2f} s, {first.compile_seconds:.1f} s compiling")
    report(reference, variant, first, write)
    later = simulation.run(timed)
    spikes = sum(len(s.times) for s in later.spikes.values())
    write(f"{variant}: {timed:g} s more in {later.run_seconds:.2f} s ({spikes} spikes, {later.compile_seconds:.1f} s "
          f"compiling): real-time factor {later.run_seconds / timed:.3f}")


def report(reference, variant: str, results, write) -> None:
    """A variant's spikes beside the numpy reference's: the verdict, then per population
    the counts and the share of spikes in both runs (of the larger count)."""
    comparison = compare_results(reference, results)
    first = comparison.first_difference
    if all(p.spikes_identical for p in comparison.populations):
        verdict = "bit-identical spikes"
    else:
        verdict = "spikes differ" + ("" if first is None else f" from step {first} (t = {(first + 1) * reference.dt * 1e3:.1f} ms)")
    write(f"{variant} against numpy float64 on the CPU, first {reference.duration * 1e3:g} ms: {verdict}")
    rows = spike_agreement(reference, results)
    rows.append(("all", *(sum(row[i] for row in rows) for i in (1, 2, 3))))
    for name, ours, theirs, both in rows:
        share = both / max(ours, theirs) if max(ours, theirs) else 1.0
        write(f"  {name:<8} numpy {ours:>7}  {variant} {theirs:>7}  same (step, neuron) {share:7.2%}")


def model_seconds(text: str) -> float:
    """An argparse type: a positive number of model seconds."""
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"model seconds are a positive number, not {text}")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="scale of neurons and in-degrees, in (0, 1]")
    parser.add_argument("--compared", type=model_seconds, default=0.1, help="model seconds compared with numpy")
    parser.add_argument("--timed", type=model_seconds, default=1.0, help="model seconds more, timed for the real-time factor")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--variants", nargs="+", default=["float64", "float32"],
                        help="dtype[-summation] per run, e.g. float64 float32 float32-scatter")
    parser.add_argument("--out", type=Path, default=Path("gpu_microcircuit.txt"))
    args = parser.parse_args()
    try:  # a scale out of range, a seed the model cannot take: the message, not a traceback
        model = brainsim.load(MODEL).with_values(microcircuit.values(args.scale, args.scale) | {"seed": args.seed})
    except BrainsimError as error:
        parser.error(str(error))
    model = brainsim.Model(dataclasses.replace(model.network, state_records=(), synapse_records=()))
    write = teed(args.out, "a")
    write(f"microcircuit at scale {args.scale}, seed {args.seed}, on {device_name()}, "
          f"jax {jax.__version__}; exactness: {PROBLEM or 'bit-identical to numpy promised'}")
    with one_draw():
        began = time.perf_counter()
        simulation_module.build(model.network)
        write(f"drawn on the host in {time.perf_counter() - began:.1f} s")
        reference = model.compile(backend="numpy").run(args.compared)
        write(f"numpy float64 on the CPU: {args.compared:g} s in {reference.run_seconds:.2f} s")
        for variant in args.variants:
            try:
                run_variant(model, reference, variant, args.compared, args.timed, write)
            except BrainsimError as error:  # an unknown dtype or summation, a network the device cannot hold
                write(f"{variant}: refused: {error}")
            except Exception:  # XLA's own failures (its error types vary by version): report, go on
                write(f"{variant}: failed\n{traceback.format_exc()}")


if __name__ == "__main__":
    main()
