"""The real daemon through a real JACK server: MIDI in, audio out, recorded and analysed.

Each test starts `dx7d run` as a subprocess with a configuration file in a temporary
folder (audio.host_api jack, midi.api jack, its own state and banks folders,
zeroconf off), connects a JACK client to its ports, plays it and records it.
"""

from __future__ import annotations

import signal
from pathlib import Path

import numpy as np
import pytest
from dx7d.voices import Bank, Patch, bank_dump, dump_request, voice_dump

from .harness import (
    DaemonProcess,
    Rig,
    deliver,
    logged,
    pitch_hz,
    record_without_xruns,
    rms_db,
    running_daemon,
)

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("audio_backend")]

SILENCE_DB = -70.0  # below this a recording counts as silent
BLOCK_S = 0.02


def sine_voice(name: str = "SINE", velocity_sensitivity: int = 0) -> Patch:
    """INIT VOICE: OP1 alone, ratio 1.00, full level; instant attack and release."""
    patch = Patch(name=name)
    patch.op[0].velocity_sensitivity = velocity_sensitivity
    return patch


def bright_voice(name: str = "BRIGHT") -> Patch:
    """OP2 (ratio 3) modulating OP1 hard: a bright, rich tone."""
    patch = Patch(name=name)
    patch.op[1].output_level = 90
    patch.op[1].frequency_coarse = 3
    return patch


def load_voice(rig: Rig, patch: Patch, daemon: DaemonProcess) -> None:
    """Send ``patch`` as a single-voice dump; returns once the daemon logged it."""
    deliver(rig, f"voice {patch.name.strip()}", lambda: rig.send(voice_dump(patch, 0)),
            logged(daemon, "voice received"))


