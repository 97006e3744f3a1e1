"""Every system-exclusive message a DX7 takes, strictly parsed, and their builders.

``parse_sysex`` checks a whole message before it builds anything, so a refused
message (SysexError) leaves nothing half-applied. This is the strict path for
MIDI input; files go through the lenient ``Bank.from_bytes``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ._codec import decode_vced, decode_vmem
from ._errors import SysexError
from ._patch import Patch
from ._spec import FUNCTION_PARAMETERS, PARAMETER_COUNT, PARAMETERS, VCED_SIZE, VMEM_SIZE

if TYPE_CHECKING:
    from ._bank import Bank

__all__ = [
    "BankDump",
    "DumpRequest",
    "FunctionParameterChange",
    "SysexMessage",
    "VoiceDump",
    "VoiceParameterChange",
    "bank_dump",
    "checksum",
    "dump_request",
    "function_parameter_change",
    "parse_sysex",
    "voice_dump",
    "voice_parameter_change",
]

SYSEX, EOX, YAMAHA = 0xF0, 0xF7, 0x43
FORMAT_VOICE, FORMAT_BANK = 0, 9
# format: (payload bytes, the two byte-count bytes, what it is)
_BULK = {
    FORMAT_VOICE: (VCED_SIZE, (0x01, 0x1B), "single-voice dump"),
    FORMAT_BANK: (32 * VMEM_SIZE, (0x20, 0x00), "32-voice dump"),
}
GROUP_VOICE, GROUP_FUNCTION = 0, 2
_STATUS = re.compile(rb"[\x80-\xff]")  # any byte that is not a 7-bit data byte


def checksum(data: bytes) -> int:
    """DX7 checksum of dump data bytes: the 7-bit two's complement of their sum."""
    return -sum(data) & 0x7F


def _check_channel(channel: int) -> None:
    if not 0 <= channel <= 15:
        raise ValueError(f"MIDI channel must be 0-15 (channel 1-16), got {channel}")


@dataclass(frozen=True)
class VoiceDump:
    """Single-voice dump (format 0): goes to the edit buffer."""

    channel: int  # 0-15
    patch: Patch

    def __post_init__(self) -> None:
        _check_channel(self.channel)

    def to_bytes(self) -> bytes:
        return voice_dump(self.patch, self.channel)


@dataclass(frozen=True)
class BankDump:
    """32-voice dump (format 9): a whole cartridge."""

    channel: int
    bank: Bank

    def __post_init__(self) -> None:
        _check_channel(self.channel)

    def to_bytes(self) -> bytes:
        return bank_dump(self.bank, self.channel)


@dataclass(frozen=True)
class VoiceParameterChange:
    """Voice parameter change (group 0): parameter 0-155 (see PARAMETERS), value in range."""

    channel: int
    parameter: int
    value: int

    def __post_init__(self) -> None:
        _check_channel(self.channel)
        if not 0 <= self.parameter < PARAMETER_COUNT:
            raise ValueError(f"voice parameter must be 0-155, got {self.parameter}")
        p = PARAMETERS[self.parameter]
        if not p.low <= self.value <= p.high:
            raise ValueError(f"{p.label} must be {p.low}-{p.high}, got {self.value}")

    def to_bytes(self) -> bytes:
        group = GROUP_VOICE << 2 | self.parameter >> 7
        return bytes((SYSEX, YAMAHA, 0x10 | self.channel, group, self.parameter & 0x7F,
                      self.value, EOX))


@dataclass(frozen=True)
class FunctionParameterChange:
    """Function parameter change (group 2): parameter 64-77 (see FUNCTION_PARAMETERS)."""

    channel: int
    parameter: int
    value: int

    def __post_init__(self) -> None:
        _check_channel(self.channel)
        p = FUNCTION_PARAMETERS.get(self.parameter)
        if p is None:
            raise ValueError(f"function parameter must be 64-77, got {self.parameter}")
        if not p.low <= self.value <= p.high:
            raise ValueError(f"{p.label} must be {p.low}-{p.high}, got {self.value}")

    def to_bytes(self) -> bytes:
        return bytes((SYSEX, YAMAHA, 0x10 | self.channel, GROUP_FUNCTION << 2, self.parameter,
                      self.value, EOX))


@dataclass(frozen=True)
class DumpRequest:
    """Dump request (sub-status 2): format 0 = edit voice, 9 = the 32 voices."""

    channel: int
    format: int

    def __post_init__(self) -> None:
        _check_channel(self.channel)
        if self.format not in _BULK:
            raise ValueError(f"dump request format must be 0 or 9, got {self.format}")

    def to_bytes(self) -> bytes:
        return bytes((SYSEX, YAMAHA, 0x20 | self.channel, self.format, EOX))


SysexMessage = VoiceDump | BankDump | VoiceParameterChange | FunctionParameterChange | DumpRequest


# builders ----------------------------------------------------------------------------
def _bulk(fmt: int, channel: int, data: bytes) -> bytes:
    _check_channel(channel)
    size, count, _ = _BULK[fmt]
    assert len(data) == size
    return bytes((SYSEX, YAMAHA, channel, fmt, *count)) + data + bytes((checksum(data), EOX))


def voice_dump(patch: Patch, channel: int = 0) -> bytes:
    """The 163-byte single-voice dump ``F0 43 0n 00 01 1B <155> <sum> F7``."""
    return _bulk(FORMAT_VOICE, channel, patch.to_vced())


def bank_dump(bank: Bank, channel: int = 0) -> bytes:
    """The 4104-byte 32-voice dump ``F0 43 0n 09 20 00 <4096> <sum> F7``."""
    return _bulk(FORMAT_BANK, channel, bank.to_vmem())


