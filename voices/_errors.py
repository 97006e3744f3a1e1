"""The one error type of the sysex codec."""

from __future__ import annotations

__all__ = ["SysexError"]


class SysexError(ValueError):
    """Bytes that are not an acceptable DX7 message or payload.

    ``reason`` says what was wrong and what was expected; ``offset`` is the byte
    index (in the message or payload that was being decoded) where it was found,
    or None when the problem is not tied to one byte (e.g. an empty file).
    """

    def __init__(self, reason: str, offset: int | None = None) -> None:
        self.reason = reason
        self.offset = offset
        where = "" if offset is None else f" (at byte {offset})"
        super().__init__(f"{reason}{where}")
