"""brainsim: spiking networks written as `.brain` text, run on numpy or JAX with identical results.

    >>> import brainsim
    >>> model = brainsim.load("models/visual_pathway.brain")
    >>> results = model.compile(backend="numpy").run()
    >>> print(results.format_table())
"""

from brainsim.errors import (
    BrainsimError,
    DaleError,
    DuplicateNameError,
    ExportError,
    InvalidValueError,
    MissingExtraError,
    ParseError,
    SimulationError,
    SourceSpan,
    UnitError,
    UnknownNameError,
)
from brainsim.model import Model, load, loads

__all__ = [
    "BrainsimError",
    "DaleError",
    "DuplicateNameError",
    "ExportError",
    "InvalidValueError",
    "MissingExtraError",
    "Model",
    "ParseError",
    "SimulationError",
    "SourceSpan",
    "UnitError",
    "UnknownNameError",
    "load",
    "loads",
]
