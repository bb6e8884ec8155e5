"""The surface syntax of a `.brain` file, as the parser builds it.

One frozen dataclass per construct of the language, each with the `span` it
was written at, so that lowering can point at the text of any mistake. The AST
keeps what the user wrote (number texts, unit symbols, names) and checks
nothing: names, units and values are checked by `brainsim.dsl.lower`.

Operators reuse the IR's enums (`ir.UnaryOp`, `ir.BinaryOp`, `ir.AssignOp`),
whose values are the symbols written in the language.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from brainsim import ir
from brainsim.errors import SourceSpan


@dataclass(frozen=True, slots=True)
class Ident:
    """A name as written, with where it was written."""

    name: str
    span: SourceSpan


# --------------------------------------------------------------------------- expressions


@dataclass(frozen=True, slots=True)
class Quantity:
    """A number with an optional unit: `10 ms`, `0.5`, `2 mV/ms`.

    `number` is the literal text (so lowering can convert it exactly);
    `unit` is the unit text as written (`None` for a plain number), found at
    `unit_span`.
    """

    number: str
    unit: str | None
    span: SourceSpan
    unit_span: SourceSpan | None = None


@dataclass(frozen=True, slots=True)
class Name:
    """A reference to a parameter, state, input, alias, built-in or unit."""

    name: str
    span: SourceSpan


@dataclass(frozen=True, slots=True)
class Boolean:
    """`true` or `false`."""

    value: bool
    span: SourceSpan


@dataclass(frozen=True, slots=True)
class Unary:
    op: ir.UnaryOp
    operand: Expr
    span: SourceSpan


@dataclass(frozen=True, slots=True)
class Binary:
    op: ir.BinaryOp
    left: Expr
    right: Expr
    span: SourceSpan


@dataclass(frozen=True, slots=True)
class KeywordArgument:
    """`name = value` inside a call, as in `pulses(period = 20 ms, ...)`; the value
    may be a list (`steps(times = [10 ms, 50 ms], ...)`)."""

    name: Ident
    value: Value
    span: SourceSpan


@dataclass(frozen=True, slots=True)
class Call:
    """`function(args..., keyword = value...)`: maths functions, `where`,
    `uniform` and `pulses` all share this form; lowering tells them apart."""

    function: Ident
    args: tuple[Expr, ...]
    keywords: tuple[KeywordArgument, ...]
    span: SourceSpan


@dataclass(frozen=True, slots=True)
class Conditional:
    """`then if condition else otherwise`."""

    condition: Expr
    then: Expr
    otherwise: Expr
    span: SourceSpan


@dataclass(frozen=True, slots=True)
class Text:
    """`"a string"` (without its quotes): a file name, the argument of the
    constructs that read files (imports, `from_file`, edge lists). `folders` are
    the folders the file it names must lie in (`brainsim.dsl.folders`), given to
    the parser with the text."""

    value: str
    span: SourceSpan
    folders: tuple[Path, ...] = field(default=(), compare=False)


Expr = Quantity | Name | Boolean | Text | Unary | Binary | Call | Conditional


@dataclass(frozen=True, slots=True)
class ValueList:
    """`[a, b, ...]`: one value per element, written as a setting of a spike source
    or as a call's named argument."""

    items: tuple[Expr, ...]
    span: SourceSpan


Value = Expr | ValueList


# --------------------------------------------------------------------------- statements


@dataclass(frozen=True, slots=True)
class Declaration:
    """`name = value`: a setting, parameter, input, state, alias or override."""

    name: Ident
    value: Value
    span: SourceSpan


@dataclass(frozen=True, slots=True)
class Equation:
    """`dv/dt = rhs`, optionally `(unless refractory)`."""

    variable: Ident
    rhs: Expr
    unless_refractory: bool
    span: SourceSpan


@dataclass(frozen=True, slots=True)
class Assignment:
    """`variable op value` in a `reset`, `on pre`, `on post` or `stimulus` block."""

    variable: Ident
    op: ir.AssignOp
    value: Expr
    span: SourceSpan


@dataclass(frozen=True, slots=True)
class Spike:
    """`spike when condition`."""

    condition: Expr
    span: SourceSpan


@dataclass(frozen=True, slots=True)
class Refractory:
    """`refractory period`."""

    period: Expr
    span: SourceSpan


@dataclass(frozen=True, slots=True)
class Method:
    """`method = rk4`: how the model's equations are integrated; `choice` is the name written."""

    choice: Ident
    span: SourceSpan


@dataclass(frozen=True, slots=True)
class Simulation:
    """`simulation { dt = ...  duration = ...  seed = ... }`."""

    settings: tuple[Declaration, ...]
    span: SourceSpan


@dataclass(frozen=True, slots=True)
class Neuron:
    """`neuron Name { ... }`; every block is optional and appears at most once."""

    name: Ident
    parameters: tuple[Declaration, ...]
    inputs: tuple[Declaration, ...]
    states: tuple[Declaration, ...]
    aliases: tuple[Declaration, ...]
    equations: tuple[Equation, ...]
    spike: Spike | None
    reset: tuple[Assignment, ...]
    refractory: Refractory | None
    method: Method | None
    span: SourceSpan


@dataclass(frozen=True, slots=True)
class DerivedNeuron:
    """`neuron Name = Base { overrides }`: the base model's equations with other values."""

    name: Ident
    base: Ident
    overrides: tuple[Declaration, ...]
    span: SourceSpan


