"""Temporary access to the dx7_batch_* C functions until engine_cpp/_abi.py registers them.

Same calling convention as the ABI's ``lib``: numpy arrays as they are, None for a
nullable pointer, handles passed back as returned.
"""

from __future__ import annotations

import threading
from typing import Any

from . import _loader

__all__ = ["batch_lib"]

_lock = threading.Lock()
_lib: Any = None


class _CppyyBatchLib:
    def __init__(self) -> None:
        _loader.load()
        import cppyy

        self._nullptr = cppyy.nullptr
        g = cppyy.gbl
        g.dx7_batch_render.__release_gil__ = True
        self._render = g.dx7_batch_render
        self.dx7_batch_new = g.dx7_batch_new
        self.dx7_batch_free = g.dx7_batch_free
        self.dx7_batch_threads = g.dx7_batch_threads

    def is_null(self, handle: Any) -> bool:
        return handle is None or handle == self._nullptr

    def dx7_batch_render(self, *args: Any) -> int:
        fixed = [self._nullptr if a is None else a for a in args]
        return int(self._render(*fixed))


def batch_lib() -> Any:
    global _lib
    with _lock:
        if _lib is None:
            _lib = _CppyyBatchLib()
        return _lib
