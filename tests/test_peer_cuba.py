"""CUBA against a peer simulator: brainsim's dynamics match Brian2's.

The reference comes from Brian2 2.11 running the same model over ten seeds
(benchmarks/peers/brian2_cuba.py wrote tests/data/brian2_cuba.json).

Two numbers must agree exactly, whatever the seed, because they follow from the
model's refractory period and delay alone; both are measured with the same
functions (imported from that script) on both simulators' output, each
simulator's spikes stamped by its own convention:

* the refractory hold: the number of samples stamped after a spike during which
  v stays at Vr (t_ref / dt = 50): a refractory period of 4 or 5.1 ms instead
  of 5 gives 40 or 51;
* the excitatory lag: the steps from a spike's stamp to the first sample of a
  target's ge that shows its event (delay + one step = 2): a delay one step
  late gives 3.

Random numbers differ between simulators, so rates and irregularity are
compared statistically: the mean over a few brainsim seeds must lie within four
standard errors of Brian2's mean, the standard error computed from Brian2's
spread over its seeds alone (a fixed tolerance, which brainsim's own spread
cannot widen).
"""

import importlib.util
import json
import math
from pathlib import Path

import numpy as np
import pytest

import brainsim

ROOT = Path(__file__).parent.parent
REFERENCE = json.loads((ROOT / "tests" / "data" / "brian2_cuba.json").read_text())
SEEDS = (1, 2, 3)
DT = 0.1e-3


def _peer_script():
    spec = importlib.util.spec_from_file_location("brian2_cuba", ROOT / "benchmarks" / "peers" / "brian2_cuba.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # imports numpy only; brian2 is imported by run_cuba
    return module


PEER = _peer_script()
CUBA = (ROOT / "models" / "cuba.brain").read_text().replace("record v of", "record v, ge of")


def measure(text: str, seed: int) -> dict:
    """The reference's quantities for one brainsim run of `text` with `seed`."""
    results = brainsim.loads(text.replace("seed = 42", f"seed = {seed}"), filename="cuba.brain").compile("numpy").run()
    rows = {row.name: row for row in results.statistics()}
    v, ge = (results.traces[("Cortex.exc", name)] for name in ("v", "ge"))
    exc = results.spikes["Cortex.exc"]
    spike_steps = np.rint(exc.times / DT).astype(np.int64)
    sample_steps = np.rint(v.times / DT).astype(np.int64)
    return {
        "rate_exc_hz": results.spike_counts["Cortex.exc"].mean() / results.duration,
        "rate_inh_hz": results.spike_counts["Cortex.inh"].mean() / results.duration,
        "cv_isi": rows["Cortex"].cv_isi,
        "hold_samples": PEER.hold_samples(v.values.T, sample_steps, exc.indices, spike_steps, -60e-3),
        "excitatory_lag_steps": PEER.excitatory_lag(ge.values.T, sample_steps, spike_steps),
    }


@pytest.fixture(scope="module")
def brainsim_runs():
    return [measure(CUBA, seed) for seed in SEEDS]


@pytest.mark.parametrize("quantity", ["hold_samples", "excitatory_lag_steps"])
def test_refractory_hold_and_synaptic_lag_equal_brian2s(brainsim_runs, quantity):
    assert REFERENCE[quantity] is not None, "Brian2's value differed between seeds"
    assert all(run[quantity] == REFERENCE[quantity] for run in brainsim_runs), [run[quantity] for run in brainsim_runs]


def tolerance(quantity: str) -> float:
    """Four standard errors of the difference of means, from Brian2's spread over its seeds."""
    return 4 * REFERENCE[quantity]["std"] * math.sqrt(1 / len(SEEDS) + 1 / len(REFERENCE["runs"]))


@pytest.mark.parametrize("quantity", ["rate_exc_hz", "rate_inh_hz", "cv_isi"])
def test_cuba_rates_and_irregularity_match_brian2(brainsim_runs, quantity):
    ours = np.mean([run[quantity] for run in brainsim_runs])
    reference = REFERENCE[quantity]["mean"]
    assert abs(ours - reference) < tolerance(quantity), (
        f"{quantity}: brainsim {ours:.4f} vs Brian2 {reference:.4f} (tolerance {tolerance(quantity):.4f})"
    )


@pytest.mark.parametrize(
    "change, quantity, value",
    [
        (("t_ref = 5 ms", "t_ref = 4 ms"), "hold_samples", [40]),
        (("t_ref = 5 ms", "t_ref = 5.1 ms"), "hold_samples", [51]),
        (("delay = 0.1 ms", "delay = 0.2 ms"), "excitatory_lag_steps", 3),
    ],
)
def test_the_exact_statistics_see_a_refractory_period_or_delay_one_step_off(change, quantity, value):
    """The comparison above would fail for these models: the statistics are not blind to them."""
    mutated = measure(CUBA.replace(*change).replace("duration = 1 s", "duration = 0.3 s"), SEEDS[0])
    assert mutated[quantity] == value != REFERENCE[quantity]
