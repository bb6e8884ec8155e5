"""Data files a model names: tables of numbers in CSV or .npz, with units in their headers.

A model reads per-neuron values, positions, connectomes and current traces from
files (`from_file("params.csv", column = "tau_m")`, `edges = "connectome.csv"`).
This module finds such a file and reads it into columns of SI floats, so every
construct that reads files reports the same mistakes in the same words:

* a name is resolved relative to the folder of the model file that writes it, and
  must lead inside the folders the model may read (`brainsim.dsl.folders`);
* a column header is `name` or `name [unit]` (`weight [nA]`, `t [ms]`), the same
  in CSV headers and .npz keys; a column without a unit is dimensionless;
* a malformed CSV row is reported at its own line and column in the CSV file,
  so the caret points into the data, not at the model.

The values are read once, on the host, while lowering; the IR then holds them
as numbers (`ir.Values`, `ir.EdgeList`, ...), so a model's IR does not change
when the file does afterwards.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from brainsim.dsl import ast
from brainsim.dsl.dimensions import quantity_value, symbol_for
from brainsim.dsl.folders import is_file, lies_within
from brainsim.errors import InvalidValueError, SourceSpan, UnitError, UnknownNameError, did_you_mean, source_lines
from brainsim.units import DIMENSIONLESS, Dimension

_HEADER = re.compile(r"\s*(?P<name>[^\[\]]*?)\s*(?:\[\s*(?P<unit>[^\[\]]*?)\s*\])?\s*")
_READERS = (".csv", ".npz")


def resolve(file: ast.Text) -> Path:
    """The data file `file` names: relative to the folder of the model file that writes it
    (the current folder for a model given as a string), or absolute.

    Rejects::

        tau = from_file("../../secret.csv", column = "tau")    # outside the model's folders
        edges = "/etc/hosts"                                   # outside, written as an absolute path
        edges = "link.csv"                                     # a symbolic link that leads outside
        edges = "conectome.csv"                                # no such file (did you mean ...?)
    """
    name, span = file.value, file.span
    base = Path(span.file).parent if span.file and not span.file.startswith("<") else Path.cwd()
    path = base / name
    if not lies_within(path, file.folders):
        raise InvalidValueError(
            f'cannot read "{name}": it is outside the folders the model may read from '
            f"(its own folder, the include folders)",
            span,
            f"pass its folder as an include path (`--include {path.resolve().parent}`, or `include=` in Python)",
        )
    if is_file(path):
        return path
    nearby = sorted(p.name for p in path.parent.iterdir()) if path.parent.is_dir() else []
    raise InvalidValueError(
        f'file not found: "{name}" (looked for {path})', span, did_you_mean(Path(name).name, nearby)
    )


@dataclass(frozen=True)
class Column:
    """One column as read: its values (float64) and the unit text of its header, if any."""

    name: str
    values: np.ndarray
    unit: str | None


@dataclass(frozen=True)
class Table:
    """The columns of one data file, all of `rows` values. `span` is where the model names
    the file; `lines` the line of each data row in a CSV file's `text` (empty for .npz)."""

    path: Path
    columns: dict[str, Column]
    rows: int
    span: SourceSpan
    lines: tuple[int, ...] = ()
    text: str = ""

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.columns)

    def row_span(self, row: int) -> SourceSpan:
        """Where data row `row` (from 0) is: its whole line in a CSV file, so an error about
        that row shows the data; the model's span for a .npz file, which has no lines."""
        if not self.lines:
            return self.span
        line = self.lines[row]
        content = source_lines(self.text)[line - 1]
        return SourceSpan(str(self.path), line, 1, line, max(len(content), 1) + 1, self.text)

    def dimension(self, name: str, span: SourceSpan) -> Dimension:
        """The dimension the header of column `name` gives (dimensionless without a unit).

        Raises UnknownNameError at `span` if the file has no such column, UnitError
        if its header's unit is unknown.
        """
        return self._unit(self._column(name, span), span)[1]

    def column(self, name: str, dimension: Dimension, span: SourceSpan, integer: bool = False) -> np.ndarray:
        """Column `name` in SI units (int64 if `integer`), checked against `dimension`.

        Raises UnknownNameError if the file has no such column, UnitError if its
        header's unit is unknown or of another dimension, InvalidValueError if
        `integer` and a value is not a whole number.
        """
        column = self._column(name, span)
        factor, written = self._unit(column, span)
        if written != dimension:
            unit = f"`{column.unit}` ({written})" if column.unit else "no unit (dimensionless)"
            raise UnitError(
                f"column `{name}` of {self.path.name} must have dimension {dimension}, but its header gives {unit}",
                span,
                hint=f"write the unit in the header, e.g. `{name} [{_example_unit(dimension)}]`",
            )
        values = column.values * factor if factor != 1.0 else column.values.copy()
        if not integer:
            return values
        whole = np.isfinite(values) & (values == np.round(values))
        if not whole.all():
            row = int(np.argmin(whole))
            raise InvalidValueError(
                f"column `{name}` of {self.path.name} must hold whole numbers, but row {row + 1} is {float(values[row])!r}",
                span,
            )
        return values.astype(np.int64)

    def _column(self, name: str, span: SourceSpan) -> Column:
        if name not in self.columns:
            raise UnknownNameError(
                f"{self.path.name} has no column `{name}`; its columns are {', '.join(self.names) or 'none'}",
                span,
                did_you_mean(name, self.names),
            )
        return self.columns[name]

    def _unit(self, column: Column, span: SourceSpan) -> tuple[float, Dimension]:
        if column.unit is None:
            return 1.0, DIMENSIONLESS
        quantity = ast.Quantity("1", column.unit, span, span)
        try:
            return quantity_value(quantity)
        except UnitError as error:
            raise UnitError(f"column `{column.name}` of {self.path.name}: {error.message}", span, error.hint) from None


