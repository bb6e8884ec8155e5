"""On-demand mutation check of the engine: mutmut over backends, integrators and network.

Not part of CI: it takes tens of minutes. It answers "which one-line changes of
the engine would the fast tests let through?", a question the backend-identity
tests cannot answer, since both backends share the kernel, the integrators and
the host code (docs/testing.md has the results and what they mean).

What it does:

1. copies the tracked files of a git revision (default: the working tree as it
   is) into a scratch folder, so the checkout is never mutated;
2. adds a `[tool.mutmut]` table to the copy's pyproject.toml: mutate
   brainsim/backends/*.py, brainsim/integrators/, brainsim/network/ and brainsim/validate.py;
   tests: tests/backends, tests/test_models.py and tests/test_validate.py (no peer, DSL or CLI tests);
3. runs `mutmut run` on a seeded random sample of the mutants (or on all of
   them with `--sample 0`), then writes `mutmut results` (survivors) and the
   diff of every surviving mutant to `--out`.

Usage (from the repository root, with a Python that has brainsim's
dependencies and mutmut >= 3.8: `pip install mutmut`):

    python benchmarks/mutation/run_mutmut.py --sample 150 --seed 5 --out /tmp/mutation-after
    python benchmarks/mutation/run_mutmut.py --rev HEAD~3 ...   # the tests of an older revision

`--rev` takes the whole tree (engine and tests) from that revision.
"""

import argparse
import io
import random
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ONLY_MUTATE = ["brainsim/backends/*", "brainsim/integrators/*", "brainsim/network/*", "brainsim/validate.py"]
TESTS = ["tests/backends", "tests/test_models.py", "tests/test_validate.py"]
# jax is multithreaded, so workers are forked from a server that has not imported it.
CONFIG = f"""
[tool.mutmut]
source_paths = ["brainsim"]
only_mutate = {ONLY_MUTATE!r}
also_copy = ["models"]
pytest_add_cli_args_test_selection = {TESTS!r}
pytest_add_cli_args = ["-p", "no:cacheprovider", "-x", "-q"]
process_isolation = "forkserver"
forkserver_warmup = "none"
"""


def copy_tree(rev: str | None, into: Path) -> None:
    """The tracked files of `rev` (None: the working tree, tracked and untracked-but-not-ignored)."""
    if rev is None:
        listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                                cwd=ROOT, check=True, capture_output=True, text=True).stdout.split()
        for name in listed:
            if (ROOT / name).is_file():
                (into / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / name, into / name)
    else:
        archive = subprocess.run(["git", "archive", rev], cwd=ROOT, check=True, capture_output=True).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(into, filter="data")


def mutmut(args: list[str], cwd: Path, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mutmut", *args], cwd=cwd, text=True, **kwargs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rev", default=None, help="git revision to test (default: the working tree)")
    parser.add_argument("--sample", type=int, default=150, help="mutants to run, drawn at random (0: all)")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--max-children", type=int, default=2)
    parser.add_argument("--work", default="/tmp/brainsim-mutation", help="scratch folder (emptied first)")
    parser.add_argument("--out", required=True, help="folder for results.txt and survivors.diff")
    args = parser.parse_args()

    work, out = Path(args.work), Path(args.out)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    out.mkdir(parents=True, exist_ok=True)
    copy_tree(args.rev, work)
    with open(work / "pyproject.toml", "a") as handle:
        handle.write(CONFIG)

    # Generating the mutants and collecting which tests reach which function comes
    # with every `mutmut run`; a run for a name that matches nothing does just that
    # (and then stops with an AssertionError, kept in generate.log).
    generated = mutmut(["run", "--max-children", str(args.max_children), "no_such_mutant*"], work, capture_output=True)
    (out / "generate.log").write_text(generated.stdout + generated.stderr)
    names = sorted(set(re.findall(r"^\s*(brainsim\.[\w.]+__mutmut_\d+):", mutmut(["results", "--all", "true"], work,
                                                                                 capture_output=True).stdout, re.M)))
    chosen = names if not args.sample or args.sample >= len(names) else sorted(random.Random(args.seed).sample(names, args.sample))
    print(f"{len(chosen)} of {len(names)} mutants", flush=True)
    mutmut(["run", "--max-children", str(args.max_children), *chosen], work)

    results = mutmut(["results", "--all", "true"], work, capture_output=True).stdout
    status = dict(re.findall(r"^\s*(brainsim\.[\w.]+__mutmut_\d+): (\w[\w ]*)$", results, re.M))
    chosen_status = {name: status.get(name, "?") for name in chosen}
    counts: dict[str, int] = {}
    for value in chosen_status.values():
        counts[value] = counts.get(value, 0) + 1
    summary = [f"{len(chosen)} of {len(names)} mutants (seed {args.seed}): "
               + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))]
    survivors = [name for name, value in chosen_status.items() if value != "killed"]
    (out / "results.txt").write_text("\n".join(summary + [f"{n}: {chosen_status[n]}" for n in sorted(chosen_status)]) + "\n")
    with open(out / "survivors.diff", "w") as handle:
        for name in survivors:
            handle.write(f"# {name}: {chosen_status[name]}\n")
            handle.write(mutmut(["show", name], work, capture_output=True).stdout + "\n")
    print(summary[0])


if __name__ == "__main__":
    main()
