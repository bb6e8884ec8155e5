"""`brainsim graph`: a model's regions, populations and projections as a Graphviz graph.

    brainsim graph models/cuba.brain              # the dot text, on standard output
    brainsim graph models/cuba.brain -o net.dot   # the dot text, in a file
    brainsim graph models/cuba.brain -o net.svg   # an image, drawn by Graphviz's `dot`

Regions are clusters (nested as the regions nest), populations nodes labelled
with their size and model, projections edges labelled with the synapse model,
the synapse count and the connection rule; an inhibitory projection ends in a
bar. The counts are exact, the connectivity drawn on the host from the seed, where
`brainsim info` would draw it (`brainsim.describe.synapse_counts`); a network of more
synapses is labelled with the counts its rules lead one to expect. The graph is built with the `graphviz`
Python package (the extra `graph`); drawing an image also needs the Graphviz
program `dot`, which a package manager installs (it is not a Python package).
"""

from __future__ import annotations

from pathlib import Path

from brainsim import ir
from brainsim.describe import synapse_counts
from brainsim.extras import require
from brainsim.phrases import connection_rule
from brainsim.errors import OutputFileError
from brainsim.model import Model

TEXT_FORMATS = (".dot", ".gv")
IMAGE_FORMATS = (".png", ".svg", ".pdf")


def network_graph(model: Model):
    """The `graphviz.Digraph` of `model`'s regions, populations and projections.

    Raises:
        OutputFileError: the `graphviz` Python package is not installed.
        BrainsimError: the model fails a check that runs on the built network.
    """
    graphviz = _graphviz()
    network = model.network
    counts = synapse_counts(network)
    graph = graphviz.Digraph(name=Path(network.source_name).stem or "network",
                             graph_attr={"rankdir": "LR", "fontname": "Helvetica"},
                             node_attr={"fontname": "Helvetica"}, edge_attr={"fontname": "Helvetica", "fontsize": "10"})
    for region in network.regions:
        if region.parent is None:
            _cluster(graph, region, network)
    for projection, (count, how) in zip(network.projections, counts):
        known = "" if how == "exact" else f" ({how})"
        # "\\n" is dot's own line break in a label (a raw newline is not one in every renderer).
        label = (f"{projection.synapse.name}\\n{count:,} synapse{'' if count == 1 else 's'}{known}"
                 f"\\n{connection_rule(projection.rule)}")
        inhibitory = ir.NeuronKind.INHIBITORY in (projection.synapse.kind, network.population(projection.source).kind)
        graph.edge(projection.source, projection.target, label=label, **({"arrowhead": "tee"} if inhibitory else {}))
    return graph


def save_graph(model: Model, path: str | Path) -> None:
    """Write `model`'s graph to `path`: dot text for .dot and .gv, an image drawn by Graphviz's
    `dot` for .png, .svg and .pdf.

    Raises:
        OutputFileError: another extension, `dot` or the `graphviz` package missing, or a
            path that cannot be written. The extension is checked before anything is built.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in TEXT_FORMATS + IMAGE_FORMATS:
        raise OutputFileError(
            f"cannot write a graph to {str(path)!r}: unknown extension {path.suffix or '(none)'!r}; "
            f"write dot text ({', '.join(TEXT_FORMATS)}) or an image ({', '.join(IMAGE_FORMATS)})")
    graph = network_graph(model)
    data = graph.source.encode() if suffix in TEXT_FORMATS else _drawn(graph, suffix[1:], path)
    try:
        path.write_bytes(data)
    except OSError as error:
        raise OutputFileError(f"cannot write the graph to {str(path)!r}: {error.strerror or error}") from None


def _drawn(graph, image_format: str, path: Path) -> bytes:
    """`graph` drawn by Graphviz's `dot` in `image_format`."""
    graphviz = _graphviz()
    try:
        return graph.pipe(format=image_format)
    except graphviz.ExecutableNotFound:
        raise OutputFileError(
            f"drawing {str(path)!r} needs the Graphviz program `dot`, which is not installed "
            f"(it is not a Python package: `apt install graphviz`, `brew install graphviz`, `conda install graphviz`, "
            f"or see https://graphviz.org/download/); or write the dot text with -o {path.with_suffix('.dot')}"
        ) from None
    except graphviz.CalledProcessError as error:
        raise OutputFileError(f"Graphviz's `dot` could not draw {str(path)!r}: {error.stderr.decode(errors='replace').strip()}") from None


def _cluster(parent, region: ir.Region, network: ir.Network) -> None:
    """Region `region` as a cluster of `parent`, with its populations and, inside, its sub-regions."""
    with parent.subgraph(name=f"cluster_{region.name}") as cluster:
        cluster.attr(label=region.name.rsplit(".", 1)[-1], style="rounded", color="gray50")
        for name in region.populations:
            _population(cluster, network.population(name), region.name)
        for child in network.regions:
            if child.parent == region.name:
                _cluster(cluster, child, network)


def _population(graph, population: ir.Population, region: str) -> None:
    """A node for `population`: its name within `region`, its size and model."""
    short = population.name.removeprefix(f"{region}.")
    kind = "" if population.kind is ir.NeuronKind.UNSPECIFIED else f" {population.kind.value}"
    neurons = isinstance(population.model, ir.NeuronModel)
    label = f"{short}\\n{population.size:,} x {population.model.name}{kind}"
    graph.node(population.name, label=label, **({"shape": "box", "style": "rounded"} if neurons else {}))


def _graphviz():
    """The `graphviz` package (the `graph` extra), or an error that says how to install it."""
    return require("graphviz", "graph", "`brainsim graph`")
