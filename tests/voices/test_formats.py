"""VCED (155 bytes) and VMEM (128 packed bytes): layouts as hex literals, strictness."""

from __future__ import annotations

import pytest
from dx7d.voices import Patch, SysexError

# The INIT VOICE packed (DX7.md 1.4): per operator 11 straight bytes, then
# curves 00, detune 7 << 3 = 38, KVS/AMS 00, output level, coarse 1 << 1 = 02, fine 00.
_OP_SILENT = "63 63 63 63 63 63 63 00 00 00 00  00 38 00 00 02 00"
_OP_ONE = "63 63 63 63 63 63 63 00 00 00 00  00 38 00 63 02 00"
INIT_VMEM_HEX = (
    f"{_OP_SILENT} {_OP_SILENT} {_OP_SILENT} {_OP_SILENT} {_OP_SILENT} {_OP_ONE}"
    " 63 63 63 63 32 32 32 32"  # pitch EG
    " 00"  # algorithm
    " 08"  # osc key sync (bit 3), feedback 0
    " 23 00 00 00"  # LFO speed, delay, PMD, AMD
    " 31"  # PMS 3 << 4 | wave 0 << 1 | LFO key sync 1
    " 18"  # transpose
    " 49 4e 49 54 20 56 4f 49 43 45"
)


def test_init_voice_packs_as_the_dx7_does() -> None:
    assert Patch().to_vmem() == bytes.fromhex(INIT_VMEM_HEX)


def test_init_voice_unpacks_from_vmem() -> None:
    assert Patch.from_vmem(bytes.fromhex(INIT_VMEM_HEX)) == Patch()


def _packed_fields_patch() -> Patch:
    p = Patch(name="FIELDS")
    op6 = p.op[5]
    op6.left_curve, op6.right_curve = 1, 2
    op6.rate_scaling, op6.detune = 5, 14
    op6.amp_mod_sensitivity, op6.velocity_sensitivity = 3, 7
    op6.frequency_mode, op6.frequency_coarse = 1, 31
    p.feedback, p.osc_key_sync = 7, True
    p.pitch_mod_sensitivity, p.lfo.wave, p.lfo.sync = 7, "sample and hold", True
    p.algorithm = 31
    return p


def test_packed_bit_fields() -> None:
    vmem = _packed_fields_patch().to_vmem()
    assert vmem[11] == 0x09  # right curve 2 in bits 3-2, left curve 1 in bits 1-0
    assert vmem[12] == 0x75  # detune 14 in bits 6-3, rate scaling 5 in bits 2-0
    assert vmem[13] == 0x1F  # KVS 7 in bits 4-2, AMS 3 in bits 1-0
    assert vmem[15] == 0x3F  # coarse 31 in bits 5-1, fixed mode in bit 0
    assert vmem[110] == 0x1F  # algorithm 32
    assert vmem[111] == 0x0F  # osc key sync bit 3, feedback 7
    assert vmem[116] == 0x7B  # PMS 7 bits 6-4, wave 5 bits 3-1, LFO key sync bit 0


def test_packed_bit_fields_unpack() -> None:
    p = _packed_fields_patch()
    assert Patch.from_vmem(p.to_vmem()) == p


def test_vmem_dont_care_bits_are_ignored() -> None:
    vmem = bytearray(Patch().to_vmem())
    vmem[11] |= 0x70  # bits above the two curves
    vmem[0] |= 0x80  # bit 7
    assert Patch.from_vmem(bytes(vmem)) == Patch()


def test_vmem_out_of_range_field_is_refused_with_name_and_offset() -> None:
    vmem = bytearray(Patch().to_vmem())
    vmem[12] = 15 << 3  # OP6 detune 15
    with pytest.raises(SysexError, match=r"OP6 detune is 15, allowed 0-14 \(at byte 12\)"):
        Patch.from_vmem(bytes(vmem))


def test_vmem_wrong_length_is_refused() -> None:
    with pytest.raises(SysexError, match="128 bytes, got 127"):
        Patch.from_vmem(bytes(127))


def test_vced_is_one_byte_per_parameter_op6_first() -> None:
    p = Patch()
    p.op[5].envelope.rates = [1, 2, 3, 4]
    p.op[0].detune = 0
    p.transpose = 36
    vced = p.to_vced()
    assert len(vced) == 155
    assert vced[0:4] == bytes.fromhex("01020304")
    assert vced[125] == 0 and vced[144] == 36


def test_vced_round_trip() -> None:
    p = _packed_fields_patch()
    assert Patch.from_vced(p.to_vced()) == p


def test_vced_with_mask_byte_keeps_operator_switches() -> None:
    data = Patch().to_vced() + bytes([0b101010])
    assert Patch.from_vced(data).operator_enable == 0b101010


def test_vced_out_of_range_is_refused_with_offset() -> None:
    data = bytearray(Patch().to_vced())
    data[134] = 32
    with pytest.raises(SysexError, match=r"algorithm is 32, allowed 0-31 \(at byte 134\)"):
        Patch.from_vced(bytes(data))


def test_vced_name_control_character_is_kept_byte_for_byte() -> None:
    data = bytearray(Patch().to_vced())
    data[150] = 0
    assert Patch.from_vced(bytes(data)).to_vced() == bytes(data)
    data[150] = 0x80
    with pytest.raises(SysexError, match="name character 6 is 128, allowed 0-127"):
        Patch.from_vced(bytes(data))


def test_vced_wrong_length_is_refused() -> None:
    with pytest.raises(SysexError, match="155 bytes"):
        Patch.from_vced(bytes(154))


def test_to_sysex_is_vced_then_operator_mask() -> None:
    p = Patch()
    p.op[1].enabled = False
    assert p.to_sysex() == p.to_vced() + bytes([0b101111])
    assert Patch.from_sysex(p.to_sysex()) == p
