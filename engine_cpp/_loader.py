"""Compile the C++ engine with cppyy once per process and hand out its classes.

Nothing here leaks cppyy objects to callers outside dx7d.engine_cpp: the facade in
_synth.py wraps them. A compile error becomes EngineError naming the file and line.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from ._errors import EngineError

__all__ = ["SOURCE_DIR", "UNITY_SOURCE", "engine_namespace"]

SOURCE_DIR = Path(__file__).resolve().parent
UNITY_SOURCE = "dx7_unity.cpp"

_lock = threading.Lock()
_namespace: Any = None

_DIAGNOSTIC = re.compile(
    r"^(?P<file>[^\s:][^:]*):(?P<line>\d+):(?P<col>\d+): (?:fatal )?error: (?P<msg>.*)$",
    re.MULTILINE,
)


def _first_error(text: str) -> str:
    """The first 'file:line:col: error: message' of a Cling diagnostic, made readable."""
    match = _DIAGNOSTIC.search(text)
    if match is None:
        lines = [ln for ln in text.strip().splitlines() if ln.strip()]
        return lines[0] if lines else "unknown compiler error"
    name = Path(match.group("file")).name
    return f"{name}:{match.group('line')}: {match.group('msg')}"


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


def load(source_dir: Path | None = None, unity: str = UNITY_SOURCE) -> Any:
    """Compile (once) and return the cppyy namespace `dx7`. Raises EngineError."""
    global _namespace
    with _lock:
        if _namespace is not None and source_dir is None:
            return _namespace
        try:
            import cppyy
        except ImportError as exc:  # pragma: no cover - cppyy is a hard dependency
            raise EngineError(f"cppyy is not importable: {exc}") from exc
        directory = source_dir or SOURCE_DIR
        path = directory / unity
        if not path.is_file():
            raise EngineError(f"engine source {path} is missing")
        cppyy.add_include_path(str(directory))
        saved, tmp = _capture_stderr_fd()
        message = ""
        try:
            cppyy.include(str(path))
        except Exception as exc:  # cppyy raises ImportError/SyntaxError with the diagnostic
            message = str(exc)
        finally:
            diagnostics = _restore_stderr_fd(saved, tmp)
        if message or _DIAGNOSTIC.search(diagnostics):
            where = _first_error(message + "\n" + diagnostics)
            raise EngineError(f"C++ engine failed to compile: {where}")
        namespace = cppyy.gbl.dx7
        if source_dir is None:
            _namespace = namespace
        return namespace


def engine_namespace() -> Any:
    """The compiled `dx7` namespace (compiling it on first use)."""
    return load()



