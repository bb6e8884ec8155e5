"""`Model`: a checked, lowered `.brain` model, and the functions that make one.

This is the front door of the Python API: `load` / `loads` run the DSL front
end (parse, check, lower to the IR), and `Model.compile` hands the IR to a
backend.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from brainsim import arguments, ir
from brainsim.backends import Simulation, compile_network
from brainsim.dsl import Source, lower_source, read_source
from brainsim.dsl.overrides import with_values
from brainsim.dsl.reading import read_model
from brainsim.errors import BrainsimError, InvalidValueError


@dataclass(frozen=True)
class Model:
    """A model that passed every check, as the backend-neutral IR `network`, and the parsed
    text it came from (`source`; None for a network built in Python), which new values
    are applied to."""

    network: ir.Network
    source: Source | None = None

    def compile(self, backend: str = "numpy", dtype: str = "float64", max_memory: int | str | None = None,
                **options) -> Simulation:
        """Build a runnable simulation of this model on `backend` ("numpy" or "jax") in
        `dtype` ("float64" or "float32"), within `max_memory` (bytes or "4GB"; default: the
        memory available; more is refused with the estimate: `brainsim.resources`);
        `options` go to the backend (see `brainsim.backends.compile_network`)."""
        simulation = compile_network(self.network, backend=backend, dtype=dtype, max_memory=max_memory, **options)
        simulation.model = self
        return simulation

    def with_values(self, values: Mapping[str, object]) -> "Model":
        """The model with new values, as if the file had them (`brainsim.dsl.overrides`):
        `model.with_values({"Cortex.exc.tau_m": "10 ms", "seed": 7})`.

        Raises:
            InvalidValueError: the model was not read from text.
            BrainsimError: a name the model does not have, or a value the file could not hold.
        """
        if not isinstance(values, Mapping) or not all(isinstance(name, str) for name in values):
            raise InvalidValueError(f"new values are a dict of name -> value, names as text, not "
                                    f"{type(values).__name__} {arguments.shown(values)}",
                                    hint='e.g. {"Cortex.exc.tau_m": "10 ms", "seed": 7}')
        if self.source is None:
            raise InvalidValueError("new values are applied to a model read from text (brainsim.load or "
                                    "brainsim.loads); this one was built from an IR network")
        source = replace(self.source, model=with_values(self.source.model, values, self.source.folders))
        return Model(lower_source(source), source)

    def with_seed(self, seed: int) -> "Model":
        """The same model with another seed for its random initial values and connections."""
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise InvalidValueError(f"a seed is a non-negative integer, not {seed!r}")
        if self.source is not None:
            return self.with_values({"seed": seed})
        settings = replace(self.network.simulation, seed=seed)
        return Model(replace(self.network, simulation=settings))

    def _repr_html_(self) -> str:
        """Jupyter's view of a model: its populations and projections as tables (`brainsim.notebook`)."""
        from brainsim.notebook import model_html

        return model_html(self)


def loads(text: str, filename: str = "<string>", include: Sequence[str | Path] = ()) -> Model:
    """Check and lower model text; errors name `filename` and the line and column.

    Imports are relative to `filename`'s folder; `include` names more folders they may reach.
    """
    if not isinstance(text, str):
        raise InvalidValueError(f"loads takes the model's text (a str), not {type(text).__name__} {arguments.shown(text)}",
                                hint="brainsim.load reads a file by its path")
    if not isinstance(filename, str):
        raise InvalidValueError(f"a file name is a str, not {type(filename).__name__} {arguments.shown(filename)}")
    source = read_source(text, filename=filename, include=_folders(include))
    return Model(lower_source(source), source)


def _folders(include: object) -> tuple[Path, ...]:
    """The `include` folders as paths; InvalidValueError for anything but a list of paths."""
    if isinstance(include, (str, Path)):
        include = [include]  # one folder, though a list was asked for: what else could it mean
    if not isinstance(include, (list, tuple)) or not all(isinstance(f, (str, Path)) for f in include):
        raise InvalidValueError(f"include is a list of folders (str or pathlib.Path), not {arguments.shown(include)}")
    return tuple(Path(f) for f in include)


def load(path: str | Path, include: Sequence[str | Path] = ()) -> Model:
    """Read, check and lower the `.brain` file at `path`, with the files it imports.

    Args:
        path: the model file; the files it imports must lie in its folder's tree
            or in one of the `include` folders.
        include: more folders for imports, searched after the importing file's folder.
    Raises:
        LimitError: the file is larger than `brainsim.dsl.limits.MAX_MODEL_BYTES`.
        BrainsimError: the file cannot be read, or the model in it is wrong.
    """
    if not isinstance(path, (str, Path)):
        raise InvalidValueError(f"load takes the path of a .brain file (str or pathlib.Path), not "
                                f"{type(path).__name__} {arguments.shown(path)}", hint="brainsim.loads takes model text")
    return loads(read_model(Path(path), str(path)), filename=str(path), include=include)
