"""A hypothesis strategy for small, valid `.brain` programs built from the language's pieces
(docs/language.md): `programs()` draws a simulation block, one to three neuron models
(leaky, adaptive exponential, conductance-based, Izhikevich), each with its parameters,
equations, threshold, resets, refractory period and integration method; populations in
regions (nested, with per-neuron values and positions); spike sources; current-based and
plastic synapses with every connection rule; every stimulus waveform; and records of
spikes, states (sampled `every` whole steps) and synapse states.

Every program it draws is valid: the front end must accept it, and both backends must run
it to identical results. Times are whole steps of dt and sizes small, so a run takes
milliseconds once compiled.
"""

from dataclasses import dataclass, field

from hypothesis import strategies as st

DTS_MS = (0.1, 0.05, 0.2, 0.125, 0.25)


def _number(value: float) -> str:
    return f"{value:.6g}"


def _quantity(value: float, unit: str) -> str:
    """`value` with `unit` ("" for a number)."""
    return f"{_number(value)} {unit}".strip()


@dataclass
class Template:
    """A neuron model's text and what the rest of a program may do with it: the input a
    stimulus drives (and its unit), the state a synapse acts on (and its unit), and the
    states a record may name."""

    text: str
    name: str
    input: str
    input_unit: str
    target: str
    target_unit: str
    states: tuple[str, ...]
    parameters: dict[str, tuple[float, float, str]] = field(default_factory=dict)  # name: (low, high, unit)


@dataclass
class Program:
    text: str
    dt_ms: float
    steps: int


# --------------------------------------------------------------------------- neuron models


@st.composite
def _method(draw, linear: bool, noisy: bool) -> str:
    if noisy:
        return "method = euler"
    choices = ["", "method = rk2", "method = rk4", "method = euler"]
    if linear:
        choices += ["method = exact", "method = exponential_euler"]
    return draw(st.sampled_from(choices))


@st.composite
def _refractory(draw, dt_ms: float) -> str:
    steps = draw(st.sampled_from((0, 0, 1, 3, 20)))
    return f"refractory {_number(steps * dt_ms)} ms" if steps else ""


