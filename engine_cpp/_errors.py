"""Errors raised by dx7d.engine_cpp."""

from __future__ import annotations

__all__ = ["EngineError"]


class EngineError(RuntimeError):
    """The C++ engine could not be compiled or used (the message names file and line)."""
