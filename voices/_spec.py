"""Spec tables: the DX7 voice parameters (VCED) and the packed cartridge layout (VMEM).

One table per format (DX7.md 1.3 and 1.4). Every encoder and decoder in this
package reads these tables; nothing else knows a byte offset.

* ``PARAMETERS[n]`` is voice parameter number ``n`` (0-155): the VCED byte
  index, which is also the number used by voice parameter change messages.
  Number 155 (operator on/off) is not part of the 155-byte dump.
* ``VMEM_FIELDS`` maps the 128 bytes of one packed voice onto parameter
  numbers: (byte, lowest bit, width in bits, parameter number).
* ``FUNCTION_PARAMETERS`` are the function parameters 64-77 (group 2).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "FUNCTION_PARAMETERS",
    "NAME_FIRST",
    "NAME_LENGTH",
    "OPERATOR_BLOCK",
    "OP_ENABLE",
    "PARAMETERS",
    "PARAMETER_BY_KEY",
    "PARAMETER_COUNT",
    "VCED_SIZE",
    "VMEM_FIELDS",
    "VMEM_SIZE",
    "VMEM_USED_BITS",
    "FunctionParam",
    "Param",
    "VmemField",
    "op_base",
]

VCED_SIZE = 155  # bytes in a single-voice dump payload
PARAMETER_COUNT = 156  # VCED bytes + the operator on/off mask (number 155)
VMEM_SIZE = 128  # bytes of one packed voice
OPERATOR_BLOCK = 21  # VCED bytes per operator, OP6 first
NAME_FIRST = 145  # VCED index of the first name character
NAME_LENGTH = 10
OP_ENABLE = 155  # operator on/off: bit 5 = OP1 ... bit 0 = OP6


@dataclass(frozen=True)
class Param:
    """One voice parameter: its number (= VCED index), names and range."""

    number: int
    key: str  # python-style name, e.g. "op1_output_level", "algorithm"
    label: str  # display name, e.g. "OP1 output level"
    low: int
    high: int


@dataclass(frozen=True)
class FunctionParam:
    """One function parameter (group 2): number 64-77, names and range."""

    number: int
    key: str
    label: str
    low: int
    high: int


@dataclass(frozen=True)
class VmemField:
    """A bit field of one packed voice holding one parameter."""

    byte: int  # 0-127 within the voice
    shift: int  # lowest bit
    width: int  # bits
    param: int  # parameter number (VCED index)


# Per-operator fields: (offset in the 21-byte block, key suffix, label suffix, low, high)
_OPERATOR_FIELDS: tuple[tuple[int, str, str, int, int], ...] = (
    (0, "eg_rate_1", "EG rate 1", 0, 99),
    (1, "eg_rate_2", "EG rate 2", 0, 99),
    (2, "eg_rate_3", "EG rate 3", 0, 99),
    (3, "eg_rate_4", "EG rate 4", 0, 99),
    (4, "eg_level_1", "EG level 1", 0, 99),
    (5, "eg_level_2", "EG level 2", 0, 99),
    (6, "eg_level_3", "EG level 3", 0, 99),
    (7, "eg_level_4", "EG level 4", 0, 99),
    (8, "breakpoint", "level scaling break point", 0, 99),
    (9, "left_depth", "level scaling left depth", 0, 99),
    (10, "right_depth", "level scaling right depth", 0, 99),
    (11, "left_curve", "level scaling left curve", 0, 3),
    (12, "right_curve", "level scaling right curve", 0, 3),
    (13, "rate_scaling", "rate scaling", 0, 7),
    (14, "amp_mod_sensitivity", "amp mod sensitivity", 0, 3),
    (15, "velocity_sensitivity", "key velocity sensitivity", 0, 7),
    (16, "output_level", "output level", 0, 99),
    (17, "frequency_mode", "oscillator mode", 0, 1),
    (18, "frequency_coarse", "frequency coarse", 0, 31),
    (19, "frequency_fine", "frequency fine", 0, 99),
    (20, "detune", "detune", 0, 14),
)

# Voice-global fields: (VCED index, key, label, low, high)
_GLOBAL_FIELDS: tuple[tuple[int, str, str, int, int], ...] = (
    (126, "pitch_eg_rate_1", "pitch EG rate 1", 0, 99),
    (127, "pitch_eg_rate_2", "pitch EG rate 2", 0, 99),
    (128, "pitch_eg_rate_3", "pitch EG rate 3", 0, 99),
    (129, "pitch_eg_rate_4", "pitch EG rate 4", 0, 99),
    (130, "pitch_eg_level_1", "pitch EG level 1", 0, 99),
    (131, "pitch_eg_level_2", "pitch EG level 2", 0, 99),
    (132, "pitch_eg_level_3", "pitch EG level 3", 0, 99),
    (133, "pitch_eg_level_4", "pitch EG level 4", 0, 99),
    (134, "algorithm", "algorithm", 0, 31),
    (135, "feedback", "feedback", 0, 7),
    (136, "osc_key_sync", "oscillator key sync", 0, 1),
    (137, "lfo_speed", "LFO speed", 0, 99),
    (138, "lfo_delay", "LFO delay", 0, 99),
    (139, "lfo_pitch_mod_depth", "LFO pitch mod depth", 0, 99),
    (140, "lfo_amp_mod_depth", "LFO amp mod depth", 0, 99),
    (141, "lfo_sync", "LFO key sync", 0, 1),
    (142, "lfo_wave", "LFO wave", 0, 5),
    (143, "pitch_mod_sensitivity", "pitch mod sensitivity", 0, 7),
    (144, "transpose", "transpose", 0, 48),
    *(
        # the DX7 shows 32-127; every 7-bit byte is kept as it came (a librarian that sends
        # a cartridge and asks for it back must get the same bytes, NULs and all)
        (NAME_FIRST + i, f"name_{i + 1}", f"name character {i + 1}", 0, 127)
        for i in range(NAME_LENGTH)
    ),
    (OP_ENABLE, "operator_enable", "operator on/off", 0, 63),
)


def op_base(op: int) -> int:
    """VCED index of the block of operator ``op`` (0-5 = OP1-OP6; OP6 is stored first)."""
    return (5 - op) * OPERATOR_BLOCK


def _build_parameters() -> tuple[Param, ...]:
    params: list[Param] = []
    for block in range(6):
        panel = 6 - block  # OP6 first
        for offset, key, label, low, high in _OPERATOR_FIELDS:
            params.append(
                Param(block * OPERATOR_BLOCK + offset, f"op{panel}_{key}", f"OP{panel} {label}",
                      low, high)
            )
    params.extend(Param(*row) for row in _GLOBAL_FIELDS)
    assert [p.number for p in params] == list(range(PARAMETER_COUNT))
    return tuple(params)


PARAMETERS: tuple[Param, ...] = _build_parameters()
PARAMETER_BY_KEY: dict[str, Param] = {p.key: p for p in PARAMETERS}


def _build_vmem_fields() -> tuple[VmemField, ...]:
    fields: list[VmemField] = []
    for block in range(6):
        b, p = block * 17, block * OPERATOR_BLOCK
        fields.extend(VmemField(b + i, 0, 7, p + i) for i in range(11))  # EG, break point, depths
        fields += [
            VmemField(b + 11, 0, 2, p + 11),  # left curve
            VmemField(b + 11, 2, 2, p + 12),  # right curve
            VmemField(b + 12, 0, 3, p + 13),  # rate scaling
            VmemField(b + 12, 3, 4, p + 20),  # detune
            VmemField(b + 13, 0, 2, p + 14),  # amp mod sensitivity
            VmemField(b + 13, 2, 3, p + 15),  # key velocity sensitivity
            VmemField(b + 14, 0, 7, p + 16),  # output level
            VmemField(b + 15, 0, 1, p + 17),  # oscillator mode
            VmemField(b + 15, 1, 5, p + 18),  # frequency coarse
            VmemField(b + 16, 0, 7, p + 19),  # frequency fine
        ]
    fields.extend(VmemField(102 + i, 0, 7, 126 + i) for i in range(8))  # pitch EG
    fields += [
        VmemField(110, 0, 5, 134),  # algorithm
        VmemField(111, 0, 3, 135),  # feedback
        VmemField(111, 3, 1, 136),  # oscillator key sync
        *(VmemField(112 + i, 0, 7, 137 + i) for i in range(4)),  # LFO speed/delay/PMD/AMD
        VmemField(116, 0, 1, 141),  # LFO key sync
        VmemField(116, 1, 3, 142),  # LFO wave
        VmemField(116, 4, 3, 143),  # pitch mod sensitivity
        VmemField(117, 0, 7, 144),  # transpose
        *(VmemField(118 + i, 0, 7, NAME_FIRST + i) for i in range(NAME_LENGTH)),
    ]
    assert sorted(f.param for f in fields) == list(range(VCED_SIZE))
    return tuple(fields)


VMEM_FIELDS: tuple[VmemField, ...] = _build_vmem_fields()


def _used_bits() -> tuple[int, ...]:
    used = [0] * VMEM_SIZE
    for f in VMEM_FIELDS:
        used[f.byte] |= ((1 << f.width) - 1) << f.shift
    return tuple(used)


VMEM_USED_BITS: tuple[int, ...] = _used_bits()  # per byte; the rest are "don't care"

FUNCTION_PARAMETERS: dict[int, FunctionParam] = {
    p.number: p
    for p in (
        FunctionParam(64, "mono", "mono/poly (1 = mono)", 0, 1),
        FunctionParam(65, "pitch_bend_range", "pitch bend range", 0, 12),
        FunctionParam(66, "pitch_bend_step", "pitch bend step", 0, 12),
        FunctionParam(67, "portamento_mode", "portamento mode", 0, 1),
        FunctionParam(68, "glissando", "portamento glissando", 0, 1),
        FunctionParam(69, "portamento_time", "portamento time", 0, 99),
        FunctionParam(70, "mod_wheel_range", "mod wheel range", 0, 99),
        FunctionParam(71, "mod_wheel_assign", "mod wheel assign", 0, 7),
        FunctionParam(72, "foot_range", "foot controller range", 0, 99),
        FunctionParam(73, "foot_assign", "foot controller assign", 0, 7),
        FunctionParam(74, "breath_range", "breath controller range", 0, 99),
        FunctionParam(75, "breath_assign", "breath controller assign", 0, 7),
        FunctionParam(76, "aftertouch_range", "aftertouch range", 0, 99),
        FunctionParam(77, "aftertouch_assign", "aftertouch assign", 0, 7),
    )
}
