"""Auditions for the page: one short note of a voice, rendered offline to a WAV.

A Synth of its own (never the playing engine: an audition changes nothing the module
plays), so it works when the module's output is a headless null device. Renders are
serialised by a lock (one private engine) and done on a worker thread of the control
interface's loop, never on the loop itself.
"""

from __future__ import annotations

import io
import threading
import wave
from typing import Any

import numpy as np

__all__ = ["AUDITION_RATE", "Auditioner", "to_wav"]

AUDITION_RATE = 32000  # Hz: a phone plays it, and 1.5 s is ~96 KB
NOTE = 60  # middle C
VELOCITY = 100
HELD_S = 1.0  # key down this long
LENGTH_S = 1.5  # then the release
PEAK = 0.89  # louder renders (several full carriers) are scaled down to this peak


def to_wav(samples: np.ndarray, rate: int) -> bytes:
    """16-bit mono PCM WAV of float samples; scaled down (never up) to PEAK."""
    peak = float(np.max(np.abs(samples))) if samples.size else 0.0
    scale = PEAK / peak if peak > PEAK else 1.0
    pcm = np.clip(samples * scale * 32767.0, -32768, 32767).astype("<i2")
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return out.getvalue()


class Auditioner:
    """Renders a Patch's note with a private engine, built on first use."""

    def __init__(self, rate: int = AUDITION_RATE) -> None:
        self.rate = rate
        self._synth: Any = None
        self._lock = threading.Lock()

    def wav(self, patch: Any) -> bytes:
        """One note (NOTE, VELOCITY, HELD_S then release to LENGTH_S) of ``patch``."""
        with self._lock:
            if self._synth is None:
                from dx7d.engine_cpp import Synth

                self._synth = Synth(sample_rate=self.rate, polyphony=1)
            self._synth.load_patch(patch)
            samples = self._synth.render_note(NOTE, VELOCITY, HELD_S, LENGTH_S)
        return to_wav(samples, self.rate)
