"""Brian2's side of the benchmark suite: brainsim's models written for Brian2, one run, one line of JSON.

    /path/to/peers-venv/bin/python benchmarks/peers/bench_brian2.py --model cuba --n 64000 --target cpp_standalone

The protocol is benchmarks/peers/protocol.py's. Targets: `numpy` and `cython` (runtime
code generation; a first zero-length run generates and compiles the code, so build_s holds
it and run_s is the loop alone; cython's cache goes to a fresh directory, so compiling is
counted every time) and `cpp_standalone` (single-threaded, built in a fresh directory:
build_s is code generation and compilation, run_s the time the program reports for its
simulation loop). The models follow models/ as the reference scripts brian2_cuba.py,
brian2_cobahh.py and brian2_song2000.py do (tests/test_peer_*.py compare brainsim with
those): CUBA with p = 80 / N drawn per source (`sample`, not a condition on all N^2
pairs), COBAHH, Brunel 2000 with fixed in-degrees drawn without multapses and its
external drive as a PoissonInput (a Poisson count per step, Brunel's own, where brainsim
uses 100 channels per neuron), the STDP network of Song, Miller & Abbott, and the
Potjans & Diesmann microcircuit with brainsim/microcircuit.py's numbers (loaded by path):
one NeuronGroup and one Synapses object whose fixed_total_number connections, normal
weights (redrawn where the sign flips) and delays (redrawn below 0.1 ms) are drawn with
numpy (`microcircuit_connections`), the DC compensation of the scaled in-degrees, and a
PoissonInput per population of round(K_ext scale_K) inputs at 8 Hz: a binomial count per
step of that mean, as brainsim's 20 channels per neuron and NEST's poisson_generator give
(Poisson's) count of the same mean.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import math  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from protocol import CUBA_FAN_IN, checked, cv_isi, emit, microcircuit_tables, parser, peak_rss_mb  # noqa: E402

TARGETS = ("numpy", "cython", "cpp_standalone")
COBAHH_INITIAL = {"v": (-73.66, -56.34, "mV"), "ge": (14.02, 65.98, "nS"), "gi": (-7.85, 407.85, "nS")}
"""models/cobahh.brain's uniform initial values (brian2_cobahh.py says where they come from)."""
COBAHH_EQUATIONS = """
dv/dt = (gl * (El - v) + ge * (Ee - v) + gi * (Ei - v)
         - g_na * m ** 3 * h * (v - ENa) - g_kd * n ** 4 * (v - EK)) / Cm : volt
dm/dt = alpha_m * (1 - m) - beta_m * m : 1
dn/dt = alpha_n * (1 - n) - beta_n * n : 1
dh/dt = alpha_h * (1 - h) - beta_h * h : 1
dge/dt = -ge / taue : siemens
dgi/dt = -gi / taui : siemens
u = (v - VT) / mV : 1
alpha_m = 0.32 * (13 - u) / (exp((13 - u) / 4) - 1) / ms : Hz
beta_m = 0.28 * (u - 40) / (exp((u - 40) / 5) - 1) / ms : Hz
alpha_h = 0.128 * exp((17 - u) / 18) / ms : Hz
beta_h = 4 / (1 + exp((40 - u) / 5)) / ms : Hz
alpha_n = 0.032 * (15 - u) / (exp((15 - u) / 5) - 1) / ms : Hz
beta_n = 0.5 * exp((10 - u) / 40) / ms : Hz
"""


def random_split(b2, cells, n_exc: int, p: float, on_pre: tuple[str, str], delay, namespace: dict) -> list:
    """E -> all and I -> all synapses with probability `p`, no autapses, drawn per source."""
    groups = []
    for sources, offset, code in ((cells[:n_exc], 0, on_pre[0]), (cells[n_exc:], n_exc, on_pre[1])):
        synapses = b2.Synapses(sources, cells, on_pre=code, delay=delay, namespace=namespace)
        synapses.connect(j=f"k for k in sample(N_post, p={p!r}) if k != i + {offset}")
        groups.append(synapses)
    return groups


