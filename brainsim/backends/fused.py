"""The numpy backend's compiled loops (`compiled_updates`): each group's delivery of arriving
events, state update and fire phase, and each static pathway's scheduling of a step's
spikes, as one C call.

numpy runs an update as one call per operation over the whole array: a few µs each, most
of it Python's and numpy's dispatch, and for `xmath`'s functions some thirty calls per
transcendental (docs/performance.md, "Where the remaining bars are lost"); a pathway's
delivery is a dozen calls (the synapse list, the gathers, the ring index, `np.add.at`).
Here the kernel's own code is traced instead, with `ctrace.CNumerics` as its array module
and symbols for its values, into a C loop (`cbuild`) that performs the same operations
element by element, in the same order: the group's delivery (`Step.deliver_into`) and its
stages, updates, finite check and fire phase (`Step.update`) over its neurons
(`FusedUpdate`), a pathway's effects (`Step.effects`) over the synapses of the neurons
that fired, presynaptic neuron by neuron in CSR order (`FusedEffects`, the
order of `NumpyEvents.for_synapses` and of `np.add.at`). The bits are numpy's.

The jax backend on CPU runs the same loops as XLA custom calls (`xla=True`: `cbuild.load_xla`),
in place of the dozens of XLA operations each phase is otherwise: the loop is traced from
the jax step's environment as from numpy's, and returns what it writes instead of writing
its operands (XLA aliases the carried buffers, so in a jitted loop it writes them in place).
"""

from __future__ import annotations

import os
import warnings
from dataclasses import replace

import numpy as np

from brainsim import ir
from brainsim.backends import cbuild, kernel
from brainsim.backends.ctrace import CEvents, CNumerics, Trace, Unsupported
from brainsim.errors import InvalidValueError
from brainsim.integrators import REFRACTORY
from brainsim.network import HostNetwork

# Names of the loops' inputs that no model name can be (they hold spaces)
_TARGET, _STEP, _UNTIL = " target", " n", " until"


def fused(program: kernel.Program, host: HostNetwork, xla: bool = False) -> kernel.Program:
    """`program` with each group's `Step.update` run by a `FusedUpdate`, and each static
    pathway's effects by a `FusedEffects`: called from numpy, or with `xla` from a jax program.

    Raises:
        Unavailable: no C compiler or no Python headers here (`cbuild.compiler`).
    """
    cbuild.compiler()
    symbolic = CNumerics()
    step = program.step
    traced_step = replace(step, xp=symbolic, events=CEvents())
    # A group's delivery joins its loop unless something runs between the two: its stimuli
    # (`Step.drive`, not traced) or clock-driven synapse equations (which read every group).
    update, effects = (XlaFusedUpdate, XlaFusedEffects) if xla else (FusedUpdate, FusedEffects)
    groups = tuple(replace(code, fused=update(step, g, traced_step, kernel.group_code(host, g, symbolic, {})[0],
                                              delivers=not (code.schedules or step.clocked)))
                   for g, code in enumerate(step.groups))
    pathways = tuple(
        replace(code, fused=effects(traced_step, kernel.pathway_code(host, c, symbolic, code.batch)[0],
                                    program.arrays.pathways[c], program.carry.synapses[c], program.carry.buffers))
        if isinstance(code, kernel.StaticPathwayCode) else code
        for c, code in enumerate(step.pathways)
    )
    return replace(program, step=replace(step, groups=groups, pathways=pathways))


AUTO = "auto"
SWITCH = "BRAINSIM_COMPILED_UPDATES"  # "off": "auto" means off (the test suite's plain default)


