"""What the suite runs: the models at their sizes (`Case`), the simulators (`Simulator`), and
the two suites, `full` (the sizes of issue 12) and `quick` (the same models, small and short,
to try the suite in minutes)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PEERS = Path(__file__).resolve().parent.parent / "peers"


@dataclass(frozen=True)
class Simulator:
    """One simulator and its code-generation target (brainsim's backend, Brian2's device or
    code target, NEST), run through `benchmarks/peers/bench_<name>.py`."""

    name: str
    target: str

    @property
    def label(self) -> str:
        names = {"brian2": "Brian2", "nest": "NEST"}
        return "NEST" if self.name == "nest" else f"{names.get(self.name, self.name)} {self.target}"

    @property
    def key(self) -> str:
        """The name the command line uses: `brainsim-jax`, `brian2-cython`, `nest`."""
        return self.name if self.name == "nest" else f"{self.name}-{self.target}"

    @property
    def peer(self) -> bool:
        """Whether it runs in the peers' environment (Brian2 and NEST need Python >= 3.13)."""
        return self.name != "brainsim"

    @property
    def script(self) -> Path:
        return PEERS / f"bench_{self.name}.py"

    def arguments(self) -> list[str]:
        """The script's target option (NEST has no targets)."""
        return [] if self.name == "nest" else ["--target", self.target]


BRAINSIM = tuple(Simulator("brainsim", target) for target in ("numpy", "numpy-plain", "jax", "jax-plain"))
BRIAN2 = tuple(Simulator("brian2", target) for target in ("numpy", "cython", "cpp_standalone"))
NEST = (Simulator("nest", "nest"),)
SIMULATORS = BRAINSIM + BRIAN2 + NEST
NAMES = {"cuba": "CUBA", "cobahh": "COBAHH", "brunel": "Brunel 2000", "song2000": "Song-Miller-Abbott STDP",
         "microcircuit": "Potjans-Diesmann microcircuit"}


@dataclass(frozen=True)
class Case:
    """One model at one size for `duration` simulated seconds, run by `simulators`: CUBA with
    `n` neurons, the microcircuit at `scale_n` of its neurons and `scale_k` of its in-degrees,
    the others as their files in models/ have them."""

    model: str
    duration: float
    simulators: tuple[Simulator, ...] = SIMULATORS
    n: int | None = None
    scale_n: float = 1.0
    scale_k: float = 1.0

    @property
    def label(self) -> str:
        if self.n is not None:
            return f"{NAMES[self.model]} N={self.n:,}"
        if self.model == "microcircuit":
            scale = "full scale" if (self.scale_n, self.scale_k) == (1.0, 1.0) else \
                f"scale {self.scale_n:g} x {self.scale_k:g}"
            return f"{NAMES[self.model]}, {scale}"
        return NAMES[self.model]

    def arguments(self) -> list[str]:
        """The model options of the protocol the bench_*.py scripts share."""
        options = ["--model", self.model, "--duration", repr(self.duration)]
        if self.n is not None:
            options += ["--n", str(self.n)]
        if self.model == "microcircuit":
            options += ["--scale-n", repr(self.scale_n), "--scale-k", repr(self.scale_k)]
        return options


def full() -> tuple[Case, ...]:
    """Issue 12's sizes: CUBA from 4 000 to 256 000 neurons (fan-in 80) for 1 s, COBAHH-4000 and
    Brunel for 1 s, STDP for 10 s, and the full microcircuit for 10 s (the community's recipe:
    at least 10 s of model time), which only brainsim and NEST run (Brian2 would take hours to
    build its 0.3 billion synapses)."""
    cuba = tuple(Case("cuba", 1.0, n=n) for n in (4000, 16000, 64000, 256000))
    return cuba + (Case("cobahh", 1.0), Case("brunel", 1.0), Case("song2000", 10.0),
                   Case("microcircuit", 10.0, BRAINSIM + NEST))


def quick() -> tuple[Case, ...]:
    """The same models small and short: the suite in minutes, to try it (not to judge speed)."""
    return (Case("cuba", 0.2, n=4000), Case("cuba", 0.2, n=16000), Case("cobahh", 0.2), Case("brunel", 0.2),
            Case("song2000", 1.0), Case("microcircuit", 0.2, BRAINSIM + NEST, scale_n=0.05, scale_k=0.05))


SUITES = {"full": full, "quick": quick}
