"""Every model in models/, damaged at random (tests/fuzz/mutations.py): the front end accepts
the text or raises a BrainsimError at a position in it, within seconds; what it accepts
builds and runs a few steps on numpy or is refused for its size."""

from pathlib import Path

import pytest
from hypothesis import given, settings

from fuzz.mutations import mutated
from fuzz.properties import accepted_or_located

MODELS = sorted((Path(__file__).parent.parent.parent / "models").glob("*.brain"))
# The profile's count per model (tests/conftest.py): a damaged model is most often refused by
# the parser within milliseconds.
EXAMPLES = settings.default.max_examples


@pytest.mark.timeout(600)
@pytest.mark.parametrize("path", MODELS, ids=[path.stem for path in MODELS])
def test_a_mutated_model_is_accepted_or_refused_at_a_position(path):
    text = path.read_text()

    @settings(max_examples=EXAMPLES)
    @given(mutated(text))
    def check(damaged):
        accepted_or_located(damaged, str(path))

    check()
