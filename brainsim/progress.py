"""The progress bar of a run: simulated time, wall time and speed relative to real time (tqdm).

    simulating:  40%|████      | 0.4/1 s simulated [00:02<00:03, 2 chunks, 0.18x real time]

A run advances its bar once per chunk (`Simulation.chunk_steps` steps), never per
step: the jax backend cannot report from inside a compiled chunk, and the numpy
loop stays free of per-step Python work. Speed is simulated seconds per wall
second since the bar appeared, so the first chunk's compile time counts.

Where the bar goes is the caller's `progress`: True (standard error), False
(nowhere), None (standard error when it is a terminal, else nowhere: a pipe, a
log file or pytest's capture gets nothing), or a text stream to write it to.
When off, no tqdm object exists and nothing is written.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO, Union

from tqdm import tqdm

from brainsim.errors import InvalidValueError

Progress = Union[bool, None, TextIO]

_FORMAT = "{desc}: {percentage:3.0f}%|{bar}| {n:.4g}/{total:.4g} s simulated [{elapsed}<{remaining}{postfix}]"


class _Bar(tqdm):
    """tqdm without its monitor thread: the bar moves only when a chunk ends, so there is
    nothing for the thread to wake up for."""

    monitor_interval = 0


class RunBar:
    """A bar over `steps` steps of `dt` seconds (no bar at all where `progress` says off),
    to use as a context manager: `advance` after each chunk, closed on leaving.

    Raises:
        InvalidValueError: `progress` is neither a bool, None nor a text stream.
    """

    def __init__(self, progress: Progress, steps: int, dt: float, description: str = "simulating"):
        stream = _stream(progress)
        self._dt, self._steps, self._chunks = dt, 0, 0
        self._started = time.perf_counter()
        # The bar counts simulated seconds; it is set to steps * dt rather than summing the
        # chunks' seconds, so that the last chunk lands on the total exactly.
        self._bar = None if stream is None else _Bar(
            total=steps * dt, desc=description, file=stream, bar_format=_FORMAT, leave=True)

    def advance(self, steps: int) -> None:
        """Count one chunk of `steps` steps done, and show the speed so far."""
        if self._bar is None:
            return
        self._steps += steps
        self._chunks += 1
        simulated, wall = self._steps * self._dt, time.perf_counter() - self._started
        speed = _speed(simulated / wall) if wall > 0 else "many"
        plural = "" if self._chunks == 1 else "s"
        self._bar.n = simulated  # tqdm's own rate is then the average: simulated seconds per wall second
        self._bar.set_postfix_str(f"{self._chunks} chunk{plural}, {speed}x real time", refresh=False)
        self._bar.refresh()

    def __enter__(self) -> "RunBar":
        return self

    def __exit__(self, *exception) -> None:
        if self._bar is not None:
            self._bar.close()


def _stream(progress: Progress) -> TextIO | None:
    """Where the bar goes for `progress` (module docstring), or None for no bar."""
    match progress:
        case None:
            return sys.stderr if _is_terminal(sys.stderr) else None
        case bool():
            return sys.stderr if progress else None
    if callable(getattr(progress, "write", None)):
        return progress
    raise InvalidValueError(
        f"progress is True (a bar on standard error), False (none), None (a bar when standard error is a "
        f"terminal) or a text stream to write the bar to, not {progress!r}")


def _is_terminal(stream) -> bool:
    """Whether `stream` is a terminal (a closed or replaced stream is not)."""
    try:
        return stream is not None and stream.isatty()
    except (AttributeError, ValueError):
        return False


def _speed(speed: float) -> str:
    """0.35, 12.3, 456, 12,345: three digits, and no exponent for a fast run."""
    return f"{speed:.3g}" if speed < 1000 else f"{speed:,.0f}"
