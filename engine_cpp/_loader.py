"""Load the C++ engine once per process and loader, and hand out its C ABI as `lib`.

Two loaders of the same sources (dx7_unity.cpp), chosen by ``engine.loader``:

* ``cppyy``: Cling JIT-compiles the sources at start-up (the design's loader; x86-64 and
  macOS arm64, where cppyy has wheels);
* ``compiled``: g++ builds them once into a shared library in the cache directory
  (_compiled.py), loaded with ctypes (a Raspberry Pi: no cppyy wheels for aarch64);
* ``auto``: cppyy when it imports, else compiled.

Both build the same :class:`Lib` from the one table in _abi.py, so nothing above this
module knows which ran. A compile error becomes EngineError naming the file and line.
"""

from __future__ import annotations

import ctypes
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import _abi
from ._errors import DIAGNOSTIC, EngineError, first_error

__all__ = ["DEFAULT_LOADER", "LOADERS", "SOURCE_DIR", "UNITY_SOURCE", "Lib", "load", "resolve"]

SOURCE_DIR = Path(__file__).resolve().parent
UNITY_SOURCE = "dx7_unity.cpp"
LOADERS = ("auto", "cppyy", "compiled")
DEFAULT_LOADER = "auto"
"""What ``load(None)`` (and ``Synth()`` without a loader) uses; the engine tests set it."""

_lock = threading.Lock()
_loaded: dict[str, Lib] = {}


class Lib:
    """The engine's C functions by name (``lib.dx7_engine_new(...)``), whichever loader.

    ``loader`` says which ran ("cppyy" or "compiled"), ``compile_s`` how long compiling
    took in this process (0.0 when the compiled library came from the cache) and
    ``path`` the shared library (compiled loader only).
    """

    def __init__(self, loader: str, compile_s: float, path: Path | None,
                 bind: Callable[[_abi.Fn], Callable[..., Any]], is_null: Callable[[Any], bool]
                 ) -> None:
        self.loader = loader
        self.compile_s = compile_s
        self.path = path
        self.is_null = is_null
        self._bind = bind

    def __getattr__(self, name: str) -> Callable[..., Any]:
        """Bind a table function on first use (cppyy looks each name up in Cling: binding
        all of them at start-up would cost start-up time) and keep it as an attribute."""
        fn = _abi.BY_NAME.get(name)
        if fn is None:
            raise AttributeError(f"{name} is not a function of the engine's C ABI "
                                 "(register it in engine_cpp/_abi.py FUNCTIONS)")
        call = self._bind(fn)
        setattr(self, name, call)
        return call

    def describe(self) -> str:
        """One line for the log: the loader and its compile time."""
        if self.loader == "compiled":
            how = (f"compiled in {self.compile_s:.2f} s" if self.compile_s
                   else "from the cache")
            return f"compiled loader (g++ shared library {how}: {self.path})"
        return f"cppyy loader (JIT compiled in {self.compile_s:.2f} s)"


def cppyy_available() -> bool:
    """Whether `import cppyy` works here (it imports cppyy: ~0.3 s the first time)."""
    try:
        import cppyy  # noqa: F401
    except Exception:  # ImportError, or a broken install raising anything at import
        return False
    return True


def _capture_stderr_fd() -> tuple[int, Any]:
    """Redirect the C-level stderr (fd 2) into a temporary file; returns (saved fd, file)."""
    sys.stderr.flush()
    saved = os.dup(2)
    tmp = tempfile.TemporaryFile(mode="w+b")
    os.dup2(tmp.fileno(), 2)
    return saved, tmp


def _restore_stderr_fd(saved: int, tmp: Any) -> str:
    os.dup2(saved, 2)
    os.close(saved)
    tmp.seek(0)
    text = tmp.read().decode("utf-8", "replace")
    tmp.close()
    return text


def _missing(name: str, loader: str) -> EngineError:
    return EngineError(f"{name} is listed in engine_cpp/_abi.py but the {loader} build of "
                       "the C++ sources does not define it (extern \"C\"? in dx7_unity.cpp?)")


