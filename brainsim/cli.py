"""The `brainsim` command: run a model, cross-check the backends, describe a model, show the seed's demos.

    brainsim run models/cuba.brain --backend jax --duration 200ms
    brainsim run models/cuba.brain --backend jax --dtype float32
    brainsim run models/cuba.brain --output run.nwb   # also .npz, .h5 (SONATA spikes)
    brainsim run models/cuba.brain --output run.h5 --stream   # recordings written chunk by chunk (HDF5)
    brainsim run models/cuba.brain --max-memory 4GB   # refuse, with the estimate, what would take more
    brainsim check models/cuba.brain
    brainsim check --dtype float32 models/cuba.brain    # float32 on jax against the float64 reference
    brainsim info models/cuba.brain              # populations, synapse counts, memory, methods
    brainsim info --ir models/cuba.brain         # ... and the lowered IR
    brainsim graph models/cuba.brain -o net.svg  # the connectivity as Graphviz dot, or drawn
    brainsim plot models/visual_pathway.brain -o raster.png --what raster   # or traces, rates, isi, weights
    brainsim demo                 # examples/simulation_demo.py: the seed's object API, five demonstrations
    brainsim run net.brain --include ../shared-models     # imports may read from there too
    brainsim import-sonata network/circuit_config.json -o imported   # a SONATA network as imported/model.brain

A mistake in a model (or on the command line) prints the error with its
file:line:column and exits with status 2, without a Python traceback.
`check` exits 0 only when both backends agree bit for bit, else 1; with
`--dtype float32` it reports how far float32 is from float64 and exits 0.
A run whose state went nan or inf also exits 2, a run refused for the memory or
steps it would need 3, and Ctrl-C 130; a run stopped by either keeps what it
recorded: `run` prints its statistics and writes `--output` (docs/running.md,
"When a run stops early").
"""

from __future__ import annotations

import argparse
import os
import sys

from brainsim import arguments, ir
from brainsim.backends import DTYPES
from brainsim.describe import DRAW_AT_MOST, describe
from brainsim.errors import BrainsimError, ExportError, Interrupted, ResourceError, SimulationError, visible
from brainsim.export import check_output, known_extensions, save
from brainsim.export.stream import stream_to_file
from brainsim.graph import network_graph, save_graph
from brainsim.model import Model, load
from brainsim.plotting import KINDS, figure, image_format, save_figure
from brainsim.precision import compare_precision
from brainsim.resources import parse_memory
from brainsim.results import compare_results, text_table
from brainsim.sonata.importer import convert, summary

EXIT_OK, EXIT_DIFFERENT, EXIT_USER_ERROR, EXIT_RESOURCE, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
INTERRUPTED_LINE = "interrupted; nothing was written"
_COMPILED = {"auto": "auto", "on": True, "off": False}  # --compiled-updates of `run`: the option's values


