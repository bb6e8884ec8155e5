"""Text to AST: the Lark parser for `.brain` files and the tree-to-AST transformer.

The grammar lives in `grammar.lark` and is loaded once per process. Parsing
never evaluates anything the text says; the transformer only builds
`brainsim.dsl.ast` nodes with source spans. Lark's exceptions are turned into
`ParseError`s with a position and a one-line message (see `syntax_errors`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedInput, VisitError
from lark.lark import PostLex
from lark.lexer import PatternStr
from lark.tree import Meta

from brainsim import ir
from brainsim.dsl import ast
from brainsim.dsl.folders import allowed_folders
from brainsim.dsl.limits import check_model_size, long_token_error, nesting_error, too_deep, too_long
from brainsim.dsl.syntax_errors import describe_parse_error
from brainsim.errors import BrainsimError, ParseError, SourceSpan
from brainsim.validate import deep_expressions

_GRAMMAR = Path(__file__).with_name("grammar.lark")


class _WholeWords(PostLex):
    """Keeps NAME in the lexer of every parser state, and keywords reserved in all of them.

    Lark's contextual lexer otherwise lets a keyword match the start of a longer
    word (`spikes` as `spike` + `s`) where NAME is not expected; with NAME always
    present, a word is a keyword only if the whole word is one. Where a keyword is
    not expected the contextual lexer reads it as NAME, so `parameters { state = 2 }`
    would declare a parameter `state` while `parameters { a = 1  state = 2 }` is a
    syntax error; `process` gives such a NAME back its keyword's type, so a keyword
    is never a name (docs/language.md, "Keywords").
    """

    always_accept = ("NAME",)

    def __init__(self) -> None:
        self.keywords: dict[str, str] = {}  # keyword -> its terminal's name, filled by `lark_parser`

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        for token in stream:
            if too_long(token):  # reported by `parse`, which knows the file (the parser is shared)
                raise _LongToken(token)
            if token.type == "NAME" and token in self.keywords:
                yield Token.new_borrow_pos(self.keywords[token], str(token), token)
            else:
                yield token


class _LongToken(Exception):
    """A token longer than the limits allow (`brainsim.dsl.limits.too_long`), for `parse` to report."""

    def __init__(self, token: Token):
        super().__init__(token)
        self.token = token


@lru_cache(maxsize=1)
def lark_parser() -> Lark:
    """The LALR parser for the language (built once; parse trees carry positions)."""
    words = _WholeWords()
    parser = Lark(
        _GRAMMAR.read_text(encoding="utf-8"),
        parser="lalr",
        lexer="contextual",
        postlex=words,
        propagate_positions=True,
        maybe_placeholders=True,
    )
    words.keywords = {
        terminal.pattern.value: terminal.name
        for terminal in parser.terminals
        if isinstance(terminal.pattern, PatternStr) and terminal.pattern.value.isidentifier()
    }
    return parser


def keywords() -> frozenset[str]:
    """The words the language reserves (`region`, `on`, `spikes`, ...): none can name a thing."""
    return frozenset(lark_parser().options.postlex.keywords)


# Characters read as others, one for one so that every column stays where it was
# written: the micro sign and the Greek mu as the prefix `u` (`5 µm`, `2 μA`), the
# Unicode minus sign (pasted from papers) as `-`. File names and comments keep theirs.
_READ_AS = {"\u00b5": "u", "\u03bc": "u", "\u2212": "-"}
_READ_AS_OUTSIDE_STRINGS = re.compile(r'"[^"\n]*"|#[^\n]*|[\u00b5\u03bc\u2212]')


def _lexed(text: str) -> str:
    """`text` as the lexer reads it (`_READ_AS`), same length, same columns."""
    return _READ_AS_OUTSIDE_STRINGS.sub(lambda match: _READ_AS.get(match.group(), match.group()), text)


def parse(
    text: str, filename: str = "<string>", imported: bool = False, folders: tuple[Path, ...] | None = None
) -> ast.Model:
    """Parse the text of a `.brain` file into its AST.

    A leading byte-order mark is ignored; `µ`/`μ` are read as the prefix `u` and `−`
    as `-` (`_READ_AS`).

    Args:
        text: the model source.
        filename: the name shown in error messages.
        imported: the file is imported by another, so it has no `simulation` block.
        folders: the folders the files it names may be read from (`brainsim.dsl.folders`);
            by default the folder of `filename` (the working folder for `<string>`).
    Returns:
        The `ast.Model`, with a span on every node.
    Raises:
        ParseError: the text does not follow the grammar (or a block is repeated,
            or the `simulation` block is missing, or an imported file has one).
        LimitError: the text, a word in it or the nesting of an expression passes
            a limit of `brainsim.dsl.limits`.
    """
    text = text.removeprefix("\ufeff")
    check_model_size(len(text), filename, "characters")
    try:
        tree = lark_parser().parse(_lexed(text))
    except UnexpectedInput as error:
        raise describe_parse_error(error, text, filename, lark_parser()) from None
    except _LongToken as long:
        raise long_token_error(long.token, span_of(long.token, text, filename)) from None
    if (deep := too_deep(tree)) is not None:
        raise nesting_error(span_of(deep.meta, text, filename))
    try:
        with deep_expressions():  # the transformer recurses once per level of the tree
            return _ToAst(text, filename, imported, allowed_folders(Path(filename)) if folders is None else folders
                          ).transform(tree)
    except VisitError as error:
        if isinstance(error.orig_exc, BrainsimError):
            raise error.orig_exc from None
        raise


def span_of(item: Meta | Token, text: str, filename: str) -> SourceSpan:
    """The `SourceSpan` of a parse-tree node's meta or of a token."""
    return SourceSpan(filename, item.line, item.column, item.end_line, item.end_column, text)


