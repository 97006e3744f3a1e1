"""The daemon under test and a JACK client that plays it and records it.

``DaemonProcess`` writes a configuration file the way a user would (dx7d.config
keys), starts ``dx7d run`` as a subprocess and waits for READY=1 on a real
NOTIFY_SOCKET. ``Rig`` is a JACK client with one MIDI output (to ``dx7d-in:dx7d``),
one MIDI input (from ``dx7d-out:dx7d``, for dump replies) and one audio input
(from the daemon's first output port): it sends MIDI at exact JACK frame times and
records every frame it receives with the frame time it arrived at.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import jack
import numpy as np
import yaml

DX7D = Path(sys.executable).with_name("dx7d")
READY_TIMEOUT_S = 60.0


@dataclass
class DaemonProcess:
    """``dx7d run`` with a configuration of its own, in a folder of its own."""

    folder: Path
    settings: dict[str, dict[str, object]] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None
    notifications: list[str] = field(default_factory=list)

    @property
    def config_path(self) -> Path:
        return self.folder / "config.yaml"

    @property
    def state_dir(self) -> Path:
        return self.folder / "state"

    @property
    def log_path(self) -> Path:
        return self.folder / "daemon.log"

    def write_config(self) -> None:
        config: dict[str, dict[str, object]] = {
            "audio": {"host_api": "jack"},
            "midi": {"api": "jack"},
            "storage": {"state_dir": str(self.state_dir),
                        "banks_dir": str(self.folder / "banks")},
            "zeroconf": {"enabled": False},
            "log": {"level": "debug"},
        }
        for section, values in self.settings.items():
            config.setdefault(section, {}).update(values)
        self.config_path.write_text(yaml.safe_dump(config))

    def start(self) -> None:
        self.write_config()
        (self.folder / "banks").mkdir(exist_ok=True)
        notify_path = self.folder / "notify.sock"
        notify_path.unlink(missing_ok=True)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(str(notify_path))
        env = dict(os.environ, NOTIFY_SOCKET=str(notify_path))
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([str(DX7D), "run", "--config", str(self.config_path)],
                                     stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env)
        log.close()
        try:
            self._wait_ready(sock)
        finally:
            sock.close()

    def _wait_ready(self, sock: socket.socket) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + READY_TIMEOUT_S
        sock.settimeout(0.2)
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"dx7d exited with {self.proc.returncode}:\n{self.log()}")
            try:
                data = sock.recv(4096).decode()
            except TimeoutError:
                continue
            self.notifications.append(data)
            if "READY=1" in data.splitlines():
                return
        raise AssertionError(f"dx7d did not send READY=1 within {READY_TIMEOUT_S} s:\n"
                             f"{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Send ``sig`` and wait; returns the exit status."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"dx7d did not stop within 10 s:\n{self.log()}") from None

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()


class Rig:
    """A JACK client that sends MIDI to the daemon and records its audio."""

    def __init__(self, server: str, seconds: float = 30.0) -> None:
        self.client = jack.Client("dx7d-e2e", servername=server, no_start_server=True)
        self.rate = self.client.samplerate
        self.midi_out = self.client.midi_outports.register("midi_out")
        self.midi_in = self.client.midi_inports.register("midi_in")
        self.audio_in = self.client.inports.register("audio_in")
        self._audio = np.zeros(int(seconds * self.rate), dtype=np.float32)
        self._start_frame: int | None = None  # JACK frame time of _audio[0]
        self._written = 0
        self._schedule: list[tuple[int, bytes]] = []
        self._lock = threading.Lock()  # test-side only; the process callback never waits
        self.received: list[tuple[int, bytes]] = []
        # JACK frame times of the cycles that missed their deadline (a busy machine)
        self.xrun_frames: list[int] = []
        self.client.set_process_callback(self._process)
        self.client.set_xrun_callback(self._on_xrun)

    def _on_xrun(self, _delay_us: float) -> None:
        self.xrun_frames.append(int(self.client.frame_time))

    # -- JACK thread ------------------------------------------------------------------------

    def _process(self, frames: int) -> None:
        now = self.client.last_frame_time
        if self._start_frame is not None:
            n = min(frames, len(self._audio) - self._written)
            if n > 0:
                self._audio[self._written : self._written + n] = self.audio_in.get_array()[:n]
                self._written += n
        self.midi_out.clear_buffer()
        if self._lock.acquire(blocking=False):
            try:
                while self._schedule and self._schedule[0][0] < now + frames:
                    at, data = self._schedule.pop(0)
                    self.midi_out.write_midi_event(max(0, at - now), data)
            finally:
                self._lock.release()
        for offset, data in self.midi_in.incoming_midi_events():
            self.received.append((now + offset, bytes(data)))

    # -- test side --------------------------------------------------------------------------

    def connect(self) -> None:
        """Connect to the daemon's ports (they must exist)."""
        self.client.activate()
        deadline = time.monotonic() + 10
        while True:
            outs = [p.name for p in self.client.get_ports("dx7d:", is_audio=True,
                                                          is_output=True)]
            mins = [p.name for p in self.client.get_ports("dx7d-in:", is_midi=True,
                                                          is_input=True)]
            mouts = [p.name for p in self.client.get_ports("dx7d-out:", is_midi=True,
                                                           is_output=True)]
            if outs and mins and mouts:
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"daemon ports not found: audio {outs}, midi {mins} "
                                     f"{mouts}; all: {[p.name for p in self.client.get_ports()]}")
            time.sleep(0.1)
        self.client.connect(sorted(outs)[0], self.audio_in)
        self.client.connect(self.midi_out, mins[0])
        self.client.connect(mouts[0], self.midi_in)

    @property
    def frame(self) -> int:
        """The JACK frame time now."""
        return int(self.client.frame_time)

    def start_recording(self) -> int:
        """Start recording from the next cycle; returns the frame time of sample 0."""
        start = self.frame + 2 * self.client.blocksize
        self._written = 0
        self._start_frame = start
        return start

    def send(self, data: bytes | list[int], at: int | None = None) -> int:
        """Send a MIDI message at JACK frame ``at`` (default: next cycle); returns it."""
        when = self.frame + self.client.blocksize if at is None else at
        with self._lock:
            self._schedule.append((when, bytes(data)))
            self._schedule.sort(key=lambda item: item[0])
        return when

    def wait_until(self, frame: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while self.frame < frame:
            if time.monotonic() > deadline:
                raise AssertionError("JACK time did not advance")
            time.sleep(0.005)

    def recording(self) -> np.ndarray:
        """What was recorded since start_recording (a copy)."""
        return self._audio[: self._written].copy()

    def record(self, seconds: float) -> np.ndarray:
        """Record ``seconds`` from now; returns the samples."""
        start = self.start_recording()
        self.wait_until(start + int(seconds * self.rate) + 2 * self.client.blocksize)
        return self.recording()[: int(seconds * self.rate)]

    def close(self) -> None:
        self.client.deactivate()
        self.client.close()


@contextmanager
def running_daemon(folder: Path, server: str, **settings: dict[str, object]
                   ) -> Iterator[tuple[DaemonProcess, Rig]]:
    """A started daemon and a connected rig; both are stopped at the end."""
    daemon = DaemonProcess(folder, dict(settings))
    daemon.start()
    rig = Rig(server)
    try:
        rig.connect()
        yield daemon, rig
    finally:
        rig.close()
        if daemon.proc is not None and daemon.proc.poll() is None:
            status = daemon.stop()
            assert status == 0, f"dx7d exited with {status}:\n{daemon.log()}"


def record_without_xruns(rig: Rig, play: Callable[[int], int],
                         window: tuple[float, float], attempts: int = 8) -> np.ndarray:
    """Record ``play(start_frame) -> end_frame`` until no xrun fell inside ``window``.

    An xrun (a JACK cycle that some client of this busy, non-real-time server did not
    finish in time) leaves a gap in the recording. Tests that judge the waveform itself
    (clicks, spectra) record again when an xrun hit the part they analyse, ``window``
    = (from, to) in seconds after the start, instead of measuring the machine's load.
    """
    margin = 2 * rig.client.blocksize
    for _ in range(attempts):
        start = rig.start_recording()
        end = play(start)
        rig.wait_until(end + margin)
        low = start + int(window[0] * rig.rate) - margin
        high = start + int(window[1] * rig.rate) + margin
        if not any(low <= f <= high for f in rig.xrun_frames):
            return rig.recording()
    raise AssertionError(f"JACK reported an xrun inside the analysed window in each of "
                         f"{attempts} recordings: the machine is too busy to judge the waveform")


def rms_db(samples: np.ndarray) -> float:
    """RMS level in dB relative to full scale (-inf for silence)."""
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    return 20 * np.log10(rms) if rms > 0 else float("-inf")


def pitch_hz(samples: np.ndarray, rate: int) -> float:
    """The fundamental by the autocorrelation peak, refined by parabolic interpolation."""
    x = samples.astype(np.float64) - np.mean(samples)
    n = len(x)
    spectrum = np.fft.rfft(x, 2 * n)
    ac = np.fft.irfft(spectrum * np.conj(spectrum))[:n]
    lo = int(rate / 2000)  # up to 2 kHz
    hi = int(rate / 30)  # down to 30 Hz
    k = lo + int(np.argmax(ac[lo:hi]))
    a, b, c = ac[k - 1], ac[k], ac[k + 1]
    shift = 0.5 * (a - c) / (a - 2 * b + c) if (a - 2 * b + c) != 0 else 0.0
    return rate / (k + shift)
