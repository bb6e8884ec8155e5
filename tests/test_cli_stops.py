"""Ctrl-C on the command line (issue 11, item 5): `brainsim` stops with one line, no traceback and
status 130, wherever the signal arrives (importing, parsing, compiling, running), and `run`
writes --output with what was recorded. Each test runs the console script in a subprocess with
standard error on a pseudo-terminal, so that the progress bar shows when the run has begun."""

import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import time

import numpy as np
import pytest

from brainsim.cli import EXIT_INTERRUPTED, INTERRUPTED_LINE
from tiny_lif import tiny_model

LONG = tiny_model("""\
region R { a = LIF[40] }
stimulus R.a { I_ext += 2 nA }
record spikes of R.a
record v of R.a[0:3]
""", duration="1000 s")
CONSOLE = "from brainsim_console import console; console()"  # what the installed `brainsim` script runs


class Brainsim:
    """`brainsim ARGS` started in `folder`, its standard error a pseudo-terminal read as it comes."""

    def __init__(self, folder, *arguments: str):
        self._terminal, secondary = pty.openpty()
        # 24 x 120: a new pseudo-terminal is 0 x 0, where tqdm draws a bar of no width.
        fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))
        self.process = subprocess.Popen([sys.executable, "-c", CONSOLE, *arguments], cwd=folder, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.PIPE, stderr=secondary, text=True)
        os.close(secondary)
        self.err = ""

    def wait_for(self, text: str, timeout: float = 120.0) -> None:
        """Read standard error until `text` appears in it."""
        deadline = time.monotonic() + timeout
        while text not in self.err:
            assert time.monotonic() < deadline, f"no {text!r} on standard error: {self.err!r}"
            self._read(0.05)

    def wait(self, seconds: float) -> None:
        """Let it run for `seconds`, reading what it writes (a full terminal would block it)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self._read(0.05)

    def interrupt(self) -> tuple[int, str, float]:
        """Send SIGINT; (the status, standard output, seconds until it ended)."""
        sent = time.monotonic()
        self.process.send_signal(signal.SIGINT)
        while self.process.poll() is None:
            assert time.monotonic() < sent + 120, f"still running 120 s after Ctrl-C: {self.err[-500:]!r}"
            self._read(0.05)
        ended = time.monotonic() - sent
        out = self.process.stdout.read()
        self.process.stdout.close()
        while self._read(0.2):
            pass
        os.close(self._terminal)
        return self.process.returncode, out, ended

    def _read(self, wait: float) -> bool:
        if not select.select([self._terminal], [], [], wait)[0]:
            return False
        try:
            data = os.read(self._terminal, 65536)
        except OSError:  # the other end closed
            return False
        self.err += data.decode(errors="replace")
        return bool(data)

    def lines(self) -> list[str]:
        """The lines of standard error that are neither the progress bar's nor notes of the run's report."""
        return [line for line in self.err.replace("\r", "\n").splitlines()
                if line.strip() and "simulating" not in line and not line.startswith("note: ")]


@pytest.fixture
def model(tmp_path):
    path = tmp_path / "long.brain"
    path.write_text(LONG)
    return path


@pytest.mark.parametrize("backend, running", [("numpy", 1.0), ("jax", 0.0), ("jax", 4.0)],
                         ids=["numpy running", "jax compiling", "jax running"])
def test_ctrl_c_during_a_run_writes_what_was_recorded_and_exits_130(model, tmp_path, backend, running):
    output = tmp_path / "kept.npz"
    command = Brainsim(tmp_path, "run", str(model), "--backend", backend, "--output", str(output))
    command.wait_for("simulating")  # the bar: the run has begun (on jax, its compile with it)
    command.wait(running)
    status, out, ended = command.interrupt()
    assert status == EXIT_INTERRUPTED, (out, command.err)
    assert "Traceback" not in command.err + out
    lines = command.lines()
    assert len(lines) == 1 and lines[0].startswith("interrupted at t = ") and lines[0].endswith(
        "of 1000 s; kept what was recorded"), lines
    assert ended < 5.0, f"ended {ended:.1f} s after Ctrl-C"  # (a second is the aim; this machine is shared)
    assert f"results written to {output}" in out and "ms of 1e+06 ms simulated" in out
    with np.load(output) as saved:
        steps = saved["traces/R.a/v/values"].shape[0]
        assert f"simulated in {steps} steps" in out
        if backend == "numpy":
            assert steps > 0
        if not running:  # the signal came as the bar appeared: the compile had just begun
            assert steps == 0
        assert saved["spike_counts/R.a"].shape == (40,)


@pytest.mark.parametrize("delay", [0.3, 3.0], ids=["importing", "parsing"])
def test_ctrl_c_before_the_run_prints_one_line_and_exits_130(tmp_path, delay):
    # About 1.5 MB of model: its parsing takes several seconds, so that 3 s in, it is being read
    # (or, on a slow day, brainsim is still being imported: the same line either way).
    big = tmp_path / "big.brain"
    big.write_text(tiny_model("".join(f"region R{k} {{ p = LIF[1] }}\n" for k in range(50_000))))
    output = tmp_path / "never.npz"
    command = Brainsim(tmp_path, "run", str(big), "--output", str(output))
    command.wait(delay)
    status, out, ended = command.interrupt()
    assert status == EXIT_INTERRUPTED, (out, command.err)
    assert command.lines() == [INTERRUPTED_LINE] and out == ""
    assert ended < 5.0 and not output.exists()
