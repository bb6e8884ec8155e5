"""The properties every fuzzed input must have, shared by the fuzz tests.

`accepted_or_located(text, filename)` runs the front end (and a short numpy run of what it
accepts) and returns the model, or None where it raised a `BrainsimError` that points at
the text; anything else (another exception, a hang, an excerpt whose caret misses the
span) fails the test. `run_both(model)` runs a model on both backends and requires
identical results.
"""

import contextlib
import signal
import warnings

import brainsim
from backends.identity import assert_identical
from brainsim.backends.jax_backend import ExactnessWarning
from brainsim.errors import DelayRoundingWarning, visible

# Far above what the linear front end takes for a model of a few kilobytes (docs/performance.md:
# 5-14 ms of CPU per KB), so only a hang or a quadratic blow-up passes it, even on busy cores.
FRONT_END_SECONDS = 10
# Host construction and a few steps of a network the memory estimate let through.
RUN_SECONDS = 60
# The fuzzed networks are built within this much memory; a larger one must be refused.
MAX_MEMORY = "64MB"
# Steps each accepted model runs: enough to pass every phase of the step.
STEPS = 3


class TooSlow(Exception):
    """An example took longer than its budget: a hang, or work far beyond the input's size."""


@contextlib.contextmanager
def within(seconds: float, what: str):
    """Fail with TooSlow if the block takes longer than `seconds` of wall time."""

    def alarm(signum, frame):
        raise TooSlow(f"{what} took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def brainsim_warnings_allowed():
    """Warnings that brainsim gives a user on purpose pass; any other is an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", DelayRoundingWarning)
        warnings.simplefilter("ignore", ExactnessWarning)
        yield


def assert_located(error: brainsim.BrainsimError, text: str) -> None:
    """`error` points into the model text, and its excerpt's caret lands under the span."""
    assert error.span is not None, f"{type(error).__name__} without a position: {error}"
    rendered = str(error)  # rendering must not fail either
    span = error.span
    if not span.text:
        return
    line = span.source_line()
    lines = span.text.split("\n")
    assert 1 <= span.line <= len(lines), f"line {span.line} is outside the text ({len(lines)} lines): {rendered}"
    assert 1 <= span.column <= len(line) + 1, f"column {span.column} is outside line {span.line} ({line!r}): {rendered}"
    gutter = f"{span.line:>5} | "
    shown = rendered.split("\n")
    rows = [k for k in range(len(shown) - 1) if shown[k].startswith(gutter) and shown[k + 1].startswith(" " * (len(gutter) - 2) + "| ")]
    assert rows, f"no excerpt of line {span.line} in {rendered!r}"
    excerpt, marker = shown[rows[-1]], shown[rows[-1] + 1]
    caret = marker.index("^")
    if span.column <= len(line) and len(line) <= 200:  # a long line is clipped around the span
        under = visible(line[span.column - 1])
        assert excerpt[caret:caret + len(under)] == under, f"the caret misses column {span.column}:\n{rendered}"


def accepted_or_located(text: str, filename: str):
    """The model of `text` if the front end accepts it (and it builds and runs a few steps on
    numpy, or is refused for its size), else None after checking the error's position."""
    with brainsim_warnings_allowed():
        try:
            with within(FRONT_END_SECONDS, "the front end"):
                model = brainsim.loads(text, filename)
        except brainsim.BrainsimError as error:
            assert_located(error, text)
            return None
        try:
            with within(RUN_SECONDS, "building and running"):
                simulation = model.compile(backend="numpy", max_memory=MAX_MEMORY)
                simulation.run(STEPS * model.network.simulation.dt)
        except brainsim.ResourceError:
            pass  # a refusal for size: the message gives the estimate, not a position
        except brainsim.BrainsimError as error:
            assert_located(error, text)
    return model


def run_both(model, duration: float | None = None):
    """Run `model` on numpy and on jax and require bit-identical results, or the same
    SimulationError (a run away to inf at the same step and neuron) from both."""
    outcomes = []
    for backend in ("numpy", "jax"):
        with brainsim_warnings_allowed():
            try:
                outcomes.append(model.compile(backend=backend).run(duration))
            except brainsim.SimulationError as error:
                outcomes.append(error)
    numpy, jax = outcomes
    if isinstance(numpy, Exception) or isinstance(jax, Exception):
        assert str(numpy) == str(jax), f"numpy: {numpy}\njax: {jax}"
        return None
    assert_identical(numpy, jax)
    return numpy


def outcome(model, backend: str, duration: float | None = None):
    """The results of running `model` on `backend`, or the BrainsimError that refused it
    (checked to point at the text where it has a position)."""
    with brainsim_warnings_allowed():
        try:
            with within(RUN_SECONDS, f"building and running on {backend}"):
                return model.compile(backend=backend, max_memory=MAX_MEMORY).run(duration)
        except brainsim.BrainsimError as error:
            if error.span is not None:
                assert_located(error, error.span.text)
            return error