def dump_request(format: int, channel: int = 0) -> bytes:
    """``F0 43 2n ff F7``: ask for the edit voice (format 0) or the 32 voices (9)."""
    return DumpRequest(channel, format).to_bytes()


def voice_parameter_change(parameter: int, value: int, channel: int = 0) -> bytes:
    """``F0 43 1n gg pp dd F7`` for voice parameter 0-155."""
    return VoiceParameterChange(channel, parameter, value).to_bytes()


def function_parameter_change(parameter: int, value: int, channel: int = 0) -> bytes:
    """``F0 43 1n 08 pp dd F7`` for function parameter 64-77."""
    return FunctionParameterChange(channel, parameter, value).to_bytes()


# parser ------------------------------------------------------------------------------
def parse_sysex(message: bytes) -> SysexMessage:
    """Parse one complete message; SysexError says what was wrong and at which byte."""
    m = bytes(message)
    if not m:
        raise SysexError("not sysex: empty message", 0)
    if m[0] != SYSEX:
        raise SysexError(f"not sysex: starts with {m[0]:02X}, expected F0", 0)
    status = _STATUS.search(m, 1)
    if status is None:
        raise SysexError(f"missing F7: message truncated after {len(m)} bytes", len(m))
    end = status.start()
    if m[end] != EOX:
        raise SysexError(f"status byte {m[end]:02X} inside the message, expected data "
                         f"bytes 00-7F then F7", end)
    if end != len(m) - 1:
        raise SysexError(f"{len(m) - 1 - end} bytes after the F7 that ends the message", end + 1)
    if len(m) > 2 and m[1] != YAMAHA:
        raise SysexError(f"not Yamaha: manufacturer ID {m[1]:02X}, expected 43", 1)
    if len(m) < 4:
        raise SysexError(f"truncated: {len(m)} bytes is too short for a Yamaha message",
                         len(m) - 1)
    sub_status, channel = m[2] >> 4, m[2] & 0x0F
    if sub_status == 0:
        return _parse_bulk(m, channel)
    if sub_status == 1:
        return _parse_parameter(m, channel)
    if sub_status == 2:
        return _parse_request(m, channel)
    raise SysexError(f"unknown sub-status {sub_status} (0 dump, 1 parameter, 2 request)", 2)


def _parse_bulk(m: bytes, channel: int) -> VoiceDump | BankDump:
    fmt = m[3]
    if fmt not in _BULK:
        raise SysexError(f"unknown format {fmt:02X} (expected 00 single voice or 09 32 voices)",
                         3)
    size, count, what = _BULK[fmt]
    total = 6 + size + 2
    if len(m) >= 7 and (m[4], m[5]) != count:
        said = m[4] << 7 | m[5]
        raise SysexError(f"wrong byte count: bytes 4-5 say {said}, a {what} carries {size}", 4)
    if len(m) < total:
        raise SysexError(f"truncated: a {what} has {total} bytes, got {len(m)}", len(m) - 1)
    if len(m) > total:
        raise SysexError(f"too long: a {what} has {total} bytes, got {len(m)}", total - 1)
    data, stored = m[6:6 + size], m[6 + size]
    if checksum(data) != stored:
        raise SysexError(f"bad checksum: message has {stored:02X}, data sum gives "
                         f"{checksum(data):02X}", 6 + size)
    if fmt == FORMAT_VOICE:
        return VoiceDump(channel, Patch._from_values(decode_vced(data, strict=True, base=6).values))
    from ._bank import Bank

    values = [
        decode_vmem(data[k * VMEM_SIZE:(k + 1) * VMEM_SIZE], strict=True,
                    base=6 + k * VMEM_SIZE, prefix=f"voice {k + 1}: ").values
        for k in range(32)
    ]
    return BankDump(channel, Bank([Patch._from_values(v) for v in values]))


def _parse_parameter(m: bytes, channel: int) -> VoiceParameterChange | FunctionParameterChange:
    if len(m) != 7:
        raise SysexError(f"wrong length: a parameter change has 7 bytes, got {len(m)}",
                         len(m) - 1)
    group, number, value = m[3] >> 2, (m[3] & 0x03) << 7 | m[4], m[5]
    if group == GROUP_VOICE:
        if number >= PARAMETER_COUNT:
            raise SysexError(f"voice parameter {number} does not exist (0-155)", 4)
        p = PARAMETERS[number]
        if not p.low <= value <= p.high:
            raise SysexError(f"{p.label} (voice parameter {number}) value {value} is outside "
                             f"{p.low}-{p.high}", 5)
        return VoiceParameterChange(channel, number, value)
    if group == GROUP_FUNCTION:
        f = FUNCTION_PARAMETERS.get(number)
        if f is None:
            raise SysexError(f"function parameter {number} not supported (64-77; 0-41 are "
                             f"front-panel buttons)", 4)
        if not f.low <= value <= f.high:
            raise SysexError(f"{f.label} (function parameter {number}) value {value} is "
                             f"outside {f.low}-{f.high}", 5)
        return FunctionParameterChange(channel, number, value)
    raise SysexError(f"unknown parameter group {group} (0 voice, 2 function)", 3)


def _parse_request(m: bytes, channel: int) -> DumpRequest:
    if len(m) != 5:
        raise SysexError(f"wrong length: a dump request has 5 bytes, got {len(m)}", len(m) - 1)
    if m[3] not in _BULK:
        raise SysexError(f"unknown format {m[3]:02X} requested (expected 00 or 09)", 3)
    return DumpRequest(channel, m[3])
