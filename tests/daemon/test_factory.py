"""The factory cartridge: 32 original voices, each rendered by our engine and measured.

Every voice is played at note 60, velocity 100, held 1 s then released, rendered
3 s with ``Synth.render_note`` (the reference scale: a full-level carrier ~1.0).
"""

from __future__ import annotations

import logging
from importlib import resources
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from dx7d.daemon._factory_design import (
    CATEGORIES,
    FACTORY_PATH,
    OFF,
    VOICES,
    Op,
    Voice,
    build_bank,
    build_patch,
    eg,
)
from dx7d.engine_cpp import Synth
from dx7d.engine_cpp.fidelity import EPSILON, FFT_SIZE, FLOOR_DB, HOP_S, mel_filterbank
from dx7d.voices import BANK_SIZE, Bank

RATE = 48000
HELD_S, RENDER_S = 1.0, 3.0
SILENT_DBFS = -40.0  # held-part RMS must be above this
CLIP = 0.99  # peak must stay below this
TAIL_S, TAIL_DBFS = 0.25, -60.0  # a decaying voice's last 0.25 s must be below this
BALANCE_DB = 6.0  # non-percussion held RMS within this of the median
DISTINCT_DB = 3.0  # any two voices differ by this much in spectrum or envelope
TUNE_CENTS = 10.0
RANGE = ((36, 40), (36, 127), (96, 40), (96, 127))  # (note, velocity) away from the centre
RANGE_SILENT_DBFS = -45.0
TOUCH_DB = 1.5  # velocity 127 louder than velocity 40 by at least this (organs excepted)
SHARED_MAX = 110  # of the 118 packed parameter bytes, at most this many equal to any voice

Audio = npt.NDArray[np.float64]


def _db(x: float) -> float:
    return 20.0 * float(np.log10(max(x, 1e-12)))


def _rms(a: Audio) -> float:
    return float(np.sqrt(np.mean(a * a)))


@pytest.fixture(scope="module")
def synth() -> Synth:
    return Synth(sample_rate=RATE)


@pytest.fixture(scope="module")
def renders(synth: Synth) -> dict[str, Audio]:
    out = {}
    for voice in VOICES:
        synth.load_patch(build_patch(voice))
        audio = synth.render_note(midi_note=60, velocity=100, note_duration=HELD_S,
                                  render_duration=RENDER_S)
        out[voice.name] = np.asarray(audio, dtype=np.float64)
    return out


def _held(audio: Audio) -> Audio:
    return audio[:int(HELD_S * RATE)]


# -- the file ----------------------------------------------------------------------------

def test_committed_file_equals_a_fresh_generation() -> None:
    assert FACTORY_PATH.read_bytes() == build_bank().to_syx(), (
        "daemon/factory.syx is stale: run .venv/bin/python -m dx7d.daemon._factory_design"
    )


def test_file_is_a_clean_32_voice_dump(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="dx7d.voices"):
        bank = Bank.read(FACTORY_PATH)
    assert not caplog.records
    assert bank.report is not None
    assert bank.report.kind == "32-voice dump"
    assert bank.report.clean and bank.report.checksum_ok, bank.report.problems()
    assert len(FACTORY_PATH.read_bytes()) == 4104


def _packaged() -> Bank:
    """The cartridge as the daemon finds it: package data of dx7d.daemon, read strictly."""
    return Bank.from_syx(resources.files("dx7d.daemon").joinpath("factory.syx").read_bytes())


def test_package_data_holds_the_designed_voices() -> None:
    assert _packaged() == build_bank()


def test_writing_twice_gives_the_same_bytes(tmp_path: Path) -> None:
    build_bank().write(tmp_path / "a.syx")
    build_bank().write(tmp_path / "b.syx")
    assert (tmp_path / "a.syx").read_bytes() == (tmp_path / "b.syx").read_bytes()


# -- the design table --------------------------------------------------------------------

def test_32_distinct_names_none_left_at_init() -> None:
    names = [v.name.rstrip() for v in VOICES]
    assert len(VOICES) == BANK_SIZE
    assert len(set(names)) == BANK_SIZE, names
    assert "INIT VOICE" not in names
    assert all(0 < len(n) <= 10 for n in names)
    assert _packaged().names == names


def test_every_category_of_the_issue_is_there() -> None:
    assert {v.category for v in VOICES} == set(CATEGORIES)


def test_voices_are_valid_patches() -> None:
    for voice in VOICES:
        patch = build_patch(voice)
        assert patch.name.rstrip() == voice.name.rstrip()
        assert patch.algorithm == voice.algorithm - 1
        assert any(op.output_level > 0 for op in patch.op), voice.name


def _one_op(op: Op) -> Voice:
    return Voice("T", "lead", 32, 0, (op, OFF, OFF, OFF, OFF, OFF))


