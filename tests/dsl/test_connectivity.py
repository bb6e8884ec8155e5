"""`connect` settings for every rule: degrees, pair expressions, distributions, edge lists from files."""

import math

import numpy as np
import pytest

from brainsim import ir
from brainsim.dsl import compile_text
from brainsim.errors import BrainsimError, DuplicateNameError, InvalidValueError, UnitError, UnknownNameError
from brainsim.network import build

MODEL = """simulation {{ dt = 0.1 ms  duration = 5 ms  seed = 3 }}
neuron LIF {{
  parameters {{ tau = 10 ms }}
  state {{ v = 0 mV }}
  equations {{ dv/dt = -v / tau }}
  spike when v > 10 mV
  reset {{ v = 0 mV }}
}}
synapse S {{ parameters {{ scale = 2 }}  state {{ w = 1 mV }}  on pre {{ v += w }} }}
region A {{ a = LIF[10] }}
region B {{ b = LIF[8] }}
connect A -> B with S {{ {settings} }}
"""


def projection(settings: str, folder=None) -> ir.Projection:
    name = str(folder / "m.brain") if folder else "m.brain"
    return compile_text(MODEL.format(settings=settings), name).projections[0]


def test_each_rule_setting_lowers_to_its_rule():
    assert projection("indegree = 3").rule == ir.FixedIndegree(3)
    assert projection("outdegree = 2  multapses = false").allow_multapses is False
    assert projection("total = 40").rule == ir.FixedTotalNumber(40)
    assert isinstance(projection("p = exp(-abs(i - j) / 3) / scale").rule.p, ir.Binary)
    assert projection("p = 0.5 / scale").rule.p == 0.25  # no pair name: folded
    assert isinstance(projection("rule = all_to_all  condition = i != j").condition, ir.Binary)


def test_weights_and_delays_take_distributions_and_pair_formulas():
    p = projection("weight = normal(1 mV, 0.1 mV, low = 0 mV, high = 2 mV)  delay = 1 ms + distance / (0.3 m/s)")
    assert p.synapse.states[0].initial == ir.ClippedNormal(1e-3, 1e-4, 0.0, 2e-3)
    assert isinstance(p.delay, ir.Formula)
    assert projection("weight = lognormal(1 mV, 0.5 mV)").synapse.states[0].initial == ir.LogNormal(1e-3, 5e-4)
    assert projection("delay = normal(2 ms, 0.5 ms, high = 3 ms)").delay == ir.ClippedNormal(2e-3, 5e-4, -math.inf, 3e-3)
    assert isinstance(projection("weight = 1 mV * j / N_post").synapse.states[0].initial, ir.Formula)


@pytest.mark.parametrize("settings, error, fragment", [
    ("rule = one_to_all", UnknownNameError, "unknown connection rule `one_to_all`"),
    ("indegree = 3  p = 0.5", InvalidValueError, "cannot be combined with `indegree`"),
    ("indegree = 2.5", InvalidValueError, "a whole number"),
    ("indegree = -1", InvalidValueError, "must not be negative"),
    ("indegree = 11  multapses = false", InvalidValueError, "only 10 candidates"),
    ("p = 0.1  multapses = false", InvalidValueError, "`multapses` applies to"),
    ("p = distance", UnitError, "`p` must have dimension 1"),
    ("rule = all_to_all  condition = i + j", UnitError, "`condition` must have dimension true/false"),
    ("weight = normal(1 mV, 1 ms)", UnitError, "the arguments of `normal` must have one dimension"),
    ("weight = normal(1 ms, 1 ms)", UnitError, "must have dimension V"),
    ("weight = lognormal(-1 mV, 1 mV)", InvalidValueError, "mean of a lognormal value must be greater than 0"),
    ("weight = normal(1 mV, -1 mV)", InvalidValueError, "standard deviation must not be negative"),
    ("delay = normal(2 ms, 1 ms, low = 3 ms, high = 1 ms)", InvalidValueError, "the bounds need low < high"),
    ("delay = uniform(2 ms, 1 ms)", InvalidValueError, "needs low < high"),
    ("weight = normal(1 mV * j, 1 mV)", InvalidValueError, "`mean` reads `j`, which differs between pairs"),
    ('edges = "nowhere.csv"', InvalidValueError, "file not found"),
])
def test_bad_connect_settings_are_reported_at_their_value(settings, error, fragment):
    with pytest.raises(error, match=fragment) as caught:
        projection(settings)
    assert caught.value.span is not None and caught.value.span.line == 12


