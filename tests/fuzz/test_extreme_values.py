"""Generated programs with one value pushed to an extreme (tests/fuzz/mutations.py: huge,
tiny, zero and negative numbers, enormous unit powers): the front end accepts the text or
refuses it at a position, and the two backends then agree: both refuse it the same way,
or both run it to identical results."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import brainsim
from backends.identity import assert_identical
from fuzz.mutations import extreme_values
from fuzz.programs import programs
from fuzz.properties import accepted_or_located, outcome

RUNS = max(settings.default.max_examples // 10, 1)


@st.composite
def extreme_programs(draw):
    program = draw(programs())
    return program, draw(extreme_values(program.text))


@pytest.mark.timeout(900)
@settings(max_examples=RUNS)
@given(extreme_programs())
def test_an_extreme_value_is_refused_at_its_position_or_runs_identically(case):
    program, text = case
    model = accepted_or_located(text, "extreme.brain")
    if model is None:
        return
    numpy, jax = (outcome(model, backend, program.steps * program.dt_ms * 1e-3) for backend in ("numpy", "jax"))
    if isinstance(numpy, brainsim.BrainsimError) or isinstance(jax, brainsim.BrainsimError):
        assert type(numpy) is type(jax), f"numpy: {numpy!r}\njax: {jax!r}"
        if isinstance(numpy, brainsim.SimulationError):  # the same variable, population and step
            assert str(numpy) == str(jax)
        return
    assert_identical(numpy, jax)
