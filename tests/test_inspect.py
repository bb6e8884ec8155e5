"""Issue 10, items 2 and 5: the progress bar of a run, `brainsim info` (counts, memory,
methods, --ir) and `brainsim graph` (dot text and images), with their bad inputs."""

from __future__ import annotations

import fcntl
import io
import json
import os
import pty
import select
import shutil
import struct
import subprocess
import sys
import termios
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import numpy as np
import pytest

import brainsim
from brainsim.backends.memory import recording_bytes
from brainsim.cli import main
from brainsim.describe import describe, host_network, memory
from brainsim.errors import MissingExtraError, OutputFileError
from brainsim.graph import network_graph, save_graph
from brainsim.ir_text import format_ir
from brainsim.results import compare_results
from tiny_lif import tiny_model

MODELS = Path(__file__).parent.parent / "models"
HAS_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAS_DOT, reason="the Graphviz program `dot` is not installed")

# Two regions, one nested; an exact and a nonlinear (euler) model; a Poisson source;
# a plastic projection; state, spike and synapse records.
NETWORK = """\
simulation { dt = 0.1 ms  duration = 20 ms  seed = 5 }
neuron Leaky {
    parameters { tau = 10 ms  E_L = -70 mV  V_th = -55 mV }
    inputs { I_ext = 0 nA }
    state { v = uniform(-70 mV, -56 mV)  g = 0 mV }
    equations { dv/dt = (E_L - v + g + 10 Mohm * I_ext) / tau  dg/dt = -g / (5 ms) }
    spike when v > V_th
    reset { v = E_L }
    refractory 2 ms
}
neuron Quadratic {
    parameters { tau = 10 ms  E_L = -70 mV  V_c = -50 mV }
    state { v = -70 mV  g = 0 mV }
    equations { dv/dt = (v - E_L) * (v - V_c) / (10 mV) / tau + g / tau  dg/dt = -g / (5 ms) }
    spike when v > -40 mV
    reset { v = E_L }
}
synapse Kick { state { w = 2 mV }  on pre { g += w } }
synapse Brake { state { w = 1 mV }  on pre { g -= w } }
synapse Growing {
    state { w = 1 mV }
    bounds { w = [0 mV, 3 mV] }
    on pre { g += w  w += 0.1 mV }
}
region Cortex {
    excitatory exc = Leaky[40]
    inhibitory inh = Leaky[10]
    region Deep { out = Quadratic[8] }
}
region Thalamus { drive = PoissonSource[30] { rate = 40 Hz } }
connect Thalamus -> Cortex.exc with Kick { p = 0.3  delay = uniform(1 ms, 2 ms) }
connect Cortex.exc -> Cortex.inh with Kick { p = 0.2 }
connect Cortex.inh -> Cortex.exc with Brake { indegree = 3 }
connect Cortex.exc -> Cortex.Deep.out with Growing { total = 25 }
stimulus Cortex.exc[0:5] { I_ext += 2 nA }
record spikes of Cortex.exc, Cortex.Deep.out
record v of Cortex.exc[0:4]
record g of Cortex.Deep.out[0:2] every 1 ms
record w of Cortex.exc -> Cortex.Deep.out at [5 ms, 10 ms]
"""
PROJECTIONS = ["Thalamus.drive->Cortex.exc", "Cortex.exc->Cortex.inh", "Cortex.inh->Cortex.exc",
               "Cortex.exc->Cortex.Deep.out"]


@pytest.fixture
def network_file(tmp_path):
    path = tmp_path / "net.brain"
    path.write_text(NETWORK)
    return path


def _final_bar(text: str) -> str:
    """The last state of a tqdm bar written to a file (states are separated by carriage returns)."""
    states = [state.strip() for state in text.replace("\n", "\r").split("\r") if state.strip()]
    return states[-1]


class _Terminal(io.StringIO):
    """A text stream that says it is a terminal, as standard error is in an interactive shell."""

    def isatty(self) -> bool:
        return True


# --------------------------------------------------------------------------- progress


