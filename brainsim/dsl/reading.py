"""Model files into text: the size limit, checked before the file is read, and UTF-8 decoding.

The main model file (`brainsim.load`) and every file it imports are read here, in
the same way, so that a file too large, a pipe that never ends (`/dev/zero`), a
binary file or one in another encoding gets the same clear error wherever it is
named. At most `MAX_MODEL_BYTES` and one more byte are ever read from a file.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from brainsim.dsl.limits import MAX_MODEL_BYTES, check_model_size
from brainsim.errors import BrainsimError, ParseError, SourceSpan


def read_model(path: Path, shown: str) -> str:
    """The text of the model file at `path`, named `shown` in errors.

    Raises:
        LimitError: the file is larger than `MAX_MODEL_BYTES` (said before reading it, when
            its size is known).
        BrainsimError: the file cannot be opened or read.
        ParseError: the file is not UTF-8 text, at the first byte that is not.
    """
    try:
        with path.open("rb") as file:
            status = os.fstat(file.fileno())
            if stat.S_ISREG(status.st_mode):  # a pipe or a device has no size to check before reading
                check_model_size(status.st_size, shown)
            data = file.read(MAX_MODEL_BYTES + 1)
    except OSError as error:
        raise BrainsimError(f"cannot read model file {shown!r}: {error.strerror or error}") from None
    check_model_size(len(data), shown)
    return decode_source(data, shown)


def decode_source(data: bytes, filename: str) -> str:
    """The text of a model file's bytes, which must be UTF-8 (a byte-order mark is dropped).

    Raises:
        ParseError: a byte sequence that is not UTF-8, at its line and column, with its
            offset in the file.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        before = data[: error.start].decode("utf-8", errors="replace")
        line = before.count("\n") + 1
        column = len(before) - (before.rfind("\n") + 1) + 1
        shown = data.decode("utf-8", errors="replace")
        raise ParseError(
            f"the file is not UTF-8 text: byte 0x{data[error.start]:02X} at offset {error.start:,} cannot be read",
            SourceSpan(filename, line, column, line, column + 1, shown),
            "a .brain file is text; if this one is, save it as UTF-8 "
            "(most editors offer it under 'Save with encoding')",
        ) from None
    return text.removeprefix("\ufeff")
