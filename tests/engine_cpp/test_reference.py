"""Sample-exact agreement with the reference engine (dexed-py, Dexed's Mark I engine)."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from dx7d.engine_cpp import Synth
from dx7d.voices import Bank

dexed = pytest.importorskip(
    "dexed", reason="dexed-py (the reference engine) installs only on Linux x86-64: it has no "
    "wheel or source release for this platform")


@pytest.fixture(scope="module")
def reference() -> object:
    return dexed.DexedSynth(sample_rate=48000)


def _ref(reference: object, vced: bytes, note: int, velocity: int, hold: float,
         length: float, ops: bool = False) -> np.ndarray:
    patch = dexed.Patch.from_sysex(vced + b"\x3f")
    reference.load_patch(patch)  # type: ignore[attr-defined]
    fn = reference.render_all_ops if ops else reference.render  # type: ignore[attr-defined]
    return np.asarray(fn(midi_note=note, velocity=velocity, note_duration=hold,
                         render_duration=length))


def test_every_rom1a_voice_is_sample_exact(shared_banks: Path, synth: Synth,
                                           reference: object) -> None:
    bank = Bank.read(shared_banks / "rom1A.syx")
    for index in range(32):
        vced = bank[index].to_vced()
        synth.load_patch(vced)
        ours = synth.render_note(60, 100, note_duration=0.3, render_duration=0.5)
        ref = _ref(reference, vced, 60, 100, 0.3, 0.5)
        assert np.array_equal(ours, ref), f"rom1A voice {index + 1} differs"


@pytest.mark.parametrize(("note", "velocity"), [(36, 64), (84, 127), (21, 1), (108, 100)])
def test_notes_and_velocities_are_sample_exact(shared_banks: Path, synth: Synth,
                                               reference: object, note: int,
                                               velocity: int) -> None:
    bank = Bank.read(shared_banks / "rom1A.syx")
    for index in (0, 10, 20):
        vced = bank[index].to_vced()
        synth.load_patch(vced)
        ours = synth.render_note(note, velocity, note_duration=0.2, render_duration=0.3)
        assert np.array_equal(ours, _ref(reference, vced, note, velocity, 0.2, 0.3))


@pytest.mark.parametrize("algorithm", [4, 6, 32])
@pytest.mark.parametrize("feedback", [0, 3, 7])
def test_feedback_loops_match_the_mark_i_engine(synth: Synth, reference: object, vced: object,
                                               algorithm: int, feedback: int) -> None:
    build = vced  # type: ignore[assignment]
    voice = build(alg=algorithm, fb=feedback, op2_ol=80, op3_ol=90, op4_ol=99, op5_ol=85,
                  op6_ol=95, op5_coarse=2, op6_coarse=3, op6_detune=9)
    synth.load_patch(voice)
    ours = synth.render_all_ops(60, 100, note_duration=0.1, render_duration=0.15)
    ref = _ref(reference, voice, 60, 100, 0.1, 0.15, ops=True)
    assert ours.shape == ref.shape == (7, 7200)
    assert np.array_equal(ours, ref)


def test_random_voices_are_sample_exact(synth: Synth, reference: object) -> None:
    rng = random.Random(4)
    for _ in range(40):
        patch = dexed.Patch.from_sysex(bytes(rng.randrange(128) for _ in range(156)))
        vced = bytes(patch.to_sysex()[:155])
        synth.load_patch(vced)
        note, velocity = rng.choice([36, 60, 84]), rng.choice([64, 100, 127])
        ours = synth.render_note(note, velocity, note_duration=0.1, render_duration=0.2)
        assert np.array_equal(ours, _ref(reference, vced, note, velocity, 0.1, 0.2)), vced.hex()
