"""Results as Neo objects (the `neo` extra), the data model Elephant's analyses take.

`to_neo(results)` returns a `neo.Block` with one `neo.Segment` spanning the run:

- a `SpikeTrain` per neuron of each population whose spikes were recorded (times in
  s, `t_start`/`t_stop` the run's), named `<population>[<neuron>]` and annotated
  with `population` and `neuron` (its index within the population);
- an `AnalogSignal` per recorded (population, variable): one channel per recorded
  neuron (array annotation `neuron`), in the variable's SI unit, sampled every
  record interval from the first sample; annotated `population` and `variable`;
- a `neo.Group` per population (in `block.groups`) holding its spike trains and
  signals, to select by population.

Neo holds neurons, not synapses: synapse states are in the `.npz` export.
"""

from __future__ import annotations

from brainsim.export.common import per_neuron, sampling_period, time_span
from brainsim.extras import require
from brainsim.results import Results


def to_neo(results: Results, description: str | None = None):
    """The spikes and traces of `results` as a `neo.Block` (see the module docstring).

    Raises:
        MissingExtraError: neo is not installed.
    """
    neo = require("neo", "neo", "exporting results to Neo")
    import quantities as pq  # a dependency of neo, so there now

    start, end = time_span(results)
    segment = neo.Segment(name="run", description=description)
    groups = {}
    for name, trains in results.spikes.items():
        spiketrains = [
            neo.SpikeTrain(times, t_start=start, t_stop=end, units="s", name=f"{name}[{n}]", population=name, neuron=n)
            for n, times in enumerate(per_neuron(trains))
        ]
        segment.spiketrains.extend(spiketrains)
        groups.setdefault(name, []).extend(spiketrains)
    for (name, variable), trace in results.traces.items():
        period = sampling_period(trace, results.dt)
        names = {"name": f"{name}.{variable}", "population": name, "variable": variable,
                 "array_annotations": {"neuron": trace.indices}}
        if period is None:  # too few samples to have a sampling period
            signal = neo.IrregularlySampledSignal(trace.times * pq.s, trace.values, units=trace.unit, **names)
            segment.irregularlysampledsignals.append(signal)
        else:
            signal = neo.AnalogSignal(trace.values, units=trace.unit, t_start=trace.times[0] * pq.s,
                                      sampling_period=period * pq.s, **names)
            segment.analogsignals.append(signal)
        groups.setdefault(name, []).append(signal)
    block = neo.Block(name="brainsim results", description=description,
                      backend=results.backend, dt=results.dt, duration=results.duration)
    block.segments.append(segment)
    block.groups.extend([neo.Group(objects, name=name) for name, objects in groups.items()])
    return block

