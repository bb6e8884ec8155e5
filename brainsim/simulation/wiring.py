"""What a `BrainSimulation` is made of before it runs: neurons by id, and their synapses.

The seed's API names neurons by id and region; the engine by population and
index. `Layout` is that translation: one population per region and neuron type
(`Retina.exc`, `V1.inh`), holding the region's neurons of that type in the order
they were added. `Connections` keeps the synapses as the user made them, in
that order; `by_projection` groups them per (source, target) population, sorted
by presynaptic then postsynaptic neuron (stably): the order the engine keeps a
projection's synapses in, so position k of the written edge list is synapse k
of the projection.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from brainsim.dsl.parser import keywords
from brainsim.simulation.action_potential import NeuronType
from brainsim.simulation.errors import SeedKeyError, SeedValueError, is_whole_number

CONTROL_REGION = "Plasticity"
"""The region of the learning switch (std/seed.brain's `LearningGate`), not a user's region."""

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SHORT = {NeuronType.EXCITATORY: "exc", NeuronType.INHIBITORY: "inh"}


@dataclass(frozen=True)
class Population:
    """The neurons of one `region` of one `kind`, by id, in the order added."""

    region: str
    kind: NeuronType
    ids: list[int] = field(default_factory=list)

    @property
    def name(self) -> str:
        """Its name in the model: `Region.exc` or `Region.inh`."""
        return f"{self.region}.{_SHORT[self.kind]}"


class Layout:
    """Neuron ids -> (population, index in it), populations in the order first used."""

    def __init__(self):
        self.populations: list[Population] = []
        self.place: dict[int, tuple[int, int]] = {}  # id -> (population index, index within it)
        self.kinds: dict[int, NeuronType] = {}
        self.regions: dict[str, list[int]] = {}  # region -> ids, in the order added

    def add(self, neuron_id: int, kind: NeuronType, region: str) -> None:
        """Place a new neuron.

        Raises:
            SeedValueError: the id is not a whole number >= 0 or is taken, the type is
                not a NeuronType, or the region is not a name a model can use.
        """
        if not is_whole_number(neuron_id) or neuron_id < 0:
            raise SeedValueError(f"a neuron id is a whole number >= 0, but it is {neuron_id!r}")
        if int(neuron_id) in self.place:
            raise SeedValueError(f"there is already a neuron {neuron_id} (in region {self.region_of(neuron_id)!r})")
        if not isinstance(kind, NeuronType):
            raise SeedValueError(f"neuron_type must be a NeuronType (EXCITATORY or INHIBITORY), but it is {kind!r}")
        check_region_name(region)
        key = next((p for p, population in enumerate(self.populations)
                    if population.region == region and population.kind is kind), None)
        if key is None:
            key = len(self.populations)
            self.populations.append(Population(region, kind))
        population = self.populations[key]
        self.place[int(neuron_id)] = (key, len(population.ids))
        population.ids.append(int(neuron_id))
        self.kinds[int(neuron_id)] = kind
        self.regions.setdefault(region, []).append(int(neuron_id))

    def locate(self, neuron_id) -> tuple[int, int]:
        """(population index, index within it) of `neuron_id`.

        Raises:
            SeedKeyError: no neuron has that id.
        """
        try:
            return self.place[neuron_id]
        except (KeyError, TypeError):
            raise SeedKeyError(f"unknown neuron id {neuron_id!r}; {self.known()}") from None

    def region_of(self, neuron_id: int) -> str:
        return self.populations[self.locate(neuron_id)[0]].region

    def region_populations(self, region) -> list[int]:
        """The indices of `region`'s populations.

        Raises:
            SeedKeyError: there is no such region.
        """
        if region not in self.regions:
            known = ", ".join(repr(r) for r in self.regions) or "none yet"
            raise SeedKeyError(f"unknown region {region!r}; the regions are {known}")
        return [p for p, population in enumerate(self.populations) if population.region == region]

    def next_id(self) -> int:
        """The id after the largest one taken (0 for an empty layout)."""
        return max(self.place, default=-1) + 1

    def known(self) -> str:
        """Which ids there are, for an error message."""
        if not self.place:
            return "there are no neurons yet"
        ids = sorted(self.place)
        return f"the ids are {ids[0]} to {ids[-1]}" if ids == list(range(ids[0], ids[-1] + 1)) else f"{len(ids)} ids are known"


def check_region_name(region) -> None:
    """A region is named as in a model: letters, digits and `_`, not starting with a digit, not a keyword."""
    if not isinstance(region, str) or not _NAME.fullmatch(region):
        raise SeedValueError(
            f"a region's name is made of letters, digits and _ and does not start with a digit (as in a model), "
            f"but it is {region!r}"
        )
    if region in keywords():
        raise SeedValueError(f"{region!r} is a keyword of the model language and cannot name a region")
    if region == CONTROL_REGION:
        raise SeedValueError(f"region {region!r} holds BrainSimulation's learning switch; choose another name")


@dataclass(frozen=True)
class Projection:
    """The synapses from population `source` to population `target` (layout indices),
    sorted by (pre, post); `order[k]` is the position in `Connections` of synapse k."""

    source: int
    target: int
    pre: np.ndarray
    post: np.ndarray
    weight_na: np.ndarray
    delay_steps: np.ndarray
    order: np.ndarray


class Connections:
    """The synapses, in the order they were made: pre and post ids, weight (nA), delay (steps)."""

    def __init__(self):
        self.pre_ids: list[int] = []
        self.post_ids: list[int] = []
        self.weights_na: list[float] = []
        self.delay_steps: list[int] = []

    def __len__(self) -> int:
        return len(self.pre_ids)

    def add(self, pre_id: int, post_id: int, weight_na: float, delay_steps: int) -> None:
        self.pre_ids.append(pre_id)
        self.post_ids.append(post_id)
        self.weights_na.append(weight_na)
        self.delay_steps.append(delay_steps)

    def by_projection(self, layout: Layout) -> list[Projection]:
        """The synapses grouped by (source, target) population, in the order the groups first occur."""
        if not self.pre_ids:
            return []
        pre = np.array([layout.place[i] for i in self.pre_ids], dtype=np.int64).reshape(-1, 2)
        post = np.array([layout.place[i] for i in self.post_ids], dtype=np.int64).reshape(-1, 2)
        weights, delays = np.array(self.weights_na), np.array(self.delay_steps, dtype=np.int64)
        pairs = pre[:, 0] * len(layout.populations) + post[:, 0]
        _, first = np.unique(pairs, return_index=True)
        projections = []
        for key in pairs[np.sort(first)]:
            mine = np.flatnonzero(pairs == key)
            order = mine[np.lexsort((post[mine, 1], pre[mine, 1]))]
            projections.append(Projection(int(pre[order[0], 0]), int(post[order[0], 0]), pre[order, 1], post[order, 1],
                                          weights[order], delays[order], order))
        return projections
