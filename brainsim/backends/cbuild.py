"""A traced loop (`brainsim.backends.ctrace`) as a C function, compiled and loaded.

Two loops: over the elements of a group (`neuron_loop`: a state update) and over the
synapses of a list of presynaptic neurons (`synapse_loop`: a pathway's effects). Either
function takes one Python tuple of its arrays and scalars (and returns 0, or 1 where the
neuron loop met a value that is not finite) and reads the arrays through the buffer protocol, so a call costs one ctypes call whatever the number of arrays (a ctypes
pointer costs about 1 µs an array); it checks each array's format, element size and length,
and that an array it writes shares no memory with another, and raises TypeError instead of
reading past one, and IndexError for an index out of range.

Compiled with the C compiler of `$CC`, else `cc` or `gcc` on PATH, with
`-ffp-contract=off` (no fused multiply-add: each product rounded, as numpy does) and
without fast-math; `-fno-math-errno` only lets `sqrt` be the processor's instruction.
`-march=native` lets the loop be vectorised with the widest instructions the processor has
(AVX-512 here, at its full 512-bit width on x86-64: 3.5 times faster on COBAHH than without);
vector arithmetic is the same IEEE-754 arithmetic, lane by lane, so the bits do not change. Shared objects are kept under
`$BRAINSIM_C_CACHE`, else `$XDG_CACHE_HOME/brainsim/c` (default ~/.cache), named by the
hash of their source, the flags and the processor's features, so a loop compiles once per
machine.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import os
import platform
import shutil
import subprocess
import sysconfig
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from brainsim.backends.ctrace import BOOL, DOUBLE, ELEMENT, INT64, Trace, Unsupported, Value, constant
from brainsim.errors import InvalidValueError

# On x86-64, vectors as wide as the processor has (gcc and clang prefer 256 bits even where
# AVX-512 is): COBAHH-4000 12 % and CUBA-4000 10 % faster here; the same bits (docs/performance.md)
WIDEST = ("-mprefer-vector-width=512",) if platform.machine().lower() in ("x86_64", "amd64") else ()
FLAGS = ("-O3", "-march=native", *WIDEST, "-std=c11", "-fPIC", "-shared", "-ffp-contract=off", "-fno-fast-math",
         "-fno-math-errno")
FUNCTION, XLA_FUNCTION = "brainsim_update", "brainsim_xla"
PREFETCH_AHEAD = 2  # rows: 1, 2 and 4 measured alike (docs/performance.md)

_PYTHON = r"""#define PY_SSIZE_T_CLEAN
#include <Python.h>
"""
# The XLA glue includes jaxlib's C header of the FFI (`jax.ffi.include_dir()`), not Python's
_XLA = r"""#include <stddef.h>
#include "xla/ffi/api/c_api.h"
typedef ptrdiff_t Py_ssize_t;
"""

_MATH = r"""#include <math.h>
#include <stdint.h>
#include <string.h>

/* 2^k for integer k in [-1022, 1023], from its bits (NumpyNumerics.pow2) */
static inline double pow2(int64_t k)
{
    uint64_t bits = (uint64_t)(k + 1023) << 52;
    double value;
    memcpy(&value, &bits, sizeof value);
    return value;
}

/* numpy's minimum and maximum: a nan on either side is the result */
static inline double dminimum(double a, double b) { return isnan(a) ? a : isnan(b) ? b : a < b ? a : b; }
static inline double dmaximum(double a, double b) { return isnan(a) ? a : isnan(b) ? b : a > b ? a : b; }
/* numpy's fmin and fmax: a nan on one side gives the other (written out, since C's
   fmin and fmax keep a loop from being vectorised) */
