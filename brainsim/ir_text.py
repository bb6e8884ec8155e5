"""The lowered IR as readable text, one line per item: `brainsim info --ir`.

    Network simulation=SimulationSettings(dt=0.0001, duration=0.02, seed=1) source_name=tiny.brain
      populations:
        Population Area.cells region=Area size=3
          model: NeuronModel LIF threshold=`v > V_th` refractory=0.0
            parameters:
              Parameter tau value=0.01 dimension=s
            equations:
              Equation `dv/dt = (E_L - v + R * I_ext) / tau`
        Population Area.more region=Area size=3
          model: NeuronModel LIF threshold=`v > V_th` refractory=0.0 (as in Area.cells)

Written once for every IR dataclass, from its fields, so that a field added to
`brainsim.ir` shows up here without a change: a node whose fields are all
values is one line (`Class name field=value ...`); a node holding other nodes
(a model's parameters, a network's populations) lists them below it, indented,
under the field's name. Fields at their default, empty lists and spans are
left out. Expressions are infix text in backticks (`format_expr`), equations
and assignments read as statements (`dv/dt = ...`, `v += w`), quantities are
SI floats as the IR holds them, long lists of numbers summarised. A model or synapse
equal to one printed before (the same model in several populations) is not
printed again.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Any

from brainsim import ir
from brainsim.errors import visible
from brainsim.integrators import format_expr
from brainsim.units import Dimension
from brainsim.validate import deep_expressions

_SHOWN_VALUES = 8  # a tuple of more numbers than this is summarised


def format_ir(network: ir.Network) -> str:
    """`network` as text, one line per node (module docstring)."""
    lines: list[str] = []
    with deep_expressions():  # printing and hashing an expression recurse once per level
        _node(network, "", "", "", lines, {})
    return visible("\n".join(lines))  # the file name a model was read from may hold control characters


def _node(node: Any, indent: str, label: str, owner: str, lines: list[str], printed: dict) -> None:
    """Append the lines of `node`; `label` ("model: ") starts its first line, `owner` is the
    name of the nearest named node holding it; `printed` maps each node with children
    printed so far to its owner then."""
    inline, nested = {}, []
    for name, value in _fields(node):
        if _is_block(value) or isinstance(value, tuple) and any(map(_is_node, value)):
            nested.append((name, value))
        else:
            inline[name] = _value(value)
    head = f"{indent}{label}{_head(node, inline)}"
    if nested and node in printed:
        lines.append(f"{head} (as in {printed[node]})")
        return
    lines.append(head)
    if nested:
        printed[node] = owner or type(node).__name__
    own = getattr(node, "name", None)
    owner = own if isinstance(own, str) else owner
    for name, value in nested:
        if isinstance(value, tuple):
            lines.append(f"{indent}  {name}:")
            for item in value:
                _node(item, indent + "    ", "", owner, lines, printed)
        else:
            _node(value, indent + "  ", f"{name}: ", owner, lines, printed)


def _head(node: Any, inline: dict[str, str]) -> str:
    """The first line of `node` without its indent: the class, then its name or statement,
    then `field=value` for the other inline fields."""
    match node:
        case ir.Equation(variable=variable, rhs=rhs):
            words, used = [f"`d{variable}/dt = {format_expr(rhs)}`"], {"variable", "rhs"}
        case ir.Assignment(variable=variable, op=op, value=value):
            words, used = [f"`{variable} {op.value} {format_expr(value)}`"], {"variable", "op", "value"}
        case _ if isinstance(getattr(node, "name", None), str):
            words, used = [node.name], {"name"}
        case _:
            words, used = [], set()
    rest = [f"{name}={text}" for name, text in inline.items() if name not in used]
    return " ".join([type(node).__name__, *words, *rest])


def _fields(node: Any) -> list[tuple[str, Any]]:
    """(name, value) of the fields of `node` that say something: not a span, not at its
    default, not an empty tuple."""
    shown = []
    for field in dataclasses.fields(node):
        value = getattr(node, field.name)
        if not field.compare or value == () or field.default is not dataclasses.MISSING and value == field.default:
            continue
        shown.append((field.name, value))
    return shown


def _is_node(value: Any) -> bool:
    """An IR dataclass other than an expression or a dimension (those print as values)."""
    return dataclasses.is_dataclass(value) and not isinstance(value, (Dimension, *_EXPRESSIONS))


def _is_block(value: Any) -> bool:
    """Whether `value` is a node printed on lines of its own: one that holds nodes (a model
    its parameters) or is one of `_BLOCKS`; a node of plain values (`Uniform(low, high)`)
    fits inline."""
    return _is_node(value) and (type(value) in _BLOCKS or any(
        _is_block(v) or isinstance(v, tuple) and any(map(_is_node, v)) for _, v in _fields(value)))


_EXPRESSIONS = (ir.Const, ir.Var, ir.Unary, ir.Binary, ir.Call, ir.Where)
# Printed as blocks even when they hold no nodes, so that every model reads alike.
_BLOCKS = (ir.Network, ir.NeuronModel, ir.SynapseModel, ir.Population, ir.Projection)


def _value(value: Any) -> str:
    """A field's value as it appears after `name=`."""
    match value:
        case ir.Const() | ir.Var() | ir.Unary() | ir.Binary() | ir.Call() | ir.Where():
            return f"`{format_expr(value)}`"
        case enum.Enum():
            return str(value.value)
        case Dimension():
            return f"'{value}'" if " " in str(value) else str(value)
        case float():
            return repr(value)
        case tuple() if len(value) > _SHOWN_VALUES and all(isinstance(v, (int, float)) for v in value):
            return f"({len(value)} values from {min(value)!r} to {max(value)!r})"
        case tuple() if len(value) > _SHOWN_VALUES:
            return f"({len(value)} items)"
        case tuple():
            return "(" + ", ".join(map(_value, value)) + ")"
    if _is_node(value):
        return f"{type(value).__name__}({', '.join(f'{name}={_value(v)}' for name, v in _fields(value))})"
    return str(value)
