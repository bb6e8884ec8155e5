"""`record w of A -> B[0:10]` and `record w of A -> B at [t1, t2]`: records of synapse state.

One `ir.SynapseRecord` per variable and per projection the endpoints join
(`Region`, `Region.pop`, as in `connect`). The selection counts synapses in
projection order (by presynaptic, then postsynaptic neuron); how many a rule
draws is known only when the host builds the network, so indices beyond the
last synapse are the host's check.
"""

from __future__ import annotations

from brainsim import ir
from brainsim.dsl import ast
from brainsim.dsl.dimensions import SECOND
from brainsim.dsl.populations import Declared, resolve, whole_number
from brainsim.dsl.settings import constant, whole_steps
from brainsim.errors import DuplicateNameError, InvalidValueError, UnknownNameError, did_you_mean


def lower_synapse_records(
    records: tuple[ast.Record, ...], declared: Declared, projections: tuple[ir.Projection, ...]
) -> tuple[ir.SynapseRecord, ...]:
    """The synapse records of `records`, against the (named) `projections`.

    Rejects::

        record w of A -> C                 # no connect joins A to C
        record ww of A -> B                # the synapse has no state `ww`
        record w of A -> B[5:]             # the number of synapses is not known yet: write the end
        record w of A -> B at [2 s, 1 s]   # snapshot times ascend
        record w of A -> B  record w of A -> B at [1 s]   # recorded twice
    """
    lowered: list[ir.SynapseRecord] = []
    seen: dict[tuple[str, str], int] = {}
    for record in records:
        if not isinstance(record, ast.RecordSynapses):
            continue
        sources = {p.name for p in resolve(record.source, declared)}
        targets = {p.name for p in resolve(record.target.endpoint, declared)}
        joined = [p for p in projections if p.source in sources and p.target in targets]
        if not joined:
            raise InvalidValueError(
                f"no `connect` joins `{record.source.text}` to `{record.target.endpoint.text}`, so there are no "
                "synapses to record",
                record.target.span,
            )
        indices = _indices(record.target, joined)
        times = _times(record.times, declared.simulation)
        for variable in record.variables:
            for projection in joined:
                _check_state(variable, projection)
                key = (projection.name, variable.name)
                if key in seen:
                    raise DuplicateNameError(
                        f"`{variable.name}` of {projection.name} is already recorded (line {seen[key]})", variable.span
                    )
                seen[key] = record.span.line
                lowered.append(ir.SynapseRecord(projection.name, variable.name, indices, times, record.span))
    return tuple(lowered)


def _check_state(variable: ast.Ident, projection: ir.Projection) -> None:
    states = [s.name for s in projection.synapse.states]
    if variable.name not in states:
        raise UnknownNameError(
            f"synapse `{projection.synapse.name}` of {projection.name} has no state variable `{variable.name}` "
            "to record",
            variable.span,
            did_you_mean(variable.name, states),
        )


def _indices(selection: ast.Selection, joined: list[ir.Projection]) -> tuple[int, ...] | None:
    """Synapse positions in projection order; None for all."""
    if selection.neurons is None:
        return None
    if len(joined) != 1:
        names = ", ".join(p.name for p in joined)
        raise InvalidValueError(
            f"the endpoints join {len(joined)} projections ({names}); name the populations of one to select "
            "its synapses",
            selection.neurons.span,
        )
    match selection.neurons:
        case ast.Index(index=count):
            return (whole_number(count, "a synapse index"),)
        case ast.Slice(start=start, stop=stop):
            if stop is None:
                raise InvalidValueError(
                    "write the end of the slice: how many synapses a projection has is known only when the "
                    "network is built",
                    selection.neurons.span,
                )
            first = whole_number(start, "a slice start") if start else 0
            last = whole_number(stop, "a slice end")
            if first >= last:
                raise InvalidValueError(f"the slice [{first}:{last}] selects no synapses", selection.neurons.span)
            return tuple(range(first, last))
    raise AssertionError(f"unknown synapse selection {selection.neurons!r}")


def _times(times: ast.ValueList | None, simulation: ir.SimulationSettings) -> tuple[float, ...] | None:
    """Snapshot times: ascending, whole steps, within the run."""
    if times is None:
        return None
    if not times.items:
        raise InvalidValueError("list at least one snapshot time", times.span)
    dt = simulation.dt
    found: list[float] = []
    for item in times.items:
        time = constant(item, SECOND, "a snapshot time")
        if not whole_steps(time, dt):
            raise InvalidValueError(
                f"a snapshot is taken at the end of a step, so its time must be a whole number of steps, but "
                f"{time:g} s is {time / dt:g} steps of dt = {dt:g} s",
                item.span,
            )
        if not 0 <= time <= simulation.duration:
            raise InvalidValueError(
                f"the snapshot time {time:g} s is outside the run (0 to {simulation.duration:g} s)", item.span
            )
        if found and time <= found[-1]:
            raise InvalidValueError(
                f"snapshot times must ascend, but {time:g} s comes after {found[-1]:g} s", item.span
            )
        found.append(time)
    return tuple(found)
