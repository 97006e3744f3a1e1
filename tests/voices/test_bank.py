"""Bank: a cartridge of 32 voices; lenient file reading with a report, exact writing."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from dx7d.voices import BANK_SIZE, Bank, Patch, SysexError, parse_sysex, voice_dump

from .test_formats import INIT_VMEM_HEX
from .test_sysex import INIT_BANK_DUMP, _sum7, h

ROM1A_NAMES = [
    "BRASS   1", "BRASS   2", "BRASS   3", "STRINGS 1", "STRINGS 2", "STRINGS 3",
    "ORCHESTRA", "PIANO   1", "PIANO   2", "PIANO   3", "E.PIANO 1", "GUITAR  1",
    "GUITAR  2", "SYN-LEAD 1", "BASS    1", "BASS    2", "E.ORGAN 1", "PIPES   1",
    "HARPSICH 1", "CLAV    1", "VIBE    1", "MARIMBA", "KOTO", "FLUTE   1",
    "ORCH-CHIME", "TUB BELLS", "STEEL DRUM", "TIMPANI", "REFS WHISL", "VOICE   1",
    "TRAIN", "TAKE OFF",
]


def _dump(payload: bytes, checksum: int | None = None, count: str = "20 00") -> bytes:
    ck = _sum7(payload) if checksum is None else checksum
    return h(f"f0 43 00 09 {count}") + payload + bytes([ck]) + h("f7")


# --- rom1A ---------------------------------------------------------------------------------
def test_rom1a_names_and_algorithms(shared_banks: Path) -> None:
    bank = Bank.read(shared_banks / "rom1A.syx")
    assert bank.names == ROM1A_NAMES
    assert bank[0].algorithm + 1 == 22 and bank[31].name.rstrip() == "TAKE OFF"


def test_rom1a_writes_back_byte_identical(shared_banks: Path, tmp_path: Path) -> None:
    original = (shared_banks / "rom1A.syx").read_bytes()
    bank = Bank.read(shared_banks / "rom1A.syx")
    assert bank.report is not None and bank.report.clean
    assert bank.to_syx(channel=0) == original
    bank.write(tmp_path / "copy.syx")
    assert (tmp_path / "copy.syx").read_bytes() == original


# --- sequence behaviour ----------------------------------------------------------------------
def test_init_bank_has_32_init_voices() -> None:
    bank = Bank.init()
    assert len(bank) == BANK_SIZE == 32
    assert all(p == Patch() for p in bank)
    assert bank.names == ["INIT VOICE"] * 32


def test_bank_needs_exactly_32_patches() -> None:
    with pytest.raises(ValueError, match="exactly 32 patches, got 31"):
        Bank([Patch()] * 31)


def test_setitem_stores_a_copy() -> None:
    bank = Bank.init()
    patch = Patch(name="MINE")
    bank[4] = patch
    patch.algorithm = 9
    assert bank[4].name == "MINE      " and bank[4].algorithm == 0


def test_vmem_round_trip() -> None:
    bank = Bank.init()
    bank[31] = Patch(name="LAST").replace(feedback=7)
    assert len(bank.to_vmem()) == 4096
    assert Bank.from_vmem(bank.to_vmem()) == bank


def test_from_syx_is_strict() -> None:
    with pytest.raises(SysexError, match="bad checksum"):
        Bank.from_syx(_dump(h(INIT_VMEM_HEX) * 32, checksum=0))


def test_from_syx_refuses_other_messages() -> None:
    with pytest.raises(SysexError, match="expected a 32-voice dump, got VoiceDump"):
        Bank.from_syx(voice_dump(Patch()))


def test_refused_load_syx_changes_nothing() -> None:
    bank = Bank.init()
    bank[0] = Patch(name="KEEP ME")
    before = bank.to_syx()
    bad = bytearray(Bank.init().to_syx())
    bad[4102] ^= 1
    with pytest.raises(SysexError):
        bank.load_syx(bytes(bad))
    assert bank.to_syx() == before


def test_load_syx_replaces_all_voices() -> None:
    bank = Bank.init()
    other = Bank.init()
    other[3] = Patch(name="NEW")
    bank.load_syx(other.to_syx())
    assert bank == other


# --- lenient file reading --------------------------------------------------------------------
def test_stale_checksum_loads_with_a_warning_naming_file_and_values(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "stale.syx"
    path.write_bytes(_dump(h(INIT_VMEM_HEX) * 32, checksum=0x11))
    with caplog.at_level(logging.WARNING, logger="dx7d.voices"):
        bank = Bank.read(path)
    assert bank == Bank.init()
    report = bank.report
    assert report is not None and not report.checksum_ok
    computed = _sum7(h(INIT_VMEM_HEX) * 32)
    assert (report.stored_checksum, report.computed_checksum) == (0x11, computed)
    assert f"{path}: loaded with repairs: bad checksum: file has 11, data sum gives " in caplog.text


def test_out_of_range_values_are_clamped_and_counted(tmp_path: Path) -> None:
    payload = bytearray(h(INIT_VMEM_HEX) * 32)
    payload[2 * 128 + 12] = 15 << 3  # voice 3, OP6 detune 15
    payload[5 * 128 + 118] = 0x00  # voice 6, name character 1 NUL
    payload[7 * 128 + 0] = 127  # voice 8, OP6 R1 127
    bank = Bank.from_bytes(_dump(bytes(payload)), source="clamp.syx")
    assert bank.report is not None and bank.report.clamped == 2
    assert bank[2].op[5].detune == 14
    assert bank[5].name == "\x00NIT VOICE"  # a name byte is kept as it came
    assert bank[7].op[5].envelope.rates[0] == 99


def test_dont_care_bits_are_masked_and_counted() -> None:
    payload = bytearray(h(INIT_VMEM_HEX) * 32)
    payload[111] |= 0x30  # bits above osc key sync
    bank = Bank.from_bytes(_dump(bytes(payload)))
    assert bank == Bank.init()
    assert bank.report is not None and bank.report.masked == 1 and not bank.report.clean


def test_old_byte_count_loads_and_is_reported() -> None:
    bank = Bank.from_bytes(_dump(h(INIT_VMEM_HEX) * 32, count="10 00"))
    assert bank == Bank.init()
    assert bank.report is not None and not bank.report.byte_count_ok


def test_bank_among_other_messages(tmp_path: Path) -> None:
    other = Bank.init()
    other[1] = Patch(name="SECOND")
    data = (h("f0 43 10 19 4d 00 f7")  # a TX802 parameter change before the bank
            + h("f0 7e 00 06 02 43 00 00 f7")  # an identity reply
            + other.to_syx(channel=4)
            + h("f0 43 10 08 41 02 f7"))
    bank = Bank.from_bytes(data)
    assert bank == other
    assert bank.report is not None
    assert bank.report.channel == 4 and bank.report.skipped == 3 and bank.report.clean


def test_raw_4096_byte_payload() -> None:
    bank = Bank.from_bytes(h(INIT_VMEM_HEX) * 32)
    assert bank == Bank.init()
    assert bank.report is not None and bank.report.kind == "raw payload"


def test_single_voice_dumps_fill_the_first_slots() -> None:
    a, b = Patch(name="FIRST"), Patch(name="SECOND").replace(algorithm=3)
    bank = Bank.from_bytes(voice_dump(a) + voice_dump(b, channel=1))
    assert bank[0] == a and bank[1] == b and bank[2] == Patch()
    assert bank.report is not None
    assert bank.report.kind == "single-voice dumps" and bank.report.voices == 2


def test_single_voice_dump_with_bad_checksum_loads_and_is_reported() -> None:
    data = bytearray(voice_dump(Patch(name="STALE")))
    data[161] ^= 0x05
    bank = Bank.from_bytes(bytes(data))
    assert bank[0].name == "STALE     "
    assert bank.report is not None and bank.report.bad_checksums == 1


@pytest.mark.parametrize(
    ("data", "pattern"),
    [
        (b"", "empty file"),
        (b"hello, not sysex", "no DX7 32-voice or single-voice dump in 16 bytes"),
        (INIT_BANK_DUMP[:4103], r"32-voice dump truncated or missing F7 .*\(at byte 0\)"),
        (h("f0 43 00 02 20 00 f7"), "no DX7 32-voice or single-voice dump"),
    ],
)
def test_files_without_a_voice_are_refused(data: bytes, pattern: str) -> None:
    with pytest.raises(SysexError, match=pattern):
        Bank.from_bytes(data, source="x.syx")


def test_read_error_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "junk.syx"
    path.write_bytes(b"\x00" * 10)
    with pytest.raises(SysexError, match=f"{path}: no DX7"):
        Bank.read(path)


# --- writing ----------------------------------------------------------------------------------
def test_write_uses_the_channel_and_replaces_atomically(tmp_path: Path) -> None:
    path = tmp_path / "bank.syx"
    path.write_bytes(b"old")
    bank = Bank.init()
    bank.write(path, channel=3)
    data = path.read_bytes()
    assert data[:6] == h("f0 43 03 09 20 00") and parse_sysex(data).bank == bank  # type: ignore[union-attr]
    assert [p.name for p in tmp_path.iterdir()] == ["bank.syx"]  # no temporary left


# --- dexed-py call shapes -------------------------------------------------------------------
def test_load_bank_and_save_to_bank(tmp_path: Path) -> None:
    patches = [Patch(name=f"P{i}").replace(algorithm=i) for i in range(32)]
    Patch.save_to_bank(tmp_path / "b.syx", patches)
    loaded = Patch.load_bank(tmp_path / "b.syx")
    assert loaded == patches
