"""The intermediate representation: the contract between front end and backends.

Lowering (`brainsim.dsl.lower`) turns a parsed model into a `Network`; backends
compile a `Network` and never see syntax. Everything here is a frozen dataclass
with tuple children, every quantity is a float in SI units, and every name is a
plain string, so an IR is hashable, comparable and printable.

Expressions are small trees (`Expr`). A `Var` names, depending on where the
expression lives:
  * in a neuron model: one of its parameters, state variables or inputs, or the
    built-ins `t` (time, s) and `dt` (step, s);
  * in a synapse model: one of its parameters or state variables, `t`, `dt`,
    or a neuron-side name (`SPIKED`: `v_post`, `spiked_pre`, `d_mod`, ...).
Aliases are already substituted and units already checked when an IR exists.

Every node may carry `span` (where it came from in the model text); spans take
no part in equality, and `None` marks a node that a pass created.
"""

from __future__ import annotations

import enum
import math
import operator
from dataclasses import dataclass, field
from typing import Callable, Union

from brainsim.errors import SourceSpan
from brainsim.units import Dimension


def _span() -> SourceSpan | None:
    return field(default=None, compare=False, repr=False)


# --------------------------------------------------------------------------- expressions


class UnaryOp(enum.Enum):
    NEG = "-"
    NOT = "not"


class BinaryOp(enum.Enum):
    ADD = "+"
    SUB = "-"
    MUL = "*"
    DIV = "/"
    POW = "**"
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    EQ = "=="
    NE = "!="
    AND = "and"
    OR = "or"


class Function(enum.Enum):
    """Functions an expression may call; the value is (name, number of arguments)."""

    EXP = ("exp", 1)
    EXPM1 = ("expm1", 1)
    LOG = ("log", 1)
    LOG10 = ("log10", 1)
    SQRT = ("sqrt", 1)
    ABS = ("abs", 1)
    TANH = ("tanh", 1)
    SIN = ("sin", 1)
    COS = ("cos", 1)
    FLOOR = ("floor", 1)
    MIN = ("min", 2)
    MAX = ("max", 2)
    CLIP = ("clip", 3)

    @property
    def arity(self) -> int:
        return self.value[1]

    @property
    def function_name(self) -> str:
        return self.value[0]


@dataclass(frozen=True, slots=True)
class Const:
    value: float
    span: SourceSpan | None = _span()


@dataclass(frozen=True, slots=True)
class Var:
    name: str
    span: SourceSpan | None = _span()


@dataclass(frozen=True, slots=True)
class Unary:
    op: UnaryOp
    operand: "Expr"
    span: SourceSpan | None = _span()


@dataclass(frozen=True, slots=True)
class Binary:
    op: BinaryOp
    left: "Expr"
    right: "Expr"
    span: SourceSpan | None = _span()


@dataclass(frozen=True, slots=True)
class Call:
    function: Function
    args: tuple["Expr", ...]
    span: SourceSpan | None = _span()


@dataclass(frozen=True, slots=True)
class Where:
    """`then` where `condition` holds, else `otherwise` (elementwise)."""

    condition: "Expr"
    then: "Expr"
    otherwise: "Expr"
    span: SourceSpan | None = _span()


Expr = Union[Const, Var, Unary, Binary, Call, Where]
# Adding an expression node means touching: this union, `children` below, the
# front end's builder (dsl/expressions.py), `brainsim.backends.expressions`
# (compile_expr, lift_constants), the integrators' analyses and rewrites
# (brainsim/integrators) and `format_expr`.


def children(expr: Expr) -> tuple[Expr, ...]:
    """The direct subexpressions of `expr`, in evaluation order."""
    match expr:
        case Const() | Var():
            return ()
        case Unary(_, operand):
            return (operand,)
        case Binary(_, left, right):
            return (left, right)
        case Call(_, args):
            return args
        case Where(condition, then, otherwise):
            return (condition, then, otherwise)
    raise TypeError(f"not an expression: {expr!r}")


def free_names(expr: Expr):
    """The names `expr` reads, each once, in the order written, as a set-like view
    (`&`, `-`, `in` work; iteration is in order). Walked without recursion, so any
    depth is fine."""
    names: dict[str, None] = {}
    pending = [expr]
    while pending:
        node = pending.pop()
        if isinstance(node, Var):
            names.setdefault(node.name)
        pending.extend(reversed(children(node)))
    return names.keys()


