"""Property tests: codec round trips, and damaged dumps never crash or half-apply.

Damage coverage of one 4104-byte bank dump (32 seeded random voices):
* every truncation (all 4104 prefixes), bare and with an F7 appended;
* every value 00-FF of each header byte (0-5) and of the checksum and F7 bytes;
* every 13th payload byte (316 of 4096, 7.7 %) set to six values (bit 0 flipped,
  bit 6 flipped, bit 7 set, 00, 7F, F7);
* plus 200 hypothesis examples of one byte anywhere set to any value.
Each damaged dump is either refused with SysexError or read; a refused one leaves
the bank it was loaded into unchanged, and the lenient file reader never raises
anything but SysexError.
"""

from __future__ import annotations

import random

import pytest
from dx7d.voices import (
    PARAMETERS,
    Bank,
    BankDump,
    Patch,
    SysexError,
    parse_sysex,
)
from hypothesis import given, settings
from hypothesis import strategies as st

EXAMPLES = settings(max_examples=200, deadline=None)
NAME_CHARS = st.characters(min_codepoint=32, max_codepoint=127)


@st.composite
def patches(draw: st.DrawFn, all_operators_on: bool = False) -> Patch:
    """A random valid patch: every parameter anywhere in its range."""
    patch = Patch(name=draw(st.text(NAME_CHARS, min_size=0, max_size=10)))
    for p in PARAMETERS:
        if p.key.startswith("name_") or (all_operators_on and p.number == 155):
            continue
        patch.set_param(p.number, draw(st.integers(p.low, p.high)))
    return patch


def _seeded_patch(rng: random.Random) -> Patch:
    patch = Patch(name="".join(chr(rng.randint(32, 127)) for _ in range(10)))
    for p in PARAMETERS[:145]:
        patch.set_param(p.number, rng.randint(p.low, p.high))
    return patch


_RNG = random.Random(20240607)
BANK = Bank([_seeded_patch(_RNG) for _ in range(32)])
DUMP = BANK.to_syx(channel=0)


# --- round trips ----------------------------------------------------------------------------
@EXAMPLES
@given(patches(all_operators_on=True))
def test_vced_round_trip(patch: Patch) -> None:
    assert Patch.from_vced(patch.to_vced()) == patch


@EXAMPLES
@given(patches(all_operators_on=True))
def test_vmem_round_trip(patch: Patch) -> None:
    assert Patch.from_vmem(patch.to_vmem()) == patch


@EXAMPLES
@given(patches(all_operators_on=True))
def test_vced_to_vmem_to_vced_is_exact(patch: Patch) -> None:
    vced = patch.to_vced()
    assert Patch.from_vmem(Patch.from_vced(vced).to_vmem()).to_vced() == vced


@EXAMPLES
@given(patches())
def test_array_round_trip_keeps_operator_switches(patch: Patch) -> None:
    assert Patch.from_array(patch.to_array(), name=patch.name) == patch


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 15))
def test_bank_dump_round_trip(seed: int, channel: int) -> None:
    rng = random.Random(seed)
    bank = Bank([_seeded_patch(rng) for _ in range(32)])
    message = parse_sysex(bank.to_syx(channel))
    assert message == BankDump(channel, bank)


# --- nothing but SysexError -----------------------------------------------------------------
@EXAMPLES
@given(st.binary(max_size=300))
def test_parse_sysex_on_any_bytes_raises_only_sysex_error(data: bytes) -> None:
    for candidate in (data, b"\xf0\x43" + data, b"\xf0\x43" + data + b"\xf7"):
        try:
            parse_sysex(candidate)
        except SysexError:
            pass


@EXAMPLES
@given(st.binary(max_size=300))
def test_file_reader_on_any_bytes_raises_only_sysex_error(data: bytes) -> None:
    for candidate in (data, b"\xf0\x43\x00\x00\x01\x1b" + data + b"\xf7", data * 14):
        try:
            Bank.from_bytes(candidate, source="any.syx")
        except SysexError:
            pass


# --- damaged bank dumps ---------------------------------------------------------------------
def _load_or_refuse(data: bytes) -> None:
    """Strict load into a bank: all or nothing. Lenient read: a Bank or SysexError."""
    target = Bank.init()
    try:
        target.load_syx(data)
    except SysexError:
        assert target == Bank.init(), "a refused dump changed the bank"
    else:
        assert target == Bank.from_syx(data)
    try:
        Bank.from_bytes(data, source="damaged.syx")
    except SysexError:
        pass


def test_every_truncation_is_refused() -> None:
    for n in range(len(DUMP)):
        with pytest.raises(SysexError):
            parse_sysex(DUMP[:n])
        with pytest.raises(SysexError):
            Bank.from_bytes(DUMP[:n], source="cut.syx")
        if n < len(DUMP) - 1:
            with pytest.raises(SysexError):
                parse_sysex(DUMP[:n] + b"\xf7")


def test_every_value_of_header_checksum_and_f7_bytes() -> None:
    for position in (0, 1, 2, 3, 4, 5, 4102, 4103):
        for value in range(256):
            data = bytearray(DUMP)
            data[position] = value
            _load_or_refuse(bytes(data))


def test_sampled_payload_corruptions() -> None:
    for position in range(6, 4102, 13):
        original = DUMP[position]
        for value in (original ^ 0x01, original ^ 0x40, original | 0x80, 0x00, 0x7F, 0xF7):
            data = bytearray(DUMP)
            data[position] = value
            _load_or_refuse(bytes(data))


@EXAMPLES
@given(st.integers(0, len(DUMP) - 1), st.integers(0, 255))
def test_any_single_byte_corruption(position: int, value: int) -> None:
    data = bytearray(DUMP)
    data[position] = value
    _load_or_refuse(bytes(data))


def test_channel_byte_corruption_that_stays_valid_is_read_on_that_channel() -> None:
    data = bytearray(DUMP)
    data[2] = 0x09
    message = parse_sysex(bytes(data))
    assert isinstance(message, BankDump) and message.channel == 9 and message.bank == BANK
