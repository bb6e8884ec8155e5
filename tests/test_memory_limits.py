"""Memory and size limits (issue 11, items 3 and 9): a network is estimated before it is
built and refused with the estimate by part and what to change; a run's recordings are
refused before its first step; a run has at most 2^31 - 1 steps; `--max-memory` on the
command line (exit status 3) and `max_memory=` in Python; hostile sizes end in a clear
error, never a MemoryError, a hang or a traceback."""

import dataclasses
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

import brainsim
from brainsim import ir, microcircuit
from brainsim.backends.estimate import Expected, estimate, expected_synapses
from brainsim.cli import main
from brainsim.errors import InvalidValueError, ResourceError
from brainsim.resources import MAX_STEPS, device_limit, parse_memory
from brainsim.validate import MAX_POPULATIONS, validate
from tiny_lif import tiny_model

MODELS = Path(__file__).parent.parent / "models"
SYNAPSE = "synapse S { parameters { w = 1 mV } on pre { v += w } }\n"
TWO_STATES = "synapse S2 { state { w = 1 mV  u = 0.5 } on pre { v += w * u } }\n"
PLASTIC = """\
synapse P {
    parameters { tau_plus = 20 ms  A = 0.01  w_max = 1 mV }
    state { w = 0.5 mV  a_pre = 0 }
    bounds { w = [0 mV, w_max] }
    equations { da_pre/dt = -a_pre / tau_plus }
    on pre { v += w  a_pre += 1 }
    on post { w += A * w_max * a_pre }
}
"""


def two_populations(n: int, connect: str, duration: str = "20 ms", extra: str = "") -> brainsim.Model:
    body = SYNAPSE + TWO_STATES + PLASTIC + f"region R {{ a = LIF[{n}]  b = LIF[{n}] }}\n{connect}\n{extra}"
    return brainsim.loads(tiny_model(body, duration=duration))


@pytest.fixture
def never_built(monkeypatch):
    """Fail the test if a network is built: a refusal must come before the synapses are drawn."""
    def build(network):
        raise AssertionError("the network was built before it was refused")

    monkeypatch.setattr("brainsim.backends.simulation.build", build)
    monkeypatch.setattr("brainsim.describe.build", build)


def peak_of_compiling(model: brainsim.Model) -> int:
    """The peak of Python-tracked memory while `model` compiles (numpy's arrays included)."""
    tracemalloc.start()
    try:
        model.compile()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# --------------------------------------------------------------------------- the estimate


@pytest.mark.parametrize("connect", [
    "connect R.a -> R.b with S { p = 0.1  delay = 1 ms }",
    "connect R.a -> R.b with S { rule = all_to_all  delay = 1 ms }",
    "connect R.a -> R.b with S { indegree = 100  delay = uniform(1 ms, 3 ms) }",
    "connect R.a -> R.b with S { rule = all_to_all  condition = i < j  delay = 1 ms }",
    "connect R.a -> R.b with S2 { p = 0.1  delay = 1 ms }",
    "connect R.a -> R.b with P { p = 0.1  delay = 1 ms }",
])
def test_the_estimate_bounds_the_measured_peak_of_building_within_a_factor_of_two(connect):
    model = two_populations(1500, connect)
    peak = peak_of_compiling(model)
    assert peak <= estimate(model.network).network <= 2 * peak


@pytest.mark.parametrize("population", ["LIF[200000]", "HodgkinHuxley[200000]", "PoissonSource[200000] { rate = 5 Hz }"])
def test_the_estimate_of_neurons_bounds_the_measured_peak(population):
    model = brainsim.loads(tiny_model(f"import hodgkin_huxley from std\nregion R {{ a = {population} }}"))
    peak = peak_of_compiling(model)
    assert peak <= estimate(model.network).network <= 2.5 * peak


def test_the_estimate_bounds_the_microcircuits_peak_within_one_and_a_half_times():
    """63 projections drawn one after the other (scale_N = 1, so every row pointer is there;
    scale_K = 0.01, 4.5 million synapses): the peak holds one projection's draw at a time."""
    model = brainsim.load(MODELS / "microcircuit.brain").with_values(microcircuit.values(1.0, 0.01))
    peak = peak_of_compiling(model)
    assert peak <= estimate(model.network).network <= 1.5 * peak


