"""The Potjans & Diesmann (2014) cortical microcircuit (models/microcircuit.brain) at any scale.

The model file is the full-scale network. `values(scale_N, scale_K)` gives the new values
(`Model.with_values` names) that make it the network at a fraction `scale_N` of the neurons
and `scale_K` of the in-degrees, as the NEST example scales it (van Albada, Helias &
Diesmann 2015): population sizes round(N * scale_N), synapse totals round(K * scale_N *
scale_K) of the full-scale totals K, external in-degrees round(K_ext * scale_K), every
weight divided by sqrt(scale_K) (which keeps the variance of the input), and a DC current
per population that restores the mean input the lost synapses carried at the full-scale
rates. `drive="dc"` replaces the Poisson background by its mean current.

    model = brainsim.load("models/microcircuit.brain").with_values(microcircuit.values(0.05, 0.05))

The module needs nothing but the standard library until `values` reports a mistake, so the
NEST and Brian2 versions of the model (benchmarks/peers) load it by path, without brainsim.

The numbers are those of the NEST example (pynest/examples/Potjans_2014/network_params.py
at nest-simulator commit 770f2a24d, before it moved out of the repository).
"""

from __future__ import annotations

import math

POPULATIONS = ("L23.E", "L23.I", "L4.E", "L4.I", "L5.E", "L5.I", "L6.E", "L6.I")
FULL_SIZES = (20683, 5834, 21915, 5479, 4850, 1065, 14395, 2948)
FULL_RATES = (0.903, 2.965, 4.414, 5.876, 7.569, 8.633, 1.105, 7.829)
"""Hz, the full-scale rates of the NEST example (`full_mean_rates`), used for the DC compensation."""
CONNECTION_PROBABILITIES = (  # rows: target, columns: source, both in POPULATIONS' order
    (0.1009, 0.1689, 0.0437, 0.0818, 0.0323, 0.0, 0.0076, 0.0),
    (0.1346, 0.1371, 0.0316, 0.0515, 0.0755, 0.0, 0.0042, 0.0),
    (0.0077, 0.0059, 0.0497, 0.135, 0.0067, 0.0003, 0.0453, 0.0),
    (0.0691, 0.0029, 0.0794, 0.1597, 0.0033, 0.0, 0.1057, 0.0),
    (0.1004, 0.0622, 0.0505, 0.0057, 0.0831, 0.3726, 0.0204, 0.0),
    (0.0548, 0.0269, 0.0257, 0.0022, 0.06, 0.3158, 0.0086, 0.0),
    (0.0156, 0.0066, 0.0211, 0.0166, 0.0572, 0.0197, 0.0396, 0.2252),
    (0.0364, 0.001, 0.0034, 0.0005, 0.0277, 0.008, 0.0658, 0.1443),
)
V0_MEAN = (-68.28, -63.16, -63.33, -63.45, -63.11, -61.66, -66.72, -61.43)  # mV ("optimized")
V0_STD = (5.36, 4.57, 4.74, 4.94, 4.94, 4.55, 5.46, 4.48)  # mV
K_EXT = (1600, 1500, 2100, 1900, 2000, 1900, 2900, 2100)
BACKGROUND_RATE = 8.0  # Hz per external synapse
PSP_EXC = 0.15e-3  # V, the peak of an excitatory PSP
G = -4.0  # inhibitory weight relative to excitatory
WEIGHT_REL_STD = 0.1
DELAY_MEAN = {"E": 1.5e-3, "I": 0.75e-3}  # s, by the source's type
DELAY_REL_STD = 0.5
C_M, TAU_M, TAU_SYN = 250e-12, 10e-3, 0.5e-3  # F, s, s
CHANNELS = 20
"""External Poisson channels per neuron: a PoissonSource spikes at most once per step, and
8 Hz * K_ext is up to 23 kHz, so each neuron listens to CHANNELS channels of its population's
pool, each at 8 Hz * K_ext / CHANNELS (models/microcircuit.brain says what that changes)."""


def psc_over_psp(c_m: float = C_M, tau_m: float = TAU_M, tau_syn: float = TAU_SYN) -> float:
    """The peak current (A) of an exponential PSC per volt of the PSP's peak, for a LIF neuron."""
    sub = 1.0 / (tau_syn - tau_m)
    pre = tau_m * tau_syn / c_m * sub
    frac = (tau_m / tau_syn) ** sub
    return 1.0 / (pre * (frac ** tau_m - frac ** tau_syn))


def full_totals() -> tuple[tuple[float, ...], ...]:
    """The full-scale synapse count of every (target, source) pair, not rounded:
    K = log(1 - p) / log(1 - 1 / (N_pre N_post)) (Potjans & Diesmann 2014, eq. 1)."""
    return tuple(
        tuple(math.log(1.0 - p) / math.log(1.0 - 1.0 / (n_pre * n_post)) for p, n_pre in zip(row, FULL_SIZES))
        for row, n_post in zip(CONNECTION_PROBABILITIES, FULL_SIZES)
    )


