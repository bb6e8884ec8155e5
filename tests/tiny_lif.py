"""The leaky integrate-and-fire neuron of the small models the command-line, plotting
and inspection tests write: `tiny_model(body)` puts a simulation block and the neuron
`LIF` (input `I_ext`, state `v`) before `body` (regions, stimuli, records)."""


def tiny_model(body: str, duration: str = "20 ms", seed: int = 1) -> str:
    return f"""\
simulation {{ dt = 0.1 ms  duration = {duration}  seed = {seed} }}
neuron LIF {{
    parameters {{ tau = 10 ms  E_L = -70 mV  V_th = -55 mV  R = 10 Mohm }}
    inputs {{ I_ext = 0 nA }}
    state {{ v = E_L }}
    equations {{ dv/dt = (E_L - v + R * I_ext) / tau }}
    spike when v > V_th
    reset {{ v = E_L }}
}}
{body}"""
