"""Fidelity metric: how far one rendered note is from a reference render (numpy only).

Used by the tests and bench/ to compare this engine with the reference synth
(dexed-py); this module itself imports nothing but numpy, so it ships with the
product. Every figure is in dB. The definitions follow issue 4; the choices the
issue leaves open are fixed here:

Level offset
    ``10·log10(mean(ours²) / mean(ref²))`` over the whole render (dB). Positive
    means ours is louder. It is removed before both distances are computed.

Spectral distance
    * Frames: 2048-point periodic Hann window, hop 10 ms (480 samples at 48 kHz),
      first frame at sample 0; the signal is zero-padded at the end so the last
      frame covers the last sample (a render shorter than 2048 samples is one
      zero-padded frame).
    * Power spectrum ``|rfft|²`` averaged (arithmetic mean) over all frames: the
      long-term average.
    * 64 triangular bands, peak weight 1, no area normalisation (the same bank
      is applied to both renders, so scaling would cancel). Band edges are 66
      points equally spaced on the HTK mel scale ``2595·log10(1 + f/700)``
      from 30 Hz to Nyquist; band k rises from edge k to edge k+1 and falls to
      edge k+2. Weights are evaluated at the FFT bin frequencies.
    * Band powers in dB: ``10·log10(power + EPSILON)``, EPSILON = 1e-30.
    * Ours is shifted by the level offset, then both spectra are floored at the
      reference's loudest band minus 60 dB; the distance is the mean absolute
      difference over the bands where the reference is at or above that floor.
      (Flooring ours as well keeps one inaudible band from dominating.)

Envelope distance
    * RMS over consecutive, non-overlapping 10 ms frames (480 samples at 48 kHz);
      a trailing partial frame is dropped (1.5 s at 48 kHz is exactly 150 frames);
      a render shorter than one frame is one frame.
    * In dB: ``20·log10(rms + EPSILON)``; ours is shifted by the level offset;
      both are floored at the reference's peak frame minus 60 dB.
    * Mean absolute difference over the frames where either is strictly above
      the floor.

Silence
    A render is silent when its RMS is below SILENCE_RMS (1e-6, -120 dB re full
    scale 1.0). Both silent: distances 0, offset 0, status "both_silent"
    (excluded from the level-offset statistics). One silent: distances and
    offset are ``inf`` (ours silent gives -inf offset), status "ours_silent" or
    "ref_silent"; summaries count them as flagged and the percentiles see them
    as infinitely bad.

Summaries
    Median and 90th percentile (numpy's linear interpolation; an infinite
    neighbour gives infinity) of each distance over all results; mean and
    population standard deviation (ddof 0) of the level offset over results
    with status "ok". Worst cases are ranked by spectral + envelope distance.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = [
    "BANDS",
    "EPSILON",
    "FFT_SIZE",
    "FLOOR_DB",
    "F_MIN_HZ",
    "HOP_S",
    "MEDIAN_MAX_DB",
    "OFFSET_STD_MAX_DB",
    "P90_MAX_DB",
    "SILENCE_RMS",
    "FidelityResult",
    "FidelitySummary",
    "band_edges_hz",
    "compare",
    "envelope_distance",
    "level_offset_db",
    "mel_filterbank",
    "spectral_distance",
    "summarize",
]

FFT_SIZE = 2048
HOP_S = 0.010
BANDS = 64
F_MIN_HZ = 30.0
FLOOR_DB = 60.0
EPSILON = 1e-30
SILENCE_RMS = 1e-6

# Targets from issue 4 (dB).
MEDIAN_MAX_DB = 1.0
P90_MAX_DB = 3.0
OFFSET_STD_MAX_DB = 1.0

Signal = npt.ArrayLike
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class FidelityResult:
    """One comparison: distances and level offset in dB, and a status.

    status is "ok", "both_silent", "ours_silent" or "ref_silent".
    """

    spectral_db: float
    envelope_db: float
    level_offset_db: float
    status: str = "ok"


@dataclass(frozen=True)
class FidelitySummary:
    """Statistics over many comparisons (dB); worst holds (label, result) pairs."""

    count: int
    spectral_median_db: float
    spectral_p90_db: float
    envelope_median_db: float
    envelope_p90_db: float
    level_offset_mean_db: float
    level_offset_std_db: float
    flagged: int
    worst: tuple[tuple[str, FidelityResult], ...]

    def failures(self) -> list[str]:
        """The issue-4 targets this summary misses, one sentence each (empty: all met)."""
        checks = [
            ("spectral median", self.spectral_median_db, MEDIAN_MAX_DB),
            ("spectral p90", self.spectral_p90_db, P90_MAX_DB),
            ("envelope median", self.envelope_median_db, MEDIAN_MAX_DB),
            ("envelope p90", self.envelope_p90_db, P90_MAX_DB),
            ("level-offset std", self.level_offset_std_db, OFFSET_STD_MAX_DB),
        ]
        return [
            f"{name} {value:.2f} dB exceeds {limit:.1f} dB"
            for name, value, limit in checks
            if not value <= limit
        ]


def _mono(signal: Signal) -> FloatArray:
    """The signal as a 1-D float64 array; raises ValueError otherwise."""
    array = np.asarray(signal, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"expected a mono (1-D) signal, got shape {array.shape}")
    return array


def _hz_to_mel(hz: FloatArray | float) -> FloatArray:
    return np.asarray(2595.0 * np.log10(1.0 + np.asarray(hz) / 700.0), dtype=np.float64)


def _mel_to_hz(mel: FloatArray) -> FloatArray:
    return np.asarray(700.0 * (10.0 ** (mel / 2595.0) - 1.0), dtype=np.float64)


def band_edges_hz(rate: float, bands: int = BANDS, f_min: float = F_MIN_HZ) -> FloatArray:
    """The bands + 2 edge frequencies (Hz), equally spaced in HTK mel, f_min to rate/2."""
    mels = np.linspace(_hz_to_mel(f_min), _hz_to_mel(rate / 2.0), bands + 2)
    return _mel_to_hz(mels)


@functools.lru_cache(maxsize=8)
def mel_filterbank(
    rate: float, fft_size: int = FFT_SIZE, bands: int = BANDS, f_min: float = F_MIN_HZ
) -> FloatArray:
    """Triangular mel weights, shape (bands, fft_size // 2 + 1), peak 1, for an rfft power.

    The array is cached and read-only.
    """
    if not 0.0 < f_min < rate / 2.0:
        raise ValueError(f"f_min {f_min} Hz must lie between 0 and Nyquist ({rate / 2.0} Hz)")
    edges = band_edges_hz(rate, bands, f_min)
    freqs = np.fft.rfftfreq(fft_size, d=1.0 / rate)
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (freqs - lower) / (centre - lower)
    falling = (upper - freqs) / (upper - centre)
    weights = np.asarray(np.clip(np.minimum(rising, falling), 0.0, None), dtype=np.float64)
    weights.flags.writeable = False
    return weights


def level_offset_db(ours: Signal, ref: Signal) -> float:
    """10·log10(mean(ours²)/mean(ref²)) in dB (inf/-inf/nan when one or both are zero)."""
    a, b = _mono(ours), _mono(ref)
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(10.0 * np.log10(np.mean(a * a) / np.mean(b * b)))


def _long_term_bands_db(signal: FloatArray, rate: float) -> FloatArray:
    """Long-term average mel band power of signal, dB (10·log10(power + EPSILON))."""
    hop = max(1, round(HOP_S * rate))
    frames = 1 + max(0, math.ceil((len(signal) - FFT_SIZE) / hop))
    padded = np.zeros((frames - 1) * hop + FFT_SIZE)
    padded[: len(signal)] = signal
    window = np.hanning(FFT_SIZE + 1)[:-1]  # periodic Hann
    framed = np.lib.stride_tricks.sliding_window_view(padded, FFT_SIZE)[::hop]
    spectrum = np.fft.rfft(framed * window, axis=1)
    power = (spectrum.real**2 + spectrum.imag**2).mean(axis=0)
    bands = mel_filterbank(rate) @ power
    return np.asarray(10.0 * np.log10(bands + EPSILON), dtype=np.float64)


def spectral_distance(
    ours: Signal, ref: Signal, rate: float, offset_db: float | None = None
) -> float:
    """Mean |dB| difference of the long-term mel spectra after removing the level offset.

    offset_db defaults to level_offset_db(ours, ref).
    """
    a, b = _mono(ours), _mono(ref)
    offset = level_offset_db(a, b) if offset_db is None else offset_db
    ref_db = _long_term_bands_db(b, rate)
    floor = float(ref_db.max()) - FLOOR_DB
    ours_db = np.maximum(_long_term_bands_db(a, rate) - offset, floor)
    used = ref_db >= floor
    return float(np.mean(np.abs(ours_db[used] - ref_db[used])))


def _frame_rms_db(signal: FloatArray, rate: float) -> FloatArray:
    """RMS of consecutive 10 ms frames in dB (20·log10(rms + EPSILON))."""
    size = max(1, round(HOP_S * rate))
    frames = max(1, len(signal) // size)
    padded = np.zeros(frames * size)
    usable = min(len(signal), frames * size)
    padded[:usable] = signal[:usable]
    rms = np.sqrt(np.mean(padded.reshape(frames, size) ** 2, axis=1))
    return np.asarray(20.0 * np.log10(rms + EPSILON), dtype=np.float64)


def envelope_distance(
    ours: Signal, ref: Signal, rate: float, offset_db: float | None = None
) -> float:
    """Mean |dB| difference of 10 ms RMS frames (floored at ref peak - 60 dB, offset removed).

    offset_db defaults to level_offset_db(ours, ref). Both renders must have the
    same length.
    """
    a, b = _mono(ours), _mono(ref)
    if len(a) != len(b):
        raise ValueError(f"renders differ in length: ours {len(a)}, reference {len(b)} samples")
    offset = level_offset_db(a, b) if offset_db is None else offset_db
    ref_db = _frame_rms_db(b, rate)
    floor = float(ref_db.max()) - FLOOR_DB
    ref_db = np.maximum(ref_db, floor)
    ours_db = np.maximum(_frame_rms_db(a, rate) - offset, floor)
    used = (ref_db > floor) | (ours_db > floor)
    if not used.any():
        return 0.0
    return float(np.mean(np.abs(ours_db[used] - ref_db[used])))


def _rms(signal: FloatArray) -> float:
    return float(np.sqrt(np.mean(signal * signal))) if len(signal) else 0.0


def compare(ours: Signal, ref: Signal, rate: float) -> FidelityResult:
    """Spectral and envelope distance and level offset of ours against ref (see module doc)."""
    a, b = _mono(ours), _mono(ref)
    ours_silent, ref_silent = _rms(a) < SILENCE_RMS, _rms(b) < SILENCE_RMS
    if ours_silent and ref_silent:
        return FidelityResult(0.0, 0.0, 0.0, "both_silent")
    if ours_silent or ref_silent:
        offset = -math.inf if ours_silent else math.inf
        status = "ours_silent" if ours_silent else "ref_silent"
        return FidelityResult(math.inf, math.inf, offset, status)
    offset = level_offset_db(a, b)
    return FidelityResult(
        spectral_distance(a, b, rate, offset), envelope_distance(a, b, rate, offset), offset
    )


def _percentile(values: FloatArray, q: float) -> float:
    """Linear-interpolated percentile; infinite when an interpolation neighbour is."""
    if len(values) == 0:
        return math.nan
    ordered = np.sort(values)
    position = (len(ordered) - 1) * q / 100.0
    low, high = ordered[math.floor(position)], ordered[math.ceil(position)]
    if math.isinf(low) or math.isinf(high):
        return math.inf
    return float(low + (high - low) * (position - math.floor(position)))


def summarize(
    results: Sequence[FidelityResult], labels: Sequence[str] | None = None, worst: int = 10
) -> FidelitySummary:
    """Medians, 90th percentiles, level-offset mean/std and the worst results.

    labels (one per result, e.g. "ROM1A:BRASS 1 n60 v100") name the worst cases;
    they default to the result indices.
    """
    names = [str(i) for i in range(len(results))] if labels is None else list(labels)
    if len(names) != len(results):
        raise ValueError(f"{len(names)} labels for {len(results)} results")
    spectral = np.array([r.spectral_db for r in results], dtype=np.float64)
    envelope = np.array([r.envelope_db for r in results], dtype=np.float64)
    offsets = np.array([r.level_offset_db for r in results if r.status == "ok"])
    ranked = sorted(
        zip(names, results, strict=True),
        key=lambda pair: pair[1].spectral_db + pair[1].envelope_db,
        reverse=True,
    )
    return FidelitySummary(
        count=len(results),
        spectral_median_db=_percentile(spectral, 50.0),
        spectral_p90_db=_percentile(spectral, 90.0),
        envelope_median_db=_percentile(envelope, 50.0),
        envelope_p90_db=_percentile(envelope, 90.0),
        level_offset_mean_db=float(offsets.mean()) if len(offsets) else math.nan,
        level_offset_std_db=float(offsets.std()) if len(offsets) else math.nan,
        flagged=sum(r.status in ("ours_silent", "ref_silent") for r in results),
        worst=tuple(ranked[:worst]),
    )