def compiled_option(value, dtype: str) -> bool | str:
    """The backends' `compiled_updates` option, checked: True (required: an error where they
    cannot run), False (off), or "auto" (the default: on where they can run, else off, see
    `available`); "auto" is off in float32, and wherever $BRAINSIM_COMPILED_UPDATES is "off".

    Raises:
        InvalidValueError: another value, True with float32, or another value of the variable.
    """
    if value not in (True, False, AUTO):
        raise InvalidValueError(f'compiled_updates is True, False or "auto", not {value!r}')
    if isinstance(value, str):
        switch = os.environ.get(SWITCH, AUTO)
        if switch not in (AUTO, "off"):
            raise InvalidValueError(f'${SWITCH} is "auto" or "off", not {switch!r}')
        return AUTO if switch == AUTO and dtype == "float64" else False
    if value and dtype != "float64":
        raise InvalidValueError(f"compiled_updates runs float64 programs only, not {dtype}: its loops "
                                "reproduce xmath's float64 functions, which float32 does not use")
    return bool(value)


def available(mode: bool | str, build):
    """`build()` (which builds the compiled updates) and None; where `mode` is "auto" and they
    cannot run here or for this model, None and the reason: the plain step runs instead. A C
    compiler that fails on a loop is warned of, not hidden, and the plain step runs too.

    Raises:
        Unavailable, CompilerFailed: where `mode` is True (they were asked for).
    """
    try:
        return build(), None
    except cbuild.Unavailable as why:
        if mode != AUTO:
            raise
        return None, why.message
    except cbuild.CompilerFailed as failure:
        if mode != AUTO:
            raise
        warnings.warn(f"{failure}\nbrainsim runs this model's plain updates instead", RuntimeWarning, stacklevel=2)
        return None, "the C compiler failed on a loop"


def _refused(why: Unsupported) -> cbuild.Unavailable:
    return cbuild.Unavailable(f"compiled_updates cannot write this model's update as a C loop ({why}); "
                              "run it without compiled_updates")


class _TracingEnv(dict):
    """An environment that hands out a symbol for each entry of `values` read (`loaded`)."""

    def __init__(self, trace: Trace, values: dict):
        super().__init__()
        self._trace, self._values, self.loaded = trace, values, {}

    def __missing__(self, name: str):
        symbol = self[name] = self.loaded[name] = self._trace.load(name, _stand_in(self._values[name]))
        return symbol


def _stand_in(value):
    """`value`, or for a jax array (a tracer, in a jitted step) a numpy array of its shape and
    dtype, a numpy scalar where it has no dimensions: what `Trace.load` needs to know of it."""
    if isinstance(value, (np.ndarray, np.generic, bool, int, float)) or not hasattr(value, "dtype"):
        return value
    return np.zeros(value.shape, value.dtype) if value.shape else np.dtype(value.dtype).type(0)


