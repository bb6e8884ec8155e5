"""The seed's Hebbian rule replayed in plain Python on a run's recorded spikes:
the reference for std/seed's `Hebbian` synapse (tests/test_stdlib_plasticity.py,
tests/test_visual_pathway_learning.py)."""

import numpy as np


def spike_steps(results, population: str) -> list[np.ndarray]:
    """The steps n of each neuron's spikes (a spike of step n is stamped (n + 1) dt)."""
    trains = results.spikes[population]
    steps = np.rint(trains.times / results.dt).astype(np.int64) - 1
    return [np.sort(steps[trains.indices == k]) for k in range(len(results.spike_counts[population]))]


def seed_hebbian(w: float, pre_steps: np.ndarray, post_steps: set, eta: float = 0.01, w_max: float = 10e-9) -> float:
    """The seed's Synapse.apply_hebbian_learning, step by step, for one synapse with
    initial weight `w` (A): in each step in which the presynaptic neuron spiked,
    LTP if the postsynaptic one spiked too, LTD otherwise; w clipped to [0, w_max]."""
    for step in pre_steps:
        if step in post_steps:
            w += eta * (w_max - w)
        else:
            w -= eta * 0.005 * w
        w = min(max(w, 0.0), w_max)
    return w


def replay(results, projection: str, source: str, target: str, initial: np.ndarray,
           end: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The weights the seed's rule gives each synapse of `projection` from `initial`,
    and the number of steps in which its two neurons spiked together, over the
    steps that end by time `end` (s; None: the whole run)."""
    synapses = results.synapses[projection]
    last = results.n_steps - 1 if end is None else round(end / results.dt) - 1
    pre = [steps[steps <= last] for steps in spike_steps(results, source)]
    post = spike_steps(results, target)
    posts = [set(steps.tolist()) for steps in post]
    weights = np.array([seed_hebbian(w, pre[i], posts[j]) for w, i, j in zip(initial, synapses.pre, synapses.post)])
    together = np.array([len(posts[j].intersection(pre[i].tolist())) for i, j in zip(synapses.pre, synapses.post)])
    return weights, together
