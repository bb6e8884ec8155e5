"""Figures of a run (brainsim/plotting.py), `brainsim plot`, and the Jupyter HTML views.

Everything is drawn headless (Agg) and the written PNG files are read back with
matplotlib and checked to hold a picture; the drawn artists are checked against
the run's own numbers (a raster point per spike, a rate per bin, a line per trace).
"""

import base64
import io
import re
import sys
from dataclasses import replace
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.colors  # noqa: E402
import matplotlib.image  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import brainsim  # noqa: E402
from brainsim import plotting  # noqa: E402
from brainsim.cli import main  # noqa: E402
from brainsim.errors import ExportError, MissingExtraError, NotRecordedError, UnknownNameError  # noqa: E402
from brainsim.model import Model  # noqa: E402
from tiny_lif import tiny_model  # noqa: E402

MODELS = Path(__file__).parent.parent / "models"
VISUAL = MODELS / "visual_pathway.brain"
LEARNING = MODELS / "visual_pathway_learning.brain"

# Two populations, one recorded; a synapse without any state (no weight to draw).
PARTLY_RECORDED = tiny_model("""\
synapse Kick { on pre { v += 1 mV } }
region Area { seen = LIF[4]  unseen = LIF[3] }
connect Area.seen -> Area.unseen with Kick { p = 1 }
stimulus Area { I_ext += 3 nA }
record spikes of Area.seen
record v of Area.seen[0:2]
""", duration="30 ms", seed=3)


@pytest.fixture(scope="module")
def visual():
    return brainsim.load(VISUAL).compile().run()


@pytest.fixture(scope="module")
def learning():
    return brainsim.load(LEARNING).compile().run(duration=0.1)


@pytest.fixture(scope="module")
def partly():
    return brainsim.loads(PARTLY_RECORDED).compile().run()


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def assert_picture(image: np.ndarray) -> None:
    """A decoded image with pixels in it that are not all one colour (axes, ticks, data)."""
    assert image.ndim == 3 and image.shape[0] > 50 and image.shape[1] > 50
    rgb = np.rint(image[..., :3] * 255).astype(np.int64)
    colours = np.unique(rgb[..., 0] << 16 | rgb[..., 1] << 8 | rgb[..., 2])
    assert len(colours) > 10 and image.std() > 0.01


def written_picture(path: Path) -> np.ndarray:
    assert path.stat().st_size > 1000
    return matplotlib.image.imread(path)


# --------------------------------------------------------------------------- figures


def test_raster_has_a_point_per_spike_at_its_time_and_row(visual, tmp_path):
    ax = visual.plot_raster()
    names = list(visual.spikes)
    scatters = ax.collections
    assert len(scatters) == len(names)
    offset = 0
    for name, scatter in zip(names, scatters):
        trains = visual.spikes[name]
        points = scatter.get_offsets()
        assert len(points) == len(trains.times) > 0
        np.testing.assert_array_equal(points[:, 0], trains.times * 1e3)
        np.testing.assert_array_equal(points[:, 1], offset + trains.indices)
        offset += trains.size
    assert [label.get_text() for label in ax.get_yticklabels()] == names
    assert ax.get_xlabel() == "time (ms)" and "neuron index" in ax.get_ylabel()
    assert ax.get_xlim() == (0.0, 150.0) and ax.get_ylim() == (34.5, -0.5)
    # one colour per region
    assert len({tuple(s.get_facecolor()[0]) for s in scatters}) == 3
    ax.figure.savefig(tmp_path / "raster.png")
    assert_picture(written_picture(tmp_path / "raster.png"))


def test_raster_of_chosen_populations_and_regions(visual):
    ax = visual.plot_raster(["V1.simple"])
    assert len(ax.collections) == 1
    assert len(ax.collections[0].get_offsets()) == len(visual.spikes["V1.simple"].times)
    ax = visual.plot_raster(["Visual_Association", "Retina"])  # a region stands for its populations
    assert [label.get_text() for label in ax.get_yticklabels()] == ["Retina.photoreceptors", "Visual_Association.out"]


def test_a_dense_raster_is_visible(tmp_path):
    """Rows thinner than a tick: each spike becomes a dot, and the dots cover the plot."""
    dense = brainsim.loads("simulation { dt = 0.1 ms  duration = 50 ms  seed = 1 }\n"
                           "region Input { noise = PoissonSource[3000] { rate = 40 Hz } }\n"
                           "record spikes of Input\n").compile().run()
    ax = dense.plot_raster()
    assert len(ax.collections[0].get_offsets()) == len(dense.spikes["Input.noise"].times) > 3000
    ax.figure.savefig(tmp_path / "dense.png", dpi=100)
    image = written_picture(tmp_path / "dense.png")
    blue = np.abs(image[..., :3] - matplotlib.colors.to_rgb("C0")).sum(axis=-1) < 0.3
    assert blue.sum() > 2000  # pixels of the data's colour


