"""`stimulus` waveforms: what each lowers to, and the mistakes in the files `from_file` reads.

The mistakes a model's own text makes are files in tests/dsl/invalid/ (`*ou*`,
`*sinusoid*`, `*steps*`, `*waveform*`, `*interpolation*`, `*from_file*`).
"""

from pathlib import Path

import pytest

import brainsim
from brainsim import ir
from brainsim.errors import InvalidValueError, UnitError, UnknownNameError

MODEL = """simulation {{ duration = 10 ms }}
neuron N {{ inputs {{ I = 0 nA }}  state {{ v = 0 mV }}  equations {{ dv/dt = -v / (10 ms) }} }}
region A {{ a = N[2] }}
stimulus A {{ I += {waveform} }}
"""


def waveform(text: str, folder: Path | None = None) -> ir.Waveform:
    if folder is None:
        network = brainsim.loads(MODEL.format(waveform=text), "stimuli.brain").network
    else:
        (folder / "m.brain").write_text(MODEL.format(waveform=text))
        network = brainsim.load(folder / "m.brain").network
    (stimulus,) = network.stimuli
    return stimulus.waveform


def test_each_waveform_lowers_to_its_ir_in_si_units(tmp_path):
    assert waveform("steps(times = [10 ms, 50 ms], amplitudes = [1 nA, 0 nA])") == ir.StepCurrent(
        (0.01, 0.05), (1e-9, 0.0))
    assert waveform("sinusoid(amplitude = 1 nA, frequency = 10 Hz)") == ir.Sinusoid(
        1e-9, 10.0, 0.0, 0.0, 0.0, float("inf"))
    assert waveform("sinusoid(amplitude = 2 pA, frequency = 1 kHz, phase = 1.5, offset = 1 pA, start = 1 ms, "
                    "stop = 2 ms)") == ir.Sinusoid(2e-12, 1000.0, 1.5, 1e-12, 0.001, 0.002)
    assert waveform("ou(mean = 0.5 nA, std = 0.1 nA, tau = 5 ms)") == ir.OrnsteinUhlenbeck(0.5e-9, 0.1e-9, 0.005)
    assert waveform("ou(std = 0.1 nA, tau = 5 ms)") == ir.OrnsteinUhlenbeck(0.0, 0.1e-9, 0.005)
    (tmp_path / "current.csv").write_text("t [ms], I [pA]\n0, 10\n2.5, -20\n")
    assert waveform('from_file("current.csv", interpolation = previous)', tmp_path) == ir.TimeSeries(
        (0.0, 0.0025), (1e-11, -2e-11), ir.Interpolation.PREVIOUS)


def test_a_current_file_may_be_npz(tmp_path):
    import numpy as np

    np.savez(tmp_path / "current.npz", **{"t [s]": np.array([0.0, 0.001]), "I [nA]": np.array([1.0, 2.0])})
    series = waveform('from_file("current.npz", interpolation = linear)', tmp_path)
    assert series == ir.TimeSeries((0.0, 0.001), (1e-9, 2e-9), ir.Interpolation.LINEAR)


