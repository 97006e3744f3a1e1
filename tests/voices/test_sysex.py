"""parse_sysex and the builders, byte for byte (hex literals), and every refusal."""

from __future__ import annotations

import dataclasses

import pytest
from dx7d.voices import (
    Bank,
    BankDump,
    DumpRequest,
    FunctionParameterChange,
    Patch,
    SysexError,
    VoiceDump,
    VoiceParameterChange,
    bank_dump,
    dump_request,
    function_parameter_change,
    parse_sysex,
    voice_dump,
    voice_parameter_change,
)

from .test_formats import INIT_VMEM_HEX
from .test_patch import INIT_VCED_HEX


def _sum7(data: bytes) -> int:
    """DX7.md 1.2: (-sum) & 0x7F."""
    return (0x80 - sum(data) % 0x80) % 0x80


def h(text: str) -> bytes:
    return bytes.fromhex(text)


# --- single-voice dump (format 0) ------------------------------------------------------
INIT_VCED = h(INIT_VCED_HEX)
INIT_DUMP_CH3 = h("f0 43 02 00 01 1b") + INIT_VCED + bytes([_sum7(INIT_VCED)]) + h("f7")


def test_voice_dump_bytes() -> None:
    assert voice_dump(Patch(), channel=2) == INIT_DUMP_CH3
    assert len(INIT_DUMP_CH3) == 163


def test_parse_voice_dump() -> None:
    assert parse_sysex(INIT_DUMP_CH3) == VoiceDump(channel=2, patch=Patch())


def test_patch_from_sysex_accepts_a_whole_voice_dump() -> None:
    assert Patch.from_sysex(INIT_DUMP_CH3) == Patch()


# --- 32-voice dump (format 9) ------------------------------------------------------------
INIT_BANK_PAYLOAD = h(INIT_VMEM_HEX) * 32
INIT_BANK_DUMP = (h("f0 43 00 09 20 00") + INIT_BANK_PAYLOAD
                  + bytes([_sum7(INIT_BANK_PAYLOAD)]) + h("f7"))


def test_bank_dump_bytes() -> None:
    assert bank_dump(Bank.init()) == INIT_BANK_DUMP
    assert Bank.init().to_syx(channel=0) == INIT_BANK_DUMP
    assert len(INIT_BANK_DUMP) == 4104


def test_parse_bank_dump() -> None:
    message = parse_sysex(INIT_BANK_DUMP[:2] + b"\x0f" + INIT_BANK_DUMP[3:])
    assert isinstance(message, BankDump)
    assert message.channel == 15 and message.bank == Bank.init()


# --- voice parameter change (sub-status 1, group 0) -------------------------------------
@pytest.mark.parametrize(
    ("hex_message", "expected"),
    [
        ("f0 43 10 00 10 05 f7", VoiceParameterChange(0, 16, 5)),  # OP6 output level
        ("f0 43 15 00 79 0e f7", VoiceParameterChange(5, 121, 14)),  # OP1 output level
        ("f0 43 10 01 06 1f f7", VoiceParameterChange(0, 134, 31)),  # algorithm: hh = 1
        ("f0 43 1f 01 1b 2a f7", VoiceParameterChange(15, 155, 42)),  # operator on/off
        ("f0 43 10 01 11 41 f7", VoiceParameterChange(0, 145, 65)),  # name char 1 "A"
    ],
)
def test_parse_voice_parameter_change(hex_message: str, expected: VoiceParameterChange) -> None:
    assert parse_sysex(h(hex_message)) == expected
    assert expected.to_bytes() == h(hex_message)


def test_voice_parameter_change_builder() -> None:
    assert voice_parameter_change(134, 4, channel=1) == h("f0 43 11 01 06 04 f7")


def test_voice_parameter_value_out_of_range_is_refused() -> None:
    with pytest.raises(SysexError, match=r"algorithm .*value 32 is outside 0-31 \(at byte 5\)"):
        parse_sysex(h("f0 43 10 01 06 20 f7"))


