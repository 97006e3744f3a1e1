"""The native audio output's C functions (dx7_audio.h), compiled beside the engine.

``audio_library()`` returns an object whose ``dx7_audio_*`` attributes are the C
functions of engine_cpp/dx7_audio.cpp, compiled once per process by cppyy after the
engine, with libportaudio loaded first. The calls that may block inside PortAudio (open,
start, close) release the GIL.
"""

from __future__ import annotations

import ctypes.util
import threading
from typing import Any

from . import _loader
from ._errors import EngineError

__all__ = ["AUDIO_SOURCE", "audio_library"]

AUDIO_SOURCE = "dx7_audio.cpp"
_RELEASE_GIL = ("dx7_audio_open", "dx7_audio_start", "dx7_audio_close")

_lock = threading.Lock()
_library: Any = None


def audio_library() -> Any:
    """The dx7_audio_* functions (compiling them on first use). Raises EngineError."""
    global _library
    with _lock:
        if _library is not None:
            return _library
        _loader.load()  # the engine first: dx7_audio.cpp renders through dx7::Engine
        import cppyy

        name = ctypes.util.find_library("portaudio") or "libportaudio.so.2"
        if not cppyy.load_library(name):
            raise EngineError(f"cannot load the PortAudio library ({name})")
        path = _loader.SOURCE_DIR / AUDIO_SOURCE
        try:
            cppyy.include(str(path))
        except Exception as exc:
            raise EngineError(f"{AUDIO_SOURCE} failed to compile: {exc}") from exc
        for function in _RELEASE_GIL:
            getattr(cppyy.gbl, function).__release_gil__ = True
        _library = cppyy.gbl
        return _library