_STATEMENTS = ("simulation", "neuron", "derived_neuron", "synapse", "region", "connect", "stimulus", "record", "import")


@dataclass(frozen=True, slots=True)
class _Block:
    """A block of a neuron or synapse while the transformer collects them."""

    keyword: str
    content: object
    span: SourceSpan


@v_args(meta=True)
class _ToAst(Transformer):
    """Parse tree -> AST. One method per rule or alias of the grammar."""

    def __init__(self, text: str, filename: str, imported: bool, folders: tuple[Path, ...]):
        super().__init__()
        self._text = text
        self._filename = filename
        self._imported = imported
        self._folders = folders

    def _span(self, item: Meta | Token) -> SourceSpan:
        return span_of(item, self._text, self._filename)

    def _ident(self, token: Token) -> ast.Ident:
        return ast.Ident(str(token), self._span(token))

    # ------------------------------------------------------------ the file

    def start(self, meta: Meta, statements: list) -> ast.Model:
        by_kind: dict[str, list] = {kind: [] for kind in _STATEMENTS}
        for kind, statement in statements:
            by_kind[kind].append(statement)
        simulations = by_kind["simulation"]
        if self._imported and simulations:
            raise ParseError(
                "an imported file may not have a `simulation` block; the importing model has the one",
                _keyword_span(simulations[0].span, "simulation"),
                "move the settings into the model that imports this file",
            )
        if not simulations and not self._imported:
            start = self._span(meta) if not meta.empty else SourceSpan(self._filename, 1, 1, 1, 1, self._text)
            raise ParseError(
                "the model has no `simulation` block",
                start,
                "add one, e.g. `simulation { dt = 0.1 ms  duration = 100 ms }`",
            )
        if len(simulations) > 1:
            raise ParseError(
                "a model has one `simulation` block; this is the second",
                _keyword_span(simulations[1].span, "simulation"),
            )
        return ast.Model(
            simulation=simulations[0] if simulations else None,
            neurons=tuple(by_kind["neuron"]),
            synapses=tuple(by_kind["synapse"]),
            regions=tuple(by_kind["region"]),
            connects=tuple(by_kind["connect"]),
            stimuli=tuple(by_kind["stimulus"]),
            records=tuple(by_kind["record"]),
            filename=self._filename,
            derived_neurons=tuple(by_kind["derived_neuron"]),
            imports=tuple(by_kind["import"]),
        )

    def simulation(self, meta: Meta, settings: list) -> tuple[str, ast.Simulation]:
        return "simulation", ast.Simulation(tuple(settings), self._span(meta))

    def declaration(self, meta: Meta, children: list) -> ast.Declaration:
        name, value = children
        return ast.Declaration(self._ident(name), value, self._span(meta))

    def value_list(self, meta: Meta, items: list) -> ast.ValueList:
        return ast.ValueList(tuple(items), self._span(meta))

    # ------------------------------------------------------------ neuron and synapse models

    def neuron(self, meta: Meta, children: list) -> tuple[str, ast.Neuron]:
        name, *items = children
        blocks = self._unique_blocks(items, "neuron")
        spike = blocks.get("spike")
        refractory = blocks.get("refractory")
        method = blocks.get("method")
        return "neuron", ast.Neuron(
            name=self._ident(name),
            parameters=_content(blocks, "parameters"),
            inputs=_content(blocks, "inputs"),
            states=_content(blocks, "state"),
            aliases=_content(blocks, "aliases"),
            equations=_content(blocks, "equations"),
            spike=spike.content if spike else None,
            reset=_content(blocks, "reset"),
            refractory=refractory.content if refractory else None,
            method=method.content if method else None,
            span=self._span(meta),
        )

    def derived_neuron(self, meta: Meta, children: list) -> tuple[str, ast.DerivedNeuron]:
        name, base, overrides = children
        return "derived_neuron", ast.DerivedNeuron(
            self._ident(name), self._ident(base), overrides or (), self._span(meta)
        )

    def synapse(self, meta: Meta, children: list) -> tuple[str, ast.Synapse]:
        kind, name, *items = children
        blocks = self._unique_blocks(items, "synapse")
        clock_driven, equations = blocks["equations"].content if "equations" in blocks else (False, ())
        on_post = blocks.get("on_post")
        return "synapse", ast.Synapse(
            name=self._ident(name),
            parameters=_content(blocks, "parameters"),
            states=_content(blocks, "state"),
            on_pre=_content(blocks, "on_pre"),
            span=self._span(meta),
            kind=kind or ir.NeuronKind.UNSPECIFIED,
            equations=equations,
            clock_driven=clock_driven,
            on_post=_content(blocks, "on_post"),
            bounds=_content(blocks, "bounds"),
            on_post_span=_keyword_span(on_post.span, "on post") if on_post else None,
        )

    def _unique_blocks(self, items: list[_Block], owner: str) -> dict[str, _Block]:
        """The blocks of a model by keyword; a repeated block is an error.

        Rejects::

            neuron N { state { v = 0 mV }  state { w = 0 mV } }
        """
        blocks: dict[str, _Block] = {}
        for block in items:
            if block.keyword in blocks:
                shown = block.keyword.replace("_", " ")  # `on_pre` -> `on pre`
                noun = "statement" if block.keyword in ("spike", "refractory", "method") else "block"
                first = blocks[block.keyword].span.line
                raise ParseError(
                    f"a {owner} has one `{shown}` {noun}; this is the second (the first is on line {first})",
                    _keyword_span(block.span, shown),
                    "merge the two into one",
                )
            blocks[block.keyword] = block
        return blocks

    def _block(self, keyword: str, meta: Meta, content: object) -> _Block:
        return _Block(keyword, content, self._span(meta))

    def parameters(self, meta: Meta, children: list) -> _Block:
        return self._block("parameters", meta, tuple(children))

    def inputs(self, meta: Meta, children: list) -> _Block:
        return self._block("inputs", meta, tuple(children))

    def state(self, meta: Meta, children: list) -> _Block:
        return self._block("state", meta, tuple(children))

    def aliases(self, meta: Meta, children: list) -> _Block:
        return self._block("aliases", meta, tuple(children))

    def equations(self, meta: Meta, children: list) -> _Block:
        return self._block("equations", meta, tuple(children))

    def reset(self, meta: Meta, children: list) -> _Block:
        return self._block("reset", meta, tuple(children))

    def synapse_equations(self, meta: Meta, children: list) -> _Block:
        mark, *equations = children
        return self._block("equations", meta, (mark is not None, tuple(equations)))

    def on_pre(self, meta: Meta, children: list) -> _Block:
        return self._block("on_pre", meta, tuple(children))

    def on_post(self, meta: Meta, children: list) -> _Block:
        return self._block("on_post", meta, tuple(children))

    def bounds(self, meta: Meta, children: list) -> _Block:
        return self._block("bounds", meta, tuple(children))

    def spike(self, meta: Meta, children: list) -> _Block:
        (condition,) = children
        return self._block("spike", meta, ast.Spike(condition, self._span(meta)))

    def refractory(self, meta: Meta, children: list) -> _Block:
        (period,) = children
        return self._block("refractory", meta, ast.Refractory(period, self._span(meta)))

    def method(self, meta: Meta, children: list) -> _Block:
        _, choice = children
        return self._block("method", meta, ast.Method(self._ident(choice), self._span(meta)))

    def equation(self, meta: Meta, children: list) -> ast.Equation:
        derivative, rhs, unless = children
        # `dv / dt`: the variable is the word after the leading `d`.
        variable = str(derivative)[1:].split("/")[0].rstrip()
        start = self._span(derivative)
        name_span = SourceSpan(
            start.file, start.line, start.column + 1, start.line, start.column + 1 + len(variable), start.text
        )
        return ast.Equation(ast.Ident(variable, name_span), rhs, unless is not None, self._span(meta))

    def assignment(self, meta: Meta, children: list) -> ast.Assignment:
        variable, op, value = children
        return ast.Assignment(self._ident(variable), ir.AssignOp(op), value, self._span(meta))

    def assign_op(self, meta: Meta, children: list) -> str:
        return str(children[0])

    # ------------------------------------------------------------ the network

    def region(self, meta: Meta, children: list) -> tuple[str, ast.Region]:
        name, *items = children
        # A nested region arrives as this method's own ("region", Region) pair.
        members = tuple(item[1] if isinstance(item, tuple) else item for item in items)
        return "region", ast.Region(self._ident(name), members, self._span(meta))

    def population(self, meta: Meta, children: list) -> ast.Population:
        kind, name, model, size, at, overrides = children
        return ast.Population(
            kind=kind or ir.NeuronKind.UNSPECIFIED,
            name=self._ident(name),
            model=self._ident(model),
            size=ast.Count(str(size), self._span(size)),
            overrides=overrides or (),
            at=at,
            span=self._span(meta),
        )

    def at(self, meta: Meta, children: list) -> ast.Expr:
        return children[0]

    def kind(self, meta: Meta, children: list) -> ir.NeuronKind:
        return ir.NeuronKind(str(children[0]))

    def overrides(self, meta: Meta, children: list) -> tuple[ast.Declaration, ...]:
        return tuple(children)

    def settings(self, meta: Meta, children: list) -> tuple[ast.Declaration, ...]:
        return tuple(children)

    def connect(self, meta: Meta, children: list) -> tuple[str, ast.Connect]:
        source, target, synapse, settings = children
        return "connect", ast.Connect(source, target, self._ident(synapse), settings or (), self._span(meta))

    def endpoint(self, meta: Meta, names: list) -> ast.Endpoint:
        return ast.Endpoint(tuple(self._ident(name) for name in names), self._span(meta))

    def import_file(self, meta: Meta, children: list) -> tuple[str, ast.Import]:
        (path,) = children
        span = self._span(path)
        return "import", ast.Import(ast.Text(str(path)[1:-1], span, self._folders), self._span(meta))

    def import_std(self, meta: Meta, children: list) -> tuple[str, ast.ImportLibrary]:
        *modules, library = children
        return "import", ast.ImportLibrary(
            tuple(self._ident(module) for module in modules), self._ident(library), self._span(meta)
        )

    def stimulus(self, meta: Meta, children: list) -> tuple[str, ast.Stimulus]:
        target, *inputs = children
        return "stimulus", ast.Stimulus(target, tuple(inputs), self._span(meta))

    def stimulus_input(self, meta: Meta, children: list) -> ast.Assignment:
        variable, value = children
        return ast.Assignment(self._ident(variable), ir.AssignOp.ADD, value, self._span(meta))

    def record(self, meta: Meta, children: list) -> tuple[str, ast.Record]:
        recorded, *targets, every = children
        span = self._span(meta)
        if recorded is None:
            return "record", ast.RecordSpikes(tuple(targets), span, every)
        return "record", ast.RecordStates(recorded, tuple(targets), span, every)

    def sampling(self, meta: Meta, children: list) -> ast.Value:
        return children[0]

    def record_synapses(self, meta: Meta, children: list) -> tuple[str, ast.Record]:
        variables, source, target, times = children
        span = self._span(meta)
        if variables is None:
            raise ParseError(
                "a synapse has no spikes to record; record a state of the synapses, e.g. `record w of A -> B`",
                _keyword_span(span, "record"),
                "to record the spikes of the neurons, write `record spikes of A, B`",
            )
        return "record", ast.RecordSynapses(variables, source, target, times, span)

    def snapshots(self, meta: Meta, children: list) -> ast.ValueList:
        return children[0]

    def spikes(self, meta: Meta, children: list) -> None:
        return None

    def variables(self, meta: Meta, names: list) -> tuple[ast.Ident, ...]:
        return tuple(self._ident(name) for name in names)

    def selection(self, meta: Meta, children: list) -> ast.Selection:
        endpoint, *neurons = children
        return ast.Selection(endpoint, neurons[0] if neurons else None, self._span(meta))

    def index(self, meta: Meta, children: list) -> ast.Index:
        (number,) = children
        return ast.Index(self._count(number), self._span(meta))

    def slice(self, meta: Meta, children: list) -> ast.Slice:
        start, stop = children
        return ast.Slice(self._count(start), self._count(stop), self._span(meta))

    def _count(self, token: Token | None) -> ast.Count | None:
        return None if token is None else ast.Count(str(token), self._span(token))

    # ------------------------------------------------------------ expressions

    def binary(self, meta: Meta, children: list) -> ast.Binary:
        left, op, right = children
        return ast.Binary(ir.BinaryOp(op), left, right, self._span(meta))

    def power(self, meta: Meta, children: list) -> ast.Binary:
        base, exponent = children
        return ast.Binary(ir.BinaryOp.POW, base, exponent, self._span(meta))

    def conditional(self, meta: Meta, children: list) -> ast.Conditional:
        then, condition, otherwise = children
        return ast.Conditional(condition, then, otherwise, self._span(meta))

    def negative(self, meta: Meta, children: list) -> ast.Unary:
        return ast.Unary(ir.UnaryOp.NEG, children[0], self._span(meta))

    def logical_not(self, meta: Meta, children: list) -> ast.Unary:
        return ast.Unary(ir.UnaryOp.NOT, children[0], self._span(meta))

    def or_op(self, meta: Meta, children: list) -> str:
        return str(children[0])

    and_op = comparison_op = add_op = mul_op = or_op

    def parenthesized(self, meta: Meta, children: list) -> ast.Expr:
        """`(expr)`: the expression itself, with a span that includes the parentheses."""
        return replace(children[0], span=self._span(meta))

    def quantity(self, meta: Meta, children: list) -> ast.Quantity:
        (token,) = children
        span = self._span(token)
        number, unit, unit_offset = _split_quantity(str(token))
        if unit is None:
            return ast.Quantity(number, None, span)
        column = span.column + unit_offset
        unit_span = SourceSpan(span.file, span.line, column, span.line, column + len(unit), span.text)
        return ast.Quantity(number, unit, span, unit_span)

    def name(self, meta: Meta, children: list) -> ast.Name:
        (token,) = children
        return ast.Name(str(token), self._span(token))

    def dotted_name(self, meta: Meta, children: list) -> ast.Name:
        """`Reward.dopamine`: a population's qualified name, which only `modulator` takes."""
        return ast.Name(".".join(str(token) for token in children), self._span(meta))

    def true(self, meta: Meta, children: list) -> ast.Boolean:
        return ast.Boolean(True, self._span(meta))

    def false(self, meta: Meta, children: list) -> ast.Boolean:
        return ast.Boolean(False, self._span(meta))

    def text(self, meta: Meta, children: list) -> ast.Text:
        return ast.Text(str(children[0])[1:-1], self._span(meta), self._folders)

    def call(self, meta: Meta, children: list) -> ast.Call:
        function, *arguments = children
        args = tuple(a for a in arguments if not isinstance(a, ast.KeywordArgument))
        keywords = tuple(a for a in arguments if isinstance(a, ast.KeywordArgument))
        return ast.Call(self._ident(function), args, keywords, self._span(meta))

    def keyword_argument(self, meta: Meta, children: list) -> ast.KeywordArgument:
        name, value = children
        return ast.KeywordArgument(self._ident(name), value, self._span(meta))


def _content(blocks: dict[str, _Block], keyword: str) -> tuple:
    block = blocks.get(keyword)
    return block.content if block else ()


def _keyword_span(span: SourceSpan, keyword: str) -> SourceSpan:
    """The span of the keyword that starts the statement at `span`."""
    return SourceSpan(span.file, span.line, span.column, span.line, span.column + len(keyword), span.text)


def _split_quantity(text: str) -> tuple[str, str | None, int]:
    """Split a QUANTITY or NUMBER token into number text, unit text and the unit's offset."""
    number = _NUMBER.match(text).group()
    rest = text[len(number):]
    unit = rest.lstrip(" \t")
    if not unit:
        return number, None, 0
    return number, unit, len(text) - len(unit)


# The NUMBER terminal of the grammar; `e` belongs to the number only when digits follow.
_NUMBER = re.compile(r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
