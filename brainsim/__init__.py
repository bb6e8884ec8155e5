"""brainsim: spiking networks written as `.brain` text, run on numpy or JAX with identical results.

    >>> import brainsim
    >>> model = brainsim.load("models/visual_pathway.brain")
    >>> results = model.compile(backend="numpy").run()
    >>> print(results.format_table())

`load` / `loads` give a `Model`; `Model.compile` a `Simulation` (`brainsim.backends`);
`Simulation.run` the `Results` (`brainsim.results`). The language is described in
docs/language.md, its errors in `brainsim.errors`, the IR both backends run in
`brainsim.ir`. The submodules listed here make up the API reference
(`python -m pdoc -d google brainsim -o site/api`; docs/index.md).
"""

from brainsim import (
    arguments, backends, describe, dsl, errors, export, graph, integrators, interrupts, ir, network, plotting, precision,
    progress, recorded, results, simulation, sonata, std, units, validate,
)
from brainsim.backends import Simulation
from brainsim.errors import (
    BrainsimError,
    DaleError,
    DuplicateNameError,
    ExportError,
    Interrupted,
    InvalidValueError,
    LimitError,
    MissingExtraError,
    NotRecordedError,
    OutputFileError,
    ParseError,
    ResourceError,
    SimulationError,
    SonataError,
    SourceSpan,
    UnitError,
    UnknownKeyError,
    UnknownNameError,
)
from brainsim.model import Model, load, loads
from brainsim.results import Results

__all__ = [
    "BrainsimError",
    "DaleError",
    "DuplicateNameError",
    "ExportError",
    "Interrupted",
    "InvalidValueError",
    "LimitError",
    "MissingExtraError",
    "Model",
    "NotRecordedError",
    "OutputFileError",
    "ParseError",
    "ResourceError",
    "Results",
    "Simulation",
    "SimulationError",
    "SonataError",
    "SourceSpan",
    "UnitError",
    "UnknownKeyError",
    "UnknownNameError",
    "load",
    "loads",
    # submodules, in the API reference (pdoc documents what __all__ lists)
    "arguments",
    "backends",
    "describe",
    "dsl",
    "errors",
    "export",
    "graph",
    "integrators",
    "interrupts",
    "ir",
    "network",
    "plotting",
    "precision",
    "progress",
    "recorded",
    "results",
    "simulation",
    "sonata",
    "std",
    "units",
    "validate",
]
