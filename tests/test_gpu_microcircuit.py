"""benchmarks/gpu_microcircuit.py, the GPU check of issue 12 (item 6), without a GPU: its one
draw shared by every simulation, its spike agreement, and (slow) the whole script on the
CPU, where float64 on jax must give numpy's spikes bit for bit."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import brainsim  # noqa: E402
from benchmarks import gpu_microcircuit  # noqa: E402
from brainsim import microcircuit  # noqa: E402


def tiny(seed: int = 1) -> brainsim.Model:
    model = brainsim.load(gpu_microcircuit.MODEL).with_values(microcircuit.values(0.02, 0.02) | {"seed": seed})
    return brainsim.Model(dataclasses.replace(model.network, state_records=(), synapse_records=()))


def test_one_draw_builds_a_network_once_for_every_simulation_and_only_within():
    model = tiny()
    with gpu_microcircuit.one_draw():
        first, second = model.compile(backend="numpy"), model.compile(backend="numpy", dtype="float32")
    assert first.host is second.host
    assert model.compile(backend="numpy").host is not first.host


def test_spike_agreement_counts_the_spikes_both_runs_have():
    a = tiny(1).compile(backend="numpy").run(0.05)
    rows = gpu_microcircuit.spike_agreement(a, a)
    assert [name for name, *_ in rows] == list(a.spikes)
    assert all(ours == theirs == both for _, ours, theirs, both in rows)
    assert sum(ours for _, ours, _, _ in rows) > 0
    other = tiny(2).compile(backend="numpy").run(0.05)
    rows = gpu_microcircuit.spike_agreement(a, other)
    assert all(both <= min(ours, theirs) for _, ours, theirs, both in rows)
    assert sum(both for *_, both in rows) < sum(max(ours, theirs) for _, ours, theirs, _ in rows)


@pytest.mark.slow
def test_the_script_on_the_cpu_reports_float64_identical_and_a_real_time_factor(tmp_path):
    out = tmp_path / "gpu.txt"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gpu_microcircuit.py"), "--scale", "0.02",
                    "--compared", "0.02", "--timed", "0.02", "--variants", "float64", "float32", "--out", str(out)],
                   check=True, capture_output=True, text=True)
    text = out.read_text()
    assert "float64 against numpy float64 on the CPU, first 20 ms: bit-identical spikes" in text
    assert "float32 against numpy float64 on the CPU, first 20 ms:" in text
    assert text.count("real-time factor") == 2


@pytest.mark.parametrize("arguments, message", [
    (["--scale", "2"], "scale_N is a fraction in (0, 1], not 2.0"),
    (["--compared", "0"], "model seconds are a positive number, not 0"),
    (["--timed", "-1"], "model seconds are a positive number, not -1"),
])
def test_the_script_refuses_bad_arguments_with_a_message_and_no_traceback(tmp_path, arguments, message):
    child = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gpu_microcircuit.py"), *arguments,
                            "--out", str(tmp_path / "gpu.txt")], capture_output=True, text=True)
    assert child.returncode == 2
    assert message in child.stderr and "Traceback" not in child.stderr
    assert not (tmp_path / "gpu.txt").exists()


def test_each_variant_the_backend_refuses_is_reported_and_the_script_goes_on(tmp_path):
    out = tmp_path / "gpu.txt"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gpu_microcircuit.py"), "--scale", "0.02",
                    "--compared", "0.002", "--timed", "0.002", "--variants", "float16", "float64-bogus",
                    "--out", str(out)], check=True, capture_output=True, text=True)
    text = out.read_text()
    assert "float16: refused:" in text and "float64-bogus: refused: " in text and "unknown summation 'bogus'" in text
    assert "Traceback" not in text
