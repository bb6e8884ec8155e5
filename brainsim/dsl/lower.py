"""AST -> IR: the checked, SI-valued `ir.Network` of a parsed model.

Lowering resolves every name, checks every dimension and the values only the
text can locate (a list's element, a written argument), applies defaults and
overrides, and expands region-level statements per population; its last step is
`brainsim.validate`, the one room for the rules every IR must satisfy.
The work is split by concern: `models` (neuron and synapse models),
`populations` (settings, regions, endpoints), `wiring` (connect, record),
`stimuli` (stimulus), `expressions` (names, dimensions, constant folding).
"""

from __future__ import annotations

from brainsim import ir
from brainsim.dsl import ast
from brainsim.dsl.populations import declare
from brainsim.dsl.syntax_errors import too_deep
from brainsim.dsl.stimuli import lower_stimulus
from brainsim.dsl.wiring import lower_connect, lower_records, number_repeats
from brainsim.validate import validate


def lower(model: ast.Model) -> ir.Network:
    """Check a parsed model and lower it into the IR.

    Args:
        model: the AST from `brainsim.dsl.parse`.
    Returns:
        The `ir.Network`: one `NeuronModel` per population with its values
        applied, one `Projection` per pair of connected populations, every
        quantity a float in SI units.
    Raises:
        UnknownNameError, DuplicateNameError, UnitError, InvalidValueError:
            the first mistake found, with its position in the model text.
    """
    try:
        network = _lower(model)
        validate(network)
        return network
    except RecursionError:
        text = model.simulation.span.text
        raise too_deep(text, model.filename) from None


def _lower(model: ast.Model) -> ir.Network:
    declared = declare(model)
    projections = [p for connect in model.connects for p in lower_connect(connect, declared)]
    stimuli = [s for stimulus in model.stimuli for s in lower_stimulus(stimulus, declared)]
    spike_records, state_records = lower_records(model.records, declared)
    return ir.Network(
        simulation=declared.simulation,
        regions=tuple(
            ir.Region(name, tuple(p.name for p in populations), span=declared.region_spans[name])
            for name, populations in declared.regions.items()
        ),
        populations=tuple(p for populations in declared.regions.values() for p in populations),
        projections=number_repeats(projections),
        stimuli=tuple(stimuli),
        spike_records=spike_records,
        state_records=state_records,
        source_name=model.filename,
    )
