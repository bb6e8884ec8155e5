"""docs/benchmarks.md from the suite's runs: per case a table of times and memory and a table
of firing statistics side by side, the bars of issue 12 as measured ratios, the microcircuit's
rates against the published ones, and three plots (run time against N, time to first result,
memory per synapse)."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.suite.cases import Case
from benchmarks.suite.running import Run

PUBLISHED_TOLERANCE = 0.2
"""A full-scale microcircuit rate matches the published one within this fraction of it."""


@dataclass
class Summary:
    """The runs of one simulator on one case: the timed ones that succeeded, the failures,
    and the recorded run that gives the spike statistics."""

    case: str
    simulator: str
    timed: list[Run] = field(default_factory=list)
    recorded: Run | None = None
    failures: list[str] = field(default_factory=list)

    def median(self, key: str) -> float | None:
        """The median over the timed runs of a protocol field (or `wall_s`), None where no run has it."""
        values = [run.wall_s if key == "wall_s" else run.result.get(key) for run in self.timed]
        values = [value for value in values if value is not None]
        return statistics.median(values) if values else None

    def spread(self, key: str) -> tuple[float, float] | None:
        values = [run.result[key] for run in self.timed]
        return (min(values), max(values)) if values else None

    @property
    def record(self) -> dict | None:
        """A record to read sizes and statistics from: the recorded run's, else a timed run's."""
        if self.recorded is not None and self.recorded.result is not None:
            return self.recorded.result
        return self.timed[0].result if self.timed else None


def summarize(runs: list[Run]) -> dict[tuple[str, str], Summary]:
    """The runs grouped by (case, simulator), in the order they first appear."""
    summaries: dict[tuple[str, str], Summary] = {}
    for run in runs:
        summary = summaries.setdefault((run.case, run.simulator), Summary(run.case, run.simulator))
        if run.error is not None:
            summary.failures.append(f"seed {run.seed}: {run.error}")
        elif run.recorded:
            summary.recorded = run
        else:
            summary.timed.append(run)
    return summaries


@dataclass(frozen=True)
class Bar:
    """Issue 12's bar: `metric` of the best of `mine` at most `limit` times `peer`'s, on `case`."""

    text: str
    case: str
    mine: tuple[str, ...]
    peer: str
    limit: float
    metric: str = "run_s"

    def ratio(self, summaries: dict[tuple[str, str], Summary]) -> float | None:
        peer = summaries.get((self.case, self.peer))
        theirs = peer.median(self.metric) if peer else None
        ours = [s.median(self.metric) for name in self.mine if (s := summaries.get((self.case, name)))]
        ours = [value for value in ours if value is not None]
        if not ours or not theirs:
            return None
        return min(ours) / theirs


def _label(model: str, n: int | None = None) -> str:
    return Case(model, 1.0, n=n).label


def _jax_bars(simulator: str, named: str) -> tuple[Bar, ...]:
    """Issue 12's bars of the jax backend, for `simulator` (the backend with or without its options)."""
    return (*(Bar(f"{named} run time <= Brian2 cpp_standalone, {_label('cuba', n)}", _label("cuba", n),
                  (simulator,), "Brian2 cpp_standalone", 1.0) for n in (64000, 256000)),
            Bar(f"{named} run time <= 2x Brian2 cpp_standalone, CUBA N=4,000", _label("cuba", 4000), (simulator,),
                "Brian2 cpp_standalone", 2.0),
            Bar(f"{named} run time <= 1.5x Brian2 cpp_standalone, COBAHH", _label("cobahh"), (simulator,),
                "Brian2 cpp_standalone", 1.5),
            Bar(f"{named} run time <= Brian2 cpp_standalone, Brunel 2000", _label("brunel"), (simulator,),
                "Brian2 cpp_standalone", 1.0))


BARS = (
    *(Bar(f"numpy backend run time <= 0.5x Brian2 numpy, {_label(m, n)}", _label(m, n), ("brainsim numpy",),
          "Brian2 numpy", 0.5) for m, n in (("cuba", 4000), ("cobahh", None), ("brunel", None))),
    *(Bar(f"numpy backend without compiled updates run time <= 0.5x Brian2 numpy, {_label(m, n)}", _label(m, n),
          ("brainsim numpy-plain",), "Brian2 numpy", 0.5) for m, n in (("cuba", 4000), ("cobahh", None), ("brunel", None))),
    *(bar for target, named in (("jax", "jax backend"), ("jax-plain", "jax backend without compiled updates"))
      for bar in _jax_bars(f"brainsim {target}", named)),
    Bar("time to first result <= 1/4 of Brian2 cpp_standalone's, CUBA N=4,000 (the faster backend)",
        _label("cuba", 4000), ("brainsim numpy", "brainsim jax"), "Brian2 cpp_standalone", 0.25, "wall_s"),
)


