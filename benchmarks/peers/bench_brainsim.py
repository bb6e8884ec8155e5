"""brainsim's side of the benchmark suite: one model, one backend, one run, one line of JSON.

    python benchmarks/peers/bench_brainsim.py --model cuba --n 64000 --target jax --duration 1 --seed 2

It speaks the protocol the peer scripts speak (bench_brian2.py, bench_nest.py; the harness,
`python -m benchmarks`, runs each in a fresh process): the last line of stdout is a JSON
object with the simulator, the model and its size, `import_s` (importing brainsim),
`build_s` (reading the model and building the network, and compiling its C loops: the
compiled updates the backends run by default, built in a fresh cache each time, as Brian2's
cython target is), `compile_s` (the jax backend's XLA compilation; 0 on numpy), `run_s` (the
simulation loop alone), `rates_hz` and `cv_isi` per population, and `peak_rss_mb`. Targets:
`numpy` and `jax` as users get them (`compiled_updates="auto"`: on here, where a C compiler
is), `numpy-plain` and `jax-plain` without compiled updates.

The models are the files in models/ with the sizes the suite asks for (`model_values`).
Without `--record` the model's spike and state recordings are dropped before compiling
(the community's recipe: no recording while timing); the rates still come, from the spike
counts every run keeps. With `--record` the spikes are recorded and the CV of the
inter-spike intervals is computed too.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from importlib import metadata  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from protocol import CUBA_FAN_IN, checked, cv_isi, emit, parser, peak_rss_mb  # noqa: E402

MODELS = Path(__file__).resolve().parent.parent.parent / "models"
# target -> (backend, options)
TARGETS = {"numpy": ("numpy", {"compiled_updates": "auto"}), "numpy-plain": ("numpy", {"compiled_updates": False}),
           "jax": ("jax", {"compiled_updates": "auto"}), "jax-plain": ("jax", {"compiled_updates": False})}
FILES = {"cuba": "cuba.brain", "cobahh": "cobahh.brain", "brunel": "brunel.brain",
         "song2000": "stdp_song2000.brain", "microcircuit": "microcircuit.brain"}


def model_values(model: str, n: int | None = None, scale_n: float = 1.0, scale_k: float = 1.0,
                 seed: int = 1) -> dict[str, object]:
    """The `Model.with_values` values that make models/<model> the size the suite runs:
    CUBA with `n` neurons, 80 % excitatory, each receiving `CUBA_FAN_IN` synapses on average
    (p = 80 / n, as Brette et al. 2007 scale it); the microcircuit at `scale_n`, `scale_k`
    (brainsim.microcircuit.values); the other models as their files have them."""
    values: dict[str, object] = {"seed": seed}
    if model == "cuba" and n is not None:
        n_exc = n * 4 // 5
        values |= {"Cortex.exc[]": n_exc, "Cortex.inh[]": n - n_exc,
                   "Cortex.exc -> Cortex.p": CUBA_FAN_IN / n, "Cortex.inh -> Cortex.p": CUBA_FAN_IN / n}
    elif model == "microcircuit" and (scale_n, scale_k) != (1.0, 1.0):
        from brainsim import microcircuit

        values |= microcircuit.values(scale_n, scale_k)
    return values


def load(model: str, n: int | None = None, scale_n: float = 1.0, scale_k: float = 1.0, seed: int = 1,
         record: bool = False):
    """models/<model> at the suite's size as a `brainsim.Model`, without its recordings unless `record`
    (and then with only its spike recordings)."""
    import brainsim

    loaded = brainsim.load(MODELS / FILES[model]).with_values(model_values(model, n, scale_n, scale_k, seed))
    kept = loaded.network.spike_records if record else ()
    network = dataclasses.replace(loaded.network, spike_records=kept, state_records=(), synapse_records=())
    return brainsim.Model(network)


def measure(args: argparse.Namespace) -> dict[str, object]:
    """Build and run the model as `args` say; the protocol's record."""
    before = time.perf_counter()
    import brainsim
    from brainsim import ir

    imported = time.perf_counter()
    model = load(args.model, args.n, args.scale_n, args.scale_k, args.seed, args.record)
    backend, options = TARGETS[args.target]
    with tempfile.TemporaryDirectory(prefix="brainsim-bench-") as cache:
        os.environ["BRAINSIM_C_CACHE"] = cache  # compiled every time, not found from an earlier run
        os.environ.pop("BRAINSIM_COMPILED_UPDATES", None)  # "auto" as users have it
        simulation = model.compile(backend=backend, **options)
        built = time.perf_counter()
        if simulation.plain_updates_reason:
            print(f"note: plain updates: {simulation.plain_updates_reason}", file=sys.stderr)
        results = simulation.run(args.duration)
    sizes = {p.name: p.size for p in model.network.populations if isinstance(p.model, ir.NeuronModel)}
    rates = {name: float(results.spike_counts[name].sum()) / (size * results.duration) for name, size in sizes.items()}
    cvs = None
    if args.record:
        cvs = {name: cv_isi(results.spikes[name].times, results.spikes[name].indices, size)
               for name, size in sizes.items() if name in results.spikes}
    return {
        "simulator": "brainsim", "version": metadata.version("brainsim-lang"), "target": args.target, "model": args.model,
        "n": sum(sizes.values()),
        "synapses": sum(m.synapses for m in simulation.synapse_memory()),
        "duration_s": args.duration, "dt_s": model.network.simulation.dt, "seed": args.seed, "threads": 1,
        "import_s": imported - before, "build_s": built - imported, "compile_s": results.compile_seconds,
        "run_s": results.run_seconds, "rates_hz": rates, "cv_isi": cvs, "peak_rss_mb": peak_rss_mb(),
        "process_s": time.perf_counter() - STARTED,
    }


if __name__ == "__main__":
    emit(measure(checked(parser(__doc__.split("\n\n")[0], tuple(TARGETS)).parse_args())))