def test_voice_parameter_156_is_refused() -> None:
    with pytest.raises(SysexError, match=r"voice parameter 156 does not exist .*at byte 4"):
        parse_sysex(h("f0 43 10 01 1c 00 f7"))


# --- function parameter change (group 2) -----------------------------------------------
@pytest.mark.parametrize(
    ("hex_message", "expected"),
    [
        ("f0 43 10 08 40 01 f7", FunctionParameterChange(0, 64, 1)),  # mono
        ("f0 43 10 08 41 0c f7", FunctionParameterChange(0, 65, 12)),  # bend range
        ("f0 43 13 08 45 63 f7", FunctionParameterChange(3, 69, 99)),  # portamento time
        ("f0 43 10 08 4d 07 f7", FunctionParameterChange(0, 77, 7)),  # aftertouch assign
    ],
)
def test_parse_function_parameter_change(
    hex_message: str, expected: FunctionParameterChange
) -> None:
    assert parse_sysex(h(hex_message)) == expected
    assert expected.to_bytes() == h(hex_message)


def test_function_parameter_is_not_a_voice_parameter() -> None:
    """Dexed folds 08 41 into voice byte 65; it is function parameter 65."""
    message = parse_sysex(h("f0 43 10 08 41 02 f7"))
    assert isinstance(message, FunctionParameterChange) and message.parameter == 65


def test_function_parameter_change_builder() -> None:
    assert function_parameter_change(70, 50, channel=9) == h("f0 43 19 08 46 32 f7")


def test_function_parameter_value_out_of_range_is_refused() -> None:
    with pytest.raises(SysexError, match=r"pitch bend range .*value 13 is outside 0-12 "
                                         r"\(at byte 5\)"):
        parse_sysex(h("f0 43 10 08 41 0d f7"))


def test_function_panel_button_is_refused() -> None:
    with pytest.raises(SysexError, match=r"function parameter 10 not supported.*at byte 4"):
        parse_sysex(h("f0 43 10 08 0a 7f f7"))


def test_unknown_parameter_group_is_refused() -> None:
    with pytest.raises(SysexError, match=r"unknown parameter group 1 .*at byte 3"):
        parse_sysex(h("f0 43 10 04 00 00 f7"))


# --- dump requests (sub-status 2) --------------------------------------------------------
@pytest.mark.parametrize(
    ("hex_message", "expected"),
    [
        ("f0 43 20 00 f7", DumpRequest(0, 0)),
        ("f0 43 2f 09 f7", DumpRequest(15, 9)),
    ],
)
def test_parse_dump_request(hex_message: str, expected: DumpRequest) -> None:
    assert parse_sysex(h(hex_message)) == expected


def test_dump_request_builder() -> None:
    assert dump_request(9) == h("f0 43 20 09 f7")
    assert dump_request(0, channel=4) == h("f0 43 24 00 f7")


def test_dump_request_for_unknown_format_is_refused() -> None:
    with pytest.raises(SysexError, match=r"unknown format 01 requested.*at byte 3"):
        parse_sysex(h("f0 43 20 01 f7"))


def test_dump_request_of_wrong_length_is_refused() -> None:
    with pytest.raises(SysexError, match=r"a dump request has 5 bytes, got 6"):
        parse_sysex(h("f0 43 20 09 00 f7"))


