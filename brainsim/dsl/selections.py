"""Neuron selections, `V1.simple[3]` and `V1.simple[0:5]`: the targets of `record` and `stimulus`.

A selection names an endpoint and optionally some of its neurons. With an index
or a slice the endpoint must be one population (a region with one population
inside stands for it); without one it may be any region. Both statements check
their selections here, so their errors read the same.
"""

from __future__ import annotations

from brainsim import ir
from brainsim.dsl import ast
from brainsim.dsl.populations import Declared, resolve, whole_number
from brainsim.errors import InvalidValueError


def selected(selection: ast.Selection, declared: Declared, purpose: str) -> tuple[ir.Population, ...]:
    """The populations of `selection`'s endpoint; `purpose` ("record", "drive") ends the error's sentence.

    Rejects::

        record v of Cortex[0:3]          # Cortex holds two populations: which one?
    """
    populations = resolve(selection.endpoint, declared)
    if selection.neurons is not None and len(populations) != 1:
        region = selection.endpoint.text
        names = ", ".join(p.name for p in populations)
        raise InvalidValueError(
            f"region `{region}` holds {len(populations)} populations ({names}); "
            f"name the one whose neurons to {purpose}",
            selection.endpoint.span,
            f"e.g. `{populations[0].name}`" if populations else None,
        )
    return populations


def neuron_indices(neurons: ast.Index | ast.Slice | None, population: ir.Population) -> tuple[int, ...] | None:
    """The selected neurons of `population`, ascending (None: no selection, every neuron).

    Rejects::

        record v of V1[30]               # V1 has 20 neurons
        record v of V1[0:30]
        record v of V1[3:3]              # an empty slice
    """
    size = population.size
    match neurons:
        case None:
            return None
        case ast.Index(index=count):
            index = whole_number(count, "an index")
            if index >= size:
                raise InvalidValueError(
                    f"neuron {index} is outside `{population.name}`, whose neurons are 0 to {size - 1}", count.span
                )
            return (index,)
        case ast.Slice(start=start, stop=stop):
            first = whole_number(start, "a slice start") if start else 0
            last = whole_number(stop, "a slice end") if stop else size
            if last > size:
                raise InvalidValueError(
                    f"the slice ends at {last}, but `{population.name}` has only {size} neurons", stop.span
                )
            if first >= last:
                raise InvalidValueError(f"the slice [{first}:{last}] selects no neurons", neurons.span)
            return tuple(range(first, last))
    raise AssertionError(f"unknown neuron selection {neurons!r}")