static inline double dfmin(double a, double b) { return a < b || isnan(b) ? a : b; }
static inline double dfmax(double a, double b) { return a > b || isnan(b) ? a : b; }
static inline int64_t iminimum(int64_t a, int64_t b) { return a < b ? a : b; }
static inline int64_t imaximum(int64_t a, int64_t b) { return a > b ? a : b; }
"""

_PYTHON_HELPERS = r"""
/* Whether two buffers share a byte (an array written in place must be no other argument) */
static int overlap(const Py_buffer *a, const Py_buffer *b)
{
    const char *x = a->buf, *y = b->buf;
    return a->len && b->len && x < y + b->len && y < x + a->len;
}

/* `object` as a C-contiguous buffer of `size` elements (any number if -1) of `format` */
static int view(PyObject *object, Py_buffer *buffer, char format, Py_ssize_t itemsize, Py_ssize_t size,
                int writable, int position)
{
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(object, buffer, flags) != 0)
        return -1;
    const char *f = buffer->format ? buffer->format : "B";
    if (*f == '<' || *f == '=' || *f == '@')
        f++;
    if (f[0] != format || f[1] != 0 || buffer->itemsize != itemsize || (size >= 0 && buffer->len != itemsize * size)) {
        PyErr_Format(PyExc_TypeError, "argument %d of the compiled loop: %zd elements of '%s', "
                     "not %zd of '%c'", position, buffer->len / (buffer->itemsize ? buffer->itemsize : 1),
                     buffer->format, size, format);
        PyBuffer_Release(buffer);
        return -1;
    }
    return 0;
}
"""


@dataclass(frozen=True)
class _Item:
    """One item of the tuple a compiled function takes: an array (its element type, and its
    length or None for any) or a scalar (its C type). An `output` array is one the loop only
    writes (the caller allocates it for the Python glue; XLA returns it)."""

    name: str  # the loop's parameter
    dtype: np.dtype | None = None
    size: int | None = None
    writable: bool = False
    ctype: str | None = None
    output: bool = False

    def parameter(self) -> str:
        if self.ctype is not None:
            return f"const {self.ctype} {self.name}"
        element = ELEMENT[self.dtype][0]
        array = f"{element} *restrict {self.name}" if self.writable else f"const {element} *restrict {self.name}"
        return array if self.size is not None else f"{array}, const Py_ssize_t {self.name}_length"


@dataclass(frozen=True)
class Loop:
    """A loop's parameters (`items`, in order) and its C body, before glue makes it callable
    from Python (`load`) or from XLA (`load_xla`)."""

    items: tuple[_Item, ...]
    body: tuple[str, ...]

    def source(self, xla: bool = False) -> str:
        """The loop as `static void loop(...)` and the exported function that calls it: from a
        Python tuple (`_python_glue`) or from an XLA call frame (`_xla_glue`)."""
        # Not inlined into the glue: inlined, a long loop (COBAHH's) was no longer vectorised by gcc 12
        loop = [f"__attribute__((noinline)) static void loop({', '.join(item.parameter() for item in self.items)}, "
                "int *restrict fault, int *restrict flagged)", "{", *_indented(list(self.body)), "}", ""]
        if xla:
            return "\n".join([_XLA, _MATH, *loop, *_xla_glue(self.items)])
        return "\n".join([_PYTHON, _MATH, _PYTHON_HELPERS, *loop, *_python_glue(self.items)])


def _items(trace: Trace) -> list[_Item]:
    """The trace's inputs as tuple items: arrays, then scalars, then the flat arrays it adds into."""
    return ([_Item(f"a{k}", dtype, trace.size) for k, (_, dtype) in enumerate(trace.arrays)]
            + [_Item(f"s{k}", ctype=ctype) for k, (_, ctype) in enumerate(trace.scalars)]
            + [_Item(f"f{k}", np.dtype(np.float64), size, writable=True) for k, (_, size) in enumerate(trace.flats)])


