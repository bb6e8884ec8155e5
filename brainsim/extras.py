"""The optional libraries (the extras of `pyproject.toml`), imported only when a feature needs one.

`import brainsim` stays light: Neo, pynwb, h5py and matplotlib are imported by the
function that uses them, through `require`, which turns a missing library into a
`MissingExtraError` that says what to install.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from brainsim.errors import MissingExtraError

DISTRIBUTION = "brainsim-lang"


def require(module: str, extra: str, purpose: str) -> ModuleType:
    """Import `module`, which the extra `extra` installs, for `purpose` ("writing 'run.nwb'").

    Raises:
        MissingExtraError: the module is not installed (or fails to import); the
            message names `purpose` and the pip command that installs the extra.
    """
    try:
        return importlib.import_module(module)
    except ImportError as error:
        # A library that is there but fails to import (a broken dependency) says why.
        why = "is not installed" if error.name == module else f"cannot be imported ({error})"
        raise MissingExtraError(f'{purpose} needs {module}, which {why}: pip install "{DISTRIBUTION}[{extra}]"') from None
