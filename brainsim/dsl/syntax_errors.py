"""Friendly syntax errors: Lark's `UnexpectedInput` -> `ParseError`.

A syntax error names what was found and what could have come instead, in
words ("expected `=`", "expected a value"), and points at the offending token.
Hints come from three places: Lark's `match_examples` against a small table of
common mistakes, a table of where each keyword belongs (for a statement
written in the wrong block, or a missing `}`), and the unclosed brace that an
unexpected end of file leaves behind.
"""

from __future__ import annotations

import re
import unicodedata

from lark import Lark, Token
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.lexer import PatternStr

from brainsim.errors import ParseError, SourceSpan, did_you_mean, source_lines

# Where each statement keyword may be written (for "wrong block" hints).
KEYWORD_PLACES = {
    **dict.fromkeys(
        ("simulation", "neuron", "synapse", "region", "connect", "stimulus", "record"), "at the top level of the file"
    ),
    **dict.fromkeys(("parameters", "state"), "directly inside a `neuron { }` or `synapse { }` block"),
    **dict.fromkeys(
        ("inputs", "aliases", "equations", "spike", "reset", "refractory", "method"),
        "directly inside a `neuron { }` block",
    ),
    "on": "directly inside a `synapse { }` block",
    **dict.fromkeys(("excitatory", "inhibitory"), "inside a `region { }` block, before a population's name"),
    "at": "after a population's size, before its overrides: `exc = LIF[100] at grid(10, 10, spacing = 50 um)`",
}

_REGEX_TERMINALS = {
    "NAME": "a name",
    "NUMBER": "a number",
    "QUANTITY": "a quantity",
    "STRING": "a file name",
    "DERIVATIVE": "an equation `dx/dt = ...`",
    "UNLESS_REFRACTORY": "`(unless refractory)`",
    "$END": "the end of the file",
}
# Words that are keywords only where the grammar expects them (regex terminals).
_CONTEXTUAL_KEYWORDS = {"METHOD": "method"}
_VALUE_STARTS = {"NAME", "NUMBER", "QUANTITY", "STRING", "(", "-", "not", "true", "false"}
_OPERATORS = {"or", "and", "<", "<=", ">", ">=", "==", "!=", "+", "-", "*", "/", "**"}

# Common mistakes, recognised by the parser state they leave (Lark's
# `match_examples`). Each mistake is shown in the positions that give
# different parser states: first or later statement, first or later item.
_MISTAKES = {
    "a declaration reads `name = value`": [
        "simulation { dt 1 }",
        "simulation { dt = 1  seed 2 }",
        "simulation {} simulation { dt 1 }",
        "simulation {} neuron N { parameters { a 1 } }",
        "simulation {} neuron N { parameters { a = 1  b 1 } }",
        "simulation {} neuron N { state {} parameters { a 1 } }",
        "simulation {} neuron N { state {} parameters { a = 1  b 1 } }",
    ],
    "an equation reads `dv/dt = ...`": [
        "neuron N { equations { v = 1 } }",
        "neuron N { equations { dv/dt = 1  w = 1 } }",
        "neuron N { state {} equations { v = 1 } }",
        "neuron N { state {} equations { dv/dt = 1  w = 1 } }",
        "simulation {} neuron N { equations { v = 1 } }",
        "simulation {} neuron N { equations { dv/dt = 1  w = 1 } }",
        "simulation {} neuron N { state {} equations { v = 1 } }",
        "simulation {} neuron N { state {} equations { dv/dt = 1  w = 1 } }",
    ],
    "a stimulus adds to an input: `I_ext += 2 nA`": [
        "stimulus R { I = 1 }",
        "stimulus R { I += 1  J = 1 }",
        "simulation {} stimulus R { I = 1 }",
        "simulation {} stimulus R { I += 1  J = 1 }",
    ],
    "a population reads `name = Model[size]`, e.g. `exc = LIF[100]`": [
        "region R { a = M }",
        "region R { a = M[1]  b = M }",
        "simulation {} region R { a = M }",
        "simulation {} region R { a = M[1]  b = M }",
    ],
    "a method is named: `method = rk4` (or exact, exponential_euler, rk2, euler)": [
        "neuron N { method = 1 }",
        "neuron N { state {} method = 1 }",
        "simulation {} neuron N { method = 1 }",
        "simulation {} neuron N { state {} method = 1 }",
    ],
    "comparisons do not chain: write `a < b and b < c`": [
        "neuron N { spike when a < b < c }",
        "neuron N { state {} spike when a < b < c }",
        "simulation {} neuron N { spike when a < b < c }",
        "simulation {} neuron N { state {} spike when a < b < c }",
    ],
}