def build_cuba(b2, n: int) -> tuple[list, dict]:
    namespace = {"taum": 20 * b2.ms, "taue": 5 * b2.ms, "taui": 10 * b2.ms, "Vt": -50 * b2.mV, "Vr": -60 * b2.mV,
                 "El": -49 * b2.mV, "we": 1.62 * b2.mV, "wi": -9 * b2.mV}
    cells = b2.NeuronGroup(n, """dv/dt = (ge + gi - (v - El)) / taum : volt (unless refractory)
                                 dge/dt = -ge / taue : volt
                                 dgi/dt = -gi / taui : volt""",
                           threshold="v > Vt", reset="v = Vr", refractory=5 * b2.ms, method="exact",
                           namespace=namespace)
    cells.v = "Vr + rand() * (Vt - Vr)"
    n_exc = n * 4 // 5
    synapses = random_split(b2, cells, n_exc, CUBA_FAN_IN / n, ("ge += we", "gi += wi"), 0.1 * b2.ms, namespace)
    return [cells, *synapses], {"Cortex.exc": cells[:n_exc], "Cortex.inh": cells[n_exc:]}


def build_cobahh(b2, n: int) -> tuple[list, dict]:
    area = 20000 * b2.umetre ** 2
    namespace = {"Cm": 1 * b2.ufarad * b2.cm ** -2 * area, "gl": 5e-5 * b2.siemens * b2.cm ** -2 * area,
                 "g_na": 100 * b2.msiemens * b2.cm ** -2 * area, "g_kd": 30 * b2.msiemens * b2.cm ** -2 * area,
                 "El": -60 * b2.mV, "EK": -90 * b2.mV, "ENa": 50 * b2.mV, "VT": -63 * b2.mV, "Ee": 0 * b2.mV,
                 "Ei": -80 * b2.mV, "taue": 5 * b2.ms, "taui": 10 * b2.ms, "we": 6 * b2.nS, "wi": 67 * b2.nS}
    cells = b2.NeuronGroup(n, COBAHH_EQUATIONS, threshold="v > -20*mV", refractory=3 * b2.ms,
                           method="exponential_euler", namespace=namespace)
    for name, (low, high, unit) in COBAHH_INITIAL.items():
        setattr(cells, name, f"({low} + rand() * ({high} - {low})) * {unit}")
    n_exc = n * 4 // 5
    synapses = random_split(b2, cells, n_exc, 0.02, ("ge += we", "gi += wi"), 0.1 * b2.ms, namespace)
    return [cells, *synapses], {"Cortex.exc": cells[:n_exc], "Cortex.inh": cells[n_exc:]}


def build_brunel(b2, n: int) -> tuple[list, dict]:
    namespace = {"tau": 20 * b2.ms, "theta": 20 * b2.mV, "V_r": 10 * b2.mV, "J": 0.1 * b2.mV, "g": 5.0}
    cells = b2.NeuronGroup(12500, "dv/dt = -v / tau : volt (unless refractory)", threshold="v > theta",
                           reset="v = V_r", refractory=2 * b2.ms, method="exact", namespace=namespace)
    cells.v = "rand() * theta"
    groups = [cells]
    for sources, indegree, code in ((cells[:10000], 1000, "v += J"), (cells[10000:], 250, "v += -g * J")):
        synapses = b2.Synapses(sources, cells, on_pre=code, delay=1.5 * b2.ms, namespace=namespace)
        synapses.connect(i=f"k for k in sample(N_pre, size={indegree})")
        groups.append(synapses)
    groups.append(b2.PoissonInput(cells, "v", N=1000, rate=20 * b2.Hz, weight="J"))  # C_E inputs at 2 nu_thr
    return groups, {"Brunel.E": cells[:10000], "Brunel.I": cells[10000:]}


SONG_G_MAX = 0.01
"""The largest weight of the STDP network, in units of the leak conductance (Brian2's example)."""


def build_song2000(b2, n: int, delay_ms: float = 0.1) -> tuple[list, dict]:
    """The STDP network; brian2_song2000.py, which wrote the reference data, runs it without
    the one-step delay models/stdp_song2000.brain has (`delay_ms` 0)."""
    g_max = SONG_G_MAX
    namespace = {"taum": 10 * b2.ms, "taupre": 20 * b2.ms, "taupost": 20 * b2.ms, "Ee": 0 * b2.mV,
                 "vt": -54 * b2.mV, "vr": -60 * b2.mV, "El": -74 * b2.mV, "taue": 5 * b2.ms, "gmax": g_max,
                 "dApre": 0.01 * g_max, "dApost": -0.01 * 1.05 * g_max}
    inputs = b2.PoissonGroup(1000, rates=15 * b2.Hz)
    cell = b2.NeuronGroup(1, "dv/dt = (ge * (Ee - vr) + El - v) / taum : volt\n dge/dt = -ge / taue : 1",
                          threshold="v > vt", reset="v = vr", method="exact", namespace=namespace)
    cell.v = -60 * b2.mV
    synapses = b2.Synapses(inputs, cell, """w : 1
                                            dApre/dt = -Apre / taupre : 1 (event-driven)
                                            dApost/dt = -Apost / taupost : 1 (event-driven)""",
                           on_pre="""ge += w
                                     Apre += dApre
                                     w = clip(w + Apost, 0, gmax)""",
                           on_post="""Apost += dApost
                                      w = clip(w + Apre, 0, gmax)""",
                           delay=delay_ms * b2.ms, namespace=namespace)
    synapses.connect()
    synapses.w = "rand() * gmax"
    return [inputs, cell, synapses], {"Output.cell": cell}


