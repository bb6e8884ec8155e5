"""`python -m benchmarks`: run the suite and write docs/benchmarks.md.

    python -m benchmarks                      # issue 12's sizes, 3 seeds: hours on 2 cores
    python -m benchmarks --suite quick        # the same models small and short: minutes
    python -m benchmarks --only cuba --simulators brainsim-jax brian2-cpp_standalone
    python -m benchmarks --report-from benchmarks/results/2026-12-03T07-00.jsonl   # the report again

Every run goes to a JSON-lines file under benchmarks/results/ as it ends, so an interrupted
suite (Ctrl-C) still writes the report of what it ran. A case whose network would not fit in
memory (brainsim's estimate, before anything is allocated) is refused with the estimate.
Exit status: 0 done, 2 a usage error or no peers' environment, 3 every case refused, 130
interrupted (the report written all the same).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

from benchmarks.suite import cases, machine, peers, report, running

ROOT = Path(__file__).resolve().parent.parent.parent
RESULTS = ROOT / "benchmarks" / "results"


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("--suite", choices=sorted(cases.SUITES), default="full")
    parser.add_argument("--only", nargs="+", choices=sorted(cases.NAMES), metavar="MODEL",
                        help=f"run only these models ({', '.join(sorted(cases.NAMES))})")
    keys = [s.key for s in cases.SIMULATORS]
    parser.add_argument("--simulators", nargs="+", choices=keys, metavar="SIMULATOR",
                        help=f"run only these ({', '.join(keys)})")
    parser.add_argument("--cuba-sizes", nargs="+", type=positive, metavar="N",
                        help="run CUBA at these numbers of neurons instead of the suite's")
    parser.add_argument("--microcircuit-scale", nargs=2, type=fraction, metavar=("SCALE_N", "SCALE_K"),
                        help="run the microcircuit with these fractions of its neurons and in-degrees")
    parser.add_argument("--seeds", type=positive, default=3, help="timed runs per simulator and case (seeds 1..N)")
    parser.add_argument("--no-peers", action="store_true", help="brainsim alone, without Brian2 and NEST")
    parser.add_argument("--peer-python", type=Path, help="a Python with brian2 and nest-simulator "
                        "(default: a venv under ~/.cache/brainsim-bench, made from benchmarks/peers/requirements.txt)")
    parser.add_argument("--max-memory", help="refuse cases whose network would take more (e.g. 16GB; "
                        "default: the memory available)")
    parser.add_argument("--timeout", type=positive, default=3600, help="seconds one run may take")
    parser.add_argument("--core", type=int, default=0, help="the CPU every run is pinned to")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md", help="the report")
    parser.add_argument("--report-from", type=Path, help="write the report from an earlier run's results file")
    return parser.parse_args(argv)


def positive(text: str) -> int:
    """An integer of at least 1, for argparse."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a whole number of at least 1, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"a whole number of at least 1, not {text!r}")
    return value


def fraction(text: str) -> float:
    """A number in (0, 1], for argparse."""
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"a fraction in (0, 1], not {text!r}")
    return value


def sized(suite: list[cases.Case], args: argparse.Namespace) -> list[cases.Case]:
    """The suite's cases with the CUBA sizes and the microcircuit's scale the options give."""
    resized = []
    for case in suite:
        if case.model == "cuba" and args.cuba_sizes:
            if case.n == min(c.n for c in suite if c.model == "cuba"):  # one case per size asked for
                resized += [replace(case, n=n) for n in args.cuba_sizes]
        elif case.model == "microcircuit" and args.microcircuit_scale:
            resized.append(replace(case, scale_n=args.microcircuit_scale[0], scale_k=args.microcircuit_scale[1]))
        else:
            resized.append(case)
    return resized


def selected(args: argparse.Namespace) -> list[cases.Case]:
    """The suite's cases at the sizes asked for, only the chosen models and simulators (peers
    dropped with --no-peers)."""
    chosen = []
    for case in sized(list(cases.SUITES[args.suite]()), args):
        if args.only and case.model not in args.only:
            continue
        simulators = tuple(s for s in case.simulators if (not args.simulators or s.key in args.simulators)
                           and not (args.no_peers and s.peer))
        if simulators:
            chosen.append(replace(case, simulators=simulators))
    return chosen


