"""Patch: named parameters, 0-based operators, range checks, copies, the ML vector."""

from __future__ import annotations

import numpy as np
import pytest
from dx7d.voices import ARRAY_PARAMETERS, INIT_VOICE, PARAMETER_BY_KEY, PARAMETERS, Patch

# DX7.md 1.8 written out: OP6..OP2 (output level 0), OP1 (output level 99), globals, name.
_OP_SILENT = "63 63 63 63 63 63 63 00  00 00 00 00 00 00 00 00  00 00 01 00 07"
_OP_ONE = "63 63 63 63 63 63 63 00  00 00 00 00 00 00 00 00  63 00 01 00 07"
INIT_VCED_HEX = (
    f"{_OP_SILENT} {_OP_SILENT} {_OP_SILENT} {_OP_SILENT} {_OP_SILENT} {_OP_ONE}"
    " 63 63 63 63 32 32 32 32"  # pitch EG
    " 00 00 01"  # algorithm 1, feedback 0, osc key sync on
    " 23 00 00 00 01 00 03"  # LFO speed 35, delay, PMD, AMD, key sync on, triangle; PMS 3
    " 18"  # transpose 24
    " 49 4e 49 54 20 56 4f 49 43 45"  # "INIT VOICE"
)


def test_default_patch_is_the_dx7_init_voice() -> None:
    assert Patch().to_vced() == bytes.fromhex(INIT_VCED_HEX)


def test_init_voice_constant_is_the_init_voice_with_all_operators_on() -> None:
    assert INIT_VOICE.to_vced() == bytes.fromhex(INIT_VCED_HEX)
    assert INIT_VOICE.operator_enable == 0x3F


def test_init_voice_constant_refuses_changes() -> None:
    with pytest.raises(AttributeError, match="read-only"):
        INIT_VOICE.algorithm = 4
    with pytest.raises(AttributeError, match="read-only"):
        INIT_VOICE.op[0].output_level = 3
    assert INIT_VOICE.algorithm == 0 and INIT_VOICE.op[0].output_level == 99


def test_copy_of_init_voice_is_writable() -> None:
    p = INIT_VOICE.copy()
    p.algorithm = 4
    assert p.algorithm == 4 and INIT_VOICE.algorithm == 0


def test_name_is_padded_to_ten_characters() -> None:
    p = Patch(name="BRASS")
    assert p.name == "BRASS     "
    assert p.name_bytes == b"BRASS     "


def test_name_longer_than_ten_characters_is_refused() -> None:
    with pytest.raises(ValueError, match="at most 10"):
        Patch(name="ELEVEN CHAR")


def test_name_outside_ascii_is_refused() -> None:
    with pytest.raises(ValueError, match="ASCII 0-127"):
        Patch(name="é")


def test_control_bytes_in_a_name_are_kept_and_shown_readably() -> None:
    p = Patch(name="A\tB")
    assert p.name_bytes == b"A\tB       "
    p.name_bytes = b"ORGAN3\x00\x00\x7f"
    assert p.name == "ORGAN3\x00\x00\x7f "
    assert p.display_name == "ORGAN3\\x00\\x00\\x7f"
    assert Patch.from_vced(p.to_vced()).name_bytes == b"ORGAN3\x00\x00\x7f "


def test_operator_0_is_op1_stored_last() -> None:
    p = Patch()
    p.op[0].output_level = 42  # OP1: VCED block 105-125, output level at +16
    p.op[5].output_level = 17  # OP6: VCED block 0-20
    vced = p.to_vced()
    assert vced[105 + 16] == 42
    assert vced[16] == 17


def test_envelope_rates_and_levels_write_the_patch() -> None:
    p = Patch()
    p.op[1].envelope.rates = [10, 20, 30, 40]  # OP2: block 84-104
    p.op[1].envelope.levels = (99, 80, 70, 0)
    assert p.to_vced()[84:92] == bytes([10, 20, 30, 40, 99, 80, 70, 0])
    assert p.op[1].envelope.rates == (10, 20, 30, 40)


def test_envelope_with_one_bad_value_changes_nothing() -> None:
    p = Patch()
    with pytest.raises(ValueError, match="OP2 EG rate 4 must be 0-99, got 100"):
        p.op[1].envelope.rates = [1, 2, 3, 100]
    assert p.op[1].envelope.rates == (99, 99, 99, 99)


def test_envelope_needs_four_values() -> None:
    with pytest.raises(ValueError, match="4 rates"):
        Patch().op[0].envelope.rates = [1, 2, 3]


def test_pitch_envelope_is_bytes_126_to_133() -> None:
    p = Patch()
    p.pitch_envelope.levels = [0, 99, 50, 49]
    assert p.to_vced()[130:134] == bytes([0, 99, 50, 49])


