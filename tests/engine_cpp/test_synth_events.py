"""Facade, event queue at frame offsets, voice allocation, sustain and controllers."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from dx7d.engine_cpp import Synth

VcedBuilder = Callable[..., bytes]


def test_note_on_applies_at_its_frame_inside_the_block(vced: VcedBuilder) -> None:
    early, late = Synth(), Synth()
    for synth in (early, late):
        synth.load_patch(vced())
    early.render(256)
    early.note_on(69, 100, frame=256 + 77)
    inside = early.render(512)
    late.render(256 + 77)
    late.note_on(69, 100)
    aligned = late.render(512 - 77)
    assert not inside[:77].any()
    assert np.abs(inside).max() > 0.05
    assert np.array_equal(inside[77:], aligned)


def test_past_frame_applies_at_the_start_of_the_next_block(vced: VcedBuilder) -> None:
    past, now = Synth(), Synth()
    for synth in (past, now):
        synth.load_patch(vced())
        synth.render(320)
    past.note_on(69, 100, frame=5)
    now.note_on(69, 100)
    assert np.array_equal(past.render(256), now.render(256))


def test_event_beyond_the_block_waits(vced: VcedBuilder) -> None:
    waiting, direct = Synth(), Synth()
    for synth in (waiting, direct):
        synth.load_patch(vced())
    waiting.note_on(69, 100, frame=1000)
    assert not waiting.render(512).any()
    direct.render(1000)
    direct.note_on(69, 100)
    assert np.array_equal(waiting.render(1024)[1000 - 512:], direct.render(512 + 24))


def test_a_full_queue_refuses_and_counts() -> None:
    small = Synth(queue_capacity=4)
    results = [small.note_on(60, 100) for _ in range(6)]
    assert results == [True] * 4 + [False] * 2
    assert small.dropped_events == 2
    small.render(64)
    assert small.note_on(61, 100)


def test_render_into_fills_the_given_buffer_without_copy(synth: Synth, vced: VcedBuilder) -> None:
    synth.load_patch(vced())
    synth.note_on(60, 127)
    out = np.zeros(128, dtype=np.float32)
    synth.render_into(out)
    assert np.abs(out).max() > 0.05
    assert np.abs(out).max() <= 1.0


def test_render_into_rejects_wrong_buffers(synth: Synth) -> None:
    with pytest.raises(ValueError, match="float32"):
        synth.render_into(np.zeros(128, dtype=np.float64))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="float32"):
        synth.render_into(np.zeros((2, 128), dtype=np.float32)[:, 0])


def test_single_full_carrier_is_one_eighth_of_full_scale(synth: Synth, vced: VcedBuilder) -> None:
    synth.load_patch(vced(op1_kvs=0))
    synth.note_on(69, 100)
    out = synth.render(48000)
    assert 0.120 < np.abs(out[24000:]).max() < 0.126


def test_polyphony_is_bounded_and_voices_free_after_release(vced: VcedBuilder) -> None:
    synth = Synth(polyphony=4)
    synth.load_patch(vced(op1_r4=99))
    for note in range(60, 66):
        synth.note_on(note, 100)
    synth.render(2048)
    assert synth.sounding_voices == 4
    for note in range(60, 66):
        synth.note_off(note)
    synth.render(9600)
    assert synth.sounding_voices == 0


def test_same_key_restruck_reuses_its_voice(synth: Synth, vced: VcedBuilder) -> None:
    synth.load_patch(vced())
    for _ in range(5):
        synth.note_on(60, 100)
        synth.render(256)
    assert synth.sounding_voices == 1


def test_sustain_holds_released_notes_until_pedal_up(synth: Synth, vced: VcedBuilder) -> None:
    synth.load_patch(vced(op1_r4=99))
    synth.control_change(64, 127)
    synth.note_on(60, 100)
    synth.render(512)
    synth.note_off(60)
    synth.render(9600)
    assert synth.sounding_voices == 1
    synth.control_change(64, 0)
    synth.render(9600)
    assert synth.sounding_voices == 0


def test_all_notes_off_releases_sustained_notes(synth: Synth, vced: VcedBuilder) -> None:
    synth.load_patch(vced(op1_r4=99))
    synth.control_change(64, 127)
    synth.note_on(60, 100)
    synth.note_on(64, 100)
    synth.render(512)
    synth.all_notes_off()
    synth.render(9600)
    assert synth.sounding_voices == 0


def test_all_sound_off_silences_within_a_few_milliseconds(synth: Synth,
                                                           vced: VcedBuilder) -> None:
    synth.load_patch(vced(op1_r4=0, op1_l4=99))  # would hang forever after release
    synth.note_on(60, 100)
    synth.render(1024)
    synth.all_sound_off()
    out = synth.render(480)
    assert not out[240:].any()
    assert synth.sounding_voices == 0


def test_stolen_voice_fades_instead_of_clicking(vced: VcedBuilder) -> None:
    synth = Synth(polyphony=1)
    synth.load_patch(vced())
    synth.note_on(69, 127)
    synth.render(4800)
    synth.note_on(81, 127)
    out = synth.render(960)
    assert np.abs(np.diff(out[:200])).max() < 0.05  # no step larger than the sine's slope
    assert np.abs(out[400:]).max() > 0.1            # the new note plays afterwards


def test_pitch_bend_range_two_raises_two_semitones(synth: Synth, vced: VcedBuilder) -> None:
    synth.load_patch(vced())
    synth.pitch_bend(8191)
    synth.note_on(57, 100)
    out = synth.render(48000)[4800:]
    spectrum = np.abs(np.fft.rfft(out * np.hanning(out.size)))
    peak_hz = np.argmax(spectrum) * 48000 / out.size
    assert abs(peak_hz - 246.94) < 1.5


def test_mod_wheel_adds_vibrato_through_pms(synth: Synth, vced: VcedBuilder) -> None:
    synth.load_patch(vced(pms=7, lfo_speed=70, wave=4))
    synth.note_on(69, 100)
    still = synth.render(9600)
    synth.control_change(1, 127)
    wobble = synth.render(9600)
    crossings = [np.diff(np.flatnonzero(np.diff(np.signbit(x)))) for x in (still, wobble)]
    assert crossings[0][5:].std() < 1.0
    assert crossings[1][5:].std() > 3.0


def test_function_and_voice_parameters_validate_their_ranges(synth: Synth) -> None:
    with pytest.raises(ValueError, match="function parameter"):
        synth.set_function(63, 0)
    with pytest.raises(ValueError, match="voice parameter"):
        synth.voice_parameter(156, 0)
    with pytest.raises(ValueError, match="155 VCED bytes"):
        synth.load_patch(b"\x00" * 100)


def test_operator_switch_mutes_an_operator(synth: Synth, vced: VcedBuilder) -> None:
    synth.load_patch(vced())
    synth.voice_parameter(155, 0b011111)  # bit 5 = OP1 off
    synth.note_on(69, 100)
    assert not synth.render(4800).any()


def test_voice_edit_reaches_a_sounding_note(synth: Synth, vced: VcedBuilder) -> None:
    synth.load_patch(vced())
    synth.note_on(69, 100)
    loud = np.abs(synth.render(4800)).max()
    synth.voice_parameter(5 * 21 + 16, 60)  # OP1 output level 99 -> 60
    synth.render(4800)
    quiet = np.abs(synth.render(4800)).max()
    assert quiet < loud / 10


def test_mono_mode_plays_one_voice(synth: Synth, vced: VcedBuilder) -> None:
    synth.load_patch(vced())
    synth.set_function(64, 1)
    for note in (60, 64, 67):
        synth.note_on(note, 100)
        synth.render(256)
    assert synth.sounding_voices == 1


def test_portamento_glides_between_notes(synth: Synth, vced: VcedBuilder) -> None:
    synth.load_patch(vced())
    synth.control_change(65, 127)
    synth.control_change(5, 90)
    synth.note_on(57, 100)
    synth.render(4800)
    synth.note_off(57)
    synth.note_on(69, 100)
    start = synth.render(2400)
    period = np.diff(np.flatnonzero(np.diff(np.signbit(start))))[:4].mean() * 2
    assert 48000 / period < 400  # still well below 440 Hz right after the new note


def test_note_off_starts_the_release_on_its_frame(vced: VcedBuilder) -> None:
    held, released = Synth(), Synth()
    for synth in (held, released):
        synth.load_patch(vced(op1_r4=60))
        synth.note_on(69, 100)
        synth.render(1000)
    released.note_off(69, frame=1000 + 37)
    a, b = held.render(256), released.render(256)
    assert np.array_equal(a[:37], b[:37])
    differ = np.flatnonzero(a != b)
    assert differ[0] <= 40
    assert np.abs(b[100:]).max() < np.abs(a[100:]).max()


def test_a_new_patch_leaves_sounding_notes_undisturbed(vced: VcedBuilder) -> None:
    swapped, kept = Synth(), Synth()
    for synth in (swapped, kept):
        synth.load_patch(vced())
        synth.note_on(69, 100)
        synth.render(1000)
    swapped.load_patch(vced(op1_coarse=3, alg=1, fb=7))
    assert np.array_equal(swapped.render(2048), kept.render(2048))
    swapped.note_on(72, 100)
    kept.note_on(72, 100)
    assert not np.array_equal(swapped.render(2048), kept.render(2048))


def test_poly_follow_glides_sustained_voices_to_the_new_note(synth: Synth,
                                                              vced: VcedBuilder) -> None:
    synth.load_patch(vced())
    synth.control_change(65, 127)
    synth.control_change(5, 100)
    synth.set_function(67, 1)
    synth.control_change(64, 127)
    synth.note_on(57, 100)
    synth.render(2400)
    synth.note_off(57)
    synth.note_on(57 + 24, 1)  # a very quiet new note; the sustained one follows it
    synth.render(48000)
    tail = synth.render(9600)
    period = np.diff(np.flatnonzero(np.diff(np.signbit(tail)))).mean() * 2
    assert 48000 / period > 600


def test_mono_note_after_all_sound_off_still_plays(synth: Synth, vced: VcedBuilder) -> None:
    synth.load_patch(vced())
    synth.set_function(64, 1)
    synth.note_on(60, 100)
    synth.render(512)
    synth.all_sound_off()
    synth.note_on(64, 100)
    synth.render(4800)
    assert synth.sounding_voices == 1
    assert np.abs(synth.render(480)).max() > 0.05


def test_mono_release_returns_to_the_highest_key_after_an_upward_move(
        synth: Synth, vced: VcedBuilder) -> None:
    synth.load_patch(vced())
    synth.set_function(64, 1)
    for note in (45, 57, 69):  # 110, 220, 440 Hz, moving up
        synth.note_on(note, 100)
        synth.render(1024)
    synth.note_off(69)
    synth.render(2400)
    tail = synth.render(9600)
    period = np.diff(np.flatnonzero(np.diff(np.signbit(tail)))).mean() * 2
    assert abs(48000 / period - 220.0) < 5.0
