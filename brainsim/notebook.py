"""HTML summaries that Jupyter shows for a model and for a run (`Model._repr_html_`,
`Results._repr_html_`).

A model is shown as its settings and two tables, populations and projections; a run
as the statistics table of `brainsim run` and, where matplotlib is installed and
spikes were recorded, a small raster embedded as a PNG. Every name is escaped.
"""

from __future__ import annotations

import base64
import io
from html import escape
from typing import TYPE_CHECKING, Sequence

from brainsim import ir
from brainsim.errors import MissingExtraError
from brainsim.phrases import connection_rule, plasticity
from brainsim.plotting import figure
from brainsim.results import STATISTICS_HEADER, Results, statistics_cells

if TYPE_CHECKING:
    from brainsim.model import Model

RASTER_SIZE = (6.0, 2.6)  # inches, at RASTER_DPI: a 480 x 208 pixel image
RASTER_DPI = 80


def model_html(model: Model) -> str:
    """The model's simulation settings, its populations (region, size, neuron model, kind)
    and its projections (synapse, connection rule, plasticity) as HTML tables."""
    network = model.network
    settings = network.simulation
    populations = [
        (p.name, p.region, str(p.size), p.model.name, "" if p.kind is ir.NeuronKind.UNSPECIFIED else p.kind.value)
        for p in network.populations
    ]
    projections = [
        (p.name, p.synapse.name, connection_rule(p.rule), plasticity(p.synapse).removeprefix(", ") or "static")
        for p in network.projections
    ]
    return "\n".join([
        f"<p><b>brainsim model</b>: dt {settings.dt * 1e3:g} ms, duration {settings.duration * 1e3:g} ms "
        f"({settings.n_steps} steps), seed {settings.seed}</p>",
        _table(("population", "region", "neurons", "neuron model", "kind"), populations, numeric=(2,)),
        _table(("projection", "synapse", "connection", "plasticity"), projections, numeric=()) if projections else "",
    ])


def results_html(results: Results) -> str:
    """The run's statistics table (as `brainsim run` prints it) and, where matplotlib is
    installed and spikes were recorded, a small raster as an embedded PNG."""
    head = (f"<p><b>brainsim run</b> on the {escape(results.backend)} backend: {results.duration * 1e3:g} ms "
            f"in {results.n_steps} steps of {results.dt * 1e3:g} ms (compile {results.compile_seconds:.2f} s, "
            f"run {results.run_seconds:.2f} s)</p>")
    table = _table(STATISTICS_HEADER, statistics_cells(results.statistics()), numeric=(2, 3, 4, 5))
    return "\n".join([head, table, _raster_image(results)])


def _raster_image(results: Results) -> str:
    """An <img> of the raster, or "" where no spikes were recorded or matplotlib is missing."""
    if not results.spikes:
        return ""
    try:
        picture = figure(results, "raster", size=RASTER_SIZE)
    except MissingExtraError as error:  # the message says how to install matplotlib
        return f"<p><i>no raster: {escape(error.message)}</i></p>"
    png = io.BytesIO()
    picture.savefig(png, format="png", dpi=RASTER_DPI)
    data = base64.b64encode(png.getvalue()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="spike raster"/>'


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[int]) -> str:
    """An HTML table; the columns at `numeric` right-aligned."""
    def cells(tag, row):
        return "".join(f'<{tag} style="text-align: {"right" if i in numeric else "left"}">{escape(cell)}</{tag}>'
                       for i, cell in enumerate(row))

    lines = ["<table>", f"<thead><tr>{cells('th', header)}</tr></thead>", "<tbody>"]
    lines += [f"<tr>{cells('td', row)}</tr>" for row in rows]
    return "\n".join(lines + ["</tbody>", "</table>"])
