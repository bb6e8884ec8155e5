"""A group's update as a C loop: the kernel's own expressions and `xmath` run on symbolic values.

`kernel.advance` is called once with `CNumerics` as its array module and an environment
whose values are `Value`s, symbols that stand for one neuron's element. Every operation
the expressions perform (each + - * /, each comparison, each `xp.where`, each step of
`xmath`'s polynomials) appends one line of C to a `Trace`, in the order numpy performs
it. The loop that runs those lines for each neuron does, element by element, exactly the
operations numpy does array by array, so each update is still written once (in
`brainsim.backends.expressions` and `xmath`) and the bits stay numpy's: IEEE-754 double
arithmetic is correctly rounded in both, and the C is compiled with no contraction into
fused multiply-adds and no fast-math (`brainsim.backends.cbuild`).

Literals are written as hexadecimal floats, exactly. numpy's rules for mixing types are
followed: a Python number takes the type of the array it meets (NEP 50), int64 with
float64 gives float64. Only float64 is traced (float32 programs use the array module's
own transcendental functions, which have no C counterpart of the same bits).
"""

from __future__ import annotations

import math
import re
import types
from dataclasses import dataclass, field

import numpy as np

from brainsim.backends.ops import Numerics

DOUBLE, INT64, BOOL = "double", "int64_t", "int"
# What in a C expression may vary by element: a temporary, an array (a, f) or frexp exponent
# (e), an index; a hexadecimal literal's digits always run on into its `p`, so never match.
_VARYING = re.compile(r"\b[taef]\d+\b|\[|\bi\b")
# What each kind of array holds in C, and the type of its elements in the loop's arithmetic.
# int32 arrays are ring-buffer indices (below 2^31 by construction), computed with in int64.
ELEMENT = {np.dtype(np.float64): ("double", DOUBLE), np.dtype(np.bool_): ("unsigned char", BOOL),
           np.dtype(np.int32): ("int32_t", INT64), np.dtype(np.int64): ("int64_t", INT64)}


class Unsupported(Exception):
    """The update does something a C loop does not express (an unknown value in its
    environment, a result that is not a float): the caller keeps numpy."""


@dataclass
class Trace:
    """The C lines of one loop body, in order, with the loop's inputs: `arrays` read at the
    loop's index `i` (`size` elements each), `scalars` read once a call, and `flats`, arrays
    the body adds into at indices of its own (`CNumerics.scatter_add`)."""

    size: int
    lines: list[str] = field(default_factory=list)
    # Lines whose values are the same for every element, run once before the loop; lines run after it
    hoisted: list[str] = field(default_factory=list)
    after: list[str] = field(default_factory=list)
    arrays: list[tuple[str, np.dtype]] = field(default_factory=list)  # (name, dtype)
    scalars: list[tuple[str, str]] = field(default_factory=list)  # (name, C type)
    flats: list[tuple[str, int]] = field(default_factory=list)  # (name, size)
    # The values whose finiteness the loop reports per slice of its elements (`CNumerics.finite_flags`)
    checked: tuple[list, tuple[tuple[int, int], ...]] | None = None
    count: int = 0
    invariant: set[str] = field(default_factory=set)  # the hoisted variables

    def emit(self, ctype: str, expression: str) -> "Value":
        """A new C variable holding `expression` (hoisted where it is the same for every element)."""
        name = f"t{self.count}"
        self.count += 1
        line = f"const {ctype} {name} = {expression};"
        if self.varies(expression):
            self.lines.append(line)
        else:
            self.hoisted.append(line)
            self.invariant.add(name)
        return Value(self, ctype, name)

    def varies(self, expression: str) -> bool:
        """Whether `expression` may differ between elements: it reads an array, the index, a
        frexp exponent or a variable that is not hoisted (scalars `s` and literals do not vary)."""
        return any(token not in self.invariant for token in _VARYING.findall(expression))

    def load(self, name: str, value) -> "Value":
        """The symbol of environment entry `name`, whose value at the first call is `value`."""
        if isinstance(value, np.ndarray) and value.shape == (self.size,) and value.dtype in ELEMENT:
            self.arrays.append((name, value.dtype))
            return self.emit(ELEMENT[value.dtype][1], f"a{len(self.arrays) - 1}[i]")
        if isinstance(value, (bool, np.bool_)):
            ctype = BOOL
        elif isinstance(value, (int, np.integer)):
            ctype = INT64
        elif isinstance(value, (float, np.floating)) or (isinstance(value, np.ndarray) and value.shape == ()
                                                        and value.dtype == np.float64):
            ctype = DOUBLE
        else:
            raise Unsupported(f"{name} is {type(value).__name__} {getattr(value, 'dtype', '')}"
                              f"{getattr(value, 'shape', '')}, not a float64 scalar or array of {self.size}")
        self.scalars.append((name, ctype))
        return Value(self, ctype, f"s{len(self.scalars) - 1}")

    def flat(self, name: str, size: int) -> "Flat":
        """The symbol of a float64 array of `size` that the body adds into."""
        self.flats.append((name, size))
        return Flat(self, len(self.flats) - 1, size)


