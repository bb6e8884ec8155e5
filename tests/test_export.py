"""Export of results (brainsim.export): each format written, then read back with its own
library (numpy, Neo and Elephant, pynwb, h5py and libsonata) and compared exactly with
the run; `brainsim run --output`; and every bad input, after which the results are intact."""

import json
import re
import sys
import uuid
from pathlib import Path

import h5py
import numpy as np
import pytest

import brainsim
from brainsim.cli import main
from brainsim.errors import ExportError, MissingExtraError
from brainsim.export import load_npz
from brainsim.results import compare_results

MODELS = Path(__file__).parent.parent / "models"
LEARNING = MODELS / "visual_pathway_learning.brain"


def learning_model() -> brainsim.Model:
    """The plastic visual pathway (synapse snapshots), with a trace sampled every step, one
    sampled every 2 ms, one with a single sample, and Visual_Association's spikes not recorded."""
    text = LEARNING.read_text().replace(
        "record spikes of Retina, V1, Visual_Association",
        "record spikes of Retina, V1\nrecord v of V1[0:3]\nrecord I_syn of V1[2:4] every 2 ms\n"
        "record v of Visual_Association[0:2] every 150 ms")
    return brainsim.loads(text, filename=str(LEARNING))


@pytest.fixture(scope="module")
def results():
    return learning_model().compile().run()


def parts(folder: Path) -> list[str]:
    """The files in `folder`: a failed or finished export leaves no temporary file."""
    return sorted(p.name for p in folder.iterdir())


# --------------------------------------------------------------------------- npz


def test_npz_round_trip_is_bit_for_bit(results, tmp_path):
    path = results.save(tmp_path / "run.npz", description="the plastic visual pathway")
    assert path == tmp_path / "run.npz" and parts(tmp_path) == ["run.npz"]
    loaded = load_npz(path)
    assert compare_results(results, loaded).identical  # spikes, traces, final states, synapses, snapshots
    for name in ("backend", "dt", "duration", "start", "compile_seconds", "run_seconds", "regions"):
        assert getattr(loaded, name) == getattr(results, name)
    assert list(loaded.spike_counts) == list(results.spike_counts)
    assert list(loaded.spikes) == ["Retina.photoreceptors", "V1.simple"]
    assert list(loaded.traces) == list(results.traces)
    assert [t.unit for t in loaded.traces.values()] == ["V", "A", "V"]
    assert loaded.synapse_traces[("Retina.photoreceptors->V1.simple", "w")].unit == "A"
    projection = "Retina.photoreceptors->V1.simple"
    assert loaded.synapses[projection].units == results.synapses[projection].units and results.synapses[projection].units["w"] == "A"
    assert loaded.format_table() == results.format_table()

    with np.load(path) as archive:  # the documented keys, readable with numpy alone
        assert archive["meta/description"] == "the plastic visual pathway"
        assert np.array_equal(archive["spikes/V1.simple/times"], results.spikes["V1.simple"].times)
        assert np.array_equal(archive["spike_counts/Visual_Association.out"],
                              results.spike_counts["Visual_Association.out"])
        assert np.array_equal(archive["traces/V1.simple/I_syn/values"], results.traces[("V1.simple", "I_syn")].values)
        w = results.synapses["Retina.photoreceptors->V1.simple"]
        assert np.array_equal(archive["synapses/Retina.photoreceptors->V1.simple/states/w"], w.states["w"])
        assert np.array_equal(archive["synapses/Retina.photoreceptors->V1.simple/pre"], w.pre)
        assert "spikes/Visual_Association.out/times" not in archive.files


def test_load_npz_rejects_a_file_that_is_not_a_results_archive(tmp_path):
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(brainsim.InvalidValueError, match="other.npz' is not a brainsim results archive"):
        load_npz(tmp_path / "other.npz")
    (tmp_path / "text.npz").write_text("not a zip")
    with pytest.raises(brainsim.InvalidValueError, match="cannot read results archive .*text.npz"):
        load_npz(tmp_path / "text.npz")


# --------------------------------------------------------------------------- Neo and Elephant


