"""render_batch: N voices, per-item note and velocity, (N, T) float32, rows = OfflineSynth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from dx7d.engine_cpp import OfflineSynth, render_batch, voices_to_sysex
from dx7d.voices import Patch, Preset


@pytest.fixture(scope="module")
def rom(shared_banks: Path) -> list[Patch]:
    return Patch.load_bank(shared_banks / "rom1A.syx")


def test_rows_equal_one_note_renders(rom: list[Patch]) -> None:
    notes = np.arange(36, 36 + 32)
    velocities = np.linspace(20, 127, 32).astype(int)
    batch = render_batch(rom, notes, velocities, note_duration=0.3, render_duration=0.5)
    assert batch.shape == (32, 22050) and batch.dtype == np.float32
    synth = OfflineSynth()
    for i in (0, 7, 19, 31):
        synth.load_patch(rom[i])
        expected = synth.render(int(notes[i]), int(velocities[i]), 0.3, 0.5)
        assert np.array_equal(batch[i], expected), rom[i].name


def test_array_presets_and_patches_give_the_same_rows(rom: list[Patch]) -> None:
    presets = [p.to_preset() for p in rom[:8]]
    flat = np.stack([p.to_array() for p in presets])
    a = render_batch(flat, 60, 100, 0.2, 0.3)
    b = render_batch(presets, 60, 100, 0.2, 0.3)
    c = render_batch(rom[:8], 60, 100, 0.2, 0.3)
    d = render_batch(voices_to_sysex(rom[:8]), 60, 100, 0.2, 0.3)
    assert np.array_equal(a, b) and np.array_equal(a, c) and np.array_equal(a, d)


def test_one_thread_and_every_core_agree(rom: list[Patch]) -> None:
    every = render_batch(rom, 48, 90, 0.2, 0.4)
    one = render_batch(rom, 48, 90, 0.2, 0.4, threads=1)
    assert np.array_equal(every, one)


def test_normalize_feedback_applies_per_batch() -> None:
    voice = bytearray(Patch().to_sysex())
    voice[134], voice[135] = 31, 7  # algorithm 32, feedback 7
    voice[16] = 99  # OP6 at full level
    plain, normal = (render_batch(np.frombuffer(bytes(voice), np.uint8)[None, :], 60, 100,
                                  0.3, 0.3, normalize_feedback=on) for on in (False, True))
    assert not np.array_equal(plain, normal)
    synth = OfflineSynth(normalize_feedback=True)
    synth.load_patch(bytes(voice))
    assert np.array_equal(normal[0], synth.render(60, 100, 0.3, 0.3))


def test_empty_batch() -> None:
    assert render_batch([], 60, 100, 0.1, 0.2).shape == (0, 8820)


def test_other_sample_rate() -> None:
    out = render_batch([Preset()], 60, 100, 0.1, 0.5, sample_rate=48000)
    assert out.shape == (1, 24000)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"midi_note": [60, 61]}, ValueError, "one per voice"),
        ({"velocity": 128}, ValueError, "velocity must be"),
        ({"midi_note": 60.5}, TypeError, "whole numbers"),
        ({"threads": 0}, ValueError, "threads must be"),
        ({"sample_rate": 100}, ValueError, "sample_rate"),
    ],
)
def test_bad_arguments(kwargs: dict[str, object], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        render_batch([Preset(), Preset(), Preset()], note_duration=0.1, render_duration=0.1,
                     **kwargs)  # type: ignore[arg-type]


def test_bad_voices() -> None:
    with pytest.raises(ValueError, match=r"\(N, 145\)"):
        render_batch(np.zeros((2, 144), np.float32))
    arr = np.stack([Preset().to_array()] * 2)
    arr[1, 3] = 2.0
    with pytest.raises(ValueError, match=r"row \(1,\), element 3 \(lfo_speed"):
        render_batch(arr)
    with pytest.raises(ValueError, match="voice 1"):
        render_batch([Patch(), b"\x00" * 10])


def test_the_gil_is_released_while_rendering(rom: list[Patch]) -> None:
    """With thread switching practically off, the main thread can watch the output fill
    while dx7_batch_render runs only if the call released the GIL (no timing involved:
    with the GIL held, the main thread first runs after the worker has finished)."""
    import sys
    import threading

    from dx7d.engine_cpp import _loader
    from dx7d.engine_cpp._synth import REFERENCE_SCALE

    lib = _loader.load(None)
    handle = lib.dx7_batch_new(44100.0, 1)
    voices = voices_to_sysex(rom * 2)
    n, total = voices.shape[0], 4 * 44100
    notes = np.full(n, 60, dtype=np.int32)
    out = np.zeros((n, total), dtype=np.float32)
    started, done = threading.Event(), threading.Event()

    def work() -> None:
        started.set()
        lib.dx7_batch_render(handle, voices, n, notes, notes, total, total // 2,
                             REFERENCE_SCALE, 0, out, None, 1)
        done.set()

    old = sys.getswitchinterval()
    sys.setswitchinterval(1000.0)
    try:
        worker = threading.Thread(target=work)
        worker.start()
        started.wait()
        while not done.is_set() and not np.any(out[0]):
            pass  # the first voice is being written, by C++, right now
        seen_during_render = not done.is_set()
        worker.join()
    finally:
        sys.setswitchinterval(old)
        lib.dx7_batch_free(handle)
    assert seen_during_render