def test_synapse_counts_are_estimated_from_the_rule_before_drawing():
    def count(connect):
        return expected_synapses(two_populations(2000, connect).network, 0)

    assert count("connect R.a -> R.b with S { rule = all_to_all }").count == 4_000_000
    assert count("connect R.a -> R.b with S { indegree = 30 }").count == 60_000
    assert count("connect R.a -> R.b with S { outdegree = 7 }").count == 14_000
    assert count("connect R.a -> R.b with S { p = 0.25 }") == Expected(1_000_000, "expected")
    # A condition: the share a sample of pairs keeps, against the drawn count.
    sampled = two_populations(2000, "connect R.a -> R.b with S { rule = all_to_all  condition = i < j }")
    drawn = sampled.compile().host.projections[0].n_synapses
    assert expected_synapses(sampled.network, 0).how == "estimated from a sample"
    assert abs(expected_synapses(sampled.network, 0).count - drawn) < 0.05 * drawn


def test_the_ring_buffer_estimate_is_what_the_backend_holds():
    for delay in ("1 ms", "100 ms", "uniform(1 ms, 30 ms)"):
        model = two_populations(100, f"connect R.a -> R.b with S {{ rule = all_to_all  delay = {delay} }}")
        assert estimate(model.network).memory.buffers == model.compile().memory().buffers
    # R.a and R.b are one group (one neuron model): (100 steps + 1) slots of its 200 neurons and a
    # trash column, padded to 208 values (whole cache lines).
    assert estimate(model.network).memory.buffers == 301 * 208 * 8


# --------------------------------------------------------------------------- hostile sizes


def test_all_to_all_between_two_populations_of_10_5_neurons_is_refused_before_drawing(never_built):
    model = two_populations(100_000, "connect R.a -> R.b with S { rule = all_to_all  delay = 1 ms }")
    with pytest.raises(ResourceError) as caught:
        model.compile(max_memory="64GB")
    message = str(caught.value)
    assert "720 GB" in message and "10,000,000,000 synapses" in message and "more than the limit of 64 GB" in message
    assert "fixed indegree instead of all_to_all" in message and "R.a->R.b alone has 10,000,000,000" in message


def test_a_population_of_2_31_minus_1_neurons_is_refused_with_its_state(never_built):
    model = brainsim.loads(tiny_model("region R { p = LIF[2147483647] }"))
    with pytest.raises(ResourceError) as caught:
        model.compile(max_memory="64GB")
    assert "neuron state        137 GB" in str(caught.value) and "use fewer neurons" in str(caught.value)


def test_a_population_of_10_12_neurons_is_a_value_error():
    with pytest.raises(InvalidValueError, match="a population needs 1 to 2147483647 neurons"):
        brainsim.loads(tiny_model("region R { p = LIF[1000000000000] }"))


def test_a_delay_of_10_6_seconds_is_refused_for_its_ring_buffer(never_built):
    model = two_populations(10, "connect R.a -> R.b with S { rule = all_to_all  delay = 1000000 s }")
    with pytest.raises(ResourceError) as caught:
        model.compile(max_memory="64GB")
    # 10^10 steps + 1 slots of 20 neurons and a trash column, padded to 24 values of 8 bytes
    assert "ring buffers       1.92 TB" in str(caught.value) and "shorter delays or a larger dt" in str(caught.value)


def test_a_sinusoid_without_stop_over_a_long_duration_is_refused_for_its_table(never_built):
    sinusoid = "stimulus R { I_ext += sinusoid(amplitude = 1 nA, frequency = 10 Hz) }"
    model = brainsim.loads(tiny_model(f"region R {{ p = LIF[1] }}\n{sinusoid}", duration="100000 s"))
    with pytest.raises(ResourceError, match="give each sinusoid a `stop`"):
        model.compile(max_memory="1GB")


def test_a_duration_of_10_9_seconds_is_refused_with_its_step_count():
    simulation = brainsim.loads(tiny_model("region R { p = LIF[10] }", duration="1000000000 s")).compile()
    for start in (simulation.run, simulation.stream):
        with pytest.raises(ResourceError) as caught:
            start()
        assert "10,000,000,000,000 steps" in str(caught.value) and "2,147,483,647" in str(caught.value)
        assert "each run continues where the last ended" in str(caught.value)
    assert simulation.steps_done == 0
    assert simulation.host.steps(MAX_STEPS * simulation.host.dt) == MAX_STEPS  # the bound itself is a valid run


def test_more_populations_than_a_network_may_have_is_a_value_error():
    network = brainsim.loads(tiny_model("region R { p = LIF[1] }")).network
    one = network.populations[0]
    many = tuple(dataclasses.replace(one, name=f"R.p{k}") for k in range(MAX_POPULATIONS + 1))
    regions = (dataclasses.replace(network.regions[0], populations=tuple(p.name for p in many)),)
    with pytest.raises(InvalidValueError, match="at most 65,536 populations, but this one has 65,537"):
        validate(dataclasses.replace(network, populations=many, regions=regions))


