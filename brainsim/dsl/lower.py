"""AST -> IR: the checked, SI-valued `ir.Network` of a parsed model.

Lowering resolves every name, checks every dimension and the values only the
text can locate (a list's element, a written argument), applies defaults and
overrides, expands region-level statements per population and checks Dale's
law (`dale`); its last step is
`brainsim.validate`, the one room for the rules every IR must satisfy.
The work is split by concern: `models` (neuron and synapse models),
`populations` (settings, regions, endpoints), `wiring` (connect, record),
`stimuli` (stimulus), `expressions` (names, dimensions, constant folding).
"""

from __future__ import annotations

from brainsim import ir
from brainsim.dsl import ast
from brainsim.dsl.dale import check_dale
from brainsim.dsl.populations import declare
from brainsim.dsl.stimuli import lower_stimulus
from brainsim.dsl.synapse_records import lower_synapse_records
from brainsim.dsl.wiring import lower_connect, lower_records, number_repeats
from brainsim.validate import deep_expressions, validate


def lower(model: ast.Model) -> ir.Network:
    """Check a parsed model and lower it into the IR.

    Args:
        model: the AST from `brainsim.dsl.parse`.
    Returns:
        The `ir.Network`: one `NeuronModel` per population with its values
        applied, one `Projection` per pair of connected populations, every
        quantity a float in SI units.
    Raises:
        UnknownNameError, DuplicateNameError, UnitError, InvalidValueError, LimitError:
            the first mistake found, with its position in the model text.
    """
    with deep_expressions():  # lowering recurses once per level of an expression
        network = _lower(model)
        validate(network)
    return network


def _lower(model: ast.Model) -> ir.Network:
    declared = declare(model)
    tops = [name for name, parent in declared.region_parents.items() if parent is None]
    populations = tuple(p for top in tops for p in declared.within(top))
    by_name = {p.name: p for p in populations}
    projections = []
    for connect in model.connects:
        lowered = lower_connect(connect, declared)
        check_dale(connect, lowered, by_name)
        projections += lowered
    stimuli = [s for stimulus in model.stimuli for s in lower_stimulus(stimulus, declared)]
    spike_records, state_records = lower_records(model.records, declared)
    named = number_repeats(projections)
    return ir.Network(
        simulation=declared.simulation,
        regions=tuple(
            ir.Region(name, tuple(p.name for p in direct), declared.region_parents[name], declared.region_spans[name])
            for name, direct in declared.regions.items()
        ),
        populations=populations,
        projections=named,
        stimuli=tuple(stimuli),
        spike_records=spike_records,
        state_records=state_records,
        source_name=model.filename,
        synapse_records=lower_synapse_records(model.records, declared, named),
    )