class FusedUpdate:
    """`Step.update` of a group as one C call a step: its stages and updates, the check that its
    new values are finite, and its fire phase (threshold, refractory periods, resets), neuron by
    neuron, after its delivery (`Step.deliver_into`) where `delivers`. The loop writes the new
    states and `until` in place (this backend's loop owns its carry: `NumpySimulation._kept`),
    clears the delivered ring-buffer slots, and writes the fired mask and the finite flags;
    numpy lists the neurons that fired from the mask.

    Traced at the first call, from that call's environment (which values are arrays and which
    scalars is known only then), with `symbolic`, the same group's code built with `CNumerics`.
    """

    def __init__(self, step: kernel.Step, g: int, traced_step: kernel.Step, symbolic, delivers: bool):
        self._events, self._g, self._code = step.events, g, step.groups[g]
        self._traced_step, self._symbolic = traced_step, symbolic
        self._all_finite = self._no_flags(step, (len(self._code.slices), len(self._code.states)))
        self.delivers = delivers
        self._rings = [(b, _ring(b)) for b in step.group_buffers[g]] if delivers else []
        self._function = None

    def __call__(self, n, env: dict, until, buffers: list) -> tuple:
        self._enter(n, env, until, buffers)
        code = self._code
        mask, finite = np.empty(code.size, dtype=bool), np.empty(self._all_finite.shape, dtype=bool)
        flags = finite if self._function((*map(env.__getitem__, self._inputs), mask, finite)) else self._all_finite
        return self._fired(n, env, flags, mask)

    def _enter(self, n, env: dict, until, buffers: list) -> None:
        """The loop's inputs into `env` (`n`, `until`, the delivered ring buffers); traced and
        compiled at the first call."""
        env[_STEP], env[_UNTIL] = n, until
        env.update((name, buffers[b]) for b, name in self._rings)
        if self._function is None:
            self._function = self._load(self._build(env, len(buffers)))

    def _fired(self, n, env: dict, flags, mask, spikes: list | None = None) -> tuple:
        """`Step.update`'s result from the loop's: the new states are in `env`; `spikes` per
        population, where the loop lists them."""
        code = self._code
        env[ir.SPIKED] = mask
        kernel.clock_to_step_end(n, env)
        if spikes is None:
            spikes = list(self._events.spikes_by_population(self._events.firing(mask), code.slices, code.capacities))
        return flags, kernel.GroupState(tuple(map(env.__getitem__, code.states)), env[_UNTIL]), spikes

    def _lists(self) -> tuple:
        """(start, end, capacity) of each population whose spikes the loop lists: none, numpy
        lists them from the mask."""
        return ()

    _load = staticmethod(cbuild.load)

    @staticmethod
    def _no_flags(step: kernel.Step, shape: tuple) -> np.ndarray:
        """The flags of a step whose values are all finite: numpy's shared array, which its
        loop knows by identity and does not look into."""
        return step.xp.all_finite(shape)

    def _build(self, env: dict, n_buffers: int) -> cbuild.Loop:
        trace = Trace(self._code.size)
        tracing = _TracingEnv(trace, env)
        until = None if env[_UNTIL] is None else tracing[_UNTIL]
        # From `until` in the loop, not read from numpy's mask: an array of bytes among arrays of
        # doubles keeps gcc from vectorising a long loop (COBAHH's), and it is one pass less.
        tracing[REFRACTORY] = kernel.refractory(tracing[_STEP], self._code, until)
        try:
            if self.delivers:
                rings = [None] * n_buffers
                for b, name in self._rings:
                    rings[b] = trace.flat(name, env[name].shape[0])
                self._traced_step.deliver_into(tracing[_STEP], self._g, tracing, rings)
            _, state, _ = self._traced_step.update(self._symbolic, tracing[_STEP], tracing, until)
            # Each state into its own array (one no update or reset changes is left as it is)
            names = [name for name, _ in trace.arrays]
            written = [(names.index(name), value) for name, value in zip(self._code.states, state.variables)
                       if value is not tracing.loaded.get(name)]
            if until is not None:
                written.append((names.index(_UNTIL), state.refractory_until))
            loop = cbuild.neuron_loop(trace, [value for _, value in written] + [tracing[ir.SPIKED]],
                                      [trace.arrays[k][1] for k, _ in written] + [np.bool_],
                                      [k for k, _ in written] + [None], self._lists())
        except Unsupported as why:
            raise _refused(why) from None
        self._inputs = names + [name for name, _ in trace.scalars] + [name for name, _ in trace.flats]
        # What the loop writes, in the order XLA returns it: states in place, ring buffers, the mask
        self._written = [names[k] for k in sorted(k for k, _ in written)] + [name for name, _ in trace.flats]
        self._has_flags = trace.checked is not None
        return loop