# --------------------------------------------------------------------------- recordings and limits


RECORDED = tiny_model("region R { p = LIF[1000] }\nstimulus R { I_ext += 2 nA }\nrecord v of R.p\nrecord spikes of R",
                      duration="100 ms")


def test_recordings_over_the_limit_are_refused_before_the_first_step():
    simulation = brainsim.loads(RECORDED).compile(max_memory="10MB", chunk_steps=100)
    with pytest.raises(ResourceError) as caught:
        simulation.run()
    message = str(caught.value)
    # 1000 samples of 1000 float64 values and their times, twice while the chunks are joined.
    assert "recording this run of 1,000 steps would take about 16 MB" in message
    assert "more than the limit of 10 MB" in message and "--stream" in message
    assert simulation.steps_done == 0
    assert len(list(simulation.stream())) == 10  # streamed, the recordings are bounded by a chunk


def test_a_batch_is_refused_for_the_recordings_of_all_its_members():
    simulation = brainsim.loads(RECORDED).compile(max_memory="20MB", chunk_steps=100)
    assert simulation.run().n_steps == 1000  # one run's 16 MB fit
    simulation.reset()
    with pytest.raises(ResourceError, match="about 32 MB"):
        simulation.run_batch([{"seed": 1}, {"seed": 2}])


@pytest.mark.parametrize("backend", ["numpy", "jax"])
def test_both_backends_refuse_before_building(backend, never_built):
    with pytest.raises(ResourceError, match="more than the limit of 1 kB"):
        brainsim.loads(RECORDED).compile(backend=backend, max_memory="1kB")


def test_recordings_are_held_to_the_memory_available_without_a_limit(monkeypatch):
    simulation = brainsim.loads(RECORDED).compile()
    monkeypatch.setattr("brainsim.resources.available_memory", lambda: 4_000_000)
    with pytest.raises(ResourceError, match="more than the 4 MB of memory available"):
        simulation.run()
    monkeypatch.setattr("brainsim.resources.available_memory", lambda: 40_000_000)
    assert simulation.run().traces[("R.p", "v")].values.shape == (1000, 1000)


class FakeGpu:
    """A jax device as `brainsim.resources.device_limit` reads it, with `free` bytes left."""

    device_kind = "Fake GPU"
    platform = "gpu"

    def __init__(self, number: int, free: int):
        self.number, self.free = number, free

    def memory_stats(self):
        return {"bytes_limit": 10**9, "bytes_in_use": 10**9 - self.free}

    def __str__(self):
        return f"cuda:{self.number}"


def test_the_fullest_device_limits_the_network_and_a_cpu_device_none():
    limit = device_limit([FakeGpu(0, 5 * 10**8), FakeGpu(1, 2 * 10**8)])
    assert (limit.bytes, limit.user) == (2 * 10**8, False)
    assert limit.source == "the 200 MB of memory free on cuda:1 (Fake GPU)"
    import jax

    assert device_limit(jax.devices("cpu")) is None


def test_jax_refuses_a_network_its_device_cannot_hold_unless_the_user_sets_a_limit(monkeypatch, never_built):
    monkeypatch.setattr("brainsim.backends.sharding.OneDevice.members", lambda self: (FakeGpu(0, 1000),))
    model = brainsim.loads(RECORDED)
    with pytest.raises(ResourceError, match=r"more than the 1 kB of memory free on cuda:0 \(Fake GPU\)"):
        model.compile(backend="jax")
    # Past the refusal, to the build `never_built` stops: numpy's arrays are in the host's memory,
    # not the device's, and a user's limit replaces the device's figure.
    for options in ({"backend": "numpy"}, {"backend": "jax", "max_memory": "1GB"}):
        with pytest.raises(AssertionError, match="built before it was refused"):
            model.compile(**options)


def test_a_limit_that_fits_changes_nothing():
    model = brainsim.loads(RECORDED)
    limited = model.compile(max_memory="1GB").run()
    assert np.array_equal(limited.traces[("R.p", "v")].values, model.compile().run().traces[("R.p", "v")].values)


@pytest.mark.parametrize("text, size", [("4GB", 4 * 10**9), ("512 MB", 512 * 10**6), ("1.5GiB", 3 * 2**29),
                                        ("2kb", 2000), ("1e9", 10**9), (4096, 4096), ("64 TiB", 64 * 2**40)])
