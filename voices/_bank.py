"""A cartridge: 32 voices, read leniently from files and written exactly.

Files are read the way a librarian user expects: a 32-voice dump anywhere among
other sysex messages, a raw 4096-byte payload, or single-voice dumps. Old rips
often carry stale checksums or junk values; those load anyway, clamped, and what
was repaired is described by a :class:`BankReadReport` (``bank.report``) and
logged as a warning on ``logging.getLogger("dx7d.voices")``. Only bytes that
hold no voice at all raise :class:`SysexError`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import overload

from ._codec import decode_vced, decode_vmem
from ._errors import SysexError
from ._files import atomic_write
from ._patch import Patch
from ._spec import VCED_SIZE, VMEM_SIZE
from ._sysex import BankDump, bank_dump, checksum, parse_sysex

__all__ = ["BANK_SIZE", "Bank", "BankReadReport"]

log = logging.getLogger("dx7d.voices")

BANK_SIZE = 32
_PAYLOAD = BANK_SIZE * VMEM_SIZE  # 4096
_BANK_MESSAGE = 6 + _PAYLOAD + 2  # 4104
_VOICE_MESSAGE = 6 + VCED_SIZE + 2  # 163


@dataclass(frozen=True)
class BankReadReport:
    """What reading a file found, and what had to be repaired to load it."""

    source: str
    kind: str  # "32-voice dump", "raw payload" or "single-voice dumps"
    channel: int | None = None  # from the dump's sub-status byte (0-15)
    stored_checksum: int | None = None
    computed_checksum: int | None = None
    bad_checksums: int = 0  # dumps whose checksum did not match (loaded anyway)
    byte_count_ok: bool = True  # bytes 4-5 of the dump said 4096 (old rips say 2048)
    clamped: int = 0  # out-of-range values clamped into range
    masked: int = 0  # packed bytes carrying bits outside every field (ignored)
    voices: int = BANK_SIZE  # voices read from the file (the rest are INIT VOICE)
    skipped: int = 0  # other sysex messages and further dumps that were not used

    @property
    def checksum_ok(self) -> bool:
        return self.bad_checksums == 0

    @property
    def clean(self) -> bool:
        """True when nothing was repaired (extra messages alone do not count)."""
        return self.checksum_ok and self.byte_count_ok and not self.clamped and not self.masked

    def problems(self) -> list[str]:
        """One phrase per repair, empty when clean."""
        out = []
        if self.stored_checksum is not None and not self.checksum_ok:
            out.append(f"bad checksum: file has {self.stored_checksum:02X}, data sum gives "
                       f"{self.computed_checksum:02X}")
        elif not self.checksum_ok:
            out.append(f"{self.bad_checksums} voice dump(s) with a bad checksum")
        if not self.byte_count_ok:
            out.append("byte count bytes are not 20 00")
        if self.clamped:
            out.append(f"{self.clamped} out-of-range value(s) clamped")
        if self.masked:
            out.append(f"{self.masked} byte(s) with bits outside the fields ignored")
        return out


class Bank:
    """32 patches (a DX7 cartridge). ``bank[i]`` is voice i+1; ``len(bank) == 32``."""

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __init__(self, patches: Iterable[Patch] | None = None) -> None:
        items = [Patch() for _ in range(BANK_SIZE)] if patches is None else list(patches)
        if len(items) != BANK_SIZE:
            raise ValueError(f"a bank holds exactly {BANK_SIZE} patches, got {len(items)}")
        for i, p in enumerate(items):
            if not isinstance(p, Patch):
                raise TypeError(f"bank item {i} is {type(p).__name__}, expected Patch")
        self._patches = [p.copy() for p in items]
        self.report: BankReadReport | None = None  # set when read from a file

    @classmethod
    def init(cls) -> Bank:
        """32 INIT VOICEs."""
        return cls()

    # sequence ------------------------------------------------------------------------
    def __len__(self) -> int:
        return BANK_SIZE

    @overload
    def __getitem__(self, index: int) -> Patch: ...
    @overload
    def __getitem__(self, index: slice) -> list[Patch]: ...
    def __getitem__(self, index: int | slice) -> Patch | list[Patch]:
        return self._patches[index]

    def __setitem__(self, index: int, patch: Patch) -> None:
        if not isinstance(patch, Patch):
            raise TypeError(f"a bank holds Patch objects, got {type(patch).__name__}")
        self._patches[index] = patch.copy()

    def __iter__(self) -> Iterator[Patch]:
        return iter(self._patches)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Bank):
            return NotImplemented
        return self._patches == other._patches

    def __repr__(self) -> str:
        return f"Bank({', '.join(self.names[:3])}, ...)"

    @property
    def names(self) -> list[str]:
        """The 32 voice names for people (``Patch.display_name``)."""
        return [p.display_name for p in self._patches]

    def copy(self) -> Bank:
        return Bank(self._patches)

    # formats -------------------------------------------------------------------------
    def to_vmem(self) -> bytes:
        """The 4096-byte packed payload."""
        return b"".join(p.to_vmem() for p in self._patches)

    @classmethod
    def from_vmem(cls, data: bytes) -> Bank:
        """From a 4096-byte packed payload; strict (SysexError names voice, field, byte)."""
        if len(data) != _PAYLOAD:
            raise SysexError(f"a 32-voice payload has {_PAYLOAD} bytes, got {len(data)}")
        return cls(
            Patch._from_values(decode_vmem(data[k * VMEM_SIZE:(k + 1) * VMEM_SIZE], strict=True,
                                           base=k * VMEM_SIZE, prefix=f"voice {k + 1}: ").values)
            for k in range(BANK_SIZE)
        )

    def to_syx(self, channel: int = 0) -> bytes:
        """The 4104-byte bulk dump ``F0 43 0n 09 20 00 <4096> <checksum> F7``."""
        return bank_dump(self, channel)

    @classmethod
    def from_syx(cls, data: bytes) -> Bank:
        """From one 32-voice dump message, strictly (as received over MIDI)."""
        message = parse_sysex(data)
        if not isinstance(message, BankDump):
            raise SysexError(f"expected a 32-voice dump, got {type(message).__name__}", 3)
        return message.bank

    def load_syx(self, data: bytes) -> None:
        """Replace all 32 voices from a strict 32-voice dump; unchanged if it is refused."""
        self._patches = list(Bank.from_syx(data))
        self.report = None

    @classmethod
    def from_bytes(cls, data: bytes, source: str = "<bytes>") -> Bank:
        """Leniently from a file's bytes (see the module docstring); sets ``.report``."""
        bank, report = _read_lenient(bytes(data), source)
        bank.report = report
        if not report.clean:
            log.warning("%s: loaded with repairs: %s", source, "; ".join(report.problems()))
        return bank

    @classmethod
    def read(cls, path: str | Path) -> Bank:
        """Read a .syx file leniently; SysexError if it holds no DX7 voice."""
        return cls.from_bytes(Path(path).read_bytes(), source=str(path))

    def write(self, path: str | Path, channel: int = 0) -> None:
        """Write the 4104-byte dump atomically (a crash leaves the old file intact)."""
        atomic_write(path, self.to_syx(channel))


