"""The error types a user can meet, and how they are shown.

Every mistake in a model is a `BrainsimError` that knows where it happened
(`SourceSpan`: file, line, column) and renders the way compilers do::

    cuba.brain:12:18: unit error: the right side of dv/dt has dimension volt,
    but v / time has dimension volt/second
       12 |     dv/dt = ge + gi - (v - El)
          |             ^^^^^^^^^^^^^^^^^^
    hint: divide by a time constant, e.g. `/ taum`

The CLI prints `str(error)` and exits with status 2; no traceback is shown for a
mistake in a model. What a model file holds reaches the terminal only through
`str(error)`, which shows every control character visibly (`visible`): an ANSI
escape sequence in a comment or a file name is printed as `\\x1b[2J`, never sent.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Iterable


@dataclass(frozen=True, slots=True)
class SourceSpan:
    """Where a piece of model text sits: 1-based line and column, end exclusive.

    `text` is the whole source the span points into (shared, not copied), so an
    error can show the offending line; it takes no part in equality.
    """

    file: str
    line: int
    column: int
    end_line: int
    end_column: int
    text: str = field(default="", compare=False, repr=False)

    def source_line(self) -> str:
        """The text of the span's first line, without its line break."""
        lines = source_lines(self.text)
        return lines[self.line - 1] if 0 < self.line <= len(lines) else ""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class BrainsimError(Exception):
    """A mistake in a model or in how it is used; carries position and hint."""

    kind = "error"

    def __init__(self, message: str, span: SourceSpan | None = None, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.span = span
        self.hint = hint

    def __str__(self) -> str:
        where = f"{self.span}: " if self.span is not None else ""
        parts = [visible(f"{where}{self.kind}: {self.message}")]
        if self.span is not None and self.span.text:
            parts.append(_caret_excerpt(self.span))
        if self.hint:
            parts.append(visible(f"hint: {self.hint}"))
        return "\n".join(parts)


class ParseError(BrainsimError):
    """The text does not follow the grammar of the language."""

    kind = "syntax error"


class UnknownNameError(BrainsimError):
    """A name is used that nothing declares."""

    kind = "name error"


class DuplicateNameError(BrainsimError):
    """A name is declared twice in the same scope."""

    kind = "name error"


class UnitError(BrainsimError):
    """Dimensions do not match, or a unit is unknown."""

    kind = "unit error"


class InvalidValueError(BrainsimError):
    """A value is out of its allowed range (dt <= 0, p > 1, size 0, ...)."""

    kind = "value error"


class DaleError(InvalidValueError):
    """A connection breaks Dale's law: a neuron's synapses all excite, or all inhibit."""

    kind = "Dale's law error"


class LimitError(BrainsimError):
    """A model passes one of the limits that keep any file from hanging or crashing the front
    end: the size of a model file, the length of a word, how deeply an expression nests or
    how large it grows with its aliases substituted, how long a chain of imports is
    (`brainsim.dsl.limits`, docs/security.md)."""

    kind = "limit error"


class OutputFileError(BrainsimError):
    """A file brainsim was asked to write cannot be: an unknown format, a program or
    library that writing it needs and that is missing, a path that cannot be written."""

    kind = "output error"


class SimulationError(BrainsimError):
    """Something went wrong while running: NaN or inf in a state, and the like.

    `step` is the step that went bad (None for a fault not tied to a step); `results`
    the `brainsim.Results` of the steps of the run before it (None until the run that
    raised attaches them): spikes, samples and counts of those steps, and the state and
    synapses after the last good step, bit for bit the same on both backends."""

    kind = "simulation error"

    def __init__(self, message: str, span: SourceSpan | None = None, hint: str | None = None,
                 step: int | None = None):
        super().__init__(message, span, hint)
        self.step = step
        self.results = None


class Interrupted(KeyboardInterrupt):
    """Ctrl-C (SIGINT) stopped a run; a `KeyboardInterrupt`, so `except KeyboardInterrupt`
    still catches it.

    `results` holds the `brainsim.Results` of the steps done before the run stopped
    (None where it stopped before a simulation existed): the first steps of the full
    run's, bit for bit. `reached` and `end` are the simulated times (s, counted from
    t = 0) the run got to and would have ended at. `str()` is the one line the command
    line prints."""

    def __init__(self, results=None, reached: float | None = None, end: float | None = None):
        self.results, self.reached, self.end = results, reached, end
        if reached is None:
            line = "interrupted before the run began; nothing was recorded"
        else:
            line = f"interrupted at t = {seconds_text(reached)} of {seconds_text(end)}; kept what was recorded"
        super().__init__(line)

    def __str__(self) -> str:
        return str(self.args[0])


def seconds_text(seconds: float) -> str:
    """A time for a person: 123.4 ms, 1.5 s (four digits at most)."""
    return f"{seconds * 1e3:.4g} ms" if abs(seconds) < 1 else f"{seconds:.4g} s"


class ResourceError(BrainsimError):
    """A run refused before it starts, because of what it would need: more memory than is
    available or than the user's limit allows, or more steps than can be done; the message
    gives the estimate and what to change. `brainsim` exits with status 3 on it."""

    kind = "resource error"


class SonataError(InvalidValueError):
    """A SONATA network cannot be imported: a file is missing, its tables disagree, or it
    holds what brainsim has no counterpart for (docs/sonata.md)."""

    kind = "SONATA error"


class MissingExtraError(BrainsimError):
    """An optional library that a feature needs is not installed; the message names the
    extra that installs it (`pip install "brainsim-lang[nwb]"`)."""

    kind = "missing library"


class ExportError(OutputFileError):
    """Results (or a figure of them) could not be written: an unknown format, a missing library, a path that
    cannot be written. `path` is the file asked for; `reason` says what went wrong."""

    kind = "export error"

    def __init__(self, message: str, path: str, reason: str):
        super().__init__(message)
        self.path = path
        self.reason = reason


class NotRecordedError(BrainsimError, KeyError):
    """Something was asked of a run that it did not record (the spikes or a trace of a
    population, a synapse state over time); the message lists what was recorded. A KeyError
    too, as `results.spikes["A.a"]` raises it: `results.spikes.get("A.a")` is then None."""

    kind = "not recorded"

    def __str__(self) -> str:  # BrainsimError's, not KeyError's repr of the message
        return BrainsimError.__str__(self)


class UnknownKeyError(BrainsimError, KeyError):
    """A key that a mapping of the Python API does not have: a population, region, variable,
    projection or option that does not exist; the message names what does (with a
    did-you-mean). It is a KeyError too, so `dict`-style code that catches KeyError still works."""

    kind = "unknown key"

    def __str__(self) -> str:  # BrainsimError's, not KeyError's repr of the message
        return BrainsimError.__str__(self)


class DelayRoundingWarning(UserWarning):
    """Rounding a projection's delays to whole steps changed one by more than 1%."""


def source_lines(text: str) -> list[str]:
    """The lines of `text` as the parser counts them: split at `\\n` only (a form feed or a
    Unicode line separator in a comment starts no line), each without a trailing `\\r`."""
    return [line.removesuffix("\r") for line in text.split("\n")]


# Characters that act on a terminal or reorder what it shows, rather than print: the C0 and
# C1 controls but tab and line feed (ESC starts ANSI sequences), DEL, and the Unicode
# bidirectional controls of the "Trojan Source" attack (CVE-2021-42574).
_INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def visible(text: str) -> str:
    """`text` with each control character written out as its escape (`\\x1b`, `\\u202e`), so
    that nothing a model or data file holds can move the cursor, clear the screen, recolour
    or reorder the terminal when an error quotes it; tabs and line breaks stay."""
    return _INVISIBLE.sub(lambda match: _escape(match.group()), text)


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


# A longer line is shown as this many characters around the span, so that a huge line
# (a generated or minified file, a name a megabyte long) gives an error one can read.
_EXCERPT_WIDTH = 200
_EXCERPT_BEFORE = 60


def _caret_excerpt(span: SourceSpan) -> str:
    line = span.source_line()
    start = min(max(span.column - 1, 0), len(line))
    if span.end_line == span.line and span.end_column > span.column:
        end = span.end_column - 1
    else:
        end = len(line.rstrip())
    first = max(start - _EXCERPT_BEFORE, 0) if len(line) > _EXCERPT_WIDTH else 0
    last = min(len(line), first + _EXCERPT_WIDTH)
    before = visible(line[first:start])
    marked = visible(line[start:min(max(end, start + 1), last)])
    shown = ("..." if first > 0 else "") + visible(line[first:last]) + ("..." if last < len(line) else "")
    gutter = f"{span.line:>5} | "
    # The caret's indent repeats the line's tabs, so it lands under the span however tabs are shown.
    indent = ("   " if first > 0 else "") + "".join(char if char == "\t" else " " for char in before)
    marker = " " * (len(gutter) - 2) + "| " + indent + "^" * max(len(marked), 1)
    return f"{gutter}{shown}\n{marker}"


# A name longer than this gets no did-you-mean: comparing it costs time quadratic in its
# length, and a name that long is not a typo of a shorter one.
LONGEST_SUGGESTED = 100


def closest(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate closest to `name`, or None if none is close or `name` is longer than
    `LONGEST_SUGGESTED` characters.

    A candidate that differs only in case wins; otherwise difflib picks the plausible
    candidates and among them the fewest edits win, so `tau_n` suggests `tau_m`
    rather than `tau_syn`.
    """
    if len(name) > LONGEST_SUGGESTED:
        return None
    candidates = sorted(set(candidates))
    same_letters = [candidate for candidate in candidates if candidate.lower() == name.lower() and candidate != name]
    if same_letters:  # `V` for `v`: too short for difflib, and the likeliest slip
        return same_letters[0]
    matches = difflib.get_close_matches(name, candidates, n=5, cutoff=0.6)
    if not matches:
        return None
    return min(matches, key=lambda match: (_edit_distance(name, match), matches.index(match)))


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """A hint naming the candidate `closest` to `name`, or None if none is close."""
    best = closest(name, candidates)
    if best is None:
        return None
    if best != name and best.lower() == name.lower():
        return f"did you mean `{best}`? (names are case-sensitive)"
    return f"did you mean `{best}`?"


def _edit_distance(a: str, b: str) -> int:
    """Levenshtein distance: insertions, deletions and substitutions."""
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, start=1):
        current = [i]
        for j, char_b in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        previous = current
    return previous[-1]