def _seconds(value: float | None) -> str:
    return "" if value is None else f"{value:.3g}" if value < 100 else f"{value:.0f}"


def case_table(case: str, summaries: list[Summary]) -> list[str]:
    """The times and memory of every simulator on one case, as Markdown table rows."""
    rows = ["| simulator | runs | import (s) | build + compile (s) | run (s), median [min-max] | run per model second "
            "(s) | first result (s) | peak memory (MB) | bytes per synapse |",
            "|---|---|---|---|---|---|---|---|---|"]
    for s in summaries:
        record = s.record
        if not s.timed:
            why = " ".join("; ".join(s.failures).split()).replace("|", "/")  # one table row
            rows.append(f"| {s.simulator} | 0 | | | {why or 'no timed run'} | | | | |")
            continue
        low, high = s.spread("run_s")
        build = (s.median("build_s") or 0.0) + (s.median("compile_s") or 0.0)
        duration = record["duration_s"]
        memory = s.median("peak_rss_mb")
        per_synapse = f"{memory * 2**20 / record['synapses']:.0f}" if record["synapses"] else ""
        failed = f" ({len(s.failures)} failed)" if s.failures else ""
        rows.append(f"| {s.simulator} | {len(s.timed)}{failed} | {_seconds(s.median('import_s'))} | {_seconds(build)} | "
                    f"{_seconds(s.median('run_s'))} [{_seconds(low)}-{_seconds(high)}] | "
                    f"{_seconds(s.median('run_s') / duration)} | {_seconds(s.median('wall_s'))} | {memory:.0f} | "
                    f"{per_synapse} |")
    return rows


def statistics_table(summaries: list[Summary]) -> list[str]:
    """Firing rates (Hz) and mean CVs of the inter-spike intervals, population by population,
    simulators side by side."""
    records = [(s.simulator, s.record) for s in summaries if s.record]
    if not records:
        return []
    populations = list(dict.fromkeys(p for _, r in records for p in (r.get("rates_hz") or {})))
    rows = ["| population | " + " | ".join(name for name, _ in records) + " |", "|---" * (len(records) + 1) + "|"]
    for population in populations:
        cells = []
        for _, record in records:
            rate = (record.get("rates_hz") or {}).get(population)
            cv = (record.get("cv_isi") or {}).get(population)
            cells.append("" if rate is None else f"{rate:.2f} Hz" + (f", CV {cv:.2f}" if cv is not None else ""))
        rows.append(f"| {population} | " + " | ".join(cells) + " |")
    synapses = [f"{r['synapses']:,}" for _, r in records]
    rows.append("| synapses | " + " | ".join(synapses) + " |")
    return rows


def bar_rows(summaries: dict[tuple[str, str], Summary]) -> list[str]:
    rows = ["| bar | measured ratio | met |", "|---|---|---|"]
    for bar in BARS:
        ratio = bar.ratio(summaries)
        verdict = "not measured" if ratio is None else "yes" if ratio <= bar.limit else "**no**"
        rows.append(f"| {bar.text} | {'' if ratio is None else f'{ratio:.2f}x'} | {verdict} |")
    return rows


def published_rows(summaries: dict[tuple[str, str], Summary]) -> list[str]:
    """The full-scale microcircuit's rates against the published ones (the NEST example's
    `full_mean_rates`), for every simulator that ran it."""
    from brainsim import microcircuit

    case = Case("microcircuit", 1.0).label
    runs = [s for (c, _), s in summaries.items() if c == case and s.record]
    if not runs:
        return []
    rows = ["| population | published | " + " | ".join(s.simulator for s in runs) + " |",
            "|---" * (len(runs) + 2) + "|"]
    for name, published in zip(microcircuit.POPULATIONS, microcircuit.FULL_RATES):
        cells = []
        for s in runs:
            rate = (s.record.get("rates_hz") or {}).get(name)
            if rate is None:
                cells.append("")
                continue
            within = abs(rate - published) <= PUBLISHED_TOLERANCE * published
            cells.append(f"{rate:.2f} Hz ({rate / published:.2f}x){'' if within else ' **off**'}")
        rows.append(f"| {name} | {published:.3f} Hz | " + " | ".join(cells) + " |")
    return rows


