"""Both engines behind one small interface, and the fidelity sweep (tests and bench).

DexedRenderer wraps dexed-py (the GPL-3 reference, tests and bench only);
OursRenderer wraps dx7d.engine_cpp.Synth. Each keeps one synth instance and
renders one note at a time: load(vced) then render(note, velocity) -> float32
mono, RATE Hz, held NOTE_S and rendered RENDER_S seconds (issue 4).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt
from _voicesets import Voice
from dx7d.engine_cpp.fidelity import FidelityResult, compare

__all__ = [
    "NOTES",
    "NOTE_S",
    "RATE",
    "RENDER_S",
    "VELOCITIES",
    "DexedRenderer",
    "OursRenderer",
    "Renderer",
    "Sweep",
    "sweep",
]

RATE = 48_000
NOTE_S = 1.0
RENDER_S = 1.5
NOTES = (36, 60, 84)
VELOCITIES = (64, 100, 127)

Audio = npt.NDArray[np.float32]


class Renderer(Protocol):
    """One engine: load a 155-byte VCED voice, render one note from silence."""

    name: str

    def load(self, vced: bytes) -> None: ...

    def render(self, note: int, velocity: int) -> Audio: ...


class DexedRenderer:
    """dexed-py (Dexed's Mark I engine) at RATE."""

    def __init__(self, name: str = "dexed") -> None:
        from dexed import DexedSynth

        self.name = name
        self._synth = DexedSynth(sample_rate=RATE)

    def load(self, vced: bytes) -> None:
        from dexed import Patch

        self._synth.load_patch(Patch.from_sysex(vced))

    def render(self, note: int, velocity: int) -> Audio:
        return np.asarray(
            self._synth.render(
                midi_note=note, velocity=velocity, note_duration=NOTE_S, render_duration=RENDER_S
            ),
            dtype=np.float32,
        )


class OursRenderer:
    """dx7d.engine_cpp.Synth at RATE (raises ImportError when the engine is missing)."""

    def __init__(self, polyphony: int = 16, name: str = "dx7d", loader: str | None = None
                 ) -> None:
        from dx7d.engine_cpp import Synth

        self.name = name
        self.synth = Synth(sample_rate=RATE, polyphony=polyphony, loader=loader)

    def load(self, vced: bytes) -> None:
        self.synth.load_patch(vced)

    def render(self, note: int, velocity: int) -> Audio:
        return np.asarray(
            self.synth.render_note(
                midi_note=note, velocity=velocity, note_duration=NOTE_S, render_duration=RENDER_S
            ),
            dtype=np.float32,
        )


class Sweep:
    """Results of one sweep: labels, fidelity results and CPU seconds spent rendering."""

    def __init__(self) -> None:
        self.labels: list[str] = []
        self.results: list[FidelityResult] = []
        self.cpu_s: dict[str, float] = {}
        self.audio_s = 0.0
        self.identical = 0  # renders where both engines gave the same samples

    def voice_s_per_cpu_s(self, engine: str) -> float:
        """Voice-seconds rendered per CPU-second of engine (render calls only)."""
        return self.audio_s / self.cpu_s[engine]


def _timed_render(engine: Renderer, note: int, velocity: int, sweep: Sweep) -> Audio:
    start = time.process_time()
    audio = engine.render(note, velocity)
    sweep.cpu_s[engine.name] = sweep.cpu_s.get(engine.name, 0.0) + time.process_time() - start
    return audio


def sweep(
    voices: Sequence[Voice],
    cases: Iterable[tuple[int, int]],
    ours: Renderer,
    ref: Renderer,
) -> Sweep:
    """Render every voice at every (note, velocity) case with both engines and compare them."""
    result = Sweep()
    cases = list(cases)
    for voice in voices:
        ours.load(voice.vced)
        ref.load(voice.vced)
        for note, velocity in cases:
            a = _timed_render(ours, note, velocity, result)
            b = _timed_render(ref, note, velocity, result)
            result.audio_s += len(b) / RATE
            result.identical += int(np.array_equal(a, b))
            result.labels.append(f"{voice.label} n{note} v{velocity}")
            result.results.append(compare(a, b, RATE))
    return result
