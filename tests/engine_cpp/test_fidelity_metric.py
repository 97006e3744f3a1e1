"""The fidelity metric itself (dx7d.engine_cpp.fidelity), on signals with known answers."""

from __future__ import annotations

import itertools
import math
import sys
from pathlib import Path

import numpy as np
import pytest
from dx7d.engine_cpp import fidelity
from dx7d.engine_cpp.fidelity import (
    FidelityResult,
    band_edges_hz,
    compare,
    envelope_distance,
    level_offset_db,
    mel_filterbank,
    spectral_distance,
    summarize,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from _engines import DexedRenderer
from _voicesets import bank_vceds

RATE = 48_000
N = 72_000  # 1.5 s
T = np.arange(N) / RATE


def tone(hz: float, amplitude: float = 1.0) -> np.ndarray:
    return amplitude * np.sin(2 * np.pi * hz * T)


def decaying(tau_s: float) -> np.ndarray:
    """A 440 Hz + 1320 Hz tone decaying exponentially with time constant tau_s."""
    return (tone(440.0) + tone(1320.0, 0.3)) * np.exp(-T / tau_s)


def test_identical_signals_give_zero() -> None:
    signal = decaying(0.4)
    assert compare(signal, signal, RATE) == FidelityResult(0.0, 0.0, 0.0, "ok")


def test_gain_change_is_the_offset_and_nothing_else() -> None:
    signal = decaying(0.4)
    result = compare(0.5 * signal, signal, RATE)
    assert result.level_offset_db == pytest.approx(20 * math.log10(0.5), abs=1e-9)
    assert result.spectral_db == pytest.approx(0.0, abs=1e-9)
    assert result.envelope_db == pytest.approx(0.0, abs=1e-9)


def test_level_offset_is_the_mean_square_ratio() -> None:
    assert level_offset_db(tone(1000.0, 2.0), tone(500.0, 1.0)) == pytest.approx(
        10 * math.log10(4.0), abs=1e-9
    )


def test_envelope_step_gives_the_computed_distance() -> None:
    # Reference drops by 20 dB half-way (on a frame boundary); ours stays level.
    # 1 kHz has exactly 10 periods per 10 ms frame, so every frame's RMS is exact.
    # After the offset removal the frame differences are a and 20 - a: mean 10 dB.
    ref = tone(1000.0) * np.where(np.arange(N) < N // 2, 1.0, 0.1)
    ours = tone(1000.0)
    assert envelope_distance(ours, ref, RATE) == pytest.approx(10.0, abs=1e-9)


def test_envelope_distance_grows_with_time_stretch() -> None:
    ref = decaying(0.3)
    stretches = (1.05, 1.2, 1.5, 2.0, 3.0)
    distances = [envelope_distance(decaying(0.3 * s), ref, RATE) for s in stretches]
    assert all(a < b for a, b in itertools.pairwise(distances)), distances
    assert distances[0] > 0.1


def test_louder_partial_gives_a_distance_between_its_two_bounds() -> None:
    # Two partials far apart; ours has the upper one 6 dB louder. After removing
    # the offset, bands around the lower partial differ by |offset| and bands
    # around the upper one by |6.02 - offset|: the mean lies between the two.
    ref = tone(300.0) + tone(6000.0)
    ours = tone(300.0) + tone(6000.0, 2.0)
    offset = 10 * math.log10(2.5)
    distance = spectral_distance(ours, ref, RATE)
    low, high = sorted([offset, abs(20 * math.log10(2.0) - offset)])
    assert low - 0.05 <= distance <= high + 0.05


def test_high_shelf_on_noise_gives_the_computed_distance() -> None:
    # White noise; ours has every component above 4 kHz 6 dB louder. Bands wholly
    # below 4 kHz then differ by the offset, bands wholly above by 6.02 - offset;
    # the one or two bands straddling 4 kHz lie between.
    rng = np.random.default_rng(1)
    ref = rng.standard_normal(N)
    spectrum = np.fft.rfft(ref)
    spectrum[np.fft.rfftfreq(N, 1 / RATE) > 4000.0] *= 2.0
    ours = np.fft.irfft(spectrum, N)
    offset = level_offset_db(ours, ref)
    shelf = 20 * math.log10(2.0)
    edges = band_edges_hz(RATE)
    below = int(np.sum(edges[2:] <= 4000.0))
    above = int(np.sum(edges[:-2] >= 4000.0))
    straddling = 64 - below - above
    base = below * offset + above * (shelf - offset)
    bounds = sorted([offset, shelf - offset])
    low = (base + straddling * bounds[0]) / 64
    high = (base + straddling * bounds[1]) / 64
    assert low - 0.2 <= spectral_distance(ours, ref, RATE) <= high + 0.2


def test_band_edges_run_from_30_hz_to_nyquist_in_64_bands() -> None:
    for rate in (44_100, 48_000):
        edges = band_edges_hz(rate)
        assert len(edges) == 66
        assert edges[0] == pytest.approx(30.0)
        assert edges[-1] == pytest.approx(rate / 2)
        mels = 2595 * np.log10(1 + edges / 700)
        assert np.allclose(np.diff(mels), np.diff(mels)[0])


def test_filterbank_is_64_triangles_each_seeing_a_bin() -> None:
    bank = mel_filterbank(RATE)
    assert bank.shape == (64, 1025)
    assert np.all(bank >= 0.0) and np.all(bank <= 1.0)
    assert np.all((bank > 0).sum(axis=1) >= 2)
    freqs = np.fft.rfftfreq(2048, 1 / RATE)
    edges = band_edges_hz(RATE)
    assert np.all(bank[:, freqs < 30.0] == 0.0)
    peaks = freqs[bank.argmax(axis=1)]
    assert np.all(np.abs(peaks - edges[1:-1]) <= RATE / 2048)


def test_both_silent_is_zero_and_one_silent_is_flagged() -> None:
    silence = np.zeros(N)
    assert compare(silence, silence, RATE) == FidelityResult(0.0, 0.0, 0.0, "both_silent")
    ours_silent = compare(silence, tone(440.0), RATE)
    assert ours_silent.status == "ours_silent" and ours_silent.spectral_db == math.inf
    assert compare(tone(440.0), silence, RATE).status == "ref_silent"


def test_summary_statistics_and_worst_cases() -> None:
    results = [FidelityResult(float(i), 2.0 * i, float(i % 2), "ok") for i in range(10)]
    results.append(FidelityResult(0.0, 0.0, 0.0, "both_silent"))
    summary = summarize(results, [f"v{i}" for i in range(11)], worst=3)
    envelope = [r.envelope_db for r in results]
    assert summary.count == 11
    # Both-silent counts as a perfect match: spectral values 0, 0, 1, ..., 9.
    assert summary.spectral_median_db == 4.0
    assert summary.envelope_p90_db == pytest.approx(np.percentile(envelope, 90))
    assert summary.level_offset_std_db == pytest.approx(0.5)  # ten "ok" offsets 0, 1, 0, 1...
    assert [label for label, _ in summary.worst] == ["v9", "v8", "v7"]
    assert summary.flagged == 0
    assert summary.failures() == [
        "spectral median 4.00 dB exceeds 1.0 dB",
        "spectral p90 8.00 dB exceeds 3.0 dB",
        "envelope median 8.00 dB exceeds 1.0 dB",
        "envelope p90 16.00 dB exceeds 3.0 dB",
    ]


def test_a_flagged_result_makes_the_p90_infinite() -> None:
    silent = FidelityResult(math.inf, math.inf, -math.inf, "ours_silent")
    results = [FidelityResult(0.5, 0.5, 0.0)] * 9 + [silent]
    summary = summarize(results)
    assert summary.flagged == 1
    assert summary.spectral_median_db == 0.5
    assert summary.spectral_p90_db == math.inf
    assert summary.level_offset_std_db == 0.0


def test_targets_met_means_no_failures() -> None:
    results = [FidelityResult(0.2, 0.3, 1.0)] * 5
    assert summarize(results).failures() == []
    assert fidelity.MEDIAN_MAX_DB == 1.0 and fidelity.P90_MAX_DB == 3.0


def test_dexed_against_itself_is_exactly_zero(shared_banks: Path) -> None:
    pytest.importorskip("dexed", reason="dexed-py (the reference engine) installs only on "
                        "Linux x86-64: it has no wheel or source release for this platform")
    vced = bank_vceds(shared_banks / "rom1A.syx")[0]
    first, second = DexedRenderer(), DexedRenderer()
    first.load(vced)
    second.load(vced)
    result = compare(first.render(60, 100), second.render(60, 100), RATE)
    assert result == FidelityResult(0.0, 0.0, 0.0, "ok")
