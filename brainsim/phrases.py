"""Short phrases for parts of a model, shared by `brainsim info` and the notebook's tables:
how a projection connects ("fixed probability p=0.5") and whether its synapse learns."""

from __future__ import annotations

from brainsim import ir
from brainsim.integrators import format_expr


def connection_rule(rule: ir.ConnectionRule) -> str:
    """"fixed probability p=0.1", "one to one", "fixed in-degree 80", "120 listed edges", ..."""
    match rule:
        case ir.FixedProbability(p=float() as p):
            return f"fixed probability p={p:g}"
        case ir.FixedProbability(p=p):
            return f"probability {format_expr(p)} per pair"
        case ir.OneToOne():
            return "one to one"
        case ir.AllToAll():
            return "all to all"
        case ir.FixedIndegree(n=n):
            return f"fixed in-degree {n}"
        case ir.FixedOutdegree(n=n):
            return f"fixed out-degree {n}"
        case ir.FixedTotalNumber(n=n):
            return f"{n} synapses in total"
        case ir.EdgeList(pre=pre):
            return f"{len(pre)} listed edges"
    raise TypeError(f"not a connection rule: {rule!r}")


def plasticity(synapse: ir.SynapseModel) -> str:
    """", plastic (event-driven: on pre, on post)", or "" for a static synapse."""
    if not synapse.plastic:
        return ""
    blocks = [name for name, block in (("on pre", synapse.on_pre), ("on post", synapse.on_post)) if block]
    if synapse.equations:
        blocks.append(f"{len(synapse.equations)} equation(s)")
    driven = "clock-driven, every synapse every step" if synapse.clock_driven else "event-driven"
    return f", plastic ({driven}: {', '.join(blocks)})"