def walk(expr: Expr):
    """Every node of `expr` (itself first, then its subexpressions in written order),
    without recursion."""
    pending = [expr]
    while pending:
        node = pending.pop()
        yield node
        pending.extend(reversed(children(node)))


def depth(expr: Expr) -> int:
    """How deeply `expr` nests (a name or a literal: 1), walked without recursion."""
    deepest, pending = 0, [(expr, 1)]
    while pending:
        node, level = pending.pop()
        deepest = max(deepest, level)
        pending.extend((child, level + 1) for child in children(node))
    return deepest

# How the host folds constant expressions (parameter values, propagator
# coefficients) in Python floats, once, before any backend sees them.
HOST_BINARY: dict[BinaryOp, Callable] = {
    BinaryOp.ADD: operator.add,
    BinaryOp.SUB: operator.sub,
    BinaryOp.MUL: operator.mul,
    BinaryOp.DIV: operator.truediv,
    BinaryOp.POW: math.pow,
    BinaryOp.LT: operator.lt,
    BinaryOp.LE: operator.le,
    BinaryOp.GT: operator.gt,
    BinaryOp.GE: operator.ge,
    BinaryOp.EQ: operator.eq,
    BinaryOp.NE: operator.ne,
    BinaryOp.AND: lambda a, b: a and b,
    BinaryOp.OR: lambda a, b: a or b,
}
HOST_FUNCTIONS: dict[Function, Callable] = {
    Function.EXP: math.exp,
    Function.EXPM1: math.expm1,
    Function.LOG: math.log,
    Function.SQRT: math.sqrt,
    Function.ABS: abs,
    Function.TANH: math.tanh,
    Function.LOG10: math.log10,
    Function.SIN: math.sin,
    Function.COS: math.cos,
    Function.FLOOR: lambda x: float(math.floor(x)),
    Function.MIN: min,
    Function.MAX: max,
    Function.CLIP: lambda x, low, high: min(max(x, low), high),
}


# --------------------------------------------------------------------------- initial values


@dataclass(frozen=True, slots=True)
class Constant:
    """The same value for every neuron or synapse."""

    value: float
    span: SourceSpan | None = _span()


@dataclass(frozen=True, slots=True)
class Uniform:
    """Drawn independently for each element from [low, high), from the network seed."""

    low: float
    high: float
    span: SourceSpan | None = _span()


@dataclass(frozen=True, slots=True)
class Values:
    """One written value per element, in element order (`rate = [5 Hz, 10 Hz]`)."""

    values: tuple[float, ...]
    span: SourceSpan | None = _span()


@dataclass(frozen=True, slots=True)
class Normal:
    """Drawn independently for each element from a normal distribution."""

    mean: float
    std: float
    span: SourceSpan | None = _span()


@dataclass(frozen=True, slots=True)
class ClippedNormal:
    """A normal draw kept inside [low, high]: values outside are drawn again
    (NEST's `normal_clipped`), so the distribution is truncated, not piled up at the ends."""

    mean: float
    std: float
    low: float
    high: float
    span: SourceSpan | None = _span()


@dataclass(frozen=True, slots=True)
class LogNormal:
    """Drawn from the lognormal distribution whose own mean and standard deviation
    are `mean` (> 0) and `std` (so they carry the element's unit)."""

    mean: float
    std: float
    span: SourceSpan | None = _span()


@dataclass(frozen=True, slots=True)
class Formula:
    """A value per element computed on the host from an expression of the element.

    For a neuron (a parameter or an initial value) the expression reads the
    names in `NEURON_NAMES` and the model's parameters; for a synapse (a weight,
    a delay, a connection probability or condition) those in `PAIR_NAMES`.
    """

    expr: "Expr"
    span: SourceSpan | None = _span()


Initializer = Union[Constant, Uniform, Values, Normal, ClippedNormal, LogNormal, Formula]

NEURON_NAMES = ("i", "N", "x", "y", "z")
"""What a per-neuron `Formula` may read besides parameters: the neuron's index in
its population, the population's size, and the neuron's position (m; 0 without a
position rule)."""

PAIR_NAMES = ("i", "j", "N_pre", "N_post", "x_pre", "y_pre", "z_pre", "x_post", "y_post", "z_post", "distance")
"""What a per-synapse `Formula` may read: the presynaptic and postsynaptic neuron's
index in its population, the two population sizes, both positions (m), and
the Euclidean distance between them (m)."""