@pytest.mark.parametrize(("ratio", "coarse", "fine"),
                         [(0.5, 0, 0), (1.0, 1, 0), (3.5, 2, 75), (1.41, 1, 41), (14.0, 14, 0)])
def test_ratios_become_coarse_and_fine(ratio: float, coarse: int, fine: int) -> None:
    op = build_patch(_one_op(Op(ratio, 99, eg(99, 99, 99, 99, 99, 99, 99, 0)))).op[0]
    assert (op.frequency_mode, op.frequency_coarse, op.frequency_fine) == (0, coarse, fine)


def test_fixed_frequencies_become_coarse_and_fine() -> None:
    op = build_patch(_one_op(Op(1000.0, 99, eg(99, 99, 99, 99, 99, 99, 99, 0), fixed=True))).op[0]
    assert (op.frequency_mode, op.frequency_coarse, op.frequency_fine) == (1, 3, 0)


def test_unreachable_ratio_is_refused() -> None:
    with pytest.raises(ValueError, match="not reachable"):
        build_patch(_one_op(Op(70.0, 99, eg(99, 99, 99, 99, 99, 99, 99, 0))))


# -- the sound ---------------------------------------------------------------------------

_IDS = [v.name.rstrip() for v in VOICES]


@pytest.mark.parametrize("voice", VOICES, ids=_IDS)
def test_sounds_finite_and_not_silent(voice: Voice, renders: dict[str, Audio]) -> None:
    audio = renders[voice.name]
    assert np.all(np.isfinite(audio))
    assert _db(_rms(_held(audio))) > SILENT_DBFS


@pytest.mark.parametrize("voice", VOICES, ids=_IDS)
def test_does_not_clip(voice: Voice, renders: dict[str, Audio]) -> None:
    assert float(np.max(np.abs(renders[voice.name]))) < CLIP


@pytest.mark.parametrize("voice", [v for v in VOICES if v.decays],
                         ids=[v.name.rstrip() for v in VOICES if v.decays])
def test_falls_silent_after_release(voice: Voice, renders: dict[str, Audio]) -> None:
    tail = renders[voice.name][-int(TAIL_S * RATE):]
    assert _db(_rms(tail)) < TAIL_DBFS


@pytest.mark.parametrize("voice", [v for v in VOICES if not v.decays],
                         ids=[v.name.rstrip() for v in VOICES if not v.decays])
def test_long_release_voices_still_fade(voice: Voice, renders: dict[str, Audio]) -> None:
    audio = renders[voice.name]
    tail = audio[-int(TAIL_S * RATE):]
    assert _db(_rms(tail)) < _db(_rms(_held(audio))) - 20.0


def test_levels_are_balanced(renders: dict[str, Audio]) -> None:
    levels = {v.name: _db(_rms(_held(renders[v.name])))
              for v in VOICES if v.category != "percussion"}
    median = float(np.median(list(levels.values())))
    off = {n: round(x - median, 1) for n, x in levels.items() if abs(x - median) > BALANCE_DB}
    assert not off, f"held RMS away from the median {median:.1f} dBFS: {off}"


def _note_rms_peak(synth: Synth, voice: Voice, note: int, velocity: int) -> tuple[float, float]:
    synth.load_patch(build_patch(voice))
    audio = np.asarray(synth.render_note(midi_note=note, velocity=velocity, note_duration=HELD_S,
                                         render_duration=HELD_S), dtype=np.float64)
    assert np.all(np.isfinite(audio))
    return _db(_rms(audio)), float(np.max(np.abs(audio)))


@pytest.mark.parametrize("voice", VOICES, ids=_IDS)
def test_usable_across_keyboard_and_velocity(voice: Voice, synth: Synth) -> None:
    """Notes 36 and 96 at velocities 40 and 127 sound and stay below clipping too."""
    for note, velocity in RANGE:
        rms, peak = _note_rms_peak(synth, voice, note, velocity)
        assert rms > RANGE_SILENT_DBFS, f"note {note} velocity {velocity}: {rms:.1f} dBFS"
        assert peak < CLIP, f"note {note} velocity {velocity}: peak {peak:.3f}"


@pytest.mark.parametrize("voice", [v for v in VOICES if v.category != "organ"],
                         ids=[v.name.rstrip() for v in VOICES if v.category != "organ"])
def test_responds_to_velocity(voice: Voice, synth: Synth) -> None:
    soft, _ = _note_rms_peak(synth, voice, 60, 40)
    hard, _ = _note_rms_peak(synth, voice, 60, 127)
    assert hard - soft >= TOUCH_DB, f"velocity 40: {soft:.1f} dBFS, 127: {hard:.1f} dBFS"


