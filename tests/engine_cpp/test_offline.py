"""OfflineSynth: dexed-py's DexedSynth call shapes, the same samples as Synth.render_note."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
from dx7d.engine_cpp import OfflineSynth, Synth, note_frames
from dx7d.engine_cpp.fidelity import compare
from dx7d.voices import Patch, Preset

from .conftest import VcedBuilder


@pytest.fixture(scope="module")
def rom(shared_banks: Path) -> list[Patch]:
    return Patch.load_bank(shared_banks / "rom1A.syx")


def test_default_rate_and_shapes(rom: list[Patch]) -> None:
    synth = OfflineSynth()
    assert synth.sample_rate == 44100
    synth.load_patch(rom[0])
    audio = synth.render(midi_note=60, velocity=100, note_duration=1.0, render_duration=1.5)
    assert audio.shape == (66150,) and audio.dtype == np.float32
    assert synth.render().shape == (4 * 44100,)  # dexed-py's defaults: 3 s held, 4 s
    assert synth.render(note_duration=0.5, render_duration=1.0).shape == (44100,)
    assert synth.render_all_ops(midi_note=60).shape == (7, 4 * 44100)


def test_render_equals_synth_render_note(rom: list[Patch]) -> None:
    offline, realtime = OfflineSynth(44100), Synth(sample_rate=44100)
    for i, patch in enumerate(rom[::3]):
        offline.load_patch(patch)
        realtime.load_patch(patch)
        note, velocity = 36 + 5 * i, 40 + 7 * i
        ours = offline.render(note, velocity, note_duration=0.7, render_duration=1.2)
        assert np.array_equal(ours, realtime.render_note(note, velocity, 0.7, 1.2)), patch.name


def test_render_all_ops_rows(rom: list[Patch]) -> None:
    synth = OfflineSynth()
    synth.load_patch(rom[10])
    rows = synth.render_all_ops(midi_note=57, note_duration=0.3, render_duration=0.5)
    assert np.array_equal(rows[6], synth.render(57, 100, 0.3, 0.5))
    realtime = Synth(sample_rate=44100)
    realtime.load_patch(rom[10])
    assert np.array_equal(rows, realtime.render_all_ops(57, 100, 0.3, 0.5))


def test_load_preset_is_load_patch_of_to_patch(rom: list[Patch]) -> None:
    a, b = OfflineSynth(), OfflineSynth()
    preset = rom[4].to_preset()
    a.load_preset(preset)
    b.load_patch(preset.to_patch())
    assert np.array_equal(a.render(render_duration=0.5), b.render(render_duration=0.5))
    a.load_preset(preset.to_array())  # the bare vector too
    assert a.algorithm == rom[4].algorithm


def test_operator_switches_are_kept(vced: VcedBuilder) -> None:
    """Synth.load_patch and OfflineSynth.load_patch honour the on/off mask (parameter 155)."""
    patch = Patch.from_vced(vced())  # OP1 alone sounds
    patch.op[0].enabled = False
    offline, realtime = OfflineSynth(), Synth(sample_rate=44100)
    offline.load_patch(patch)
    realtime.load_patch(patch)
    assert not np.any(offline.render(render_duration=0.3))
    assert not np.any(realtime.render_note(60, 100, 0.3, 0.3))
    patch.op[0].enabled = True
    realtime.load_patch(patch)
    assert np.any(realtime.render_note(60, 100, 0.3, 0.3))


# Levels of the operators on the feedback path (1-based algorithm -> OP6, OP5, OP4), chosen
# so the feedback operator's tone is not buried under full-level modulation.
_PATH_LEVELS = {4: (60, 75, 99), 6: (75, 99, 0), 32: (99, 0, 0), 1: (99, 99, 99),
                5: (99, 99, 0), 31: (99, 99, 0)}


def _feedback_voice(vced: VcedBuilder, algorithm: int) -> bytes:
    """Feedback 7; OP1 silent (it would mask the rest), the feedback path audible."""
    op6, op5, op4 = _PATH_LEVELS[algorithm]
    return vced(alg=algorithm, fb=7, op1_ol=0, op2_ol=99 if algorithm == 1 else 0,
                op3_ol=99, op4_ol=op4, op5_ol=op5, op6_ol=op6)


@pytest.mark.parametrize("algorithm", [4, 6, 32])
def test_normalize_feedback_changes_the_reduced_algorithms(vced: VcedBuilder,
                                                           algorithm: int) -> None:
    synth = OfflineSynth()
    synth.load_patch(_feedback_voice(vced, algorithm))
    plain = synth.render(60, 100, 0.5, 0.5)
    synth.normalize_feedback = True
    normal = synth.render(60, 100, 0.5, 0.5)
    result = compare(normal, plain, 44100)
    assert result.spectral_db > 6.0, result  # heard: 4x more feedback is a brighter tone


@pytest.mark.parametrize("algorithm", [1, 5, 31])
def test_normalize_feedback_leaves_the_others_alone(vced: VcedBuilder, algorithm: int) -> None:
    synth = OfflineSynth()
    synth.load_patch(_feedback_voice(vced, algorithm))
    plain = synth.render(60, 100, 0.5, 0.5)
    synth.normalize_feedback = True
    assert np.any(plain)
    assert np.array_equal(synth.render(60, 100, 0.5, 0.5), plain)


@pytest.mark.parametrize("algorithm", [4, 6, 32])
def test_normalized_feedback_is_two_steps_stronger(vced: VcedBuilder, algorithm: int) -> None:
    """Dexed's reduced feedback is FB - 2 (shift + 2): normalised FB 5 = reduced FB 7."""
    normal, reduced = OfflineSynth(normalize_feedback=True), OfflineSynth()
    voice = bytearray(_feedback_voice(vced, algorithm))
    reduced.load_patch(bytes(voice))
    voice[135] = 5
    normal.load_patch(bytes(voice))
    assert np.array_equal(normal.render(60, 100, 0.5, 0.5), reduced.render(60, 100, 0.5, 0.5))


def test_pickle_keeps_rate_setting_and_voice(rom: list[Patch]) -> None:
    synth = OfflineSynth(48000, normalize_feedback=True)
    synth.load_patch(rom[2])
    twin = pickle.loads(pickle.dumps(synth))
    assert (twin.sample_rate, twin.normalize_feedback, twin.algorithm) == (48000, True, 17)
    assert np.array_equal(twin.render(render_duration=0.4), synth.render(render_duration=0.4))
    assert pickle.loads(pickle.dumps(OfflineSynth())).sample_rate == 44100


def test_errors_are_clear() -> None:
    synth = OfflineSynth()
    with pytest.raises(RuntimeError, match="no voice loaded"):
        synth.render()
    synth.load_preset(Preset())
    with pytest.raises(ValueError, match=r"midi_note must be 0\.\.127"):
        synth.render(midi_note=128)
    with pytest.raises(TypeError, match="velocity must be an int"):
        synth.render(velocity=1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="durations must be >= 0"):
        synth.render(render_duration=-1)
    with pytest.raises(TypeError, match="True or False"):
        synth.normalize_feedback = 1  # type: ignore[assignment]
    with pytest.raises(ValueError, match="sample_rate"):
        OfflineSynth(sample_rate=1000)


def test_note_frames_round_the_key_up_to_a_block() -> None:
    assert note_frames(1.0, 1.5, 44100) == (66150, 44160)
    assert note_frames(2.0, 1.0, 44100) == (44100, 44100)  # key never goes up
    assert note_frames(0.0, 0.0, 44100) == (0, 0)
