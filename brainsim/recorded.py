"""The mappings of a run's `Results`, which explain a key they do not hold.

`results.spikes["Cortex.exc"]` is a dict lookup, but a key that is not there says why:
an `UnknownKeyError` (a `BrainsimError` and a `KeyError`) where the network has no such
population, region, variable or projection, naming those it has with a did-you-mean, and
a `NotRecordedError` where it exists but the run did not record it, with the `record`
line that would. A region stands for its populations where that has one meaning: its
spikes merged (`SpikeTrains.parts` tells the populations apart) and its spike counts
concatenated. Iterating, `len` and `in` see the recorded keys only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Iterator, Sequence

import numpy as np

from brainsim.arguments import shown
from brainsim.errors import BrainsimError, NotRecordedError, UnknownKeyError, did_you_mean


class Recorded(Mapping):
    """A read-only mapping whose missing keys raise `UnknownKeyError` naming what it holds.

    `what` names the values ("spikes"), `key_kind` the keys ("population"). Subclasses
    derive values for more keys (`_derived`) and explain a missing key better (`_missing`).
    """

    what = "values"
    key_kind = "key"

    def __init__(self, items: Mapping):
        self._items = dict(items._items if isinstance(items, Recorded) else items)

    def __getitem__(self, key):
        try:
            return self._items[key]
        except KeyError:
            pass
        except TypeError:  # an unhashable key (a list, a dict) is a key that is not there
            raise self._missing(key) from None
        derived = self._derived(key)
        if derived is not None:
            return derived
        raise self._missing(key)

    def __contains__(self, key) -> bool:
        try:
            return key in self._items
        except TypeError:
            return False

    def __iter__(self) -> Iterator:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:  # shown as the dict it reads as
        return repr(self._items)

    def _derived(self, key):
        """A value for a key the mapping does not hold (None: none)."""
        return None

    def _missing(self, key) -> BrainsimError:
        return unknown(key, list(self._items), self.key_kind, self.what)


def unknown(key, known: Sequence, key_kind: str, what: str) -> UnknownKeyError:
    """The error for `key`, which is none of `known` (keys of `key_kind`, of `what`)."""
    listed = ", ".join(_key_text(k) for k in known[:20]) + (", ..." if len(known) > 20 else "")
    if not isinstance(key, str) and all(isinstance(k, str) for k in known):
        return UnknownKeyError(f"{what} are keyed by {key_kind} name (text), not {shown(key)} "
                               f"({type(key).__name__}); there are: {listed or 'none'}")
    hint = did_you_mean(key, [k for k in known if isinstance(k, str)]) if isinstance(key, str) else None
    return UnknownKeyError(f"there is no {key_kind} {shown(key)} among the {what}; there are: {listed or 'none'}",
                           hint=hint)


def _key_text(key) -> str:
    return " ".join(f"{part}" for part in key) if isinstance(key, tuple) else str(key)


class Populations(Recorded):
    """Population name -> a value per population (`Results.spike_counts`, `final_state`), a
    region standing for its populations concatenated where `concatenate` (spike counts)."""

    key_kind = "population"

    def __init__(self, items: Mapping, what: str, regions: Mapping[str, tuple[str, ...]], concatenate: bool = False):
        super().__init__(items)
        self.what, self._regions, self._concatenate = what, dict(regions), concatenate

    def _derived(self, key):
        if self._concatenate and key in self._regions:
            parts = [self._items[p] for p in self._regions[key]]
            return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
        return None

    def _missing(self, key) -> BrainsimError:
        if isinstance(key, str) and key in self._regions:
            return UnknownKeyError(f"{key} is a region; the {self.what} are per population: "
                                   f"{', '.join(self._regions[key]) or 'it has none'}")
        return unknown_population(key, list(self._items), self._regions, self.what)


def unknown_population(key, populations: Sequence[str], regions: Mapping, what: str) -> UnknownKeyError:
    """The error for `key`, which is no population (nor region) of the network."""
    if not isinstance(key, str):
        return UnknownKeyError(f"the {what} are keyed by population name (text), not {shown(key)} "
                               f"({type(key).__name__}); the populations: {', '.join(populations)}")
    return UnknownKeyError(
        f"the network has no population or region {key!r}; its populations: {', '.join(populations) or 'none'}"
        + (f"; its regions: {', '.join(regions)}" if regions else ""),
        hint=did_you_mean(key, [*populations, *regions]),
    )


class Variables(Recorded):
    """Variable name -> values of one population (`Results.final_state[population]`)."""

    key_kind = "state variable"

    def __init__(self, items: Mapping, owner: str, empty: str = "is a spike source: it has"):
        # `owner` is the subject of the messages: "Cortex.exc", "projection A.a->B.b"
        super().__init__(items)
        self._owner, self._empty = owner, empty

    def _missing(self, key) -> BrainsimError:
        if not self._items:
            return UnknownKeyError(f"{self._owner} {self._empty} no state variables, so no {shown(key)}")
        return UnknownKeyError(f"{self._owner} has no state variable {shown(key)}; its state variables: "
                               f"{', '.join(self._items)}",
                               hint=did_you_mean(key, list(self._items)) if isinstance(key, str) else None)


class Spikes(Recorded):
    """Population name -> its `SpikeTrains`, for the recorded populations; a region's name
    -> the trains of its populations merged (`SpikeTrains.merged`)."""

    what = "spikes"
    key_kind = "population"

    def __init__(self, items: Mapping, populations: Sequence[str], regions: Mapping[str, tuple[str, ...]]):
        super().__init__(items)
        self._populations, self._regions = tuple(populations), dict(regions)

    def _derived(self, key):
        from brainsim.results import SpikeTrains

        members = self._regions.get(key) if isinstance(key, str) else None
        if members is None or not all(p in self._items for p in members):
            return None
        return SpikeTrains.merged(key, [self._items[p] for p in members])

    def _missing(self, key) -> BrainsimError:
        recorded = ", ".join(self._items) or "none"
        if isinstance(key, str) and key in self._populations:
            return NotRecordedError(f"the spikes of {key} were not recorded; recorded: {recorded}",
                                    hint=f"add `record spikes of {key}` to the model")
        if isinstance(key, str) and key in self._regions:
            missing = [p for p in self._regions[key] if p not in self._items]
            return NotRecordedError(f"the spikes of region {key} were not all recorded: not those of "
                                    f"{', '.join(missing)}; recorded: {recorded}",
                                    hint=f"add `record spikes of {key}` to the model")
        return unknown_population(key, self._populations, self._regions, "spikes")


class Records(Recorded):
    """(owner, variable) -> a record (`Results.traces`: owner a population;
    `Results.synapse_traces`: owner a projection). `variables` maps each owner to its state
    variables (read only for a message), to tell a variable that was not recorded from one
    that does not exist."""

    def __init__(self, items: Mapping, what: str, owner_kind: str, variables: Mapping[str, Sequence[str]]):
        super().__init__(items)
        self.what, self._owner_kind, self._variables = what, owner_kind, variables

    def _missing(self, key) -> BrainsimError:
        example = next(iter(self._items), None) or (next(iter(self._variables), "A.a"), "v")
        recorded = ", ".join(f"{v} of {o}" for o, v in self._items) or "none"
        if not (isinstance(key, tuple) and len(key) == 2 and all(isinstance(part, str) for part in key)):
            return UnknownKeyError(f"the {self.what} are keyed by ({self._owner_kind}, variable), e.g. {example!r}, "
                                   f"not {shown(key)}; recorded: {recorded}")
        owner, variable = key
        owners = list(self._variables)
        if owner not in self._variables:
            return UnknownKeyError(f"the network has no {self._owner_kind} {owner!r}; its {self._owner_kind}s: "
                                   f"{', '.join(owners)}", hint=did_you_mean(owner, owners))
        if variable in self._variables[owner] or any(o == owner and v == variable for o, v in self._items):
            return NotRecordedError(f"{variable} of {owner} was not recorded; recorded: {recorded}",
                                    hint=f"add `record {variable} of {owner}` to the model")
        known = [*self._variables[owner], *(v for o, v in self._items if o == owner)]
        hint = did_you_mean(variable, known) or f"if {variable} is an input of {owner}: add `record {variable} of {owner}`"
        return UnknownKeyError(f"{owner} has no state variable {variable!r}; its state variables: "
                               f"{', '.join(known) or 'none'}; recorded: {recorded}", hint=hint)


class StateNames(Mapping):
    """Projection name -> the names of its synapse states, read from `synapses` (a
    `SynapseTable`) only when asked: for the messages of `Records`."""

    def __init__(self, synapses: Mapping):
        self._synapses = synapses

    def __getitem__(self, projection: str) -> list[str]:
        return list(self._synapses[projection].states)

    def __iter__(self) -> Iterator:
        return iter(self._synapses)

    def __len__(self) -> int:
        return len(self._synapses)