def _load_cppyy(directory: Path, unity: str) -> Lib:
    try:
        import cppyy
    except Exception as exc:
        raise EngineError(f"engine.loader is cppyy but cppyy is not importable: {exc}") \
            from exc
    path = directory / unity
    if not path.is_file():
        raise EngineError(f"engine source {path} is missing")
    for library in _abi.LIBRARIES:
        if not cppyy.load_library(library.soname):
            raise EngineError(f"cppyy could not load {library.soname} (for -l{library.link})")
    cppyy.add_include_path(str(directory))
    t0 = time.perf_counter()
    saved, tmp = _capture_stderr_fd()
    message = ""
    try:
        cppyy.include(str(path))
    except Exception as exc:  # cppyy raises ImportError/SyntaxError with the diagnostic
        message = str(exc)
    finally:
        diagnostics = _restore_stderr_fd(saved, tmp)
    if message or DIAGNOSTIC.search(diagnostics):
        where = first_error(message + "\n" + diagnostics)
        raise EngineError(f"C++ engine failed to compile: {where}")
    elapsed = time.perf_counter() - t0
    nullptr = cppyy.nullptr

    def bind(fn: _abi.Fn) -> Callable[..., Any]:
        try:
            call = getattr(cppyy.gbl, fn.name)
        except AttributeError:
            raise _missing(fn.name, "cppyy") from None
        if fn.release_gil:
            call.__release_gil__ = True  # cppyy drops the GIL around the C++ call
        return _abi.null_to(fn, call, nullptr) if _abi.has_nullable(fn) else call

    def is_null(handle: Any) -> bool:
        return handle is None or handle == nullptr or not handle

    return Lib("cppyy", elapsed, None, bind, is_null)


def _load_compiled(directory: Path, unity: str, cache: Path | None) -> Lib:
    from . import _compiled  # not imported on the cppyy path: start-up time

    built = _compiled.build(directory, unity, cache)
    try:
        # CDLL drops the GIL around each call, PyDLL keeps it: one dlopen'ed file, two views.
        releasing = ctypes.CDLL(str(built.path))
        holding = ctypes.PyDLL(str(built.path))
    except OSError as exc:
        raise EngineError(f"cannot load the compiled engine {built.path}: {exc}") from exc

    def bind(fn: _abi.Fn) -> Callable[..., Any]:
        try:
            call = getattr(releasing if fn.release_gil else holding, fn.name)
        except AttributeError:
            raise _missing(fn.name, "compiled") from None
        call.restype = fn.result.ctype
        call.argtypes = [_abi.ctypes_argtype(a) for a in fn.args]
        return call

    lib = Lib("compiled", built.compile_s, built.path, bind, lambda h: not h)
    for fn in _abi.FUNCTIONS:  # dlsym is cheap: a missing function fails here, at load
        getattr(lib, fn.name)
    return lib


def resolve(loader: str | None) -> str:
    """The loader `auto` (or None: DEFAULT_LOADER) means here: cppyy if importable, else
    compiled."""
    loader = DEFAULT_LOADER if loader is None else loader
    if loader not in LOADERS:
        raise EngineError(f"engine.loader {loader!r} is not one of {', '.join(LOADERS)}")
    if loader != "auto":
        return loader
    return "cppyy" if cppyy_available() else "compiled"


def load(loader: str | None = None, source_dir: Path | None = None, unity: str = UNITY_SOURCE,
         cache: Path | None = None) -> Lib:
    """Compile (once per process and loader) and return the engine's `lib`.

    source_dir/cache other than the defaults (tests) always load afresh. Raises EngineError.
    """
    kind = resolve(loader)
    with _lock:
        default = source_dir is None and cache is None
        if default and kind in _loaded:
            return _loaded[kind]
        directory = source_dir or SOURCE_DIR
        lib = (_load_cppyy(directory, unity) if kind == "cppyy"
               else _load_compiled(directory, unity, cache))
        if default:
            _loaded[kind] = lib
        return lib
