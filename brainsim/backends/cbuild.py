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
(AVX-512 here: 3.5 times faster on COBAHH than without); vector arithmetic is the same
IEEE-754 arithmetic, lane by lane, so the bits do not change. Shared objects are kept under
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

FLAGS = ("-O3", "-march=native", "-std=c11", "-fPIC", "-shared", "-ffp-contract=off", "-fno-fast-math",
         "-fno-math-errno")
FUNCTION = "brainsim_update"

_PRELUDE = r"""#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
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
    length or None for any) or a scalar (its C type)."""

    name: str  # the loop's parameter
    dtype: np.dtype | None = None
    size: int | None = None
    writable: bool = False
    ctype: str | None = None

    def parameter(self) -> str:
        if self.ctype is not None:
            return f"const {self.ctype} {self.name}"
        element = ELEMENT[self.dtype][0]
        array = f"{element} *restrict {self.name}" if self.writable else f"const {element} *restrict {self.name}"
        return array if self.size is not None else f"{array}, const Py_ssize_t {self.name}_length"


def _items(trace: Trace) -> list[_Item]:
    """The trace's inputs as tuple items: arrays, then scalars, then the flat arrays it adds into."""
    return ([_Item(f"a{k}", dtype, trace.size) for k, (_, dtype) in enumerate(trace.arrays)]
            + [_Item(f"s{k}", ctype=ctype) for k, (_, ctype) in enumerate(trace.scalars)]
            + [_Item(f"f{k}", np.dtype(np.float64), size, writable=True) for k, (_, size) in enumerate(trace.flats)])


def neuron_loop(trace: Trace, outputs: list, dtypes: list | None = None, into: list | None = None) -> str:
    """C source: for each of the trace's `size` elements, its lines, then `outputs` (a `Value` or
    a number each) stored to arrays of their own, of `dtypes` (float64, int64 or bool; float64
    each by default), or, for an output whose `into` is k, into the trace's input array k, in
    place. Takes (*arrays, *scalars, *outputs not in place, and where the trace has `checked`
    values, their flags: bool [slice, value], True where every element is finite); returns 1
    where one is not, else 0."""
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
            items.append(_Item(f"o{k}", dtype, trace.size, writable=True))
        elif trace.arrays[target][1] != dtype:
            raise Unsupported(f"an update of type {dtype} into an array of {trace.arrays[target][1]}")
        else:
            items[target] = replace(items[target], writable=True)
        stores.append(f"{'o' if target is None else 'a'}{k if target is None else target}[i] = {value.text};")
    loop = [f"for (Py_ssize_t i = 0; i < {trace.size}; i++) {{", *_indented(trace.lines + stores), "}"]
    if trace.checked is None:
        return _function(items, [*trace.hoisted, *loop, *trace.after])
    values, slices = trace.checked
    checks = [f"bad{v} |= !isfinite({value.text});" for v, value in enumerate(values) if isinstance(value, Value)]
    items.append(_Item("finite", np.dtype(np.bool_), len(slices) * len(values), writable=True))
    body = [*trace.hoisted, f"static const Py_ssize_t starts[{len(slices)}] = {{{', '.join(str(a) for a, _ in slices)}}};",
            f"static const Py_ssize_t ends[{len(slices)}] = {{{', '.join(str(b) for _, b in slices)}}};",
            f"for (Py_ssize_t p = 0; p < {len(slices)}; p++) {{",
            *(f"    int bad{v} = 0;" for v in range(len(values))),
            "    for (Py_ssize_t i = starts[p]; i < ends[p]; i++) {",
            *_indented(trace.lines + stores + checks, 2), "    }",
            *(f"    finite[p * {len(values)} + {v}] = !bad{v};" for v in range(len(values))),
            *(f"    *flagged |= bad{v};" for v in range(len(values))), "}", *trace.after]
    return _function(items, body)