def test_neo_block_holds_a_spike_train_per_neuron_and_a_signal_per_trace(results):
    import quantities as pq

    block = results.to_neo()
    block.check_relationships()  # each object's parent links are those of the lists that hold it
    segment, = block.segments
    assert len(segment.spiketrains) == 10 + 20  # Retina and V1: their spikes were recorded
    for train in segment.spiketrains:
        spikes = results.spikes[train.annotations["population"]]
        mine = spikes.times[spikes.indices == train.annotations["neuron"]]
        assert np.array_equal(train.rescale(pq.s).magnitude, mine)
        assert (train.t_start, train.t_stop) == (0.0 * pq.s, 0.15 * pq.s)
    assert segment.spiketrains[13].name == "V1.simple[3]"

    v, i_syn = segment.analogsignals
    trace = results.traces[("V1.simple", "v")]
    assert (v.name, v.units, v.annotations) == ("V1.simple.v", pq.V, {"population": "V1.simple", "variable": "v"})
    assert np.array_equal(v.magnitude, trace.values) and np.array_equal(v.array_annotations["neuron"], [0, 1, 2])
    assert v.t_start == trace.times[0] * pq.s and v.sampling_period == results.dt * pq.s
    assert i_syn.units == pq.A and i_syn.sampling_period == pytest.approx(2e-3 * pq.s, rel=1e-12)
    assert np.array_equal(i_syn.magnitude, results.traces[("V1.simple", "I_syn")].values)
    single, = segment.irregularlysampledsignals  # one sample: no sampling period
    assert single.times == [0.15] * pq.s and single.shape == (1, 2)

    groups = {group.name: group for group in block.groups}
    assert list(groups) == ["Retina.photoreceptors", "V1.simple", "Visual_Association.out"]
    assert len(groups["V1.simple"].spiketrains) == 20
    assert [id(s) for s in groups["V1.simple"].analogsignals] == [id(v), id(i_syn)]


# Elephant (1.2) passes quantities (0.16) its deprecated `copy` argument.
@pytest.mark.filterwarnings("ignore:The 'copy' argument in Quantity is deprecated:quantities.QuantitiesDeprecationWarning")
def test_elephant_statistics_on_exported_spikes_match_brainsim(results):
    import elephant.statistics as statistics

    trains = [t for t in results.to_neo().segments[0].spiketrains if t.annotations["population"] == "V1.simple"]
    rates = [float(statistics.mean_firing_rate(t).rescale("Hz").magnitude) for t in trains]
    assert rates == pytest.approx(results.spike_counts["V1.simple"] / results.duration, rel=1e-12)
    cvs = [statistics.cv(statistics.isi(t).magnitude) for t in trains if len(t) >= 3]
    row, = [r for r in results.statistics() if r.name == "V1.simple"]
    assert len(cvs) > 10 and np.mean(cvs) == pytest.approx(row.cv_isi, rel=1e-12)


def test_neo_spans_a_continued_run(tmp_path):
    import quantities as pq

    simulation = brainsim.load(MODELS / "visual_pathway.brain").compile()
    simulation.run(duration=0.05)
    later = simulation.run(duration=0.1)
    segment, = later.to_neo().segments
    assert all((t.t_start, t.t_stop) == (0.05 * pq.s, 0.15 * pq.s) for t in segment.spiketrains)
    assert sum(len(t) for t in segment.spiketrains) == sum(len(s.times) for s in later.spikes.values())
    assert segment.analogsignals[0].t_start == pytest.approx(0.0501 * pq.s, rel=1e-12)


# --------------------------------------------------------------------------- NWB


def test_nwb_round_trip_with_pynwb(results, tmp_path):
    import pynwb

    path = results.save(tmp_path / "run.nwb", description="brainsim run visual_pathway_learning.brain")
    assert parts(tmp_path) == ["run.nwb"]
    with pynwb.NWBHDF5IO(str(path), "r") as io:
        nwbfile = io.read()
        assert nwbfile.session_description == "brainsim run visual_pathway_learning.brain"
        assert uuid.UUID(nwbfile.identifier) and nwbfile.session_start_time.tzinfo is not None
        assert nwbfile.was_generated_by[0][0] == "brainsim-lang"

        units = nwbfile.units
        assert len(units) == 30 and list(units["population"][:])[9:11] == ["Retina.photoreceptors", "V1.simple"]
        for row in range(len(units)):
            population, neuron = units["population"][row], units["neuron"][row]
            spikes = results.spikes[population]
            assert np.array_equal(units["spike_times"][row], spikes.times[spikes.indices == neuron])
            assert np.array_equal(units["obs_intervals"][row], [[0.0, 0.15]])

        v = nwbfile.acquisition["V1.simple.v"]
        trace = results.traces[("V1.simple", "v")]
        assert np.array_equal(v.data[:], trace.values) and v.unit == "V"
        assert (v.starting_time, v.rate) == (trace.times[0], 1 / results.dt)
        assert json.loads(v.comments) == {"population": "V1.simple", "variable": "v", "neurons": [0, 1, 2]}
        i_syn = nwbfile.acquisition["V1.simple.I_syn"]
        assert i_syn.unit == "A" and i_syn.rate == pytest.approx(500.0, rel=1e-12)
        assert np.array_equal(i_syn.data[:], results.traces[("V1.simple", "I_syn")].values)
        single = nwbfile.acquisition["Visual_Association.out.v"]
        assert single.rate is None and np.array_equal(single.timestamps[:], [0.15])

        w = nwbfile.processing["synapses"]["Retina.photoreceptors->V1.simple.w"]
        snapshots = results.synapse_traces[("Retina.photoreceptors->V1.simple", "w")]
        assert np.array_equal(w.data[:], snapshots.values) and w.unit == "A"
        assert (w.starting_time, w.rate) == (0.05, pytest.approx(20.0, rel=1e-12))