@st.composite
def leaky(draw, name: str, dt_ms: float) -> Template:
    """A leaky integrate-and-fire neuron, optionally adaptive, exponential, noisy or forced."""
    tau = draw(st.sampled_from((5, 10, 20)))
    e_l = draw(st.sampled_from((-70, -65)))
    v_th = e_l + draw(st.sampled_from((5, 10, 15)))
    adaptive = draw(st.booleans())
    exponential = draw(st.booleans())
    noisy = draw(st.booleans())
    forced = draw(st.sampled_from(("", "sin", "tanh", "clip", "where", "max")))
    parameters = f"tau_m = {tau} ms  E_L = {e_l} mV  V_th = {v_th} mV  V_reset = {e_l - 2} mV  R_m = 10 Mohm  tau_syn = {draw(st.sampled_from((2, 5)))} ms"
    drive = "E_L - v + R_m * (I_syn + I_ext)"
    states = "v = " + draw(st.sampled_from(("E_L", f"{e_l + 3} mV", f"uniform({e_l} mV, {v_th} mV)"))) + "  I_syn = 0 nA"
    equations = []
    reset = ["v = V_reset"]
    if adaptive:
        parameters += f"  a = {draw(st.sampled_from((1, 4)))} nS  b = {draw(st.sampled_from((0.05, 0.1)))} nA  tau_w = 100 ms"
        states += "  w = 0 nA"
        drive += " - R_m * w"
        equations.append("dw/dt = (a * (v - E_L) - w) / tau_w")
        reset.append("w += b")
    if exponential:
        parameters += "  delta_T = 2 mV  V_T = " + f"{v_th - 3} mV"
        drive += " + delta_T * exp((v - V_T) / delta_T)"
    forcing = {
        "": "",
        "sin": " + 2 mV * sin(2 * pi * t / (7 ms)) / tau_m",
        "tanh": " + 1 mV * tanh((v - E_L) / (5 mV)) / tau_m",
        "clip": " + clip(v - E_L, -1 mV, 1 mV) / tau_m",
        "where": " + (1 mV if v > E_L else -1 mV) / tau_m",
        "max": " + max(abs(v - E_L), 0.5 mV) / (50 ms)",
    }[forced]
    if noisy:
        parameters += "  sigma = 1 mV"
        forcing += " + sigma * sqrt(2 / tau_m) * xi"
    # An exponential neuron held at its reset by nothing runs away during a refractory period.
    unless = "  (unless refractory)" if exponential else draw(st.sampled_from(("", "  (unless refractory)")))
    equations = [f"dv/dt = ({drive}) / tau_m{forcing}{unless}", "dI_syn/dt = -I_syn / tau_syn", *equations]
    reset += draw(st.lists(st.sampled_from(("I_syn *= 0.5", "I_syn /= 2", "v -= 1 mV", "I_syn = 0 nA")), max_size=2))
    threshold = draw(st.sampled_from(("v > V_th", "v >= V_th", "not (v <= V_th)", "v > V_th or v > V_th + 5 mV")))
    linear = not (exponential or forced in ("tanh", "clip", "where", "max", "sin"))
    text = f"""neuron {name} {{
    parameters {{ {parameters} }}
    inputs     {{ I_ext = 0 nA }}
    state      {{ {states} }}
    equations  {{
        {chr(10).join("        " + e for e in equations).strip()}
    }}
    spike when {threshold}
    reset      {{ {"  ".join(reset)} }}
    {draw(_refractory(dt_ms))}
    {draw(_method(linear and not noisy, noisy))}
}}
"""
    return Template(text, name, "I_ext", "nA", "I_syn", "nA", ("v", "I_syn") + (("w",) if adaptive else ()),
                    {"tau_m": (tau * 0.8, tau * 1.2, "ms"), "E_L": (e_l - 2, e_l + 2, "mV")})


@st.composite
def conductance(draw, name: str, dt_ms: float) -> Template:
    """A conductance-based neuron: synapses open a channel with a reversal potential."""
    text = f"""neuron {name} {{
    parameters {{ tau = {draw(st.sampled_from((10, 20)))} ms  E_L = -60 mV  E_e = 0 mV  V_th = -50 mV  C = 200 pF  R = 100 Mohm  tau_e = 5 ms }}
    inputs     {{ I_ext = 0 nA }}
    state      {{ v = -60 mV  g_e = 0 nS }}
    equations  {{ dv/dt = (E_L - v + R * I_ext) / tau + g_e * (E_e - v) / C   dg_e/dt = -g_e / tau_e }}
    spike when v > V_th
    reset      {{ v = E_L }}
    {draw(_refractory(dt_ms))}
    {draw(_method(linear=False, noisy=False))}
}}
"""
    return Template(text, name, "I_ext", "nA", "g_e", "nS", ("v", "g_e"), {"tau_e": (4, 6, "ms")})


@st.composite
def izhikevich(draw, name: str, dt_ms: float) -> Template:
    """Izhikevich's dimensionless model, optionally one of its derived cell types."""
    a, d = draw(st.sampled_from(((0.02, 8), (0.1, 2), (0.02, 2))))
    text = f"""neuron {name}Base {{
    parameters {{ a = {a}  b = 0.2  c = -65  d = {d}  I_scale = 1 / (1 ms) }}
    inputs     {{ I = 0 }}
    state      {{ v = -65  u = b * -65  I_syn = 0 }}
    equations  {{
        dv/dt = (0.04 * v * v + 5 * v + 140 - u + I + I_syn) * I_scale
        du/dt = a * (b * v - u) * I_scale
        dI_syn/dt = -I_syn / (5 ms)
    }}
    spike when v >= 30
    reset      {{ v = c  u += d }}
    {draw(_method(linear=False, noisy=False))}
}}
neuron {name} = {name}Base {draw(st.sampled_from(("", "{ d = 4 }", "{ a = 0.05  c = -55 }")))}
"""
    return Template(text, name, "I", "", "I_syn", "", ("v", "u"), {"a": (0.01, 0.03, "")})


