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
    import quantities as pq  # dependencies of neo, so there now
    from neo.core.spiketrainlist import SpikeTrainList

    start, end = time_span(results)
    segment = neo.Segment(name="run", description=description)
    groups = {name: neo.Group(name=name) for name in results.spike_counts}
    trains = []
    for name, spikes in results.spikes.items():
        mine = [neo.SpikeTrain(times, t_start=start, t_stop=end, units="s", name=f"{name}[{n}]", population=name,
                               neuron=n) for n, times in enumerate(per_neuron(spikes))]
        groups[name].spiketrains = SpikeTrainList(mine)
        trains += mine
    # Built as whole lists: appending one by one checks each train against all before it,
    # which takes minutes at 20 000 neurons.
    segment.spiketrains = SpikeTrainList(trains, parent=segment)
    for train in trains:
        train.segment = segment
    for (name, variable), trace in results.traces.items():
        period = sampling_period(trace, results.dt)
        names = {"name": f"{name}.{variable}", "population": name, "variable": variable,
                 "array_annotations": {"neuron": trace.indices}}
        if period is None:  # too few samples to have a sampling period
            signal = neo.IrregularlySampledSignal(trace.times * pq.s, trace.values, units=trace.unit, **names)
            segment.irregularlysampledsignals.append(signal)
            groups[name].irregularlysampledsignals.append(signal)
        else:
            signal = neo.AnalogSignal(trace.values, units=trace.unit, t_start=trace.times[0] * pq.s,
                                      sampling_period=period * pq.s, **names)
            segment.analogsignals.append(signal)
            groups[name].analogsignals.append(signal)
    block = neo.Block(name="brainsim results", description=description,
                      backend=results.backend, dt=results.dt, duration=results.duration)
    block.segments.append(segment)
    block.groups.extend([group for group in groups.values() if group.data_children])
    return block
