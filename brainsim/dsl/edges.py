"""`edges = "connectome.csv"`: a projection's synapses read from a CSV or .npz file.

The file's columns are `pre` and `post` (neuron indices in the two populations,
whole numbers), and optionally `delay` and any state variable of the synapse
(`weight` for `w`), each with its unit in the header (`weight [nA]`,
`delay [ms]`). Row k is synapse k; its values become `ir.Values` in row order.
An index outside its population is reported at its row of the CSV file.
"""

from __future__ import annotations

import numpy as np

from brainsim import ir
from brainsim.dsl import ast
from brainsim.dsl.dimensions import SECOND
from brainsim.dsl.files import read_table, resolve
from brainsim.errors import InvalidValueError, UnknownNameError
from brainsim.units import DIMENSIONLESS


def read_edges(
    value: ast.Value, source: ir.Population, target: ir.Population, synapse: ir.SynapseModel
) -> tuple[ir.EdgeList, dict[str, ir.Values]]:
    """The edge list written at `value` and its value columns, by the name they set (`w`, `delay`, ...).

    Rejects::

        edges = connectome          # a file name is written in quotes
        edges = "missing.csv"       # no such file
        edges = "bad.csv"           # a column `colour`, or a row `3, 12` when the target has 10 neurons
    """
    if not isinstance(value, ast.Text):
        raise InvalidValueError('`edges` names a file, in quotes: `edges = "connectome.csv"`', value.span)
    table = read_table(resolve(value), value.span)
    pre = table.column("pre", DIMENSIONLESS, value.span, integer=True)
    post = table.column("post", DIMENSIONLESS, value.span, integer=True)
    for name, indices, population in (("pre", pre, source), ("post", post, target)):
        if bad := np.flatnonzero((indices < 0) | (indices >= population.size)).tolist():
            raise InvalidValueError(
                f"row {bad[0] + 1} of {table.path.name}: {name} = {indices[bad[0]]} is outside `{population.name}`, "
                f"whose neurons are 0 to {population.size - 1}",
                table.row_span(bad[0]),
            )
    dimensions = {"delay": SECOND, **{s.name: s.dimension for s in synapse.states}}
    columns = {}
    for column in table.names:
        if column in ("pre", "post"):
            continue
        name = "w" if column == "weight" else column
        if name not in dimensions or name in columns:
            states = [s.name for s in synapse.states]
            readable = ", ".join(["pre", "post", "delay", *(["weight"] if "w" in states else []), *states])
            raise UnknownNameError(
                f"{table.path.name} has a column `{column}`, which sets nothing or sets a value twice; the columns of an edge list are "
                f"{readable}",
                value.span,
            )
        values = table.column(column, dimensions[name], value.span)
        columns[name] = ir.Values(tuple(float(v) for v in values), value.span)
    edges = ir.EdgeList(tuple(int(i) for i in pre), tuple(int(j) for j in post), value.span)
    return edges, columns