def test_memory_sizes_are_read_in_decimal_and_binary_units(text, size):
    assert parse_memory(text) == size


@pytest.mark.parametrize("text", ["", "4 XB", "-1GB", "0", "many", True, 0.5, "1e400"])
def test_a_memory_size_that_is_none_is_a_value_error(text):
    with pytest.raises(InvalidValueError, match="memory limit"):
        parse_memory(text)


# --------------------------------------------------------------------------- the command line


@pytest.fixture
def recorded(tmp_path):
    path = tmp_path / "recorded.brain"
    path.write_text(RECORDED)
    return path


@pytest.mark.parametrize("command", [["run"], ["check"], ["plot", "-o", "never.png"]])
def test_max_memory_on_the_command_line_refuses_with_exit_status_3(recorded, command, capsys, tmp_path):
    assert main([command[0], str(recorded), "--max-memory", "1kB", "--quiet", *command[1:]]) == 3
    err = capsys.readouterr().err
    assert err.startswith("resource error: building this network would take about") and "limit of 1 kB" in err
    assert "Traceback" not in err
    assert not (tmp_path / "never.png").exists()


def test_a_bad_max_memory_is_a_usage_error(recorded, capsys):
    with pytest.raises(SystemExit) as caught:
        main(["run", str(recorded), "--max-memory", "lots"])
    assert caught.value.code == 2
    assert "a memory limit is a size such as 4GB" in capsys.readouterr().err


def test_info_describes_a_network_too_large_to_build_from_its_estimate(tmp_path, capsys, never_built):
    path = tmp_path / "huge.brain"
    path.write_text(tiny_model(SYNAPSE + "region R { a = LIF[100000]  b = LIF[100000] }\n"
                               "connect R.a -> R.b with S { rule = all_to_all  delay = 1 ms }"))
    assert main(["info", str(path), "--max-memory", "64GB"]) == 0
    out = capsys.readouterr().out
    assert "R.a->R.b: S, all to all, 10,000,000,000 synapses (exact)" in out
    assert "estimated from the rules" in out and "synapses            720 GB" in out


def test_info_describes_a_network_of_many_synapses_from_its_rules_unless_asked_to_draw(tmp_path, capsys, monkeypatch):
    """The full microcircuit's 0.3e9 synapses take minutes to draw: `info` does not draw more
    than DRAW_AT_MOST synapses (here lowered to 100) unless given --draw."""
    monkeypatch.setattr("brainsim.describe.DRAW_AT_MOST", 100)
    path = tmp_path / "many.brain"
    path.write_text(tiny_model(SYNAPSE + "region R { a = LIF[20]  b = LIF[20] }\n"
                               "connect R.a -> R.b with S { rule = all_to_all  delay = 1 ms }"))
    with monkeypatch.context() as never:
        never.setattr("brainsim.describe.build", lambda network: pytest.fail("info drew the synapses"))
        assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "R.a->R.b: S, all to all, 400 synapses (exact)" in out
    assert "not drawn: more than 100 synapses, which `brainsim info --draw` draws" in out
    assert main(["info", str(path), "--draw"]) == 0
    out = capsys.readouterr().out
    assert "counts exact: drawn from the seed" in out and "not drawn" not in out


@pytest.mark.parametrize("body, duration, expected", [
    ("region R { p = LIF[2147483647] }", "20 ms", "neuron state"),
    (SYNAPSE + "region R { a = LIF[10]  b = LIF[10] }\nconnect R.a -> R.b with S { rule = all_to_all  delay = 1000000 s }",
     "20 ms", "ring buffers"),
    ("region R { p = LIF[10] }", "1000000000 s", "10,000,000,000,000 steps"),
])
def test_hostile_sizes_exit_3_with_one_message(tmp_path, capsys, body, duration, expected):
    path = tmp_path / "hostile.brain"
    path.write_text(tiny_model(body, duration=duration))
    assert main(["run", str(path), "--quiet", "--max-memory", "64GB"]) == 3
    err = capsys.readouterr().err
    assert err.startswith("resource error:") and expected in err and "hint:" in err


def test_a_duration_too_large_for_a_float_is_a_usage_error(recorded, capsys):
    with pytest.raises(SystemExit) as caught:
        main(["run", str(recorded), "--duration", "1e400s"])
    assert caught.value.code == 2
    assert "'1e400s' is too large to be a duration" in capsys.readouterr().err
