"""Programs drawn from the language's pieces (tests/fuzz/programs.py) are valid: the front
end accepts every one, and both backends run each to bit-identical spikes, traces and
final states."""

import pytest
from hypothesis import given, settings

import brainsim
from fuzz.programs import programs
from fuzz.properties import FRONT_END_SECONDS, run_both, within

# A run on both backends compiles a jax program per example (about a second), so it gets a
# tenth of the profile's examples; the front end alone takes milliseconds.
RUNS = max(settings.default.max_examples // 10, 1)


@pytest.mark.timeout(600)
@given(programs())
def test_a_generated_program_is_accepted(program):
    with within(FRONT_END_SECONDS, "the front end"):
        brainsim.loads(program.text, "generated.brain")


@pytest.mark.timeout(900)
@settings(max_examples=RUNS)
@given(programs())
def test_a_generated_program_runs_identically_on_both_backends(program):
    run_both(brainsim.loads(program.text, "generated.brain"))