# --------------------------------------------------------------------------- the network


@dataclass
class Population:
    path: str  # the qualified name, Region.pop
    size: int
    template: Template | None  # None: a spike source


@st.composite
def _initial_override(draw, template: Template) -> str:
    """A population's overrides: a parameter drawn per neuron, or none."""
    name = draw(st.sampled_from(sorted(template.parameters)))
    low, high, unit = template.parameters[name]
    value = draw(st.sampled_from((
        f"uniform({_quantity(low, unit)}, {_quantity(high, unit)})",
        f"normal({_quantity((low + high) / 2, unit)}, {_quantity((high - low) / 10, unit)}, low = {_quantity(low, unit)})",
        _quantity(high, unit),
    )))
    return draw(st.sampled_from(("", f" {{ {name} = {value} }}")))


@st.composite
def _spike_source(draw, name: str, dt_ms: float, steps: int) -> tuple[str, int]:
    size = draw(st.integers(1, 6))
    if draw(st.booleans()):
        rate = draw(st.sampled_from((
            "50 Hz", "1 kHz / 4", f"[{', '.join(f'{10 * (k + 1)} Hz' for k in range(size))}]",
            "uniform(5 Hz, 300 Hz)", "100 Hz + t * 1000 Hz/s",
        )))
        return f"{name} = PoissonSource[{size}] {{ rate = {rate} }}", size
    spikes = draw(st.lists(st.tuples(st.integers(0, size - 1), st.integers(1, steps)), unique=True, max_size=8))
    spikes.sort(key=lambda spike: spike[1])
    indices = ", ".join(str(neuron) for neuron, _ in spikes)
    times = ", ".join(f"{_number(step * dt_ms)} ms" for _, step in spikes)
    return f"{name} = SpikeTimes[{size}] {{ indices = [{indices}]  times = [{times}] }}", size


@st.composite
def _selection(draw, population: Population) -> str:
    n = population.size
    kind = draw(st.sampled_from(("all", "one", "slice")))
    if kind == "one":
        return f"{population.path}[{draw(st.integers(0, n - 1))}]"
    if kind == "slice":
        start = draw(st.integers(0, n - 1))
        return f"{population.path}[{start}:{draw(st.integers(start + 1, n))}]"
    return population.path


@st.composite
def _stimulus(draw, population: Population, dt_ms: float, steps: int) -> str:
    unit = population.template.input_unit
    amount = draw(st.sampled_from((0.5, 1.0, 2.5, 10.0))) * (1 if unit else 5)

    def at(step):
        return f"{_number(step * dt_ms)} ms"

    period = draw(st.integers(1, 30))
    start = draw(st.integers(0, steps))
    kind = draw(st.sampled_from(("constant", "pulses", "steps", "sinusoid", "ou")))
    if kind == "constant":
        waveform = _quantity(amount, unit)
    elif kind == "pulses":
        stop = draw(st.sampled_from(("", f", stop = {at(start + draw(st.integers(1, steps)))}")))
        waveform = (f"pulses(period = {at(period)}, width = {at(draw(st.integers(1, period)))}, "
                    f"amplitude = {_quantity(amount, unit)}, start = {at(start)}{stop})")
    elif kind == "steps":
        times = sorted(draw(st.lists(st.integers(0, steps), min_size=1, max_size=4, unique=True)))
        waveform = (f"steps(times = [{', '.join(at(step) for step in times)}], "
                    f"amplitudes = [{', '.join(_quantity(amount * (k % 3), unit) for k in range(len(times)))}])")
    elif kind == "sinusoid":
        stop = draw(st.sampled_from(("", f", stop = {at(start + draw(st.integers(1, steps)))}")))
        waveform = (f"sinusoid(amplitude = {_quantity(amount, unit)}, frequency = {draw(st.sampled_from((0, 50, 333)))} Hz, "
                    f"phase = {draw(st.sampled_from((0, 0.5)))}, offset = {_quantity(amount / 2, unit)}, start = {at(start)}{stop})")
    else:
        waveform = f"ou(mean = {_quantity(amount, unit)}, std = {_quantity(amount / 4, unit)}, tau = {at(period)})"
    return f"stimulus {draw(_selection(population))} {{ {population.template.input} += {waveform} }}"


