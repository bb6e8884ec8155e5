"""A stimulus on chosen neurons (`stimulus R.probe[2:5] { ... }`): the selected neurons get
exactly what the same stimulus on the whole population gives them, the others nothing,
for every waveform, on both backends bit for bit (docs/language.md, `stimulus`).

The probe population `R.probe` comes after `R.first` of the same model, so both are one
group and the probe's neurons do not start at 0 there: the selection is placed at its
offset in the group.
"""

import dataclasses

import numpy as np
import pytest

import brainsim
from brainsim.backends import compile_network
from brainsim.cli import describe

from .identity import assert_identical

PROBE = """
simulation {{ dt = 0.1 ms  duration = 3 ms  seed = 7 }}
neuron Probe {{ inputs {{ I = 0 nA }} }}
region R {{ first = Probe[3]  probe = Probe[6] }}
stimulus R.first {{ I += 0.25 nA }}
stimulus R.probe{selection} {{ I += {waveform} }}
record I of R.probe
"""

WAVEFORMS = {
    "constant": "2 nA",
    "pulses": "pulses(period = 1 ms, width = 0.3 ms, amplitude = 1 nA, start = 0.2 ms)",
    "steps": "steps(times = [1 ms, 2 ms], amplitudes = [25 nA, 0 nA])",
    "sinusoid": "sinusoid(amplitude = 1 nA, frequency = 250 Hz, offset = 0.5 nA, stop = 2.5 ms)",
    "from_file": 'from_file("current.csv", interpolation = linear)',
    "ou": "ou(mean = 0.5 nA, std = 1 nA, tau = 2 ms)",
}


def probe(tmp_path, selection: str, waveform: str) -> np.ndarray:
    """The input I of every probe neuron in every step (rows: steps), from both backends."""
    (tmp_path / "current.csv").write_text("t [ms], I [nA]\n0.2, 1\n0.5, 4\n0.9, 2\n")
    path = tmp_path / "probe.brain"
    path.write_text(PROBE.format(selection=selection, waveform=waveform))
    model = brainsim.load(path)
    numpy_results, jax_results = model.compile("numpy").run(), model.compile("jax").run()
    assert_identical(numpy_results, jax_results)
    return numpy_results.traces[("R.probe", "I")].values


@pytest.mark.parametrize("waveform", WAVEFORMS.values(), ids=WAVEFORMS.keys())
@pytest.mark.parametrize("selection, selected", [("[2:5]", [2, 3, 4]), ("[4]", [4]), ("[:2]", [0, 1])])
def test_selected_neurons_get_what_the_whole_population_gets_and_the_others_nothing(
    tmp_path, waveform, selection, selected
):
    whole = probe(tmp_path, "", waveform)
    chosen = probe(tmp_path, selection, waveform)
    others = [k for k in range(6) if k not in selected]
    assert np.any(whole[:, selected] != 0.0)  # the waveform does drive them
    assert np.array_equal(chosen[:, selected], whole[:, selected])
    assert np.all(chosen[:, others] == 0.0)


def test_a_selection_of_every_neuron_is_the_whole_population(tmp_path):
    assert np.array_equal(probe(tmp_path, "[0:6]", WAVEFORMS["ou"]), probe(tmp_path, "", WAVEFORMS["ou"]))


def test_an_ir_stimulus_may_select_any_ascending_neurons(tmp_path):
    """Through the Python API the neurons need not be a slice: (0, 2, 5) of the probe."""
    network = brainsim.loads(PROBE.format(selection="", waveform="2 nA"), "probe.brain").network
    first, whole = network.stimuli
    chosen = dataclasses.replace(network, stimuli=(first, dataclasses.replace(whole, indices=(0, 2, 5))))
    results = [compile_network(chosen, backend=b).run() for b in ("numpy", "jax")]
    assert_identical(*results)
    values = results[0].traces[("R.probe", "I")].values
    assert np.all(values[:, [0, 2, 5]] == 2e-9) and np.all(values[:, [1, 3, 4]] == 0.0)


LIF = """
simulation { dt = 0.1 ms  duration = 20 ms  seed = 2 }
neuron LIF {
    parameters { tau_m = 10 ms  E_L = -70 mV  V_th = -55 mV  R_m = 10 Mohm }
    inputs     { I_ext = 0 nA }
    state      { v = E_L }
    equations  { dv/dt = (E_L - v + R_m * I_ext) / tau_m }
    spike when v > V_th
    reset      { v = E_L }
}
"""


def test_a_selection_drives_v_as_a_population_of_just_those_neurons_would():
    """Retina.cells[1:3] of 4 neurons against a population split into 1 + 2 + 1 neurons,
    only the middle one driven: the same v for the driven neurons, E_L for the rest."""
    drive = "I_ext += 2 nA  I_ext += pulses(period = 5 ms, width = 2 ms, amplitude = 1 nA)"
    selected = brainsim.loads(LIF + f"""
region Retina {{ cells = LIF[4] }}
stimulus Retina.cells[1:3] {{ {drive} }}
record v of Retina
record spikes of Retina
""", "selected.brain")
    split = brainsim.loads(LIF + f"""
region Retina {{ before = LIF[1]  cells = LIF[2]  after = LIF[1] }}
stimulus Retina.cells {{ {drive} }}
record v of Retina.before, Retina.cells, Retina.after
""", "split.brain")
    results = selected.compile("numpy").run()
    assert_identical(results, selected.compile("jax").run())
    reference = split.compile("numpy").run().traces
    v = results.traces[("Retina.cells", "v")].values
    assert np.array_equal(v[:, 1:3], reference[("Retina.cells", "v")].values)
    assert np.array_equal(v[:, [0]], reference[("Retina.before", "v")].values)
    assert np.array_equal(v[:, [3]], reference[("Retina.after", "v")].values)
    assert np.all(v[:, [0, 3]] == -70e-3)
    assert set(results.spikes["Retina.cells"].indices.tolist()) == {1, 2}


def test_a_region_of_one_population_takes_a_selection():
    model = brainsim.loads(LIF + """
region Retina { cells = LIF[4] }
stimulus Retina[3] { I_ext += 2 nA }
""", "region.brain")
    (stimulus,) = model.network.stimuli
    assert (stimulus.population, stimulus.indices) == ("Retina.cells", (3,))


def test_info_shows_each_stimulus_s_neurons():
    model = brainsim.loads(LIF + """
region Retina { cells = LIF[6] }
stimulus Retina.cells[3] { I_ext += 2 nA }
stimulus Retina.cells[0:5] { I_ext += steps(times = [1 ms, 2 ms], amplitudes = [25 nA, 0 nA]) }
stimulus Retina { I_ext += 1 nA }
""", "info.brain")
    lines = describe(model).splitlines()
    assert "  Retina.cells[3].I_ext += constant 2e-09" in lines
    assert "  Retina.cells[0:5].I_ext += steps at 2 time(s) from 1 ms" in lines
    assert "  Retina.cells.I_ext += constant 1e-09" in lines