class XlaFusedUpdate(FusedUpdate):
    """`FusedUpdate` in a jax program: the loop as an XLA custom call, which returns the states,
    `until` and ring buffers it writes (in place, where XLA aliases them) with the mask and
    the finite flags."""

    _load = staticmethod(cbuild.load_xla)

    @staticmethod
    def _no_flags(step: kernel.Step, shape: tuple) -> np.ndarray:
        return np.ones(shape, dtype=bool)

    def __call__(self, n, env: dict, until, buffers: list) -> tuple:
        self._enter(n, env, until, buffers)
        written = list(self._function(*map(env.__getitem__, self._inputs)))
        finite = written.pop() if self._has_flags else None
        listed = written[len(written) - 2 * len(self._code.slices):]
        del written[len(written) - 2 * len(self._code.slices):]
        spikes = [(indices, count.reshape(())) for indices, count in zip(listed[::2], listed[1::2])]
        mask = written.pop()
        rings = {name: b for b, name in self._rings}
        for name, value in zip(self._written, written):
            if name in rings:
                buffers[rings[name]] = value
            else:
                env[name] = value
        flags = finite.reshape(self._all_finite.shape) if self._has_flags else self._all_finite
        return self._fired(n, env, flags, mask, spikes)

    def _lists(self) -> tuple:
        """Every population's: in C they cost a read per eight neurons, where XLA's compaction
        (`jax_backend._compact`) costs a dozen small operations a step."""
        return tuple((a, b, capacity) for (a, b), capacity in zip(self._code.slices, self._code.capacities))

    def signature_state(self) -> tuple:
        return ("compiled loop", self._g, self.delivers)


def _ring(b: int) -> str:
    """The loop input's name of ring buffer b."""
    return f" ring {b}"


class FusedEffects:
    """`Step.effects` of one static pathway over the synapses of a step's spikes, as one C call:
    (n, (rows, count), arrays, states, buffers) -> buffers, added into in place as numpy's
    `scatter_add` does. Traced when the program is built, from its arrays (`pathway`, the
    synapse `states`, the ring `buffers`)."""

    _load = staticmethod(cbuild.load)

    def __init__(self, step: kernel.Step, code, pathway, states: tuple, buffers: tuple):
        trace = Trace(pathway.target.shape[0])
        arrays = {_TARGET: pathway.target, **{code.states[k]: states[k] for k in code.gathered}}
        symbols = tuple(trace.load(name, _stand_in(value)) for name, value in arrays.items())
        scalars = {name: trace.load(name, _stand_in(value)) for name, value in pathway.scalars.items()}
        self._written = sorted({b for b, _, _ in code.effects})
        flats = [None] * len(buffers)
        for b in self._written:
            flats[b] = trace.flat(str(b), buffers[b].shape[0])
        try:
            step.effects(trace.load(_STEP, 0), code, pathway._replace(scalars=scalars), symbols, flats)
            loop = cbuild.synapse_loop(trace, pathway.indptr.shape[0] - 2)
        except Unsupported as why:
            raise _refused(why) from None
        self._function = self._load(loop)
        self._gathered, self._scalars = code.gathered, list(pathway.scalars)

    def _operands(self, n, pathway, states: tuple, buffers: list) -> tuple:
        """The loop's items after `rows`."""
        return (pathway.indptr, pathway.target, *(states[k] for k in self._gathered),
                *map(pathway.scalars.__getitem__, self._scalars), n, *(buffers[b] for b in self._written))

    def __call__(self, n, fired: tuple, pathway, states: tuple, buffers: list) -> list:
        self._function((fired[0], *self._operands(n, pathway, states, buffers)))
        return buffers


class XlaFusedEffects(FusedEffects):
    """`FusedEffects` in a jax program: the loop as an XLA custom call over the first `count` of
    the padded spike list, which returns the ring buffers it adds into (in place, where XLA
    aliases them)."""

    _load = staticmethod(cbuild.load_xla)

    def __call__(self, n, fired: tuple, pathway, states: tuple, buffers: list) -> list:
        added = self._function(fired, *self._operands(n, pathway, states, buffers))
        for b, buffer in zip(self._written, added):
            buffers[b] = buffer
        return buffers

    def signature_state(self) -> tuple:
        return ("compiled loop", self._gathered, tuple(self._scalars), tuple(self._written))
