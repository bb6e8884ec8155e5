"""CUBA on the jax backend with and without the C loops' row prefetch and 512-bit vectors
(`brainsim.backends.cbuild`), each run in a fresh process, interleaved:

    python benchmarks/prefetch_vector_width.py [--sizes 64000 256000] [--repeats 2]

`before` builds the loops without `_prefetches` and without `WIDEST`'s flag, as they were
built before both were added; the spike counts of the two must be the same.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def one_run(n: int, before: bool) -> None:
    """Run CUBA-n for 1 s and print its run time and spike count."""
    sys.path.insert(0, str(HERE / "peers"))
    from brainsim.backends import cbuild

    if before:
        cbuild._prefetches = lambda arrays, rows: []
        cbuild.FLAGS = tuple(flag for flag in cbuild.FLAGS if flag not in cbuild.WIDEST)
    from bench_brainsim import load

    os.environ["BRAINSIM_C_CACHE"] = tempfile.mkdtemp(prefix="brainsim-prefetch-")
    results = load("cuba", n).compile(backend="jax", compiled_updates="auto").run(1.0)
    spikes = int(sum(counts.sum() for counts in results.spike_counts.values()))
    print(f"{'before' if before else 'after':6}  N={n:>7}  run {results.run_seconds:.3f} s  spikes {spikes}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[64000, 256000])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--one", nargs=2, metavar=("N", "VARIANT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        one_run(int(args.one[0]), args.one[1] == "before")
        return
    for _ in range(args.repeats):
        for n in args.sizes:
            for variant in ("before", "after"):
                subprocess.run([sys.executable, __file__, "--one", str(n), variant], check=True)


if __name__ == "__main__":
    main()