@pytest.mark.parametrize("backend", ["numpy", "jax"])
def test_a_bar_written_to_a_stream_ends_at_the_full_time_and_counts_the_chunks(backend):
    simulation = brainsim.loads(NETWORK).compile(backend=backend, chunk_steps=60)
    stream = io.StringIO()
    simulation.run(progress=stream)
    final = _final_bar(stream.getvalue())
    assert "100%" in final
    assert "0.02/0.02 s simulated" in final
    assert "4 chunks" in final  # 200 steps, at most 60 a chunk, ending at the snapshots (5, 10 ms): 50, 50, 60, 40
    assert "x real time" in final
    states = [s for s in stream.getvalue().split("\r") if "simulated" in s]
    assert any("0.005/0.02 s simulated" in s and "1 chunk," in s for s in states)  # moved after the first chunk


def test_progress_true_writes_to_standard_error_and_nothing_to_standard_output(capsys):
    brainsim.loads(NETWORK).compile(chunk_steps=100).run(progress=True)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "0.02/0.02 s simulated" in _final_bar(captured.err) and "2 chunks" in captured.err


def test_progress_is_off_by_default_when_standard_error_is_not_a_terminal(capsys):
    brainsim.loads(NETWORK).compile().run()  # pytest's capture is no terminal
    assert capsys.readouterr() == ("", "")


def test_progress_is_on_by_default_on_a_terminal_and_off_when_asked(monkeypatch):
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    simulation = brainsim.loads(NETWORK).compile()
    simulation.run(0.01)
    assert "0.01/0.01 s simulated" in _final_bar(terminal.getvalue())
    terminal.seek(0)
    terminal.truncate()
    simulation.run(0.01, progress=False)
    assert terminal.getvalue() == ""


@pytest.mark.parametrize("backend", ["numpy", "jax"])
def test_results_are_identical_with_and_without_progress(backend):
    model = brainsim.loads(NETWORK)
    quiet = model.compile(backend=backend, chunk_steps=70).run(progress=False)
    shown = model.compile(backend=backend, chunk_steps=70).run(progress=io.StringIO())
    comparison = compare_results(quiet, shown)
    assert comparison.identical, comparison.format()
    assert sum(len(s.times) for s in quiet.spikes.values()) > 0
    for name in PROJECTIONS:
        assert np.array_equal(quiet.synapses[name].states["w"], shown.synapses[name].states["w"])


@pytest.mark.parametrize("backend", ["numpy", "jax"])
def test_a_batch_bar_counts_the_time_of_every_member(backend):
    stream = io.StringIO()
    results = brainsim.loads(NETWORK).compile(backend=backend).run_batch(
        [{"Leaky.tau": f"{tau} ms"} for tau in (10, 12, 14)], 0.01, progress=stream)
    assert len(results) == 3
    final = _final_bar(stream.getvalue())
    assert final.startswith("3 runs:") and "0.03/0.03 s simulated" in final
    # 10 ms is two chunks, ending at the snapshot at 5 ms; jax runs the members together
    assert ("2 chunks" if backend == "jax" else "6 chunks") in final


@pytest.mark.parametrize("progress", ["yes", 1, 0.5])
def test_a_progress_that_is_no_switch_or_stream_is_refused_before_the_run(progress):
    simulation = brainsim.loads(NETWORK).compile()
    with pytest.raises(brainsim.InvalidValueError, match="progress is True"):
        simulation.run(progress=progress)
    assert simulation.steps_done == 0


def test_a_bad_duration_fails_before_a_bar_appears():
    stream = io.StringIO()
    with pytest.raises(brainsim.InvalidValueError, match="whole number of steps"):
        brainsim.loads(NETWORK).compile().run(0.00005, progress=stream)
    assert stream.getvalue() == ""


def test_brainsim_run_into_head_with_a_bar_on_the_terminal(network_file):
    """`brainsim run m.brain | head -1`: the bar on the terminal (standard error), the reader
    closing the pipe early, and neither a traceback nor an error status."""
    primary, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))  # a new terminal has 0 columns
    try:
        process = subprocess.Popen([sys.executable, "-m", "brainsim.cli", "run", str(network_file)],
                                   stdout=subprocess.PIPE, stderr=secondary, env={**os.environ, "COLUMNS": "120"})
        os.close(secondary)
        first = process.stdout.readline()
        process.stdout.close()  # what `head -1` does after one line
        terminal = b""
        while True:
            ready, _, _ = select.select([primary], [], [], 60)
            try:
                chunk = os.read(primary, 4096) if ready else b""
            except OSError:  # the process is gone and the terminal closed
                chunk = b""
            if not chunk:
                break
            terminal += chunk
        status = process.wait(timeout=60)
    finally:
        os.close(primary)
    assert first.startswith(str(network_file).encode())
    assert status == 0
    assert b"0.02/0.02 s simulated" in terminal
    assert b"Traceback" not in terminal


