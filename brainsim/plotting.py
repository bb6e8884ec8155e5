"""Figures of a run with matplotlib (the `plot` extra): spike rasters, traces, population
rates, interspike intervals, synapse weights and their evolution.

Each `plot_*` function takes a `Results`, what to draw, and an optional matplotlib
`ax`; it draws on `ax` (or on a new figure from pyplot, so that `plt.show()` and
notebooks show it) and returns the Axes (`ax.figure` is its Figure). `figure` puts
one kind of plot of everything recorded on a figure of its own, outside pyplot:
that is what `brainsim plot` saves and what a notebook shows of a run.

Values are held in SI units and drawn in the units a reader expects: time in ms,
a voltage in mV, a current in nA, a conductance in nS. Asking for something the
run did not record raises `NotRecordedError`, which lists what it did record.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

from brainsim import arguments
from brainsim.errors import ExportError, InvalidValueError, NotRecordedError, UnknownNameError, did_you_mean
from brainsim.extras import require
from brainsim.results import Results, interspike_intervals
from brainsim.units import lookup_unit

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

KINDS = ("raster", "traces", "rates", "isi", "weights")  # what `figure` (and `brainsim plot --what`) draws
_SHOWN_UNITS = {"V": "mV", "A": "nA", "S": "nS", "F": "pF", "ohm": "Mohm", "s": "ms"}  # SI unit -> unit drawn
_MS = 1e3
_MAX_SYNAPSE_LINES = 50  # more recorded synapses than this: draw 50 of them evenly chosen, and the mean of all


def plot_raster(results: Results, populations: Sequence[str] | None = None, ax: Axes | None = None) -> Axes:
    """Draw the recorded spikes: one row per neuron, the populations stacked from the top,
    grouped by region and coloured by it, each labelled with its name.

    Args:
        populations: the populations to draw, a region standing for the populations in it
            (default: every one whose spikes were recorded).
    Raises:
        NotRecordedError: a population's spikes were not recorded (or none were).
        UnknownNameError: the network has no such population or region.
    """
    names = _recorded_spikes(results, populations)
    ax = _axes(ax, "drawing a raster")
    regions = _innermost_regions(results)
    names = sorted(names, key=lambda name: list(results.regions).index(regions[name]) if name in regions else math.inf)
    colours = {region: f"C{i % 10}" for i, region in enumerate(dict.fromkeys(regions.get(n, "") for n in names))}
    rows = sum(results.spikes[name].size for name in names)
    row_height = ax.bbox.height * 72 / ax.figure.dpi / max(rows, 1)  # points
    if row_height >= 2:  # a tick as high as its row (10 points at most)
        marks = {"marker": "|", "s": min(0.9 * row_height, 10.0) ** 2, "linewidths": 0.8}
    else:  # rows thinner than a visible tick: a dot a point wide, over a few rows
        marks = {"marker": "s", "s": 1.0, "linewidths": 0}
    offset, centres = 0, []
    for name in names:
        trains = results.spikes[name]
        ax.scatter(trains.times * _MS, offset + trains.indices, color=colours[regions.get(name, "")], label=name,
                   **marks)
        centres.append(offset + (trains.size - 1) / 2)
        offset += trains.size
        ax.axhline(offset - 0.5, color="0.8", linewidth=0.6)
    ax.set_yticks(centres, names)
    ax.set_ylim(offset - 0.5, -0.5)  # the first population at the top, its neuron 0 first
    _time_axis(ax, results)
    ax.set_ylabel("neuron index (by population)")
    ax.set_title("spikes")
    return ax


def plot_traces(results: Results, population: str | None = None, variable: str | None = None,
                neurons: Sequence[int] | None = None, ax: Axes | None = None) -> Axes:
    """Draw a recorded state variable over time, one line per recorded neuron.

    Args:
        population, variable: which record (`record v of V1[0:3]`); either may be left out
            when only one recorded trace fits the other.
        neurons: indices within the population to draw (default: every recorded one).
    Raises:
        NotRecordedError: no such trace, or a neuron whose trace was not recorded.
        InvalidValueError: several recorded traces fit and it is not said which.
    """
    key = _one(list(results.traces), lambda k: population in (None, k[0]) and variable in (None, k[1]),
               wanted=f"{variable or 'a variable'} of {population or 'a population'}", nothing="traces",
               hint="add `record <variable> of <population>` to the model")
    trace = results.traces[key]
    recorded = [int(i) for i in trace.indices]
    chosen = recorded if neurons is None else [int(i) for i in neurons]
    if missing := [i for i in chosen if i not in recorded]:
        raise NotRecordedError(f"{trace.variable} of {trace.population} was not recorded for neuron(s) "
                               f"{', '.join(map(str, missing))}; recorded: {', '.join(map(str, recorded))}")
    ax = _axes(ax, "drawing traces")
    factor, unit = _shown(trace.unit)
    for index in chosen:
        ax.plot(trace.times * _MS, trace.values[:, recorded.index(index)] / factor, linewidth=1, label=f"neuron {index}")
    if len(chosen) <= 10:
        ax.legend(loc="upper right", fontsize="small")
    _time_axis(ax, results)
    ax.set_ylabel(_label(trace.variable, unit))
    ax.set_title(f"{trace.variable} of {trace.population}")
    return ax


def plot_rates(results: Results, populations: Sequence[str] | None = None, bin_width: float | str | None = None,
               ax: Axes | None = None) -> Axes:
    """Draw each population's rate over time (a peri-stimulus time histogram): its spikes
    in each bin, divided by its size and the bin's width.

    Args:
        populations: the populations to draw (default: every one whose spikes were recorded).
        bin_width: a whole number of steps, in seconds or as a quantity ("5 ms", as
            `brainsim.arguments.duration` takes it; default: the smallest 1, 2 or 5 times
            a power of ten that makes at most 60 bins: 5 ms for 150 ms, 20 ms for 1 s).
    Raises:
        NotRecordedError, UnknownNameError: as `plot_raster`.
        InvalidValueError: a bin width that is not a positive whole number of steps.
    """
    names = _recorded_spikes(results, populations)
    edges, counts = psth_counts(results, names, bin_width)
    ax = _axes(ax, "drawing rates")
    widths = np.diff(edges)
    for name in names:
        rate = counts[name] / (results.spikes[name].size * widths)
        ax.stairs(rate, edges * _MS, label=name, fill=len(names) == 1, linewidth=1.2)
    ax.legend(loc="upper right", fontsize="small")
    _time_axis(ax, results)
    ax.set_ylabel("rate (Hz)")
    ax.set_title(f"population rate, {widths[0] * _MS:g} ms bins")
    return ax


def psth_counts(results: Results, populations: Sequence[str], bin_width: float | None = None
                ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The bin edges (s) over the run and each population's spike count per bin. Bins are
    whole steps, counted from the run's start; the last may be shorter. A spike is stamped
    at the end of its step, so bin k holds the times in (edges[k], edges[k + 1]].

    Raises:
        InvalidValueError: a bin width that is not a positive whole number of steps.
    """
    steps = _bin_steps(results, bin_width)
    edges = results.dt * (results.first_step + np.append(np.arange(0, results.n_steps, steps), results.n_steps))
    counts = {}
    for name in populations:
        step = np.rint(results.spikes[name].times / results.dt).astype(np.int64) - 1 - results.first_step
        counts[name] = np.bincount(step // steps, minlength=len(edges) - 1)
    return edges, counts


def plot_isi(results: Results, populations: Sequence[str] | None = None, bins: int = 50,
             ax: Axes | None = None) -> Axes:
    """Draw the distribution of interspike intervals (consecutive spikes of one neuron) of
    each population, in `bins` equal bins from 0 to the longest interval.

    Raises:
        NotRecordedError, UnknownNameError: as `plot_raster`.
    """
    names = _recorded_spikes(results, populations)
    intervals = {name: interspike_intervals(results.spikes[name])[0] * _MS for name in names}
    longest = max((float(i.max()) for i in intervals.values() if len(i)), default=1.0)
    ax = _axes(ax, "drawing interspike intervals")
    for name in names:
        counts, edges = np.histogram(intervals[name], bins=bins, range=(0.0, longest))
        ax.stairs(counts, edges, label=f"{name} ({len(intervals[name])})", fill=len(names) == 1, linewidth=1.2)
    ax.legend(loc="upper right", fontsize="small", title="population (intervals)", title_fontsize="small")
    ax.set_xlim(0.0, longest)
    ax.set_xlabel("interspike interval (ms)")
    ax.set_ylabel("intervals")
    ax.set_title("interspike intervals")
    return ax


def plot_weights(results: Results, projection: str | None = None, variable: str = "w", bins: int = 50,
                 ax: Axes | None = None) -> Axes:
    """Draw the distribution of a synapse state (the weight `w` by default) over a
    projection's synapses at the end of the run.

    Args:
        projection: its name ("Retina.photoreceptors->V1.simple"); may be left out when
            only one projection has `variable`.
    Raises:
        UnknownNameError: no projection of that name.
        NotRecordedError: the projection named (or every projection) has no synapse state `variable`.
        InvalidValueError: several projections have it and it is not said which.
    """
    if projection is not None and projection not in results.synapses:
        raise UnknownNameError(f"the network has no projection {projection!r}; its projections: "
                               f"{', '.join(results.synapses) or 'none'}", hint=did_you_mean(projection, results.synapses))
    holding = [p for p in results.synapses if projection in (None, p) and variable in results.synapses[p].states]
    if not holding:
        states = "; ".join(f"{p}: {', '.join(results.synapses[p].states) or 'none'}"
                           for p in results.synapses if projection in (None, p))
        raise NotRecordedError(f"{projection or 'no projection'} has no synapse state {variable!r} "
                               f"(synapse states held: {states or 'none'})",
                               hint="a synapse's states are declared in its `state { ... }` block")
    if len(holding) > 1:
        raise InvalidValueError(f"{len(holding)} projections have a synapse state {variable!r}; "
                                f"say which: {', '.join(holding)}")
    name = holding[0]
    synapses = results.synapses[name]
    factor, unit = _shown(synapses.units.get(variable, "SI units"))
    ax = _axes(ax, "drawing weights")
    ax.hist(synapses.states[variable] / factor, bins=bins)
    ax.set_xlabel(f"{_label(variable, unit)} at {(results.start + results.duration) * _MS:g} ms")
    ax.set_ylabel("synapses")
    ax.set_title(f"{name}: {len(synapses.pre)} synapses", fontsize="medium")
    return ax


def plot_weight_evolution(results: Results, projection: str | None = None, variable: str = "w",
                          ax: Axes | None = None) -> Axes:
    """Draw a recorded synapse state over time (`record w of A -> B`, every step or at
    snapshot times): one thin line per recorded synapse (50 of them, evenly chosen, when
    more were recorded) and their mean over all recorded synapses.

    Raises:
        NotRecordedError: `variable` of that projection was not recorded over time.
        InvalidValueError: several projections' records fit and it is not said which.
    """
    key = _one(list(results.synapse_traces), lambda k: projection in (None, k[0]) and k[1] == variable,
               wanted=f"{variable} of {projection or 'a projection'} over time", nothing="synapse state over time",
               hint=f"add `record {variable} of <source> -> <target>` to the model")
    trace = results.synapse_traces[key]
    factor, unit = _shown(trace.unit)
    shown = np.unique(np.linspace(0, len(trace.indices) - 1, min(len(trace.indices), _MAX_SYNAPSE_LINES)).astype(int))
    marker = "o" if len(trace.times) <= 20 else None  # snapshots: show where the samples are
    ax = _axes(ax, "drawing weights over time")
    ax.plot(trace.times * _MS, trace.values[:, shown] / factor, color="0.6", linewidth=0.6, marker=marker, markersize=3)
    ax.plot(trace.times * _MS, trace.values.mean(axis=1) / factor, color="C3", linewidth=2, marker=marker,
            label=f"mean of {len(trace.indices)} synapses")
    ax.legend(loc="upper right", fontsize="small")
    _time_axis(ax, results)
    ax.set_ylabel(_label(trace.variable, unit))
    ax.set_title(f"{trace.variable} of {trace.projection}", fontsize="medium")
    return ax


def figure(results: Results, what: str = "raster", size: tuple[float, float] = (8.0, 4.5)) -> Figure:
    """A new figure (outside pyplot) of one kind of plot (`KINDS`) of everything recorded:
    "raster", "rates" and "isi" on one axes; "traces" one row per recorded trace; "weights"
    one row per projection with a weight `w`, its histogram beside its evolution where recorded.
    `size` is in inches; with several rows the height grows with them instead.

    Raises:
        InvalidValueError: `what` is not one of `KINDS`.
        NotRecordedError: the run recorded nothing of that kind.
    """
    require("matplotlib", "plot", f"drawing a {what} figure")
    from matplotlib.figure import Figure

    width = size[0]
    match what:
        case "raster" | "rates" | "isi":
            axes = Figure(figsize=size, layout="constrained").subplots()
            {"raster": plot_raster, "rates": plot_rates, "isi": plot_isi}[what](results, ax=axes)
            return axes.figure
        case "traces":
            if not results.traces:
                raise NotRecordedError("the run recorded no traces", hint="add `record v of <population>` to the model")
            rows = Figure(figsize=(width, 1 + 2.2 * len(results.traces)), layout="constrained").subplots(
                len(results.traces), squeeze=False, sharex=True)[:, 0]
            for row, (population, variable) in zip(rows, results.traces):
                plot_traces(results, population, variable, ax=row)
            return rows[0].figure
        case "weights":
            weighted = [p for p, synapses in results.synapses.items() if "w" in synapses.states]
            if not weighted:
                raise NotRecordedError("no projection has a weight `w`",
                                       hint="a synapse's states are declared in its `state { ... }` block")
            columns = 2 if any((p, "w") in results.synapse_traces for p in weighted) else 1
            rows = Figure(figsize=(width, 1 + 2.6 * len(weighted)), layout="constrained").subplots(
                len(weighted), columns, squeeze=False)
            for row, projection in zip(rows, weighted):
                plot_weights(results, projection, ax=row[0])
                if (projection, "w") in results.synapse_traces:
                    plot_weight_evolution(results, projection, ax=row[1])
                elif columns == 2:
                    row[1].set_axis_off()
            return rows[0, 0].figure
    raise InvalidValueError(f"cannot draw {what!r}; a figure is one of: {', '.join(KINDS)}")


def image_format(path: str | Path) -> str:
    """The image format matplotlib writes for `path`'s extension ("png", "svg", "pdf", ...),
    checked before a run so that a long simulation is not lost to a typo.

    Raises:
        MissingExtraError: matplotlib is not installed.
        ExportError: matplotlib writes no image of that extension.
    """
    require("matplotlib", "plot", f"writing {str(path)!r}")
    from matplotlib.backend_bases import FigureCanvasBase

    formats = FigureCanvasBase.get_supported_filetypes()
    extension = Path(path).suffix.lower().removeprefix(".")
    if extension not in formats:
        reason = f"matplotlib writes .{', .'.join(formats)} images" + ("" if extension else ", and the name has no extension")
        raise ExportError(f"cannot write the figure {str(path)!r}: {reason}", str(path), reason)
    return extension


def save_figure(picture: Figure, path: str | Path, dpi: float = 100) -> None:
    """Write `picture` to `path` in the format of its extension (`image_format`).

    Raises:
        ExportError: an extension matplotlib does not write, or a file that cannot be written
            (a missing folder, no permission); nothing else is lost.
    """
    extension = image_format(path)
    try:
        picture.savefig(path, format=extension, dpi=dpi)
    except OSError as error:
        reason = error.strerror or str(error)
        raise ExportError(f"cannot write the figure {str(path)!r}: {reason}", str(path), reason) from None


# --------------------------------------------------------------------------- helpers


def _axes(ax: Axes | None, purpose: str) -> Axes:
    """`ax`, or the axes of a new pyplot figure; matplotlib is imported here, not before."""
    require("matplotlib", "plot", purpose)
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.figure(layout="constrained").subplots()


def _recorded_spikes(results: Results, populations: str | Sequence[str] | None) -> list[str]:
    """The populations asked for (default: all recorded; a region stands for its populations),
    each checked to have recorded spikes."""
    recorded = list(results.spikes)
    if not (populations is None or isinstance(populations, str)
            or isinstance(populations, (list, tuple)) and all(isinstance(name, str) for name in populations)):
        raise InvalidValueError(f"populations is a name or a list of names of populations or regions, not "
                                f"{arguments.shown(populations)}")
    if populations is None:
        if not recorded:
            raise NotRecordedError("the run recorded no spikes", hint="add `record spikes of <population>` to the model")
        return recorded
    names = []
    for name in [populations] if isinstance(populations, str) else populations:
        if name not in results.spike_counts and name not in results.regions:
            known = [*results.regions, *results.spike_counts]
            raise UnknownNameError(f"the network has no population or region {name!r}; its populations: "
                                   f"{', '.join(results.spike_counts)}", hint=did_you_mean(name, known))
        names += [p for p in results.regions.get(name, (name,)) if p not in names]
    if missing := [name for name in names if name not in results.spikes]:
        raise NotRecordedError(f"the spikes of {', '.join(missing)} were not recorded; recorded: "
                               f"{', '.join(recorded) or 'none'}", hint=f"add `record spikes of {missing[0]}` to the model")
    return names


def _one(keys: list[tuple[str, str]], fits, wanted: str, nothing: str, hint: str) -> tuple[str, str]:
    """The one (owner, variable) record key among `keys` that `fits`, `wanted` in words: a
    NotRecordedError listing every key if none does, an InvalidValueError listing the ones
    that fit if several do; `nothing` names the kind for a run that recorded none."""
    candidates = [k for k in keys if fits(k)]
    if len(candidates) == 1:
        return candidates[0]
    if not keys:
        raise NotRecordedError(f"the run recorded no {nothing}", hint=hint)
    if not candidates:
        raise NotRecordedError(f"{wanted} was not recorded; recorded: {', '.join(f'{v} of {o}' for o, v in keys)}",
                               hint=hint)
    raise InvalidValueError(f"{len(candidates)} records fit {wanted}; say which: "
                            f"{', '.join(f'{v} of {o}' for o, v in candidates)}")


def _innermost_regions(results: Results) -> dict[str, str]:
    """Population -> the smallest region holding it (regions list their populations at any depth)."""
    owner = {}
    for region, populations in results.regions.items():
        for name in populations:
            if name not in owner or len(populations) < len(results.regions[owner[name]]):
                owner[name] = region
    return owner


def _bin_steps(results: Results, bin_width: float | None) -> int:
    """The bin width in steps: `bin_width` (s), or the smallest of 1, 2 or 5 times a power of ten
    seconds that makes at most 60 bins (and at least one step)."""
    if bin_width is None:
        target = results.duration / 60
        decade = 10.0 ** math.floor(math.log10(target))
        width = next(f * decade for f in (1, 2, 5, 10) if f * decade >= target)
        return max(1, round(width / results.dt))
    try:
        seconds = arguments.duration(bin_width, "bin_width")
    except InvalidValueError as error:
        raise InvalidValueError(f"{error.message}; a bin width is a positive whole number of steps of "
                                f"{results.dt * _MS:g} ms", hint=error.hint) from None
    steps = seconds / results.dt
    if abs(steps - round(steps)) > 1e-9 * steps or round(steps) < 1:
        raise InvalidValueError(f"a bin width is a positive whole number of steps of {results.dt * _MS:g} ms, "
                                f"not {bin_width!r} s")
    return round(steps)


def _shown(unit: str) -> tuple[float, str]:
    """The factor that turns SI values of `unit` into the unit drawn, and that unit's name."""
    if unit not in _SHOWN_UNITS:
        return 1.0, unit
    shown = _SHOWN_UNITS[unit]
    return float(lookup_unit(shown)[0]), shown


def _label(variable: str, unit: str) -> str:
    return variable if unit == "dimensionless" else f"{variable} ({unit})"


def _time_axis(ax: Axes, results: Results) -> None:
    ax.set_xlim(results.start * _MS, (results.start + results.duration) * _MS)
    ax.set_xlabel("time (ms)")