def _synapse_models(templates: list[Template]) -> tuple[str, dict[tuple[str, bool], str]]:
    """One current-like and one plastic synapse model per target variable and unit: their text,
    and their names by (target variable and unit, plastic)."""
    text, names = [], {}
    for target, unit in sorted({(t.target, t.target_unit) for t in templates}):
        key = f"{target}_{unit or 'one'}"
        weight = {"nA": 0.5, "nS": 2.0, "": 3.0}[unit]
        text.append(f"synapse Static_{key} {{ state {{ w = {_quantity(weight, unit)} }}  on pre {{ {target} += w }} }}")
        text.append(f"""synapse Plastic_{key} {{
    parameters {{ tau_pre = 10 ms  tau_post = 12 ms  A_pre = 0.1  A_post = -0.12  w_max = {_quantity(2 * weight, unit)} }}
    state      {{ w = {_quantity(weight, unit)}  a_pre = 0  a_post = 0 }}
    bounds     {{ w = [{_quantity(0, unit)}, w_max] }}
    equations  {{ da_pre/dt = -a_pre / tau_pre  da_post/dt = -a_post / tau_post }}
    on pre     {{ {target} += w  a_pre += A_pre  w += a_post * w_max }}
    on post    {{ a_post += A_post  w += a_pre * w_max }}
}}""")
        names[(f"{target} {unit}", False)] = f"Static_{key}"
        names[(f"{target} {unit}", True)] = f"Plastic_{key}"
    return "\n".join(text) + "\n", names


@st.composite
def _connect(draw, source: Population, target: Population, synapse: str, unit: str, dt_ms: float) -> str:
    settings = []
    rule = draw(st.sampled_from(("all", "p", "indegree", "outdegree", "total", "one_to_one", "condition")))
    if rule == "p":
        settings.append(f"p = {draw(st.sampled_from((0, 0.3, 1)))}")
    elif rule == "indegree":
        settings.append(f"indegree = {draw(st.integers(1, source.size))}  multapses = {draw(st.sampled_from(('true', 'false')))}")
    elif rule == "outdegree":
        settings.append(f"outdegree = {draw(st.integers(1, target.size))}")
    elif rule == "total":
        settings.append(f"total = {draw(st.integers(0, 10))}")
    elif rule == "one_to_one" and source.size == target.size:
        settings.append("rule = one_to_one")
    elif rule == "condition":
        settings.append("condition = i != j")
    weight = {"nA": 0.4, "nS": 1.5, "": 2.0}[unit]
    settings.append(draw(st.sampled_from((
        "", f"weight = {_quantity(weight, unit)}", f"weight = uniform({_quantity(weight / 2, unit)}, {_quantity(weight, unit)})",
        f"weight = normal({_quantity(weight, unit)}, {_quantity(weight / 5, unit)}, low = {_quantity(0, unit)})",
        f"weight = lognormal({_quantity(weight, unit)}, {_quantity(weight / 3, unit)})",
        f"weight = {_quantity(weight / 4, unit)} + {_quantity(weight / 4, unit)} * j / N_post",
    ))))
    delay_steps = draw(st.integers(1, 15))
    settings.append(draw(st.sampled_from((
        "", f"delay = {_number(delay_steps * dt_ms)} ms",
        f"delay = uniform({_number(dt_ms)} ms, {_number((delay_steps + 1) * dt_ms)} ms)",
    ))))
    if source.path == target.path and (rule in ("indegree", "outdegree", "total") or draw(st.booleans())):
        settings.append("autapses = true")  # without, a degree may ask more of a neuron than the others hold
    body = "  ".join(s for s in settings if s)
    return f"connect {source.path} -> {target.path} with {synapse}" + (f" {{ {body} }}" if body else "")


