"""Ctrl-C during a run (issue 11, item 5), in Python: the run stops within a second and raises
`brainsim.Interrupted` (a KeyboardInterrupt) carrying the steps done, bit for bit the first steps
of the full run; the simulation can go on from there. SIGINT is sent to this process from a
timer thread, as a terminal would send it."""

import os
import signal
import threading
import time

import h5py
import pytest

import brainsim
from brainsim.export.stream import stream_to_file
from brainsim.interrupts import Deferral, deferred
from tests.backends.identity import assert_identical
from tiny_lif import tiny_model

LONG = tiny_model("""\
region R { a = LIF[40] }
stimulus R.a { I_ext += 2 nA }
record spikes of R.a
record v of R.a[0:3] every 0.5 ms
""", duration="1000 s")
CHUNK = 1.0  # s: the default chunk, 10 000 steps of 0.1 ms


def _interrupt(when) -> list[float]:
    """Send SIGINT to this process once `when()` is true (polled); the time it was sent, in a list."""
    sent = []

    def send():
        while not when():
            time.sleep(0.01)
        sent.append(time.perf_counter())
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=send, daemon=True).start()
    return sent


def _after(seconds: float):
    deadline = time.perf_counter() + seconds
    return lambda: time.perf_counter() > deadline


@pytest.mark.parametrize("backend", ["numpy", "jax"])
def test_ctrl_c_during_a_run_keeps_a_prefix_of_the_full_run(backend):
    simulation = brainsim.loads(LONG).compile(backend=backend)
    warm = simulation.run(CHUNK)  # on jax: compiled, so that the signal comes while it runs
    sent = _interrupt(_after(0.5))
    with pytest.raises(brainsim.Interrupted) as stop:
        simulation.run()
    latency = time.perf_counter() - sent[0]
    assert latency < 1.0, f"stopped {latency:.2f} s after Ctrl-C"
    assert isinstance(stop.value, KeyboardInterrupt) and str(stop.value).startswith("interrupted at t = ")
    kept = stop.value.results
    assert kept.n_steps > 0 and kept.first_step == warm.n_steps
    assert simulation.steps_done == warm.n_steps + kept.n_steps and stop.value.reached == pytest.approx(simulation.time)
    reference = brainsim.loads(LONG).compile(backend=backend)  # from t = 0, stopping where the interrupted run did
    reference.run(CHUNK)
    assert_identical(kept, reference.run(kept.duration))
    # The handler is gone, and the simulation goes on from where it stopped.
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert_identical(simulation.run(0.01), reference.run(0.01))


def test_ctrl_c_while_jax_compiles_stops_without_waiting_for_the_compile():
    simulation = brainsim.loads(LONG.replace("LIF[40]", "LIF[41]")).compile(backend="jax")  # a program not cached
    sent = _interrupt(lambda: any(t.name == "brainsim compile" for t in threading.enumerate()))
    with pytest.raises(brainsim.Interrupted) as stop:
        simulation.run()
    latency = time.perf_counter() - sent[0]
    assert latency < 1.0, f"stopped {latency:.2f} s after Ctrl-C"
    assert stop.value.results.n_steps == 0 and simulation.steps_done == 0
    assert stop.value.results.final_state["R.a"]["v"].tolist() == [-0.07] * 41
    assert simulation.run(0.01).n_steps == 100


@pytest.mark.parametrize("backend", ["numpy", "jax"])
def test_ctrl_c_during_a_batch_keeps_the_first_steps_of_its_members(backend):
    simulation = brainsim.loads(LONG).compile(backend=backend)
    seeds = [{"seed": 1}, {"seed": 2}]
    simulation.run_batch(seeds, CHUNK)  # on jax: the vmapped chunk compiled, so that the signal comes while it runs
    sent = _interrupt(_after(0.5))
    with pytest.raises(brainsim.Interrupted) as stop:
        simulation.run_batch(seeds)
    latency = time.perf_counter() - sent[0]
    assert latency < 1.0, f"stopped {latency:.2f} s after Ctrl-C"
    kept = stop.value.results
    # numpy runs the members one after the other (Ctrl-C came during the first), jax together.
    assert len(kept) == (1 if backend == "numpy" else 2)
    assert all(part.n_steps == kept[0].n_steps > 0 for part in kept)
    assert stop.value.reached == pytest.approx(kept[0].duration)
    for values, part in zip(seeds, kept):
        alone = brainsim.loads(LONG).compile(backend=backend)
        alone.set(values)
        assert_identical(part, alone.run(part.duration))
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_ctrl_c_while_streaming_to_a_file_leaves_the_steps_done_there(tmp_path):
    path = tmp_path / "run.h5"
    simulation = brainsim.loads(LONG).compile(chunk_steps=2000)
    _interrupt(_after(0.5))
    with pytest.raises(brainsim.Interrupted) as stop:
        stream_to_file(simulation, path)
    kept = stop.value.results
    assert kept.n_steps == simulation.steps_done > 0
    with h5py.File(path, "r") as file:
        assert not file.attrs["complete"] and int(file.attrs["steps"]) == kept.n_steps
        assert file["traces/R.a/v/values"].shape == (kept.n_steps // 5, 3)
        assert file["final_state/R.a/v"].shape == (40,)


def test_a_second_ctrl_c_stops_at_once():
    deferral = Deferral()
    deferral._handle(signal.SIGINT, None)
    assert deferral.requested
    with pytest.raises(KeyboardInterrupt):
        deferral._handle(signal.SIGINT, None)


def test_the_handler_is_installed_only_in_the_main_thread_over_python_s_own():
    with deferred() as outer:
        assert signal.getsignal(signal.SIGINT) == outer._handle
        with deferred() as inner:
            assert inner is outer
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    seen = []
    worker = threading.Thread(target=lambda: seen.append(deferred().__enter__()))
    worker.start()
    worker.join()
    assert seen == [None]

    def own(signum, frame):
        pass

    previous = signal.signal(signal.SIGINT, own)
    try:
        with deferred() as deferral:
            assert deferral is None and signal.getsignal(signal.SIGINT) is own
    finally:
        signal.signal(signal.SIGINT, previous)