def describe_parse_error(error: UnexpectedInput, text: str, filename: str, parser: Lark) -> ParseError:
    """The `ParseError` that tells a user what Lark's `error` means, in words."""
    match error:
        case UnexpectedCharacters():
            return _unexpected_character(error, text, filename)
        case UnexpectedToken() if error.token.type == "$END":
            return _unexpected_end(error, text, filename, parser)
        case UnexpectedEOF():
            return _unexpected_end(error, text, filename, parser)
        case UnexpectedToken():
            return _unexpected_token(error, text, filename, parser)
    return ParseError("the text does not follow the grammar", _point(text, filename, 1, 1))


def _unexpected_character(error: UnexpectedCharacters, text: str, filename: str) -> ParseError:
    char = error.char
    if unicodedata.category(char) in ("Cc", "Cf"):
        return ParseError(
            f"unexpected control character U+{ord(char):04X} (at offset {error.pos_in_stream:,} of the text)",
            _point(text, filename, error.line, error.column),
            "a .brain file is text; control characters may stand only in comments",
        )
    hint = {
        ";": "statements are separated by spaces or new lines; remove the `;`",
        '"': "the language has no strings; names are written without quotes",
        "'": "the language has no strings; names are written without quotes",
        "^": "`^` only raises a unit to a power inside a quantity (`2 m/s^2`); elsewhere write `**`",
    }.get(char)
    return ParseError(f"unexpected character `{char}`", _point(text, filename, error.line, error.column), hint)


def _unexpected_end(error: UnexpectedInput, text: str, filename: str, parser: Lark) -> ParseError:
    """At the end of the last line with content, naming the `{` left open."""
    line, column = _end_of_content(text)
    expected = _expected_words(_expected(error), parser)
    message = "unexpected end of file" + (f"; expected {expected}" if expected else "")
    opened = _unclosed_brace(text)
    hint = f"the `{{` on line {opened[0]} is never closed" if opened else None
    return ParseError(message, _point(text, filename, line, column), hint)


def _unexpected_token(error: UnexpectedToken, text: str, filename: str, parser: Lark) -> ParseError:
    token = error.token
    span = SourceSpan(filename, token.line, token.column, token.end_line, token.end_column, text)
    if str(token) == "=" and _after_a_value(error, parser):
        return ParseError(
            "unexpected `=` after a value: `=` assigns, and a comparison is written `==`",
            span,
            "to compare, write `==`, `!=`, `<`, `<=`, `>` or `>=`, e.g. `spike when v >= V_th`",
        )
    expected = _expected_words(_expected(error), parser)
    message = f"unexpected {_describe(token)}" + (f"; expected {expected}" if expected else "")
    hint = (
        _keyword_as_name_hint(token, text, parser)
        or _misspelled_unless_hint(token, text)
        or _misplaced_keyword_hint(error, parser)
        or _misspelled_keyword_hint(token, _expected(error), parser)
        # use_accepts=False: with it, lark 1.3.1 crashes (TypeError in a debug
        # message) when an example reaches the same state with other accepts.
        or error.match_examples(parser.parse, _MISTAKES, use_accepts=False)
    )
    return ParseError(message, span, hint)


def _after_a_value(error: UnexpectedToken, parser: Lark) -> bool:
    """Whether the parser had just read a value that an operator could continue."""
    return any(_keyword(name, parser) in _OPERATORS for name in _expected(error))


def _keyword_as_name_hint(token: Token, text: str, parser: Lark) -> str | None:
    """A keyword written as the name of a declaration (`refractory = 2 ms` in `parameters`)."""
    word = str(token)
    if not (word.isidentifier() and _literal(token.type, parser) == word):
        return None
    if not re.match(r"\s*=(?!=)", text[token.end_pos:]):
        return None
    if word == "refractory":
        return "`refractory` is a keyword: the refractory period is a statement of the neuron, `refractory 2 ms`"
    return f"`{word}` is a keyword and cannot be declared as a name; choose another name"


_TWO_WORDS_IN_PARENTHESES = re.compile(r"\(\s*([A-Za-z_]+)\s+([A-Za-z_]+)\s*\)")


