"""The daemon's lifecycle on real sockets: sd_notify, the audio watchdog, SIGHUP, stopping.

Notifications are read from a real NOTIFY_SOCKET (DaemonProcess keeps a reader thread on
it). The watchdog is asked for the way systemd does it: WATCHDOG_USEC in the environment,
WATCHDOG_PID unset (sd_watchdog_enabled: then it applies to the process itself).

The stall and device-loss tests run the daemon on a JACK server of their own, which they
freeze (SIGSTOP), kill and start again. Those daemons use midi.api alsa: JACK MIDI would
put the daemon's main loop (the MIDI hot-plug scan asks the server for its ports) to
sleep with the frozen server; without an ALSA sequencer, MIDI is simply "not available".
The daemon's liveness is then checked through the control interface.
"""

from __future__ import annotations

import urllib.error
from pathlib import Path

import numpy as np
import pytest

from .harness import DaemonProcess, JackServer, Rig, free_port, rms_db
from .test_daemon import SILENCE_DB, load_voice, sine_voice

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("audio_backend")]

WATCHDOG_ENV = {"WATCHDOG_USEC": "2000000"}


def _private_daemon(folder: Path, jack: JackServer) -> DaemonProcess:
    """A daemon playing on ``jack`` with MIDI on ALSA and a control port of its own."""
    return DaemonProcess(
        folder, {"midi": {"api": "alsa"},
                 "control": {"listen": f"127.0.0.1:{free_port()}"}},
        environ={"JACK_DEFAULT_SERVER": jack.name, "JACK_NO_START_SERVER": "1",
                 **WATCHDOG_ENV})


def _after(daemon: DaemonProcess, index: int, key: str) -> list[str]:
    """The ``key=`` lines of the datagrams from ``index`` on."""
    return [line for datagram in daemon.notifications[index:]
            for line in datagram.splitlines() if line.startswith(key + "=")]


def _wait_ticks(daemon: DaemonProcess, index: int, ticks: int) -> None:
    """Wait for ``ticks`` STATUS= datagrams (one per main-loop tick) after ``index``."""
    for _ in range(ticks):
        index = daemon.wait_notification_key("STATUS", after=index) + 1


def test_notify_sequence_bad_reload_and_a_moved_control_listener(tmp_path: Path,
                                                                 jack_server: str) -> None:
    first, second = free_port(), free_port()
    daemon = DaemonProcess(tmp_path, {"midi": {"channel": 3},
                                      "control": {"listen": f"127.0.0.1:{first}"}},
                           environ=WATCHDOG_ENV)
    daemon.start()
    try:
        ready = daemon.wait_notification("READY=1")
        assert any(line.startswith("STATUS=program 1 ")
                   for line in daemon.notifications[ready].splitlines()), daemon.notifications
        watchdog = daemon.wait_notification("WATCHDOG=1", after=ready)
        status = daemon.wait_notification_key("STATUS", after=ready + 1)
        assert "underflows" in _after(daemon, status, "STATUS")[0]

        # a bad file: refused with its errors, the running configuration stays
        good = daemon.config_path.read_text()
        daemon.config_path.write_text(good.replace("channel: 3", "channel: 17"))
        reloaded = daemon.hup()
        reloading = daemon.wait_notification("RELOADING=1", after=watchdog)
        assert _after(daemon, reloading, "MONOTONIC_USEC")[0].split("=")[1].isdigit()
        log = daemon.wait_log("reload refused")
        assert "midi.channel" in log.split("reload refused", 1)[1]
        assert daemon.control()["midi"]["channel"] == 3

        # a good file moving the control interface: the listener moves
        again = daemon.reload(control={"listen": f"127.0.0.1:{second}"})
        assert again > reloaded
        assert daemon.control()["midi"]["channel"] == 3
        assert "reload: control.listen changed" in daemon.log()
        with pytest.raises(urllib.error.URLError):
            daemon.control(f"http://127.0.0.1:{first}/status")
        seen = len(daemon.notifications)
        assert daemon.stop() == 0, daemon.log()
    finally:
        if daemon.proc is not None and daemon.proc.poll() is None:
            daemon.kill()
    assert _after(daemon, seen, "STOPPING") == ["STOPPING=1"], daemon.notifications[seen:]
    order = [ready, watchdog, reloading, reloaded, again]
    assert order == sorted(order), order


