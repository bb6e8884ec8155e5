"""examples/simulation_demo.py (`brainsim demo`): the seed's five demonstrations print what they show."""

from __future__ import annotations

import re

from brainsim.cli import main as brainsim


def test_the_five_demos_print_their_results_and_draw_the_figures(tmp_path, capsys):
    figure = tmp_path / "demo.png"
    assert brainsim(["demo", "--plot", str(figure)]) == 0
    out = capsys.readouterr().out
    for title in ("1. Single neuron", "2. Nernst potentials", "3. Synaptic transmission", "4. Hebbian learning",
                  "5. Network simulation"):
        assert title in out
    assert "+30.0 mV (threshold -55 mV)" in out and "E_Na+     +66.6 mV" in out
    assert re.search(r"weight 2\.0 -> 2\.7649 nA", out)  # 10 x LTP: 10 - 8 * 0.99^10
    assert re.search(r"the postsynaptic neuron fires", out)
    rates = [float(r) for r in re.findall(r"spikes \(\s*([\d.]+) Hz\)", out)]
    assert len(rates) == 3 and rates[0] > rates[1] > rates[2] > 0
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_demo_prints_only_when_asked(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert brainsim(["demo", "--no-plot"]) == 0
    assert "figures:" not in capsys.readouterr().out and not list(tmp_path.iterdir())
