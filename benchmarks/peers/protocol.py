"""What every bench_*.py script shares (brainsim's, Brian2's, NEST's): the command line, the
record it prints as its last line of JSON, and the statistics in it. It needs only the
standard library and numpy, as it runs in the peers' environment too, where brainsim is not
installed.

    python benchmarks/peers/bench_<simulator>.py --model MODEL [--n N] [--scale-n X] [--scale-k Y]
        [--duration SECONDS] [--seed K] [--target TARGET] [--record]

The record: simulator, version, target, model, n (neurons, spike sources not counted),
synapses, duration_s, dt_s, seed, threads, import_s (loading the simulator), build_s
(making the network: code generation and compilation included), run_s (the simulation
loop alone), rates_hz and cv_isi per population (brainsim's names; cv_isi only with
--record), peak_rss_mb (this process and its children).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import sys
from pathlib import Path

MODELS = ("brunel", "cobahh", "cuba", "microcircuit", "song2000")
KEYS = ("simulator", "version", "target", "model", "n", "synapses", "duration_s", "dt_s", "seed", "threads",
        "import_s", "build_s", "run_s", "rates_hz", "cv_isi", "peak_rss_mb")
CORE_VARIABLE = "BRAINSIM_BENCH_CORE"
"""Set by the suite (benchmarks/suite/running.py): the one CPU this run may use."""
CUBA_FAN_IN = 80
"""Each CUBA neuron receives 80 synapses on average at every N: p = 80 / N (Brette et al. 2007)."""


MICROCIRCUIT = Path(__file__).resolve().parent.parent.parent / "brainsim" / "microcircuit.py"


def microcircuit_tables():
    """brainsim/microcircuit.py, loaded by path: the microcircuit's numbers without brainsim
    (the peers' environment has none), so that no peer script copies them."""
    spec = importlib.util.spec_from_file_location("microcircuit", MICROCIRCUIT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def parser(description: str, targets: tuple[str, ...]) -> argparse.ArgumentParser:
    """The protocol's command line; `targets` are the simulator's (none for NEST)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--model", choices=MODELS, required=True)
    parser.add_argument("--n", type=int, help="neurons (CUBA only; default 4000)")
    parser.add_argument("--scale-n", type=float, default=1.0, help="fraction of the microcircuit's neurons")
    parser.add_argument("--scale-k", type=float, default=1.0, help="fraction of the microcircuit's in-degrees")
    parser.add_argument("--duration", type=float, default=1.0, help="simulated seconds")
    parser.add_argument("--seed", type=int, default=1)
    if targets:
        parser.add_argument("--target", choices=targets, default=targets[0])
    parser.add_argument("--record", action="store_true", help="record spikes (and compute the CV of the ISIs)")
    return parser


def checked(args: argparse.Namespace) -> argparse.Namespace:
    """`args`, or exit with status 2 and one line on what is wrong with a value."""
    problems = []
    if args.n is not None and args.n < 10:
        problems.append(f"--n is a number of neurons of at least 10, not {args.n}")
    if not args.duration > 0 or args.duration != args.duration:
        problems.append(f"--duration is a positive number of seconds, not {args.duration}")
    for name in ("scale_n", "scale_k"):
        if not 0 < getattr(args, name) <= 1:
            problems.append(f"--{name.replace('_', '-')} is a fraction in (0, 1], not {getattr(args, name)}")
    if args.seed < 0:
        problems.append(f"--seed is a non-negative integer, not {args.seed}")
    if problems:
        print("error: " + "; ".join(problems), file=sys.stderr)
        sys.exit(2)
    return args


def cv_isi(times, indices, size: int) -> float | None:
    """The mean coefficient of variation of the inter-spike intervals over the neurons
    (indices 0 to size - 1) with at least three spikes; None when no neuron has."""
    import numpy as np

    times, indices = np.asarray(times, dtype=float), np.asarray(indices, dtype=np.int64)
    order = np.lexsort((times, indices))
    times, indices = times[order], indices[order]
    starts = np.searchsorted(indices, np.arange(size + 1))
    cvs = []
    for neuron in range(size):
        spikes = times[starts[neuron]:starts[neuron + 1]]
        if spikes.size >= 3:
            intervals = np.diff(spikes)
            cvs.append(intervals.std() / intervals.mean())
    return float(np.mean(cvs)) if cvs else None


def peak_rss_mb() -> float:
    """The largest resident size of this process or of one of its children (a compiler), in MB."""
    return max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
               resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024


def record(**fields) -> dict:
    """The protocol's record, every key in `KEYS` present (a missing one is a bug in the script)."""
    missing = [key for key in KEYS if key not in fields]
    if missing:
        raise KeyError(f"the record lacks {', '.join(missing)}")
    return fields


def emit(fields: dict) -> None:
    """Print the record as the last line of stdout."""
    print(json.dumps(record(**fields)), flush=True)


def pin_to_core() -> None:
    """Keep this process on the CPU the suite chose, before any simulator starts its threads."""
    core = os.environ.get(CORE_VARIABLE)
    if core is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {int(core)})


pin_to_core()  # on import: every bench script imports this module before its simulator
