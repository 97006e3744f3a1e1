"""Every .syx file of ../shared/banks/library: read or refused with SysexError, nothing else.

Every valid 4104-byte dump (header ``F0 43 0n 09 20 00``, right checksum, F7, every
field in range and no bit outside the fields) must write back byte-identical, and
the strict parser must accept it and rebuild the same bytes. Measured on the
shared library (3,197 files): 3,176 read (2,869 of them 32-voice dumps), 21 refused
(TX802/DX7II performance files, AppleDouble "._" files, truncated dumps), 468 valid
dumps that round-trip exactly (429 before names were kept byte for byte: 39 have NUL
or control bytes in voice names); about 20 s of CPU.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from dx7d.voices import Bank, BankDump, SysexError, checksum, parse_sysex


@dataclass
class Survey:
    kinds: Counter[str] = field(default_factory=Counter)
    refused: list[str] = field(default_factory=list)
    valid: list[Path] = field(default_factory=list)
    other_errors: list[str] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)


def _library_files(root: Path) -> list[Path]:
    files = []
    for folder, _, names in os.walk(root):
        files += [Path(folder, n) for n in names if n.lower().endswith(".syx")]
    return sorted(files)


def _is_valid_dump(data: bytes, bank: Bank) -> bool:
    report = bank.report
    return (
        len(data) == 4104 and report is not None and report.clean
        and data[:2] == b"\xf0\x43" and data[2] >> 4 == 0 and data[3:6] == b"\x09\x20\x00"
        and data[4102] == checksum(data[6:4102]) and data[4103] == 0xF7
    )


@pytest.fixture(scope="module")
def survey(shared_banks: Path) -> Survey:
    result = Survey()
    for path in _library_files(shared_banks / "library"):
        data = path.read_bytes()
        try:
            bank = Bank.from_bytes(data, source=str(path))
        except SysexError as exc:
            result.refused.append(f"{path}: {exc}")
            continue
        except Exception as exc:  # the failure this test exists to catch
            result.other_errors.append(f"{path}: {type(exc).__name__}: {exc}")
            continue
        assert bank.report is not None
        result.kinds[bank.report.kind] += 1
        if len(data) == 4104:
            try:
                message = parse_sysex(data)
            except SysexError:
                message = None
            except Exception as exc:
                result.other_errors.append(f"{path} (strict): {type(exc).__name__}: {exc}")
                continue
            if _is_valid_dump(data, bank):
                result.valid.append(path)
                channel = data[2] & 0x0F
                if bank.to_syx(channel) != data:
                    result.mismatches.append(f"{path}: lenient read does not write back")
                if not isinstance(message, BankDump) or message.to_bytes() != data:
                    result.mismatches.append(f"{path}: strict parse does not round-trip")
    return result


def test_library_files_are_read_or_refused_with_sysex_error(survey: Survey) -> None:
    assert survey.other_errors == []
    assert sum(survey.kinds.values()) > 0


def test_most_library_files_are_read(survey: Survey) -> None:
    read = sum(survey.kinds.values())
    assert len(survey.refused) < read / 20, survey.refused


def test_every_valid_dump_round_trips_byte_identical(survey: Survey) -> None:
    assert survey.valid, "no valid 4104-byte dump found in the library"
    assert survey.mismatches == []


def test_cartridges_with_control_bytes_in_names_write_back_byte_identical(
        survey: Survey, shared_banks: Path) -> None:
    """Issue 14, finding 9: names are bytes; NUL and control bytes are kept as they came."""
    library = shared_banks / "library"
    for name in ("!Instruments/Keyboard/Organ/Organs/ORGAN3.SYX", "Aminet/166.syx"):
        assert library / name in survey.valid, name
    def names(data: bytes) -> bytes:  # the 10 name bytes of each packed voice
        return b"".join(data[6 + k * 128 + 118:6 + k * 128 + 128] for k in range(32))

    with_control = [p for p in survey.valid if any(b < 32 for b in names(p.read_bytes()))]
    assert len(with_control) >= 38, len(with_control)
