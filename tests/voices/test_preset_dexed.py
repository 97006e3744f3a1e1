"""The (145,) vector equals dexed-py's for the same voice (the reference; tests only)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from dx7d.voices import PARAMETERS, Patch, Preset

dexed = pytest.importorskip("dexed", reason="dexed-py (the reference) is in the test extra")


def _random_vced(rng: np.random.Generator) -> bytes:
    values = [int(rng.integers(p.low, p.high + 1)) for p in PARAMETERS[:145]]
    return bytes(values) + b"RANDOM    "


def test_default_preset_equals_dexeds() -> None:
    assert np.array_equal(Preset().to_array(), dexed.Preset().to_array())


def test_random_patches_give_dexeds_vector() -> None:
    rng = np.random.default_rng(20261201)
    for _ in range(300):
        vced = _random_vced(rng)
        ours = Patch.from_vced(vced).to_preset().to_array()
        theirs = dexed.Patch.from_sysex(vced + b"\x3f").to_preset().to_array()
        assert np.array_equal(ours, theirs)


def test_dexeds_vectors_load_here() -> None:
    """An (N, 145) array saved by dexed-py users gives the same voices here."""
    rng = np.random.default_rng(5)
    for _ in range(100):
        vced = _random_vced(rng)
        theirs = dexed.Patch.from_sysex(vced + b"\x3f").to_preset().to_array()
        assert Preset.from_array(theirs).to_patch().to_vced()[:145] == vced[:145]


def test_random_vectors_quantise_like_dexed() -> None:
    rng = np.random.default_rng(11)
    for _ in range(100):
        arr = Preset().to_array()
        arr[:123] = rng.random(123, dtype=np.float32)
        ours = Preset.from_array(arr).to_patch().to_vced()[:145]
        theirs = dexed.Preset.from_array(arr).to_patch().to_sysex()[:145]
        assert ours == theirs


def test_rom1a_vectors_equal_dexeds(shared_banks: Path) -> None:
    ours = np.stack([p.to_preset().to_array() for p in Patch.load_bank(shared_banks / "rom1A.syx")])
    theirs = np.stack([p.to_preset().to_array()
                       for p in dexed.Patch.load_bank(str(shared_banks / "rom1A.syx"))])
    assert np.array_equal(ours, theirs)
