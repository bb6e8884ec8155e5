"""CUBA (Brette et al. 2007) as a plain hand-written numpy loop: the baseline the
numpy backend is measured against.

Same equations, parameters and step semantics as models/cuba.brain on the
brainsim backends (exact integration, 5 ms refractoriness, a one-step delay:
a spike detected in step n is added to ge/gi at the start of step n + 2),
written the way one would by hand: closed-form propagators, CSR rows of the
neurons that spiked, `np.add.at` into a two-slot ring buffer; it records what
the model records (all spikes, v of 5 neurons). Its connectivity
and initial state are drawn differently from brainsim's, so its spike trains
match brainsim's in statistics, not spike for spike.

    python benchmarks/handwritten_cuba.py [N] [duration_s]
"""

from __future__ import annotations

import sys
import time

import numpy as np

ms, mV = 1e-3, 1e-3


def simulate(n: int = 4000, duration: float = 1.0, dt: float = 0.1 * ms, seed: int = 42) -> dict:
    """Run CUBA; returns the spike count, the mean rate and the loop's run time (s)."""
    taum, taue, taui = 20 * ms, 5 * ms, 10 * ms
    v_threshold, v_reset, v_rest = -50 * mV, -60 * mV, -49 * mV
    refractory_steps = round(5 * ms / dt)
    w_exc, w_inh, p = 1.62 * mV, -9 * mV, 0.02
    n_exc = n * 4 // 5
    rng = np.random.default_rng(seed)

    # Exact propagators of dv/dt = (ge + gi - (v - El)) / taum, dg/dt = -g / tau_g.
    decay_m, decay_e, decay_i = np.exp(-dt / taum), np.exp(-dt / taue), np.exp(-dt / taui)
    from_e = taue / (taue - taum) * (decay_e - decay_m)
    from_i = taui / (taui - taum) * (decay_i - decay_m)

    # CSR connectivity, rows = presynaptic neurons, no autapses.
    connected = rng.random((n, n)) < p
    np.fill_diagonal(connected, False)
    pre, post = np.nonzero(connected)
    del connected
    indptr = np.searchsorted(pre, np.arange(n + 1))
    weights = np.where(pre < n_exc, w_exc, w_inh)

    v = rng.uniform(v_reset, v_threshold, n)
    ge, gi = np.zeros(n), np.zeros(n)
    pending_e, pending_i = np.zeros((2, n)), np.zeros((2, n))
    refractory_until = np.zeros(n, dtype=np.int64)
    spike_steps, spike_indices, v_trace = [], [], []  # what models/cuba.brain records

    started = time.perf_counter()
    for step in range(round(duration / dt)):
        slot = step % 2
        ge = ge + pending_e[slot]
        gi = gi + pending_i[slot]
        pending_e[slot] = 0.0
        pending_i[slot] = 0.0
        refractory = step < refractory_until
        v = np.where(refractory, v, v_rest + (v - v_rest) * decay_m + ge * from_e + gi * from_i)
        ge = ge * decay_e
        gi = gi * decay_i
        spikes = np.flatnonzero((v > v_threshold) & ~refractory)
        if len(spikes):
            v[spikes] = v_reset
            refractory_until[spikes] = step + 1 + refractory_steps
            spike_steps.append(step)
            spike_indices.append(spikes)
            starts, stops = indptr[spikes], indptr[spikes + 1]
            lengths = stops - starts
            ends = np.cumsum(lengths)
            synapses = np.repeat(starts - (ends - lengths), lengths) + np.arange(ends[-1])
            exc = synapses[pre[synapses] < n_exc]
            inh = synapses[pre[synapses] >= n_exc]
            np.add.at(pending_e[slot], post[exc], weights[exc])  # slot of step + 2
            np.add.at(pending_i[slot], post[inh], weights[inh])
        v_trace.append(v[:5])
    v_trace = np.stack(v_trace)
    counts = [len(i) for i in spike_indices]
    spike_steps, spike_indices = np.repeat(spike_steps, counts), np.concatenate(spike_indices)
    run_seconds = time.perf_counter() - started
    return {"spikes": len(spike_indices), "rate": len(spike_indices) / (n * duration), "run_seconds": run_seconds}


if __name__ == "__main__":
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 4000
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
    result = simulate(size, seconds)
    print(f"hand-written numpy CUBA, N={size}, {seconds:g} s: {result['spikes']} spikes "
          f"({result['rate']:.2f} Hz), loop {result['run_seconds']:.3f} s")
