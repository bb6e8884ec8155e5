"""CUBA against a peer simulator: brainsim's rates and irregularity match Brian2's.

The reference numbers come from Brian2 2.11 running the same model over ten
seeds (benchmarks/peers/brian2_cuba.py wrote tests/data/brian2_cuba.json).
Random numbers differ between simulators, so the comparison is statistical:
the mean over a few brainsim seeds must lie within four standard errors of
Brian2's mean.
"""

import json
import math
from pathlib import Path

import numpy as np
import pytest

import brainsim

ROOT = Path(__file__).parent.parent
REFERENCE = json.loads((ROOT / "tests" / "data" / "brian2_cuba.json").read_text())
SEEDS = (1, 2, 3)


@pytest.fixture(scope="module")
def brainsim_runs():
    text = (ROOT / "models" / "cuba.brain").read_text()
    runs = []
    for seed in SEEDS:
        model = brainsim.loads(text.replace("seed = 42", f"seed = {seed}"), filename="cuba.brain")
        results = model.compile(backend="numpy").run()
        rows = {row.name: row for row in results.statistics()}
        runs.append({
            "rate_exc_hz": results.spike_counts["Cortex.exc"].mean() / results.duration,
            "rate_inh_hz": results.spike_counts["Cortex.inh"].mean() / results.duration,
            "cv_isi": rows["Cortex"].cv_isi,
        })
    return runs


@pytest.mark.parametrize("quantity", ["rate_exc_hz", "rate_inh_hz", "cv_isi"])
def test_cuba_matches_brian2(brainsim_runs, quantity):
    ours = np.array([run[quantity] for run in brainsim_runs])
    reference = REFERENCE[quantity]
    n_reference = len(REFERENCE["runs"])
    spread = max(reference["std"], ours.std(ddof=1))
    standard_error = spread * math.sqrt(1 / len(ours) + 1 / n_reference)
    assert abs(ours.mean() - reference["mean"]) < 4 * standard_error, (
        f"{quantity}: brainsim {ours.mean():.4f} vs Brian2 {reference['mean']:.4f} "
        f"(tolerance {4 * standard_error:.4f})"
    )
