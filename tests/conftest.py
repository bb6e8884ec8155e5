"""Hypothesis profiles for the whole suite: "ci" (the default: few examples, derandomized, so a
run is stable and quick) and "long" (thousands of examples, random), chosen with the
environment variable BRAINSIM_FUZZ (`BRAINSIM_FUZZ=long python -m pytest tests/fuzz`;
docs/testing.md). A test that sets `max_examples` itself keeps its own count in both."""

import os

import pytest

from hypothesis import HealthCheck, settings

# The fuzz tests read the front end's time per example with their own deadline
# (tests/fuzz/budget.py), so hypothesis's is off; data_too_large and too_slow would flag
# what a fuzzer is for: large, slow inputs.
_SHARED = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("ci", max_examples=60, derandomize=True, print_blob=True, **_SHARED)
settings.register_profile("long", max_examples=5000, print_blob=True, **_SHARED)
settings.load_profile(os.environ.get("BRAINSIM_FUZZ", "ci"))


@pytest.fixture(autouse=True, scope="session")
def compiled_updates_cache(tmp_path_factory):
    """The compiled updates (brainsim.backends.cbuild) of this session go to a directory of its
    own, not the user's cache; and they are off unless a test asks for them: the suite checks
    the plain steps of both backends against each other (docs/testing.md), and tests/backends/
    test_fused.py the compiled ones against those."""
    saved = {name: os.environ.get(name) for name in ("BRAINSIM_C_CACHE", "BRAINSIM_COMPILED_UPDATES")}
    os.environ["BRAINSIM_C_CACHE"] = str(tmp_path_factory.mktemp("compiled-updates"))
    os.environ["BRAINSIM_COMPILED_UPDATES"] = "off"
    yield
    for name, value in saved.items():
        if value is None:
            del os.environ[name]
        else:
            os.environ[name] = value
