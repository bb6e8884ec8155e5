"""Explicit methods: forward Euler and the Runge–Kutta methods rk2 (midpoint) and rk4 (classic).

A Runge–Kutta step is named stages: for each stage i, every integrated variable
x gets its stage value `_y{i}_x` = x + a_i dt `_k{i-1}_x` and its derivative
`_k{i}_x` = f evaluated at the stage values (the right-hand side with each
state variable renamed to its stage value, and `t` to `_t{i}` = t + c_i dt),
never the previous stage's expression inlined, so the work per stage stays one
right-hand side. The fractions of dt are host constants (`_dt_2` = dt / 2), so no
backend folds or reassociates them.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from brainsim import ir
from brainsim.integrators.clamping import held_derivative, hold
from brainsim.integrators.rewrite import add, mul, substitute, var

Stages = tuple[tuple[str, ir.Expr], ...]
Updates = tuple[tuple[str, ir.Expr], ...]
Constants = tuple[tuple[str, float], ...]


def euler(model: ir.NeuronModel, held: frozenset[str]) -> Updates:
    """x' = x + dt * f(x) for every equation."""
    return tuple(
        (e.variable, _held_if(e.variable, add(var(e.variable), mul(var("dt"), e.rhs)), held)) for e in model.equations
    )


@dataclass(frozen=True, slots=True)
class Tableau:
    """An explicit Runge–Kutta method whose stage i > 1 reads only stage i - 1 (Butcher
    tableau with one entry per row, below the diagonal, equal to its node c_i).

    `nodes` are c_2 .. c_s (stage i at t + c_i dt, from x + c_i dt k_{i-1}), `weights`
    b_1 .. b_s (x' = x + sum b_i dt k_i); all unit fractions or zero.
    """

    nodes: tuple[Fraction, ...]
    weights: tuple[Fraction, ...]


TABLEAUS = {
    ir.Method.RK2: Tableau(nodes=(Fraction(1, 2),), weights=(Fraction(0), Fraction(1))),
    ir.Method.RK4: Tableau(
        nodes=(Fraction(1, 2), Fraction(1, 2), Fraction(1)),
        weights=(Fraction(1, 6), Fraction(1, 3), Fraction(1, 3), Fraction(1, 6)),
    ),
}


def runge_kutta(model: ir.NeuronModel, tableau: Tableau, dt: float, held: frozenset[str]) -> tuple[Stages, Updates, Constants]:
    """The stages, updates and constants of one step of `tableau`.

    While refractory a held variable's stage derivatives are zero, so the other
    variables' stages see it held.
    """
    constants: dict[str, float] = {}

    def dt_times(fraction: Fraction) -> ir.Expr:
        if fraction == 1:
            return var("dt")
        name = f"_dt_{fraction.denominator}"
        constants[name] = dt / fraction.denominator
        return var(name)

    names = [e.variable for e in model.equations]
    reads_time = any("t" in ir.free_names(e.rhs) for e in model.equations)
    stages: list[tuple[str, ir.Expr]] = []

    def derivatives(i: int, renamed: dict[str, ir.Expr]) -> None:
        for e in model.equations:
            derivative = substitute(e.rhs, renamed)
            stages.append((f"_k{i}_{e.variable}", held_derivative(derivative) if e.variable in held else derivative))

    derivatives(1, {})
    for i, node in enumerate(tableau.nodes, start=2):
        step = dt_times(node)
        stages.extend((f"_y{i}_{x}", add(var(x), mul(step, var(f"_k{i - 1}_{x}")))) for x in names)
        renamed: dict[str, ir.Expr] = {x: var(f"_y{i}_{x}") for x in names}
        if reads_time:
            stages.append((f"_t{i}", add(var("t"), step)))
            renamed["t"] = var(f"_t{i}")
        derivatives(i, renamed)
    updates = []
    for x in names:
        new: ir.Expr = var(x)
        for i, weight in enumerate(tableau.weights, start=1):
            if weight:
                new = add(new, mul(dt_times(weight), var(f"_k{i}_{x}")))
        updates.append((x, _held_if(x, new, held)))
    return tuple(stages), tuple(updates), tuple(constants.items())


def _held_if(name: str, new: ir.Expr, held: frozenset[str]) -> ir.Expr:
    return hold(name, new) if name in held else new
