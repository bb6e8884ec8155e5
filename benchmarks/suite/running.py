"""One run of one simulator on one case, in a fresh process pinned to one core, read back from
the line of JSON its bench_*.py script prints last (the protocol: benchmarks/peers/bench_brainsim.py).

The process's wall time, from starting it to its exit with the results in hand, is the
suite's "time to first result": interpreter start, imports, building, compiling and running
included."""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import asdict, dataclass

from benchmarks.peers.protocol import CORE_VARIABLE
from benchmarks.suite.cases import Case, Simulator

PROTOCOL_KEYS = frozenset({"simulator", "target", "model", "n", "synapses", "duration_s", "build_s", "run_s",
                           "rates_hz", "peak_rss_mb"})
"""The keys every bench_*.py record has (the others, e.g. `compile_s` or `cv_isi`, may be absent)."""
SINGLE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


@dataclass
class Run:
    """What one process gave: its protocol record (`result`) or why it has none (`error`),
    and its wall time. `recorded` runs record spikes (for the statistics), the others are
    timed without recording."""

    case: str
    simulator: str
    seed: int
    recorded: bool
    wall_s: float
    result: dict | None = None
    error: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, line: str) -> "Run":
        """The run a results line holds.

        Raises:
            ValueError: the line is not a run as `to_json` writes one.
        """
        try:
            fields = json.loads(line)
            return cls(**fields)
        except (json.JSONDecodeError, TypeError):
            raise ValueError(f"not a run of the suite: {line[:120]!r}") from None


def command(case: Case, simulator: Simulator, python: str, seed: int, recorded: bool) -> list[str]:
    """The command line of one run."""
    return [python, str(simulator.script), *case.arguments(), *simulator.arguments(), "--seed", str(seed),
            *(["--record"] if recorded else [])]


def run(case: Case, simulator: Simulator, python: str, seed: int, recorded: bool, timeout: float,
        core: int | None = 0) -> Run:
    """Run `simulator` on `case` in a fresh process of `python`, on CPU `core` alone (None: unpinned),
    stopping it after `timeout` seconds."""
    argv = command(case, simulator, python, seed, recorded)
    # The script pins itself (benchmarks/peers/protocol.py) before it imports its simulator: a
    # preexec_fn would fork this process, which jax, once imported, warns against.
    environment = os.environ | SINGLE_THREAD | ({CORE_VARIABLE: str(core)} if core is not None else {})
    started = time.perf_counter()
    try:
        finished = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=environment,
                                  check=False)
    except subprocess.TimeoutExpired:
        return Run(case.label, simulator.label, seed, recorded, time.perf_counter() - started,
                   error=f"stopped after the time limit of {timeout:g} s")
    wall = time.perf_counter() - started
    if finished.returncode != 0:
        return Run(case.label, simulator.label, seed, recorded, wall, error=failure(finished))
    try:
        result = parse(finished.stdout)
    except ValueError as error:
        return Run(case.label, simulator.label, seed, recorded, wall, error=str(error))
    return Run(case.label, simulator.label, seed, recorded, wall, result=result)


def parse(stdout: str) -> dict:
    """The protocol record on the last line of `stdout`.

    Raises:
        ValueError: no line, not a JSON object, or keys of the protocol missing.
    """
    lines = stdout.strip().splitlines()
    if not lines:
        raise ValueError("the run printed nothing")
    try:
        record = json.loads(lines[-1])
    except json.JSONDecodeError:
        raise ValueError(f"the run's last line is not JSON: {lines[-1][:200]!r}") from None
    if not isinstance(record, dict):
        raise ValueError(f"the run's last line is not a JSON object: {lines[-1][:200]!r}")
    missing = PROTOCOL_KEYS - record.keys()
    if missing:
        raise ValueError(f"the run's record lacks {', '.join(sorted(missing))}")
    return record


def failure(finished: subprocess.CompletedProcess) -> str:
    """Why a run that exited with an error status failed: killed by a signal (the kernel's
    out-of-memory killer sends SIGKILL), or the last lines it wrote to stderr."""
    if finished.returncode < 0:
        signal = -finished.returncode
        return f"killed by signal {signal}" + (" (out of memory?)" if signal == 9 else "")
    tail = [line for line in finished.stderr.strip().splitlines() if line.strip()][-3:]
    return f"exit status {finished.returncode}: " + " | ".join(tail)[-400:]