def neuron_loop(trace: Trace, outputs: list, dtypes: list | None = None, into: list | None = None,
                lists: tuple[tuple[int, int, int], ...] = ()) -> Loop:
    """For each of the trace's `size` elements, its lines, then `outputs` (a `Value` or a number
    each) stored to arrays of their own, of `dtypes` (float64, int64 or bool; float64 each by
    default), or, for an output whose `into` is k, into the trace's input array k, in place.
    Takes (*arrays, *scalars, *flats, *outputs not in place, and where the trace has `checked`
    values, their flags: bool [slice, value], True where every element is finite); returns 1
    where one is not, else 0.

    For each (start, end, capacity) of `lists`, the loop then lists where the last output (a
    bool array of its own) is true between start and end, as the jax backend's spike lists
    are (`_compact`): two more outputs, the first `capacity` indices from start, ascending,
    padded with end - start (int64 [capacity]), and how many there are (int64 [1])."""
    dtypes = [np.dtype(np.float64)] * len(outputs) if dtypes is None else [np.dtype(d) for d in dtypes]
    into = [None] * len(outputs) if into is None else into
    items = _items(trace)
    stores = []
    for k, (value, dtype, target) in enumerate(zip(outputs, dtypes, into)):
        ctype = ELEMENT[dtype][1]
        value = constant(value, ctype, trace)
        if value.ctype != ctype:
            raise Unsupported(f"an update of type {value.ctype} into {dtype}")
        if target is None:
            items.append(_Item(f"o{k}", dtype, trace.size, writable=True, output=True))
        elif trace.arrays[target][1] != dtype:
            raise Unsupported(f"an update of type {dtype} into an array of {trace.arrays[target][1]}")
        else:
            items[target] = replace(items[target], writable=True)
        stores.append(f"{'o' if target is None else 'a'}{k if target is None else target}[i] = {value.text};")
    loop = [f"for (Py_ssize_t i = 0; i < {trace.size}; i++) {{", *_indented(trace.lines + stores), "}"]
    listed = []
    if lists:
        if dtypes[-1] != np.bool_ or into[-1] is not None:
            raise Unsupported("a list of the elements where an output that is not a bool array of its own is true")
        listed = _listing(f"o{len(outputs) - 1}", lists)
        items += [_Item(name, np.dtype(np.int64), size, writable=True, output=True)
                  for p, (_, _, capacity) in enumerate(lists) for name, size in ((f"l{p}", capacity), (f"c{p}", 1))]
    if trace.checked is None:
        return Loop(tuple(items), (*trace.hoisted, *loop, *trace.after, *listed))
    values, slices = trace.checked
    checks = [f"bad{v} |= !isfinite({value.text});" for v, value in enumerate(values) if isinstance(value, Value)]
    items.append(_Item("finite", np.dtype(np.bool_), len(slices) * len(values), writable=True, output=True))
    body = [*trace.hoisted, f"static const Py_ssize_t starts[{len(slices)}] = {{{', '.join(str(a) for a, _ in slices)}}};",
            f"static const Py_ssize_t ends[{len(slices)}] = {{{', '.join(str(b) for _, b in slices)}}};",
            f"for (Py_ssize_t p = 0; p < {len(slices)}; p++) {{",
            *(f"    int bad{v} = 0;" for v in range(len(values))),
            "    for (Py_ssize_t i = starts[p]; i < ends[p]; i++) {",
            *_indented(trace.lines + stores + checks, 2), "    }",
            *(f"    finite[p * {len(values)} + {v}] = !bad{v};" for v in range(len(values))),
            *(f"    *flagged |= bad{v};" for v in range(len(values))), "}", *trace.after, *listed]
    return Loop(tuple(items), tuple(body))