def test_traces_draw_each_recorded_neuron_in_mV(visual):
    trace = visual.traces[("V1.simple", "v")]
    ax = visual.plot_traces("V1.simple", "v")
    assert len(ax.lines) == 3
    for j, line in enumerate(ax.lines):
        np.testing.assert_allclose(line.get_ydata(), trace.values[:, j] * 1e3)
        np.testing.assert_array_equal(line.get_xdata(), trace.times * 1e3)
    assert ax.get_ylabel() == "v (mV)" and ax.get_xlabel() == "time (ms)"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["neuron 0", "neuron 1", "neuron 2"]
    # the only record, found without naming it; a subset of its neurons
    assert len(visual.plot_traces(neurons=[2]).lines) == 1


def test_rates_are_spikes_per_neuron_per_second_in_each_bin(visual):
    ax = visual.plot_rates()
    stairs = ax.patches
    assert len(stairs) == 3
    edges, counts = plotting.psth_counts(visual, list(visual.spikes))
    assert len(edges) == 31  # 5 ms bins over 150 ms
    for name, step in zip(visual.spikes, stairs):
        data = step.get_data()
        np.testing.assert_allclose(data.edges, edges * 1e3)
        np.testing.assert_allclose(data.values * visual.spikes[name].size * 0.005, counts[name])
        assert counts[name].sum() == len(visual.spikes[name].times)
    assert ax.get_ylabel() == "rate (Hz)" and ax.get_xlabel() == "time (ms)"


def test_rate_bins_hold_the_spikes_stamped_in_them(visual):
    """A spike is stamped at its step's end, so it belongs to (edge_k, edge_k+1]."""
    edges, counts = plotting.psth_counts(visual, ["Retina.photoreceptors"], bin_width=0.002)
    times = visual.spikes["Retina.photoreceptors"].times
    bins = np.searchsorted(edges, times, side="left") - 1
    np.testing.assert_array_equal(counts["Retina.photoreceptors"], np.bincount(bins, minlength=len(edges) - 1))
    assert len(edges) == 76


@pytest.mark.parametrize("width", [0.00015, 0.0, -0.005, float("nan")])
def test_a_bin_width_is_a_positive_whole_number_of_steps(visual, width):
    with pytest.raises(brainsim.InvalidValueError, match="whole number of steps"):
        visual.plot_rates(bin_width=width)


def test_isi_histogram_counts_every_interval(visual):
    ax = visual.plot_isi("V1.simple", bins=40)
    trains = visual.spikes["V1.simple"]
    fired = np.bincount(trains.indices, minlength=trains.size)
    step = ax.patches[0].get_data()
    assert len(step.values) == 40
    assert step.values.sum() == (fired - 1)[fired > 0].sum()
    assert ax.get_xlabel() == "interspike interval (ms)"


def test_weight_histogram_counts_every_synapse_in_nA(visual):
    projection = "Retina.photoreceptors->V1.simple"
    ax = visual.plot_weights(projection, bins=20)
    synapses = visual.synapses[projection]
    assert len(ax.patches) == 20
    assert sum(p.get_height() for p in ax.patches) == len(synapses.pre) > 0
    assert ax.get_xlabel() == "w (nA) at 150 ms" and ax.get_ylabel() == "synapses"


def test_weights_of_unknown_unit_are_drawn_as_held(visual):
    """Results read back from a file that keeps no units: SI values, and the label says so."""
    projection = "V1.simple->Visual_Association.out"
    held = visual.synapses[projection]
    bare = replace(visual, synapses={projection: replace(held, units={})})
    ax = bare.plot_weights(projection, bins=5)
    assert ax.get_xlabel() == "w (SI units) at 150 ms"
    left, last = ax.patches[0].get_x(), ax.patches[-1]
    assert left <= held.states["w"].min() <= held.states["w"].max() <= last.get_x() + last.get_width()  # not scaled


def test_weight_evolution_draws_recorded_synapses_and_their_mean(learning):
    projection = "Retina.photoreceptors->V1.simple"
    trace = learning.synapse_traces[(projection, "w")]
    ax = learning.plot_weight_evolution(projection)
    assert len(ax.lines) == 50 + 1  # 50 of the 99 synapses, and the mean of all
    mean = ax.lines[-1]
    np.testing.assert_allclose(mean.get_ydata(), trace.values.mean(axis=1) * 1e9)
    np.testing.assert_allclose(mean.get_xdata(), [50.0, 100.0])  # the snapshots within 100 ms
    assert ax.get_ylabel() == "w (nA)"