MICROCIRCUIT_EQUATIONS = """
dv/dt = (E_L - v) / tau_m + (I_syn + I_DC) / C_m : volt (unless refractory)
dI_syn/dt = -I_syn / tau_syn : amp
I_DC : amp (constant)
"""
"""models/microcircuit.brain's IafPscExp."""
MICROCIRCUIT_NEURON_MV = {"E_L": -65.0, "V_th": -50.0, "V_reset": -65.0}
MICROCIRCUIT_T_REF_MS = 2.0
DT_S = 1e-4
BYTES_PER_SYNAPSE = 100
"""Brian2's memory per microcircuit synapse, measured (numpy target, peak RSS): 195.5 MB at
747 205 synapses (scale 0.05 x 0.05), 413.5 MB at 2 988 807 (0.1 x 0.1), 97 bytes apart."""


def microcircuit_refusal(tables, scale_n: float, scale_k: float, memory_bytes: int) -> str | None:
    """Why the microcircuit at this scale would not fit in `memory_bytes` under Brian2 (its
    synapses at BYTES_PER_SYNAPSE each), or None when it would."""
    synapses = sum(round(k * scale_n * scale_k) for row in tables.full_totals() for k in row)
    needed = synapses * BYTES_PER_SYNAPSE
    if needed <= memory_bytes:
        return None
    return (f"the microcircuit at --scale-n {scale_n} --scale-k {scale_k} has {synapses:,} synapses, about "
            f"{needed / 1e9:.1f} GB under Brian2 ({BYTES_PER_SYNAPSE} bytes each), more than this machine's "
            f"{memory_bytes / 1e9:.1f} GB")


def redrawn(rng, mean: float, std: float, size: int, low: float, high: float):
    """`size` normal draws, each one outside [low, high] drawn again until it falls inside."""
    values = rng.normal(mean, std, size)
    outside = (values < low) | (values > high)
    while outside.any():
        values[outside] = rng.normal(mean, std, int(outside.sum()))
        outside = (values < low) | (values > high)
    return values


def microcircuit_connections(tables, scale_n: float, scale_k: float, rng):
    """The microcircuit's synapses as arrays (sources, targets, weights in A, delays in s)
    over one group of all populations in tables.POPULATIONS' order: round(K scale_N scale_K)
    pairs drawn with multapses and autapses per (target, source) population pair (NEST's
    fixed_total_number), weights normal around the mean / sqrt(scale_K) with a 10 % sd and
    their sign kept, delays normal and at least one step (models/microcircuit.brain)."""
    import numpy as np

    sizes = list(tables.scaled_sizes(scale_n).values())
    offsets = np.concatenate(([0], np.cumsum(sizes)))
    totals, weights = tables.full_totals(), tables.mean_weights()
    parts = []
    for t, target in enumerate(tables.POPULATIONS):
        for s, source in enumerate(tables.POPULATIONS):
            total = round(totals[t][s] * scale_n * scale_k)
            if total == 0:
                continue
            mean = weights[t][s] / math.sqrt(scale_k)
            bounds = (0.0, math.inf) if mean > 0 else (-math.inf, 0.0)
            delay = tables.DELAY_MEAN[source[-1]]
            parts.append((rng.integers(sizes[s], size=total) + offsets[s],
                          rng.integers(sizes[t], size=total) + offsets[t],
                          redrawn(rng, mean, abs(mean) * tables.WEIGHT_REL_STD, total, *bounds),
                          redrawn(rng, delay, delay * tables.DELAY_REL_STD, total, DT_S, math.inf)))
    return tuple(np.concatenate(column) for column in zip(*parts))