# --------------------------------------------------------------------------- positions


@dataclass(frozen=True, slots=True)
class Grid:
    """Neurons on a regular grid of `shape` (1 to 3 numbers, x fastest), `spacing`
    metres apart, the first at `origin` (x, y, z)."""

    shape: tuple[int, ...]
    spacing: float
    origin: tuple[float, float, float] = (0.0, 0.0, 0.0)
    span: SourceSpan | None = _span()


@dataclass(frozen=True, slots=True)
class RandomBox:
    """Neurons placed independently and uniformly in the box [low, high) (x, y, z; m),
    drawn from the network seed."""

    low: tuple[float, float, float]
    high: tuple[float, float, float]
    span: SourceSpan | None = _span()


@dataclass(frozen=True, slots=True)
class Placed:
    """Written positions, one (x, y, z) per neuron (m), e.g. read from a file."""

    points: tuple[tuple[float, float, float], ...]
    span: SourceSpan | None = _span()


Positions = Union[Grid, RandomBox, Placed]


# --------------------------------------------------------------------------- neuron models


@dataclass(frozen=True, slots=True)
class Parameter:
    """A named constant of a model: a float when every neuron of the population has
    the same value, else an `Initializer` the host draws or computes per neuron
    (a heterogeneous parameter; it stays constant during the run)."""

    name: str
    value: "float | Initializer"
    dimension: Dimension
    span: SourceSpan | None = _span()


@dataclass(frozen=True, slots=True)
class StateVariable:
    """A per-element variable with its initial value (already in SI)."""

    name: str
    dimension: Dimension
    initial: Initializer
    span: SourceSpan | None = _span()


@dataclass(frozen=True, slots=True)
class Input:
    """A per-neuron quantity held constant over one step: `default` plus the stimuli
    that target it in that step. Equations read it like a state variable."""

    name: str
    dimension: Dimension
    default: float
    span: SourceSpan | None = _span()


@dataclass(frozen=True, slots=True)
class Equation:
    """`d<variable>/dt = rhs`; held fixed while refractory if `clamped_when_refractory`."""

    variable: str
    rhs: Expr
    clamped_when_refractory: bool = False
    span: SourceSpan | None = _span()


class AssignOp(enum.Enum):
    SET = "="
    ADD = "+="
    SUB = "-="
    MUL = "*="
    DIV = "/="


@dataclass(frozen=True, slots=True)
class Assignment:
    """`variable op value`, e.g. `v = V_reset` in a reset or `I_syn += w` on a spike."""

    variable: str
    op: AssignOp
    value: Expr
    span: SourceSpan | None = _span()


class Method(enum.Enum):
    """How a neuron model's equations advance over one step (docs/semantics.md, "Integration")."""

    EXACT = "exact"  # linear with constant coefficients: matrix exponential
    EXPONENTIAL_EULER = "exponential_euler"  # each equation linear in its own variable
    RK2 = "rk2"  # midpoint
    RK4 = "rk4"  # classic Runge-Kutta
    EULER = "euler"  # forward Euler; Euler-Maruyama when the equations read noise


@dataclass(frozen=True, slots=True)
class MethodChoice:
    """`method = ...`, as written in a neuron model (the span points at it)."""

    method: Method
    span: SourceSpan | None = _span()


NOISE = "xi"
"""White noise in equations: `xi`, or `xi_<suffix>` for further independent sources.
Each has dimension s^-1/2; a model lists the ones its equations read in `noises`."""


@dataclass(frozen=True, slots=True)
class NeuronModel:
    """A neuron model with the parameter values of one population.

    `threshold` is a boolean expression (None: the model never spikes);
    `reset` runs, in order, on the neurons that spiked; `refractory` is the
    refractory period in seconds (0: none). `method` is the integration method
    the model asks for (None: chosen by `brainsim.integrators`); `noises` are
    the white-noise names (`NOISE`) its equations read, each an independent
    source per neuron.
    """

    name: str
    parameters: tuple[Parameter, ...]
    states: tuple[StateVariable, ...]
    inputs: tuple[Input, ...]
    equations: tuple[Equation, ...]
    threshold: Expr | None
    reset: tuple[Assignment, ...]
    refractory: float
    method: MethodChoice | None = None
    noises: tuple[str, ...] = ()
    span: SourceSpan | None = _span()