def test_plots_draw_on_a_given_axes(visual):
    figure, axes = plt.subplots(2)
    assert visual.plot_raster(ax=axes[1]) is axes[1]
    assert visual.plot_weights("V1.simple->Visual_Association.out", ax=axes[0]) is axes[0]
    assert axes[1].figure is figure


def test_weights_figure_puts_each_histogram_beside_its_evolution(learning):
    axes = plotting.figure(learning, "weights").axes
    assert len(axes) == 4  # two projections; only the first recorded over time
    assert [a.get_ylabel() for a in axes] == ["synapses", "w (nA)", "synapses", ""]
    assert not axes[3].axison


# --------------------------------------------------------------------------- bad input


def test_a_figure_of_an_unknown_kind(visual):
    with pytest.raises(brainsim.InvalidValueError, match="cannot draw 'voltage'; a figure is one of: raster, traces"):
        plotting.figure(visual, "voltage")


def test_a_population_whose_spikes_were_not_recorded(partly):
    with pytest.raises(NotRecordedError) as caught:
        partly.plot_raster(["Area.unseen"])
    message = str(caught.value)
    assert "Area.unseen" in message and "recorded: Area.seen" in message
    assert "record spikes of Area.unseen" in message
    for plot in (partly.plot_rates, partly.plot_isi):
        with pytest.raises(NotRecordedError, match="Area.unseen"):
            plot("Area.unseen")


def test_a_population_the_network_does_not_have(partly):
    with pytest.raises(UnknownNameError, match="no population or region 'Area.sen'") as caught:
        partly.plot_raster("Area.sen")
    assert "did you mean `Area.seen`?" in str(caught.value)


def test_a_trace_that_was_not_recorded(partly):
    with pytest.raises(NotRecordedError, match=r"^not recorded: v of Area.unseen was not recorded; recorded: v of Area.seen"):
        partly.plot_traces("Area.unseen", "v")
    with pytest.raises(NotRecordedError, match=r"neuron\(s\) 3; recorded: 0, 1"):
        partly.plot_traces("Area.seen", neurons=[0, 3])


def test_several_traces_fit_until_it_is_said_which():
    results = brainsim.loads(PARTLY_RECORDED + "record I_ext of Area.seen[1]\n").compile().run()
    with pytest.raises(brainsim.InvalidValueError, match="2 records fit a variable of Area.seen; "
                                                         "say which: v of Area.seen, I_ext of Area.seen"):
        results.plot_traces("Area.seen")
    ax = results.plot_traces(variable="I_ext")
    assert ax.get_ylabel() == "I_ext (nA)"
    np.testing.assert_allclose(ax.lines[0].get_ydata(), 3.0)


def test_a_projection_without_weights(partly):
    with pytest.raises(NotRecordedError, match=r"Area.seen->Area.unseen has no synapse state 'w' .*none"):
        partly.plot_weights("Area.seen->Area.unseen")
    with pytest.raises(UnknownNameError, match="no projection 'Area.seen->Area'"):
        partly.plot_weights("Area.seen->Area")


def test_weights_not_recorded_over_time(visual):
    with pytest.raises(NotRecordedError, match="the run recorded no synapse state over time") as caught:
        visual.plot_weight_evolution("Retina.photoreceptors->V1.simple")
    assert "record w of" in str(caught.value)


def test_a_run_that_recorded_no_spikes():
    results = brainsim.loads(PARTLY_RECORDED.replace("record spikes of Area.seen\n", "")).compile().run()
    with pytest.raises(NotRecordedError, match="recorded no spikes"):
        results.plot_raster()