def _read_lenient(data: bytes, source: str) -> tuple[Bank, BankReadReport]:
    if not data:
        raise SysexError(f"{source}: empty file")
    if len(data) == _PAYLOAD and data[0] != 0xF0:
        return _bank_from_payload(data, source, "raw payload", skipped=0)
    banks, voices, skipped, trouble = _scan(data)
    if banks:
        start = banks[0]
        payload = data[start + 6:start + 6 + _PAYLOAD]
        stored, computed = data[start + 6 + _PAYLOAD], checksum(payload)
        return _bank_from_payload(
            payload, source, "32-voice dump", skipped=skipped + len(banks) - 1 + len(voices),
            channel=data[start + 2] & 0x0F, stored=stored, computed=computed,
            count_ok=data[start + 4:start + 6] == b"\x20\x00",
        )
    if voices:
        return _bank_from_voices(data, voices, source, skipped)
    if trouble is not None:
        raise SysexError(f"{source}: {trouble[0]}", trouble[1])
    raise SysexError(f"{source}: no DX7 32-voice or single-voice dump in {len(data)} bytes")


def _scan(data: bytes) -> tuple[list[int], list[int], int, tuple[str, int] | None]:
    """Start offsets of 32-voice and single-voice dumps, other messages, first problem."""
    banks: list[int] = []
    voices: list[int] = []
    skipped = 0
    trouble: tuple[str, int] | None = None
    i = data.find(0xF0)
    while i >= 0:
        head = data[i:i + 4]
        kind = None
        if len(head) == 4 and head[1] == 0x43 and head[2] >> 4 == 0:
            kind = {9: (_BANK_MESSAGE, banks), 0: (_VOICE_MESSAGE, voices)}.get(head[3])
        if kind is not None:
            size, found = kind
            if i + size <= len(data) and data[i + size - 1] == 0xF7:
                found.append(i)
                i = data.find(0xF0, i + size)
                continue
            what = "32-voice" if size == _BANK_MESSAGE else "single-voice"
            trouble = trouble or (f"{what} dump truncated or missing F7 (expected {size} bytes)",
                                  i)
        skipped += 1
        end = data.find(0xF7, i + 1)
        if end < 0:
            break
        i = data.find(0xF0, end + 1)
    return banks, voices, skipped, trouble


def _bank_from_payload(payload: bytes, source: str, kind: str, skipped: int,
                       channel: int | None = None, stored: int | None = None,
                       computed: int | None = None, count_ok: bool = True,
                       ) -> tuple[Bank, BankReadReport]:
    decoded = [decode_vmem(payload[k * VMEM_SIZE:(k + 1) * VMEM_SIZE], strict=False)
               for k in range(BANK_SIZE)]
    bank = Bank.__new__(Bank)
    bank._patches = [Patch._from_values(d.values) for d in decoded]
    report = BankReadReport(
        source=source, kind=kind, channel=channel, stored_checksum=stored,
        computed_checksum=computed, bad_checksums=int(stored != computed),
        byte_count_ok=count_ok, clamped=sum(d.clamped for d in decoded),
        masked=sum(d.masked for d in decoded), skipped=skipped,
    )
    return bank, report


def _bank_from_voices(data: bytes, starts: list[int], source: str, skipped: int,
                      ) -> tuple[Bank, BankReadReport]:
    used = starts[:BANK_SIZE]
    bank = Bank()
    clamped = bad = 0
    counts_ok = True
    for slot, start in enumerate(used):
        payload = data[start + 6:start + 6 + VCED_SIZE]
        bad += checksum(payload) != data[start + 6 + VCED_SIZE]
        counts_ok &= data[start + 4:start + 6] == b"\x01\x1b"
        decoded = decode_vced(payload, strict=False)
        clamped += decoded.clamped
        bank._patches[slot] = Patch._from_values(decoded.values)
    report = BankReadReport(
        source=source, kind="single-voice dumps", channel=data[used[0] + 2] & 0x0F,
        bad_checksums=bad, byte_count_ok=counts_ok, clamped=clamped, voices=len(used),
        skipped=skipped + len(starts) - len(used),
    )
    return bank, report
