"""OfflineSynth against dexed-py's DexedSynth on the issue-4 metric (reference: tests only)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from dx7d.engine_cpp import OfflineSynth
from dx7d.engine_cpp.fidelity import compare, summarize
from dx7d.voices import Patch

dexed = pytest.importorskip("dexed", reason="dexed-py (the reference) is in the test extra")
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from _voicesets import random_voices  # noqa: E402


def test_rom1a_matches_dexed_py(shared_banks: Path) -> None:
    ours, ref = OfflineSynth(), dexed.DexedSynth()
    path = shared_banks / "rom1A.syx"
    results, labels = [], []
    for mine, theirs in zip(Patch.load_bank(path), dexed.Patch.load_bank(str(path)),
                            strict=True):
        ours.load_patch(mine)
        ref.load_patch(theirs)
        a = ours.render(midi_note=60, velocity=100, note_duration=1.0, render_duration=1.5)
        b = ref.render(midi_note=60, velocity=100, note_duration=1.0, render_duration=1.5)
        assert a.shape == b.shape
        results.append(compare(a, b, 44100))
        labels.append(mine.name)
    summary = summarize(results, labels)
    assert summary.spectral_median_db <= 0.5, summary.worst[:3]
    assert summary.envelope_median_db <= 0.5, summary.worst[:3]


def test_random_voices_match_dexed_py() -> None:
    """24 random voices (bench/_voicesets.py), notes 36/60/84: medians <= 0.5 dB."""
    ours, ref = OfflineSynth(), dexed.DexedSynth()
    results, labels = [], []
    for voice in random_voices(24):
        ours.load_patch(voice.vced)
        ref.load_patch(dexed.Patch.from_sysex(voice.vced + b"\x3f"))
        for note in (36, 60, 84):
            a = ours.render(midi_note=note, velocity=100, note_duration=0.6, render_duration=1.0)
            b = ref.render(midi_note=note, velocity=100, note_duration=0.6, render_duration=1.0)
            results.append(compare(a, b, 44100))
            labels.append(f"{voice.label} note {note}")
    summary = summarize(results, labels)
    assert summary.spectral_median_db <= 0.5, summary.worst[:3]
    assert summary.envelope_median_db <= 0.5, summary.worst[:3]


@pytest.mark.parametrize("algorithm", [3, 5, 31])  # 0-based: DX7 algorithms 4, 6, 32
def test_normalize_feedback_matches_dexed_py(algorithm: int) -> None:
    voice = bytearray(Patch().to_sysex())
    voice[134], voice[135] = algorithm, 7
    for op_block in range(6):
        voice[op_block * 21 + 16] = 99  # every operator at full level
    ours, ref = OfflineSynth(), dexed.DexedSynth()
    ours.load_patch(bytes(voice))
    ref.load_patch(dexed.Patch.from_sysex(bytes(voice)))
    for on in (False, True):
        ours.normalize_feedback = on
        ref.normalize_feedback = on
        a = ours.render(60, 100, 0.5, 1.0)
        b = ref.render(60, 100, 0.5, 1.0)
        result = compare(a, b, 44100)
        assert result.spectral_db <= 1.0 and result.envelope_db <= 1.0, (on, result)
    assert np.any(a)