@dataclass(frozen=True)
class Flat:
    """An array the loop adds into (a ring buffer): `f{k}` in C."""

    trace: Trace
    k: int
    size: int


class Value:
    """One neuron's element of an array (or a scalar) in the loop: a C expression and its type."""

    __array_ufunc__ = None  # numpy scalars defer to these methods instead of making object arrays

    def __init__(self, trace: Trace, ctype: str, text: str):
        self.trace, self.ctype, self.text = trace, ctype, text

    # numpy's arithmetic: the result's type from both operands, a Python number taking the other's
    def _binary(self, other, operator: str, swap: bool = False, result: str | None = None) -> "Value":
        other = constant(other, self.ctype, self.trace)
        left, right = (other, self) if swap else (self, other)
        ctype = result or promoted(left.ctype, right.ctype)
        return self.trace.emit(ctype, f"{cast(left, ctype)} {operator} {cast(right, ctype)}" if result is None
                               else f"{left.text} {operator} {right.text}")

    def __add__(self, other): return self._binary(other, "+")
    def __radd__(self, other): return self._binary(other, "+", swap=True)
    def __sub__(self, other): return self._binary(other, "-")
    def __rsub__(self, other): return self._binary(other, "-", swap=True)
    def __mul__(self, other): return self._binary(other, "*")
    def __rmul__(self, other): return self._binary(other, "*", swap=True)
    def __lt__(self, other): return self._binary(other, "<", result=BOOL)
    def __le__(self, other): return self._binary(other, "<=", result=BOOL)
    def __gt__(self, other): return self._binary(other, ">", result=BOOL)
    def __ge__(self, other): return self._binary(other, ">=", result=BOOL)
    def __eq__(self, other): return self._binary(other, "==", result=BOOL)
    def __ne__(self, other): return self._binary(other, "!=", result=BOOL)
    def __and__(self, other): return self._logical(other, "&")
    def __rand__(self, other): return self._logical(other, "&")
    def __or__(self, other): return self._logical(other, "|")
    def __ror__(self, other): return self._logical(other, "|")

    def __mod__(self, other):
        if self.ctype != INT64:
            raise Unsupported(f"% on {self.ctype}")
        return self._binary(other, "%")  # the same as Python's for the step numbers it is used on (>= 0)

    def __rshift__(self, other):
        if self.ctype != INT64:
            raise Unsupported(f">> on {self.ctype}")
        return self._binary(other, ">>")

    def __truediv__(self, other):
        return divide(self, other)

    def __neg__(self):
        return self.trace.emit(self.ctype, f"-{self.text}")

    def __bool__(self):
        raise Unsupported("the truth of a per-neuron value (a Python `if` on an array)")

    __hash__ = None

    def _logical(self, other, operator: str) -> "Value":
        other = constant(other, BOOL, self.trace)
        if self.ctype != BOOL or other.ctype != BOOL:
            raise Unsupported(f"{operator} on {self.ctype} and {other.ctype}")
        return self.trace.emit(BOOL, f"{self.text} {operator} {other.text}")

    @property
    def dtype(self) -> np.dtype:
        """numpy's type of the value (an int32 array's elements are int64 here: `ELEMENT`)."""
        return np.dtype({DOUBLE: np.float64, INT64: np.int64, BOOL: np.bool_}[self.ctype])

    def astype(self, dtype) -> "Value":
        ctype = _ctype(dtype)
        return self.trace.emit(ctype, f"({ctype}){self.text}")