_SECOND = Dimension.of({"[time]": 1})


def time_constants(model: "NeuronModel | SynapseModel") -> frozenset[str]:
    """The parameters of `model` (a neuron or synapse model) that are time constants:
    of dimension time, and divided by directly in an equation (`(E_L - v) / tau_m`).
    Such a value must be positive, or the variable grows instead of relaxing."""
    divisors = {node.right.name for equation in model.equations for node in walk(equation.rhs)
                if isinstance(node, Binary) and node.op is BinaryOp.DIV and isinstance(node.right, Var)}
    return frozenset(p.name for p in model.parameters if p.name in divisors and p.dimension == _SECOND)


# --------------------------------------------------------------------------- network


@dataclass(frozen=True, slots=True)
class PoissonSource:
    """A spike source: in step n each neuron spikes with probability min(1, rate * dt),
    decided by the runtime generator's uniform draw for (population, neuron, step).

    `rate` (Hz) is either one value per neuron (an `Initializer`, drawn from the
    network seed like an initial value) or an expression of `t` and `dt` shared by
    every neuron and evaluated at t_n, the start of the step.
    """

    rate: Initializer | Expr
    span: SourceSpan | None = _span()

    name = "PoissonSource"


@dataclass(frozen=True, slots=True)
class SpikeTimes:
    """A spike source: neuron `indices[k]` spikes at `times[k]` (s).

    Times are sorted (ascending), each within (0, duration]; the spike at time T is
    emitted in the step that ends at round(T / dt) dt, and a neuron spikes at most
    once per step.
    """

    indices: tuple[int, ...]
    times: tuple[float, ...]
    span: SourceSpan | None = _span()

    name = "SpikeTimes"


SpikeSource = Union[PoissonSource, SpikeTimes]


class NeuronKind(enum.Enum):
    UNSPECIFIED = "unspecified"
    EXCITATORY = "excitatory"
    INHIBITORY = "inhibitory"


@dataclass(frozen=True, slots=True)
class Population:
    """`size` neurons of one model, or a spike source of `size` channels; `name` is
    qualified as `Region.population`."""

    name: str
    region: str
    size: int
    model: NeuronModel | SpikeSource
    kind: NeuronKind = NeuronKind.UNSPECIFIED
    positions: Positions | None = None
    span: SourceSpan | None = _span()


@dataclass(frozen=True, slots=True)
class Region:
    """A named group of populations; `name` is qualified by the regions it sits in
    (`Cortex.L4`), `parent` is the enclosing region's name (None at the top), and
    `populations` are the qualified names of the populations directly inside it."""

    name: str
    populations: tuple[str, ...]
    parent: str | None = None
    span: SourceSpan | None = _span()


PRE_SUFFIX = "_pre"
POST_SUFFIX = "_post"
MODULATOR_SUFFIX = "_mod"
SPIKED = "spiked"
"""Names a synapse expression reads besides its own: `<name>_pre` and `<name>_post`
are a variable (state, input or parameter) of the presynaptic and postsynaptic
neuron of the synapse; `spiked_pre` and `spiked_post` are booleans, true in the
step that neuron fired; `<name>_mod` is a variable of the projection's modulator
(`Projection.modulator`, a one-neuron population, e.g. dopamine)."""


@dataclass(frozen=True, slots=True)
class Bound:
    """Keep synapse state `variable` within [low, high] (SI floats, low <= high):
    applied after every `on_pre`, `on_post` and clock-driven update."""

    variable: str
    low: float
    high: float
    span: SourceSpan | None = _span()


