"""The Python facade of the C++ engine: Synth, over the C ABI (dx7_capi.h, _abi.py).

Loader-agnostic: it calls ``lib.dx7_engine_*`` and never sees whether cppyy or ctypes
is behind `lib`; no handle escapes this module.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from . import _loader

__all__ = ["REFERENCE_SCALE", "VOICE_BYTES", "HasVced", "Synth"]

VOICE_BYTES = 155
REFERENCE_SCALE = 1.0 / (1 << 25)
"""render_note()/render_all_ops() scale: a full-level carrier peaks at ~1.0, as dexed-py's."""

_NOTE_ON, _NOTE_OFF, _CONTROL, _BEND, _PRESSURE, _FUNCTION, _VOICE_PARAM = 1, 2, 3, 4, 5, 6, 7
_ALL_NOTES_OFF, _ALL_SOUND_OFF, _RESET_CONTROLS, _MASTER_TUNE = 9, 10, 11, 12


class HasVced(Protocol):
    """Anything with a to_vced() -> 155 bytes method (dx7d.voices.Patch)."""

    def to_vced(self) -> bytes: ...


def _check(name: str, value: int, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if not lo <= int(value) <= hi:
        raise ValueError(f"{name} {value} is outside {lo}..{hi}")
    return int(value)


def vced_bytes(patch: HasVced | bytes | bytearray | memoryview) -> bytes:
    """155 VCED bytes (or 156 with the operator on/off mask) from a patch or raw bytes."""
    data = patch.to_vced() if hasattr(patch, "to_vced") else patch
    mask = getattr(patch, "operator_enable", None)  # a Patch's on/off switches (param 155)
    if isinstance(mask, int) and isinstance(data, (bytes, bytearray)) \
            and len(data) == VOICE_BYTES:
        data = bytes(data) + bytes((mask & 0x3F,))
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"expected a Patch or 155 VCED bytes, got {type(patch).__name__}")
    raw = bytes(data)
    if len(raw) not in (VOICE_BYTES, VOICE_BYTES + 1):
        raise ValueError(f"a DX7 voice is {VOICE_BYTES} VCED bytes, got {len(raw)}")
    return raw