def _listing(mask: str, lists: tuple[tuple[int, int, int], ...]) -> list[str]:
    """The lines that list where `mask` is true (`neuron_loop`'s `lists`), into l<p> and c<p>.
    Eight bytes of the mask are read at once and skipped when all are false: a step's spikes
    are few, so the scan costs about one read per eight neurons."""
    lines = []
    for p, (start, end, capacity) in enumerate(lists):
        lines += ["{", "    int64_t count = 0;", f"    for (Py_ssize_t w = {start}; w < {end}; w += 8) {{",
                  "        uint64_t word = 1;",
                  f"        if (w + 8 <= {end}) __builtin_memcpy(&word, &{mask}[w], 8);",
                  "        if (!word) continue;",
                  f"        for (Py_ssize_t i = w; i < w + 8 && i < {end}; i++)",
                  f"            if ({mask}[i]) {{ if (count < {capacity}) l{p}[count] = i - {start}; count++; }}",
                  "    }",
                  f"    for (int64_t k = count < {capacity} ? count : {capacity}; k < {capacity}; k++) "
                  f"l{p}[k] = {end - start};",
                  f"    c{p}[0] = count;", "}"]
    return lines


def synapse_loop(trace: Trace, rows: int) -> Loop:
    """For each presynaptic neuron in `rows` (int64, in order), for each of its synapses i in
    CSR order (`indptr`, int64, rows + 2 entries), the trace's lines. Takes (rows, indptr,
    *arrays, *scalars, *flats)."""
    items = [_Item("rows", np.dtype(np.int64)), _Item("indptr", np.dtype(np.int64), rows + 2), *_items(trace)]
    body = [*trace.hoisted, "for (Py_ssize_t r = 0; r < rows_length; r++) {",
            f"    if ((uint64_t)rows[r] > {rows}) {{ *fault = 1; return; }}",
            *_prefetches(len(trace.arrays), rows),
            "    for (int64_t i = indptr[rows[r]]; i < indptr[rows[r] + 1]; i++) {",
            *_indented(trace.lines, 2), "    }", "}", *trace.after]
    return Loop(tuple(items), tuple(body))


def _prefetches(arrays: int, rows: int) -> list[str]:
    """The lines that ask the processor for the first elements of each synapse array in the row
    `PREFETCH_AHEAD` rows on: a step's rows are a few presynaptic neurons scattered through
    arrays far larger than the caches, so each row's start misses them, and the processor's
    own prefetcher only follows a row once it has begun. A hint, not a read: it changes no value
    (the row's index is checked before indptr is read). 22 % fewer cycles in CUBA-64 000's
    pathway loops (docs/performance.md)."""
    if not arrays:
        return []
    return [f"    if (r + {PREFETCH_AHEAD} < rows_length && (uint64_t)rows[r + {PREFETCH_AHEAD}] <= {rows}) {{",
            f"        const int64_t next = indptr[rows[r + {PREFETCH_AHEAD}]];",
            *(f"        __builtin_prefetch(&a{k}[next]);" for k in range(arrays)), "    }"]


def _indented(lines: list[str], depth: int = 1) -> list[str]:
    return [f"{'    ' * depth}{line}" for line in lines]


_FAULT = "a compiled loop met an index out of range (a bug in brainsim)"


