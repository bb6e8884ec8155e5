"""The limits that keep any model file, however hostile, from hanging or crashing the front end.

A `.brain` file may come from anyone (docs/security.md). Each limit below bounds
work that would otherwise grow faster than the text, or a recursion that Python
would end with a `RecursionError`, and each is far above what a model written by
hand or generated for a real network needs. Passing one is a `LimitError` at the
place it happens, raised before the work is done:

* `MAX_MODEL_BYTES`: the size of one model file, checked before it is read;
* `MAX_TOKEN`: the length of a name, number or unit (a file name in quotes: `MAX_FILE_NAME`);
* `MAX_DEPTH`: how deeply an expression (or a region) nests, in the parse tree and
  again once aliases are substituted into the expressions that read them, and how
  long a chain of aliases reading each other may be. It is
  `brainsim.validate.MAX_EXPRESSION_DEPTH`, the depth every IR is held to: the front
  end, the builds and the runs recurse once per level, with Python's recursion
  limit raised for it (`brainsim.validate.deep_expressions`);
* `MAX_NODES`: how many operations an expression holds once its aliases are
  substituted (an alias that reads another twice doubles the tree: forty such lines
  would make a tree of 2**40 nodes);
* `MAX_IMPORT_DEPTH`: how long a chain of files importing each other may be.

Time spent in the front end is otherwise linear in the size of the text
(benchmarks/front_end_scaling.py).
"""

from __future__ import annotations

from lark import Token, Tree

from brainsim.errors import LimitError, SourceSpan
from brainsim.validate import MAX_EXPRESSION_DEPTH

MAX_MODEL_BYTES = 4 * 2**20
MAX_TOKEN = 255
MAX_FILE_NAME = 4096
MAX_DEPTH = MAX_EXPRESSION_DEPTH
MAX_NODES = 100_000
MAX_IMPORT_DEPTH = 64


def check_model_size(size: int, filename: str, unit: str = "bytes") -> None:
    """Rejects a model file (or model text) longer than `MAX_MODEL_BYTES`, before it is read."""
    if size > MAX_MODEL_BYTES:
        raise LimitError(
            f"model file {filename!r} is {_mebibytes(size)} ({size:,} {unit}); a model file may be at most "
            f"{_mebibytes(MAX_MODEL_BYTES)}",
            hint="keep large tables of numbers in data files (from_file, edges) rather than in the model text",
        )


def too_long(token: Token) -> bool:
    """Whether `token` is longer than `MAX_TOKEN` characters (a file name: `MAX_FILE_NAME`)."""
    return len(token) > _longest(token)[0]


def long_token_error(token: Token, span: SourceSpan) -> LimitError:
    """The error for a `token` at `span` that is `too_long`::

        parameters { xxxxxxxx...(300 characters) = 1 ms }
    """
    limit, what = _longest(token)
    return LimitError(f"this word is {len(token):,} characters long; {what} may have at most {limit:,}", span)


def _longest(token: Token) -> tuple[int, str]:
    return (MAX_FILE_NAME, "a file name") if token.type == "STRING" else (MAX_TOKEN, "a name, number or unit")


# The levels of the parse tree above an expression: the file, a statement, its blocks.
_STATEMENT_LEVELS = 16


def too_deep(tree: Tree) -> Tree | None:
    """The first node (in source order) of the parse `tree` that lies more than `MAX_DEPTH`
    levels below the statement that holds it, if any.

    Walked with a stack, not recursion, so that any depth is measured: the transformer
    that turns the tree into the AST recurses, and must not meet a tree deeper than this.
    """
    pending = [(tree, 1)]
    while pending:
        node, depth = pending.pop()
        if depth > MAX_DEPTH + _STATEMENT_LEVELS:
            return node
        pending.extend((child, depth + 1) for child in reversed(node.children) if isinstance(child, Tree))
    return None


def nesting_error(span: SourceSpan) -> LimitError:
    """The error for the text at `span`, which is nested deeper than `MAX_DEPTH`::

        parameters { a = ((((((...(1 mV)...)))))) }      # 2001 parentheses
    """
    return LimitError(
        f"this is nested more than {MAX_DEPTH} levels deep (each parenthesis, operator, call and region "
        f"adds a level); the language allows {MAX_DEPTH}",
        span,
        "split the expression with aliases, or group a long sum or product: (a + b) + (c + d)",
    )


def check_expression(nodes: int, depth: int, span: SourceSpan) -> None:
    """Rejects an expression at `span` that has, with its aliases substituted, more than
    `MAX_NODES` operations or more than `MAX_DEPTH` levels::

        aliases { a1 = a0 + a0  a2 = a1 + a1  ...  a40 = a39 + a39 }
    """
    if depth > MAX_DEPTH:
        raise LimitError(
            f"with its aliases substituted, this expression is nested {depth} levels deep; "
            f"the language allows {MAX_DEPTH}",
            span,
            "aliases are copied into the expressions that read them: group long sums, (a + b) + (c + d)",
        )
    if nodes > MAX_NODES:
        raise LimitError(
            f"with its aliases substituted, this expression has {nodes:,} operations; "
            f"the language allows {MAX_NODES:,}",
            span,
            "aliases are copied into the expressions that read them: an alias that reads another twice "
            "doubles its size",
        )


def check_alias_chain(chain: list[str], span: SourceSpan) -> None:
    """Rejects a use at `span` of an alias that reads, through `chain`, more than `MAX_DEPTH`
    aliases each reading the next (each is lowered inside the one that reads it)."""
    if len(chain) >= MAX_DEPTH:
        raise LimitError(
            f"aliases read each other in a chain of more than {MAX_DEPTH} ({chain[0]} reads {chain[1]} ... "
            f"reads {chain[-1]}); the language allows {MAX_DEPTH}",
            span,
            "let an alias read the parameters and states directly rather than a long chain of other aliases",
        )


def check_import_depth(chain: tuple[str, ...], span: SourceSpan) -> None:
    """Rejects an import at `span` that would make a chain of more than `MAX_IMPORT_DEPTH` files
    (a.brain imports b.brain imports c.brain ...)."""
    if len(chain) > MAX_IMPORT_DEPTH:
        raise LimitError(
            f"the imports form a chain of more than {MAX_IMPORT_DEPTH} files "
            f"({chain[0]} imports {chain[1]} ... imports {chain[-1]})",
            span,
            "import the shared files from one file rather than each from the one before",
        )


def _mebibytes(size: int) -> str:
    return f"{size / 2**20:.1f} MiB"