@dataclass(frozen=True, slots=True)
class SynapseModel:
    """A synapse model with the values of one projection.

    `on_pre` runs, statement by statement, for each synapse of a presynaptic
    neuron that spiked, in the step it spiked (plus the projection's
    `axonal_delay`); `on_post` likewise for each synapse of a postsynaptic
    neuron that spiked (plus `dendritic_delay`), after every `on_pre` of that
    step. An assignment to one of `states` (any op) updates the synapse; an
    assignment in `on_pre` to any other name is an effect on that variable of
    the postsynaptic neuron, op ADD or SUB, arriving the projection's `delay`
    after the presynaptic spike. `on_post` assigns synapse states only.

    Expressions read the synapse's parameters and states, `t`, `dt`, and the
    neuron-side names of `SPIKED` (`v_post`, `spiked_pre`, `d_mod`, ...).

    `equations` (d<state>/dt = rhs) are event-driven unless `clock_driven`:
    each then relaxes on its own, dx/dt = (x_rest - x) / tau with tau > 0 and
    x_rest expressions of parameters only, and is solved exactly between the
    synapse's events (no work in steps where neither side spikes). A
    clock-driven model integrates all its equations every step, for every
    synapse, with the neuron integrators' methods; those may read neuron-side
    names too. `bounds` clip states after each update.
    """

    name: str
    parameters: tuple[Parameter, ...]
    states: tuple[StateVariable, ...]
    on_pre: tuple[Assignment, ...]
    kind: NeuronKind = NeuronKind.UNSPECIFIED  # declared excitatory or inhibitory (Dale's law)
    equations: tuple[Equation, ...] = ()
    clock_driven: bool = False
    on_post: tuple[Assignment, ...] = ()
    bounds: tuple[Bound, ...] = ()
    span: SourceSpan | None = _span()

    @property
    def plastic(self) -> bool:
        """True if the synapse's state changes during a run."""
        names = {s.name for s in self.states}
        return bool(self.equations or self.on_post or any(a.variable in names for a in self.on_pre))

    def effects(self) -> tuple[Assignment, ...]:
        """The `on_pre` assignments that act on the postsynaptic neuron, in order."""
        names = {s.name for s in self.states}
        return tuple(a for a in self.on_pre if a.variable not in names)


@dataclass(frozen=True, slots=True)
class AllToAll:
    span: SourceSpan | None = _span()


@dataclass(frozen=True, slots=True)
class OneToOne:
    span: SourceSpan | None = _span()


@dataclass(frozen=True, slots=True)
class FixedProbability:
    """Each (pre, post) pair is connected independently with probability `p`: a
    number, or an expression of the pair (`PAIR_NAMES`), e.g. of their distance."""

    p: "float | Expr"
    span: SourceSpan | None = _span()


@dataclass(frozen=True, slots=True)
class FixedIndegree:
    """Each postsynaptic neuron receives `n` synapses from presynaptic neurons drawn at random."""

    n: int
    span: SourceSpan | None = _span()


@dataclass(frozen=True, slots=True)
class FixedOutdegree:
    """Each presynaptic neuron makes `n` synapses onto postsynaptic neurons drawn at random."""

    n: int
    span: SourceSpan | None = _span()


@dataclass(frozen=True, slots=True)
class FixedTotalNumber:
    """`n` synapses between pairs drawn at random."""

    n: int
    span: SourceSpan | None = _span()


@dataclass(frozen=True, slots=True)
class EdgeList:
    """Written synapses, `pre[k] -> post[k]` (indices in the two populations), e.g. a
    connectome read from a file; a synapse's values may then be `Values` in this order."""

    pre: tuple[int, ...]
    post: tuple[int, ...]
    span: SourceSpan | None = _span()


ConnectionRule = Union[AllToAll, OneToOne, FixedProbability, FixedIndegree, FixedOutdegree, FixedTotalNumber, EdgeList]


@dataclass(frozen=True, slots=True)
class Projection:
    """Synapses from one population to another.

    `synapse.states` carry the initial values chosen by the `connect` statement
    (the weight is the state named `w`); `delay` is in seconds.
    """

    name: str
    source: str
    target: str
    synapse: SynapseModel
    rule: ConnectionRule
    delay: Initializer
    allow_autapses: bool = False
    allow_multapses: bool = True  # the random-degree rules may draw a pair twice
    condition: "Expr | None" = None  # only pairs (PAIR_NAMES) where it holds are candidates
    modulator: str | None = None  # a one-neuron population whose variables the synapse reads as `<name>_mod`
    axonal_delay: float = 0.0  # s, whole steps, at most the smallest delay: pre spike -> `on_pre` runs
    dendritic_delay: float = 0.0  # s, whole steps: post spike -> `on_post` runs (back-propagation)
    span: SourceSpan | None = _span()


@dataclass(frozen=True, slots=True)
class ConstantCurrent:
    amplitude: float
    span: SourceSpan | None = _span()