# --------------------------------------------------------------------------- info


def test_info_gives_each_projection_its_exact_synapse_count(network_file, capsys):
    assert main(["info", str(network_file)]) == 0
    out = capsys.readouterr().out
    host = brainsim.loads(NETWORK).compile().host
    counts = {c.projection.name: c.n_synapses for c in host.projections}
    assert counts["Cortex.inh->Cortex.exc"] == 40 * 3 and counts["Cortex.exc->Cortex.Deep.out"] == 25
    for name, count in counts.items():
        line = next(line for line in out.splitlines() if line.startswith(f"  {name}:"))
        assert line.endswith(f", {count:,} synapses"), line
    assert f"projections ({sum(counts.values()):,} synapses; counts exact" in out
    assert "populations (88 neurons):" in out


def test_info_counts_the_synapses_a_run_has(network_file, capsys):
    """The counts are those of the connectivity a run builds (its final synapse table)."""
    assert main(["info", str(network_file)]) == 0
    out = capsys.readouterr().out
    results = brainsim.loads(NETWORK).compile().run(0.001)
    for name in PROJECTIONS:
        assert f"{name}: " in out and f", {len(results.synapses[name].pre):,} synapses" in out


def test_info_names_the_method_of_each_neuron_model(network_file, capsys):
    assert main(["info", str(network_file)]) == 0
    out = capsys.readouterr().out
    assert "Cortex.exc: 40 x Leaky excitatory, exact integration (linear with constant coefficients)" in out
    assert "Cortex.Deep.out: 8 x Quadratic, euler integration (chosen automatically: dv/dt not linear" in out
    assert "Thalamus.drive: 30 x PoissonSource, rate 40 Hz" in out


