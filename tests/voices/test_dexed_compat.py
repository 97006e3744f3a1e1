"""Agreement with dexed-py (the reference; tests only): bank loading and VCED bytes."""

from __future__ import annotations

from pathlib import Path

import pytest
from dx7d.voices import Bank, Patch

dexed = pytest.importorskip(
    "dexed", reason="dexed-py (the reference engine) installs only on Linux x86-64: it has no "
    "wheel or source release for this platform")


def test_rom1a_vced_equals_dexed(shared_banks: Path) -> None:
    """dexed's to_sysex() is 156 bytes: the VCED payload, then the on/off mask 3F."""
    ours = Patch.load_bank(shared_banks / "rom1A.syx")
    theirs = dexed.Patch.load_bank(str(shared_banks / "rom1A.syx"))
    assert [p.to_vced() for p in ours] == [p.to_sysex()[:155] for p in theirs]
    assert [p.to_sysex() for p in ours] == [p.to_sysex() for p in theirs]


def test_rom1a_names_equal_dexed(shared_banks: Path) -> None:
    ours = Bank.read(shared_banks / "rom1A.syx")
    theirs = dexed.Patch.load_bank(str(shared_banks / "rom1A.syx"))
    assert [p.name for p in ours] == [p.name for p in theirs]


def test_dexed_reads_our_bank_file(shared_banks: Path, tmp_path: Path) -> None:
    bank = Bank.read(shared_banks / "rom1A.syx")
    bank[5] = Patch(name="OURS").replace(algorithm=30, op3_frequency_coarse=17)
    bank.write(tmp_path / "ours.syx")
    theirs = dexed.Patch.load_bank(str(tmp_path / "ours.syx"))
    assert [p.to_sysex()[:155] for p in theirs] == [p.to_vced() for p in bank]


def test_dexed_packing_equals_ours(shared_banks: Path) -> None:
    ours = Bank.read(shared_banks / "rom1A.syx")
    theirs = dexed.Patch.load_bank(str(shared_banks / "rom1A.syx"))
    assert [p.to_packed() for p in theirs] == [p.to_vmem() for p in ours]


def test_seed_api_call_shapes() -> None:
    """What dexed-py users write works the same way here."""
    patch = Patch(name="SEED")
    patch.algorithm = 15
    patch.feedback = 7
    patch.op[0].output_level = 90
    patch.op[0].envelope.rates = [50, 60, 70, 80]
    patch.lfo.wave = "square"
    theirs = dexed.Patch(name="SEED")
    theirs.algorithm = 15
    theirs.feedback = 7
    theirs.op[0].output_level = 90
    theirs.op[0].envelope.rates = [50, 60, 70, 80]
    theirs.lfo.wave = "square"
    assert (patch.algorithm, patch.feedback, patch.op[0].output_level) == (
        theirs.algorithm, theirs.feedback, theirs.op[0].output_level)
    assert list(patch.op[0].envelope.rates) == theirs.op[0].envelope.rates
    assert patch.lfo.wave == theirs.lfo.wave == "square"
    assert Patch.from_sysex(theirs.to_sysex()).op[0].envelope.rates == (50, 60, 70, 80)