def console() -> None:
    """The console script (through `brainsim_console`): `main`'s status as the process's. After
    Ctrl-C the process ends at once (`os._exit`), its output flushed: a compile left running in
    a worker thread, or jax's own threads, would otherwise hold up the interpreter's exit."""
    status = main()
    if status == EXIT_INTERRUPTED:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    sys.exit(status)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status."""
    try:
        parser = _build_parser()
        args = parser.parse_args(argv)
        return args.command(args)
    except KeyboardInterrupt:  # outside a run (reading, building, a second Ctrl-C), or a command that keeps nothing
        print(INTERRUPTED_LINE, file=sys.stderr)
        return EXIT_INTERRUPTED
    except ResourceError as error:
        print(str(error), file=sys.stderr)
        return EXIT_RESOURCE
    except BrainsimError as error:
        print(str(error), file=sys.stderr)
        return EXIT_USER_ERROR
    except BrokenPipeError:  # the reader went away (`brainsim run m.brain | head`): not an error of ours
        # Point stdout at /dev/null so that Python's flush at exit does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="brainsim", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="simulate a model and print per-population statistics")
    run.add_argument("model", help="path to a .brain file")
    run.add_argument("--backend", choices=["numpy", "jax"], default="numpy")
    run.add_argument("--duration", type=_time_argument, help="simulated time, e.g. 200ms or 1s")
    run.add_argument("--seed", type=_seed_argument, help="another seed than the model's")
    run.add_argument("--dtype", choices=DTYPES, default="float64", help="the float type of every value (default float64)")
    run.add_argument("--compiled-updates", nargs="?", const="on", default="auto", choices=tuple(_COMPILED),
                     help="run each group's update and each pathway's delivery as one compiled C loop, called from "
                          "numpy or from the jax program on one CPU: the same results, bit for bit. auto (the "
                          "default): where a C compiler is found, in float64; on (alone): required; off: never")
    run.add_argument("--output", "-o", metavar="FILE", help=f"also write the results there, in the format of its extension: {known_extensions()}")
    run.add_argument("--stream", action="store_true",
                     help="write the recordings to --output (an .h5 file) chunk by chunk as the run goes, so that memory "
                          "stays bounded by a chunk (docs/running.md, \"Memory and long runs\")")
    run.set_defaults(command=_run)

    check = commands.add_parser("check", help="run on both backends and report whether results are identical")
    check.add_argument("model", help="path to a .brain file")
    check.add_argument("--duration", type=_time_argument, help="simulated time, e.g. 200ms or 1s")
    check.add_argument("--seed", type=_seed_argument, help="another seed than the model's")
    check.add_argument("--dtype", choices=DTYPES, default="float64",
                       help="float32: run the jax backend in float32 and report its agreement with float64")
    check.add_argument("--compiled-updates", nargs="?", const="numpy", choices=("numpy", "jax", "both", "none"),
                       help="run that backend (alone: numpy) with its compiled updates and the other without, so "
                            "that they are checked against its plain ones (needs a C compiler); none: neither. "
                            "Default: the plain numpy reference against the jax backend as `brainsim run` runs it")
    check.set_defaults(command=_check)

    plot = commands.add_parser("plot", help="simulate a model, print its statistics and save a figure (needs matplotlib)")
    plot.add_argument("model", help="path to a .brain file")
    plot.add_argument("-o", "--output", required=True, metavar="FILE",
                      help="the image to write; its extension gives the format (.png, .svg, .pdf, ...)")
    plot.add_argument("--what", choices=KINDS, default="raster", help="what to draw (default raster)")
    plot.add_argument("--backend", choices=["numpy", "jax"], default="numpy")
    plot.add_argument("--duration", type=_time_argument, help="simulated time, e.g. 200ms or 1s")
    plot.add_argument("--seed", type=_seed_argument, help="another seed than the model's")
    plot.set_defaults(command=_plot)

    info = commands.add_parser("info", help="describe a model's populations, projections, stimuli and records")
    info.add_argument("model", help="path to a .brain file")
    info.add_argument("--updates", action="store_true",
                      help="also print each population's update equations and propagator constants")
    info.add_argument("--ir", action="store_true", help="also print the lowered IR, one line per item")
    info.add_argument("--dtype", choices=DTYPES, default="float64", help="the float type to estimate memory for")
    info.add_argument("--draw", action="store_true",
                      help=f"draw the connectivity of a network of more than {DRAW_AT_MOST:,} synapses too "
                           "(exact counts and memory; minutes for the full microcircuit)")
    info.set_defaults(command=_info)
    graph = commands.add_parser("graph", help="write the region/population connectivity as Graphviz dot, or draw it")
    graph.add_argument("model", help="path to a .brain file")
    graph.add_argument("-o", "--output", metavar="FILE",
                       help="net.dot or net.gv (dot text), net.png, net.svg or net.pdf (drawn by Graphviz's dot); "
                            "default: the dot text on standard output")
    graph.set_defaults(command=_graph)
    demo = commands.add_parser("demo", help="run the seed's five demonstrations (examples/simulation_demo.py)")
    demo.add_argument("--plot", metavar="FILE", help="where to draw the figures (needs matplotlib)")
    demo.add_argument("--no-plot", action="store_true", help="print only")
    demo.set_defaults(command=_demo)
    sonata = commands.add_parser("import-sonata", help="import a SONATA point-neuron network as a .brain model")
    sonata.add_argument("config", help="the circuit config (JSON) of the network")
    sonata.add_argument("-o", "--output", metavar="DIR", required=True, help="the folder to write model.brain and its data to")
    sonata.add_argument("--force", action="store_true", help="replace a model.brain the folder already has")
    sonata.set_defaults(command=_import_sonata)
    for command in (run, check, plot):
        command.add_argument("--quiet", action="store_true",
                             help="no progress bar (there is none either when standard error is not a terminal)")
    for command in (run, check, plot, info):
        command.add_argument("--max-memory", metavar="SIZE", type=_memory_argument,
                             help="what the network and a run's recordings may take, e.g. 4GB (default: the memory "
                                  "available); more is refused with the estimate, exit status 3")
    for command in (run, check, info, plot, graph):
        command.add_argument("--include", metavar="DIR", action="append", default=[],
                             help="a folder that imports may read from besides the model's own (repeatable)")
    return parser


def _time_argument(text: str) -> float:
    """Parse `200ms` / `0.2 s` into seconds (`brainsim.arguments.duration`, as the Python API
    does); argparse reports the error."""
    try:
        return arguments.duration(text)
    except BrainsimError as error:
        raise argparse.ArgumentTypeError(error.message) from None


def _memory_argument(text: str) -> int:
    """Parse `4GB` / `512MB` into bytes (`brainsim.resources.parse_memory`); argparse reports the error."""
    try:
        return parse_memory(text)
    except BrainsimError as error:
        raise argparse.ArgumentTypeError(error.message) from None


def _seed_argument(text: str) -> int:
    """Parse a non-negative integer seed; argparse reports the error."""
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"a seed is a non-negative integer, not {text!r}")
    return int(text)


def _load(args: argparse.Namespace) -> Model:
    model = load(args.model, include=args.include)
    return model if args.seed is None else model.with_seed(args.seed)


def _demo(args: argparse.Namespace) -> int:
    # examples/simulation_demo.py, installed with the package as brainsim.simulation.demo.
    from brainsim.simulation.demo import main as demo

    return demo((["--plot", args.plot] if args.plot else []) + (["--no-plot"] if args.no_plot else []))


def _run(args: argparse.Namespace) -> int:
    if args.stream and not (args.output and args.output.lower().endswith(".h5")):
        raise BrainsimError("--stream writes the recordings to an HDF5 file as the run goes: give it one, "
                            "e.g. --output run.h5")
    model = _load(args)
    if args.output:
        check_output(args.output)  # before the run, so that a long run is not lost to a typo
    settings = model.network.simulation
    duration = args.duration if args.duration is not None else settings.duration
    simulation = model.compile(backend=args.backend, dtype=args.dtype, max_memory=args.max_memory,
                               compiled_updates=_COMPILED[args.compiled_updates])
    try:
        if args.stream:
            results = stream_to_file(simulation, args.output, duration, _progress(args), f"brainsim run {args.model}")
        else:
            results = simulation.run(duration=duration, progress=_progress(args))
    except (SimulationError, Interrupted) as stop:
        # What the steps before the stop recorded is kept: shown, and written as asked.
        print(str(stop), file=sys.stderr)
        _report(args, model, simulation, stop.results, duration)
        if args.output:
            _save(stop.results, args)
        return EXIT_INTERRUPTED if isinstance(stop, Interrupted) else EXIT_USER_ERROR
    _report(args, model, simulation, results, duration)
    return _save(results, args) if args.output else EXIT_OK


def _report(args: argparse.Namespace, model: Model, simulation, results, duration: float) -> None:
    """The run's line (the time it simulated, of `duration`), its statistics and learned weights."""
    settings = model.network.simulation
    precision = "" if simulation.dtype == "float64" else f" in {simulation.dtype}"
    simulated = f"{duration * 1e3:g} ms" if results.n_steps == round(duration / settings.dt) else \
        f"{results.duration * 1e3:g} ms of {duration * 1e3:g} ms"
    print(
        f"{visible(args.model)}: {simulated} simulated in {results.n_steps} steps of "
        f"{settings.dt * 1e3:g} ms on the {args.backend} backend{precision}, seed {settings.seed} "
        f"(build {simulation.build_seconds:.2f} s, compile {results.compile_seconds:.2f} s, "
        f"run {results.run_seconds:.2f} s)"
    )
    for growth in getattr(simulation, "bounds", None) and simulation.bounds.growths or ():
        print(f"note: a static bound overflowed and the chunk was rerun: {growth}", file=sys.stderr)
    print(results.format_table())
    if table := _learned(model.network, results):
        print(table)