def _strongest_partial_hz(audio: Audio) -> float:
    seg = audio[int(0.1 * RATE):int(0.1 * RATE) + 16384]
    spectrum = np.abs(np.fft.rfft(seg * np.hanning(len(seg)), 8 * len(seg)))
    freqs = np.fft.rfftfreq(8 * len(seg), 1.0 / RATE)
    spectrum[freqs < 40.0] = 0.0
    return float(freqs[int(np.argmax(spectrum))])


@pytest.mark.parametrize("voice", [v for v in VOICES if v.category not in ("bell", "percussion")],
                         ids=[v.name.rstrip() for v in VOICES
                              if v.category not in ("bell", "percussion")])
def test_pitched_voices_are_in_tune(voice: Voice, renders: dict[str, Audio]) -> None:
    """The strongest partial of note 60 is a harmonic of C3 (130.81 Hz)."""
    hz = _strongest_partial_hz(renders[voice.name])
    harmonic = max(1, round(hz / 130.8128))
    cents = 1200.0 * np.log2(hz / (harmonic * 130.8128))
    assert abs(cents) < TUNE_CENTS, f"{hz:.1f} Hz"


class _Features:
    """One render's long-term mel spectrum and 10 ms RMS frames (dB), as in fidelity.py."""

    def __init__(self, audio: Audio) -> None:
        hop = round(HOP_S * RATE)
        frames = 1 + -(-(len(audio) - FFT_SIZE) // hop)
        padded = np.zeros((frames - 1) * hop + FFT_SIZE)
        padded[:len(audio)] = audio
        index = np.arange(FFT_SIZE)[None, :] + hop * np.arange(frames)[:, None]
        power = np.abs(np.fft.rfft(padded[index] * np.hanning(FFT_SIZE + 1)[:-1])) ** 2
        self.bands = 10.0 * np.log10(mel_filterbank(RATE) @ power.mean(axis=0) + EPSILON)
        rms = np.sqrt(np.mean(audio[:len(audio) // hop * hop].reshape(-1, hop) ** 2, axis=1))
        self.frames = 20.0 * np.log10(rms + EPSILON)
        self.level = 10.0 * np.log10(np.mean(audio * audio))


def _distance(ours: _Features, ref: _Features) -> float:
    """The larger of the spectral and envelope distances of fidelity.py (mean |dB|
    after removing the level offset, floored 60 dB below the reference's peak)."""
    offset = ours.level - ref.level
    out = []
    for a, b in ((ours.bands, ref.bands), (ours.frames, ref.frames)):
        floor = b.max() - FLOOR_DB
        a, b = np.maximum(a - offset, floor), np.maximum(b, floor)
        used = (a > floor) | (b > floor)
        out.append(float(np.mean(np.abs(a[used] - b[used]))))
    return max(out)


def test_voices_are_pairwise_distinct(renders: dict[str, Audio]) -> None:
    """Spectrum or loudness envelope: every pair differs by more than DISTINCT_DB."""
    features = {name: _Features(audio) for name, audio in renders.items()}
    close = []
    for i, a in enumerate(VOICES):
        for b in VOICES[i + 1:]:
            fa, fb = features[a.name], features[b.name]
            d = min(_distance(fa, fb), _distance(fb, fa))
            if d <= DISTINCT_DB:
                close.append(f"{a.name.rstrip()} ~ {b.name.rstrip()} ({d:.1f} dB)")
    assert not close, close


def _library_voices(root: Path) -> npt.NDArray[np.uint8]:
    """Packed parameter bytes (0-117, the name left out) of every 32-voice dump under root."""
    rows = []
    for path in sorted(root.rglob("*")):
        if path.suffix.lower() != ".syx":
            continue
        data = path.read_bytes()
        start = data.find(b"\xf0\x43")
        while start >= 0:
            payload = data[start + 6:start + 6 + 4096]
            if data[start + 3:start + 4] == b"\x09" and len(payload) == 4096:
                rows.append(np.frombuffer(payload, dtype=np.uint8).reshape(32, 128)[:, :118])
            start = data.find(b"\xf0\x43", start + 1)
    return np.concatenate(rows)


def test_voices_are_not_copied_from_rom_or_library(shared_banks: Path) -> None:
    """No factory voice equals, or is a light edit of, any voice in rom1A or the library."""
    library = _library_voices(shared_banks)
    assert len(library) > 32 * 1000  # rom1A, startup and the ~3,000 library cartridges
    ours = np.frombuffer(build_bank().to_vmem(), dtype=np.uint8).reshape(32, 128)[:, :118]
    for voice, packed in zip(VOICES, ours, strict=True):
        shared = int((library == packed).sum(axis=1).max())
        assert shared <= SHARED_MAX, f"{voice.name.rstrip()}: {shared} of 118 bytes shared"
