"""One decoder and one encoder per voice format, driven by the tables in _spec.

Voice values travel as a 156-byte ``bytearray`` indexed by parameter number
(VCED order, OP6 first, plus the operator on/off mask at 155).

Decoders work in two modes:

* strict: a value outside its range raises :class:`SysexError` naming the
  parameter, the allowed range and the byte offset;
* lenient (files): the value is clamped into range and counted.

VMEM "don't care" bits (everything outside the fields, bit 7 included) are
masked in both modes and the bytes that carried any are counted.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._errors import SysexError
from ._spec import (
    OP_ENABLE,
    PARAMETER_COUNT,
    PARAMETERS,
    VCED_SIZE,
    VMEM_FIELDS,
    VMEM_SIZE,
    VMEM_USED_BITS,
)

__all__ = ["Decoded", "decode_vced", "decode_vmem", "encode_vced", "encode_vmem"]

ALL_OPERATORS_ON = 0x3F
_RANGES = tuple((p.low, p.high) for p in PARAMETERS)
_VMEM = tuple(
    (f.byte, f.shift, (1 << f.width) - 1, f.param, *_RANGES[f.param]) for f in VMEM_FIELDS
)


@dataclass(frozen=True)
class Decoded:
    """A decoded voice: its parameter values and what was repaired on the way."""

    values: bytes  # PARAMETER_COUNT bytes, indexed by parameter number
    clamped: int  # fields that were out of range and were clamped (lenient mode)
    masked: int  # VMEM bytes that carried bits outside every field (ignored)


def _repair(number: int, raw: int, strict: bool, offset: int, prefix: str) -> int:
    """The value clamped into range, or SysexError in strict mode."""
    low, high = _RANGES[number]
    if strict:
        p = PARAMETERS[number]
        raise SysexError(f"{prefix}{p.label} is {raw}, allowed {low}-{high}", offset)
    return min(max(raw, low), high)


def decode_vced(data: bytes, *, strict: bool, base: int = 0, prefix: str = "") -> Decoded:
    """Decode a 155-byte VCED payload (or 156 with the operator on/off mask).

    ``base`` is added to byte offsets in errors (the payload's place in a message);
    ``prefix`` starts every error reason (e.g. "voice 3: ").
    """
    if len(data) not in (VCED_SIZE, PARAMETER_COUNT):
        raise SysexError(
            f"{prefix}a single voice (VCED) has {VCED_SIZE} bytes "
            f"({PARAMETER_COUNT} with the operator on/off mask), got {len(data)}"
        )
    values = bytearray(PARAMETER_COUNT)
    values[OP_ENABLE] = ALL_OPERATORS_ON
    clamped = 0
    for number in range(len(data)):
        raw = data[number] if strict else data[number] & 0x7F
        low, high = _RANGES[number]
        if low <= raw <= high:
            values[number] = raw
        else:
            values[number] = _repair(number, raw, strict, base + number, prefix)
            clamped += 1
    return Decoded(bytes(values), clamped, 0)


def decode_vmem(data: bytes, *, strict: bool, base: int = 0, prefix: str = "") -> Decoded:
    """Decode one 128-byte packed voice; its operators are all switched on."""
    if len(data) != VMEM_SIZE:
        raise SysexError(f"{prefix}a packed voice (VMEM) has {VMEM_SIZE} bytes, got {len(data)}")
    masked = sum(1 for raw, used in zip(data, VMEM_USED_BITS, strict=True) if raw & ~used)
    values = bytearray(PARAMETER_COUNT)
    values[OP_ENABLE] = ALL_OPERATORS_ON
    clamped = 0
    for byte, shift, mask, number, low, high in _VMEM:
        raw = (data[byte] >> shift) & mask
        if low <= raw <= high:
            values[number] = raw
        else:
            values[number] = _repair(number, raw, strict, base + byte, prefix)
            clamped += 1
    return Decoded(bytes(values), clamped, masked)


def encode_vced(values: bytes | bytearray) -> bytes:
    """The 155-byte VCED payload of a voice (the on/off mask is not part of it)."""
    return bytes(values[:VCED_SIZE])


def encode_vmem(values: bytes | bytearray) -> bytes:
    """The 128-byte packed form of a voice (the on/off mask is not part of it)."""
    out = bytearray(VMEM_SIZE)
    for byte, shift, mask, number, _, _ in _VMEM:
        out[byte] |= (values[number] & mask) << shift
    return bytes(out)
