"""The front end (parse, then lower and validate) on generated models of 10x growing size.

    python benchmarks/front_end_scaling.py [--sizes 100 1000 10000] [--repeats 3]

Four shapes, each grown by one count `n`:

* statements: `n` regions of one neuron, each connected to itself and recorded (3 n statements);
* parameters: one neuron model with `n` parameters;
* populations: one region with `n` populations;
* expression: one parameter whose value is a sum of `n` quantities, grouped
  in balanced parentheses so that it nests only log2(n) levels deep.

For each it prints the size of the text, the time to parse it (imports
resolved) and to lower it (validation included), the time per kilobyte, and
the ratio of that time per kilobyte to the one of the size before: about 1
where the work is linear in the text (it was about 10 for parameters when
lowering was quadratic). Times are CPU seconds of this process (the best of
`--repeats` runs), which other work on a shared machine disturbs less than
wall-clock time. Then it times the largest model file the front end takes
(statements up to `MAX_MODEL_BYTES`), and what the limits of
`brainsim.dsl.limits` refuse, each of which must take well under a second: a
100 MB file, a megabyte-long name, forty aliases that double an expression,
and nesting deeper than `MAX_DEPTH`.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import brainsim  # noqa: E402
from brainsim.dsl import limits, lower_source, read_source  # noqa: E402
from brainsim.errors import LimitError  # noqa: E402

HEAD = """\
simulation { dt = 0.1 ms  duration = 10 ms  seed = 1 }
neuron LIF {
    parameters { tau = 10 ms  E_L = -70 mV  V_th = -55 mV  R = 10 Mohm }
    inputs { I_ext = 0 nA }
    state { v = E_L }
    equations { dv/dt = (E_L - v + R * I_ext) / tau }
    spike when v > V_th
    reset { v = E_L }
}
synapse S { state { w = 0.5 mV }  on pre { v += w } }
"""


def statements(n: int) -> str:
    return HEAD + "".join(f"region R{k} {{ a = LIF[2] }}\nconnect R{k}.a -> R{k}.a with S {{ p = 0.5 }}\n"
                          f"record spikes of R{k}\n" for k in range(n))


def parameters(n: int) -> str:
    written = "  ".join(f"p{k} = {k} mV" for k in range(n))
    return HEAD.replace("parameters {", "parameters { " + written) + "region R { a = LIF[1] }\n"


def populations(n: int) -> str:
    return HEAD + "region R {\n" + "".join(f"    a{k} = LIF[1]\n" for k in range(n)) + "}\n"


def expression(n: int) -> str:
    return HEAD + f"region R {{ a = LIF[1] {{ tau = {_balanced_sum(n)} }} }}\n"


def _balanced_sum(n: int) -> str:
    if n == 1:
        return "0.001 ms"
    return f"({_balanced_sum(n // 2)} + {_balanced_sum(n - n // 2)})"


SHAPES = {"statements": statements, "parameters": parameters, "populations": populations, "expression": expression}


def best_of(repeats: int, function) -> float:
    times = []
    for _ in range(repeats):
        started = time.process_time()
        function()
        times.append(time.process_time() - started)
    return min(times)


def front_end(text: str, repeats: int) -> tuple[float, float]:
    """The best times to parse `text` and to lower the parsed model."""
    source = read_source(text, "generated.brain")
    lower_source(source)  # once outside the timing: the first call builds caches
    return best_of(repeats, lambda: read_source(text, "generated.brain")), best_of(repeats, lambda: lower_source(source))


def scaling(sizes: list[int], repeats: int) -> None:
    print(f"{'shape':<12} {'n':>7} {'KB':>8} {'parse s':>9} {'lower s':>9} {'ms/KB':>7} {'ratio':>6}")
    for shape, make in SHAPES.items():
        counts = [n for n in sizes if shape != "expression" or 2 * n <= limits.MAX_NODES]
        if shape == "statements":
            counts.append(_largest(statements))
        before = None
        for n in counts:
            text = make(n)
            parse, lower = front_end(text, repeats if n in sizes else 1)
            kilobytes = len(text.encode()) / 1000
            per_kilobyte = 1000 * (parse + lower) / kilobytes
            ratio = f"{per_kilobyte / before:6.2f}" if before else "     -"
            print(f"{shape:<12} {n:>7} {kilobytes:>8.1f} {parse:>9.3f} {lower:>9.3f} {per_kilobyte:>7.3f} {ratio}")
            before = per_kilobyte


def _largest(make) -> int:
    """The largest count whose text `make` gives stays within `MAX_MODEL_BYTES`."""
    per_count = len(make(1000).encode()) / 1000
    n = int(limits.MAX_MODEL_BYTES / per_count)
    while len(make(n).encode()) > limits.MAX_MODEL_BYTES:
        n -= n // 100
    return n


def refusals() -> None:
    """How long each hostile input takes to be refused."""
    with tempfile.TemporaryDirectory() as folder:
        huge = Path(folder) / "huge.brain"
        with huge.open("wb") as file:
            file.truncate(100 * 2**20)
        cases = {
            "a 100 MB file": lambda: brainsim.load(huge),
            "a 1 MB name": lambda: brainsim.loads(HEAD + f"region R {{ a = LIF[1] {{ tau = {'x' * 10**6} }} }}"),
            "40 doubling aliases": lambda: brainsim.loads(HEAD.replace("state {", "aliases { a0 = v " + "  ".join(
                f"a{k} = a{k - 1} + a{k - 1}" for k in range(1, 41)) + " } state {", 1) + "region R { a = LIF[1] }\n"),
            f"{limits.MAX_DEPTH + 1000} parentheses": lambda: brainsim.loads(
                HEAD + f"region R {{ a = LIF[1] {{ tau = {'(' * (limits.MAX_DEPTH + 1000)}1 ms{')' * (limits.MAX_DEPTH + 1000)} }} }}\n"),
        }
        print(f"\n{'refused input':<24} {'seconds':>8}  error")
        for name, attempt in cases.items():
            started = time.perf_counter()
            try:
                attempt()
                outcome = "accepted (!)"
            except LimitError as error:
                outcome = error.message[:70]
            print(f"{name:<24} {time.perf_counter() - started:>8.3f}  {outcome}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    scaling(args.sizes, args.repeats)
    refusals()


if __name__ == "__main__":
    main()
