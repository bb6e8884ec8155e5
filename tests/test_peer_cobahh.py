"""COBAHH against a peer simulator: brainsim's rates and irregularity match Brian2's.

The reference numbers come from Brian2 2.11 (numpy target, exponential Euler)
running the same model over ten seeds (benchmarks/peers/brian2_cobahh.py wrote
tests/data/brian2_cobahh.json). Random numbers differ between simulators, so
the comparison is statistical: per population, the mean rate and the mean CV of
the inter-spike intervals over two brainsim seeds must lie within four standard
errors of the difference of the two means, with the spread taken from Brian2's
ten seeds alone: a fixed tolerance, which brainsim's own spread cannot widen.

Each brainsim run is 1 s of 4000 Hodgkin-Huxley neurons on the numpy backend;
tests/test_models.py checks that the jax backend gives the same bits.
"""

import json
import math
from pathlib import Path

import numpy as np
import pytest

import brainsim

ROOT = Path(__file__).parent.parent
REFERENCE = json.loads((ROOT / "tests" / "data" / "brian2_cobahh.json").read_text())
SEEDS = (1, 2)
POPULATIONS = {"exc": "Cortex.exc", "inh": "Cortex.inh"}


@pytest.fixture(scope="module")
def brainsim_runs():
    text = (ROOT / "models" / "cobahh.brain").read_text()
    runs = []
    for seed in SEEDS:
        model = brainsim.loads(text.replace("seed = 42", f"seed = {seed}"), filename="cobahh.brain")
        results = model.compile(backend="numpy").run()
        assert results.duration == REFERENCE["duration_s"]
        rows = {row.name: row for row in results.statistics()}
        run = {}
        for short, name in POPULATIONS.items():
            run[f"rate_{short}_hz"] = results.spike_counts[name].mean() / results.duration
            run[f"cv_isi_{short}"] = rows[name].cv_isi
        runs.append(run)
    return runs


@pytest.mark.parametrize("quantity", ["rate_exc_hz", "rate_inh_hz", "cv_isi_exc", "cv_isi_inh"])
def test_cobahh_matches_brian2(brainsim_runs, quantity):
    ours = np.array([run[quantity] for run in brainsim_runs])
    reference = REFERENCE[quantity]
    n_reference = len(REFERENCE["runs"])
    standard_error = reference["std"] * math.sqrt(1 / len(ours) + 1 / n_reference)
    assert abs(ours.mean() - reference["mean"]) < 4 * standard_error, (
        f"{quantity}: brainsim {ours.mean():.4f} vs Brian2 {reference['mean']:.4f} "
        f"(tolerance {4 * standard_error:.4f})"
    )