@dataclass(frozen=True, slots=True)
class Synapse:
    """`[excitatory|inhibitory] synapse Name { parameters {...}  state {...}  on pre {...} }`.

    Plastic synapses add `equations [(clock-driven)] {...}`, `on post {...}` and
    `bounds { w = [low, high] }` (each a declaration whose value is a two-element list).
    """

    name: Ident
    parameters: tuple[Declaration, ...]
    states: tuple[Declaration, ...]
    on_pre: tuple[Assignment, ...]
    span: SourceSpan
    kind: ir.NeuronKind = ir.NeuronKind.UNSPECIFIED
    equations: tuple[Equation, ...] = ()
    clock_driven: bool = False
    on_post: tuple[Assignment, ...] = ()
    bounds: tuple[Declaration, ...] = ()
    on_post_span: SourceSpan | None = None  # the `on post` block, for errors about the whole block


@dataclass(frozen=True, slots=True)
class Count:
    """A whole number written in the model: a population size or an index."""

    text: str
    span: SourceSpan


@dataclass(frozen=True, slots=True)
class Population:
    """`[excitatory|inhibitory] name = Model[size] [at rule] { overrides }` in a region.

    For a spike source (`PoissonSource[100] { rate = 10 Hz }`) the braces hold
    its settings, kept in `overrides` too. `at` is the position rule as written
    (`grid(10, 10, spacing = 50 um)`, `box(...)`, `from_file(...)`), if any.
    """

    kind: ir.NeuronKind
    name: Ident
    model: Ident
    size: Count
    overrides: tuple[Declaration, ...]
    at: Expr | None
    span: SourceSpan


@dataclass(frozen=True, slots=True)
class Region:
    """`region Name { populations and regions }`; `members` in source order."""

    name: Ident
    members: tuple[Population | Region, ...]
    span: SourceSpan

    @property
    def populations(self) -> tuple[Population, ...]:
        """The populations directly inside this region."""
        return tuple(m for m in self.members if isinstance(m, Population))

    @property
    def regions(self) -> tuple[Region, ...]:
        """The regions directly inside this region."""
        return tuple(m for m in self.members if isinstance(m, Region))


@dataclass(frozen=True, slots=True)
class Endpoint:
    """`Region`, `Region.Sub...` (all their populations at any depth) or `Region.population`."""

    names: tuple[Ident, ...]
    span: SourceSpan

    @property
    def text(self) -> str:
        """The endpoint as written: `Cortex.L4.exc`."""
        return ".".join(name.name for name in self.names)


@dataclass(frozen=True, slots=True)
class Connect:
    """`connect source -> target with Synapse { settings }`."""

    source: Endpoint
    target: Endpoint
    synapse: Ident
    settings: tuple[Declaration, ...]
    span: SourceSpan


@dataclass(frozen=True, slots=True)
class Stimulus:
    """`stimulus target { input += waveform ... }`; the target may select neurons (`Pop[0:5]`)."""

    target: Selection
    inputs: tuple[Assignment, ...]
    span: SourceSpan


@dataclass(frozen=True, slots=True)
class Index:
    """`[i]`: one neuron."""

    index: Count
    span: SourceSpan


@dataclass(frozen=True, slots=True)
class Slice:
    """`[start:stop]`, either end optional: neurons start..stop-1."""

    start: Count | None
    stop: Count | None
    span: SourceSpan


@dataclass(frozen=True, slots=True)
class Selection:
    """A record or stimulus target: an endpoint and optionally which of its neurons."""

    endpoint: Endpoint
    neurons: Index | Slice | None
    span: SourceSpan


@dataclass(frozen=True, slots=True)
class RecordSpikes:
    """`record spikes of A, B.pop, ...` (`every`: a mistake the lowering names)."""

    targets: tuple[Selection, ...]
    span: SourceSpan
    every: Value | None = None


@dataclass(frozen=True, slots=True)
class RecordStates:
    """`record v, I_syn of A.pop[0:5], ...`, optionally `every 1 ms`."""

    variables: tuple[Ident, ...]
    targets: tuple[Selection, ...]
    span: SourceSpan
    every: Value | None = None


@dataclass(frozen=True, slots=True)
class RecordSynapses:
    """`record w, a_pre of A -> B[0:10]` (every step) or `record w of A -> B at [1 s, 2 s]` (snapshots).

    `target.neurons` selects synapses (in projection order), not neurons; `times` is the written list.
    """

    variables: tuple[Ident, ...]
    source: Endpoint
    target: Selection
    times: ValueList | None
    span: SourceSpan


Record = RecordSpikes | RecordStates | RecordSynapses


@dataclass(frozen=True, slots=True)
class Import:
    """`import "cells.brain"`: a file, relative to the importing file's folder."""

    path: Text
    span: SourceSpan


@dataclass(frozen=True, slots=True)
class ImportLibrary:
    """`import lif, izhikevich from std`: modules of a library (only `std` exists)."""

    modules: tuple[Ident, ...]
    library: Ident
    span: SourceSpan


@dataclass(frozen=True, slots=True)
class Model:
    """A whole `.brain` file, its statements grouped by kind in source order.

    `simulation` is None only in an imported file, which may not have one.
    """

    simulation: Simulation | None
    neurons: tuple[Neuron, ...]
    synapses: tuple[Synapse, ...]
    regions: tuple[Region, ...]
    connects: tuple[Connect, ...]
    stimuli: tuple[Stimulus, ...]
    records: tuple[Record, ...]
    filename: str
    derived_neurons: tuple[DerivedNeuron, ...] = ()
    imports: tuple[Import | ImportLibrary, ...] = ()