@st.composite
def programs(draw) -> Program:
    """A small valid model: its text, dt (ms) and number of steps."""
    dt_ms = draw(st.sampled_from(DTS_MS))
    steps = draw(st.integers(5, 60))
    kinds = draw(st.lists(st.sampled_from((leaky, leaky, conductance, izhikevich)), min_size=1, max_size=3))
    templates = [draw(kind(f"Model{k}", dt_ms)) for k, kind in enumerate(kinds)]
    populations: list[Population] = []
    regions = []
    for k in range(draw(st.integers(1, 3))):
        template = draw(st.sampled_from(templates))
        size = draw(st.integers(1, 8))
        nested = draw(st.booleans())
        path = f"Area{k}.L{k}.cells" if nested else f"Area{k}.cells"
        position = draw(st.sampled_from(("", f" at grid({size}, spacing = 10 um)", " at box(x = 100 um, y = 50 um)")))
        population = f"cells = {template.name}[{size}]{position}{draw(_initial_override(template))}"
        regions.append(f"region Area{k} {{ region L{k} {{ {population} }} }}" if nested else f"region Area{k} {{ {population} }}")
        populations.append(Population(path, size, template))
    sources = []
    for k in range(draw(st.integers(0, 2))):
        line, size = draw(_spike_source(f"s{k}", dt_ms, steps))
        sources.append(line)
        populations.append(Population(f"Input.s{k}", size, None))
    if sources:
        regions.append("region Input { " + "  ".join(sources) + " }")
    neurons = [p for p in populations if p.template is not None]
    synapse_text, synapse_names = _synapse_models(templates)
    connects, pairs = [], set()
    for _ in range(draw(st.integers(0, 3))):
        source = draw(st.sampled_from(populations))
        target = draw(st.sampled_from(neurons))
        if (source.path, target.path) in pairs:  # one synapse model per pair, so records name its states
            continue
        pairs.add((source.path, target.path))
        unit = target.template.target_unit
        plastic = draw(st.booleans())
        synapse = synapse_names[(f"{target.template.target} {unit}", plastic)]
        connects.append(draw(_connect(source, target, synapse, unit, dt_ms)))
    stimuli = [draw(_stimulus(draw(st.sampled_from(neurons)), dt_ms, steps)) for _ in range(draw(st.integers(0, 3)))]
    records = [f"record spikes of {', '.join(p.path for p in populations)}"]
    for population in draw(st.lists(st.sampled_from(neurons), max_size=2, unique_by=lambda p: p.path)):
        variables = draw(st.lists(st.sampled_from(population.template.states), min_size=1, unique=True))
        every = draw(st.sampled_from(("", f" every {_number(draw(st.integers(1, 5)) * dt_ms)} ms")))
        records.append(f"record {', '.join(variables)} of {draw(_selection(population))}{every}")
    plastic_records = set()
    for line in connects:
        words = line.split()
        if words[5].startswith("Plastic") and (words[1], words[3]) not in plastic_records:
            plastic_records.add((words[1], words[3]))
            records.append(f"record w, a_pre of {words[1]} -> {words[3]}")
    text = "\n".join([
        f"simulation {{ dt = {_number(dt_ms)} ms  duration = {_number(steps * dt_ms)} ms  seed = {draw(st.integers(0, 2**64 - 1))} }}",
        *(t.text for t in templates), synapse_text, *regions, *connects, *stimuli, *records,
    ]) + "\n"
    return Program(text, dt_ms, steps)
