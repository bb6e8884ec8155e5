"""The benchmark suite of issue 12: brainsim, Brian2 and NEST on the same models, the same
machine, in one run, each run in a fresh process pinned to one core, and the report
(docs/benchmarks.md) with the bars it is held to.

- `cases`: the models, their sizes and the simulators that run them;
- `running`: one run of one simulator in a fresh process, read back from its line of JSON;
- `peers`: the virtual environment of Brian2 and NEST (Python >= 3.13);
- `machine`: what the report says about the machine and the versions;
- `report`: the tables, the bars, the plots, docs/benchmarks.md;
- `cli`: `python -m benchmarks`.
"""