def build_microcircuit(b2, scale_n: float, scale_k: float, seed: int) -> tuple[list, dict]:
    import numpy as np

    tables = microcircuit_tables()
    rng = np.random.default_rng(seed)
    sizes = tables.scaled_sizes(scale_n)
    namespace = {"C_m": tables.C_M * b2.farad, "tau_m": tables.TAU_M * b2.second,
                 "tau_syn": tables.TAU_SYN * b2.second} | {
                     name: value * b2.mV for name, value in MICROCIRCUIT_NEURON_MV.items()}
    cells = b2.NeuronGroup(sum(sizes.values()), MICROCIRCUIT_EQUATIONS, threshold="v >= V_th", reset="v = V_reset",
                           refractory=MICROCIRCUIT_T_REF_MS * b2.ms, method="exact", namespace=namespace)
    v, dc, populations, groups, start = [], [], {}, [cells], 0
    w_ext = tables.PSP_EXC * tables.psc_over_psp() / math.sqrt(scale_k)
    for t, (name, size) in enumerate(sizes.items()):
        v.append(rng.normal(tables.V0_MEAN[t], tables.V0_STD[t], size))
        dc.append(np.full(size, tables.dc_current(t, scale_k)))
        populations[name] = cells[start:start + size]
        inputs = round(tables.background_rate(t, scale_k) / tables.BACKGROUND_RATE)
        groups.append(b2.PoissonInput(populations[name], "I_syn", N=inputs, rate=tables.BACKGROUND_RATE * b2.Hz,
                                      weight=w_ext * b2.amp))
        start += size
    cells.v = np.concatenate(v) * b2.mV
    cells.I_DC = np.concatenate(dc) * b2.amp
    pre, post, weights, delays = microcircuit_connections(tables, scale_n, scale_k, rng)
    synapses = b2.Synapses(cells, cells, "w : amp", on_pre="I_syn += w", namespace=namespace)
    synapses.connect(i=pre, j=post)
    synapses.w = weights * b2.amp
    synapses.delay = delays * b2.second
    return [*groups, synapses], populations


def measure(args) -> dict:
    if args.model == "microcircuit":
        refusal = microcircuit_refusal(microcircuit_tables(), args.scale_n, args.scale_k,
                                       os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
        if refusal:
            print(f"error: {refusal}", file=sys.stderr)
            sys.exit(2)
    scratch = tempfile.mkdtemp(prefix="brian2-bench-")
    before = time.perf_counter()
    import brian2 as b2

    imported = time.perf_counter()
    if args.target == "cpp_standalone":
        b2.set_device("cpp_standalone", directory=scratch, build_on_run=False)
        b2.prefs.devices.cpp_standalone.openmp_threads = 0
    else:
        b2.prefs.codegen.target = args.target
        b2.prefs.codegen.runtime.cython.cache_dir = scratch
    b2.seed(args.seed)
    b2.defaultclock.dt = DT_S * b2.second
    if args.model == "microcircuit":
        objects, populations = build_microcircuit(b2, args.scale_n, args.scale_k, args.seed)
    else:
        objects, populations = globals()[f"build_{args.model}"](b2, args.n or 4000)
    monitors = {name: b2.SpikeMonitor(group) for name, group in populations.items()} if args.record else {}
    network = b2.Network(*objects, *monitors.values())
    if args.target == "cpp_standalone":
        network.run(args.duration * b2.second)
        b2.device.build(directory=scratch, compile=True, run=True, debug=False)
        run_s = b2.device._last_run_time
        built = time.perf_counter() - run_s
    else:
        network.run(0 * b2.ms)  # generates and compiles the code
        built = time.perf_counter()
        network.run(args.duration * b2.second)
        run_s = time.perf_counter() - built
    rates = cvs = None
    if args.record:
        rates, cvs = {}, {}
        for name, monitor in monitors.items():
            size = len(populations[name])
            rates[name] = monitor.num_spikes / (size * args.duration)
            cvs[name] = cv_isi(monitor.t[:] / b2.second, monitor.i[:], size)
    synapses = sum(len(o) for o in objects if isinstance(o, b2.Synapses))
    return {"simulator": "brian2", "version": b2.__version__, "target": args.target, "model": args.model,
            "n": sum(len(group) for group in populations.values()), "synapses": synapses,
            "duration_s": args.duration, "dt_s": DT_S, "seed": args.seed, "threads": 1,
            "import_s": imported - before, "build_s": built - imported, "run_s": run_s, "rates_hz": rates,
            "cv_isi": cvs, "peak_rss_mb": peak_rss_mb(), "process_s": time.perf_counter() - STARTED}


if __name__ == "__main__":
    emit(measure(checked(parser(__doc__.split("\n\n")[0], TARGETS).parse_args())))