def refusal(case: cases.Case, max_memory: str | None) -> str | None:
    """Why `case` would not fit (brainsim's estimate of its network against the limit), None if it fits."""
    from benchmarks.peers import bench_brainsim
    from brainsim import resources
    from brainsim.backends.estimate import estimate
    from brainsim.errors import ResourceError

    model = bench_brainsim.load(case.model, case.n, case.scale_n, case.scale_k)
    try:
        resources.refuse_network(estimate(model.network), resources.memory_limit(max_memory))
    except ResourceError as error:
        return str(error)
    return None


def run_suite(args: argparse.Namespace, chosen: list[cases.Case], peer_python: str | None, results: Path) -> list:
    """Every run of every chosen case, appended to `results` as it ends; stops at Ctrl-C with those done."""
    runs: list[running.Run] = []
    results.parent.mkdir(parents=True, exist_ok=True)
    with results.open("a") as out:
        def once(case, simulator, seed, recorded):
            python = peer_python if simulator.peer else sys.executable
            run = running.run(case, simulator, python, seed, recorded, args.timeout, args.core)
            runs.append(run)
            out.write(run.to_json() + "\n")
            out.flush()
            outcome = run.error or (f"run {run.result['run_s']:.3g} s, build {run.result['build_s']:.3g} s, "
                                    f"process {run.wall_s:.3g} s")
            print(f"  {simulator.label:24s} seed {seed}{' recorded' if recorded else '         '}  {outcome}",
                  flush=True)

        try:
            for case in chosen:
                print(f"{case.label}, {case.duration:g} s simulated", flush=True)
                why = refusal(case, args.max_memory)
                if why is not None:
                    print(f"  refused: {why}", flush=True)
                    for simulator in case.simulators:
                        refused = running.Run(case.label, simulator.label, 0, False, 0.0, error="refused: " + why)
                        runs.append(refused)
                        out.write(refused.to_json() + "\n")
                    continue
                for simulator in case.simulators:
                    once(case, simulator, 1, True)
                for seed in range(1, args.seeds + 1):  # the order rotates, so no simulator always goes first
                    k = (seed - 1) % len(case.simulators)
                    for simulator in case.simulators[k:] + case.simulators[:k]:
                        once(case, simulator, seed, False)
        except KeyboardInterrupt:
            print("interrupted: writing the report of the runs done", file=sys.stderr)
            raise
    return runs


def write_report(runs: list, command: str, out: Path, quick: bool) -> None:
    versions = {r.result["simulator"]: r.result.get("version", "") for r in runs
                if r.result and r.result["simulator"] != "brainsim"}
    names = {"brian2": "Brian2", "nest": "NEST"}
    text = report.markdown(runs, command, machine.describe({names.get(k, k): v for k, v in versions.items()}),
                           out.parent / "images", quick)
    out.write_text(text + "\n")
    print(f"wrote {out}")


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    if args.report_from is not None:
        try:
            lines = args.report_from.read_text().splitlines()
        except OSError as error:
            print(f"error: cannot read {args.report_from}: {error.strerror}", file=sys.stderr)
            return 2
        try:
            runs = [running.Run.from_json(line) for line in lines if line.strip()]
        except ValueError as error:
            print(f"error: {args.report_from}: {error}", file=sys.stderr)
            return 2
        write_report(runs, f"python -m benchmarks --report-from {args.report_from}", args.out, False)
        return 0
    chosen = selected(args)
    if not chosen:
        print("error: no case is left with these --only and --simulators", file=sys.stderr)
        return 2
    peer_python = None
    if any(s.peer for case in chosen for s in case.simulators):
        try:
            peer_python = str(args.peer_python or peers.environment())
        except peers.PeerError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
    results = RESULTS / time.strftime("%Y-%m-%dT%H-%M-%S.jsonl")
    command = "python -m benchmarks " + " ".join(sys.argv[1:] if argv is None else argv)
    print(f"results go to {results}")
    try:
        runs = run_suite(args, chosen, peer_python, results)
    except KeyboardInterrupt:
        write_report([running.Run.from_json(line) for line in results.read_text().splitlines()], command, args.out,
                     args.suite == "quick")
        return 130
    write_report(runs, command, args.out, args.suite == "quick")
    return 3 if all(r.error and r.error.startswith("refused") for r in runs) else 0


def console() -> None:
    sys.exit(main())
