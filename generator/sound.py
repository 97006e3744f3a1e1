"""Listening to a voice: one note rendered by the engine and the figures measured on it.

Every voice is heard the same way: middle C (note 60) at velocity 100, held
``HELD_S`` then released, ``TOTAL_S`` rendered at ``RATE`` with dx7d.engine_cpp's
offline ``render_note`` (a full-level carrier peaks near 1.0). From the samples:

* ``peak`` (linear) and ``level_db`` (RMS of the held part, dB re full scale 1.0);
* ``flatness``: spectral flatness (geometric / arithmetic mean of the power spectrum,
  50 Hz-12 kHz, frames of the held part): ~0.56 for white noise, ~0 for a tone;
* ``pitch_confidence``: the highest normalised autocorrelation at a lag of 27-2000 Hz
  (1 = perfectly periodic), and ``pitch`` (semitones from the note's own pitch);
* ``brightness``: the spectral centroid (Hz); ``attack_s``: time to 90 % of the peak
  envelope; ``decay_s``: time from the peak until 20 dB below it (HELD_S if never);
* ``mfcc``: 20 mel-cepstral coefficients (40 mel bands 30 Hz-12 kHz), mean of the
  frames, and ``envelope``: the RMS of 8 equal slices of the render (dB re its peak).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from ._params import VOICE_PARAMS

__all__ = ["HELD_S", "NOTE", "RATE", "TOTAL_S", "VELOCITY", "Listener", "Sound", "measure",
           "sound_vector"]

RATE: Final = 48_000
NOTE: Final = 60
VELOCITY: Final = 100
HELD_S: Final = 1.0
TOTAL_S: Final = 1.5
_FFT: Final = 2048  # samples per frame (43 ms)
_HOP: Final = 1024
_MELS: Final = 40
_MFCC: Final = 20
_NOTE_HZ: Final = 440.0 * 2 ** ((NOTE - 69) / 12)
_FLOOR: Final = 1e-10


def _mel(hz: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return 2595.0 * np.log10(1.0 + hz / 700.0)


def _mel_bank() -> npt.NDArray[np.float64]:
    """(FFT bins, _MELS) triangular filters, 30 Hz-12 kHz, equal height."""
    edges_mel = np.linspace(_mel(np.array(30.0)), _mel(np.array(12_000.0)), _MELS + 2)
    edges = 700.0 * (10 ** (edges_mel / 2595.0) - 1.0)
    freqs = np.fft.rfftfreq(_FFT, 1.0 / RATE)
    bank = np.zeros((freqs.size, _MELS))
    for m in range(_MELS):
        lo, mid, hi = edges[m:m + 3]
        rise = (freqs - lo) / (mid - lo)
        fall = (hi - freqs) / (hi - mid)
        bank[:, m] = np.clip(np.minimum(rise, fall), 0.0, None)
    return bank


def _dct_matrix() -> npt.NDArray[np.float64]:
    """Orthonormal DCT-II, (_MELS, _MFCC)."""
    n = np.arange(_MELS)
    k = np.arange(_MFCC)
    m = np.cos(np.pi / _MELS * (n[:, None] + 0.5) * k[None, :]) * np.sqrt(2.0 / _MELS)
    m[:, 0] /= np.sqrt(2.0)
    return m


_MEL_BANK: Final = _mel_bank()
_DCT: Final = _dct_matrix()
_WINDOW: Final = np.hanning(_FFT)
_FREQS: Final = np.fft.rfftfreq(_FFT, 1.0 / RATE)
_BAND: Final = (_FREQS >= 50.0) & (_FREQS <= 12_000.0)
_MIN_LAG: Final = int(RATE / 2000)
_MAX_LAG: Final = int(RATE / 27.5)


@dataclass(frozen=True)
class Sound:
    """The figures of one rendered note (see the module docstring for units)."""

    peak: float
    level_db: float
    flatness: float
    pitch_confidence: float
    pitch: float
    brightness: float
    attack_s: float
    decay_s: float
    mfcc: npt.NDArray[np.float64]
    envelope: npt.NDArray[np.float64]

    def figures(self) -> dict[str, float]:
        """The scalar figures, rounded for reports."""
        return {"peak": round(self.peak, 3), "level_db": round(self.level_db, 1),
                "flatness": round(self.flatness, 3),
                "pitch_confidence": round(self.pitch_confidence, 3),
                "pitch": round(self.pitch, 1), "brightness": round(self.brightness),
                "attack_s": round(self.attack_s, 3), "decay_s": round(self.decay_s, 3)}


def measure(audio: npt.NDArray[np.float32]) -> Sound:
    """The figures of one render (RATE Hz, TOTAL_S long, note held HELD_S)."""
    x = np.asarray(audio, dtype=np.float64)
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    held = x[:int(HELD_S * RATE)]
    level_db = 10.0 * np.log10(float(np.mean(held * held)) + _FLOOR)
    frames = np.lib.stride_tricks.sliding_window_view(x, _FFT)[::_HOP]
    power = np.abs(np.fft.rfft(frames * _WINDOW, axis=1)) ** 2  # (frames, bins)
    energy = power.sum(axis=1)
    active = energy > energy.max() * 1e-6 if energy.max() > 0 else np.zeros_like(energy, bool)
    held_frames = active & (np.arange(len(energy)) * _HOP + _FFT <= HELD_S * RATE)
    use = held_frames if held_frames.any() else active
    if use.any():
        band = power[use][:, _BAND] + _FLOOR
        flat = np.exp(np.mean(np.log(band), axis=1)) / np.mean(band, axis=1)
        weights = energy[use] / energy[use].sum()
        flatness = float(np.sum(flat * weights))
        centroid = (power[use] @ _FREQS) / (power[use].sum(axis=1) + _FLOOR)
        brightness = float(np.sum(centroid * weights))
        log_mel = 10.0 * np.log10(power[use] @ _MEL_BANK + _FLOOR)
        mfcc = (log_mel @ _DCT).mean(axis=0)
    else:
        flatness, brightness = 1.0, 0.0
        mfcc = np.full(_MFCC, 10.0 * np.log10(_FLOOR)) @ np.eye(_MFCC)
    confidence, pitch = _pitch(x)
    attack, decay = _envelope_times(x)
    slices = np.array_split(x, 8)
    env = np.array([10.0 * np.log10(float(np.mean(s * s)) + _FLOOR) for s in slices])
    env = env - env.max()
    return Sound(peak, float(level_db), flatness, confidence, pitch, brightness, attack, decay,
                 mfcc, env)


def _pitch(x: npt.NDArray[np.float64]) -> tuple[float, float]:
    """(confidence 0-1, semitones from NOTE) from the autocorrelation of 8192 samples
    starting 0.1 s in (past most attacks)."""
    seg = x[int(0.1 * RATE):int(0.1 * RATE) + 8192]
    if seg.size < 2 * _MAX_LAG or not np.any(seg):
        return 0.0, 0.0
    seg = seg - seg.mean()
    spec = np.fft.rfft(seg, 2 * seg.size)
    ac = np.fft.irfft(np.abs(spec) ** 2)[:seg.size]
    # unbiased: each lag's sum has fewer terms
    ac = ac / (seg.size - np.arange(seg.size))
    if ac[0] <= 0:
        return 0.0, 0.0
    ac = ac / ac[0]
    lag = _MIN_LAG + int(np.argmax(ac[_MIN_LAG:_MAX_LAG]))
    conf = float(np.clip(ac[lag], 0.0, 1.0))
    return conf, float(12.0 * np.log2(RATE / lag / _NOTE_HZ))


def _envelope_times(x: npt.NDArray[np.float64]) -> tuple[float, float]:
    hop = 240  # 5 ms
    n = x.size // hop
    if n == 0:
        return 0.0, 0.0
    env = np.sqrt(np.mean(x[:n * hop].reshape(n, hop) ** 2, axis=1))
    top = env.max()
    if top <= 0:
        return 0.0, 0.0
    attack = int(np.argmax(env >= 0.9 * top))
    peak_at = int(np.argmax(env))
    held_end = int(HELD_S * RATE / hop)
    below = np.flatnonzero(env[peak_at:held_end] < top * 0.1)
    decay = (below[0] if below.size else max(held_end - peak_at, 0)) * hop / RATE
    return attack * hop / RATE, float(decay)


def sound_vector(s: Sound) -> npt.NDArray[np.float64]:
    """What "sounds far apart" is measured on: timbre (MFCC 1-12, level left out) and
    envelope shape, each scaled so one unit is a clearly audible step."""
    return np.concatenate([s.mfcc[1:13] / 10.0, s.envelope / 10.0,
                           [np.log2(max(s.brightness, 20.0) / _NOTE_HZ)]])


class Listener:
    """Renders voices (145 uint8 parameters) with one engine instance."""

    def __init__(self) -> None:
        from dx7d.engine_cpp import Synth

        self._synth: Any = Synth(sample_rate=RATE, polyphony=1)

    def render(self, voice: npt.ArrayLike) -> npt.NDArray[np.float32]:
        v = np.asarray(voice, dtype=np.uint8).reshape(VOICE_PARAMS)
        self._synth.load_patch(v.tobytes() + b"          ")
        audio: npt.NDArray[np.float32] = self._synth.render_note(
            midi_note=NOTE, velocity=VELOCITY, note_duration=HELD_S, render_duration=TOTAL_S)
        return audio

    def listen(self, voice: npt.ArrayLike) -> Sound:
        return measure(self.render(voice))