def test_a_note_plays_the_right_pitch_and_is_silent_after_release(
        tmp_path: Path, jack_server: str) -> None:
    with running_daemon(tmp_path, jack_server) as (daemon, rig):
        load_voice(rig, sine_voice(), daemon)
        start = rig.start_recording()
        rig.send([0x90, 69, 100], at=start + rig.rate // 10)
        rig.send([0x80, 69, 0], at=start + rig.rate)
        rig.wait_until(start + int(1.6 * rig.rate))
        audio = rig.recording()
    held = audio[int(0.3 * rig.rate) : int(0.9 * rig.rate)]
    cents = 1200 * np.log2(pitch_hz(held, rig.rate) / 440.0)
    assert abs(cents) < 5, f"A4 played {cents:+.1f} cents off"
    assert rms_db(held) > -30
    assert rms_db(audio[int(1.3 * rig.rate) :]) < SILENCE_DB


def test_velocity_changes_the_level(tmp_path: Path, jack_server: str) -> None:
    with running_daemon(tmp_path, jack_server) as (daemon, rig):
        load_voice(rig, sine_voice(velocity_sensitivity=7), daemon)
        levels = []
        for velocity in (40, 127):
            start = rig.start_recording()
            rig.send([0x90, 60, velocity], at=start)
            rig.send([0x80, 60, 0], at=start + rig.rate // 2)
            rig.wait_until(start + rig.rate)
            levels.append(rms_db(rig.recording()[rig.rate // 10 : rig.rate * 4 // 10]))
    soft, loud = levels
    assert loud - soft > 10, f"velocity 40 -> {soft:.1f} dB, 127 -> {loud:.1f} dB"


def test_sixteen_notes_sound_and_a_seventeenth_steals_without_a_click(
        tmp_path: Path, jack_server: str) -> None:
    notes = list(range(36, 52))  # low notes: sample-to-sample steps stay small

    def play(start: int) -> int:
        for i, note in enumerate(notes):
            rig.send([0x90, note, 100], at=start + i * 64)
        rig.send([0x90, 52, 100], at=start + rig.rate)
        for note in [*notes, 52]:
            rig.send([0x80, note, 0], at=start + int(1.5 * rig.rate))
        return start + int(1.7 * rig.rate)

    with running_daemon(tmp_path, jack_server) as (daemon, rig):
        load_voice(rig, sine_voice(), daemon)
        audio = record_without_xruns(rig, play, window=(0.5, 1.2))
    chord = audio[int(0.5 * rig.rate) : int(0.95 * rig.rate)]
    # Sixteen equal sines summed: their RMS is 4x (12 dB) one sine's.
    assert rms_db(chord) > -30
    steps = np.abs(np.diff(audio))
    steady = float(np.max(steps[int(0.5 * rig.rate) : int(0.95 * rig.rate)]))
    around = float(np.max(steps[int(0.97 * rig.rate) : int(1.2 * rig.rate)]))
    # One voice here is a sine of amplitude 0.125 (one full carrier at the engine's real-time
    # level). Cut dead, it would jump by its instantaneous value: 0.08 on average, up to 0.125.
    # Measured offline: the steady chord's largest step 0.013, the new note's own fast attack
    # 0.022 even without stealing. 0.05 tells a cut (at most phases) from an attack.
    assert steady < 0.03, f"the steady chord already steps by {steady:.4f}"
    assert around < 0.05, (
        f"stealing made a step of {around:.4f} against {steady:.4f} in the steady chord")
    # After the steal the 17th note (E3, 164.8 Hz) sounds and one of the sixteen has given
    # way (which one is the engine's policy, tested in tests/engine_cpp; a retried recording
    # starts from a different allocation state). A held note's bin is ~0.9 of the peak; a
    # gone one keeps < 0.1 of leakage from its neighbours (measured offline: 0.07).
    after = audio[int(1.1 * rig.rate) : int(1.5 * rig.rate)]
    spectrum = np.abs(np.fft.rfft(after * np.hanning(len(after))))
    freqs = np.fft.rfftfreq(len(after), 1 / rig.rate)

    def level(hz: float) -> float:
        return float(spectrum[np.argmin(np.abs(freqs - hz))])

    assert level(164.81) > 0.3 * spectrum.max()
    chord_levels = [level(440 * 2 ** ((n - 69) / 12)) for n in notes]
    assert min(chord_levels) < 0.25 * spectrum.max(), "no voice gave way to the 17th note"


def test_the_sustain_pedal_holds_notes_until_it_is_released(
        tmp_path: Path, jack_server: str) -> None:
    def play(start: int) -> int:
        rig.send([0xB0, 64, 127], at=start)
        rig.send([0x90, 60, 100], at=start + 100)
        rig.send([0x80, 60, 0], at=start + rig.rate // 5)
        rig.send([0xB0, 64, 0], at=start + rig.rate)
        return start + int(1.5 * rig.rate)

    with running_daemon(tmp_path, jack_server) as (daemon, rig):
        load_voice(rig, sine_voice(), daemon)
        # An xrun while the rig sends loses that cycle's MIDI (seen: the pedal and the note
        # both gone, a silent recording), so a take with an xrun is played again.
        audio = record_without_xruns(rig, play, window=(0.0, 1.5))
    assert rms_db(audio[int(0.5 * rig.rate) : int(0.95 * rig.rate)]) > -30
    assert rms_db(audio[int(1.2 * rig.rate) :]) < SILENCE_DB


def test_program_change_switches_the_sound(tmp_path: Path, jack_server: str) -> None:
    bank = Bank.init()
    bank[0] = sine_voice("SINE")
    bank[1] = bright_voice("BRIGHT")
    with running_daemon(tmp_path, jack_server) as (daemon, rig):
        deliver(rig, "the cartridge", lambda: rig.send(bank_dump(bank, 0)),
                logged(daemon, "cartridge received and stored"))
        centroids = []
        for program in (0, 1):
            deliver(rig, f"program {program + 1}", lambda p=program: rig.send([0xC0, p]),
                    logged(daemon, f"program {program + 1} of bank 0"))
            start = rig.start_recording() + rig.rate // 10
            rig.send([0x90, 60, 100], at=start)
            rig.send([0x80, 60, 0], at=start + rig.rate // 2)
            rig.wait_until(start + rig.rate)
            held = rig.recording()[rig.rate // 5 : rig.rate // 2]
            power = np.abs(np.fft.rfft(held * np.hanning(len(held)))) ** 2
            freqs = np.fft.rfftfreq(len(held), 1 / rig.rate)
            centroids.append(float(np.sum(freqs * power) / np.sum(power)))
    assert centroids[0] < 400 < 2 * centroids[0] < centroids[1], centroids


def test_a_cartridge_dump_is_stored_survives_a_restart_and_is_returned_on_request(
        tmp_path: Path, jack_server: str, shared_banks: Path) -> None:
    rom = Bank.read(shared_banks / "rom1A.syx")
    with running_daemon(tmp_path, jack_server) as (daemon, rig):
        deliver(rig, "ROM 1A", lambda: rig.send(bank_dump(rom, 0)),
                logged(daemon, "cartridge received and stored"))
        stored = daemon.state_dir / "cartridge.syx"
        assert stored.read_bytes() == rom.to_syx()
    with running_daemon(tmp_path, jack_server) as (daemon, rig):
        def replies() -> list[bytes]:
            return [data for _, data in rig.received if data[:1] == b"\xf0"]

        deliver(rig, "the dump reply", lambda: rig.send(dump_request(9, 0)),
                lambda: bool(replies()))
        assert replies()[-1] == rom.to_syx()
        # program 8 of ROM 1A (PIANO 1, oscillator key sync on, so every note starts at the
        # same phases) sounds like the offline render of the same voice
        from dx7d.engine_cpp import Synth
        from dx7d.engine_cpp.fidelity import spectral_distance

        deliver(rig, "program 8", lambda: rig.send([0xC0, 7]),
                logged(daemon, "program 8 of bank"))

        def play(start: int) -> int:
            rig.send([0x90, 60, 100], at=start + rig.rate // 10)
            rig.send([0x80, 60, 0], at=start + rig.rate // 10 + rig.rate)
            return start + int(1.7 * rig.rate)

        recorded = record_without_xruns(rig, play, window=(0.0, 1.7))
        onset = int(np.flatnonzero(np.abs(recorded) > 1e-5)[0])
        live = recorded[onset:][: int(1.5 * rig.rate)]
    synth = Synth(sample_rate=rig.rate)
    synth.load_patch(rom[7])
    reference = synth.render_note(midi_note=60, velocity=100, note_duration=1.0,
                                  render_duration=1.5)
    distance = spectral_distance(live, reference, rig.rate)
    assert distance <= 1.0, f"live vs offline spectral distance {distance:.2f} dB"


def test_kill_9_right_after_a_dump_leaves_the_old_or_the_new_cartridge(
        tmp_path: Path, jack_server: str) -> None:
    old, new = Bank.init(), Bank.init()
    for i in range(32):
        new[i].name = f"NEW {i:02d}"
    with running_daemon(tmp_path, jack_server) as (daemon, rig):
        deliver(rig, "the old cartridge", lambda: rig.send(bank_dump(old, 0)),
                logged(daemon, "cartridge received and stored"))
        rig.send(bank_dump(new, 0))
        rig.wait_until(rig.frame + rig.client.blocksize * 3)
        daemon.kill()
    stored = (tmp_path / "state" / "cartridge.syx").read_bytes()
    assert stored in (old.to_syx(), new.to_syx())
    with running_daemon(tmp_path, jack_server) as (daemon, rig):
        assert daemon.proc is not None and daemon.proc.poll() is None


def _bad_sysex(good: bytes) -> dict[str, bytes]:
    bad_checksum = bytearray(good)
    bad_checksum[-2] ^= 0x01
    return {
        "bad checksum": bytes(bad_checksum),
        "truncated": good[:2000] + b"\xf7",
        "other manufacturer": b"\xf0\x41" + good[2:],
        "wrong byte count": good[:4] + b"\x10\x00" + good[6:],
        "unknown format": good[:3] + b"\x05" + good[4:],
        "missing F7 (next message starts)": good[:-1] + b"\xf0",
    }


def _refusals(daemon: DaemonProcess) -> int:
    """Sysex refused by the dispatcher, plus broken ones the MIDI parser dropped."""
    log = daemon.log()
    return log.count("sysex refused") + log.count("with no F7 dropped")


def _sounding(rig: Rig) -> bool:
    """The last 50 ms the rig recorded are above -30 dBFS."""
    tail = rig.recording()[-rig.rate // 20 :]
    return len(tail) == rig.rate // 20 and rms_db(tail) > -30


def test_bad_sysex_changes_nothing_and_the_audio_keeps_running(
        tmp_path: Path, jack_server: str) -> None:
    stored_bank = Bank.init()
    for i in range(32):
        stored_bank[i].name = f"KEEP {i:02d}"
    other = Bank.init()
    with running_daemon(tmp_path, jack_server) as (daemon, rig):
        # wait for the event (the log line), not a time: 0.5 s was not enough on a fresh
        # clone (issue 14, finding 10)
        deliver(rig, "the cartridge", lambda: rig.send(bank_dump(stored_bank, 0)),
                logged(daemon, "cartridge received and stored"))
        before = (daemon.state_dir / "cartridge.syx").read_bytes()
        assert before == stored_bank.to_syx()
        load_voice(rig, sine_voice(), daemon)
        rig.start_recording()
        # the held note sounds (an xrun may lose a note-on: then it is sent again)
        deliver(rig, "the held note", lambda: rig.send([0x90, 69, 100]), lambda: _sounding(rig))
        for kind, message in _bad_sysex(bank_dump(other, 0)).items():
            refused = _refusals(daemon)
            deliver(rig, kind, lambda m=message: rig.send(m),  # type: ignore[misc]
                    lambda r=refused: _refusals(daemon) > r)  # type: ignore[misc]
            assert (daemon.state_dir / "cartridge.syx").read_bytes() == before, kind
        # after them all, the note still sounds: nothing reset the engine or stopped audio
        audio = record_without_xruns(rig, lambda start: start + int(0.5 * rig.rate),
                                     window=(0.0, 0.5))
        rig.send([0x80, 69, 0])
        log = daemon.log()
    assert rms_db(audio[: int(0.5 * rig.rate)]) > -30
    assert log.count("sysex refused") >= 5, log


def test_active_sensing_timeout_releases_every_note(tmp_path: Path, jack_server: str) -> None:
    with running_daemon(tmp_path, jack_server) as (daemon, rig):
        load_voice(rig, sine_voice(), daemon)
        start = rig.start_recording()
        rig.send([0xB0, 64, 127], at=start)  # held by the pedal too
        for i, note in enumerate((60, 64, 67)):
            rig.send([0x90, note, 100], at=start + i)
        for k in range(5):  # active sensing every 80 ms, then the cable is "pulled"
            rig.send([0xFE], at=start + int(k * 0.08 * rig.rate))
        rig.wait_until(start + int(1.5 * rig.rate))
        audio = rig.recording()
    assert rms_db(audio[int(0.1 * rig.rate) : int(0.35 * rig.rate)]) > -30
    assert rms_db(audio[int(1.0 * rig.rate) :]) < SILENCE_DB


def test_all_notes_off_releases_sustained_notes(tmp_path: Path, jack_server: str) -> None:
    with running_daemon(tmp_path, jack_server) as (daemon, rig):
        load_voice(rig, sine_voice(), daemon)
        start = rig.start_recording()
        rig.send([0xB0, 64, 127], at=start)
        rig.send([0x90, 60, 100], at=start + 1)
        rig.send([0x80, 60, 0], at=start + rig.rate // 10)
        rig.send([0xB0, 123, 0], at=start + rig.rate // 2)
        rig.wait_until(start + int(1.2 * rig.rate))
        audio = rig.recording()
    assert rms_db(audio[int(0.2 * rig.rate) : int(0.45 * rig.rate)]) > -30
    assert rms_db(audio[int(0.9 * rig.rate) :]) < SILENCE_DB


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_ends_the_daemon_with_status_0(tmp_path: Path, jack_server: str,
                                                     sig: int) -> None:
    daemon = DaemonProcess(tmp_path)
    daemon.start()
    assert daemon.stop(sig) == 0, daemon.log()
    assert "stopped" in daemon.log()