def plots(summaries: dict[tuple[str, str], Summary], images: Path) -> list[tuple[str, str]]:
    """Draw the three figures into `images`; (caption, file name) of those drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    images.mkdir(parents=True, exist_ok=True)
    drawn = []
    by_simulator: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for (case, simulator), s in summaries.items():
        if case.startswith("CUBA N=") and s.timed:
            by_simulator[simulator].append((s.record["n"], s.median("run_s") / s.record["duration_s"]))
    if by_simulator:
        figure, axes = plt.subplots(figsize=(6, 4))
        for simulator, points in by_simulator.items():
            points.sort()
            axes.loglog(*zip(*points), marker="o", label=simulator)
        axes.set(xlabel="neurons N (fan-in 80)", ylabel="run time per simulated second (s)", title="CUBA")
        axes.legend(fontsize=8)
        axes.grid(True, which="both", alpha=0.3)
        drawn.append(("CUBA: run time per simulated second against N", _save(figure, images / "benchmarks-cuba.png")))
    first = [(s.simulator, s.median("wall_s")) for (case, _), s in summaries.items()
             if case == _label("cuba", 4000) and s.timed]
    if first:
        figure, axes = plt.subplots(figsize=(6, 3))
        axes.barh(*zip(*first))
        axes.set(xlabel="process start to results in hand (s)", title="CUBA N=4,000: time to first result")
        axes.invert_yaxis()
        drawn.append(("CUBA N=4,000: time to first result", _save(figure, images / "benchmarks-first-result.png")))
    memory = [(f"{s.simulator}\n{case}", s.median("peak_rss_mb") * 2**20 / s.record["synapses"])
              for (case, _), s in summaries.items() if s.timed and s.record["synapses"] >= 10_000_000]
    if memory:
        figure, axes = plt.subplots(figsize=(6, 0.4 * len(memory) + 1))
        axes.barh(*zip(*memory))
        axes.set(xlabel="peak memory / synapses (bytes)", title="Memory per synapse (networks of 10 M synapses or more)")
        axes.tick_params(axis="y", labelsize=7)
        axes.invert_yaxis()
        drawn.append(("Memory per synapse", _save(figure, images / "benchmarks-memory.png")))
    return drawn


def _save(figure, path: Path) -> str:
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    return path.name


def markdown(runs: list[Run], command: str, machine: list[str], images: Path, quick: bool) -> str:
    """The whole report."""
    summaries = summarize(runs)
    by_case: dict[str, list[Summary]] = defaultdict(list)
    for (case, _), summary in summaries.items():
        by_case[case].append(summary)
    lines = ["# Benchmarks: brainsim beside Brian2 and NEST", "",
             "Written by the benchmark suite; every figure here comes from the one run of the command below "
             "(run it again to check; timings on a shared machine vary by 10-20 %).", "",
             "```sh no-run", command, "```", "", *machine, ""]
    if quick:
        lines += ["**This is a quick run** (small sizes, short runs): it shows the suite works, "
                  "not how fast anything is.", ""]
    lines += ["Each simulator runs each case in a fresh process: first once recording spikes (the statistics "
              "below), then timed without any recording, once per seed, simulators alternating. *Import* is "
              "loading the simulator, *build + compile* making the network (Brian2's code generation and "
              "compilation, brainsim's XLA compilation included), *run* the simulation loop alone, *first "
              "result* the whole process from its start to its results in hand, *peak memory* its maximum "
              "resident size.", "", "## Bars (issue 12)", "", *bar_rows(summaries), ""]
    published = published_rows(summaries)
    if published:
        lines += ["## The full microcircuit against the published rates", "",
                  f"Rates of the first seed against the NEST example's `full_mean_rates` (`brainsim.microcircuit`); "
                  f"**off** marks one more than {PUBLISHED_TOLERANCE:.0%} away.", "", *published, ""]
    for caption, name in plots(summaries, images):
        lines += [f"![{caption}](images/{name})", ""]
    for case, group in by_case.items():
        lines += [f"## {case}", "", *case_table(case, group), "", "Firing statistics (recorded run, first seed):", "",
                  *statistics_table(group), ""]
    return "\n".join(lines)