class Synth:
    """A polyphonic DX7 voice engine (C++, compiled on first use by `loader`).

    Event methods may be called from one producer thread while render_into() runs in
    the audio thread. ``frame`` is an absolute frame on the engine clock
    (:attr:`frame_position`); None or a past frame means "at the start of the next
    block". They return False (and count a dropped event) when the queue is full.
    """

    def __init__(self, sample_rate: int = 48000, polyphony: int = 16, block_frames: int = 128,
                 queue_capacity: int = 1024, loader: str | None = None) -> None:
        if not 8000 <= int(sample_rate) <= 192000:
            raise ValueError(f"sample_rate {sample_rate} is outside 8000..192000")
        _check("polyphony", polyphony, 1, 32)
        _check("block_frames", block_frames, 1, 1 << 16)
        _check("queue_capacity", queue_capacity, 2, 1 << 20)
        self._lib = lib = _loader.load(loader)
        self._engine: Any = None
        handle = lib.dx7_engine_new(float(sample_rate), int(polyphony), int(queue_capacity))
        if lib.is_null(handle):
            raise MemoryError("the C++ engine could not be created (out of memory)")
        self._engine = handle
        self._sample_rate = int(sample_rate)
        self._polyphony = int(polyphony)
        self._block_frames = int(block_frames)
        self._patch = np.zeros(VOICE_BYTES + 1, dtype=np.uint8)

    def __del__(self) -> None:
        engine, self._engine = getattr(self, "_engine", None), None
        if engine is not None:
            self._lib.dx7_engine_free(engine)

    # -- read-only state -------------------------------------------------------------
    @property
    def loader(self) -> str:
        """The loader that compiled this engine: "cppyy" or "compiled"."""
        return str(self._lib.loader)

    @property
    def loader_summary(self) -> str:
        """Which loader ran and how long compiling took, for the log."""
        return self._lib.describe()

    @property
    def sample_rate(self) -> int:
        return self._sample_rate

    @property
    def polyphony(self) -> int:
        return self._polyphony

    @property
    def block_frames(self) -> int:
        return self._block_frames

    def c_engine(self) -> tuple[Any, Any]:
        """(lib, engine handle) for C code that drives this engine through the C ABI (the
        native audio output, daemon/_native_audio.py); valid while this Synth lives."""
        return self._lib, self._engine

    @property
    def frame_position(self) -> int:
        """Frames rendered so far (the engine clock)."""
        return int(self._lib.dx7_engine_frame_position(self._engine))

    @property
    def sounding_voices(self) -> int:
        return int(self._lib.dx7_engine_sounding_voices(self._engine))

    @property
    def dropped_events(self) -> int:
        """Events refused because the queue was full (raise queue_capacity)."""
        return int(self._lib.dx7_engine_dropped_events(self._engine))

    @property
    def peak(self) -> float:
        """Largest |sample| rendered since construction or reset_peak()."""
        return float(self._lib.dx7_engine_peak(self._engine))

    def reset_peak(self) -> None:
        self._lib.dx7_engine_reset_peak(self._engine)

    # -- events ------------------------------------------------------------------------
    def _post(self, kind: int, a: int, b: int, frame: int | None) -> bool:
        when = -1 if frame is None else int(frame)
        return bool(self._lib.dx7_engine_post(self._engine, when, kind, a, b))

    def note_on(self, note: int, velocity: int, *, frame: int | None = None) -> bool:
        """Key down: note 0..127, velocity 0..127 (0 = note off)."""
        return self._post(_NOTE_ON, _check("note", note, 0, 127),
                          _check("velocity", velocity, 0, 127), frame)

    def note_off(self, note: int, *, frame: int | None = None) -> bool:
        return self._post(_NOTE_OFF, _check("note", note, 0, 127), 0, frame)

    def control_change(self, cc: int, value: int, *, frame: int | None = None) -> bool:
        """CC 1, 2, 4, 5, 7, 64, 65, 120, 121, 123 act; others are ignored."""
        return self._post(_CONTROL, _check("cc", cc, 0, 127), _check("value", value, 0, 127),
                          frame)

    def pitch_bend(self, value: int, *, frame: int | None = None) -> bool:
        """Bend -8192..8191 (0 = centre), scaled by the bend range/step functions."""
        return self._post(_BEND, _check("pitch bend", value, -8192, 8191), 0, frame)

    def channel_pressure(self, value: int, *, frame: int | None = None) -> bool:
        return self._post(_PRESSURE, _check("pressure", value, 0, 127), 0, frame)

    def set_function(self, parameter: int, value: int, *, frame: int | None = None) -> bool:
        """DX7 function parameter 64..77 (DX7.md 1.5): mono, bend, portamento, controllers."""
        return self._post(_FUNCTION, _check("function parameter", parameter, 64, 77),
                          _check("value", value, 0, 127), frame)

    def voice_parameter(self, parameter: int, value: int, *, frame: int | None = None) -> bool:
        """Voice parameter 0..155 (VCED byte index; 155 = operator on/off mask)."""
        return self._post(_VOICE_PARAM, _check("voice parameter", parameter, 0, 155),
                          _check("value", value, 0, 127), frame)

    def load_patch(self, patch: HasVced | bytes | bytearray | memoryview, *,
                   frame: int | None = None) -> bool:
        """Make a voice (Patch or 155 VCED bytes) the edit buffer; sounding notes go on."""
        raw = vced_bytes(patch)
        self._patch[:len(raw)] = np.frombuffer(raw, dtype=np.uint8)
        if len(raw) == VOICE_BYTES:
            self._patch[VOICE_BYTES] = 0x3F
        when = -1 if frame is None else int(frame)
        return bool(self._lib.dx7_engine_post_patch(self._engine, when, self._patch))

    def all_notes_off(self, *, frame: int | None = None) -> bool:
        """Release every note, sustained ones included."""
        return self._post(_ALL_NOTES_OFF, 0, 0, frame)

    def all_sound_off(self, *, frame: int | None = None) -> bool:
        """Fade every voice out within a few milliseconds."""
        return self._post(_ALL_SOUND_OFF, 0, 0, frame)

    def reset_controllers(self, *, frame: int | None = None) -> bool:
        return self._post(_RESET_CONTROLS, 0, 0, frame)

    def set_master_tune(self, cents: float, *, frame: int | None = None) -> bool:
        """Global tuning offset in cents (-100..100)."""
        if not -100.0 <= float(cents) <= 100.0:
            raise ValueError(f"master tune {cents} cents is outside -100..100")
        return self._post(_MASTER_TUNE, round(float(cents) * 100), 0, frame)

    # -- audio -------------------------------------------------------------------------
    def render_into(self, out: npt.NDArray[np.float32]) -> None:
        """Fill a C-contiguous float32 1-D array with the next len(out) frames, in [-1, 1]."""
        if out.dtype != np.float32 or out.ndim != 1 or not out.flags.c_contiguous \
                or not out.flags.writeable:
            raise ValueError("render_into needs a writeable C-contiguous 1-D float32 array")
        if out.shape[0]:
            self._lib.dx7_engine_render(self._engine, out, out.shape[0])

    def render(self, frames: int) -> npt.NDArray[np.float32]:
        """The next `frames` frames as a new float32 array (offline use)."""
        out = np.zeros(_check("frames", frames, 0, (1 << 31) - 1), dtype=np.float32)
        self.render_into(out)
        return out

    def _reference(self, midi_note: int, velocity: int, note_duration: float,
                   render_duration: float, ops: bool) -> tuple[Any, Any]:
        _check("midi_note", midi_note, 0, 127)
        _check("velocity", velocity, 0, 127)
        if note_duration < 0 or render_duration < 0:
            raise ValueError("durations must be >= 0")
        total = int(render_duration * self._sample_rate + 0.5)
        held = int(note_duration * self._sample_rate + 0.5)
        keyup = (held + 63) // 64 * 64
        out = np.zeros(total, dtype=np.float32)
        rows = np.zeros((6, total), dtype=np.float32) if ops else None
        self._lib.dx7_engine_render_note(self._engine, out, total, keyup, midi_note,
                                         velocity, REFERENCE_SCALE, rows)
        return out, rows

    def render_note(self, midi_note: int = 60, velocity: int = 100, note_duration: float = 3.0,
                    render_duration: float = 4.0) -> npt.NDArray[np.float32]:
        """One note of the edit buffer, rendered like dexed-py's DexedSynth.render.

        Independent of the voice pool and its clock; scale: a full carrier ~1.0
        (not clipped), i.e. 8x the level of render().
        """
        out, _ = self._reference(midi_note, velocity, note_duration, render_duration, False)
        return out

    def render_all_ops(self, midi_note: int = 60, velocity: int = 100,
                       note_duration: float = 3.0,
                       render_duration: float = 4.0) -> npt.NDArray[np.float32]:
        """(7, T): operators 1..6 then the mix, as dexed-py's render_all_ops."""
        out, rows = self._reference(midi_note, velocity, note_duration, render_duration, True)
        assert rows is not None
        return np.concatenate([rows, out[None, :]], axis=0)