# --------------------------------------------------------------------------- SONATA


def test_sonata_spike_file_as_the_spec_lays_it_out(results, tmp_path):
    path = results.save(tmp_path / "spikes.h5")
    assert parts(tmp_path) == ["spikes.h5"]
    with h5py.File(path, "r") as file:
        assert file.attrs["magic"] == 0x0A7A and file.attrs["magic"].dtype == np.uint32
        assert list(file.attrs["version"]) == [0, 1]
        assert list(file["spikes"]) == ["Retina.photoreceptors", "V1.simple"]
        for name, group in file["spikes"].items():
            assert h5py.check_enum_dtype(group.attrs.get_id("sorting").dtype) == {"none": 0, "by_id": 1, "by_time": 2}
            assert group.attrs["sorting"] == 2  # by_time
            assert group["timestamps"].attrs["units"] == "ms" and group["node_ids"].dtype == np.uint64
            assert np.array_equal(group["timestamps"][:], results.spikes[name].times * 1e3)
            assert np.array_equal(group["node_ids"][:], results.spikes[name].indices)
            assert np.all(np.diff(group["timestamps"][:]) >= 0)


def test_sonata_spike_file_read_by_libsonata(results, tmp_path):
    import libsonata  # the SONATA reference reader: it requires `sorting` to be the spec's enum

    reader = libsonata.SpikeReader(str(results.save(tmp_path / "spikes.h5")))
    assert reader.get_population_names() == ["Retina.photoreceptors", "V1.simple"]
    population = reader["V1.simple"]
    assert str(population.sorting) == "by_time"
    node_ids, timestamps = population.get_dict()["node_ids"], population.get_dict()["timestamps"]
    assert np.array_equal(node_ids, results.spikes["V1.simple"].indices)
    assert np.array_equal(timestamps, results.spikes["V1.simple"].times * 1e3)


# --------------------------------------------------------------------------- save and the CLI


def test_format_may_be_named_whatever_the_extension(results, tmp_path):
    path = results.save(tmp_path / "run.dat", format="npz")
    assert compare_results(results, load_npz(path)).identical


def test_cli_writes_the_output_after_the_statistics(tmp_path, capsys):
    output = tmp_path / "run.npz"
    assert main(["run", str(MODELS / "visual_pathway.brain"), "--output", str(output)]) == 0
    out = capsys.readouterr().out
    assert out.index("V1.simple") < out.index(f"results written to {output}")
    api = brainsim.load(MODELS / "visual_pathway.brain").compile().run()
    assert compare_results(api, load_npz(output)).identical


