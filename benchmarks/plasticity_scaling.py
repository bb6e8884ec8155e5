"""A plastic (event-driven STDP) projection: the time per step follows the spikes, not the synapses.

    python benchmarks/plasticity_scaling.py [--duration 0.2]

Poisson inputs (N_pre) onto 1000 target neurons, all to all, with the
contract's pair STDP (traces relaxed exactly between events); each target is
kicked to fire by its own Poisson drive. Three configurations:

    A  10^5 synapses (100 x 1000), pre 20 Hz, post 5 Hz
    B  10^6 synapses (1000 x 1000), pre 2 Hz, post 0.5 Hz    the same synaptic events per step as A
    C  10^6 synapses (1000 x 1000), pre 20 Hz, post 5 Hz     ten times the events of B

If the cost of a step followed the synapses, B would cost 10 x A; if it follows
the spikes, B costs about A and C about 10 x B. Each row prints both backends'
run time per step (jax: after compilation) and whether they agree bit for bit.
"""

from __future__ import annotations

import argparse
import time

from brainsim import ir
from brainsim.backends.jax_backend import JaxSimulation, configure
from brainsim.backends.numpy_backend import NumpySimulation
from brainsim.results import compare_results
from brainsim.units import DIMENSIONLESS

ms = 1e-3


def _v(name: str) -> ir.Var:
    return ir.Var(name)


def _decay(x: str, tau: str) -> ir.Expr:
    return ir.Binary(ir.BinaryOp.DIV, ir.Unary(ir.UnaryOp.NEG, _v(x)), _v(tau))


def _params(**values: float) -> tuple[ir.Parameter, ...]:
    return tuple(ir.Parameter(k, v, DIMENSIONLESS) for k, v in values.items())


def _state(name: str, value: float) -> ir.StateVariable:
    return ir.StateVariable(name, DIMENSIONLESS, ir.Constant(value))


def _add(variable: str, value: ir.Expr) -> ir.Assignment:
    return ir.Assignment(variable, ir.AssignOp.ADD, value)


def network(n_pre: int, pre_rate: float, post_rate: float, duration: float, n_post: int = 1000) -> ir.Network:
    target = ir.NeuronModel(
        name="Target", parameters=_params(tau=10 * ms, tau_g=5 * ms),
        states=(_state("v", 0.0), _state("g", 0.0)), inputs=(),
        equations=(ir.Equation("v", _decay("v", "tau")), ir.Equation("g", _decay("g", "tau_g"))),
        threshold=ir.Binary(ir.BinaryOp.GT, _v("v"), ir.Const(1.0)),
        reset=(ir.Assignment("v", ir.AssignOp.SET, ir.Const(0.0)),), refractory=0.0,
    )
    stdp = ir.SynapseModel(
        name="STDP", parameters=_params(tau_pre=20 * ms, tau_post=20 * ms, A_pre=0.01, A_post=-0.0105, w_max=1.0),
        states=(_state("w", 0.5), _state("a_pre", 0.0), _state("a_post", 0.0)),
        on_pre=(_add("g", _v("w")), _add("a_pre", _v("A_pre")),
                _add("w", ir.Binary(ir.BinaryOp.MUL, _v("a_post"), _v("w_max")))),
        equations=(ir.Equation("a_pre", _decay("a_pre", "tau_pre")), ir.Equation("a_post", _decay("a_post", "tau_post"))),
        on_post=(_add("a_post", _v("A_post")), _add("w", ir.Binary(ir.BinaryOp.MUL, _v("a_pre"), _v("w_max")))),
        bounds=(ir.Bound("w", 0.0, 1.0),),
    )
    kick = ir.SynapseModel("Kick", (), (_state("w", 10.0),), (_add("v", _v("w")),))
    return ir.Network(
        simulation=ir.SimulationSettings(dt=0.1 * ms, duration=duration, seed=1),
        regions=(ir.Region("In", ("In.pre", "In.drive")), ir.Region("Out", ("Out.post",))),
        populations=(
            ir.Population("In.pre", "In", n_pre, ir.PoissonSource(ir.Constant(pre_rate))),
            ir.Population("In.drive", "In", n_post, ir.PoissonSource(ir.Constant(post_rate))),
            ir.Population("Out.post", "Out", n_post, target),
        ),
        projections=(
            ir.Projection("In.drive->Out.post", "In.drive", "Out.post", kick, ir.OneToOne(), ir.Constant(0.1 * ms)),
            ir.Projection("In.pre->Out.post", "In.pre", "Out.post", stdp, ir.AllToAll(), ir.Constant(0.1 * ms)),
        ),
        stimuli=(), spike_records=(), state_records=(), source_name="plasticity_scaling",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=0.2)
    args = parser.parse_args()
    configure()
    steps = round(args.duration / 1e-4)
    print(f"{'config':<8}{'synapses':>10}{'pre Hz':>8}{'post Hz':>8}{'numpy us/step':>15}{'jax us/step':>13}  identical")
    for name, n_pre, pre_rate, post_rate in (("A", 100, 20.0, 5.0), ("B", 1000, 2.0, 0.5), ("C", 1000, 20.0, 5.0)):
        net = network(n_pre, pre_rate, post_rate, args.duration)
        a = NumpySimulation(net).run()
        simulation = JaxSimulation(net)
        simulation.run()  # compiles
        started = time.perf_counter()
        b = simulation.run()
        jax_seconds = time.perf_counter() - started
        print(f"{name:<8}{n_pre * 1000:>10}{pre_rate:>8g}{post_rate:>8g}{a.run_seconds / steps * 1e6:>15.1f}"
              f"{b.run_seconds / steps * 1e6:>13.1f}  {compare_results(a, b).identical}  (jax wall {jax_seconds:.2f} s)")


if __name__ == "__main__":
    main()