def _save(results, args: argparse.Namespace) -> int:
    """Write the results to `--output`, after the statistics: a failure is reported, not raised
    (a streamed run's recordings are in the file already)."""
    if args.stream:
        print(f"recordings streamed to {args.output}")
        return EXIT_OK
    try:
        path = save(results, args.output, description=f"brainsim run {args.model}")
    except ExportError as error:
        print(f"results not written: cannot write {error.path!r}: {error.reason}", file=sys.stderr)
        return EXIT_USER_ERROR
    print(f"results written to {visible(str(path))}")
    return EXIT_OK


def _plot(args: argparse.Namespace) -> int:
    image_format(args.output)  # a name matplotlib cannot write fails before the run, not after
    model = _load(args)
    duration = args.duration if args.duration is not None else model.network.simulation.duration
    results = model.compile(backend=args.backend, max_memory=args.max_memory).run(duration=duration,
                                                                                   progress=_progress(args))
    print(results.format_table())
    save_figure(figure(results, args.what), args.output)
    print(f"wrote the {args.what} figure to {visible(args.output)}")
    return EXIT_OK


def _learned(network: ir.Network, results) -> str:
    """The weights (or first state) of each plastic projection after the run: count, mean, range."""
    rows = []
    for projection in network.projections:
        synapse = projection.synapse
        if not synapse.plastic or not synapse.states:
            continue
        name = "w" if any(s.name == "w" for s in synapse.states) else synapse.states[0].name
        values = results.synapses[projection.name].states[name]
        shown = [f"{v:.4g}" for v in (values.mean(), values.min(), values.max())] if len(values) else ["", "", ""]
        rows.append((projection.name, name, str(len(values)), *shown))
    if not rows:
        return ""
    return "plastic synapses after the run (SI units):\n" + text_table(
        ("projection", "state", "synapses", "mean", "min", "max"), rows, numeric_from=2
    )