@dataclass(frozen=True, slots=True)
class PulseTrain:
    """`amplitude` for `width` out of every `period`, from `start` until `stop`."""

    period: float
    width: float
    amplitude: float
    start: float
    stop: float
    span: SourceSpan | None = _span()


@dataclass(frozen=True, slots=True)
class StepCurrent:
    """`amplitudes[k]` from `times[k]` until the next time (times ascending); 0 before the first."""

    times: tuple[float, ...]
    amplitudes: tuple[float, ...]
    span: SourceSpan | None = _span()


@dataclass(frozen=True, slots=True)
class Sinusoid:
    """offset + amplitude * sin(2 pi frequency (t - start) + phase), from `start` until `stop`."""

    amplitude: float
    frequency: float
    phase: float
    offset: float
    start: float
    stop: float
    span: SourceSpan | None = _span()


class Interpolation(enum.Enum):
    LINEAR = "linear"  # straight lines between the samples
    PREVIOUS = "previous"  # each sample held until the next (a staircase)


@dataclass(frozen=True, slots=True)
class TimeSeries:
    """A current given by samples (`times` ascending, s), e.g. read from a file,
    `interpolation` between them; 0 before the first sample and after the last."""

    times: tuple[float, ...]
    values: tuple[float, ...]
    interpolation: Interpolation
    span: SourceSpan | None = _span()


@dataclass(frozen=True, slots=True)
class OrnsteinUhlenbeck:
    """A noise current per neuron, independent between neurons: mean `mean`, standard
    deviation `std` and correlation time `tau` (s), advanced exactly each step from
    the runtime generator; it starts at `mean`."""

    mean: float
    std: float
    tau: float
    span: SourceSpan | None = _span()


Waveform = Union[ConstantCurrent, PulseTrain, StepCurrent, Sinusoid, TimeSeries, OrnsteinUhlenbeck]


@dataclass(frozen=True, slots=True)
class Stimulus:
    """Adds `waveform` to input `variable` of the neurons `indices` of `population`
    (within it, ascending, no repeats; None: every neuron). The others get nothing from it."""

    population: str
    variable: str
    waveform: Waveform
    indices: tuple[int, ...] | None = None
    span: SourceSpan | None = _span()


@dataclass(frozen=True, slots=True)
class SpikeRecord:
    population: str
    span: SourceSpan | None = _span()


@dataclass(frozen=True, slots=True)
class StateRecord:
    """Record `variable` (a state or input) of the neurons `indices` of `population`, after
    every step, or every `every` seconds (a whole number of steps: after the steps ending
    at multiples of it)."""

    population: str
    variable: str
    indices: tuple[int, ...]
    every: float | None = None
    span: SourceSpan | None = _span()


@dataclass(frozen=True, slots=True)
class SynapseRecord:
    """Record synapse state `variable` of `projection` (its name): the synapses
    `indices` (positions in the projection's synapse order: by presynaptic, then
    postsynaptic neuron; None: all) after every step, or, with `times`
    (seconds, whole steps, ascending), snapshots after the steps ending at those times."""

    projection: str
    variable: str
    indices: tuple[int, ...] | None = None
    times: tuple[float, ...] | None = None
    span: SourceSpan | None = _span()


@dataclass(frozen=True, slots=True)
class SimulationSettings:
    dt: float
    duration: float
    seed: int
    span: SourceSpan | None = _span()

    @property
    def n_steps(self) -> int:
        return round(self.duration / self.dt)


@dataclass(frozen=True, slots=True)
class Network:
    """A whole model, ready for a backend."""

    simulation: SimulationSettings
    regions: tuple[Region, ...]
    populations: tuple[Population, ...]
    projections: tuple[Projection, ...]
    stimuli: tuple[Stimulus, ...]
    spike_records: tuple[SpikeRecord, ...]
    state_records: tuple[StateRecord, ...]
    source_name: str = "<model>"
    synapse_records: tuple[SynapseRecord, ...] = ()

    def within(self, region: str) -> tuple[str, ...]:
        """The populations of `region` at any depth (its own and its sub-regions'), in network order."""
        inside = {region}
        for candidate in self.regions:  # a region comes before the regions inside it
            if candidate.parent in inside:
                inside.add(candidate.name)
        return tuple(p.name for p in self.populations if p.region in inside)

    def population(self, name: str) -> Population:
        for population in self.populations:
            if population.name == name:
                return population
        raise KeyError(name)
