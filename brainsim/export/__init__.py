"""Writing results to the field's file formats, chosen by the file's extension.

    results.save("run.npz")     # numpy: everything in Results (brainsim.export.npz; load_npz reads it back)
    results.save("run.nwb")     # Neurodata Without Borders (pynwb): Units table and TimeSeries
    results.save("spikes.h5")   # SONATA spike file (h5py), as bmtk, NEST and PyNN write it
    results.to_neo()            # Neo objects in memory, for Elephant (brainsim.export.neo)

`check_output` validates a path before anything is simulated (the CLI calls it before
a run, so a long run is not wasted on a typo); `save` checks again and writes to a
temporary file beside the target, renamed into place once complete, so a failed
export leaves neither a partial file nor a changed `Results`, and says so.
See docs/export.md for each format's layout.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from brainsim.errors import BrainsimError, ExportError
from brainsim.export import npz, nwb, sonata
from brainsim.export.neo import to_neo
from brainsim.export.npz import load_npz
from brainsim.extras import require
from brainsim.results import Results

__all__ = ["FORMATS", "Format", "check_output", "known_extensions", "load_npz", "save", "to_neo"]


@dataclass(frozen=True, slots=True)
class Format:
    """A file format: its `name` (for `format=`), its file `extension`, its `title`, its
    writer `write(results, path, description)`, and the library it needs (None: numpy
    only) with the extra that installs it."""

    name: str
    extension: str
    title: str
    write: Callable[[Results, Path, str | None], None]
    library: str | None = None
    extra: str | None = None


FORMATS = (
    Format("npz", ".npz", "numpy arrays", npz.write),
    Format("nwb", ".nwb", "Neurodata Without Borders", nwb.write, "pynwb", "nwb"),
    Format("sonata", ".h5", "SONATA spike file", sonata.write, "h5py", "sonata"),
)


def known_extensions() -> str:
    """The extensions `save` knows, with what each writes, as text for help and errors."""
    return ", ".join(f"{f.extension} ({f.title})" for f in FORMATS)


def check_output(path: str | Path, format: str | None = None) -> Format:
    """The format results written to `path` would have, once it is known that they can be.

    Args:
        path: the file to write; its extension chooses the format unless `format` does.
        format: a format name (`FORMATS`: "npz", "nwb", "sonata"), whatever the extension.
    Raises:
        ExportError: an unknown extension or format (the message lists the known ones),
            a missing library (it names the extra to install), or a path that cannot be
            written (a missing folder, a folder in the way, no permission).
    """
    path = Path(path)
    try:
        chosen = _format(path, format)
        if chosen.library is not None:
            require(chosen.library, chosen.extra, f"writing {chosen.name} files")
        _check_writable(path)
    except BrainsimError as error:
        raise ExportError(f"cannot write {str(path)!r}: {error.message}", str(path), error.message) from None
    return chosen


def save(results: Results, path: str | Path, format: str | None = None, description: str | None = None) -> Path:
    """Write `results` to `path` in the format its extension names (or `format`); returns the path.

    `description` says what was run (the NWB session description; kept in the `.npz`).

    Raises:
        ExportError: the results were not written (see `check_output`, or the writer
            failed); the message says why, and that `results` are intact.
    """
    if not isinstance(path, (str, Path)):
        raise ExportError(f"results not written: a path is a str or pathlib.Path, not {path!r}", repr(path),
                          "not a path")
    path = Path(path)
    try:
        _write_in_place(check_output(path, format), results, path, description)
    except ExportError as error:
        raise ExportError(f"results not written to {error.path!r}: {error.reason}; the results in memory are "
                          "intact (save them again, to another path or format)", error.path, error.reason) from None
    return path


def _format(path: Path, name: str | None) -> Format:
    """The format named `name`, else the one of `path`'s extension."""
    if name is not None:
        known = {f.name: f for f in FORMATS}
        if name not in known:
            raise BrainsimError(f"unknown format {name!r}; the known formats are {', '.join(known)}")
        return known[name]
    known = {f.extension: f for f in FORMATS}
    suffix = path.suffix.lower()
    if suffix not in known:
        what = f"the extension {suffix!r}" if suffix else "a file name without an extension"
        raise BrainsimError(f"{what} names no format; the known extensions are {known_extensions()}")
    return known[suffix]


def _check_writable(path: Path) -> None:
    """Raise BrainsimError unless a file can be created at `path` (by creating and removing one beside it)."""
    folder = path.parent
    if path.is_dir():
        raise BrainsimError("it is a folder")
    if not folder.is_dir():
        raise BrainsimError(f"the folder {str(folder)!r} does not exist" if not folder.exists()
                            else f"{str(folder)!r} is not a folder")
    try:
        _temporary_beside(path).unlink()
    except OSError as error:
        raise BrainsimError(f"the folder {str(folder)!r} cannot be written to ({error.strerror})") from None
    if path.exists() and not os.access(path, os.W_OK):
        raise BrainsimError("the file exists and is read-only")


def _temporary_beside(path: Path) -> Path:
    """A new empty file in `path`'s folder, hidden, named after `path` and with its extension
    (pynwb warns about a file name that does not end in .nwb)."""
    descriptor, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=f".part{path.suffix}")
    os.close(descriptor)
    return Path(name)


def _write_in_place(chosen: Format, results: Results, path: Path, description: str | None) -> None:
    """Write to a temporary file beside `path`, then rename it to `path`: a reader never
    sees a partial file, and a failed write leaves whatever was at `path` before.

    Any failure, the writer's (no spikes for a spike file), its library's (h5py, pynwb)
    or the disk's, becomes an ExportError: the run that made the results must not end in
    a traceback that hides that they are still there.
    """
    temporary = None
    try:
        temporary = _temporary_beside(path)
        chosen.write(results, temporary, description)
        os.replace(temporary, path)
    except Exception as error:
        if temporary is not None:
            temporary.unlink(missing_ok=True)
        reason = error.message if isinstance(error, BrainsimError) else f"{type(error).__name__}: {error}"
        raise ExportError(reason, str(path), reason) from error