def promoted(a: str, b: str) -> str:
    """numpy's result type of float64, int64 and bool operands."""
    for ctype in (DOUBLE, INT64):
        if ctype in (a, b):
            return ctype
    return BOOL


def cast(value: Value, ctype: str) -> str:
    return value.text if value.ctype == ctype else f"({ctype}){value.text}"


def constant(value, like: str, trace: Trace) -> Value:
    """`value` as a `Value`: itself if it is one, else a literal of numpy's type for it beside a `like`."""
    if isinstance(value, Value):
        return value
    if isinstance(value, (bool, np.bool_)):
        return Value(trace, BOOL, "1" if value else "0")
    if isinstance(value, (int, np.integer)) and like != DOUBLE:
        return Value(trace, INT64, f"INT64_C({int(value)})")
    if isinstance(value, (int, float, np.integer, np.floating)):
        return Value(trace, DOUBLE, double_literal(float(value)))
    raise Unsupported(f"a {type(value).__name__} in an update")


def double_literal(x: float) -> str:
    """A C literal of exactly the double x (hexadecimal: no decimal rounding)."""
    if math.isnan(x):
        return "NAN"
    if math.isinf(x):
        return "INFINITY" if x > 0 else "(-INFINITY)"
    return f"({x.hex()})"


def _ctype(dtype) -> str:
    dtype = np.dtype(dtype)
    if dtype not in ELEMENT or dtype == np.bool_:
        raise Unsupported(f"a cast to {dtype}")
    return ELEMENT[dtype][1]


def divide(a, b) -> Value:
    trace = a.trace if isinstance(a, Value) else b.trace
    a, b = constant(a, DOUBLE, trace), constant(b, DOUBLE, trace)
    return trace.emit(DOUBLE, f"{cast(a, DOUBLE)} / {cast(b, DOUBLE)}")


def _call(function: str, ctype: str, *arguments) -> Value:
    """function(arguments...) in C, a value of type `ctype`."""
    trace = next(a.trace for a in arguments if isinstance(a, Value))
    like = DOUBLE if any(isinstance(a, Value) and a.ctype == DOUBLE for a in arguments) else INT64
    values = [constant(a, like, trace) for a in arguments]
    return trace.emit(ctype, f"{function}({', '.join(v.text for v in values)})")