def _python_glue(items: tuple[_Item, ...]) -> list[str]:
    """`int brainsim_update(PyObject *args)`: reads `items` from its tuple argument (checking
    each array), calls the loop, and reports a fault."""
    arrays = [k for k, item in enumerate(items) if item.ctype is None]
    lines = [f"int {FUNCTION}(PyObject *args)", "{", f"    Py_buffer buffers[{max(len(arrays), 1)}];",
             "    int held = 0, fault = 0, flagged = 0;",
             f"    if (!PyTuple_Check(args) || PyTuple_GET_SIZE(args) != {len(items)}) {{",
             f'        PyErr_SetString(PyExc_TypeError, "the compiled loop takes a tuple of {len(items)}");',
             "        return -1;", "    }"]
    arguments = []
    for k, item in enumerate(items):
        argument = f"PyTuple_GET_ITEM(args, {k})"
        if item.ctype is not None:
            read = {DOUBLE: "PyFloat_AsDouble", INT64: "PyLong_AsLongLong", BOOL: "PyObject_IsTrue"}[item.ctype]
            lines.append(f"    const {item.ctype} {item.name} = {read}({argument});")
            arguments.append(item.name)
            continue
        format_ = np.dtype(item.dtype).char if item.dtype != np.bool_ else "?"
        size = -1 if item.size is None else item.size
        lines += [f"    if (view({argument}, &buffers[held], '{format_}', {item.dtype.itemsize}, {size}, "
                  f"{int(item.writable)}, {k}))", "        goto fail;", "    held++;"]
        buffer = f"buffers[{arrays.index(k)}]"
        arguments.append(f"{buffer}.buf" if item.size is not None else f"{buffer}.buf, {buffer}.len / {item.dtype.itemsize}")
    for k in (k for k in arrays if items[k].writable):
        b = arrays.index(k)
        lines += [f"    for (int j = 0; j < held; j++)",
                  f"        if (j != {b} && overlap(&buffers[{b}], &buffers[j])) {{",
                  f'            PyErr_Format(PyExc_TypeError, "argument {k} of the compiled loop, which it writes, '
                  f'shares memory with another");',
                  "            goto fail;", "        }"]
    lines += ["    if (PyErr_Occurred())", "        goto fail;", f"    loop({', '.join(arguments)}, &fault, &flagged);",
              "    if (fault)", f'        PyErr_SetString(PyExc_IndexError, "{_FAULT}");',
              "fail:", "    while (held > 0)", "        PyBuffer_Release(&buffers[--held]);",
              "    return PyErr_Occurred() ? -1 : flagged;", "}", ""]
    return lines


def xla_signature(items: tuple[_Item, ...]) -> tuple[list[_Item], list[_Item], dict[int, int]]:
    """How XLA calls a loop: (its operands, its results, {operand: the result it aliases}).

    The operands are the items the loop reads, in order, a scalar as an array of no
    dimensions and an array of no fixed length followed by the number of its elements
    to read (int64, no dimensions); the results are the items it writes, in order, those
    it also reads in place of their operand (XLA's input-output aliasing)."""
    operands, results, aliases = [], [], {}
    for item in items:
        if item.writable:
            if not item.output:
                aliases[len(operands)] = len(results)
            results.append(item)
        if not item.output:
            operands.append(item)
            if item.size is None and item.ctype is None:
                operands.append(_Item(f"{item.name}_length", ctype=INT64))
    return operands, results, aliases