@pytest.mark.parametrize(
    ("attribute", "value", "message"),
    [
        ("algorithm", 32, "algorithm must be 0-31, got 32"),
        ("feedback", 8, "feedback must be 0-7, got 8"),
        ("transpose", 49, "transpose must be 0-48, got 49"),
        ("pitch_mod_sensitivity", -1, "pitch mod sensitivity must be 0-7, got -1"),
    ],
)
def test_out_of_range_assignment_names_parameter_and_range(
    attribute: str, value: int, message: str
) -> None:
    p = Patch()
    with pytest.raises(ValueError, match=message):
        setattr(p, attribute, value)
    assert p == Patch()


def test_operator_field_error_names_the_panel_operator() -> None:
    with pytest.raises(ValueError, match="OP3 detune must be 0-14, got 15"):
        Patch().op[2].detune = 15


def test_non_integer_value_is_refused() -> None:
    with pytest.raises(TypeError, match="integer"):
        Patch().op[0].output_level = 50.5  # type: ignore[assignment]


def test_lfo_wave_reads_and_writes_names() -> None:
    p = Patch()
    assert p.lfo.wave == "triangle"
    p.lfo.wave = "sample and hold"
    assert p.lfo.wave_index == 5 and p.to_vced()[142] == 5
    p.lfo.wave = "saw up"
    assert p.to_vced()[142] == 2
    p.lfo.wave = 4
    assert p.lfo.wave == "sine"


def test_lfo_wave_unknown_name_is_refused() -> None:
    with pytest.raises(ValueError, match="LFO wave must be one of"):
        Patch().lfo.wave = "noise"


def test_flags_read_as_bools() -> None:
    p = Patch()
    p.osc_key_sync = False
    p.lfo.sync = True
    assert p.osc_key_sync is False and p.lfo.sync is True
    assert p.to_vced()[136] == 0 and p.to_vced()[141] == 1


def test_operator_enable_bits_are_op1_high() -> None:
    p = Patch()
    p.op[0].enabled = False  # OP1 = bit 5
    assert p.operator_enable == 0b011111
    p.op[5].enabled = False  # OP6 = bit 0
    assert p.get_param(155) == 0b011110
    assert [op.enabled for op in p.op] == [False, True, True, True, True, False]


def test_set_param_uses_vced_numbers() -> None:
    p = Patch()
    p.set_param(134, 21)
    p.set_param(16, 55)  # OP6 output level
    assert p.algorithm == 21 and p.op[5].output_level == 55
    assert p.get_param(134) == 21


def test_set_param_out_of_range_names_parameter() -> None:
    with pytest.raises(ValueError, match="OP6 frequency coarse must be 0-31, got 32"):
        Patch().set_param(18, 32)
    with pytest.raises(ValueError, match="0-155"):
        Patch().set_param(156, 0)


def test_parameter_table_numbers_keys_and_ranges() -> None:
    assert len(PARAMETERS) == 156
    assert [p.number for p in PARAMETERS] == list(range(156))
    assert PARAMETERS[0].key == "op6_eg_rate_1"
    assert PARAMETERS[125].key == "op1_detune" and PARAMETERS[125].high == 14
    assert PARAMETER_BY_KEY["lfo_wave"].number == 142
    assert PARAMETER_BY_KEY["operator_enable"].number == 155


def test_copy_is_independent() -> None:
    a = Patch(name="A")
    b = a.copy()
    b.op[3].envelope.levels = [1, 2, 3, 4]
    assert a.op[3].envelope.levels == (99, 99, 99, 0)
    assert a != b


def test_replace_returns_a_changed_copy() -> None:
    a = Patch()
    b = a.replace(algorithm=5, op1_detune=0, name="NEW")
    assert (b.algorithm, b.op[0].detune, b.name) == (5, 0, "NEW       ")
    assert a == Patch()


def test_replace_unknown_key_is_refused() -> None:
    with pytest.raises(TypeError, match="unknown voice parameter 'algo'"):
        Patch().replace(algo=1)


def test_replace_param_returns_a_changed_copy() -> None:
    a = Patch()
    b = a.replace_param(135, 6)
    assert b.feedback == 6 and a.feedback == 0


def test_array_holds_every_non_name_parameter() -> None:
    p = Patch()
    p.op[0].output_level = 77
    a = p.to_array()
    assert a.dtype == np.float32 and a.shape == (146,)
    assert ARRAY_PARAMETERS[-1] == 155 and 145 not in ARRAY_PARAMETERS
    assert a[ARRAY_PARAMETERS.index(121)] == 77.0


def test_array_round_trip() -> None:
    p = Patch().replace(algorithm=31, op4_frequency_coarse=31, operator_enable=5)
    assert Patch.from_array(p.to_array()) == p


def test_array_with_fractional_value_is_refused() -> None:
    a = Patch().to_array()
    a[0] = 3.5
    with pytest.raises(ValueError, match="OP6 EG rate 1 must be a whole number"):
        Patch.from_array(a)


def test_array_of_wrong_length_is_refused() -> None:
    with pytest.raises(ValueError, match="146 values"):
        Patch.from_array(np.zeros(145))
