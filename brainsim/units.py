"""Physical units and dimensions, used while compiling a model, never at run time.

A quantity in a model (`-70 mV`, `10 Mohm`) becomes a plain float in SI units,
and every name and expression gets a `Dimension`, so that lowering can check
that `dv/dt` has the dimension of v per time, that a threshold compares like
with like, and so on.

Unit names are resolved by pint (with exact decimal factors, so `1.62 mV` is the
correctly rounded float of 0.00162). Only the unit symbols in `_BASE_SYMBOLS`,
with an optional SI prefix, are accepted: a model that writes `m` for a gating
variable must not silently get metres.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache

import pint

_PREFIXES = "YZEPTGMkhdcmunpfazy"
# symbol -> pint name; the symbols a model may use, each with any SI prefix.
_BASE_SYMBOLS = {
    "s": "second", "Hz": "hertz", "V": "volt", "A": "ampere", "ohm": "ohm",
    "S": "siemens", "F": "farad", "C": "coulomb", "M": "molar", "mol": "mole",
    "m": "meter", "l": "liter", "L": "liter", "g": "gram", "K": "kelvin",
    "J": "joule", "W": "watt",
}
_UNIT_PATTERN = re.compile(
    rf"^(?P<prefix>[{_PREFIXES}]|da)?(?P<base>{'|'.join(sorted(_BASE_SYMBOLS, key=len, reverse=True))})$"
)
# The order of base dimensions in printed forms.
_BASE_ORDER = ("[mass]", "[length]", "[time]", "[current]", "[temperature]", "[substance]", "[luminosity]")


@dataclass(frozen=True, slots=True)
class Dimension:
    """A physical dimension: exponents of the SI base dimensions, zeros left out."""

    exponents: tuple[tuple[str, Fraction], ...] = ()

    @staticmethod
    def of(mapping: dict[str, Fraction | int | float]) -> "Dimension":
        items = {k: Fraction(v).limit_denominator(1000) for k, v in mapping.items() if v != 0}
        return Dimension(tuple(sorted(items.items(), key=lambda kv: _BASE_ORDER.index(kv[0]))))

    @property
    def is_dimensionless(self) -> bool:
        return not self.exponents

    def __mul__(self, other: "Dimension") -> "Dimension":
        merged = dict(self.exponents)
        for base, exp in other.exponents:
            merged[base] = merged.get(base, 0) + exp
        return Dimension.of(merged)

    def __truediv__(self, other: "Dimension") -> "Dimension":
        return self * other ** -1

    def __pow__(self, power: int | float | Fraction) -> "Dimension":
        return Dimension.of({base: exp * Fraction(power).limit_denominator(1000) for base, exp in self.exponents})

    def __str__(self) -> str:
        if not _NAMED:
            _name_dimensions()
        return _NAMED.get(self) or _compound_name(self)


DIMENSIONLESS = Dimension()


@lru_cache(maxsize=1)
def _registry() -> pint.UnitRegistry:
    return pint.UnitRegistry(non_int_type=Decimal)


def _pint_dimension(unit_name: str) -> Dimension:
    dims = _registry().get_dimensionality(unit_name)
    return Dimension.of({str(k): Fraction(str(v)) for k, v in dims.items()})


@lru_cache(maxsize=None)
def lookup_unit(symbol: str) -> tuple[Decimal, Dimension]:
    """The exact SI factor and the dimension of a unit symbol such as `mV`.

    Raises KeyError for a symbol that is not an accepted unit; callers turn that
    into a `UnitError` that points at the model text.
    """
    match = _UNIT_PATTERN.match(symbol)
    if match is None:
        raise KeyError(symbol)
    prefix = match.group("prefix") or ""
    name = _BASE_SYMBOLS[match.group("base")]
    registry = _registry()
    factor, _ = registry.get_base_units(registry.parse_units(_PINT_PREFIX[prefix] + name))
    return Decimal(factor), _pint_dimension(name)


def is_unit(symbol: str) -> bool:
    """Whether `symbol` names an accepted unit."""
    try:
        lookup_unit(symbol)
    except KeyError:
        return False
    return True


def to_si(number_text: str, unit_symbol: str | None) -> tuple[float, Dimension]:
    """The SI float of a written quantity (`"1.62"`, `"mV"`) and its dimension.

    The product is formed in exact decimals, then rounded once to a float.
    """
    if unit_symbol is None:
        return float(Decimal(number_text)), DIMENSIONLESS
    factor, dimension = lookup_unit(unit_symbol)
    return float(Decimal(number_text) * factor), dimension


def known_unit_symbols() -> list[str]:
    """The unprefixed unit symbols and a few common prefixed ones, for hints."""
    common = ["mV", "ms", "nA", "pA", "uA", "nS", "uS", "pF", "nF", "Mohm", "kohm", "mM", "uM", "kHz"]
    return sorted(_BASE_SYMBOLS) + common


# Physical constants a model may read by name (CODATA 2018; R, F, k_B and e are exact in
# the SI since 2019): name -> (decimal value, unit factors (symbol, power), what it is).
PHYSICAL_CONSTANTS = {
    "R": ("8.314462618", (("J", 1), ("mol", -1), ("K", -1)), "the molar gas constant"),
    "F": ("96485.33212", (("C", 1), ("mol", -1)), "the Faraday constant"),
    "k_B": ("1.380649e-23", (("J", 1), ("K", -1)), "the Boltzmann constant"),
    "e": ("1.602176634e-19", (("C", 1),), "the elementary charge"),
    "zero_celsius": ("273.15", (("K", 1),), "0 degrees Celsius in kelvin"),
    "pi": ("3.141592653589793238462643383279502884197", (), "the ratio of a circle's circumference to its diameter"),
}


def physical_constant(name: str) -> tuple[float, Dimension]:
    """The SI value and dimension of a constant of `PHYSICAL_CONSTANTS`, rounded once."""
    number, factors, _ = PHYSICAL_CONSTANTS[name]
    value, dimension = Decimal(number), DIMENSIONLESS
    for symbol, power in factors:
        factor, unit_dimension = lookup_unit(symbol)
        value *= factor**power
        dimension = dimension * unit_dimension**power
    return float(value), dimension


# What each base unit measures, to explain a unit in words (`mS`: millisiemens, a conductance).
_MEASURES = {
    "s": "a time", "Hz": "a rate", "V": "a voltage", "A": "a current", "ohm": "a resistance",
    "S": "a conductance", "F": "a capacitance", "C": "a charge", "M": "a concentration",
    "mol": "an amount of substance", "m": "a length", "l": "a volume", "L": "a volume", "g": "a mass",
    "K": "a temperature", "J": "an energy", "W": "a power",
}


def describe_unit(symbol: str) -> str:
    """An accepted unit symbol in words: `mS` -> "millisiemens (a conductance)"."""
    match = _UNIT_PATTERN.match(symbol)
    base = match.group("base")
    return f"{_PINT_PREFIX[match.group('prefix') or '']}{_BASE_SYMBOLS[base]} ({_MEASURES[base]})"


_PINT_PREFIX = {
    "": "", "Y": "yotta", "Z": "zetta", "E": "exa", "P": "peta", "T": "tera", "G": "giga",
    "M": "mega", "k": "kilo", "h": "hecto", "da": "deca", "d": "deci", "c": "centi",
    "m": "milli", "u": "micro", "n": "nano", "p": "pico", "f": "femto", "a": "atto",
    "z": "zepto", "y": "yocto",
}

_NAMED: dict[Dimension, str] = {}


def _name_dimensions() -> None:
    """Fill the table of dimensions that print as a single SI unit."""
    for symbol in ("V", "A", "S", "F", "ohm", "s", "Hz", "M", "mol", "m", "C", "K", "g", "J", "W"):
        _NAMED.setdefault(_pint_dimension(_BASE_SYMBOLS[symbol]), symbol)
    _NAMED[DIMENSIONLESS] = "1 (dimensionless)"


def _compound_name(dimension: Dimension) -> str:
    """Print a dimension as a named unit per a power of time, else in base units."""
    second = _pint_dimension("second")
    for power in (1, 2, -1):
        named = _NAMED.get(dimension * second**power)
        if named and named not in ("s", "1 (dimensionless)"):
            return f"{named}/s" if power == 1 else (f"{named}/s^2" if power == 2 else f"{named}*s")
    base = {"[mass]": "kg", "[length]": "m", "[time]": "s", "[current]": "A",
            "[temperature]": "K", "[substance]": "mol", "[luminosity]": "cd"}
    return "*".join(f"{base[b]}^{e}" if e != 1 else base[b] for b, e in dimension.exponents)


# The named SI units whose factor is 1: a value in SI floats is a number of these. (Not g, M
# or l: brainsim holds a mass in kg, a concentration in mol/m**3, a volume in m**3.)
_COHERENT = ("V", "A", "S", "F", "ohm", "C", "J", "W", "Hz", "s", "m", "K", "mol")
_BASE_SI = {"[mass]": "kg", "[length]": "m", "[time]": "s", "[current]": "A",
            "[temperature]": "K", "[substance]": "mol", "[luminosity]": "cd"}


def si_unit(dimension: Dimension) -> str:
    """The unit of brainsim's SI floats of `dimension`, as text that quantities, pint and
    NWB readers parse: "V", "V/s", "mol/m**3", "dimensionless".

    Unlike `str(dimension)`, which names a concentration M and a mass g, this is the
    coherent unit the values are numbers of, for files that carry values with their unit.
    """
    if dimension.is_dimensionless:
        return "dimensionless"
    second = lookup_unit("s")[1]
    for symbol in _COHERENT:
        named = lookup_unit(symbol)[1]
        if dimension == named:
            return symbol
        if dimension * second == named and symbol != "Hz":
            return f"{symbol}/s"
    up = [_power(_BASE_SI[b], e) for b, e in dimension.exponents if e > 0]
    down = [_power(_BASE_SI[b], -e) for b, e in dimension.exponents if e < 0]
    numerator = "*".join(up) or "1"
    if not down:
        return numerator
    return f"{numerator}/{down[0]}" if len(down) == 1 else f"{numerator}/({'*'.join(down)})"


def _power(symbol: str, exponent: Fraction) -> str:
    if exponent == 1:
        return symbol
    if exponent.denominator == 1:
        return f"{symbol}**{exponent.numerator}"
    return f"{symbol}**({exponent.numerator}/{exponent.denominator})"