@pytest.mark.parametrize("backend", ["numpy", "jax"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_the_memory_estimate_is_what_each_backend_holds(backend, dtype):
    model = brainsim.loads(NETWORK)
    estimate = memory(host_network(model.network), dtype)
    held = model.compile(backend=backend, dtype=dtype).memory()
    assert estimate == held
    assert estimate.synapses == model.compile(backend=backend, dtype=dtype).synapse_memory()
    assert estimate.state > 0 and estimate.buffers > 0 and estimate.other > 0


def test_the_recording_estimate_is_what_a_run_records():
    model = brainsim.loads(NETWORK)
    results = model.compile().run()
    recorded = sum(t.values.nbytes + t.times.nbytes for t in results.traces.values())
    recorded += sum(t.values.nbytes + t.times.nbytes for t in results.synapse_traces.values())
    host = host_network(model.network)
    assert recording_bytes(host, model.network.simulation.n_steps) == recorded
    assert recorded > 0


def test_info_prints_the_memory_by_kind_and_in_total(network_file, capsys):
    assert main(["info", str(network_file), "--dtype", "float32"]) == 0
    out = capsys.readouterr().out
    held = memory(host_network(brainsim.loads(NETWORK).network), "float32")
    rows = {line.split()[0]: line for line in out.splitlines()[out.splitlines().index(
        "memory in float32 (every array a backend holds; recordings for 20 ms):") + 1:]}
    assert rows["neuron"].split()[2:4] == [str(held.state), "B"]
    assert "B per synapse" in rows["synapses"] and "+ 16 B per recorded spike" in rows["recordings"]
    assert set(rows) == {"neuron", "synapses", "ring", "other", "recordings", "total"}


def test_info_ir_prints_the_lowered_network_one_line_per_item(tiny_ir_model, capsys):
    assert main(["info", "--ir", str(tiny_ir_model)]) == 0
    out = capsys.readouterr().out
    ir_text = out[out.index("lowered IR (SI units):\n") + len("lowered IR (SI units):\n"):].splitlines()
    assert ir_text[0] == f"Network simulation=SimulationSettings(dt=0.0001, duration=0.02, seed=1) source_name={tiny_ir_model}"
    for line in [
        "    Population Area.cells region=Area size=3",
        "      model: NeuronModel LIF threshold=`v > V_th` refractory=0.0",
        "          Parameter tau value=0.01 dimension=s",
        "          StateVariable v dimension=V initial=Constant(value=-0.07)",
        "          Input I_ext dimension=A default=0.0",
        "          Equation `dv/dt = (E_L - v + R * I_ext) / tau`",
        "          Assignment `v = E_L`",
        "    Population Area.more region=Area size=3",
        "      model: NeuronModel LIF threshold=`v > V_th` refractory=0.0 (as in Area.cells)",
        "    Projection Area.cells->Area.more source=Area.cells target=Area.more rule=OneToOne() "
        "delay=Constant(value=0.0001)",  # the default delay: one step
        "          Assignment `v += w`",
        "    Stimulus population=Area.cells variable=I_ext waveform=ConstantCurrent(amplitude=3e-09)",
        "    SpikeRecord population=Area.cells",
    ]:
        assert line in ir_text
    assert len([line for line in ir_text if "Parameter" in line]) == 4  # the second LIF is not printed again


@pytest.fixture
def tiny_ir_model(tmp_path):
    path = tmp_path / "tiny.brain"
    path.write_text(tiny_model("""\
synapse Jump { state { w = 1 mV }  on pre { v += w } }
region Area { cells = LIF[3]  more = LIF[3] }
connect Area.cells -> Area.more with Jump { rule = one_to_one }
stimulus Area.cells { I_ext += 3 nA }
record spikes of Area.cells
"""))
    return path


def test_the_ir_text_summarises_long_lists_and_covers_every_model():
    network = brainsim.loads(NETWORK.replace("record v of Cortex.exc[0:4]", "record v of Cortex.exc[0:30]")).network
    text = format_ir(network)
    assert "StateRecord population=Cortex.exc variable=v indices=(30 values from 0 to 29)" in text
    assert "Bound variable=w low=0.0 high=0.003" in text
    assert "SynapseRecord projection=Cortex.exc->Cortex.Deep.out variable=w times=(0.005, 0.01)" in text
    for path in sorted(MODELS.glob("*.brain")):
        lines = format_ir(brainsim.load(path).network).splitlines()
        model = brainsim.load(path).network
        for population in model.populations:
            assert any(line.strip().startswith(f"Population {population.name} ") for line in lines), path
        for projection in model.projections:
            assert any(line.strip().startswith(f"Projection {projection.name} ") for line in lines), path


# --------------------------------------------------------------------------- graph


def _nodes_and_edges(dot_text: str) -> tuple[dict, set, set]:
    """(node name -> label, the edges (tail, head, label), the cluster names), read back by Graphviz's own parser."""
    import graphviz

    layout = json.loads(graphviz.Source(dot_text).pipe(format="json0"))
    objects = layout.get("objects", [])
    nodes = {o["name"]: o["label"] for o in objects if "nodes" not in o and "subgraphs" not in o}
    clusters = {o["name"] for o in objects if o["name"].startswith("cluster_")}
    edges = {(objects[e["tail"]]["name"], objects[e["head"]]["name"], e["label"]) for e in layout.get("edges", [])}
    return nodes, edges, clusters


def test_graph_prints_dot_text_with_every_population_and_projection(network_file, capsys):
    assert main(["graph", str(network_file)]) == 0
    text = capsys.readouterr().out
    assert text.startswith("digraph net {")
    host = brainsim.loads(NETWORK).compile().host
    for population in brainsim.loads(NETWORK).network.populations:
        assert f'"{population.name}" [label=' in text
    for connectivity in host.projections:
        projection = connectivity.projection
        assert f'"{projection.source}" -> "{projection.target}" [label="{projection.synapse.name}\\n' \
               f'{connectivity.n_synapses:,} synapses\\n' in text
    assert "subgraph cluster_Cortex {" in text and '\tsubgraph "cluster_Cortex.Deep" {' in text


@needs_dot
def test_graphviz_reads_the_dot_text_back(network_file, capsys):
    assert main(["graph", str(network_file)]) == 0
    nodes, edges, clusters = _nodes_and_edges(capsys.readouterr().out)
    assert nodes == {
        "Cortex.exc": "exc\\n40 x Leaky excitatory",
        "Cortex.inh": "inh\\n10 x Leaky inhibitory",
        "Cortex.Deep.out": "out\\n8 x Quadratic",
        "Thalamus.drive": "drive\\n30 x PoissonSource",
    }
    assert clusters == {"cluster_Cortex", "cluster_Cortex.Deep", "cluster_Thalamus"}
    host = brainsim.loads(NETWORK).compile().host
    assert {(tail, head) for tail, head, _ in edges} == {
        (c.projection.source, c.projection.target) for c in host.projections}
    labels = {label for *_, label in edges}
    assert "Brake\\n120 synapses\\nfixed in-degree 3" in labels
    assert "Growing\\n25 synapses\\n25 synapses in total" in labels


def test_graph_writes_the_same_dot_text_to_a_file(network_file, tmp_path, capsys):
    assert main(["graph", str(network_file)]) == 0
    printed = capsys.readouterr().out
    for name in ("net.dot", "net.gv"):
        assert main(["graph", str(network_file), "-o", str(tmp_path / name)]) == 0
        assert (tmp_path / name).read_text() == printed


@needs_dot
def test_graph_draws_png_svg_and_pdf(network_file, tmp_path):
    from matplotlib import image

    model = brainsim.load(network_file)
    save_graph(model, tmp_path / "net.png")
    pixels = image.imread(tmp_path / "net.png")
    assert pixels.ndim == 3 and pixels.shape[0] > 100 and pixels.shape[1] > 100
    assert pixels.min() < 0.5 < pixels.max()  # something is drawn on the background
    save_graph(model, tmp_path / "net.svg")
    svg = ElementTree.parse(tmp_path / "net.svg").getroot()
    titles = {t.text for t in svg.iter("{http://www.w3.org/2000/svg}title")}
    assert {"Cortex.exc", "Cortex.inh", "Cortex.Deep.out", "Thalamus.drive", "cluster_Cortex.Deep"} <= titles
    save_graph(model, tmp_path / "net.pdf")
    assert (tmp_path / "net.pdf").read_bytes().startswith(b"%PDF-")


def test_a_graph_of_every_shipped_model():
    for path in sorted(MODELS.glob("*.brain")):
        text = network_graph(brainsim.load(path)).source
        for population in brainsim.load(path).network.populations:
            assert f'"{population.name}" [label=' in text, path


def test_a_graph_of_many_synapses_is_labelled_from_the_rules_without_drawing_them(monkeypatch):
    """As `brainsim info`, `graph` does not draw more than DRAW_AT_MOST synapses (here 10):
    a probability gives the expected count, an indegree or a total the exact one."""
    monkeypatch.setattr("brainsim.describe.DRAW_AT_MOST", 10)
    monkeypatch.setattr("brainsim.describe.build", lambda network: pytest.fail("the graph drew the synapses"))
    text = network_graph(brainsim.loads(NETWORK)).source
    assert "Kick\\n360 synapses (expected)\\nfixed probability p=0.3" in text
    assert "Brake\\n120 synapses\\nfixed in-degree 3" in text


@pytest.mark.parametrize("name", ["net.jpg", "net", "net.DOTX"])
def test_an_unknown_graph_extension_is_a_clear_error(network_file, tmp_path, name, capsys):
    assert main(["graph", str(network_file), "-o", str(tmp_path / name)]) == 2
    err = capsys.readouterr().err
    assert f"cannot write a graph to '{tmp_path / name}': unknown extension" in err
    assert ".dot" in err and ".png" in err and "Traceback" not in err
    assert not (tmp_path / name).exists()


def test_an_image_without_graphviz_installed_says_to_install_it(network_file, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` there
    assert main(["graph", str(network_file), "-o", str(tmp_path / "net.png")]) == 2
    err = capsys.readouterr().err
    assert "needs the Graphviz program `dot`, which is not installed" in err
    assert f"write the dot text with -o {tmp_path / 'net.dot'}" in err
    assert not (tmp_path / "net.png").exists()
    assert main(["graph", str(network_file), "-o", str(tmp_path / "net.dot")]) == 0  # dot text needs no program


def test_without_the_graphviz_package_the_error_names_the_extra(network_file, monkeypatch):
    monkeypatch.setitem(sys.modules, "graphviz", None)  # `import graphviz` raises ImportError
    with pytest.raises(MissingExtraError, match=r'pip install "brainsim-lang\[graph\]"'):
        network_graph(brainsim.load(network_file))


@pytest.mark.parametrize("name", ["net.dot", pytest.param("net.svg", marks=needs_dot)])
def test_an_unwritable_graph_path_is_a_clear_error(network_file, tmp_path, name, capsys):
    blocker = tmp_path / "file.txt"
    blocker.write_text("a file, not a folder")
    for path in (tmp_path / "missing" / name, blocker / name):
        assert main(["graph", str(network_file), "-o", str(path)]) == 2
        err = capsys.readouterr().err
        assert f"cannot write the graph to '{path}':" in err and "Traceback" not in err
