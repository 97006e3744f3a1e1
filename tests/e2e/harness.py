"""The daemon under test and a JACK client that plays it and records it.

``DaemonProcess`` writes a configuration file the way a user would (dx7d.config
keys), starts ``dx7d run`` as a subprocess and waits for READY=1 on a real
NOTIFY_SOCKET; a reader thread keeps collecting notifications until it stops.
``JackServer`` is a private jackd (dummy backend) a test can freeze, kill and restart.
``Rig`` is a JACK client with one MIDI output (to ``dx7d-in:dx7d``),
one MIDI input (from ``dx7d-in:replies``, for dump replies) and one audio input
(from the daemon's first output port): it sends MIDI at exact JACK frame times and
records every frame it receives with the frame time it arrived at.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jack
import numpy as np
import yaml

DX7D = Path(sys.executable).with_name("dx7d")
READY_TIMEOUT_S = 60.0
RECORD_BUDGET_S = 120.0  # record_without_xruns keeps trying this long
RIG_SWITCH_INTERVAL_S = 0.0005  # the GIL switch interval while a Rig exists
AUDIO_BACKEND: str | None = None  # audio.backend written for every daemon (conftest sets it)


@dataclass
class DaemonProcess:
    """``dx7d run`` with a configuration of its own, in a folder of its own."""

    folder: Path
    settings: dict[str, dict[str, object]] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None
    notifications: list[str] = field(default_factory=list)  # datagrams, in arrival order
    environ: dict[str, str] = field(default_factory=dict)  # added to the daemon's environment
    _reader: threading.Thread | None = field(default=None, repr=False)
    _reader_stop: threading.Event = field(default_factory=threading.Event, repr=False)

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
        if AUDIO_BACKEND is not None:
            config["audio"]["backend"] = AUDIO_BACKEND
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
        sock.settimeout(0.1)
        env = dict(os.environ, NOTIFY_SOCKET=str(notify_path), **self.environ)
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([str(DX7D), "run", "--config", str(self.config_path)],
                                     stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env)
        log.close()
        self._reader_stop.clear()
        self._reader = threading.Thread(target=self._read_notifications, args=(sock,),
                                        name="e2e-notify-reader", daemon=True)
        self._reader.start()
        try:
            self.wait_notification("READY=1", timeout=READY_TIMEOUT_S)
        except BaseException:
            self.kill()
            raise

    def _read_notifications(self, sock: socket.socket) -> None:
        """Reader thread: append every datagram until the socket is drained and either the
        reader is asked to stop or the daemon has exited (it sent all it will send)."""
        with sock:
            while True:
                try:
                    self.notifications.append(sock.recv(4096).decode())
                except TimeoutError:
                    if self._reader_stop.is_set() or (self.proc is not None
                                                      and self.proc.poll() is not None):
                        return

    def _close_reader(self) -> None:
        if self._reader is not None:
            self._reader_stop.set()
            self._reader.join()
            self._reader = None

    def wait_notification(self, line: str, after: int = 0, timeout: float = 10.0) -> int:
        """Wait for a datagram holding ``line`` (a whole ``KEY=VALUE`` line) at index
        ``after`` or later; returns its index in ``notifications``."""
        return self._wait_datagram(lambda lines: line in lines, line, after, timeout)

    def wait_notification_key(self, key: str, after: int = 0, timeout: float = 10.0) -> int:
        """Like :meth:`wait_notification` for any ``key=...`` line (e.g. ``STATUS``)."""
        return self._wait_datagram(lambda lines: any(x.startswith(key + "=") for x in lines),
                                   key + "=...", after, timeout)

    def _wait_datagram(self, match: Callable[[list[str]], bool], line: str, after: int,
                       timeout: float) -> int:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while True:
            for i in range(after, len(self.notifications)):
                if match(self.notifications[i].splitlines()):
                    return i
            if self.proc.poll() is not None:
                raise AssertionError(f"dx7d exited with {self.proc.returncode} before "
                                     f"{line}:\n{self.log()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"dx7d did not send {line} within {timeout} s "
                                     f"(got {self.notifications[after:]}):\n{self.log()}")
            time.sleep(0.02)

    def wait_log(self, text: str, count: int = 1, timeout: float = 10.0) -> str:
        """Wait until ``text`` occurs ``count`` times in the log; returns the log."""
        deadline = time.monotonic() + timeout
        while True:
            log = self.log()
            if log.count(text) >= count:
                return log
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} not logged {count}x within {timeout} s:\n{log}")
            time.sleep(0.05)

    def reload(self, **settings: dict[str, object]) -> int:
        """Rewrite the configuration with ``settings`` merged in, send SIGHUP and wait for
        the READY=1 that ends the reload; returns the index of that datagram."""
        assert self.proc is not None
        for section, values in settings.items():
            self.settings.setdefault(section, {}).update(values)
        self.write_config()
        return self.hup()

    def hup(self) -> int:
        """SIGHUP with the configuration file as it is; waits for RELOADING=1 then READY=1."""
        assert self.proc is not None
        seen = len(self.notifications)
        self.proc.send_signal(signal.SIGHUP)
        reloading = self.wait_notification("RELOADING=1", after=seen)
        return self.wait_notification("READY=1", after=reloading)

    def control(self, path: str = "/status", timeout: float = 5.0) -> Any:
        """GET ``path`` (or a whole URL) from the control interface (control.listen of the
        settings); returns the decoded JSON."""
        url = path if "://" in path else f"http://{self.settings['control']['listen']}{path}"
        with urllib.request.urlopen(url, timeout=timeout) as reply:
            return json.loads(reply.read())

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
        finally:
            self._close_reader()

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()
        self._close_reader()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _jack_answers(name: str) -> bool:
    """True when a JACK server called ``name`` is running now."""
    try:
        client = jack.Client("dx7d-probe", servername=name, no_start_server=True)
    except jack.JackOpenError:
        return False
    client.close()
    return True


class JackServer:
    """A private jackd (dummy backend) that a test may freeze, kill and start again.

    Names are taken from the slots dx7d-lifecycle-0..7 (JACK2's server registry has 8
    entries and frees a dead server's only when one of the same name starts again).
    """

    def __init__(self, rate: int = 48000, period: int = 128) -> None:
        jackd = shutil.which("jackd")
        if jackd is None:
            raise AssertionError("jackd is not installed (./bootstrap.sh test installs jackd2)")
        self.jackd = jackd
        self.rate = rate
        self.period = period
        self.proc: subprocess.Popen[bytes] | None = None
        self._log = tempfile.TemporaryFile()
        self.name = ""
        for slot in range(8):
            name = f"dx7d-lifecycle-{slot}"
            # A server of that name run by someone else (another test run, a bench) would
            # answer our probe: freezing or killing "ours" would then touch nothing.
            if not _jack_answers(name) and self._spawn(name):
                return
        raise AssertionError(f"no private JACK server could start:\n{self.output()}")

    def _spawn(self, name: str) -> bool:
        """Start jackd as ``name``; True once a client can connect to it."""
        self.proc = subprocess.Popen(
            [self.jackd, "--no-realtime", "-n", name, "-d", "dummy", "-r", str(self.rate),
             "-p", str(self.period)],
            stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 15.0
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                client = jack.Client("dx7d-probe", servername=name, no_start_server=True)
            except jack.JackOpenError:
                time.sleep(0.1)
                continue
            client.close()
            self.name = name
            return True
        self.kill()
        raise AssertionError(f"jackd {name} did not answer within 15 s:\n{self.output()}")

    def output(self) -> str:
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-2000:]

    def restart(self) -> None:
        """Start jackd again under the same name (after :meth:`terminate`)."""
        if not self._spawn(self.name):
            raise AssertionError(f"jackd {self.name} did not start again:\n{self.output()}")

    def freeze(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)

    def terminate(self) -> None:
        """SIGTERM, as a user or a crash would end it; waits for the exit."""
        assert self.proc is not None
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.kill()
            self.proc.wait()

    def close(self) -> None:
        self.kill()
        self._log.close()


class CallbackGate:
    """Closes a JACK-Client (Python callback) client without hanging the test process.

    JACK2 may end a client's process thread in jack_deactivate wherever it is; ended
    inside the Python callback, that thread takes the GIL with it and the process hangs
    (seen once: a hotplug test sat 13 min in Rig.close on a machine saturated by other
    work; gdb showed the thread gone and the main thread waiting for the GIL). The
    callback starts with ``if gate.shut(): return``; ``close(client)`` shuts the gate,
    waits until the callback has returned at once twice, then deactivates.
    """

    def __init__(self) -> None:
        self._shut = False
        self._skipped = 0  # callbacks that returned at once since the gate shut

    def shut(self) -> bool:
        """JACK thread: True once closing began (return at once)."""
        if self._shut:
            self._skipped += 1
        return self._shut

    def close(self, client: jack.Client, timeout: float = 1.0) -> None:
        self._shut = True
        deadline = time.monotonic() + timeout
        while self._skipped < 2 and time.monotonic() < deadline:
            time.sleep(0.005)
        client.deactivate()
        client.close()


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
        self.gate = CallbackGate()
        self.client.set_process_callback(self._process)
        self.client.set_xrun_callback(self._on_xrun)
        # the process callback is Python: it must get the GIL from the test's thread within
        # a fraction of the 2.7 ms cycle, not after the default 5 ms switch interval
        self._switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(RIG_SWITCH_INTERVAL_S)

    def _on_xrun(self, _delay_us: float) -> None:
        self.xrun_frames.append(int(self.client.frame_time))

    # -- JACK thread ------------------------------------------------------------------------

    def _process(self, frames: int) -> None:
        if self.gate.shut():
            return
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
                    at, data = self._schedule[0]
                    try:
                        self.midi_out.write_midi_event(max(0, at - now), data)
                    except jack.JackError:  # this cycle's buffer is full: next cycle
                        break
                    self._schedule.pop(0)
            finally:
                self._lock.release()
        for offset, data in self.midi_in.incoming_midi_events():
            self.received.append((now + offset, bytes(data)))

    # -- test side --------------------------------------------------------------------------

    def connect(self, audio_client: str | None = "dx7d") -> None:
        """Connect to the daemon's ports (they must exist); its audio ports are those of
        the JACK client ``audio_client`` or of its MIDI client ``dx7d-in`` (the native
        output plays on it when MIDI is on JACK), or with None of the one client other
        than ``system`` that has audio outputs (whatever name PortAudio gave it)."""
        self.client.activate()
        deadline = time.monotonic() + 10
        while True:
            outs = [p.name for p in self.client.get_ports(is_audio=True, is_output=True)
                    if p.name.split(":")[0] in (audio_client, "dx7d-in")
                    or (audio_client is None and p.name.split(":")[0] != "system")]
            mins = [p.name for p in self.client.get_ports("dx7d-in:", is_midi=True,
                                                          is_input=True)]
            mouts = [p.name for p in self.client.get_ports("dx7d-in:replies", is_midi=True,
                                                           is_output=True)]
            if outs and mins and mouts:
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"daemon ports not found: audio {outs}, midi {mins} "
                                     f"{mouts}; all: {[p.name for p in self.client.get_ports()]}")
            time.sleep(0.1)
        self.client.connect(sorted(outs)[0], self.audio_in)
        # the daemon's own input port: dx7d-in also has one port per source it connected
        self.client.connect(self.midi_out, min(mins, key=lambda n: n != "dx7d-in:dx7d"))
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
        self.gate.close(self.client)
        sys.setswitchinterval(self._switch_interval)


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
        daemon._close_reader()


def record_without_xruns(rig: Rig, play: Callable[[int], int],
                         window: tuple[float, float], budget_s: float = RECORD_BUDGET_S
                         ) -> np.ndarray:
    """Record ``play(start_frame) -> end_frame`` until no xrun fell inside ``window``.

    An xrun (a JACK cycle that some client of this busy, non-real-time server did not
    finish in time) leaves a gap in the recording. Tests that judge the waveform itself
    (clicks, spectra) record again when an xrun hit the part they analyse, ``window``
    = (from, to) in seconds after the start, instead of measuring the machine's load.
    They keep trying for ``budget_s``: with both cores taken by other work this server
    xruns 1-4 times a second (measured), and such bursts can last a minute.
    """
    margin = 2 * rig.client.blocksize
    deadline = time.monotonic() + budget_s
    attempts = 0
    while True:
        attempts += 1
        start = rig.start_recording()
        end = play(start)
        rig.wait_until(end + margin)
        low = start + int(window[0] * rig.rate) - margin
        high = start + int(window[1] * rig.rate) + margin
        if not any(low <= f <= high for f in rig.xrun_frames):
            return rig.recording()
        if time.monotonic() > deadline:
            raise AssertionError(
                f"JACK reported an xrun inside the analysed window in each of {attempts} "
                f"recordings over {budget_s:.0f} s: the machine is too busy to judge the "
                f"waveform")


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


SEND_SPAN_S = 0.25  # a deliver()'s send() puts all its events within this time of its first


def xrun_near(rig: Rig, frame: int) -> bool:
    """True if JACK reported an xrun while events sent from ``frame`` on went out (the
    cycle a client missed loses its MIDI)."""
    margin = 2 * rig.client.blocksize
    return any(frame - margin <= f <= frame + SEND_SPAN_S * rig.rate + margin
               for f in rig.xrun_frames)


def deliver(rig: Rig, what: str, send: Callable[[], int], arrived: Callable[[], bool],
            timeout: float = 10.0, attempts: int = 5) -> None:
    """``send()`` (returns the frame of its first event) and wait until ``arrived()`` (a log
    line, a /status counter: the event, not a time); send again only when an xrun on this
    busy, non-real-time JACK server may have lost the events."""
    for _ in range(attempts):
        at = send()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if arrived():
                return
            time.sleep(0.02)
        if not xrun_near(rig, at):
            raise AssertionError(f"{what}: not seen within {timeout} s, and no xrun")
    raise AssertionError(f"{what}: an xrun hit each of {attempts} attempts")


def logged(daemon: DaemonProcess, text: str, count: int | None = None) -> Callable[[], bool]:
    """A deliver() condition: ``text`` in the log ``count`` times (default: once more than
    it is now)."""
    wanted = daemon.log().count(text) + 1 if count is None else count
    return lambda: daemon.log().count(text) >= wanted