def _xla_glue(items: tuple[_Item, ...]) -> list[str]:
    """`XLA_FFI_Error *brainsim_xla(XLA_FFI_CallFrame *)`: an XLA FFI handler (jaxlib's C API)
    that answers XLA's query of its API version, checks the number of operands and results,
    and calls the loop on their buffers (`xla_signature`)."""
    operands, results, aliases = xla_signature(items)
    result_of = {item.name: r for r, item in enumerate(results)}
    operand_of = {item.name: o for o, item in enumerate(operands)}
    arguments = []
    for item in items:
        if item.ctype is not None:
            arguments.append(f"*(const {ELEMENT[_SCALAR_DTYPE[item.ctype]][0]} *)DATA(in, {operand_of[item.name]})")
        elif item.writable:
            arguments.append(f"DATA(out, {result_of[item.name]})")
        else:
            arguments.append(f"DATA(in, {operand_of[item.name]})")
            if item.size is None:
                arguments.append(f"length(in, {operand_of[item.name]}, {operand_of[f'{item.name}_length']})")
    return [
        "#define DATA(list, k) (((XLA_FFI_Buffer *)(list)[k])->data)",
        "/* The number of elements to read of operand `array`: operand `count`, at most its length */",
        "static Py_ssize_t length(void **in, int array, int count)", "{",
        "    const int64_t wanted = *(const int64_t *)DATA(in, count), most = ((XLA_FFI_Buffer *)in[array])->dims[0];",
        "    return wanted < 0 ? 0 : wanted < most ? wanted : most;", "}",
        "static XLA_FFI_Error *failed(XLA_FFI_CallFrame *frame, const char *message)", "{",
        "    XLA_FFI_Error_Create_Args args = {XLA_FFI_Error_Create_Args_STRUCT_SIZE, NULL, message, "
        "XLA_FFI_Error_Code_INTERNAL};",
        "    return frame->api->XLA_FFI_Error_Create(&args);", "}", "",
        f"XLA_FFI_Error *{XLA_FUNCTION}(XLA_FFI_CallFrame *frame)", "{",
        "    for (XLA_FFI_Extension_Base *e = frame->extension_start; e != NULL; e = e->next)",
        "        if (e->type == XLA_FFI_Extension_Metadata) {",
        "            XLA_FFI_Metadata *metadata = ((XLA_FFI_Metadata_Extension *)e)->metadata;",
        "            metadata->api_version.major_version = XLA_FFI_API_MAJOR;",
        "            metadata->api_version.minor_version = XLA_FFI_API_MINOR;",
        "            metadata->traits = 0;", "            return NULL;", "        }",
        "    if (frame->stage != XLA_FFI_ExecutionStage_EXECUTE)", "        return NULL;",
        f"    if (frame->args.size != {len(operands)} || frame->rets.size != {len(results)})",
        f'        return failed(frame, "the compiled loop takes {len(operands)} operands and {len(results)} results");',
        "    void **in = frame->args.args, **out = frame->rets.rets;", "    (void)in; (void)out;",
        "    int fault = 0, flagged = 0;",
        f"    loop({', '.join(arguments)}, &fault, &flagged);",
        f'    return fault ? failed(frame, "{_FAULT}") : NULL;', "}", ""]


# The array type of a scalar operand of XLA's call, by its C type
_SCALAR_DTYPE = {DOUBLE: np.dtype(np.float64), INT64: np.dtype(np.int64), BOOL: np.dtype(np.bool_)}


class Unavailable(InvalidValueError):
    """Compiled updates cannot run here (no compiler, no headers, no cache to write) or for this
    model (an update the loops cannot write): an error where they were asked for, and where they
    were left to their default ("auto"), the reason the plain step runs instead."""


class CompilerFailed(RuntimeError):
    """The C compiler refused a generated loop: a bug in brainsim, or a compiler that does not
    take the flags (`FLAGS`) gcc and clang take."""


def compiler() -> str:
    """The C compiler's command: $CC, else cc or gcc on PATH.

    Raises:
        Unavailable: there is none, or Python's headers (Python.h) are missing.
    """
    named = os.environ.get("CC")
    if named and not shutil.which(named.split()[0]):
        raise Unavailable(f"compiled_updates: the C compiler that $CC names, {named!r}, is not found")
    found = named or shutil.which("cc") or shutil.which("gcc")
    if not found:
        raise Unavailable("compiled_updates needs a C compiler: none found ($CC is unset and neither cc nor "
                                "gcc is on PATH); install gcc, or leave compiled_updates off")
    if not (Path(sysconfig.get_paths()["include"]) / "Python.h").exists():
        raise Unavailable(f"compiled_updates needs Python's C headers, which are missing here "
                                f"({sysconfig.get_paths()['include']}/Python.h); install python3-dev, or leave "
                                "compiled_updates off")
    return found


@functools.cache
def _processor() -> str:
    """What `-march=native` compiles for: the machine and, on Linux, the processor's feature flags
    (a cache shared by two machines must not hand one the other's instructions)."""
    try:
        with open("/proc/cpuinfo") as info:
            flags = next((line for line in info if line.startswith(("flags", "Features"))), "")
    except OSError:
        flags = ""
    return f"{platform.machine()} {platform.processor()} {flags.strip()}"


