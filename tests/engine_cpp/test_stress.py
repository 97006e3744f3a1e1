"""Random event storms: output stays finite and in range, voices stay bounded."""

from __future__ import annotations

import random

import numpy as np
from dx7d.engine_cpp import Synth


def test_random_event_storm_is_safe() -> None:
    rng = random.Random(11)
    synth = Synth(polyphony=6, queue_capacity=64)
    out = np.zeros(4096, dtype=np.float32)
    for _ in range(300):
        now = synth.frame_position
        for _ in range(rng.randrange(8)):
            frame = rng.choice([None, now - 10, now + rng.randrange(600)])
            kind = rng.randrange(10)
            if kind < 4:
                synth.note_on(rng.randrange(128), rng.randrange(128), frame=frame)
            elif kind < 6:
                synth.note_off(rng.randrange(128), frame=frame)
            elif kind == 6:
                synth.control_change(rng.choice([1, 2, 4, 5, 7, 64, 65, 120, 121, 123]),
                                     rng.randrange(128), frame=frame)
            elif kind == 7:
                synth.set_function(rng.randrange(64, 78), rng.randrange(13), frame=frame)
            elif kind == 8:
                synth.voice_parameter(rng.randrange(156), rng.randrange(128), frame=frame)
            else:
                synth.load_patch(bytes(rng.randrange(128) for _ in range(155)), frame=frame)
        synth.pitch_bend(rng.randrange(-8192, 8192))
        block = out[: rng.randrange(1, 4096)]
        synth.render_into(block)
        assert np.isfinite(block).all()
        assert np.abs(block).max() <= 1.0
        assert synth.sounding_voices <= 6
    synth.all_sound_off()
    synth.render(4800)
    assert synth.sounding_voices == 0
