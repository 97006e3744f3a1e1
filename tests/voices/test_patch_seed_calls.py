"""The Quick Start's Patch calls as written: dexed-py's names and dump slicing."""

from __future__ import annotations

from pathlib import Path

import pytest
from dx7d.voices import Patch, checksum, voice_dump


def test_from_sysex_of_a_dump_file_slice(tmp_path: Path) -> None:
    """data[6:162] of a 163-byte dump is the payload then the checksum (not the mask)."""
    patch = Patch(name="SLICED").replace(algorithm=9, op2_output_level=71, feedback=6)
    path = tmp_path / "voice.syx"
    path.write_bytes(voice_dump(patch, channel=0))
    data = path.read_bytes()
    assert len(data) == 163 and data[161] == checksum(data[6:161])
    loaded = Patch.from_sysex(data[6:162])
    assert loaded == patch
    assert loaded.operator_enable == 0x3F


def test_from_sysex_of_to_sysex_keeps_the_mask() -> None:
    patch = Patch(name="MASKED")
    patch.op[2].enabled = False
    assert Patch.from_sysex(patch.to_sysex()) == patch


def test_from_sysex_of_a_bad_last_byte_is_refused() -> None:
    data = Patch().to_vced() + b"\x70"  # neither a mask (0-63) nor the checksum
    assert (-sum(data[:155])) & 0x7F != 0x70
    with pytest.raises(ValueError, match="operator on/off"):
        Patch.from_sysex(data)


@pytest.mark.parametrize(
    ("name", "number"),
    [("lin", 0), ("exp-", 1), ("exp+", 2), ("log", 3),
     ("-LIN", 0), ("-EXP", 1), ("+EXP", 2), ("+LIN", 3), ("+lin", 3)],
)
def test_curve_names(name: str, number: int) -> None:
    patch = Patch()
    patch.op[1].left_curve = name
    patch.op[1].right_curve = name
    assert (patch.op[1].left_curve, patch.op[1].right_curve) == (number, number)


def test_unknown_curve_name_is_refused() -> None:
    with pytest.raises(ValueError, match="level scaling curve is one of"):
        Patch().op[0].left_curve = "cubic"


@pytest.mark.parametrize(
    ("name", "number"),
    [("triangle", 0), ("saw_down", 1), ("saw_up", 2), ("square", 3), ("sine", 4),
     ("s&h", 5), ("S&H", 5), ("sample and hold", 5), ("saw down", 1), ("Saw-Up", 2)],
)
def test_lfo_wave_spellings(name: str, number: int) -> None:
    patch = Patch()
    patch.lfo.wave = name
    assert patch.lfo.wave_index == number


def test_unknown_lfo_wave_is_refused() -> None:
    with pytest.raises(ValueError, match="LFO wave must be one of"):
        Patch().lfo.wave = "noise"


@pytest.mark.parametrize("index", [-1, -6, 6])
def test_operator_index_out_of_range_is_refused(index: int) -> None:
    with pytest.raises(IndexError, match="operator index must be 0-5"):
        Patch().op[index]


def test_operator_slices_and_iteration_still_work() -> None:
    patch = Patch()
    assert len(patch.op) == 6 and len(patch.op[1:3]) == 2
    assert [op.output_level for op in patch.op] == [99, 0, 0, 0, 0, 0]
