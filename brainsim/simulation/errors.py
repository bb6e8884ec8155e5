"""The errors of the seed's object API: brainsim's errors that are also the built-in
exceptions the seed's users catch (a bad value is a ValueError, an unknown name a KeyError)."""

from __future__ import annotations

import numbers

from brainsim.errors import InvalidValueError, UnknownNameError


class SeedValueError(InvalidValueError, ValueError):
    """A value the seed's API cannot take (a concentration of zero, dt <= 0, a weight outside [0, 10])."""


class SeedKeyError(UnknownNameError, KeyError):
    """A name or id the seed's API does not know (an ion, a neuron id, a region)."""

    def __str__(self) -> str:  # KeyError's own would quote the message
        return UnknownNameError.__str__(self)


def is_number(value) -> bool:
    """A real number a user may pass (Python's or numpy's), which True and False are not."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def is_whole_number(value) -> bool:
    """A whole number a user may pass (Python's or numpy's), which True and False are not."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)