def cache_directory() -> Path:
    """Where compiled updates are kept: $BRAINSIM_C_CACHE, else $XDG_CACHE_HOME/brainsim/c (~/.cache)."""
    if os.environ.get("BRAINSIM_C_CACHE"):
        return Path(os.environ["BRAINSIM_C_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "brainsim" / "c"


def load(loop: Loop):
    """The loop as a function of one Python tuple of its items (`_python_glue`), compiled (or
    found compiled in the cache) and loaded."""
    library = _library(loop.source(), sysconfig.get_paths()["include"])
    function = getattr(ctypes.PyDLL(str(library)), FUNCTION)
    function.argtypes, function.restype = [ctypes.py_object], ctypes.c_int
    return function


def load_xla(loop: Loop) -> "XlaLoop":
    """The loop as an XLA custom call on CPU (`XlaLoop`), compiled (or found compiled) and
    registered with jax."""
    import jax

    source = loop.source(xla=True)
    library = _library(source, jax.ffi.include_dir())
    name = f"brainsim_{library.stem.removeprefix('update-')}"
    if name not in _REGISTERED:
        handler = getattr(ctypes.CDLL(str(library)), XLA_FUNCTION)
        jax.ffi.register_ffi_target(name, jax.ffi.pycapsule(handler), platform="cpu")
        _REGISTERED[name] = handler  # kept alive with the library: XLA holds its address
    return XlaLoop(name, *xla_signature(loop.items))


_REGISTERED: dict[str, object] = {}


class XlaLoop:
    """A loop called from a jax program: `loop(*operands)` -> its results, the operands and
    results of `xla_signature` (an array of no fixed length given as (array, length)). Those
    it writes in place alias their operands: inside a jitted loop XLA passes the carried
    buffer itself, where nothing else still reads it."""

    def __init__(self, name: str, operands: list, results: list, aliases: dict):
        self.name, self._operands, self._aliases = name, operands, aliases
        self._results = [(item.size, item.dtype) for item in results]

    def __call__(self, *values):
        import jax
        import jax.numpy as jnp

        flat = []
        for value in values:
            flat.extend(value if isinstance(value, tuple) else (value,))
        operands = [jnp.asarray(value, dtype=_SCALAR_DTYPE[item.ctype] if item.ctype is not None else item.dtype)
                    for value, item in zip(flat, self._operands, strict=True)]
        shapes = [jax.ShapeDtypeStruct((size,), dtype) for size, dtype in self._results]
        call = jax.ffi.ffi_call(self.name, shapes, input_output_aliases=self._aliases, vmap_method="sequential")
        return call(*operands)


def _library(code: str, include: str) -> Path:
    """The shared object of C source `code` (headers from `include`), from the cache or compiled into it."""
    command = [*compiler().split(), *FLAGS, f"-I{include}"]
    key = hashlib.sha256("\0".join([*command, _processor(), code]).encode()).hexdigest()[:32]
    directory = cache_directory()
    library = directory / f"update-{key}.so"
    if library.exists():
        return library
    try:
        directory.mkdir(parents=True, exist_ok=True)
        scratch_directory = tempfile.TemporaryDirectory(dir=directory)
    except OSError as error:
        raise Unavailable(f"compiled_updates cannot keep its compiled loops in {directory} ({error}); "
                                "set BRAINSIM_C_CACHE to a folder it may write") from None
    with scratch_directory as scratch:
        c_file, built = Path(scratch) / "update.c", Path(scratch) / "update.so"
        c_file.write_text(code)
        result = subprocess.run([*command, str(c_file), "-o", str(built)], capture_output=True, text=True)
        if result.returncode != 0:
            raise CompilerFailed(f"the C compiler failed on a generated update (a bug in brainsim):\n"
                               f"{' '.join(command)}\n{result.stderr}")
        os.replace(built, library)  # atomic: a concurrent process sees the whole file or none
    return library