def test_an_edge_list_from_csv_round_trips_with_weights_and_delays(tmp_path):
    (tmp_path / "c.csv").write_text("pre, post, weight [mV], delay [ms]\n# a comment\n3, 1, 0.5, 2\n0, 7, 1.5, 1\n3, 0, 2.5, 3\n")
    p = projection('edges = "c.csv"', tmp_path)
    assert p.rule == ir.EdgeList((3, 0, 3), (1, 7, 0))
    assert p.synapse.states[0].initial.values == pytest.approx((5e-4, 1.5e-3, 2.5e-3))
    connectivity = build(compile_text(MODEL.format(settings='edges = "c.csv"'), str(tmp_path / "m.brain"))).projections[0]
    # sorted by pre, then post; each synapse keeps its own row's weight and delay
    assert np.diff(connectivity.indptr).tolist()[:4] == [1, 0, 0, 2]
    assert connectivity.states["w"].tolist() == pytest.approx([1.5e-3, 2.5e-3, 5e-4])
    assert connectivity.delay_steps.tolist() == [10, 30, 20]


def test_an_edge_list_from_npz_is_the_same(tmp_path):
    np.savez(tmp_path / "c.npz", pre=np.array([3, 0]), post=np.array([1, 7]), **{"weight [mV]": np.array([0.5, 1.5])})
    p = projection('edges = "c.npz"', tmp_path)
    assert p.rule == ir.EdgeList((3, 0), (1, 7)) and p.synapse.states[0].initial.values == pytest.approx((5e-4, 1.5e-3))


@pytest.mark.parametrize("text, error, fragment", [
    ("pre, post\n3, 1\n0, 12\n", InvalidValueError, "row 2 of c.csv: post = 12 is outside `B.b`"),
    ("pre, post\n3, 1\n0, x\n", InvalidValueError, "row 2 of c.csv: `x` in column `post` is not a number"),
    ("pre, post\n3, 1, 4\n", InvalidValueError, "row 1 of c.csv has 3 cells"),
    ("pre, post, weight [ms]\n3, 1, 4\n", UnitError, "column `weight` of c.csv must have dimension"),
    ("pre, post, colour\n3, 1, 4\n", UnknownNameError, "a column `colour`, which sets nothing"),
    ("pre\n3\n", UnknownNameError, "has no column `post`"),
])
def test_bad_edge_lists_are_reported(tmp_path, text, error, fragment):
    (tmp_path / "c.csv").write_text(text)
    with pytest.raises(error, match=fragment):
        projection('edges = "c.csv"', tmp_path)


def test_a_malformed_row_is_reported_inside_the_csv_file(tmp_path):
    (tmp_path / "c.csv").write_text("pre, post\n3, 1\n0, x\n")
    with pytest.raises(BrainsimError) as caught:
        projection('edges = "c.csv"', tmp_path)
    assert caught.value.span.file.endswith("c.csv") and (caught.value.span.line, caught.value.span.column) == (3, 3)


def test_an_index_outside_its_population_is_reported_at_its_row_of_the_csv_file(tmp_path):
    (tmp_path / "c.csv").write_text("pre, post\n# a comment\n3, 1\n0, 12\n")
    with pytest.raises(InvalidValueError, match="row 2 of c.csv: post = 12 is outside `B.b`") as caught:
        projection('edges = "c.csv"', tmp_path)
    span = caught.value.span
    assert span.file == str(tmp_path / "c.csv") and (span.line, span.column) == (4, 1)
    assert span.source_line() == "0, 12"


def test_an_edge_list_column_and_a_setting_for_the_same_state_clash(tmp_path):
    (tmp_path / "c.csv").write_text("pre, post, weight [mV]\n3, 1, 4\n")
    with pytest.raises(DuplicateNameError, match="given by a column of the edge list"):
        projection('edges = "c.csv"  weight = normal(1 mV, 0.1 mV)', tmp_path)


def test_a_weight_formula_that_is_not_finite_names_the_synapse():
    network = compile_text(MODEL.format(settings="rule = all_to_all  weight = 1 mV / (j - 2)"), "m.brain")
    with pytest.raises(InvalidValueError, match=r"this formula is inf for i = 0, j = 2; it must be a finite number") as caught:
        build(network)
    assert caught.value.span.line == 12
