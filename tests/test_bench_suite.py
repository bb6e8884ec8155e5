"""The benchmark suite (`python -m benchmarks`, benchmarks/suite): its cases, one run in a fresh
process read back through the protocol, the refusal of sizes that would not fit, and the
report with its bars. Brian2 and NEST are not installed here: the peers' side is exercised
with records of the protocol's shape, and brainsim's side for real."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.peers import bench_brainsim  # noqa: E402
from benchmarks.suite import cases, cli, peers, report, running  # noqa: E402

TINY = cases.Case("cuba", 0.01, cases.BRAINSIM, n=400)


def record(simulator: str, target: str, run_s: float, rates: dict | None = None, **more) -> dict:
    """A protocol record as a bench_*.py script prints it."""
    return {"simulator": simulator, "target": target, "model": "cuba", "n": 4000, "synapses": 320000,
            "duration_s": 1.0, "build_s": 0.5, "run_s": run_s, "rates_hz": rates, "peak_rss_mb": 100.0} | more


def test_the_full_suite_has_the_sizes_issue_12_names():
    full = {case.label: case for case in cases.full()}
    assert [c.n for c in cases.full() if c.model == "cuba"] == [4000, 16000, 64000, 256000]
    circuit = full["Potjans-Diesmann microcircuit, full scale"]
    assert circuit.duration >= 10.0
    assert {s.key for s in circuit.simulators} == {"brainsim-numpy", "brainsim-numpy-plain", "brainsim-jax",
                                                         "brainsim-jax-plain", "nest"}
    assert {c.model for c in cases.quick()} == set(cases.NAMES) == {c.model for c in cases.full()}


def test_a_command_names_the_script_the_size_and_the_target_nest_has_none():
    brian2 = running.command(cases.Case("cuba", 1.0, n=64000), cases.Simulator("brian2", "cython"), "py", 2, True)
    assert brian2[1].endswith("bench_brian2.py") and brian2[brian2.index("--n") + 1] == "64000"
    assert brian2[brian2.index("--target") + 1] == "cython" and brian2[-1] == "--record"
    nest = running.command(cases.Case("microcircuit", 10.0, scale_n=0.5), cases.NEST[0], "py", 1, False)
    assert "--target" not in nest and nest[nest.index("--scale-n") + 1] == "0.5" and "--record" not in nest


def test_parse_reads_the_last_line_and_says_what_is_wrong():
    line = json.dumps(record("nest", "nest", 1.0))
    assert running.parse("NEST says hello\n" + line)["run_s"] == 1.0
    for stdout, message in (("", "printed nothing"), ("oops", "not JSON"), ("[1]", "not a JSON object"),
                            ('{"simulator": "nest"}', "lacks build_s")):
        with pytest.raises(ValueError, match=message):
            running.parse(stdout)


def test_brainsim_runs_in_a_fresh_process_and_answers_in_the_protocol():
    run = running.run(TINY, cases.BRAINSIM[0], sys.executable, seed=3, recorded=True, timeout=300)
    assert run.error is None, run.error
    result = run.result
    assert running.PROTOCOL_KEYS <= result.keys() and result["seed"] == 3 and result["n"] == 400
    assert result["synapses"] > 0 and result["run_s"] > 0 and run.wall_s > result["run_s"]
    assert set(result["rates_hz"]) == set(result["cv_isi"]) == {"Cortex.exc", "Cortex.inh"}
    for simulator in cases.BRAINSIM[1:]:  # numpy-plain, jax, jax-plain
        other = running.run(TINY, simulator, sys.executable, seed=3, recorded=True, timeout=300)
        assert other.error is None, other.error
        assert other.result["target"] == simulator.target
        assert other.result["rates_hz"] == result["rates_hz"]  # the same spikes


def test_a_failing_run_gives_its_reason_not_a_traceback(tmp_path, monkeypatch):
    (tmp_path / "bench_broken.py").write_text("import sys\nprint('partial')\nsys.exit('no such model here')\n")
    (tmp_path / "bench_silent.py").write_text("print('no json')\n")
    monkeypatch.setattr(cases, "PEERS", tmp_path)
    broken = running.run(TINY, cases.Simulator("broken", "x"), sys.executable, 1, False, timeout=60)
    assert broken.result is None and broken.error == "exit status 1: no such model here"
    silent = running.run(TINY, cases.Simulator("silent", "x"), sys.executable, 1, False, timeout=60)
    assert "not JSON" in silent.error


def test_a_case_that_would_not_fit_is_refused_with_the_estimate_before_it_is_built():
    why = cli.refusal(cases.Case("cuba", 1.0, n=256000), "10MB")
    assert "would take about" in why and "more than the limit of 10 MB" in why
    assert cli.refusal(TINY, None) is None


def test_selection_keeps_the_chosen_models_and_simulators():
    args = cli.arguments(["--suite", "quick", "--only", "cuba", "microcircuit", "--no-peers"])
    chosen = cli.selected(args)
    assert {c.model for c in chosen} == {"cuba", "microcircuit"}
    assert all(not s.peer for c in chosen for s in c.simulators)
    args = cli.arguments(["--only", "microcircuit", "--simulators", "brian2-numpy"])
    assert cli.selected(args) == []  # the microcircuit is not run by Brian2


def test_the_sizes_can_be_chosen():
    args = cli.arguments(["--only", "cuba", "microcircuit", "--cuba-sizes", "1000", "2000000",
                          "--microcircuit-scale", "0.5", "1"])
    chosen = cli.selected(args)
    assert [(c.model, c.n, c.scale_n, c.scale_k) for c in chosen] == [
        ("cuba", 1000, 1.0, 1.0), ("cuba", 2000000, 1.0, 1.0), ("microcircuit", None, 0.5, 1.0)]
    assert chosen[0].duration == 1.0 and len(chosen[0].simulators) == len(cases.SIMULATORS)


@pytest.mark.parametrize("argv, message", [(["--seeds", "0"], "at least 1, not '0'"),
                                           (["--cuba-sizes", "4k"], "at least 1, not '4k'"),
                                           (["--microcircuit-scale", "0.5", "2"], "a fraction in (0, 1], not '2'"),
                                           (["--only", "hh"], "invalid choice: 'hh'")])
def test_bad_options_are_usage_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as exit:
        cli.arguments(argv)
    assert exit.value.code == 2 and message in capsys.readouterr().err


def test_without_a_python_new_enough_the_peers_say_what_to_do(monkeypatch):
    monkeypatch.setattr(peers, "interpreters", lambda: [Path(sys.executable)])
    monkeypatch.setattr(peers, "version", lambda python: (3, 11))
    with pytest.raises(peers.PeerError, match="needs Python >= 3.13.*--no-peers"):
        peers.base_python()


def test_the_cuba_sizes_keep_the_fan_in_at_80():
    values = bench_brainsim.model_values("cuba", n=64000, seed=5)
    assert values["Cortex.exc[]"] == 51200 and values["Cortex.inh[]"] == 12800 and values["seed"] == 5
    assert values["Cortex.exc -> Cortex.p"] * 64000 == pytest.approx(80)
    model = bench_brainsim.load("cuba", n=1000)
    assert [p.size for p in model.network.populations] == [800, 200]
    assert model.network.spike_records == () and model.network.state_records == ()


def runs_of_a_suite() -> list[running.Run]:
    cuba = cases.Case("cuba", 1.0, n=4000).label
    runs = []
    for seed, (numpy_s, cpp_s) in enumerate(((1.0, 0.5), (1.2, 0.6), (0.8, 0.55)), start=1):
        runs.append(running.Run(cuba, "brainsim numpy", seed, False, 3.0, record("brainsim", "numpy", numpy_s)))
        runs.append(running.Run(cuba, "Brian2 numpy", seed, False, 9.0, record("brian2", "numpy", 4 * numpy_s)))
        runs.append(running.Run(cuba, "Brian2 cpp_standalone", seed, False, 20.0, record("brian2", "cpp", cpp_s)))
        runs.append(running.Run(cuba, "brainsim jax", seed, False, 6.0, None, "killed by signal 9 (out of memory?)"))
    rates = {"Cortex.exc": 5.8, "Cortex.inh": 5.9}
    runs.append(running.Run(cuba, "brainsim numpy", 1, True, 3.0, record("brainsim", "numpy", 1.0, rates)))
    runs.append(running.Run(cuba, "Brian2 numpy", 1, True, 3.0, record("brian2", "numpy", 1.0, rates | {"Cortex.exc": 6.1},
                                                                        cv_isi={"Cortex.exc": 0.9})))
    circuit = cases.Case("microcircuit", 10.0).label
    published = {"L23.E": 0.9, "L4.E": 2.0}  # L4.E far below the published 4.414 Hz
    runs.append(running.Run(circuit, "NEST", 1, True, 50.0, record("nest", "nest", 30.0, published)))
    return runs


def test_the_report_measures_the_bars_as_ratios_of_medians(tmp_path):
    text = report.markdown(runs_of_a_suite(), "python -m benchmarks", ["- machine: test"], tmp_path / "images", False)
    assert "| numpy backend run time <= 0.5x Brian2 numpy, CUBA N=4,000 | 0.25x | yes |" in text
    assert "| jax backend run time <= 2x Brian2 cpp_standalone, CUBA N=4,000 |  | not measured |" in text
    # time to first result: the faster brainsim process (3 s) against cpp_standalone's 20 s
    assert "CUBA N=4,000 (the faster backend) | 0.15x | yes |" in text
    assert "| brainsim jax | 0 | | | seed 1: killed by signal 9 (out of memory?); seed 2:" in text
    assert "| brainsim numpy | 3 |  | 0.5 | 1 [0.8-1.2] | 1 | 3 | 100 | 328 |" in text


def test_the_report_puts_the_statistics_side_by_side_and_checks_the_published_rates(tmp_path):
    text = report.markdown(runs_of_a_suite(), "python -m benchmarks", [], tmp_path / "images", False)
    assert "| population | brainsim numpy | Brian2 numpy | Brian2 cpp_standalone |" in text
    assert "| Cortex.exc | 5.80 Hz | 6.10 Hz, CV 0.90 |  |" in text
    assert "| L23.E | 0.903 Hz | 1.00x |" not in text and "| L23.E | 0.903 Hz | 0.90 Hz (1.00x) |" in text
    assert "| L4.E | 4.414 Hz | 2.00 Hz (0.45x) **off** |" in text
    assert sorted(p.name for p in (tmp_path / "images").iterdir()) == ["benchmarks-cuba.png",
                                                                      "benchmarks-first-result.png"]


def test_the_report_is_written_again_from_a_results_file(tmp_path, capsys):
    results = tmp_path / "results.jsonl"
    results.write_text("".join(run.to_json() + "\n" for run in runs_of_a_suite()))
    out = tmp_path / "docs" / "benchmarks.md"
    out.parent.mkdir()
    assert cli.main(["--report-from", str(results), "--out", str(out)]) == 0
    assert "| numpy backend run time <= 0.5x Brian2 numpy, CUBA N=4,000 | 0.25x | yes |" in out.read_text()
    assert cli.main(["--report-from", str(tmp_path / "missing.jsonl")]) == 2
    assert "cannot read" in capsys.readouterr().err
    for bad in ('{"case": 1}', "not json", "[1, 2]"):
        results.write_text(bad + "\n")
        assert cli.main(["--report-from", str(results), "--out", str(out)]) == 2
        assert f"error: {results}: not a run of the suite: {bad!r}" in capsys.readouterr().err


def test_a_suite_of_sizes_that_do_not_fit_refuses_them_all_and_says_so(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cli, "RESULTS", tmp_path / "results")
    out = tmp_path / "benchmarks.md"
    argv = ["--only", "cuba", "--cuba-sizes", "50000000", "--no-peers", "--max-memory", "2GB", "--out", str(out)]
    assert cli.main(argv) == 3
    assert "refused: resource error: building this network would take about" in capsys.readouterr().out
    row = next(line for line in out.read_text().splitlines() if line.startswith("| brainsim numpy |"))
    assert row.startswith("| brainsim numpy | 0 | | | seed 0: refused: resource error: building this network")
    assert row.endswith("| | | | |") and "synapses" in row and "hint: " in row
    assert len((next((tmp_path / "results").iterdir())).read_text().splitlines()) == len(cases.BRAINSIM)  # a refusal each


def test_a_run_is_pinned_to_the_core_the_suite_chose(tmp_path, monkeypatch):
    (tmp_path / "bench_affinity.py").write_text(
        "import json, os, sys\nsys.path.insert(0, %r)\nimport protocol\n"
        "print(json.dumps(dict.fromkeys(protocol.KEYS, 0) | {'cores': sorted(os.sched_getaffinity(0))}))\n"
        % str(ROOT / "benchmarks" / "peers"))
    monkeypatch.setattr(cases, "PEERS", tmp_path)
    run = running.run(TINY, cases.Simulator("affinity", "x"), sys.executable, 1, False, timeout=60, core=0)
    assert run.error is None and run.result["cores"] == [0]
