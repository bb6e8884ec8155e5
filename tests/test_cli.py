"""The `brainsim` command: exit statuses, output, and errors without tracebacks."""

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import brainsim
from brainsim.cli import main
from tiny_lif import tiny_model

MODELS = Path(__file__).parent.parent / "models"

TINY = tiny_model("""\
region Area { cells = LIF[3] }
stimulus Area { I_ext += 3 nA }
record spikes of Area
""")


@pytest.fixture
def tiny_model(tmp_path):
    path = tmp_path / "tiny.brain"
    path.write_text(TINY)
    return path


def test_run_prints_the_statistics_table(tiny_model, capsys):
    assert main(["run", str(tiny_model)]) == 0
    out = capsys.readouterr().out
    assert "Area.cells" in out
    assert "200 steps" in out


def test_run_with_duration_and_jax_backend(tiny_model, capsys):
    assert main(["run", str(tiny_model), "--backend", "jax", "--duration", "5ms"]) == 0
    assert "50 steps" in capsys.readouterr().out


def test_check_reports_identical_backends(tiny_model, capsys):
    assert main(["check", str(tiny_model)]) == 0
    assert "identical" in capsys.readouterr().out.lower()


def test_info_describes_the_model(tiny_model, capsys):
    assert main(["info", str(tiny_model)]) == 0
    out = capsys.readouterr().out
    assert "Area.cells: 3 x LIF, exact integration" in out
    assert "Area.cells.I_ext += constant 3e-09" in out


def test_info_updates_shows_the_propagators(tiny_model, capsys):
    assert main(["info", "--updates", str(tiny_model)]) == 0
    out = capsys.readouterr().out
    assert "v' = _P_v_v * v" in out
    assert "_P_v_v = 0.99004983374916" in out  # exp(-0.1 ms / 10 ms)


