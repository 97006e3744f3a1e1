"""MIDI hot-plug through JACK: a keyboard that appears after start-up is connected, one that
goes away is dropped, and the daemon plays on."""

from __future__ import annotations

import time
from pathlib import Path

import jack
import pytest
from dx7d.voices import Patch, voice_dump

from .harness import CallbackGate, deliver, logged, rms_db, running_daemon

pytestmark = pytest.mark.e2e

# The scan runs once a second, so a new port is connected within ~1 s (the issue asks for
# 2 s). The waits below are guards against hanging, not speed assertions: the time taken is
# printed (pytest -s), never asserted, on this shared machine.
GUARD_S = 10.0


def test_a_keyboard_plugged_in_later_is_connected_and_played_then_dropped(
        tmp_path: Path, jack_server: str) -> None:
    with running_daemon(tmp_path, jack_server) as (daemon, rig):
        deliver(rig, "the SINE voice", lambda: rig.send(voice_dump(Patch(name="SINE"), 0)),
                logged(daemon, "voice received"))
        keyboard = jack.Client("keyboard", servername=jack_server, no_start_server=True)
        pending: list[bytes] = []
        gate = CallbackGate()

        @keyboard.set_process_callback
        def process(frames: int) -> None:
            if gate.shut():
                return
            port.clear_buffer()
            while pending:
                port.write_midi_event(0, pending.pop(0))

        port = keyboard.midi_outports.register("midi_out")
        keyboard.activate()
        plugged = time.monotonic()
        try:
            daemon.wait_log("MIDI input connected: keyboard:midi_out", timeout=GUARD_S)
            print(f"keyboard connected {time.monotonic() - plugged:.2f} s after it appeared")
            start = rig.start_recording()
            pending.append(bytes([0x90, 69, 100]))
            rig.wait_until(start + rig.rate // 2)
            pending.append(bytes([0x80, 69, 0]))
            rig.wait_until(start + rig.rate)
            played = rig.recording()
        finally:
            gate.close(keyboard)
        daemon.wait_log("MIDI input gone: keyboard:midi_out", timeout=GUARD_S)
        assert rms_db(played[rig.rate // 5 : rig.rate * 2 // 5]) > -30, "the keyboard's note"
        # still playing from the librarian's port after the keyboard went away
        after = rig.record(0.5)
        rig.send([0x90, 60, 100])
        heard = rig.record(0.5)
        rig.send([0x80, 60, 0])
    assert rms_db(after) < -70
    assert rms_db(heard) > -30