# --- refusals ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("data", "pattern"),
    [
        (b"", r"not sysex: empty message \(at byte 0\)"),
        (h("90 3c 40"), r"not sysex: starts with 90, expected F0 \(at byte 0\)"),
        (h("f0 41 10 00 f7"), r"not Yamaha: manufacturer ID 41, expected 43 \(at byte 1\)"),
        (h("f0 43 30 00 f7"), r"unknown sub-status 3 .*\(at byte 2\)"),
        (h("f0 43 00 05 01 1b f7"), r"unknown format 05 .*\(at byte 3\)"),
        (h("f0 43 00 09 10 00 f7"), r"wrong byte count: bytes 4-5 say 2048, a 32-voice dump "
                                    r"carries 4096 \(at byte 4\)"),
        (h("f0 43 00 00 01 1b 00 f7"), r"truncated: a single-voice dump has 163 bytes, got 8 "
                                       r"\(at byte 7\)"),
        (h("f0 43 00 00 01 1b 00"), r"missing F7: message truncated after 7 bytes"),
        (h("f0 43 10 f0 00 00 f7"), r"status byte F0 inside the message.*\(at byte 3\)"),
        (h("f0 43 20 00 f7 00"), r"1 bytes after the F7 .*\(at byte 5\)"),
        (h("f0 43 f7"), r"truncated: 3 bytes is too short"),
    ],
)
def test_refusals_say_what_and_where(data: bytes, pattern: str) -> None:
    with pytest.raises(SysexError, match=pattern):
        parse_sysex(data)


def test_sysex_error_is_a_value_error_with_offset() -> None:
    with pytest.raises(ValueError) as info:
        parse_sysex(h("f0 41 f7"))
    assert isinstance(info.value, SysexError) and info.value.offset == 1


def test_bad_checksum_is_refused_at_the_checksum_byte() -> None:
    bad = bytearray(INIT_DUMP_CH3)
    bad[161] ^= 0x01
    with pytest.raises(SysexError, match=r"bad checksum: message has .*\(at byte 161\)"):
        parse_sysex(bytes(bad))


def test_bank_dump_with_bad_checksum_is_refused() -> None:
    bad = bytearray(INIT_BANK_DUMP)
    bad[6] = 0x62  # OP6 R1 99 -> 98: data no longer matches the checksum
    with pytest.raises(SysexError, match=r"bad checksum: message has 20, data sum gives 21 "
                                         r"\(at byte 4102\)"):
        parse_sysex(bytes(bad))


def test_bank_dump_with_out_of_range_value_is_refused_naming_the_voice() -> None:
    payload = bytearray(INIT_BANK_PAYLOAD)
    payload[2 * 128 + 110] = 0x20 | 0  # voice 3: algorithm byte with bit 5 (don't care) only
    payload[3 * 128 + 117] = 49  # voice 4: transpose 49
    dump = h("f0 43 00 09 20 00") + payload + bytes([_sum7(payload)]) + h("f7")
    with pytest.raises(SysexError, match=r"voice 4: transpose is 49, allowed 0-48 "
                                         r"\(at byte 507\)"):
        parse_sysex(dump)


def test_voice_dump_with_out_of_range_value_is_refused() -> None:
    data = bytearray(INIT_VCED)
    data[135] = 8  # feedback
    dump = h("f0 43 00 00 01 1b") + data + bytes([_sum7(data)]) + h("f7")
    with pytest.raises(SysexError, match=r"feedback is 8, allowed 0-7 \(at byte 141\)"):
        parse_sysex(dump)


# --- message objects ---------------------------------------------------------------------
def test_messages_are_frozen() -> None:
    message = parse_sysex(h("f0 43 10 08 41 0c f7"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        message.value = 3  # type: ignore[misc]


@pytest.mark.parametrize("channel", [0, 7, 15])
def test_builders_round_trip_every_kind(channel: int) -> None:
    patch = Patch(name="ROUND TRIP").replace(algorithm=17, op2_detune=3)
    bank = Bank.init()
    bank[9] = patch
    for message in (
        VoiceDump(channel, patch),
        BankDump(channel, bank),
        VoiceParameterChange(channel, 155, 63),
        FunctionParameterChange(channel, 71, 5),
        DumpRequest(channel, 9),
    ):
        assert parse_sysex(message.to_bytes()) == message


def test_message_channel_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match="channel must be 0-15"):
        VoiceParameterChange(16, 0, 0)
    with pytest.raises(ValueError, match="channel must be 0-15"):
        voice_dump(Patch(), channel=16)


def test_message_value_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match=r"mono/poly .* must be 0-1"):
        FunctionParameterChange(0, 64, 2)