def test_a_model_error_prints_position_and_exits_2(tmp_path, capsys):
    path = tmp_path / "bad.brain"
    path.write_text(TINY.replace("dv/dt = (E_L - v + R * I_ext) / tau", "dv/dt = (E_L - v + R * I_ext)"))
    assert main(["run", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:6:" in err
    assert "^" in err
    assert "Traceback" not in err


def test_a_missing_file_exits_2(tmp_path, capsys):
    assert main(["run", str(tmp_path / "nope.brain")]) == 2
    assert "cannot read model file" in capsys.readouterr().err


@pytest.mark.parametrize("duration", ["abc", "5 mV", "-1ms", "5 parsecs"])
def test_a_bad_duration_is_rejected_by_argparse(tiny_model, duration, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["run", str(tiny_model), "--duration", duration])
    assert exit_info.value.code == 2
    assert "--duration" in capsys.readouterr().err


def test_a_duration_that_is_not_whole_steps_is_a_clear_error(tiny_model, capsys):
    assert main(["run", str(tiny_model), "--duration", "0.05ms"]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_console_script_runs_a_shipped_model():
    completed = subprocess.run(
        [sys.executable, "-m", "brainsim.cli", "run", str(MODELS / "visual_pathway.brain")],
        capture_output=True, text=True, check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert "Retina.photoreceptors" in completed.stdout


def test_check_of_a_model_without_populations(tmp_path, capsys):
    path = tmp_path / "empty.brain"
    path.write_text("simulation { duration = 10 ms }\n")
    assert main(["check", str(path)]) == 0
    assert "identical" in capsys.readouterr().out


def test_run_of_a_model_with_an_empty_region(tmp_path, capsys):
    path = tmp_path / "empty_region.brain"
    path.write_text("simulation { duration = 10 ms }\nregion Empty { }\n")
    assert main(["run", str(path)]) == 0
    assert "Empty" in capsys.readouterr().out


def test_seed_option_reseeds_the_model(tmp_path, capsys):
    path = tmp_path / "random.brain"
    path.write_text(TINY.replace("state { v = E_L }", "state { v = uniform(-70 mV, -56 mV) }"))
    assert main(["run", str(path), "--seed", "7"]) == 0
    assert "seed 7" in capsys.readouterr().out


def test_with_seed_changes_only_the_random_draws():
    model = brainsim.loads(TINY.replace("state { v = E_L }", "state { v = uniform(-70 mV, -56 mV) }"))
    first, second = (model.with_seed(seed) for seed in (1, 2))
    assert first.network.simulation.seed == 1 and second.network.simulation.seed == 2
    assert first.network.populations == second.network.populations
    v1, v2 = (m.compile().run(duration=1e-4).final_state["Area.cells"]["v"] for m in (first, second))
    assert not np.array_equal(v1, v2)
    with pytest.raises(brainsim.InvalidValueError):
        model.with_seed(-1)


@pytest.mark.parametrize("seed", ["-1", "1.5", "x"])
def test_a_bad_seed_is_rejected_by_argparse(tiny_model, seed, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["run", str(tiny_model), "--seed", seed])
    assert exit_info.value.code == 2
    assert "--seed" in capsys.readouterr().err


@pytest.mark.parametrize("model", sorted(MODELS.glob("*.brain")), ids=lambda path: path.stem)
def test_info_describes_every_model(model, capsys):
    """`brainsim info` knows every connection rule, stimulus and source the models use, and
    builds every model's connectivity and arrays for the counts and the memory."""
    assert main(["info", str(model)]) == 0
    out = capsys.readouterr().out
    if model.stem == "microcircuit":  # 0.3e9 synapses take minutes to draw: counted from the rules
        assert "300,424,348 synapses, from the rules; not drawn: more than 20,000,000 synapses" in out
    else:
        assert "synapses; counts exact" in out
    assert "memory in float64" in out


PLASTIC = TINY.replace("record spikes of Area", """\
synapse Growing {
    parameters { step = 0.1 mV }
    state { w = 1 mV }
    bounds { w = [0 mV, 1.25 mV] }
    on pre { v += w  w += step }
}
connect Area -> Area with Growing { rule = one_to_one  autapses = true }
record spikes of Area
record w of Area.cells -> Area.cells at [10 ms]
""")


def test_run_and_info_show_plastic_projections(tmp_path, capsys):
    """Each cell fires a few times in 20 ms, and more than 3 times in 100 ms: its one synapse
    grows by 0.1 mV a spike, up to its bound."""
    path = tmp_path / "plastic.brain"
    path.write_text(PLASTIC)
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "Area.cells->Area.cells: Growing, one to one, plastic (event-driven: on pre)" in out
    assert "w of Area.cells->Area.cells (all synapses, at 1 time(s))" in out
    assert main(["run", str(path), "--duration", "100ms"]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("Area.cells->Area.cells"))
    assert row.split() == ["Area.cells->Area.cells", "w", "3", "0.00125", "0.00125", "0.00125"]


def test_check_in_float32_reports_the_agreement_with_float64(tiny_model, capsys):
    assert main(["check", "--dtype", "float32", str(tiny_model)]) == 0
    out = capsys.readouterr().out
    assert "jax backend in float32 vs float64, 20 ms" in out
    assert "float32 vs float64: the same spikes in every population" in out
    row = next(line for line in out.splitlines() if line.startswith("Area.cells"))
    assert row.split()[1:4] == ["6", "6", "identical"]  # spikes, reference, matching


@pytest.mark.parametrize("given", [["--compiled-updates"], ["--compiled-updates", "on"], ["--compiled-updates", "off"],
                                   ["--compiled-updates", "auto"]])
@pytest.mark.parametrize("backend", ["numpy", "jax"])
def test_run_with_compiled_updates(tiny_model, capsys, backend, given):
    assert main(["run", str(tiny_model), "--backend", backend, *given, "--duration", "5ms"]) == 0
    assert "50 steps" in capsys.readouterr().out


def test_check_by_default_runs_the_plain_reference_against_jax_as_run_runs_it(tiny_model, capsys, monkeypatch):
    monkeypatch.setenv("BRAINSIM_COMPILED_UPDATES", "auto")  # the users' default (the suite's is off)
    assert main(["check", str(tiny_model)]) == 0
    assert "numpy backend vs jax backend (compiled updates)," in capsys.readouterr().out
    assert main(["check", str(tiny_model), "--compiled-updates", "none"]) == 0
    assert "numpy backend vs jax backend," in capsys.readouterr().out


@pytest.mark.parametrize("given, shown", [
    ([], "numpy backend (compiled updates) vs jax backend,"),
    (["jax"], "numpy backend vs jax backend (compiled updates),"),
    (["both"], "numpy backend (compiled updates) vs jax backend (compiled updates),"),
])
def test_check_with_compiled_updates_on_either_backend_or_both(tiny_model, capsys, given, shown):
    assert main(["check", str(tiny_model), "--compiled-updates", *given]) == 0
    out = capsys.readouterr().out
    assert shown in out
    assert "identical (spikes, traces and final states, bit for bit)" in out


def test_compiled_updates_are_refused_where_they_do_not_apply(tiny_model, capsys):
    assert main(["check", str(tiny_model), "--dtype", "float32", "--compiled-updates"]) == 2
    assert "--compiled-updates runs float64 programs" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["check", str(tiny_model), "--compiled-updates", "cuda"])
    assert "invalid choice: 'cuda' (choose from" in capsys.readouterr().err
    assert main(["run", str(tiny_model), "--dtype", "float32", "--compiled-updates"]) == 2
    assert "float64 programs only, not float32" in capsys.readouterr().err
    assert main(["run", str(tiny_model), "--dtype", "float32"]) == 0  # "auto" runs float32 plain
    with pytest.raises(SystemExit):
        main(["run", str(tiny_model), "--compiled-updates", "yes"])
    assert "invalid choice: 'yes' (choose from" in capsys.readouterr().err


def test_check_rejects_an_unknown_dtype(tiny_model, capsys):
    with pytest.raises(SystemExit):
        main(["check", "--dtype", "float16", str(tiny_model)])
    assert "invalid choice: 'float16'" in capsys.readouterr().err


def test_run_in_float32(tiny_model, capsys):
    assert main(["run", str(tiny_model), "--backend", "jax", "--dtype", "float32", "--duration", "5ms"]) == 0
    assert "on the jax backend in float32" in capsys.readouterr().out


class _Terminal(io.StringIO):
    """Standard error as an interactive shell has it: a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("command", ["run", "check"])
def test_run_and_check_show_a_progress_bar_on_a_terminal_unless_quiet(tiny_model, command, monkeypatch, capsys):
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main([command, str(tiny_model)]) == 0
    bars = [state for state in terminal.getvalue().split("\r") if "s simulated" in state]
    assert bars and "0.02/0.02 s simulated" in bars[-1]
    if command == "check":  # a bar for each backend's run
        assert terminal.getvalue().count("\n") == 2
    terminal.seek(0)
    terminal.truncate()
    assert main([command, str(tiny_model), "--quiet"]) == 0
    assert terminal.getvalue() == ""
    assert "Area.cells" in capsys.readouterr().out  # the results are printed all the same


def test_no_progress_bar_when_standard_error_is_not_a_terminal(tiny_model, capsys):
    assert main(["run", str(tiny_model)]) == 0
    assert capsys.readouterr().err == ""