def test_cli_writes_nwb_with_the_model_as_session_description(tmp_path, capsys):
    import pynwb

    output = tmp_path / "run.nwb"
    model = str(MODELS / "visual_pathway.brain")
    assert main(["run", model, "--duration", "20ms", "-o", str(output)]) == 0
    with pynwb.NWBHDF5IO(str(output), "r") as io:
        nwbfile = io.read()
        assert nwbfile.session_description == f"brainsim run {model}"
        assert len(nwbfile.units) == 35 and nwbfile.acquisition["V1.simple.v"].data.shape == (200, 3)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("name, detail", [
    ("run.xyz", "the extension '.xyz' names no format"),
    ("run", "a file name without an extension names no format"),
    ("missing/run.npz", "the folder '.*missing' does not exist"),
    ("afile.txt/run.npz", "'.*afile.txt' is not a folder"),
    ("adir.npz", "it is a folder"),
    # sysfs refuses new files even to root, who may write anywhere else (tests run as root in CI).
    pytest.param("/sys/run.npz", r"the folder '/sys' cannot be written to \(Permission denied\)",
                 marks=pytest.mark.skipif(not Path("/sys/kernel").is_dir(), reason="no sysfs here")),
])
def test_bad_output_paths_are_refused_and_the_results_kept(results, tmp_path, name, detail):
    (tmp_path / "afile.txt").write_text("in the way")
    (tmp_path / "adir.npz").mkdir()
    path = tmp_path / name
    with pytest.raises(ExportError, match=f"results not written to {re.escape(repr(str(path)))}: {detail}") as caught:
        results.save(path)
    message = str(caught.value)
    assert "the results in memory are intact" in message
    if "extension" in detail:
        assert ".npz (numpy arrays), .nwb (Neurodata Without Borders), .h5 (SONATA spike file)" in message
    assert parts(tmp_path) == ["adir.npz", "afile.txt"]  # nothing written
    assert compare_results(results, load_npz(results.save(tmp_path / "after.npz"))).identical


def test_an_unknown_format_name_lists_the_known_ones(results, tmp_path):
    with pytest.raises(ExportError, match="unknown format 'nix'; the known formats are npz, nwb, sonata"):
        results.save(tmp_path / "run.nix", format="nix")


@pytest.mark.parametrize("library, name, extra", [("pynwb", "run.nwb", "nwb"), ("h5py", "spikes.h5", "sonata")])
def test_a_missing_library_names_the_extra_to_install(results, tmp_path, monkeypatch, library, name, extra):
    monkeypatch.setitem(sys.modules, library, None)  # `import library` now fails as if it were not installed
    path = tmp_path / name
    with pytest.raises(ExportError, match=f"results not written to {re.escape(repr(str(path)))}") as caught:
        results.save(path)
    assert f'needs {library}, which is not installed: pip install "brainsim-lang[{extra}]"' in str(caught.value)
    assert parts(tmp_path) == []


def test_to_neo_without_neo_names_the_extra(results, monkeypatch):
    monkeypatch.setitem(sys.modules, "neo", None)
    with pytest.raises(MissingExtraError, match=r'needs neo, which is not installed: pip install "brainsim-lang\[neo\]"'):
        results.to_neo()


def test_a_failed_write_keeps_the_file_there_and_the_results(tmp_path):
    """A spike file of a run that recorded no spikes fails in the writer, after every check:
    no partial file is left, an earlier file at the path stays, and the results still save."""
    quiet = brainsim.loads(LEARNING.read_text().replace("record spikes of Retina, V1, Visual_Association", ""),
                           filename=str(LEARNING)).compile().run()
    earlier = quiet.save(tmp_path / "run.h5", format="npz")
    with pytest.raises(ExportError, match="no spikes were recorded.*the results in memory are intact"):
        quiet.save(earlier, format="sonata")
    assert parts(tmp_path) == ["run.h5"]
    assert compare_results(quiet, load_npz(earlier)).identical  # the earlier file, unchanged
    assert quiet.format_table() and compare_results(quiet, load_npz(quiet.save(tmp_path / "again.npz"))).identical


def test_cli_refuses_a_bad_output_before_running(tmp_path, capsys):
    assert main(["run", str(MODELS / "visual_pathway.brain"), "--output", str(tmp_path / "run.csv")]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # nothing was simulated
    assert "cannot write" in captured.err and "the extension '.csv' names no format" in captured.err
    assert main(["run", str(MODELS / "visual_pathway.brain"), "--output", str(tmp_path / "gone" / "run.npz")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_cli_reports_an_export_that_fails_after_the_run(tmp_path, capsys):
    model = tmp_path / "quiet.brain"
    model.write_text((MODELS / "visual_pathway.brain").read_text().replace(
        "record spikes of Retina, V1, Visual_Association", ""))
    assert main(["run", str(model), "--output", str(tmp_path / "spikes.h5")]) == 2
    captured = capsys.readouterr()
    assert "V1.simple" in captured.out  # the statistics came first
    assert captured.err.startswith(f"results not written: cannot write '{tmp_path / 'spikes.h5'}': no spikes were recorded")
    assert parts(tmp_path) == ["quiet.brain"]
