"""Agreement with the reference engine (dexed-py, Dexed's Mark I engine) on the issue-4
metric, with issue 10's targets: spectral and envelope distance median <= 0.5 dB and
p90 <= 1.5 dB, level-offset spread <= 0.5 dB. The engine is written from DX7.md's laws
and measurement, not from the reference's code, so samples need not be identical."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from dx7d.engine_cpp import Synth
from dx7d.engine_cpp.fidelity import FidelityResult, compare, summarize
from dx7d.voices import Bank

dexed = pytest.importorskip(
    "dexed", reason="dexed-py (the reference engine) installs only on Linux x86-64: it has no "
    "wheel or source release for this platform")

RATE = 48000
MEDIAN_MAX_DB = 0.5
P90_MAX_DB = 1.5
OFFSET_STD_MAX_DB = 0.5


@pytest.fixture(scope="module")
def reference() -> object:
    return dexed.DexedSynth(sample_rate=RATE)


def _ref(reference: object, vced: bytes, note: int, velocity: int, hold: float,
         length: float, ops: bool = False) -> np.ndarray:
    patch = dexed.Patch.from_sysex(vced + b"\x3f")
    reference.load_patch(patch)  # type: ignore[attr-defined]
    fn = reference.render_all_ops if ops else reference.render  # type: ignore[attr-defined]
    return np.asarray(fn(midi_note=note, velocity=velocity, note_duration=hold,
                         render_duration=length))


def _assert_targets(results: list[FidelityResult], labels: list[str]) -> None:
    s = summarize(results, labels)
    worst = "; ".join(f"{label}: spectral {r.spectral_db:.2f}, envelope {r.envelope_db:.2f}, "
                      f"offset {r.level_offset_db:+.2f}" for label, r in s.worst[:4])
    assert s.spectral_median_db <= MEDIAN_MAX_DB, worst
    assert s.spectral_p90_db <= P90_MAX_DB, worst
    assert s.envelope_median_db <= MEDIAN_MAX_DB, worst
    assert s.envelope_p90_db <= P90_MAX_DB, worst
    if len(results) > 1:
        assert s.level_offset_std_db <= OFFSET_STD_MAX_DB, worst


def test_every_rom1a_voice_meets_the_targets(shared_banks: Path, synth: Synth,
                                            reference: object) -> None:
    bank = Bank.read(shared_banks / "rom1A.syx")
    results, labels = [], []
    for index in range(32):
        vced = bank[index].to_vced()
        synth.load_patch(vced)
        ours = synth.render_note(60, 100, note_duration=0.3, render_duration=0.5)
        results.append(compare(ours, _ref(reference, vced, 60, 100, 0.3, 0.5), RATE))
        labels.append(f"rom1A voice {index + 1}")
    _assert_targets(results, labels)


def test_notes_and_velocities_meet_the_targets(shared_banks: Path, synth: Synth,
                                               reference: object) -> None:
    bank = Bank.read(shared_banks / "rom1A.syx")
    results, labels = [], []
    for note, velocity in [(36, 64), (84, 127), (21, 1), (108, 100)]:
        for index in (0, 10, 20):
            vced = bank[index].to_vced()
            synth.load_patch(vced)
            ours = synth.render_note(note, velocity, note_duration=0.2, render_duration=0.3)
            ref = _ref(reference, vced, note, velocity, 0.2, 0.3)
            results.append(compare(ours, ref, RATE))
            labels.append(f"rom1A voice {index + 1} n{note} v{velocity}")
    _assert_targets(results, labels)


def test_feedback_loops_match_the_mark_i_engine(synth: Synth, reference: object,
                                               vced: object) -> None:
    build = vced  # type: ignore[assignment]
    results, labels = [], []
    for algorithm in (4, 6, 32):
        for feedback in (0, 3, 7):
            voice = build(alg=algorithm, fb=feedback, op2_ol=80, op3_ol=90, op4_ol=99,
                          op5_ol=85, op6_ol=95, op5_coarse=2, op6_coarse=3, op6_detune=9)
            synth.load_patch(voice)
            ours = synth.render_all_ops(60, 100, note_duration=0.1, render_duration=0.15)
            ref = _ref(reference, voice, 60, 100, 0.1, 0.15, ops=True)
            assert ours.shape == ref.shape == (7, 7200)
            for row in range(7):  # the mix, then OP1..OP6 on their own
                results.append(compare(ours[row], ref[row], RATE))
                labels.append(f"alg {algorithm} fb {feedback} row {row}")
    _assert_targets(results, labels)


def test_random_voices_meet_the_targets(synth: Synth, reference: object) -> None:
    rng = random.Random(4)
    results, labels = [], []
    for _ in range(40):
        patch = dexed.Patch.from_sysex(bytes(rng.randrange(128) for _ in range(156)))
        vced = bytes(patch.to_sysex()[:155])
        synth.load_patch(vced)
        note, velocity = rng.choice([36, 60, 84]), rng.choice([64, 100, 127])
        ours = synth.render_note(note, velocity, note_duration=0.1, render_duration=0.2)
        results.append(compare(ours, _ref(reference, vced, note, velocity, 0.1, 0.2), RATE))
        labels.append(vced.hex()[:16])
    _assert_targets(results, labels)
