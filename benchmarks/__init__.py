"""brainsim's benchmarks: scripts run on demand (`python benchmarks/X.py`), and the suite that
measures brainsim beside Brian2 and NEST and writes docs/benchmarks.md (`python -m benchmarks`)."""
