"""JaxRenderer: render_batch behind jax.pure_callback, so jax.vmap makes ONE batch call.

``render = JaxRenderer(note_duration=0.5, render_duration=1.0)`` is a function of a
Preset (or its (145,) vector), a MIDI note and a velocity returning a (T,) float32 jax
array; it works under jax.jit, and ``jax.vmap(render)(flat_batch)`` hands the whole
(N, 145) batch to the C++ renderer in one call (every core, GIL released). jax is only
imported when a renderer is called; it stays an optional extra.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import numpy.typing as npt
from dx7d.voices import Preset

from ._offline import DEFAULT_SAMPLE_RATE, note_frames, render_batch

__all__ = ["JaxRenderer"]


class JaxRenderer:
    """A jax-callable note renderer with fixed durations (so T is known when tracing).

    ``calls`` counts the batch renders it has made (each is one C++ call); a vmapped
    call of N presets adds one.
    """

    def __init__(self, note_duration: float = 3.0, render_duration: float = 4.0, *,
                 sample_rate: float = DEFAULT_SAMPLE_RATE, normalize_feedback: bool = False,
                 threads: int | None = None, clip: bool = False) -> None:
        self.frames, _ = note_frames(note_duration, render_duration, sample_rate)
        self.note_duration = float(note_duration)
        self.render_duration = float(render_duration)
        self.sample_rate = float(sample_rate)
        self.normalize_feedback = bool(normalize_feedback)
        self.threads = threads
        self.clip = bool(clip)
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self, voice: Any, midi_note: Any = 60, velocity: Any = 100) -> Any:
        """(T,) float32 for one voice; under jax.vmap, (N, T) from one batch call."""
        import jax
        import jax.numpy as jnp

        flat = voice.to_array() if isinstance(voice, Preset) else jnp.asarray(voice)
        flat = jnp.asarray(flat, dtype=jnp.float32)
        if flat.shape[-1:] != (Preset.SIZE,):
            raise ValueError(f"a Preset vector has shape ({Preset.SIZE},), got {flat.shape}")
        note = jnp.asarray(midi_note, dtype=jnp.int32)
        vel = jnp.asarray(velocity, dtype=jnp.int32)
        lead = jnp.broadcast_shapes(flat.shape[:-1], note.shape, vel.shape)
        result = jax.ShapeDtypeStruct((*lead, self.frames), jnp.float32)
        return jax.pure_callback(self._host, result, flat, note, vel,
                                 vmap_method="broadcast_all")

    def _host(self, flat: npt.ArrayLike, note: npt.ArrayLike, vel: npt.ArrayLike
              ) -> npt.NDArray[np.float32]:
        """The callback: any leading batch shape, flattened into one render_batch."""
        flat = np.asarray(flat, dtype=np.float32)
        lead = np.broadcast_shapes(flat.shape[:-1], np.shape(note), np.shape(vel))
        vectors = np.broadcast_to(flat, (*lead, Preset.SIZE)).reshape(-1, Preset.SIZE)
        notes = np.broadcast_to(np.asarray(note), lead).reshape(-1)
        vels = np.broadcast_to(np.asarray(vel), lead).reshape(-1)
        with self._lock:
            self.calls += 1
        out = render_batch(vectors, notes, vels, self.note_duration, self.render_duration,
                           sample_rate=self.sample_rate,
                           normalize_feedback=self.normalize_feedback, threads=self.threads,
                           clip=self.clip)
        return out.reshape(*lead, self.frames)