def synapse_loop(trace: Trace, rows: int) -> str:
    """C source: for each presynaptic neuron in `rows` (int64, in order), for each of its synapses
    i in CSR order (`indptr`, int64, rows + 2 entries), the trace's lines. Takes (rows, indptr,
    *arrays, *scalars, *flats)."""
    items = [_Item("rows", np.dtype(np.int64)), _Item("indptr", np.dtype(np.int64), rows + 2), *_items(trace)]
    body = [*trace.hoisted, "for (Py_ssize_t r = 0; r < rows_length; r++) {",
            f"    if ((uint64_t)rows[r] > {rows}) {{ *fault = 1; return; }}",
            "    for (int64_t i = indptr[rows[r]]; i < indptr[rows[r] + 1]; i++) {",
            *_indented(trace.lines, 2), "    }", "}", *trace.after]
    return _function(items, body)


def _indented(lines: list[str], depth: int = 1) -> list[str]:
    return [f"{'    ' * depth}{line}" for line in lines]


def _function(items: list[_Item], body: list[str]) -> str:
    """The loop `body` as `static void loop(...)`, and the exported function that reads `items`
    from its tuple argument (checking each array), calls it, and reports a fault."""
    # Not inlined into the glue: inlined, a long loop (COBAHH's) was no longer vectorised by gcc 12
    loop = [f"__attribute__((noinline)) static void loop({', '.join(item.parameter() for item in items)}, int *restrict fault, "
            "int *restrict flagged)", "{",
            *_indented(body), "}", ""]
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
              "    if (fault)",
              '        PyErr_SetString(PyExc_IndexError, "a compiled loop met an index out of range (a bug in brainsim)");',
              "fail:", "    while (held > 0)", "        PyBuffer_Release(&buffers[--held]);",
              "    return PyErr_Occurred() ? -1 : flagged;", "}", ""]
    return "\n".join([_PRELUDE, *loop, *lines])


def compiler() -> str:
    """The C compiler's command: $CC, else cc or gcc on PATH.

    Raises:
        InvalidValueError: there is none, or Python's headers (Python.h) are missing.
    """
    named = os.environ.get("CC")
    if named and not shutil.which(named.split()[0]):
        raise InvalidValueError(f"compiled_updates: the C compiler that $CC names, {named!r}, is not found")
    found = named or shutil.which("cc") or shutil.which("gcc")
    if not found:
        raise InvalidValueError("compiled_updates needs a C compiler: none found ($CC is unset and neither cc nor "
                                "gcc is on PATH); install gcc, or leave compiled_updates off")
    if not (Path(sysconfig.get_paths()["include"]) / "Python.h").exists():
        raise InvalidValueError(f"compiled_updates needs Python's C headers, which are missing here "
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


def load(code: str):
    """The function of C source `code`, compiled (or found compiled in the cache) and loaded."""
    command = [*compiler().split(), *FLAGS, f"-I{sysconfig.get_paths()['include']}"]
    key = hashlib.sha256("\0".join([*command, _processor(), code]).encode()).hexdigest()[:32]
    directory = cache_directory()
    library = directory / f"update-{key}.so"
    if not library.exists():
        try:
            directory.mkdir(parents=True, exist_ok=True)
            scratch_directory = tempfile.TemporaryDirectory(dir=directory)
        except OSError as error:
            raise InvalidValueError(f"compiled_updates cannot keep its compiled loops in {directory} ({error}); "
                                    "set BRAINSIM_C_CACHE to a folder it may write") from None
        with scratch_directory as scratch:
            c_file, built = Path(scratch) / "update.c", Path(scratch) / "update.so"
            c_file.write_text(code)
            result = subprocess.run([*command, str(c_file), "-o", str(built)], capture_output=True, text=True)
            if result.returncode != 0:
                raise RuntimeError(f"the C compiler failed on a generated update (a bug in brainsim):\n"
                                   f"{' '.join(command)}\n{result.stderr}")
            os.replace(built, library)  # atomic: a concurrent process sees the whole file or none
    function = getattr(ctypes.PyDLL(str(library)), FUNCTION)
    function.argtypes, function.restype = [ctypes.py_object], ctypes.c_int
    return function