def read_table(path: Path, span: SourceSpan) -> Table:
    """The columns of the CSV or .npz file at `path` (named by the model at `span`).

    Raises InvalidValueError for a file of another kind, one that cannot be
    read, a header cell written twice or empty, and, in a CSV file, a row with
    the wrong number of cells or a cell that is not a number (at that cell).
    """
    match path.suffix.lower():
        case ".csv":
            return _read_csv(path, span)
        case ".npz":
            return _read_npz(path, span)
    raise InvalidValueError(
        f"cannot read {path.name}: the data files brainsim reads are {' and '.join(_READERS)}", span
    )


def _read_csv(path: Path, span: SourceSpan) -> Table:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as problem:
        raise InvalidValueError(f"cannot read {path.name}: {problem}", span) from None
    rows = [(number, line) for number, line in enumerate(source_lines(text), start=1)
            if line.strip() and not line.lstrip().startswith("#")]
    if not rows:
        raise InvalidValueError(f"{path.name} is empty; a data file starts with a header row", span)
    header_line, header = rows[0]
    cells = header.split(",")
    here = _csv_span(path, text, header_line)
    names = [_header(cell, path, here(header, k)) for k, cell in enumerate(cells)]
    values = np.empty((len(rows) - 1, len(names)))
    for r, (number, line) in enumerate(rows[1:]):
        where = _csv_span(path, text, number)
        fields = line.split(",")
        if len(fields) != len(names):
            raise InvalidValueError(
                f"row {r + 1} of {path.name} has {len(fields)} cells, but the header names {len(names)} columns",
                where(line, 0),
            )
        for k, cell in enumerate(fields):
            try:
                values[r, k] = float(cell)
            except ValueError:
                raise InvalidValueError(
                    f"row {r + 1} of {path.name}: `{cell.strip()}` in column `{names[k][0]}` is not a number",
                    where(line, k),
                ) from None
    table = _table(path, names, [values[:, k] for k in range(len(names))], span)
    return replace(table, lines=tuple(number for number, _ in rows[1:]), text=text)


def _csv_span(path: Path, text: str, line: int):
    """A function (line text, cell index) -> the span of that cell of CSV line `line`."""

    def cell(content: str, k: int) -> SourceSpan:
        starts = [0] + [i + 1 for i, char in enumerate(content) if char == ","]
        start = starts[k] if k < len(starts) else len(content)
        end = content.find(",", start)
        end = len(content) if end < 0 else end
        return SourceSpan(str(path), line, start + 1, line, max(end, start + 1) + 1, text)

    return cell


def _read_npz(path: Path, span: SourceSpan) -> Table:
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: np.asarray(archive[key]) for key in archive.files}
    except (OSError, ValueError, zipfile.BadZipFile) as problem:
        raise InvalidValueError(f"cannot read {path.name}: {problem}", span) from None
    names = [_header(key, path, span) for key in arrays]
    columns = []
    for (name, _), array in zip(names, arrays.values()):
        if array.ndim != 1 or not np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.complexfloating):
            raise InvalidValueError(
                f"array `{name}` of {path.name} must be one-dimensional and of real numbers, "
                f"but it has shape {array.shape} and type {array.dtype}",
                span,
            )
        columns.append(array.astype(np.float64))
    return _table(path, names, columns, span)


def _header(cell: str, path: Path, span: SourceSpan) -> tuple[str, str | None]:
    match = _HEADER.fullmatch(cell)
    if match is None or not match["name"]:
        raise InvalidValueError(
            f"header `{cell.strip()}` of {path.name} is not `name` or `name [unit]`", span
        )
    return match["name"], match["unit"] or None


def _table(path: Path, names: list[tuple[str, str | None]], values: list[np.ndarray], span: SourceSpan) -> Table:
    columns: dict[str, Column] = {}
    for (name, unit), column in zip(names, values):
        if name in columns:
            raise InvalidValueError(f"{path.name} has two columns named `{name}`", span)
        columns[name] = Column(name, column, unit)
    lengths = {len(column) for column in values}
    if len(lengths) > 1:
        raise InvalidValueError(f"the arrays of {path.name} have different lengths ({sorted(lengths)})", span)
    return Table(path, columns, lengths.pop() if lengths else 0, span)


def _example_unit(dimension: Dimension) -> str:
    return symbol_for(dimension) or "unit"
