"""Ctrl-C during a run: deferred to the next point where the run can stop and keep what it recorded.

    with deferred() as deferral:      # Simulation.run, brainsim.export.stream.stream_to_file
        ... the loops ask active().requested between steps (numpy) or calls (jax) ...

Python raises `KeyboardInterrupt` wherever the main thread happens to be when SIGINT
arrives: inside numpy's step, a jax garbage-collection callback (which may swallow
it), the progress bar's first drawing. A run instead installs a handler that only
notes the request, and its loops stop at their next check (within a step on numpy,
within one paced call of about `CALL_SECONDS` on jax, while a compile goes on in a
worker thread) with everything done so far; the run then raises
`brainsim.errors.Interrupted` carrying those results. A second Ctrl-C raises
`KeyboardInterrupt` at once, as without the handler.

The handler is installed only in the main thread (the only one signals reach) and
only over Python's own default handler: a program that set its own (or ignores
SIGINT) keeps it. Nested deferrals share the outermost one.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import Iterator

CALL_SECONDS = 0.2  # the wall time a jax call of a run is paced to: a request is seen within it


class Deferral:
    """A Ctrl-C noted, not yet acted on: `requested` turns True at the first SIGINT."""

    def __init__(self):
        self.requested = False

    def _handle(self, signum, frame) -> None:
        if self.requested:  # the second Ctrl-C: the user does not want to wait
            raise KeyboardInterrupt
        self.requested = True


_active: Deferral | None = None


def active() -> Deferral | None:
    """The deferral of the run in progress, or None (no run, another thread, or a handler of the program's own)."""
    return _active


@contextlib.contextmanager
def deferred() -> Iterator[Deferral | None]:
    """Note Ctrl-C in the body instead of raising it (module docstring); yields the `Deferral`,
    or None where the handler was not installed (not the main thread, a handler of the
    program's own). The previous handler is back on leaving."""
    global _active
    if _active is not None:
        yield _active
        return
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield None
        return
    deferral = Deferral()
    previous = signal.signal(signal.SIGINT, deferral._handle)
    _active = deferral
    try:
        yield deferral
    finally:
        _active = None
        signal.signal(signal.SIGINT, previous)


def requested() -> bool:
    """Whether a Ctrl-C is waiting to stop the run in progress."""
    return _active is not None and _active.requested
