"""Every library voice and random bytes give finite output within a stated peak."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
from dx7d.engine_cpp import Synth
from dx7d.voices import Bank, SysexError

# render_note scale: one full carrier peaks at 2^26 / 2^25 = 2.0 at most (velocity boost),
# six carriers at 12.0. render()/render_into() are clipped to [-1, 1].
REFERENCE_PEAK = 12.0


def _voices(root: Path) -> list[bytes]:
    found: list[bytes] = []
    for path in sorted(root.rglob("*.syx")):
        try:
            bank = Bank.read(path)
        except (SysexError, ValueError):
            continue
        found.extend(bank[i].to_vced() for i in range(len(bank)))
    return found


def test_every_library_voice_is_finite_and_bounded(shared_banks: Path) -> None:
    synth = Synth()
    voices = _voices(shared_banks)
    assert len(voices) > 1000
    worst = 0.0
    for vced in voices:
        synth.load_patch(vced)
        x = synth.render_note(60, 127, note_duration=0.02, render_duration=0.03)
        assert np.isfinite(x).all(), vced.hex()
        worst = max(worst, float(np.abs(x).max()))
    assert worst <= REFERENCE_PEAK


def test_random_bytes_at_extreme_notes_stay_in_range() -> None:
    rng = random.Random(7)
    synth = Synth(polyphony=8)
    for _ in range(60):
        synth.load_patch(bytes(rng.randrange(256) for _ in range(155)))
        for note in (0, 127):
            x = synth.render_note(note, 127, note_duration=0.02, render_duration=0.03)
            assert np.isfinite(x).all()
            assert np.abs(x).max() <= REFERENCE_PEAK
        for note in (0, 21, 60, 108, 127):
            synth.note_on(note, 127)
        y = synth.render(1024)
        assert np.isfinite(y).all()
        assert np.abs(y).max() <= 1.0
        synth.all_sound_off()
