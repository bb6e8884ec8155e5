"""Bytes per synapse of the microcircuit: the builder's peak, what stays resident, and the estimate.

    python benchmarks/memory_per_synapse.py 0.05                 # scale_N = 1, scale_K = 0.05 (16.5 M synapses)
    python benchmarks/memory_per_synapse.py 1 --backend jax      # the full network (0.3 billion synapses)

Compiles the network (scale_N = 1, the given scale_K) in a process of its own and prints
the synapse count; the peak resident set of the process (ru_maxrss, what a machine's
memory must hold) less the resident set before compiling, per synapse; and the estimate
(`brainsim.backends.estimate`) that `compile` checks against the memory available. With
--tracemalloc also the peak of Python-tracked allocations (numpy's arrays among them;
slower, and blind to XLA's buffers).
"""

import argparse
import resource
import time
import tracemalloc

import brainsim
from brainsim import microcircuit
from brainsim.backends.estimate import estimate


def rss_peak() -> int:
    """The peak resident set of this process so far, in bytes (Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scale_k", type=float, help="the in-degree scale, in (0, 1]")
    parser.add_argument("--backend", choices=("numpy", "jax"), default="numpy")
    parser.add_argument("--tracemalloc", action="store_true", help="also trace Python allocations")
    args = parser.parse_args()
    model = brainsim.load("models/microcircuit.brain").with_values(microcircuit.values(1.0, args.scale_k))
    expected = estimate(model.network)
    synapses = expected.synapses
    before = rss_peak()
    if args.tracemalloc:
        tracemalloc.start()
    start = time.perf_counter()
    simulation = model.compile(backend=args.backend)
    seconds = time.perf_counter() - start
    line = (f"scale_K={args.scale_k:g} backend={args.backend} synapses={synapses:,} compile={seconds:.0f} s "
            f"peak RSS={(rss_peak() - before) / 1e9:.2f} GB ({(rss_peak() - before) / synapses:.1f} B/synapse) "
            f"estimate={expected.total / 1e9:.2f} GB ({expected.total / synapses:.1f} B/synapse)")
    if args.tracemalloc:
        peak = tracemalloc.get_traced_memory()[1]
        line += f" traced peak={peak / 1e9:.2f} GB ({peak / synapses:.1f} B/synapse)"
    print(line)
    del simulation


if __name__ == "__main__":
    main()
