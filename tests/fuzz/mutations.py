"""Hypothesis strategies that damage model text: `mutated(text)` applies one to four edits
(tokens and lines deleted, duplicated or swapped; characters inserted, control characters
among them; numbers made huge, tiny, zero or negative; units raised to enormous powers;
names replaced by random identifiers), each drawn so that hypothesis can shrink it."""

import re

from hypothesis import strategies as st

# A rough token: whitespace, a word, a number, or any other single character.
_TOKEN = re.compile(r"\s+|[A-Za-z_][A-Za-z0-9_]*|(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|.", re.S)
_NUMBER = re.compile(r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# Characters a student's editor, a bad copy and paste or a hostile file may put anywhere: the
# whitespace controls the parser counts differently from Python (form feed, carriage return,
# the Unicode line and paragraph separators), NUL, ESC, DEL, a bidirectional override, the
# micro sign, the Unicode minus, a byte-order mark, and the language's own punctuation.
SPECIAL_CHARACTERS = (
    "\f", "\r", "\v", "\u2028", "\u2029", "\x85", "\0", "\x1b", "\x7f", "\u202e", "\t", "\n",
    "\ufeff", "µ", "μ", "−", "é", "{", "}", "(", ")", "[", "]", "=", "+", "-", "*", "/", "^",
    ":", ",", ".", "#", '"', "<", ">", "!", "0", "9", "e", " ",
)
characters = st.one_of(st.sampled_from(SPECIAL_CHARACTERS), st.characters(codec="utf-8"))

# Numbers at and past the edges of a float and of a step count.
EXTREME_NUMBERS = (
    "0", "-0", "-1", "0.5", "1e308", "1.7976931348623157e308", "1e309", "1e400", "1e-320", "5e-324",
    "1e-400", "1e20", "4611686018427387904", "4611686018427387905", "9223372036854775808", "2147483648",
    "1e99999999999999999999", "00000000000000000000001", "1.", ".0", "1e-9", "4.6e14", "4.6e17", "9.2e17",
)
# Units with exponents that no float (or Python's decimal) can hold.
UNIT_POWERS = ("ms**99999999999", "ms^99999999999", "ms^-99999999999", "mV^999", "s^-400", "Hz**-99999999999")
KEYWORDS = (
    "simulation", "neuron", "synapse", "region", "connect", "stimulus", "record", "every", "import", "from",
    "parameters", "inputs", "state", "aliases", "equations", "spike", "spikes", "when", "reset", "refractory",
    "bounds", "on", "pre", "post", "with", "of", "excitatory", "inhibitory", "at", "and", "or", "not", "if",
    "else", "true", "false", "method", "xi", "t", "dt", "i", "j", "N", "PoissonSource", "SpikeTimes",
)
identifiers = st.one_of(st.sampled_from(KEYWORDS), st.from_regex(r"\A[A-Za-z_][A-Za-z0-9_]{0,12}\Z"))


def tokens(text: str) -> list[str]:
    """`text` cut into whitespace, words, numbers and single other characters."""
    return _TOKEN.findall(text)


@st.composite
def _edit(draw, pieces: list[str], is_lines: bool) -> list[str]:
    """One edit of `pieces` (tokens, or lines): delete, duplicate, swap, or insert something."""
    if not pieces:
        return [draw(characters)]
    k = draw(st.integers(0, len(pieces) - 1))
    action = draw(st.sampled_from(("delete", "duplicate", "swap", "insert")))
    if action == "delete":
        return pieces[:k] + pieces[k + 1:]
    if action == "duplicate":
        return pieces[:k + 1] + pieces[k:]
    if action == "swap":
        m = draw(st.integers(0, len(pieces) - 1))
        pieces = list(pieces)
        pieces[k], pieces[m] = pieces[m], pieces[k]
        return pieces
    inserted = draw(st.one_of(st.text(characters, min_size=1, max_size=3), identifiers, st.sampled_from(EXTREME_NUMBERS)))
    return pieces[:k] + [inserted + ("\n" if is_lines else "")] + pieces[k:]


@st.composite
def _replace(draw, pieces: list[str], pattern: re.Pattern, replacements) -> list[str]:
    """One piece that matches `pattern` (a number, a word) replaced by a drawn value."""
    where = [k for k, piece in enumerate(pieces) if pattern.fullmatch(piece)]
    if not where:
        return pieces
    k = draw(st.sampled_from(where))
    return pieces[:k] + [draw(replacements)] + pieces[k + 1:]


@st.composite
def _unit_power(draw, pieces: list[str]) -> list[str]:
    """A number's unit (the word after it) replaced by one with an enormous power, or a
    bare number given one."""
    where = [k for k, piece in enumerate(pieces) if _NUMBER.fullmatch(piece)]
    if not where:
        return pieces
    k = draw(st.sampled_from(where))
    unit = " " + draw(st.sampled_from(UNIT_POWERS))
    if k + 2 < len(pieces) and pieces[k + 1] == " " and _WORD.fullmatch(pieces[k + 2]):
        return pieces[:k + 1] + [unit] + pieces[k + 3:]
    return pieces[:k + 1] + [unit] + pieces[k + 1:]


def _numbers_replaced(draw, pieces):
    return draw(_replace(pieces, _NUMBER, st.one_of(st.sampled_from(EXTREME_NUMBERS), st.floats().map(repr))))


@st.composite
def extreme_values(draw, text: str) -> str:
    """`text` with one number made extreme, negative or zero, or one unit raised to an
    enormous power: damage that keeps the text's shape, so it reaches past the parser."""
    pieces = tokens(text)
    kind = draw(st.sampled_from(("number", "unit", "negate")))
    if kind == "number":
        pieces = _numbers_replaced(draw, pieces)
    elif kind == "unit":
        pieces = draw(_unit_power(pieces))
    else:
        pieces = _negated(draw, pieces)
    return "".join(pieces)


def _negated(draw, pieces):
    """A negative or zero duration, period, delay...: a number replaced by one."""
    return draw(_replace(pieces, _NUMBER, st.sampled_from(("-1", "-0.5", "0", "-1e308"))))


@st.composite
def mutated(draw, text: str, max_edits: int = 4) -> str:
    """`text` after one to `max_edits` random edits of its tokens, lines and values."""
    for _ in range(draw(st.integers(1, max_edits))):
        kind = draw(st.sampled_from(("token", "line", "number", "unit", "name", "negate")))
        if kind == "line":
            text = "".join(draw(_edit(text.splitlines(keepends=True), is_lines=True)))
            continue
        pieces = tokens(text)
        if kind == "token":
            pieces = draw(_edit(pieces, is_lines=False))
        elif kind == "number":
            pieces = _numbers_replaced(draw, pieces)
        elif kind == "unit":
            pieces = draw(_unit_power(pieces))
        elif kind == "name":
            pieces = draw(_replace(pieces, _WORD, identifiers))
        else:
            pieces = _negated(draw, pieces)
        text = "".join(pieces)
    return text
