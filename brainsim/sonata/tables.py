"""The node types and edge types tables of a SONATA network.

SONATA's CSV dialect (developer guide, "Common conventions"): columns separated
by one or more spaces, a field with spaces in double quotes, a header row that
names the columns::

    node_type_id model_type    model_template     dynamics_params      pop_name
    100          point_neuron  nest:iaf_psc_alpha 472363762_point.json Scnn1a
    101          virtual       NULL               NULL                 lgn

The id column (`node_type_id`, `edge_type_id`) is required. A table that serves
several populations may have a `population` column saying whose row it is (a
row without one serves every population). `NULL` (bmtk writes `NONE`) or an
empty quoted field is no value. A row's span is its line, so an error about a
node type shows that line of the table.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from brainsim.errors import SonataError, SourceSpan

_NO_VALUE = frozenset({"", "NULL", "NONE", "None", "null", "NaN", "nan"})


@dataclass(frozen=True)
class TypeRow:
    """One row of a type table: its id, the values it gives (column -> text; columns without
    a value are left out), and where it is written."""

    type_id: int
    values: Mapping[str, str]
    span: SourceSpan

    def get(self, column: str) -> str | None:
        return self.values.get(column)

    def number(self, column: str) -> float | None:
        """The value of `column` as a number, None if the row gives none.

        Raises SonataError at the row if the value is not a number.
        """
        text = self.values.get(column)
        if text is None:
            return None
        try:
            return float(text)
        except ValueError:
            raise SonataError(f"`{column}` of type {self.type_id} in {Path(self.span.file).name} must be a number, "
                              f"not `{text}`", self.span) from None


@dataclass(frozen=True)
class TypeTable:
    """A node types or edge types table: its rows, in file order."""

    path: Path
    id_column: str
    columns: tuple[str, ...]
    rows: tuple[TypeRow, ...]

    def row(self, type_id: int, population: str) -> TypeRow | None:
        """The row of `type_id` for `population` (its own, or one that serves every population)."""
        for row in self.rows:
            if row.type_id == type_id and row.get("population") in (None, population):
                return row
        return None

    def ids(self, population: str) -> list[int]:
        """The type ids the table gives `population`."""
        return [row.type_id for row in self.rows if row.get("population") in (None, population)]


def read_types(path: Path, id_column: str) -> TypeTable:
    """The type table at `path`, whose rows are identified by `id_column`.

    Raises SonataError if the file cannot be read or is empty, has no `id_column`, a row
    has more or fewer fields than the header, an id is not a whole number, or an id is
    given twice for one population.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as problem:
        raise SonataError(f"cannot read the types table {path}: {problem}") from None
    lines = [(number, line) for number, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if not lines:
        raise SonataError(f"the types table {path.name} is empty; it starts with a header row naming its columns")
    header_line, header = lines[0]
    columns = _fields(header)
    if id_column not in columns:
        raise SonataError(f"the types table {path.name} has no column `{id_column}`; its columns are "
                          f"{', '.join(columns)} (SONATA tables separate columns by spaces)",
                          _line_span(path, text, header_line))
    rows, seen = [], {}
    for number, line in lines[1:]:
        span = _line_span(path, text, number)
        fields = _fields(line)
        if len(fields) != len(columns):
            raise SonataError(f"line {number} of {path.name} has {len(fields)} fields, but the header names "
                              f"{len(columns)} columns", span)
        values = {column: value for column, value in zip(columns, fields) if value not in _NO_VALUE}
        text_id = values.get(id_column, "")
        if not text_id.lstrip("-").isdigit():
            raise SonataError(f"`{id_column}` on line {number} of {path.name} must be a whole number, not `{text_id}`", span)
        row = TypeRow(int(text_id), values, span)
        key = (row.type_id, row.get("population"))
        if key in seen:
            raise SonataError(f"{id_column} {row.type_id} is given twice in {path.name} (lines {seen[key]} and {number})", span)
        seen[key] = number
        rows.append(row)
    return TypeTable(path, id_column, tuple(columns), tuple(rows))


def dynamics_params(row: TypeRow, table: TypeTable, folder: Path) -> tuple[str, dict]:
    """The file name in the row's `dynamics_params` column and the JSON object it holds (NEST's
    parameters of the type's model); a name that is not absolute is in `folder` (the config's
    point_neuron_models_dir or synaptic_models_dir). Without one: a description of the row, {}.

    Raises SonataError at the row if the file is missing, is not JSON, or is not an object.
    """
    kind = table.id_column.removesuffix("_id").replace("_", " ")
    name = row.get("dynamics_params")
    if name is None:
        return f"{kind} {row.type_id}", {}
    path = Path(name) if Path(name).is_absolute() else folder / name
    where = f"{kind} {row.type_id} of {table.path.name}"
    try:
        written = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SonataError(f"{where} has dynamics_params {name}, but there is no such file ({path})", row.span) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as problem:
        raise SonataError(f"cannot read {path.name}, the dynamics_params of {where}: {problem}", row.span) from None
    if not isinstance(written, dict):
        raise SonataError(f"{path.name}, the dynamics_params of {where}, must hold a JSON object of parameters, "
                          f"not {type(written).__name__}", row.span)
    return path.name, written


def _fields(line: str) -> list[str]:
    """The fields of one line: separated by runs of spaces (or tabs), quotes with `"`."""
    return next(csv.reader([line.replace("\t", " ").strip()], delimiter=" ", quotechar='"', skipinitialspace=True))


def _line_span(path: Path, text: str, line: int) -> SourceSpan:
    content = text.splitlines()[line - 1]
    return SourceSpan(str(path), line, 1, line, max(len(content.rstrip()), 1) + 1, text)
