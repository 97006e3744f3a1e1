"""OfflineSynth: dexed-py's DexedSynth call shapes on the dx7d engine, and batch rendering.

``OfflineSynth(sample_rate=44100)`` renders one note of the loaded voice at a time
(``render``, ``render_all_ops``), like dexed-py's DexedSynth, with the very same samples
as ``Synth.render_note``. :func:`render_batch` renders N voices (an ``(N, 145)`` Preset
array, Presets, Patches or raw voice bytes) with per-item notes and velocities into an
``(N, T)`` float32 array, in C++ on every core with the GIL released (dx7_batch.h).

The real-time :class:`~dx7d.engine_cpp.Synth` is untouched by any of this.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from dx7d.voices import Patch, Preset, array_to_sysex

from . import _loader
from ._synth import REFERENCE_SCALE, VOICE_BYTES, vced_bytes

__all__ = [
    "DEFAULT_SAMPLE_RATE",
    "OfflineSynth",
    "note_frames",
    "render_batch",
    "voices_to_sysex",
]

DEFAULT_SAMPLE_RATE = 44100
_SYSEX_BYTES = VOICE_BYTES + 1  # 155 VCED bytes + the operator on/off mask
_NORMAL_FEEDBACK = 1  # DX7_BATCH_NORMAL_FEEDBACK
_BLOCK = 64  # the engine's control block: the key goes up on a block boundary

Voices = npt.ArrayLike | Sequence[Preset | Patch | bytes] | Preset | Patch


def note_frames(note_duration: float, render_duration: float,
                sample_rate: float) -> tuple[int, int]:
    """(frames rendered, frame of key up) as Synth.render_note counts them.

    Durations in seconds (>= 0); the key goes up at the first 64-frame block boundary
    at or after ``note_duration`` (dexed-py's rule).
    """
    note_duration, render_duration = float(note_duration), float(render_duration)
    if not (note_duration >= 0 and render_duration >= 0):
        raise ValueError(f"durations must be >= 0 s, got note_duration={note_duration}, "
                         f"render_duration={render_duration}")
    total = int(render_duration * sample_rate + 0.5)
    held = int(note_duration * sample_rate + 0.5)
    keyup = (held + _BLOCK - 1) // _BLOCK * _BLOCK
    return total, min(keyup, total)


def _check_sample_rate(sample_rate: float) -> float:
    rate = float(sample_rate)
    if not 8000.0 <= rate <= 192000.0:
        raise ValueError(f"sample_rate {sample_rate} is outside 8000..192000 Hz")
    return rate


def voices_to_sysex(voices: Voices, *, clip: bool = False) -> npt.NDArray[np.uint8]:
    """(N, 156) uint8 voice bytes from any batch of voices.

    Accepts an (N, 145) or (145,) Preset vector array, an (N, 155/156) uint8 array of
    voice bytes, one Preset or Patch, or a sequence of Presets, Patches and byte strings.
    """
    if isinstance(voices, (Preset, Patch)):
        voices = [voices]
    if isinstance(voices, np.ndarray) or (
            hasattr(voices, "shape") and hasattr(voices, "dtype")):
        a = np.asarray(voices)
        if a.ndim in (1, 2) and a.shape[-1] == Preset.SIZE and a.dtype != np.uint8:
            return array_to_sysex(a.reshape(-1, Preset.SIZE), clip=clip)
        if a.ndim == 2 and a.dtype == np.uint8 and a.shape[1] in (VOICE_BYTES, _SYSEX_BYTES):
            out = np.full((a.shape[0], _SYSEX_BYTES), 0x3F, dtype=np.uint8)
            out[:, :a.shape[1]] = a
            return out
        raise ValueError(f"expected an (N, {Preset.SIZE}) Preset array or (N, 156) uint8 "
                         f"voice bytes, got shape {a.shape} dtype {a.dtype}")
    items = list(voices)  # type: ignore[arg-type]
    out = np.empty((len(items), _SYSEX_BYTES), dtype=np.uint8)
    for i, item in enumerate(items):
        out[i] = _one_voice(item, clip, i)
    return out


def _one_voice(item: object, clip: bool, index: int) -> npt.NDArray[np.uint8]:
    if isinstance(item, Preset):
        return array_to_sysex(item.to_array(), clip=clip)
    if isinstance(item, Patch):
        return np.frombuffer(item.to_sysex(), dtype=np.uint8)
    try:
        raw = vced_bytes(item)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"voice {index}: {exc}") from None
    out = np.full(_SYSEX_BYTES, 0x3F, dtype=np.uint8)
    out[:len(raw)] = np.frombuffer(raw, dtype=np.uint8)
    return out


def _per_item(name: str, value: npt.ArrayLike, n: int, low: int, high: int
              ) -> npt.NDArray[np.int32]:
    a = np.asarray(value)
    if a.dtype.kind not in "iu" and not (a.dtype.kind == "f" and np.all(a == np.round(a))):
        raise TypeError(f"{name} must be whole numbers, got {value!r}")
    if a.ndim == 0:
        a = np.full(n, int(a))
    if a.shape != (n,):
        raise ValueError(f"{name} must be one value or one per voice ({n}), got shape {a.shape}")
    if n and (a.min() < low or a.max() > high):
        raise ValueError(f"{name} must be {low}..{high}, got {a.min()}..{a.max()}")
    return np.ascontiguousarray(a, dtype=np.int32)


class _BatchEngines:
    """One dx7_batch handle (a pool of engines); one render at a time (a lock)."""

    def __init__(self, sample_rate: float, threads: int, loader: str | None = None) -> None:
        self._lib = _loader.load(loader)
        handle = self._lib.dx7_batch_new(float(sample_rate), int(threads))
        if self._lib.is_null(handle):
            raise ValueError(f"cannot make {threads} render engines at {sample_rate} Hz")
        self._handle = handle
        self.threads = int(self._lib.dx7_batch_threads(handle))
        self._lock = threading.Lock()

    def __del__(self) -> None:
        handle = getattr(self, "_handle", None)
        if handle is not None:
            self._handle = None
            self._lib.dx7_batch_free(handle)

    def render(self, voices: npt.NDArray[np.uint8], notes: npt.NDArray[np.int32],
               velocities: npt.NDArray[np.int32], total: int, keyup: int,
               normalize_feedback: bool, with_ops: bool, max_threads: int = 0
               ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32] | None]:
        n = voices.shape[0]
        out = np.empty((n, total), dtype=np.float32)
        ops = np.empty((n, 6, total), dtype=np.float32) if with_ops else None
        flags = _NORMAL_FEEDBACK if normalize_feedback else 0
        if n == 0 or total == 0:  # nothing to render (and an empty buffer has no address)
            return out, ops
        with self._lock:
            rc = self._lib.dx7_batch_render(
                self._handle, np.ascontiguousarray(voices), n, notes, velocities, total,
                keyup, REFERENCE_SCALE, flags, out, ops, int(max_threads))
        if rc != 0:  # every argument was checked above: this is a bug
            raise RuntimeError(f"dx7_batch_render refused its arguments (returned {rc})")
        return out, ops


_pools: dict[tuple[str, float, int], _BatchEngines] = {}
_pools_lock = threading.Lock()


def _pool(sample_rate: float, threads: int) -> _BatchEngines:
    """The shared engines at this rate, for the loader in use (engine.loader)."""
    loader = _loader.resolve(None)
    key = (loader, sample_rate, threads)
    with _pools_lock:
        pool = _pools.get(key)
        if pool is None:
            pool = _pools[key] = _BatchEngines(sample_rate, threads, loader)
        return pool


def render_batch(voices: Voices, midi_note: npt.ArrayLike = 60, velocity: npt.ArrayLike = 100,
                 note_duration: float = 3.0, render_duration: float = 4.0, *,
                 sample_rate: float = DEFAULT_SAMPLE_RATE, normalize_feedback: bool = False,
                 threads: int | None = None, clip: bool = False) -> npt.NDArray[np.float32]:
    """Render N voices at once: an (N, T) float32 array, row i = voice i.

    ``midi_note`` and ``velocity``: one value or one per voice. ``threads``: worker
    threads (None = every core). Each row equals ``OfflineSynth.render`` of that voice.
    """
    out, _ = _render(voices, midi_note, velocity, note_duration, render_duration,
                     sample_rate, normalize_feedback, threads, clip, with_ops=False)
    return out


def _render(voices: Voices, midi_note: npt.ArrayLike, velocity: npt.ArrayLike,
            note_duration: float, render_duration: float, sample_rate: float,
            normalize_feedback: bool, threads: int | None, clip: bool, with_ops: bool,
            engines: _BatchEngines | None = None
            ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32] | None]:
    rate = _check_sample_rate(sample_rate)
    data = voices_to_sysex(voices, clip=clip)
    n = data.shape[0]
    notes = _per_item("midi_note", midi_note, n, 0, 127)
    velocities = _per_item("velocity", velocity, n, 0, 127)
    total, keyup = note_frames(note_duration, render_duration, rate)
    if threads is not None and not 1 <= int(threads) <= 256:
        raise ValueError(f"threads must be 1..256 (or None for every core), got {threads}")
    pool = engines or _pool(rate, 0)
    return pool.render(data, notes, velocities, total, keyup, bool(normalize_feedback),
                       with_ops, 0 if threads is None else int(threads))


class OfflineSynth:
    """One note at a time, offline, with dexed-py's DexedSynth call shapes.

    ``render(midi_note=60, velocity=100, note_duration=3.0, render_duration=4.0)`` returns
    a float32 (T,) array scaled so that a full-level carrier peaks at ~1.0 (not clipped),
    sample for sample what ``Synth.render_note`` gives for the same voice.
    ``normalize_feedback = True`` gives algorithms 4, 6 and 32 (0-based 3, 5, 31) the
    feedback scale of the other algorithms instead of Dexed's 4x weaker one (DX7.md 3.12).
    Picklable: the copy has the same sample rate, setting and voice.
    """

    def __init__(self, sample_rate: float = DEFAULT_SAMPLE_RATE, *,
                 normalize_feedback: bool = False) -> None:
        self._sample_rate = _check_sample_rate(sample_rate)
        self._normalize = bool(normalize_feedback)
        self._voice: npt.NDArray[np.uint8] | None = None
        self._engines: _BatchEngines | None = None

    # -- settings ----------------------------------------------------------------------
    @property
    def sample_rate(self) -> float:
        return self._sample_rate

    @property
    def normalize_feedback(self) -> bool:
        """False (default): Dexed's reduced feedback on algorithms 4, 6, 32; True: the same
        feedback scale as every other algorithm."""
        return self._normalize

    @normalize_feedback.setter
    def normalize_feedback(self, on: bool) -> None:
        if not isinstance(on, (bool, np.bool_)):
            raise TypeError(f"normalize_feedback must be True or False, got {on!r}")
        self._normalize = bool(on)

    @property
    def algorithm(self) -> int:
        """The loaded voice's algorithm, 0-31."""
        return int(self._loaded()[134])

    # -- voices ------------------------------------------------------------------------
    def load_patch(self, patch: Patch | bytes | bytearray) -> None:
        """Load a Patch (its operator on/off switches included) or 155/156 voice bytes."""
        self._voice = _one_voice(patch, False, 0).copy()

    def load_preset(self, preset: Preset | npt.ArrayLike, *, clip: bool = False) -> None:
        """Load a Preset (or its (145,) vector), quantised as Preset.to_patch does."""
        vector = preset.to_array() if isinstance(preset, Preset) else preset
        self._voice = array_to_sysex(np.asarray(vector, dtype=np.float32), clip=clip)

    def _loaded(self) -> npt.NDArray[np.uint8]:
        if self._voice is None:
            raise RuntimeError("no voice loaded: call load_patch() or load_preset() first")
        return self._voice

    # -- audio -------------------------------------------------------------------------
    def _one(self, midi_note: int, velocity: int, note_duration: float,
             render_duration: float, with_ops: bool
             ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32] | None]:
        voice = self._loaded()
        if self._engines is None:
            self._engines = _BatchEngines(self._sample_rate, 1)
        for name, value in (("midi_note", midi_note), ("velocity", velocity)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise TypeError(f"{name} must be an int, got {value!r}")
        return _render(voice[None, :], midi_note, velocity, note_duration, render_duration,
                       self._sample_rate, self._normalize, None, False, with_ops,
                       self._engines)

    def render(self, midi_note: int = 60, velocity: int = 100, note_duration: float = 3.0,
               render_duration: float = 4.0) -> npt.NDArray[np.float32]:
        """One note: (T,) float32, T = render_duration * sample_rate (rounded)."""
        out, _ = self._one(midi_note, velocity, note_duration, render_duration, False)
        return out[0]

    def render_all_ops(self, midi_note: int = 60, velocity: int = 100,
                       note_duration: float = 3.0,
                       render_duration: float = 4.0) -> npt.NDArray[np.float32]:
        """(7, T): each operator's own output, OP1..OP6 (rows 0-5), then the mix (row 6)."""
        out, ops = self._one(midi_note, velocity, note_duration, render_duration, True)
        assert ops is not None
        return np.concatenate([ops[0], out], axis=0)

    def render_batch(self, voices: Voices, midi_note: npt.ArrayLike = 60,
                     velocity: npt.ArrayLike = 100, note_duration: float = 3.0,
                     render_duration: float = 4.0, *, threads: int | None = None,
                     clip: bool = False) -> npt.NDArray[np.float32]:
        """render_batch() at this synth's sample rate and feedback setting: (N, T)."""
        return render_batch(voices, midi_note, velocity, note_duration, render_duration,
                            sample_rate=self._sample_rate,
                            normalize_feedback=self._normalize, threads=threads, clip=clip)

    # -- pickling ----------------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        voice = None if self._voice is None else self._voice.tobytes()
        return {"sample_rate": self._sample_rate, "normalize_feedback": self._normalize,
                "voice": voice}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["sample_rate"],  # type: ignore[misc]
                      normalize_feedback=state["normalize_feedback"])
        if state["voice"] is not None:
            self._voice = np.frombuffer(state["voice"], dtype=np.uint8).copy()

    def __repr__(self) -> str:
        loaded = "no voice" if self._voice is None else f"algorithm {self.algorithm}"
        return (f"OfflineSynth(sample_rate={self._sample_rate:g}, "
                f"normalize_feedback={self._normalize}, {loaded})")
