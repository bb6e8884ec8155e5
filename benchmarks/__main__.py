"""`python -m benchmarks`: the benchmark suite beside Brian2 and NEST (benchmarks/suite)."""

from benchmarks.suite.cli import console

console()