class CNumerics(Numerics):
    """The array module of a traced update: each function writes its C and returns a `Value`."""

    def __init__(self):
        super().__init__(types.SimpleNamespace(__name__="c", float64=np.float64, int64=np.int64))

    def asarray(self, x, dtype=None):
        return x if dtype is None or not isinstance(x, Value) else x.astype(dtype)

    def where(self, condition, a, b):
        if not any(isinstance(v, Value) for v in (condition, a, b)):
            return a if condition else b
        trace = next(v.trace for v in (condition, a, b) if isinstance(v, Value))
        condition = constant(condition, BOOL, trace)
        like = next((v.ctype for v in (a, b) if isinstance(v, Value)), DOUBLE)
        a, b = constant(a, like, trace), constant(b, like, trace)
        ctype = promoted(a.ctype, b.ctype)
        return trace.emit(ctype, f"{condition.text} ? {cast(a, ctype)} : {cast(b, ctype)}")

    def divide(self, a, b):
        return divide(a, b)

    def pow2(self, k):
        return _call("pow2", DOUBLE, k)

    def isnan(self, x):
        return _call("isnan", BOOL, x) if x.ctype == DOUBLE else Value(x.trace, BOOL, "0")

    def rint(self, x):
        return _call("rint", DOUBLE, x)

    def floor(self, x):
        return _call("floor", DOUBLE, x)

    def sqrt(self, x):
        return _call("sqrt", DOUBLE, x)

    def copysign(self, x, y):
        return _call("copysign", DOUBLE, x, y)

    def fmin(self, x, y):
        return _call("dfmin", DOUBLE, x, y)

    def fmax(self, x, y):
        return _call("dfmax", DOUBLE, x, y)

    def abs(self, x):
        return _call("fabs", DOUBLE, x) if x.ctype == DOUBLE else _call("llabs", INT64, x)

    def minimum(self, x, y):
        return self._extremum("minimum", x, y)

    def maximum(self, x, y):
        return self._extremum("maximum", x, y)

    @staticmethod
    def _extremum(name: str, x, y):
        # numpy's minimum and maximum pass a nan on (unlike C's fmin and fmax): cbuild's helpers
        trace = (x if isinstance(x, Value) else y).trace
        like = DOUBLE if DOUBLE in {getattr(v, "ctype", None) for v in (x, y)} else INT64
        x, y = constant(x, like, trace), constant(y, like, trace)
        ctype = promoted(x.ctype, y.ctype)
        prefix = "d" if ctype == DOUBLE else "i"
        return trace.emit(ctype, f"{prefix}{name}({cast(x, ctype)}, {cast(y, ctype)})")

    def frexp(self, x):
        trace, exponent = x.trace, f"e{x.trace.count}"
        trace.lines.append(f"int {exponent};")
        mantissa = trace.emit(DOUBLE, f"frexp({x.text}, &{exponent})")
        return mantissa, Value(trace, INT64, f"(int64_t){exponent}")

    def logical_not(self, x):
        return x.trace.emit(BOOL, f"!{x.text}") if isinstance(x, Value) else not x

    def logical_and(self, x, y):
        return x & y if isinstance(x, Value) else constant(x, BOOL, y.trace) & y

    def logical_or(self, x, y):
        return x | y if isinstance(x, Value) else constant(x, BOOL, y.trace) | y

    def zeros_like(self, x):
        return 0.0

    def ones_like(self, x):
        return 1.0

    def full(self, size, value):
        return value

    def broadcast_to(self, value, shape):
        return value

    def scatter_add(self, flat, index, values):
        """flat[index] += values, one element at a time, in the loop's order (numpy's `np.add.at`
        order); an index out of range stops the loop with an IndexError (`cbuild`)."""
        if not isinstance(flat, Flat):
            raise Unsupported("a scatter-add into an array that is not a loop's input")
        values = constant(values, DOUBLE, flat.trace)
        flat.trace.lines.append(f"if ((uint64_t){index.text} >= {flat.size}) {{ *fault = 1; return; }}")
        flat.trace.lines.append(f"f{flat.k}[{index.text}] += {cast(values, DOUBLE)};")
        return flat

    def scatter_add_each(self, flat, index, amounts):
        for amount in amounts:  # one synapse's effects in order: the loop is synapse by synapse
            flat = self.scatter_add(flat, index, amount)
        return flat

    def scatter_set(self, flat, index, values):
        raise Unsupported("a scatter in an update")

    def finite_flags(self, values, slices):
        """Nothing here: the loop writes the flags, whether each of `values` is finite in each slice
        of its elements (`cbuild.neuron_loop`)."""
        trace = next(v.trace for v in values if isinstance(v, Value))
        if trace.checked is not None:
            raise Unsupported("two finite checks in one loop")
        for value in values:
            if not (isinstance(value, Value) or math.isfinite(value)):
                raise Unsupported(f"a constant {value} in the finite check")
        trace.checked = (list(values), tuple(slices))

    def zeros(self, shape, dtype=float):
        return np.zeros((), dtype=dtype).item()


class CEvents:
    """The fire phase's events in a traced loop: the fired mask stays a per-neuron `Value`; the
    caller lists the neurons that fired from the loop's output mask (`brainsim.backends.fused`)."""

    @staticmethod
    def firing(mask):
        return mask

    @staticmethod
    def update_fired(x, firing, value):
        return CNumerics().where(firing, value, x)

    @staticmethod
    def spikes_by_population(firing, slices, capacities):
        return ()

    @staticmethod
    def deliver(buffer, start, size: int, x):
        """x + the ring buffer's slot at `start` (the same for every element), read and zeroed
        element by element; the slot's trash column, after its `size` values, is zeroed after
        the loop."""
        if not isinstance(buffer, Flat):
            raise Unsupported("a delivery from a ring buffer that is not a loop's input")
        trace = buffer.trace
        start = constant(start, INT64, trace)
        if trace.varies(start.text) or size != trace.size:
            raise Unsupported("a ring-buffer slot that is not one slice of the loop's elements")
        trace.hoisted.append(f"if ((uint64_t){start.text} > {buffer.size - size - 1}) {{ *fault = 1; return; }}")
        slot = trace.emit(DOUBLE, f"f{buffer.k}[{start.text} + i]")
        trace.lines.append(f"f{buffer.k}[{start.text} + i] = 0.0;")
        trace.after.append(f"f{buffer.k}[{start.text} + {trace.size}] = 0.0;")
        return x + slot, buffer