def test_without_matplotlib_the_error_names_the_extra(visual, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now fails
    with pytest.raises(MissingExtraError, match=re.escape('pip install "brainsim-lang[plot]"')):
        visual.plot_raster()
    html = visual._repr_html_()
    assert "<img" not in html and "brainsim-lang[plot]" in html and "<table>" in html


def test_saving_to_a_folder_that_does_not_exist_leaves_the_results(visual, tmp_path):
    spikes = len(visual.spikes["V1.simple"].times)
    with pytest.raises(ExportError, match="cannot write the figure .*No such file or directory"):
        plotting.save_figure(plotting.figure(visual, "raster"), tmp_path / "missing" / "raster.png")
    assert len(visual.spikes["V1.simple"].times) == spikes
    with pytest.raises(ExportError, match=r"matplotlib writes \.eps, .*\.png"):
        plotting.save_figure(plotting.figure(visual, "raster"), tmp_path / "raster.xyz")


# --------------------------------------------------------------------------- the command


@pytest.mark.parametrize("what", ["raster", "traces", "rates", "isi", "weights"])
def test_brainsim_plot_writes_the_figure(what, tmp_path, capsys):
    path = tmp_path / f"{what}.png"
    assert main(["plot", str(VISUAL), "-o", str(path), "--what", what, "--duration", "40ms"]) == 0
    out = capsys.readouterr().out
    assert "V1.simple" in out and f"wrote the {what} figure to {path}" in out
    assert_picture(written_picture(path))


def test_brainsim_plot_draws_a_raster_by_default_as_svg(tmp_path, capsys):
    path = tmp_path / "run.svg"
    assert main(["plot", str(VISUAL), "-o", str(path), "--duration", "20ms", "--seed", "3"]) == 0
    assert path.read_text().lstrip().startswith("<?xml") and "raster" in capsys.readouterr().out


def test_brainsim_plot_rejects_an_unknown_figure(tmp_path, capsys):
    with pytest.raises(SystemExit) as caught:
        main(["plot", str(VISUAL), "-o", str(tmp_path / "x.png"), "--what", "voltage"])
    assert caught.value.code == 2
    assert "invalid choice: 'voltage'" in capsys.readouterr().err


def test_brainsim_plot_to_an_unwritable_path_still_prints_the_statistics(tmp_path, capsys):
    path = tmp_path / "missing" / "raster.png"
    assert main(["plot", str(VISUAL), "-o", str(path), "--duration", "20ms"]) == 2
    captured = capsys.readouterr()
    assert "Retina.photoreceptors" in captured.out  # the run's statistics
    assert f"cannot write the figure '{path}': No such file or directory" in captured.err
    assert "Traceback" not in captured.err


def test_brainsim_plot_rejects_an_unknown_format_before_running(tmp_path, capsys):
    assert main(["plot", str(VISUAL), "-o", str(tmp_path / "raster.pgn")]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # nothing ran
    assert "matplotlib writes" in captured.err and ".png" in captured.err


def test_brainsim_plot_of_a_record_the_model_lacks(tmp_path, capsys):
    model = tmp_path / "partly.brain"
    model.write_text(PARTLY_RECORDED.replace("record v of Area.seen[0:2]\n", ""))
    assert main(["plot", str(model), "-o", str(tmp_path / "t.png"), "--what", "traces"]) == 2
    captured = capsys.readouterr()
    assert "Area.seen" in captured.out and "recorded no traces" in captured.err


# --------------------------------------------------------------------------- Jupyter


def test_model_html_lists_populations_and_projections():
    html = brainsim.load(VISUAL)._repr_html_()
    rows = re.findall(r"<tr>(.*?)</tr>", html)
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in rows]
    assert ["V1.simple", "V1", "20", "SeedNeuron", ""] in cells
    assert ["Retina.photoreceptors-&gt;V1.simple", "Excitatory", "fixed probability p=0.5", "static"] in cells
    assert "seed 42" in html


def test_model_html_escapes_names():
    model = brainsim.load(LEARNING)
    network = model.network
    odd = replace(network.populations[0], name="<script>")
    html = Model(replace(network, populations=(odd, *network.populations[1:])))._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "plastic (event-driven: on pre)" in html


def test_results_html_has_the_statistics_and_a_raster(visual):
    html = visual._repr_html_()
    rows = re.findall(r"<tr>(.*?)</tr>", html)[1:]  # under the header
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in rows]
    assert len(cells) == len(visual.statistics())
    assert ["V1.simple", "population", "20", "128", "42.67", "0.064"] in cells
    encoded = re.search(r'<img src="data:image/png;base64,([^"]+)"', html).group(1)
    image = matplotlib.image.imread(io.BytesIO(base64.b64decode(encoded)), format="png")
    assert_picture(image)
    assert image.shape[:2] == (208, 480)


def test_the_readme_shows_a_raster_made_by_the_command_it_names(tmp_path, capsys):
    root = Path(__file__).parent.parent
    readme = (root / "README.md").read_text(encoding="utf-8")
    command = "brainsim plot models/visual_pathway.brain -o docs/images/visual_pathway_raster.png"
    assert command in readme and "](docs/images/visual_pathway_raster.png)" in readme
    shown = root / "docs" / "images" / "visual_pathway_raster.png"
    assert shown.stat().st_size < 100_000
    assert main(["plot", str(VISUAL), "-o", str(tmp_path / "raster.png")]) == 0
    made = written_picture(tmp_path / "raster.png")
    assert_picture(written_picture(shown))
    assert written_picture(shown).shape == made.shape
