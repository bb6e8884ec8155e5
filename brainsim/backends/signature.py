"""What a compiled program depends on, as a hashable value: the static code of a step.

A `Step` (`brainsim.backends.kernel`) holds only static code: compiled
expressions (closures), index bookkeeping (ints, names) and host records whose
arrays the step never reads (it reads every array from `Arrays`). jax traces
the step into a program that depends on exactly that code and on the shapes
and dtypes of the arrays it is given. `signature(step)` describes the code, so
two steps with equal signatures trace to the same program, and one compiled
program serves both: the runs of a model with new parameter values or a new
seed, or a second simulation of the same model structure, reuse it without
tracing again.

The description walks the step: a function is its code object plus what its
closure captured, a record (dataclass, named tuple, object) its type and
fields (or what its `signature_state()` returns, for an object with caches),
an array its shape and dtype (its values are runtime inputs), a number or a name
its value. Source positions (`SourceSpan`) are left out: they do not change the
code.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import types
from typing import Any

import numpy as np

from brainsim.errors import SourceSpan

_ATOMS = (int, float, complex, str, bytes, bool, type(None), enum.Enum, np.generic, type)


def signature(value: Any) -> tuple:
    """A hashable description of the static code `value` holds (see the module docstring)."""
    return _describe(value, {})


def _describe(value: Any, seen: dict[int, int]) -> Any:
    if isinstance(value, _ATOMS):
        return (type(value).__name__, value)
    if isinstance(value, SourceSpan):
        return "span"
    if isinstance(value, np.ndarray):
        return ("array", value.shape, value.dtype.str)
    if id(value) in seen:  # a shared or recursive reference: named by its first visit
        return ("seen", seen[id(value)])
    seen[id(value)] = len(seen)
    match value:
        case tuple() | list():
            return (type(value).__name__, tuple(_describe(v, seen) for v in value))
        case dict():
            return ("dict", tuple(sorted((repr(k), _describe(v, seen)) for k, v in value.items())))
        case frozenset() | set():
            return ("set", tuple(sorted(repr(v) for v in value)))
        case types.FunctionType():
            cells = tuple(_describe(cell.cell_contents, seen) for cell in value.__closure__ or ())
            defaults = _describe(value.__defaults__, seen)
            return ("function", value.__module__, value.__qualname__, value.__code__, cells, defaults)
        case types.MethodType():
            return ("method", value.__func__.__qualname__, _describe(value.__self__, seen))
        case functools.partial():
            return ("partial", _describe(value.func, seen), _describe(value.args, seen), _describe(value.keywords, seen))
        case types.ModuleType() | types.BuiltinFunctionType():
            return ("builtin", repr(value))
        case _ if hasattr(value, "signature_state"):  # an object that says what of it counts
            return (type(value).__qualname__, _describe(value.signature_state(), seen))
        case _ if dataclasses.is_dataclass(value):
            fields = tuple((f.name, _describe(getattr(value, f.name), seen)) for f in dataclasses.fields(value))
            return (type(value).__qualname__, fields)
        case _ if hasattr(value, "__dict__"):
            return (type(value).__qualname__, _describe(vars(value), seen))
    return (type(value).__qualname__, repr(value))  # e.g. operator.itemgetter('v'): its repr is its meaning
