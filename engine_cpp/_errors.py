"""Errors raised by dx7d.engine_cpp, and the compiler diagnostics they quote."""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["DIAGNOSTIC", "EngineError", "first_error"]

DIAGNOSTIC = re.compile(
    r"^(?P<file>[^\s:][^:]*):(?P<line>\d+):(?:(?P<col>\d+):)? (?:fatal )?error: (?P<msg>.*)$",
    re.MULTILINE,
)
"""A 'file:line[:col]: error: message' line of g++ or Cling."""


class EngineError(RuntimeError):
    """The C++ engine could not be compiled or used (the message names file and line)."""


def first_error(text: str) -> str:
    """'file:line: message' of the first compiler error in `text` (g++ or Cling)."""
    match = DIAGNOSTIC.search(text)
    if match is None:
        lines = [ln for ln in text.strip().splitlines() if ln.strip()]
        return lines[0] if lines else "unknown compiler error"
    name = Path(match.group("file")).name
    return f"{name}:{match.group('line')}: {match.group('msg')}"
