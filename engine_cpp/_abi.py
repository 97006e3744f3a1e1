"""The engine's C ABI as Python sees it: ONE table, from which both loaders build `lib`.

Convention (issue 9) for every C++ entry point Python calls:

* It is an ``extern "C"`` function named ``dx7_<area>_<verb>``, declared in a C header
  (dx7_capi.h, or a dx7_<area>_capi.h of your own), with opaque handles (``typedef struct
  dx7_x dx7_x;``), const input pointers, int32/int64/float/double/pointers only, units in
  the comment, and no exception crossing it. C++ code that needs the engine behind a
  ``dx7_engine *`` includes dx7_capi_handle.h (``engine->impl`` is the dx7::Engine).
* Its .cpp joins the unity build: one ``#include`` line in dx7_unity.cpp. Both loaders
  compile exactly that file (cppyy: JIT; compiled: g++ into a cached shared library).
* It is registered here: one ``Fn(...)`` line in FUNCTIONS with its result and argument
  types from the vocabulary below (I32, I64, F32, F64, HANDLE, VOID, and ``array(dtype)``
  for a pointer to numpy data: ``const=True`` for an input, ``nullable=True`` if NULL is
  allowed). ``release_gil=True`` for a call that may run long (more than ~1 ms: offline or
  batch renders): both loaders then release the GIL during it; every other call keeps it
  (re-taking the GIL after a short real-time call could wait a whole switch interval).
* A system library it links: one ``Library(...)`` line in LIBRARIES (the g++ ``-l`` name
  and the file cppyy loads), e.g. ``Library("portaudio", "libportaudio.so.2")``.
* Callers write ``lib.dx7_engine_render(handle, out, n)`` under both loaders: numpy arrays
  (C-contiguous, the declared dtype) are passed as they are, None for a nullable pointer;
  handles are passed back as they were returned; ``lib.is_null(handle)`` tests one.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

__all__ = [
    "BY_NAME",
    "F32",
    "F64",
    "FUNCTIONS",
    "HANDLE",
    "I32",
    "I64",
    "LIBRARIES",
    "VOID",
    "ArrayType",
    "Fn",
    "Library",
    "Scalar",
    "array",
]


class Scalar(NamedTuple):
    """A plain C value (or an opaque handle) and its ctypes type."""

    c_name: str
    ctype: Any


class ArrayType(NamedTuple):
    """A pointer to the first element of a C-contiguous numpy array of `dtype`."""

    dtype: str
    const: bool = False
    nullable: bool = False

    @property
    def c_name(self) -> str:
        base = {"float32": "float", "float64": "double", "uint8": "uint8_t",
                "int16": "int16_t", "int32": "int32_t", "int64": "int64_t"}[self.dtype]
        return ("const " if self.const else "") + base + " *"


I32 = Scalar("int32_t", ctypes.c_int32)
I64 = Scalar("int64_t", ctypes.c_int64)
F32 = Scalar("float", ctypes.c_float)
F64 = Scalar("double", ctypes.c_double)
HANDLE = Scalar("struct *", ctypes.c_void_p)  # any opaque dx7_* handle
VOID = Scalar("void", None)


def array(dtype: str, *, const: bool = False, nullable: bool = False) -> ArrayType:
    """A numpy-array pointer argument: array("float32"), array("uint8", const=True)."""
    np.dtype(dtype)  # a typo fails at import
    return ArrayType(dtype, const, nullable)


Arg = Scalar | ArrayType


class Fn(NamedTuple):
    """One C function: name, result type, argument types, and whether it releases the GIL."""

    name: str
    result: Scalar
    args: tuple[Arg, ...]
    release_gil: bool = False

    def signature(self) -> str:
        """The C prototype, for error messages and docs."""
        return f"{self.result.c_name} {self.name}({', '.join(a.c_name for a in self.args)})"


class Library(NamedTuple):
    """A system library the C++ sources call: g++ -l<link>; cppyy loads `soname`."""

    link: str
    soname: str


F32_OUT = array("float32")
U8_IN = array("uint8", const=True)

# -- the table: one line per C function (dx7_capi.h and the headers that add to it) ----
FUNCTIONS: tuple[Fn, ...] = (
    Fn("dx7_abi_version", I32, ()),
    Fn("dx7_engine_new", HANDLE, (F64, I32, I32)),
    Fn("dx7_engine_free", VOID, (HANDLE,)),
    Fn("dx7_engine_post", I32, (HANDLE, I64, I32, I32, I32)),
    Fn("dx7_engine_post_patch", I32, (HANDLE, I64, U8_IN)),
    Fn("dx7_engine_flush_events", VOID, (HANDLE,)),
    Fn("dx7_engine_render", VOID, (HANDLE, F32_OUT, I32)),
    Fn("dx7_engine_render_note", VOID,
       (HANDLE, F32_OUT, I32, I32, I32, I32, F32, array("float32", nullable=True)),
       release_gil=True),
    Fn("dx7_engine_frame_position", I64, (HANDLE,)),
    Fn("dx7_engine_sounding_voices", I32, (HANDLE,)),
    Fn("dx7_engine_dropped_events", I64, (HANDLE,)),
    Fn("dx7_engine_peak", F32, (HANDLE,)),
    Fn("dx7_engine_reset_peak", VOID, (HANDLE,)),
    Fn("dx7_engine_polyphony", I32, (HANDLE,)),
    Fn("dx7_engine_sample_rate", F64, (HANDLE,)),
    Fn("dx7_algorithm_route", I32, (I32, I32)),
    # dx7_batch.h: N offline notes on a pool of engines (issue 11)
    Fn("dx7_batch_new", HANDLE, (F64, I32)),
    Fn("dx7_batch_free", VOID, (HANDLE,)),
    Fn("dx7_batch_threads", I32, (HANDLE,)),
    Fn("dx7_batch_render", I32,
       (HANDLE, U8_IN, I32, array("int32", const=True), array("int32", const=True), I32, I32,
        F32, I32, F32_OUT, array("float32", nullable=True), I32),
       release_gil=True),
    # dx7_graph.h: a free operator graph (OperatorGraph, issue 11)
    Fn("dx7_graph_render", I32,
       (I32, U8_IN, array("float32", const=True), array("float32", const=True), U8_IN, F64, I32,
        I32, I32, I32, F32, F32_OUT, array("float32", nullable=True)),
       release_gil=True),
    # dx7_audio.h: the native audio output (PortAudio run from C++); open, start, stop, close
    # may wait on PortAudio (a JACK server, or its close that hangs): they release the GIL
    Fn("dx7_audio_available", I32, ()),
    Fn("dx7_audio_open", HANDLE,
       (HANDLE, I32, I32, U8_IN, I32, I32, I32, U8_IN, array("uint8"), I32), release_gil=True),
    Fn("dx7_audio_open_hosted", HANDLE, (HANDLE, I32, I32, I32, U8_IN, array("uint8"), I32)),
    Fn("dx7_audio_start", I32, (HANDLE, array("uint8"), I32), release_gil=True),
    Fn("dx7_audio_stop", I32, (HANDLE,), release_gil=True),
    Fn("dx7_audio_close", VOID, (HANDLE,), release_gil=True),
    Fn("dx7_audio_is_active", I32, (HANDLE,)),
    Fn("dx7_audio_device_name", I32, (HANDLE, array("uint8"), I32)),
    Fn("dx7_audio_frame_at", I64, (HANDLE, F64)),
    Fn("dx7_audio_now", F64, ()),
    Fn("dx7_audio_stats", VOID, (HANDLE, array("int64"), I32)),
    Fn("dx7_audio_histogram", VOID, (HANDLE, array("int64"), I32)),
    Fn("dx7_audio_record_read", I32, (HANDLE, F32_OUT, I32)),
    # dx7_jackmidi.h: the JACK MIDI client (midi.api jack; libjack dlopen'ed), which also
    # hosts the native audio stream on JACK: open, close, remove_port, attach_audio and
    # detach_audio wait on the JACK server: they release the GIL
    Fn("dx7_jackmidi_available", I32, ()),
    Fn("dx7_jackmidi_open", HANDLE, (U8_IN, U8_IN, U8_IN, I32, array("uint8"), I32),
       release_gil=True),
    Fn("dx7_jackmidi_close", VOID, (HANDLE,), release_gil=True),
    Fn("dx7_jackmidi_fd", I32, (HANDLE,)),
    Fn("dx7_jackmidi_wake", VOID, (HANDLE,)),
    Fn("dx7_jackmidi_add_port", I32, (HANDLE, U8_IN)),
    Fn("dx7_jackmidi_connect", I32, (HANDLE, U8_IN, I32)),
    Fn("dx7_jackmidi_remove_port", I32, (HANDLE, I32), release_gil=True),
    Fn("dx7_jackmidi_source_ports", I32, (HANDLE, array("uint8"), I32)),
    Fn("dx7_jackmidi_send", I32, (HANDLE, U8_IN, I32)),
    Fn("dx7_jackmidi_read", I32, (HANDLE, array("uint8"), I32)),
    Fn("dx7_jackmidi_stats", VOID, (HANDLE, array("int64"), I32)),
    Fn("dx7_jackmidi_retain", VOID, (HANDLE,)),
    Fn("dx7_jackmidi_attach_audio", I32, (HANDLE, HANDLE, U8_IN, array("uint8"), I32),
       release_gil=True),
    Fn("dx7_jackmidi_detach_audio", VOID, (HANDLE,), release_gil=True),
)

# -- system libraries the sources link against (g++ -l name, file cppyy loads) ---------
LIBRARIES: tuple[Library, ...] = (
    Library("portaudio", "libportaudio.so.2"),  # dx7_audio.cpp: the native audio output
    Library("dl", "libdl.so.2"),  # dx7_jackmidi.cpp: dlopen of libjack.so.0
)

ABI_NAMES: frozenset[str] = frozenset(f.name for f in FUNCTIONS)
BY_NAME: dict[str, Fn] = {f.name: f for f in FUNCTIONS}
assert len(ABI_NAMES) == len(FUNCTIONS), "a function is listed twice in FUNCTIONS"


def ctypes_argtype(arg: Arg) -> Any:
    """The ctypes argtype: numpy arrays go through ndpointer (dtype and layout checked)."""
    if isinstance(arg, Scalar):
        return arg.ctype
    flags: Any = ("C_CONTIGUOUS",) if arg.const else ("C_CONTIGUOUS", "WRITEABLE")
    base: Any = np.ctypeslib.ndpointer(dtype=arg.dtype, flags=flags)
    if not arg.nullable:
        return base

    def from_param(cls: type, obj: Any) -> Any:
        return None if obj is None else base.from_param(obj)

    return type(f"nullable_{base.__name__}", (base,), {"from_param": classmethod(from_param)})


def has_nullable(fn: Fn) -> bool:
    return any(isinstance(a, ArrayType) and a.nullable for a in fn.args)


def null_to(fn: Fn, call: Callable[..., Any], null: object) -> Callable[..., Any]:
    """Wrap `call` so None in a nullable array slot becomes `null` (cppyy.nullptr)."""
    slots = [i for i, a in enumerate(fn.args) if isinstance(a, ArrayType) and a.nullable]

    def wrapped(*args: Any) -> Any:
        fixed = list(args)
        for i in slots:
            if i < len(fixed) and fixed[i] is None:
                fixed[i] = null
        return call(*fixed)

    wrapped.__name__ = fn.name
    return wrapped