def mean_weights() -> tuple[tuple[float, ...], ...]:
    """The mean weight (A) of every (target, source) pair at full scale; L4E -> L2/3E doubled."""
    w = PSP_EXC * psc_over_psp()
    return tuple(
        tuple((2.0 if (target, source) == ("L23.E", "L4.E") else 1.0) * (w if source.endswith("E") else G * w)
              for source in POPULATIONS)
        for target in POPULATIONS
    )


def quantity(value: float, unit: str, scale: float) -> str:
    """`value` (SI) written in `unit` (`scale` of them per SI unit) to 6 significant digits."""
    return f"{value * scale:.6g} {unit}"


def weight(mean: float) -> str:
    """The weight distribution of a mean (A): normal with a 10 % sd, its sign kept."""
    bound = "low = 0 pA" if mean > 0 else "high = 0 pA"
    return (f"normal({quantity(mean, 'pA', 1e12)}, {quantity(abs(mean) * WEIGHT_REL_STD, 'pA', 1e12)}, "
            f"{bound})")


def delay(source: str) -> str:
    """The delay distribution of connections from `source`: normal, at least one step."""
    mean = DELAY_MEAN[source[-1]]
    return f"normal({quantity(mean, 'ms', 1e3)}, {quantity(mean * DELAY_REL_STD, 'ms', 1e3)}, low = 0.1 ms)"


def values(scale_N: float = 1.0, scale_K: float = 1.0, drive: str = "poisson") -> dict[str, str | int]:
    """The `Model.with_values` values that make models/microcircuit.brain the network with
    `scale_N` of its neurons and `scale_K` of its in-degrees, driven by Poisson input or by
    its mean as a DC current (`drive` "poisson" or "dc"). At (1, 1, "poisson") they are the
    file's own values.

    Raises:
        InvalidValueError: a scale outside (0, 1], or an unknown drive.
    """
    from brainsim.errors import InvalidValueError

    for name, scale in (("scale_N", scale_N), ("scale_K", scale_K)):
        if isinstance(scale, bool) or not isinstance(scale, int | float) or not 0 < scale <= 1:
            raise InvalidValueError(f"{name} is a fraction in (0, 1], not {scale!r}")
    if drive not in ("poisson", "dc"):
        raise InvalidValueError(f"the drive is 'poisson' or 'dc', not {drive!r}")
    totals, weights = full_totals(), mean_weights()
    w_ext = PSP_EXC * psc_over_psp()
    root = math.sqrt(scale_K)
    new: dict[str, str | int] = {}
    for t, (target, size) in enumerate(scaled_sizes(scale_N).items()):
        new[f"{target}[]"] = size
        new[f"{target}.v"] = f"normal({V0_MEAN[t]} mV, {V0_STD[t]} mV)"
        rate = 0.0 if drive == "dc" else background_rate(t, scale_K) / CHANNELS
        pool = "Background." + target.replace(".", "")
        new[f"{target}.I_DC"] = quantity(dc_current(t, scale_K, drive), "pA", 1e12)
        new[f"{pool}.rate"] = quantity(rate, "Hz", 1.0)
        new[f"{pool} -> {target}.weight"] = quantity(w_ext / root, "pA", 1e12)
        for s, source in enumerate(POPULATIONS):
            if totals[t][s] == 0.0:
                continue
            connection = f"{source} -> {target}"
            new[f"{connection}.total"] = str(round(totals[t][s] * scale_N * scale_K))
            new[f"{connection}.weight"] = weight(weights[t][s] / root)
            new[f"{connection}.delay"] = delay(source)
    return new


def background_rate(t: int, scale_K: float) -> float:
    """The Poisson rate (Hz) of the whole background of one neuron of population `t`:
    8 Hz times its scaled external in-degree."""
    return BACKGROUND_RATE * round(K_EXT[t] * scale_K)


def dc_current(t: int, scale_K: float, drive: str = "poisson") -> float:
    """The DC current (A) of population `t` at `scale_K`: what the scaled in-degrees lost of
    the mean input the full-scale ones carry at the published rates (1 - sqrt(scale_K) of
    it), and with `drive` "dc" the whole mean of the background too."""
    root = math.sqrt(scale_K)
    weights, totals = mean_weights()[t], full_totals()[t]
    recurrent = sum(weights[s] * totals[s] / FULL_SIZES[t] * FULL_RATES[s] for s in range(len(POPULATIONS)))
    external = PSP_EXC * psc_over_psp() * K_EXT[t] * BACKGROUND_RATE
    if drive == "dc":
        return TAU_SYN * (external + (1.0 - root) * recurrent)
    return TAU_SYN * (1.0 - root) * (recurrent + external)


def scaled_sizes(scale_N: float) -> dict[str, int]:
    """The population sizes at `scale_N`."""
    return {target: max(1, round(n * scale_N)) for target, n in zip(POPULATIONS, FULL_SIZES)}