def test_sighup_changes_the_midi_channel_without_dropping_the_audio_stream(
        tmp_path: Path, jack_server: str, audio_backend: str) -> None:
    daemon = DaemonProcess(tmp_path, {"midi": {"channel": 1},
                                      "control": {"listen": f"127.0.0.1:{free_port()}"}})
    daemon.start()
    rig = Rig(jack_server)
    try:
        # any audio client name: PortAudio's JACK client is not always called "dx7d" (see
        # the report: PaJack_SetClientName keeps a pointer to a freed Python bytes object)
        rig.connect(audio_client=None)
        load_voice(rig, sine_voice(), daemon)
        # channel 1: a note on channel 2 is ignored
        start = rig.start_recording()
        rig.send([0x91, 69, 100], at=start)
        rig.send([0x81, 69, 0], at=start + rig.rate // 2)
        rig.wait_until(start + rig.rate // 2)
        ignored = rig.recording()
        # a note held on channel 1 across the reload to channel 2
        callbacks = daemon.control()["audio"]["callbacks"]
        start = rig.start_recording()
        rig.send([0x90, 72, 100], at=start)
        rig.wait_until(start + rig.rate // 2)
        daemon.reload(midi={"channel": 2})
        off_ch1 = rig.send([0x80, 72, 0])  # channel 1 is no longer ours: ignored
        rig.wait_until(off_ch1 + rig.rate // 2)
        off_ch2 = rig.send([0x81, 72, 0])  # releases the note
        rig.wait_until(off_ch2 + rig.rate // 2)
        audio = rig.recording()
        connected = rig.client.get_all_connections(rig.audio_in)
        xruns = [f - start for f in rig.xrun_frames if f >= start]
        after = daemon.control()["audio"]
        log = daemon.log()
        assert daemon.stop() == 0, log
    finally:
        rig.close()
        if daemon.proc is not None and daemon.proc.poll() is None:
            daemon.kill()
    assert _after(daemon, 0, "WATCHDOG") == []  # no WATCHDOG_USEC: systemd asked for none
    assert rms_db(ignored) < SILENCE_DB
    assert "reload: midi.channel changed" in log, log
    assert after["output"] == audio_backend and after["callbacks"] > callbacks
    # a reopened stream would be a new JACK client: the rig's connection would be gone
    assert len(connected) == 1, connected
    held = audio[rig.rate // 10 : off_ch2 - start]
    assert len(held) > 0.8 * rig.rate  # the reload and the ignored note-off are in here
    windows = held[: len(held) // 480 * 480].reshape(-1, 480)  # 10 ms each
    levels = [rms_db(w) for w in windows]
    assert min(levels) > -30, f"the held note dropped to {min(levels):.1f} dB"
    # no gap: no run of near-zero samples a dropped or reopened stream would leave
    quiet = np.abs(held) < 1e-3
    runs = np.diff(np.flatnonzero(np.diff(np.concatenate(([0], quiet, [0])))))[::2]
    gaps = [int(r) for r in runs if r >= 32]
    assert not gaps or xruns, f"gaps of {gaps} samples in the held note (xruns at {xruns})"
    assert rms_db(audio[off_ch2 - start + int(0.3 * rig.rate) :]) < SILENCE_DB


def test_a_stalled_audio_callback_stops_the_watchdog_pings(tmp_path: Path,
                                                           audio_backend: str) -> None:
    jack = JackServer()
    daemon = _private_daemon(tmp_path, jack)
    try:
        daemon.start()
        ready = daemon.wait_notification("READY=1")
        daemon.wait_notification("WATCHDOG=1", after=ready)
        jack.freeze()
        log = daemon.wait_log("audio callback stalled")
        stalled = len(daemon.notifications)
        _wait_ticks(daemon, stalled, 3)
        assert _after(daemon, stalled, "WATCHDOG") == [], daemon.notifications[stalled:]
        assert daemon.control()["audio"]["output"] == audio_backend  # not taken for lost
        assert "lost" not in log
        jack.thaw()
        daemon.wait_log("audio callback running again")
        daemon.wait_notification("WATCHDOG=1", after=stalled)
        assert daemon.stop() == 0, daemon.log()
    finally:
        if daemon.proc is not None and daemon.proc.poll() is None:
            daemon.kill()
        jack.close()


def test_a_lost_audio_device_keeps_the_daemon_running_and_pinging(tmp_path: Path,
                                                                  audio_backend: str) -> None:
    jack = JackServer()
    daemon = _private_daemon(tmp_path, jack)
    try:
        daemon.start()
        assert daemon.control()["audio"]["output"] == audio_backend
        jack.terminate()
        daemon.wait_log("lost (stream stopped")
        lost = len(daemon.notifications)
        daemon.wait_notification("WATCHDOG=1", after=lost)  # the null output keeps it alive
        first = daemon.control()["audio"]
        _wait_ticks(daemon, len(daemon.notifications), 2)  # ticks after the first reading
        second = daemon.control()["audio"]
        assert first["output"] == second["output"] == "null"
        assert second["callbacks"] > first["callbacks"]
        if audio_backend == "pyaudio":
            # PortAudio cannot reopen JACK in this process once the server died (closing
            # the dead stream hangs inside Pa_CloseStream): the daemon says so instead of
            # hanging. Should a PortAudio release make this fail, test as for native below.
            daemon.wait_log("PortAudio did not release the lost stream")
        else:
            # the native output plays on the engine's own JACK client, not PortAudio's:
            # a server that comes back is played on again by the same process
            jack.restart()
            daemon.wait_log("audio device is back")
            index = len(daemon.notifications)
            _wait_ticks(daemon, index, 1)
            audio = daemon.control()["audio"]
            assert audio["output"] == "native" and "JACK" in audio["device"], audio
            assert "PortAudio did not release" not in daemon.log()
        assert daemon.stop() == 0, daemon.log()
    finally:
        if daemon.proc is not None and daemon.proc.poll() is None:
            daemon.kill()
        jack.close()


def test_jack_midi_and_native_audio_come_back_with_a_restarted_server(
        tmp_path: Path, audio_backend: str) -> None:
    """Audio and MIDI on JACK, the server dies and comes back: MIDI reopens its client,
    and the native output (which plays on that client) plays again; PyAudio's cannot."""
    jack = JackServer()
    daemon = DaemonProcess(tmp_path, {"control": {"listen": f"127.0.0.1:{free_port()}"}},
                           environ={"JACK_DEFAULT_SERVER": jack.name,
                                    "JACK_NO_START_SERVER": "1", **WATCHDOG_ENV})
    hosted = "JACK: dx7d-in:out_1/out_2"
    try:
        daemon.start()
        assert (daemon.control()["audio"]["device"] == hosted) == (audio_backend == "native")
        jack.terminate()
        daemon.wait_log("lost (stream stopped")
        jack.restart()
        daemon.wait_log("MIDI (jack): listening on", count=2)
        if audio_backend == "pyaudio":
            daemon.wait_log("PortAudio did not release the lost stream")
        else:
            daemon.wait_log("audio device is back")
            index = len(daemon.notifications)
            _wait_ticks(daemon, index, 1)
            audio = daemon.control()["audio"]
            assert audio["output"] == "native" and audio["device"] == hosted, audio
            daemon.wait_notification("WATCHDOG=1", after=index)
        assert daemon.stop() == 0, daemon.log()
    finally:
        if daemon.proc is not None and daemon.proc.poll() is None:
            daemon.kill()
        jack.close()


def test_an_audio_device_absent_at_start_is_used_once_it_appears(tmp_path: Path,
                                                                 audio_backend: str) -> None:
    jack = JackServer()
    jack.terminate()  # its name is free: the daemon finds no server under it
    daemon = _private_daemon(tmp_path, jack)
    try:
        daemon.start()
        assert daemon.control()["audio"]["output"] == "null"
        assert "playing into a null output" in daemon.log()
        jack.restart()
        daemon.wait_log("audio device is back")
        index = len(daemon.notifications)
        _wait_ticks(daemon, index, 1)
        audio = daemon.control()["audio"]
        assert audio["output"] == audio_backend and "JACK" in audio["device"], audio
        daemon.wait_notification("WATCHDOG=1", after=index)
        assert daemon.stop() == 0, daemon.log()
    finally:
        if daemon.proc is not None and daemon.proc.poll() is None:
            daemon.kill()
        jack.close()
