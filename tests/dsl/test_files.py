"""Reading data files named by a model: CSV and .npz tables with units in their headers."""

import numpy as np
import pytest

from brainsim.dsl import ast
from brainsim.dsl.files import read_table, resolve
from brainsim.errors import InvalidValueError, SourceSpan, UnitError, UnknownNameError
from brainsim.units import DIMENSIONLESS, lookup_unit

AMPERE = lookup_unit("A")[1]
SECOND = lookup_unit("s")[1]


def span_in(folder) -> SourceSpan:
    return SourceSpan(str(folder / "model.brain"), 3, 5, 3, 20, "")


def write(folder, name, text):
    path = folder / name
    path.write_text(text)
    return path


def test_a_csv_column_is_converted_to_si_from_its_header_unit(tmp_path):
    path = write(tmp_path, "w.csv", "# weights\npre,post,weight [nA]\n0,1,2.5\n\n1,0,-1\n")
    table = read_table(path, span_in(tmp_path))
    assert table.names == ("pre", "post", "weight") and table.rows == 2
    assert table.column("weight", AMPERE, span_in(tmp_path)).tolist() == [2.5e-9, -1e-9]
    assert table.column("pre", DIMENSIONLESS, span_in(tmp_path), integer=True).dtype == np.int64


def test_a_row_span_is_its_line_in_the_csv_file_and_the_header_gives_the_dimension(tmp_path):
    path = write(tmp_path, "w.csv", "# weights\npre,post,weight [nA]\n0,1,2.5\n\n1,0,-1\n")
    table = read_table(path, span_in(tmp_path))
    second = table.row_span(1)
    assert (second.file, second.line, second.column, second.end_column) == (str(path), 5, 1, 7)
    assert second.source_line() == "1,0,-1"
    assert table.dimension("weight", span_in(tmp_path)) == AMPERE and table.dimension("pre", span_in(tmp_path)) == DIMENSIONLESS
    with pytest.raises(UnknownNameError, match="no column `w`"):
        table.dimension("w", span_in(tmp_path))


def test_an_npz_row_span_is_the_model_span(tmp_path):
    np.savez(tmp_path / "c.npz", pre=np.array([0, 1]))
    assert read_table(tmp_path / "c.npz", span_in(tmp_path)).row_span(1) == span_in(tmp_path)


def test_an_npz_file_reads_like_a_csv_file(tmp_path):
    np.savez(tmp_path / "c.npz", **{"t [ms]": np.array([0.0, 1.5]), "I [pA]": np.array([1.0, 2.0])})
    table = read_table(tmp_path / "c.npz", span_in(tmp_path))
    assert table.column("t", SECOND, span_in(tmp_path)).tolist() == [0.0, 0.0015]
    assert table.column("I", AMPERE, span_in(tmp_path)).tolist() == pytest.approx([1e-12, 2e-12], rel=1e-15)


def named_in(folder, name) -> ast.Text:
    """The file name `name` as a model in `folder` writes it, which may read files there."""
    return ast.Text(name, span_in(folder), (folder.resolve(),))


def test_a_file_is_found_next_to_the_model_that_names_it(tmp_path):
    write(tmp_path, "params.csv", "a\n1\n")
    assert resolve(named_in(tmp_path, "params.csv")) == tmp_path / "params.csv"
    with pytest.raises(InvalidValueError, match='file not found: "param.csv"') as caught:
        resolve(named_in(tmp_path, "param.csv"))
    assert caught.value.hint == "did you mean `params.csv`?"


def test_a_malformed_row_is_reported_at_its_line_and_cell_in_the_csv_file(tmp_path):
    path = write(tmp_path, "bad.csv", "pre,post\n0,1\n1,x\n")
    with pytest.raises(InvalidValueError, match="row 2 of bad.csv: `x` in column `post` is not a number") as caught:
        read_table(path, span_in(tmp_path))
    assert (caught.value.span.file, caught.value.span.line, caught.value.span.column) == (str(path), 3, 3)
    short = write(tmp_path, "short.csv", "pre,post\n0,1\n5\n")
    with pytest.raises(InvalidValueError, match="row 2 of short.csv has 1 cells, but the header names 2") as caught:
        read_table(short, span_in(tmp_path))
    assert caught.value.span.line == 3


def test_column_mistakes_name_the_column_and_the_unit(tmp_path):
    path = write(tmp_path, "w.csv", "weight [mV],n\n1,1.5\n")
    table = read_table(path, span_in(tmp_path))
    with pytest.raises(UnitError, match=r"column `weight` of w.csv must have dimension A, but its header gives `mV`"):
        table.column("weight", AMPERE, span_in(tmp_path))
    with pytest.raises(UnknownNameError, match="w.csv has no column `weigth`") as caught:
        table.column("weigth", AMPERE, span_in(tmp_path))
    assert caught.value.hint == "did you mean `weight`?"
    with pytest.raises(InvalidValueError, match="must hold whole numbers, but row 1 is 1.5"):
        table.column("n", DIMENSIONLESS, span_in(tmp_path), integer=True)
    unknown = write(tmp_path, "u.csv", "I [nAmp]\n1\n")
    with pytest.raises(UnitError, match="column `I` of u.csv: unknown unit `nAmp`"):
        read_table(unknown, span_in(tmp_path)).column("I", AMPERE, span_in(tmp_path))


def test_files_of_other_kinds_and_bad_headers_are_refused(tmp_path):
    with pytest.raises(InvalidValueError, match="the data files brainsim reads are .csv and .npz"):
        read_table(write(tmp_path, "a.txt", "a\n1\n"), span_in(tmp_path))
    with pytest.raises(InvalidValueError, match="has two columns named `a`"):
        read_table(write(tmp_path, "d.csv", "a,a [ms]\n1,2\n"), span_in(tmp_path))
    with pytest.raises(InvalidValueError, match="is empty"):
        read_table(write(tmp_path, "e.csv", "# nothing\n"), span_in(tmp_path))
    np.savez(tmp_path / "m.npz", a=np.zeros((2, 2)))
    with pytest.raises(InvalidValueError, match="must be one-dimensional"):
        read_table(tmp_path / "m.npz", span_in(tmp_path))