def _misspelled_unless_hint(token: Token, text: str) -> str | None:
    """`(unles refractory)`, `(unless refractroy)`: a did-you-mean for the equation's suffix.

    The error is at the `(` (where `(unless refractory)` was expected) or, once the
    parser has read `(unless` as the start of a parenthesised expression, at the next word.
    """
    for written in _TWO_WORDS_IN_PARENTHESES.finditer(text):
        if written.start() <= token.start_pos < written.end():
            if did_you_mean(f"{written[1]} {written[2]}", ["unless refractory"]):
                return "did you mean `(unless refractory)`?"
            return None
    return None


def _misspelled_keyword_hint(token: Token, expected: set[str], parser: Lark) -> str | None:
    """A did-you-mean hint for a name where a keyword was expected (`paramters`)."""
    if token.type != "NAME":
        return None
    keywords = [word for word in (_keyword(name, parser) for name in expected) if word and word.isidentifier()]
    return did_you_mean(str(token), keywords)


def _misplaced_keyword_hint(error: UnexpectedToken, parser: Lark) -> str | None:
    """Where a keyword belongs, if the error is at a keyword or just after one."""
    candidates = [error.token]
    if error.interactive_parser is not None:
        stack = error.interactive_parser.parser_state.value_stack
        if stack and isinstance(stack[-1], Token):
            candidates.append(stack[-1])
    for token in candidates:
        word = str(token)
        if word in KEYWORD_PLACES and (token.type == "NAME" or _literal(token.type, parser) == word):
            return f"`{word}` belongs {KEYWORD_PLACES[word]} (is a `}}` missing before it?)"
    return None


def _expected(error: UnexpectedInput) -> set[str]:
    """The names of the terminals the parser would have accepted."""
    if isinstance(error, UnexpectedToken):
        return set(error.accepts or error.expected)
    return set(getattr(error, "expected", ()) or ())


def _expected_words(names: set[str], parser: Lark) -> str:
    """The expected terminals in words: the specific ones, then "a value" and "an operator"."""
    shown = {name: _keyword(name, parser) or name for name in names}
    groups: list[str] = []
    if "NUMBER" in shown:
        groups.append("a value")
        shown = {n: t for n, t in shown.items() if t not in _VALUE_STARTS}
    # After a complete value LALR may already have reduced past most operators
    # (leaving only `or`), but any operator could still have continued the value.
    if any(text in _OPERATORS for text in shown.values()):
        groups.append("an operator")
        shown = {n: t for n, t in shown.items() if t not in _OPERATORS}
    words = [_REGEX_TERMINALS.get(name) or f"`{text}`" for name, text in sorted(shown.items(), key=lambda i: i[1])]
    words += groups
    if len(words) > 10:
        words = words[:10] + ["..."]
    return " or ".join(words) if len(words) <= 2 else ", ".join(words[:-1]) + " or " + words[-1]


def _describe(token: Token) -> str:
    match token.type:
        case "NAME":
            return f"name `{token}`"
        case "NUMBER":
            return f"number `{token}`"
        case "QUANTITY":
            return f"quantity `{token}`"
        case "STRING":
            return f"file name {token}"
        case "DERIVATIVE":
            return f"equation `{token}`"
    return f"`{token}`"


def _keyword(terminal_name: str, parser: Lark) -> str | None:
    """The text of a keyword or punctuation terminal, contextual keywords included."""
    return _literal(terminal_name, parser) or _CONTEXTUAL_KEYWORDS.get(terminal_name)


def _literal(terminal_name: str, parser: Lark) -> str | None:
    """The text of a keyword or punctuation terminal, None for a pattern terminal."""
    try:
        pattern = parser.get_terminal(terminal_name).pattern
    except KeyError:
        return None
    return pattern.value if isinstance(pattern, PatternStr) else None


def _end_of_content(text: str) -> tuple[int, int]:
    """Line and column just after the last character that is not blank or comment."""
    lines = source_lines(text)
    for number in range(len(lines), 0, -1):
        content = _without_comment(lines[number - 1]).rstrip()
        if content:
            return number, len(content) + 1
    return 1, 1


def _unclosed_brace(text: str) -> tuple[int, int] | None:
    """Line and column of the last `{` that no `}` closes, if any."""
    opened: list[tuple[int, int]] = []
    for number, line in enumerate(source_lines(text), start=1):
        for match in re.finditer(r"[{}]", _without_comment(line)):
            if match.group() == "{":
                opened.append((number, match.start() + 1))
            elif opened:
                opened.pop()
    return opened[-1] if opened else None


def _without_comment(line: str) -> str:
    return line.split("#", 1)[0]


def _point(text: str, filename: str, line: int, column: int) -> SourceSpan:
    return SourceSpan(filename, line, column, line, column + 1, text)
