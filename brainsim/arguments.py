"""The values a user hands to brainsim from Python or the command line, read in one place.

`duration` is what `Simulation.run(duration=...)`, `run_batch`, `stream`, the plotting
functions' time options and `brainsim run --duration` all accept: a number of seconds
(`0.2`), a text with a time unit (`"200 ms"`, `"0.2s"`, `"1.5 s"`), or a pint Quantity
(`0.2 * ureg.s`); anything else is an `InvalidValueError` that names the value and says
what is wanted. `options` and `choice` check the keyword options of a call, and a value that is one of a
few texts, naming the ones there are with a did-you-mean.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Iterable, Mapping

from brainsim.errors import InvalidValueError, did_you_mean
from brainsim.units import lookup_unit, to_si

_QUANTITY = re.compile(r"^\s*(?P<number>[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?)\s*(?P<unit>[A-Za-z]+)\s*$")
_WANTED = 'a number of seconds, a text such as "200 ms" or "0.2 s", or a pint Quantity of time'


def duration(value: object, what: str = "the duration") -> float:
    """`value` as a positive, finite number of seconds.

    Args:
        value: a real number (seconds; not a bool), a text "<number> <time unit>" (the units of
            a model file: s, ms, us, ...), or a pint Quantity with the dimension of time.
        what: what the value is, for the message ("the duration", "bin_width").

    Raises:
        InvalidValueError: anything else (another type, a unit that is not one of time, a
            text that is no quantity, zero, a negative number, nan or inf), naming the value.
    """
    seconds = _seconds(value, what)
    if not math.isfinite(seconds):
        raise InvalidValueError(f"{what} must be a finite time, not {shown(value)}", hint=f"give {_WANTED}")
    if seconds <= 0:
        raise InvalidValueError(f"{what} must be a positive time, not {shown(value)}", hint=f"give {_WANTED}")
    return seconds


def _seconds(value: object, what: str) -> float:
    match value:
        case bool() | None:
            pass
        case numbers.Real():
            return float(value)
        case str():
            return _text_seconds(value, what)
        case _ if is_quantity(value):
            return _pint_seconds(value, what)
    raise InvalidValueError(f"{what} is {_WANTED}, not {shown(value)} ({type(value).__name__})")


def _text_seconds(text: str, what: str) -> float:
    match = _QUANTITY.match(text)
    if match is None:
        raise InvalidValueError(f"{what} {text!r} is not a time such as 200ms or 1.5s", hint=f"give {_WANTED}")
    try:
        seconds, dimension = to_si(match["number"], match["unit"])
    except KeyError:
        raise InvalidValueError(f"{what} {text!r}: {match['unit']!r} is not a unit",
                                hint="a time unit is s, ms, us, ns, ...") from None
    if dimension != lookup_unit("s")[1]:
        raise InvalidValueError(f"{what} {text!r} is not a time (it has dimension {dimension})",
                                hint=f"give {_WANTED}")
    if not math.isfinite(seconds):
        raise InvalidValueError(f"{what} {text!r} is too large to be a duration")
    return seconds


def is_quantity(value: object) -> bool:
    """True for a pint Quantity (of any registry), told by its type, without importing pint."""
    return type(value).__module__.split(".")[0] == "pint" and hasattr(value, "to") and hasattr(value, "magnitude")


def _pint_seconds(quantity, what: str) -> float:
    try:
        magnitude = quantity.to("second").magnitude
    except Exception as error:  # pint's DimensionalityError, an unknown unit: any failure is the user's value
        raise InvalidValueError(f"{what} {shown(quantity)} is not a time ({type(error).__name__}: {error})",
                                hint=f"give {_WANTED}") from None
    if isinstance(magnitude, bool) or not isinstance(magnitude, numbers.Real):
        raise InvalidValueError(f"{what} {shown(quantity)} is not one number of seconds", hint=f"give {_WANTED}")
    return float(magnitude)


def shown(value: object) -> str:
    """`repr(value)`, clipped: a long list or text stays readable in a message."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def options(given: Mapping[str, object], known: Iterable[str], what: str) -> None:
    """InvalidValueError naming the first of `given` that is not one of `known` (with a
    did-you-mean), for `what` ("the jax backend", "Simulation.set")."""
    known = tuple(known)
    for name in given:
        if name not in known:
            raise InvalidValueError(f"{what} takes no option {name}; its options are {', '.join(known) or 'none'}",
                                    hint=did_you_mean(name, known))


def choice(value: object, choices: Iterable[str], what: str) -> None:
    """InvalidValueError unless `value` is one of `choices` (texts), with a did-you-mean."""
    choices = tuple(choices)
    if isinstance(value, str) and value in choices:
        return
    raise InvalidValueError(f"unknown {what} {shown(value)}; choose one of {', '.join(choices)}",
                            hint=did_you_mean(value, choices) if isinstance(value, str) else None)


def count(value: object, what: str, of: str = "") -> int:
    """`value` as a positive whole number (`of`: what it counts, " of steps"); InvalidValueError
    for anything else, a bool or a float included."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise InvalidValueError(f"{what} is a positive whole number{of}, not {shown(value)}")
    return int(value)