def _check(args: argparse.Namespace) -> int:
    if args.compiled_updates not in (None, "none") and args.dtype != "float64":
        raise BrainsimError("--compiled-updates runs float64 programs; --dtype float32 checks the jax backend "
                            "alone, in float32 against float64")
    model = _load(args)
    duration = args.duration if args.duration is not None else model.network.simulation.duration
    if args.dtype != "float64":
        runs = {dtype: model.compile(backend="jax", dtype=dtype, max_memory=args.max_memory)
                .run(duration=duration, progress=_progress(args))
                for dtype in (args.dtype, "float64")}
        print(f"{visible(args.model)}: jax backend in {args.dtype} vs float64, {duration * 1e3:g} ms")
        print(compare_precision(runs[args.dtype], runs["float64"], args.dtype, "float64").format())
        return EXIT_OK
    compiled = {"numpy": False, "jax": "auto"} if args.compiled_updates is None else \
        {backend: args.compiled_updates in (backend, "both") for backend in ("numpy", "jax")}
    runs, shown = {}, []
    for backend in ("numpy", "jax"):  # one after the other: a large network is held once at a time
        simulation = model.compile(backend=backend, max_memory=args.max_memory, compiled_updates=compiled[backend])
        runs[backend] = simulation.run(duration=duration, progress=_progress(args))
        shown.append(f"{backend} backend{' (compiled updates)' if simulation.compiled_updates else ''}")
        del simulation
    comparison = compare_results(runs["numpy"], runs["jax"])
    numpy_run, jax_run = shown
    print(f"{visible(args.model)}: {numpy_run} vs {jax_run}, {duration * 1e3:g} ms")
    print(comparison.format())
    return EXIT_OK if comparison.identical else EXIT_DIFFERENT


def _import_sonata(args: argparse.Namespace) -> int:
    print(summary(convert(args.config, args.output, overwrite=args.force)))
    return EXIT_OK


def _progress(args: argparse.Namespace) -> bool | None:
    """No bar with --quiet; else one when standard error is a terminal (`brainsim.progress`)."""
    return False if args.quiet else None


def _info(args: argparse.Namespace) -> int:
    print(describe(load(args.model, include=args.include), updates=args.updates, ir_text=args.ir, dtype=args.dtype,
                   max_memory=args.max_memory, draw=args.draw))
    return EXIT_OK


def _graph(args: argparse.Namespace) -> int:
    model = load(args.model, include=args.include)
    if args.output is None:
        print(network_graph(model).source, end="")
    else:
        save_graph(model, args.output)
    return EXIT_OK


if __name__ == "__main__":
    console()
