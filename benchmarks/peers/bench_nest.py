"""NEST's side of the benchmark suite: brainsim's models written for NEST 3, one run, one line of JSON.

    /path/to/peers-venv/bin/python benchmarks/peers/bench_nest.py --model microcircuit --duration 10

The protocol is benchmarks/peers/protocol.py's; NEST runs single-threaded
(local_num_threads = 1), build_s is Create and Connect, run_s is Simulate. Each model
follows its file in models/, in NEST's own neuron models:

- cuba: iaf_psc_exp. CUBA's ge and gi are voltages (dv/dt = (ge + gi - (v - El)) / taum);
  with C_m = 250 pF a jump of ge by 1.62 mV is a current jump of 1.62 mV C_m / taum =
  20.25 pA (and -9 mV is -112.5 pA), the same dynamics. pairwise_bernoulli with
  p = 80 / N, no autapses, delay 0.1 ms, v uniform in [Vr, Vt).
- cobahh: hh_cond_exp_traub, whose defaults are COBAHH's (C_m 200 pF, g_Na 20 uS, g_K 6 uS,
  g_L 10 nS, V_T -63 mV, E_ex 0, E_in -80 mV, tau_syn 5 and 10 ms); weights 6 and 67 nS.
  NEST counts a spike at the peak of the action potential above V_T + 30 mV, brainsim
  when v crosses -20 mV: the same spikes, up to a fraction of a millisecond. NEST's
  conductances cannot be set, so they start at 0 nS where brainsim's start uniform
  (14-66 nS excitatory, 0-408 nS inhibitory): the first milliseconds differ.
- brunel: iaf_psc_delta (a jump of J = 0.1 mV), fixed_indegree 1000 E and 250 I without
  multapses, delay 1.5 ms; brainsim's 100 external channels per neuron at C_E nu_ext / 100
  are one poisson_generator per neuron at C_E nu_ext here, Brunel's own drive.
- song2000: parrot neurons repeat 1000 poisson_generators at 15 Hz onto one iaf_psc_exp
  (C_m = g_L tau_m = 100 pF, so brainsim's linearised conductance g_ex (E_ex - V_reset)
  is a current: w_max 0.1 nS is 6 pA) through stdp_synapse (additive: mu_plus =
  mu_minus = 0, lambda 0.01, alpha 1.05, tau_plus = tau_minus = 20 ms, all-to-all pairs).
- microcircuit: the NEST example's network (Potjans & Diesmann 2014) with the numbers of
  brainsim/microcircuit.py, loaded by path (it needs no brainsim): fixed_total_number,
  normal weights and delays redrawn past 0 and below 0.1 ms, a DC current that restores
  the scaled in-degrees' mean input, and one poisson_generator per population at
  8 Hz * K_ext, a Poisson count per step, where brainsim's 20 channels per neuron give a
  binomial one of the same mean (models/microcircuit.brain says by how much they differ).
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import math  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from protocol import CUBA_FAN_IN, checked, cv_isi, emit, microcircuit_tables, parser, peak_rss_mb  # noqa: E402

DT_MS = 0.1
CUBA = {"C_m": 250.0, "tau_m": 20.0, "tau_syn_ex": 5.0, "tau_syn_in": 10.0, "V_th": -50.0, "V_reset": -60.0,
        "E_L": -49.0, "t_ref": 5.0}
CUBA_JUMPS_MV = {"exc": 1.62, "inh": -9.0}
COBAHH_WEIGHTS_NS = {"exc": 6.0, "inh": -67.0}  # NEST's sign chooses the conductance, g_ex or g_in
BRUNEL = {"tau_m": 20.0, "V_th": 20.0, "V_reset": 10.0, "t_ref": 2.0, "E_L": 0.0, "C_m": 1.0, "V_m": 0.0}
BRUNEL_J, BRUNEL_G, BRUNEL_EXTERNAL_HZ = 0.1, 5.0, 20000.0  # mV, -, Hz: C_E nu_ext = 1000 * 2 nu_thr
SONG = {"C_m": 100.0, "tau_m": 10.0, "E_L": -74.0, "V_th": -54.0, "V_reset": -60.0, "t_ref": 0.0,
        "tau_syn_ex": 5.0, "tau_minus": 20.0, "V_m": -60.0}
SONG_W_MAX_PA = 0.1 * 60.0  # 0.1 nS (E_ex - V_reset) = 0.1 nS * 60 mV
SONG_STDP = {"lambda": 0.01, "alpha": 1.05, "tau_plus": 20.0, "mu_plus": 0.0, "mu_minus": 0.0}


def recorders(nest, populations: dict, record: bool) -> dict:
    """A spike_recorder per population when `record`, else none."""
    if not record:
        return {}
    found = {}
    for name, nodes in populations.items():
        found[name] = nest.Create("spike_recorder")
        nest.Connect(nodes, found[name])
    return found


def build_cuba(nest, n: int) -> dict:
    n_exc = n * 4 // 5
    cells = nest.Create("iaf_psc_exp", n, params=CUBA)
    cells.V_m = nest.random.uniform(CUBA["V_reset"], CUBA["V_th"])
    p = CUBA_FAN_IN / n
    for name, sources in (("exc", cells[:n_exc]), ("inh", cells[n_exc:])):
        weight = CUBA_JUMPS_MV[name] * CUBA["C_m"] / CUBA["tau_m"]
        nest.Connect(sources, cells, {"rule": "pairwise_bernoulli", "p": p, "allow_autapses": False},
                     {"synapse_model": "static_synapse", "weight": weight, "delay": DT_MS})
    return {"Cortex.exc": cells[:n_exc], "Cortex.inh": cells[n_exc:]}


def build_cobahh(nest, n: int) -> dict:
    n_exc = n * 4 // 5
    # t_ref: brainsim's 2.9 ms + one step; m = h = n = 0 as in brainsim
    cells = nest.Create("hh_cond_exp_traub", n, params={"t_ref": 3.0, "Act_m": 0.0, "Act_n": 0.0, "Inact_h": 0.0})
    cells.V_m = nest.random.uniform(-73.66, -56.34)
    for name, sources in (("exc", cells[:n_exc]), ("inh", cells[n_exc:])):
        nest.Connect(sources, cells, {"rule": "pairwise_bernoulli", "p": 0.02, "allow_autapses": False},
                     {"synapse_model": "static_synapse", "weight": COBAHH_WEIGHTS_NS[name], "delay": DT_MS})
    return {"Cortex.exc": cells[:n_exc], "Cortex.inh": cells[n_exc:]}


def build_brunel(nest, n: int) -> dict:
    excitatory = nest.Create("iaf_psc_delta", 10000, params=BRUNEL)
    inhibitory = nest.Create("iaf_psc_delta", 2500, params=BRUNEL)
    cells = excitatory + inhibitory
    cells.V_m = nest.random.uniform(0.0, BRUNEL["V_th"])
    for sources, indegree, weight in ((excitatory, 1000, BRUNEL_J), (inhibitory, 250, -BRUNEL_G * BRUNEL_J)):
        nest.Connect(sources, cells, {"rule": "fixed_indegree", "indegree": indegree, "allow_multapses": False,
                                      "allow_autapses": False},
                     {"synapse_model": "static_synapse", "weight": weight, "delay": 1.5})
    drive = nest.Create("poisson_generator", params={"rate": BRUNEL_EXTERNAL_HZ})
    nest.Connect(drive, cells, "all_to_all", {"weight": BRUNEL_J, "delay": DT_MS})
    return {"Brunel.E": excitatory, "Brunel.I": inhibitory}


def build_song2000(nest, n: int) -> dict:
    inputs = nest.Create("parrot_neuron", 1000)
    nest.Connect(nest.Create("poisson_generator", 1000, params={"rate": 15.0}), inputs, "one_to_one")
    cell = nest.Create("iaf_psc_exp", 1, params=SONG)
    nest.CopyModel("stdp_synapse", "song_stdp", SONG_STDP | {"Wmax": SONG_W_MAX_PA})
    nest.Connect(inputs, cell, "all_to_all", {"synapse_model": "song_stdp", "delay": DT_MS,
                                              "weight": nest.random.uniform(0.0, SONG_W_MAX_PA)})
    return {"Output.cell": cell}


def build_microcircuit(nest, scale_n: float, scale_k: float) -> dict:
    tables = microcircuit_tables()
    sizes = tables.scaled_sizes(scale_n)
    totals, weights = tables.full_totals(), tables.mean_weights()
    root = math.sqrt(scale_k)
    w_ext = tables.PSP_EXC * tables.psc_over_psp() * 1e12 / root  # pA
    neuron = {"C_m": tables.C_M * 1e12, "tau_m": tables.TAU_M * 1e3, "tau_syn_ex": tables.TAU_SYN * 1e3,
              "tau_syn_in": tables.TAU_SYN * 1e3, "E_L": -65.0, "V_th": -50.0, "V_reset": -65.0, "t_ref": 2.0}
    populations = {}
    for t, (name, size) in enumerate(sizes.items()):
        cells = nest.Create("iaf_psc_exp", size, params=neuron | {"I_e": tables.dc_current(t, scale_k) * 1e12})
        cells.V_m = nest.random.normal(mean=tables.V0_MEAN[t], std=tables.V0_STD[t])
        populations[name] = cells
    names = list(sizes)
    for t, target in enumerate(names):
        for s, source in enumerate(names):
            total = round(totals[t][s] * scale_n * scale_k)
            if total == 0:
                continue
            mean = weights[t][s] * 1e12 / root
            bound = {"min": 0.0, "max": math.inf} if mean > 0 else {"min": -math.inf, "max": 0.0}
            delay = tables.DELAY_MEAN[source[-1]] * 1e3
            # NEST holds at most 2^27 - 2 connections per thread and synapse model, under the full
            # scale's 0.3e9 on one thread: a static synapse model of its own per projection.
            model = f"static_synapse_{s}_{t}"
            nest.CopyModel("static_synapse", model)
            nest.Connect(populations[source], populations[target], {"rule": "fixed_total_number", "N": total},
                         {"synapse_model": model,
                          "weight": nest.math.redraw(nest.random.normal(mean=mean, std=abs(mean) * tables.WEIGHT_REL_STD),
                                                     **bound),
                          "delay": nest.math.redraw(nest.random.normal(mean=delay, std=delay * tables.DELAY_REL_STD),
                                                    min=DT_MS, max=math.inf)})
        drive = nest.Create("poisson_generator", params={"rate": tables.background_rate(t, scale_k)})
        nest.Connect(drive, populations[target], "all_to_all", {"weight": w_ext, "delay": 1.5})
    return populations


def measure(args) -> dict:
    before = time.perf_counter()
    import nest

    imported = time.perf_counter()
    nest.verbosity = nest.VerbosityLevel.ERROR
    nest.ResetKernel()
    nest.SetKernelStatus({"resolution": DT_MS, "local_num_threads": 1, "rng_seed": args.seed + 1,
                          "print_time": False})
    n = args.n or 4000
    if args.model == "microcircuit":
        populations = build_microcircuit(nest, args.scale_n, args.scale_k)
    else:
        populations = globals()[f"build_{args.model}"](nest, n)
    spikes = recorders(nest, populations, args.record)
    nest.Prepare()
    built = time.perf_counter()
    nest.Run(args.duration * 1e3)
    ran = time.perf_counter()
    nest.Cleanup()
    rates = cvs = None
    if args.record:
        rates, cvs = {}, {}
        for name, cells in populations.items():
            events = spikes[name].get("events")
            first = cells[0].global_id
            rates[name] = len(events["senders"]) / (len(cells) * args.duration)
            cvs[name] = cv_isi(events["times"], events["senders"] - first, len(cells))
    to_recorders = sum(len(cells) for cells in populations.values()) if args.record else 0
    synapses = nest.GetKernelStatus("num_connections") - to_recorders  # the generators' connections counted
    return {"simulator": "nest", "version": nest.__version__, "target": "nest", "model": args.model,
            "n": sum(len(cells) for cells in populations.values()), "synapses": synapses,
            "duration_s": args.duration, "dt_s": DT_MS * 1e-3, "seed": args.seed, "threads": 1,
            "import_s": imported - before, "build_s": built - imported, "run_s": ran - built,
            "rates_hz": rates, "cv_isi": cvs, "peak_rss_mb": peak_rss_mb(), "process_s": time.perf_counter() - STARTED}


if __name__ == "__main__":
    emit(measure(checked(parser(__doc__.split("\n\n")[0], ()).parse_args())))