@pytest.mark.parametrize("contents, error, fragment, where", [
    ("t [ms], I [nA]\n0, 1\n1, x\n", InvalidValueError, "row 2 of current.csv: `x` in column `I` is not a number",
     ("current.csv", 3)),
    ("t [ms], I [nA]\n0, 1\n1\n", InvalidValueError, "row 2 of current.csv has 1 cells", ("current.csv", 3)),
    ("time [ms], I [nA]\n0, 1\n", UnknownNameError, "no column `t`", ("m.brain", 4)),
    ("t [ms], I [mV]\n0, 1\n", UnitError, "column `I` of current.csv must have dimension A", ("m.brain", 4)),
    ("t [mV], I [nA]\n0, 1\n", UnitError, "column `t` of current.csv must have dimension s", ("m.brain", 4)),
    ("t [ms], I [nA], J [nA]\n0, 1, 2\n", InvalidValueError, "one value column", ("m.brain", 4)),
    ("t [ms], I [nA]\n0, 1\n2, 1\n1, 1\n", InvalidValueError, "row 3 (0.001 s) does not come after row 2",
     ("m.brain", 4)),
    ("t [ms], I [nA]\n0, nan\n", InvalidValueError, "row 1 of current.csv: `I` is not a finite number",
     ("m.brain", 4)),
    ("t [ms], I [nA]\n", InvalidValueError, "has no samples", ("m.brain", 4)),
])
def test_mistakes_in_a_current_file_are_reported_where_they_are(tmp_path, contents, error, fragment, where):
    (tmp_path / "current.csv").write_text(contents)
    with pytest.raises(error) as caught:
        waveform('from_file("current.csv", interpolation = linear)', tmp_path)
    assert fragment in caught.value.message
    assert (Path(caught.value.span.file).name, caught.value.span.line) == where


def test_a_named_value_column_that_is_missing_points_at_the_name(tmp_path):
    (tmp_path / "current.csv").write_text("t [ms], I [nA], J [nA]\n0, 1, 2\n")
    with pytest.raises(UnknownNameError, match="no column `K`") as caught:
        waveform('from_file("current.csv", interpolation = linear, column = "K")', tmp_path)
    span = caught.value.span
    assert (tmp_path / "m.brain").read_text().splitlines()[span.line - 1][span.column - 1 : span.end_column - 1] == '"K"'
    assert waveform('from_file("current.csv", interpolation = linear, column = "J")', tmp_path).values == (2e-9,)


@pytest.mark.parametrize("text, fragment", [
    ("from_file(interpolation = linear)", "takes the file name first"),
    ('from_file("c.csv")', "needs `interpolation = ...`"),
    ("sinusoid(amplitude = 1 nA)", "needs `frequency = ...`"),
    ("steps(times = [], amplitudes = [])", "is an empty list"),
    ("ou(1 nA, 5 ms)", "takes named arguments"),
    ("sinusoid(amplitude = 1 nA, frequency = 10 Hz, start = 5 ms, stop = 1 ms)", "must come before `stop`"),
    ("ou(std = 0.1 nA, tau = 5 ms, mean = 1 mV)", "`mean` must have dimension A"),
])
def test_malformed_waveform_calls_say_what_is_expected(text, fragment):
    with pytest.raises(brainsim.BrainsimError) as caught:
        waveform(text)
    assert fragment in caught.value.message and caught.value.span.line == 4


def test_a_waveform_in_an_equation_is_sent_to_a_stimulus_block():
    text = MODEL.format(waveform="1 nA").replace("-v / (10 ms)", "-v / (10 ms) + sinusoid(amplitude = 1 mV) / (1 ms)")
    with pytest.raises(InvalidValueError, match="cannot be used here") as caught:
        brainsim.loads(text, "m.brain")
    assert "stimulus waveform" in caught.value.hint


SELECTED = """simulation { duration = 10 ms }
neuron N { inputs { I = 0 nA }  state { v = 0 mV }  equations { dv/dt = -v / (10 ms) } }
region A { a = N[8] }
region B { x = N[2]  y = N[3] }
stimulus A.a[3] { I += 1 nA }
stimulus A[0:5] { I += 1 nA }
stimulus A.a[:2] { I += 1 nA }
stimulus A.a[6:] { I += 1 nA }
stimulus B { I += 1 nA }
"""


def test_a_selection_lowers_to_the_neurons_within_the_population_and_none_to_every_neuron():
    stimuli = brainsim.loads(SELECTED, "selected.brain").network.stimuli
    assert [(s.population, s.indices) for s in stimuli] == [
        ("A.a", (3,)), ("A.a", (0, 1, 2, 3, 4)), ("A.a", (0, 1)), ("A.a", (6, 7)), ("B.x", None), ("B.y", None),
    ]
