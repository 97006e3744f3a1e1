"""The daemon's figures through a real JACK server: latency, CPU share, a MIDI flood.

    .venv/bin/python bench/daemon.py [--minutes 5] [--quick] [--periods 128 [256]]
                                     [--backends native pyaudio]

For each buffer size under test (default 128 frames) it starts a JACK server of its
own (dummy backend, 48 kHz, period = the buffer size, ``--no-realtime``) and then
runs the baseline once and steps 1-4 once per audio backend (audio.backend native,
then pyaudio), each with a daemon of its own, one after the other on the same server:

  0. baseline: the bench's JACK client alone on the idle server (no daemon), running
     the same flood callback into an unconnected port for as long as the flood lasts;
     the xruns it sees are the environment's (a shared, non-real-time machine); and the
     CPU floor: one idle JACK client in C++ (the engine's JACK MIDI client with no events,
     in a process of its own), what being woken every JACK cycle costs any client here;
  1. start-up: the median time from ``dx7d run`` to READY=1 over 3 start-stop cycles per
     engine.loader (cppyy JIT; compiled, its library from the cache); then starts
     ``dx7d run`` for the measurements, timed too (audio.host_api jack, midi.api jack,
     audio.buffer_frames = the period, state in a temporary folder, zeroconf off,
     control interface on a free loopback port) and connects the bench client to it;
  2. latency and jitter: a sine voice (INIT VOICE: OP1 alone) by single-voice dump,
     then 50 note-ons at known JACK frames (0.1 s apart, each at a different offset
     inside its JACK cycle) with note-offs; the onset of each is the first recorded
     sample above ONSET_THRESHOLD after the event; latency = onset - event, in frames;
  3. CPU share: the daemon's utime + stime (/proc/<pid>/stat) over wall time, as a %
     of one core, idle and with 16 notes of a sustaining rom1A voice held (jackd's
     own share beside it);
  4. flood: 1,000 note-ons per second (each with its note-off HOLD_S later, so 2,000
     MIDI messages per second, several per JACK cycle) over notes 36-83, and a
     4104-byte cartridge dump every 5 s; daemon underflows, overruns, max callback
     time and the p99.9 of the callback times during the flood (GET /status before and
     after: the difference of its callback histograms), engine dropped events, sysex accepted
     against dumps sent, the xruns the bench's client saw, and whether the daemon
     stayed up.

Then one table with a column per buffer size and backend, and the machine's load
(all CPUs busy, in cores) during the baseline and each flood. See bench/README.md for
how to read it.
Nothing here asserts anything: it prints what it measured.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jack
import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "e2e"))
from dx7d.voices import Bank, Patch, bank_dump, voice_dump  # noqa: E402
from harness import CallbackGate, DaemonProcess  # noqa: E402  (tests/e2e/harness.py: the e2e tests' daemon)

BANKS = REPO.parent / "shared" / "banks"
RATE = 48000
LATENCY_NOTES = 50
LATENCY_SPACING_S = 0.1  # between note-ons; each note-off comes half-way
LATENCY_NOTE = 81  # A5: a fast-rising sine, so the onset is found within a few samples
ONSET_THRESHOLD = 1e-3  # |sample| above this is "sounding" (the engine's silence is 0.0)
CPU_VOICE = "E.ORGAN 1"  # sustains at full level as long as the keys are held
CHORD = [36 + 3 * i for i in range(16)]  # 16 held notes, 36..81
FLOOD_NOTES_PER_S = 1000
FLOOD_LOW, FLOOD_SPAN = 36, 48  # notes 36..83, stepped by 7 (a note repeats every 48 ms)
HOLD_S = 0.015  # each flood note sounds 15 ms: ~15 voices busy, stealing now and then
DUMP_EVERY_S = 5.0
VELOCITY = 100


# -- the JACK server ------------------------------------------------------------------------

@dataclass
class JackServer:
    """``jackd --no-realtime -d dummy`` under the first free name dx7d-bench-0..7."""

    period: int
    name: str = ""
    proc: subprocess.Popen[bytes] | None = None
    log: Any = None

    def start(self) -> None:
        jackd = shutil.which("jackd")
        if jackd is None:
            raise SystemExit("jackd is not installed (./bootstrap.sh test installs jackd2)")
        failures = []
        for slot in range(8):
            name = f"dx7d-bench-{slot}"
            log = tempfile.TemporaryFile()
            proc = subprocess.Popen(
                [jackd, "--no-realtime", "-n", name, "-d", "dummy",
                 "-r", str(RATE), "-p", str(self.period)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            try:
                proc.wait(0.5)
            except subprocess.TimeoutExpired:
                self.name, self.proc, self.log = name, proc, log
                self._wait()
                return
            log.seek(0)
            failures.append(f"{name}: {log.read().decode(errors='replace').strip()[-200:]}")
            log.close()
        raise SystemExit("no JACK server could start:\n" + "\n".join(failures))

    def _wait(self) -> None:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                probe = jack.Client("dx7d-bench-probe", servername=self.name,
                                    no_start_server=True)
            except jack.JackOpenError:
                time.sleep(0.1)
                continue
            probe.close()
            return
        raise SystemExit(f"JACK server {self.name} did not answer within 15 s")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None
        if self.log is not None:
            self.log.close()
            self.log = None


# -- the bench's JACK client ----------------------------------------------------------------

@dataclass
class Flood:
    """Flood state, touched only by the JACK thread once started."""

    step: float  # frames between note-ons
    hold: int  # frames from a note-on to its note-off
    dump: bytes
    dump_every: int  # frames between cartridge dumps
    started: bool = False
    next_note: float = 0.0
    next_dump: int = 0
    count: int = 0
    offs: deque[tuple[int, int]] = field(default_factory=deque)
    notes_sent: int = 0
    offs_sent: int = 0
    dumps_sent: int = 0
    write_errors: int = 0
    last_error: str = ""


class BenchClient:
    """Sends MIDI at exact JACK frames, generates the flood, records the daemon's audio."""

    def __init__(self, server: str, record_seconds: float) -> None:
        self.client = jack.Client("dx7d-bench", servername=server, no_start_server=True)
        self.rate = self.client.samplerate
        self.period = self.client.blocksize
        self.midi_out = self.client.midi_outports.register("midi_out")
        self.audio_in = self.client.inports.register("audio_in")
        self._audio = np.zeros(int(record_seconds * self.rate), dtype=np.float32)
        self._start: int | None = None  # JACK frame of _audio[0]
        self._written = 0
        self._events: list[tuple[int, bytes]] = []  # sorted; replaced whole, never mutated
        self._next = 0
        self.flood: Flood | None = None
        self.xruns = 0
        self.xrun_frames: list[int] = []  # JACK frame time when each xrun was reported
        self.callback_errors = 0
        self.last_callback_error = ""
        self.gate = CallbackGate()
        self.client.set_process_callback(self._process)
        self.client.set_xrun_callback(self._on_xrun)

    def _on_xrun(self, _delay_us: float) -> None:
        self.xruns += 1
        self.xrun_frames.append(int(self.client.frame_time))

    # JACK thread
    def _process(self, frames: int) -> None:
        if self.gate.shut():
            return
        try:
            now = self.client.last_frame_time
            start = self._start
            if start is not None and now >= start:
                # placed by frame time: a cycle lost to an xrun leaves zeros, not a shift
                at = now - start
                n = min(frames, len(self._audio) - at)
                if n > 0:
                    self._audio[at : at + n] = self.audio_in.get_array()[:n]
                    self._written = at + n
            self.midi_out.clear_buffer()
            end = now + frames
            due: list[tuple[int, bytes]] = []
            events = self._events
            while self._next < len(events) and events[self._next][0] < end:
                at, data = events[self._next]
                due.append((max(0, at - now), data))
                self._next += 1
            flood = self.flood
            if flood is not None:
                self._flood(flood, now, end, due)
            due.sort(key=lambda item: item[0])
            for offset, data in due:
                try:
                    self.midi_out.write_midi_event(offset, data)
                except jack.JackError as exc:
                    if flood is not None:
                        flood.write_errors += 1
                        flood.last_error = f"{len(data)}-byte event at offset {offset}: {exc}"
        except Exception as exc:
            self.callback_errors += 1
            self.last_callback_error = repr(exc)

    @staticmethod
    def _flood(flood: Flood, now: int, end: int, due: list[tuple[int, bytes]]) -> None:
        if not flood.started:  # first cycle of the flood
            flood.started = True
            flood.next_note = float(now)
            flood.next_dump = now
        if flood.next_dump < end:
            due.append((max(0, flood.next_dump - now), flood.dump))
            flood.dumps_sent += 1
            flood.next_dump += flood.dump_every
        while flood.next_note < end:
            at = int(flood.next_note)
            note = FLOOD_LOW + (flood.count * 7) % FLOOD_SPAN
            # after an xrun (cycles skipped) the notes of the lost cycles go out at once
            due.append((max(0, at - now), bytes((0x90, note, VELOCITY))))
            flood.offs.append((at + flood.hold, note))
            flood.count += 1
            flood.notes_sent += 1
            flood.next_note += flood.step
        while flood.offs and flood.offs[0][0] < end:
            at, note = flood.offs.popleft()
            due.append((max(0, at - now), bytes((0x80, note, 0))))
            flood.offs_sent += 1

    # bench side
    @property
    def frame(self) -> int:
        return int(self.client.frame_time)

    def activate(self) -> None:
        self.client.activate()

    def connect(self) -> None:
        """Connect to the daemon's audio output and MIDI input (they must exist)."""
        deadline = time.monotonic() + 10
        while True:
            outs = self._daemon_audio_ports()
            ins = [p.name for p in self.client.get_ports("dx7d-in:", is_midi=True,
                                                         is_input=True)]
            if outs and ins:
                break
            if time.monotonic() > deadline:
                every = [p.name for p in self.client.get_ports()]
                raise RuntimeError(f"daemon ports not found: audio {outs}, MIDI {ins}; "
                                   f"all ports: {every}")
            time.sleep(0.1)
        self.client.connect(sorted(outs)[0], self.audio_in)
        self.client.connect(self.midi_out, ins[0])

    def _daemon_audio_ports(self) -> list[str]:
        """The daemon's audio outputs: ``dx7d:*`` or ``dx7d-in:*`` (the native output on
        the JACK MIDI client), or else every audio output that is
        neither the JACK server's nor ours. (Before 30809d9 daemon/audio.py passed
        PaJack_SetClientName a temporary bytes object, which PortAudio keeps only as a
        pointer: the client name came out as garbage, e.g. "Unknown PCM %s".)"""
        outs = self.client.get_ports(is_audio=True, is_output=True)
        named = [p.name for p in outs if p.name.startswith(("dx7d:", "dx7d-in:"))]
        return named or [p.name for p in outs
                         if not p.name.startswith(("system:", "dx7d-bench:"))]

    def schedule(self, events: list[tuple[int, bytes]]) -> None:
        """Send these (JACK frame, message) events; replaces what was left to send."""
        self._next = 0
        self._events = sorted(events, key=lambda item: item[0])

    def send_now(self, data: bytes) -> int:
        at = self.frame + self.period
        self.schedule([(at, data)])
        return at

    def start_recording(self) -> int:
        start = self.frame + 2 * self.period
        self._start = None
        self._audio[:] = 0
        self._written = 0
        self._start = start
        return start

    def recording(self) -> np.ndarray:
        return self._audio[: self._written].copy()

    def wait_until(self, frame: int) -> None:
        deadline = time.monotonic() + (frame - self.frame) / self.rate + 30
        while self.frame < frame:
            if time.monotonic() > deadline:
                raise RuntimeError("JACK time does not advance")
            time.sleep(0.005)

    def close(self) -> None:
        self.gate.close(self.client)


# -- the daemon -----------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def status(port: int) -> dict[str, Any]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=10) as reply:
        result: dict[str, Any] = json.load(reply)
        return result


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all CPUs so far (/proc/stat); differences give the load."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    total = sum(fields[:8])
    return float(total - idle), float(total)


class LoadMeter:
    """The whole machine's CPU use over a stretch of time, in cores (0..nproc), and the
    1-minute load average at its end: the conditions a figure was measured under."""

    def __init__(self) -> None:
        self.busy0, self.total0 = machine_busy()

    def read(self) -> str:
        busy, total = machine_busy()
        cores = os.cpu_count() or 1
        used = cores * (busy - self.busy0) / max(total - self.total0, 1.0)
        return f"{used:.2f} of {cores} cores busy, load {os.getloadavg()[0]:.1f}"


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def sine_voice() -> Patch:
    """INIT VOICE: OP1 alone at ratio 1.00, full level, instant attack and release."""
    return Patch(name="SINE")


def bench_bank(banks: Path) -> tuple[Bank, str]:
    """rom1A if the shared banks are there, else 32 generated voices."""
    rom = banks / "rom1A.syx"
    if rom.is_file():
        return Bank.read(rom), str(rom)
    bank = Bank.init()
    for i in range(32):
        patch = Patch(name=f"BENCH {i:02d}")
        patch.op[1].output_level = 40 + i
        patch.op[1].frequency_coarse = 1 + i % 8
        bank[i] = patch
    return bank, "generated (INIT VOICE + OP2 modulation), no rom1A.syx found"


# -- the measurements -----------------------------------------------------------------------

def measure_latency(rig: BenchClient) -> dict[str, Any]:
    """Latency of LATENCY_NOTES note-ons, in frames; notes with an xrun around them apart."""
    rig.send_now(voice_dump(sine_voice(), 0))
    rig.wait_until(rig.frame + int(0.3 * rig.rate))
    spacing = int(LATENCY_SPACING_S * rig.rate)
    rng = np.random.default_rng(7)
    start = rig.start_recording()
    xruns_before = len(rig.xrun_frames)
    first = start + rig.period * 4
    # one note per 0.1 s, at a random offset inside its JACK cycle
    ons = [first + i * spacing + int(rng.integers(0, rig.period))
           for i in range(LATENCY_NOTES)]
    events = []
    for at in ons:
        events.append((at, bytes((0x90, LATENCY_NOTE, VELOCITY))))
        events.append((at + spacing // 2, bytes((0x80, LATENCY_NOTE, 0))))
    rig.schedule(events)
    rig.wait_until(ons[-1] + spacing + 2 * rig.period)
    audio = rig.recording()
    xruns = rig.xrun_frames[xruns_before:]
    clean: list[tuple[int, int]] = []  # (latency, offset of the event in its JACK cycle)
    disturbed: list[int] = []
    missing = 0
    for at in ons:
        window = np.abs(audio[at - start : at - start + spacing // 2])
        loud = np.flatnonzero(window > ONSET_THRESHOLD)
        if not len(loud):
            missing += 1
            continue
        onset = at + int(loud[0])
        near = any(at - 2 * rig.period <= x <= onset + 2 * rig.period for x in xruns)
        if near:
            disturbed.append(onset - at)
        else:
            clean.append((onset - at, at % rig.period))
    lat = np.array([float(c[0]) for c in clean] or [np.nan])
    # latency + the event's offset in its cycle: the daemon learns of an event only at
    # its cycle (rtmidi stamps arrival, not the JACK offset), so this is what moves
    # once that quantisation is taken out
    aligned = np.array([float(c[0] + c[1]) for c in clean] or [np.nan])
    return {
        "notes": len(ons), "clean": len(clean), "disturbed": sorted(disturbed),
        "missing": missing, "xruns": len(xruns), "pairs": clean,
        "aligned_min": float(np.min(aligned)), "aligned_max": float(np.max(aligned)),
        "min": float(np.min(lat)), "median": float(np.median(lat)),
        "max": float(np.max(lat)), "std": float(np.std(lat)),
    }


def realtime_thread_seconds(pid: int) -> float:
    """utime + stime of the process's SCHED_FIFO/SCHED_RR threads (the native backend's
    audio thread asks for SCHED_FIFO), in seconds."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[38]) in (1, 2):  # policy (field 41): SCHED_FIFO, SCHED_RR
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def cpu_shares(pid_list: list[int], seconds: float) -> list[float]:
    """Each process's CPU share over the next ``seconds`` (% of one core), then that of
    the first one's SCHED_FIFO/SCHED_RR threads."""
    c0 = [cpu_seconds(p) for p in pid_list]
    rt0 = realtime_thread_seconds(pid_list[0])
    t0 = time.monotonic()
    time.sleep(seconds)
    t1 = time.monotonic()
    shares = [100 * (cpu_seconds(p) - c) / (t1 - t0) for p, c in zip(pid_list, c0,
                                                                     strict=True)]
    return [*shares, 100 * (realtime_thread_seconds(pid_list[0]) - rt0) / (t1 - t0)]


def measure_cpu(rig: BenchClient, daemon_pid: int, jackd_pid: int, bank: Bank,
                seconds: float) -> dict[str, Any]:
    idle_daemon, idle_jackd, idle_rt = cpu_shares([daemon_pid, jackd_pid], seconds)
    names = [n.strip() for n in bank.names]
    voice = bank[names.index(CPU_VOICE)] if CPU_VOICE in names else bank[0]
    rig.send_now(voice_dump(voice, 0))
    rig.wait_until(rig.frame + int(0.3 * rig.rate))
    at = rig.frame + rig.period
    rig.schedule([(at + i * 16, bytes((0x90, n, VELOCITY))) for i, n in enumerate(CHORD)])
    rig.wait_until(at + int(0.5 * rig.rate))
    busy_daemon, busy_jackd, busy_rt = cpu_shares([daemon_pid, jackd_pid], seconds)
    return {"voice": voice.name.strip(), "idle": idle_daemon, "busy": busy_daemon,
            "jackd_idle": idle_jackd, "jackd_busy": busy_jackd,
            "rt_idle": idle_rt, "rt_busy": busy_rt}


def new_flood(rig: BenchClient, dump: bytes) -> Flood:
    return Flood(step=rig.rate / FLOOD_NOTES_PER_S, hold=int(HOLD_S * rig.rate), dump=dump,
                 dump_every=int(DUMP_EVERY_S * rig.rate))


def run_flood(rig: BenchClient, flood: Flood, seconds: float) -> int:
    """Run the flood for ``seconds``; returns the xruns the bench client saw meanwhile."""
    xruns = rig.xruns
    rig.flood = flood
    time.sleep(seconds)
    rig.flood = None
    time.sleep(0.2)  # the last note-offs are dropped with the flood: all notes off follows
    return rig.xruns - xruns


def all_notes_off(rig: BenchClient) -> None:
    rig.send_now(bytes((0xB0, 123, 0)))
    rig.wait_until(rig.frame + 2 * rig.period)


def measure_baseline(server: JackServer, dump: bytes, seconds: float) -> dict[str, Any]:
    rig = BenchClient(server.name, 1.0)
    rig.activate()
    try:
        flood = new_flood(rig, dump)
        load = LoadMeter()
        xruns = run_flood(rig, flood, seconds)
        machine = load.read()
    finally:
        rig.close()
    return {"xruns": xruns, "callback_errors": rig.callback_errors,
            "write_errors": flood.write_errors, "load": machine}


def measure_flood(rig: BenchClient, daemon: DaemonProcess, port: int, dump: bytes,
                  seconds: float) -> dict[str, Any]:
    before = status(port)
    flood = new_flood(rig, dump)
    load = LoadMeter()
    xruns = run_flood(rig, flood, seconds)
    machine = load.read()
    all_notes_off(rig)
    time.sleep(1.0)  # let the dispatcher finish what is queued (the last dump's storage)
    up = daemon.proc is not None and daemon.proc.poll() is None
    after = status(port) if up else None

    def delta(section: str, key: str) -> int | None:
        return None if after is None else int(after[section][key] - before[section][key])

    return {
        "seconds": seconds, "notes": flood.notes_sent, "offs": flood.offs_sent,
        "dumps": flood.dumps_sent, "write_errors": flood.write_errors,
        "last_error": flood.last_error, "xruns": xruns, "up": up, "load": machine,
        "underflows": delta("audio", "underflows"), "overruns": delta("audio", "overruns"),
        "callbacks": delta("audio", "callbacks"),
        "max_callback_us_before": before["audio"]["max_callback_us"],
        "max_callback_us": None if after is None else after["audio"]["max_callback_us"],
        "p999_callback_us": flood_p999(before, after),
        "dropped": delta("engine", "dropped_events"),
        "messages": delta("midi", "messages"),
        "accepted": delta("sysex", "accepted"), "refused": delta("sysex", "refused"),
        "last_refusal": None if after is None else after["sysex"]["last_refusal"],
    }


def flood_p999(before: dict[str, Any], after: dict[str, Any] | None) -> int | None:
    """p99.9 of the callback times during the flood (us, a bucket's upper edge), from the
    difference of /status's callback histograms; None without one."""
    if after is None or "callback_histogram_us" not in after["audio"]:
        return None
    old = before["audio"].get("callback_histogram_us", {})
    counts = sorted((int(edge), n - old.get(edge, 0))
                    for edge, n in after["audio"]["callback_histogram_us"].items())
    total = sum(n for _, n in counts)
    seen = 0
    for edge, n in counts:
        seen += n
        if total and seen >= 0.999 * total:
            return edge
    return None


STARTUP_RUNS = 3  # start-stop cycles per backend and loader (median reported)


def measure_startup(backend: str, period: int) -> dict[str, float]:
    """Median seconds from `dx7d run` to READY=1 per engine.loader (cppyy, compiled: the
    compiled library comes from the cache after its first build)."""
    medians = {}
    for loader in ("cppyy", "compiled"):
        times = []
        for _ in range(STARTUP_RUNS):
            folder = Path(tempfile.mkdtemp(prefix=f"dx7d-bench-start-{backend}-"))
            daemon = DaemonProcess(folder, {
                "audio": {"buffer_frames": period, "sample_rate": RATE, "backend": backend},
                "engine": {"loader": loader}, "control": {"listen": f"127.0.0.1:{free_port()}"},
                "log": {"level": "info"}})
            t0 = time.monotonic()
            daemon.start()
            times.append(time.monotonic() - t0)
            daemon.stop()
            shutil.rmtree(folder, ignore_errors=True)
        medians[loader] = float(np.median(times))
    return medians


def run_backend(server: JackServer, period: int, backend: str, bank: Bank, dump: bytes,
                flood_s: float, cpu_s: float) -> dict[str, Any]:
    """One daemon on ``backend``: start-up, latency, CPU, flood."""
    assert server.proc is not None
    result: dict[str, Any] = {"period": period, "backend": backend, "server": server.name}
    folder = Path(tempfile.mkdtemp(prefix=f"dx7d-bench-{period}-{backend}-"))
    daemon: DaemonProcess | None = None
    rig: BenchClient | None = None
    try:
        print(f"[{period} {backend}] start-up: {STARTUP_RUNS} x per engine loader", flush=True)
        result["startup"] = measure_startup(backend, period)
        port = free_port()
        daemon = DaemonProcess(folder, {
            "audio": {"buffer_frames": period, "sample_rate": RATE, "backend": backend},
            "control": {"listen": f"127.0.0.1:{port}"},
            "log": {"level": "info"},
        })
        t0 = time.monotonic()
        daemon.start()
        result["startup_s"] = time.monotonic() - t0
        assert daemon.proc is not None
        rig = BenchClient(server.name, LATENCY_NOTES * LATENCY_SPACING_S + 2)
        rig.activate()
        try:
            rig.connect()
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}\ndaemon log:\n{daemon.log()[-3000:]}") from None
        first = status(port)["audio"]
        result["device"] = first["device"]
        result["realtime"] = first.get("realtime")
        result["max_event_size"] = rig.midi_out.max_event_size
        print(f"[{period} {backend}] ready in {result['startup_s']:.2f} s; latency: "
              f"{LATENCY_NOTES} notes", flush=True)
        result["latency"] = measure_latency(rig)
        print(f"[{period} {backend}] CPU: {cpu_s:.0f} s idle, {cpu_s:.0f} s with 16 notes",
              flush=True)
        result["cpu"] = measure_cpu(rig, daemon.proc.pid, server.proc.pid, bank, cpu_s)
        all_notes_off(rig)
        print(f"[{period} {backend}] flood: {flood_s:.0f} s", flush=True)
        result["flood"] = measure_flood(rig, daemon, port, dump, flood_s)
        result["callback_errors"] = rig.callback_errors
        result["last_callback_error"] = rig.last_callback_error
    finally:
        if rig is not None:
            rig.close()
        if daemon is not None and daemon.proc is not None:
            if daemon.proc.poll() is None:
                result["exit"] = daemon.stop()
            else:
                result["exit"] = daemon.proc.returncode
            log = daemon.log()
            result["log_warnings"] = [line for line in log.splitlines()
                                      if " WARNING " in line or " ERROR " in line][-5:]
        shutil.rmtree(folder, ignore_errors=True)
    return result


FLOOR_CLIENT = """
import queue, signal
from dx7d.daemon._jackmidi import JackInputs
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})  # SIGTERM ends the wait below
inputs = JackInputs("dx7d-bench-floor", "in", queue.SimpleQueue())
print("floor client active", flush=True)
signal.sigwait({signal.SIGTERM})
inputs.close()
"""


def measure_floor(seconds: float) -> float:
    """CPU share (% of one core) of one idle JACK client written in C++ (the engine's JACK
    MIDI client, no events, alone in a process of its own): what any JACK client costs
    here just to be woken every cycle, the floor under each daemon's idle figure."""
    proc = subprocess.Popen([sys.executable, "-c", FLOOR_CLIENT], stdout=subprocess.PIPE,
                            stdin=subprocess.DEVNULL)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # the client is active once this line arrives
        if b"active" not in line:
            raise RuntimeError(f"the floor client did not start (exit {proc.wait()})")
        return cpu_shares([proc.pid], seconds)[0]
    finally:
        proc.terminate()
        proc.wait()


def run_period(period: int, backends: list[str], bank: Bank, flood_s: float,
               cpu_s: float) -> list[dict[str, Any]]:
    """Everything at one buffer size: a JACK server of its own, its idle baseline, then
    one daemon per backend in turn; one result per backend (the baseline in each)."""
    dump = bank_dump(bank, 0)
    server = JackServer(period)
    server.start()
    previous = {k: os.environ.get(k) for k in ("JACK_DEFAULT_SERVER", "JACK_NO_START_SERVER")}
    os.environ["JACK_DEFAULT_SERVER"] = server.name
    os.environ["JACK_NO_START_SERVER"] = "1"
    results = []
    try:
        print(f"[{period}] baseline: the bench client alone on {server.name} for "
              f"{flood_s:.0f} s", flush=True)
        baseline = measure_baseline(server, dump, flood_s)
        print(f"[{period}] floor: one idle C++ JACK client for {cpu_s:.0f} s", flush=True)
        baseline["floor_cpu"] = measure_floor(cpu_s)
        for backend in backends:
            result = run_backend(server, period, backend, bank, dump, flood_s, cpu_s)
            result["baseline"] = baseline
            results.append(result)
    finally:
        server.stop()
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return results


# -- the report -----------------------------------------------------------------------------

def fmt(value: object, spec: str = "") -> str:
    if value is None:
        return "-"
    return format(value, spec)


def print_table(results: list[dict[str, Any]], flood_s: float, bank_source: str) -> None:
    rows: list[tuple[str, list[str]]] = []

    def row(label: str, get: Any) -> None:
        cells = []
        for r in results:
            try:
                cells.append(get(r))
            except (KeyError, TypeError):
                cells.append("n/a")
        rows.append((label, cells))

    row("buffer (frames / ms)", lambda r: f"{r['period']} / {1000 * r['period'] / RATE:.2f}")
    row("start-up to READY=1 (s), this daemon", lambda r: f"{r['startup_s']:.2f}")
    row("start-up median: cppyy / compiled loader",
        lambda r: f"{r['startup']['cppyy']:.2f} / {r['startup']['compiled']:.2f}")
    row("audio thread", lambda r: fmt(r.get("realtime")).split(" (")[0])
    row("latency min / median / max (frames)",
        lambda r: "{min:.0f} / {median:.0f} / {max:.0f}".format(**r["latency"]))
    row("latency median (ms)", lambda r: f"{1000 * r['latency']['median'] / RATE:.2f}")
    row("jitter max - min / std (frames)",
        lambda r: f"{r['latency']['max'] - r['latency']['min']:.0f} / "
                  f"{r['latency']['std']:.1f}")
    row("latency + offset in cycle min / max",
        lambda r: f"{r['latency']['aligned_min']:.0f} / {r['latency']['aligned_max']:.0f}")
    row("notes counted / sent (xruns meanwhile)",
        lambda r: f"{r['latency']['clean']} / {r['latency']['notes']} "
                  f"({r['latency']['xruns']})")
    row("notes set apart: xrun near / no onset",
        lambda r: f"{len(r['latency']['disturbed'])} / {r['latency']['missing']}")
    row("CPU idle, % of one core (jackd)",
        lambda r: f"{r['cpu']['idle']:.1f} ({r['cpu']['jackd_idle']:.1f})")
    row("CPU floor: one idle C++ JACK client",
        lambda r: f"{r['baseline']['floor_cpu']:.1f}")
    row("CPU 16 notes, % of one core (jackd)",
        lambda r: f"{r['cpu']['busy']:.1f} ({r['cpu']['jackd_busy']:.1f})")
    row("of which SCHED_FIFO threads idle / 16",
        lambda r: f"{r['cpu']['rt_idle']:.1f} / {r['cpu']['rt_busy']:.1f}"
        if r["realtime"] else "-")
    row("flood note-ons / note-offs sent",
        lambda r: f"{r['flood']['notes']} / {r['flood']['offs']}")
    row("flood MIDI messages the daemon counted", lambda r: fmt(r["flood"]["messages"]))
    row("flood MIDI messages lost on the way",
        lambda r: fmt(None if r["flood"]["messages"] is None else
                      r["flood"]["notes"] + r["flood"]["offs"] + r["flood"]["dumps"] + 1
                      - r["flood"]["messages"]))
    row("daemon underflows", lambda r: fmt(r["flood"]["underflows"]))
    row("daemon overruns / callbacks",
        lambda r: f"{fmt(r['flood']['overruns'])} / {fmt(r['flood']['callbacks'])}")
    row("daemon max callback before / after flood (us)",
        lambda r: f"{r['flood']['max_callback_us_before']} / "
                  f"{fmt(r['flood']['max_callback_us'])}")
    row("daemon callback p99.9 in the flood (us, <=)",
        lambda r: fmt(r["flood"]["p999_callback_us"]))
    row("engine dropped events", lambda r: fmt(r["flood"]["dropped"]))
    row("cartridge dumps sent / sysex accepted",
        lambda r: f"{r['flood']['dumps']} / {fmt(r['flood']['accepted'])}")
    row("sysex refused", lambda r: fmt(r["flood"]["refused"]))
    row("bench MIDI write errors", lambda r: str(r["flood"]["write_errors"]))
    row("JACK MIDI max event size (bytes)", lambda r: str(r["max_event_size"]))
    row("JACK xruns, bench client, flood", lambda r: str(r["flood"]["xruns"]))
    row("JACK xruns, bench client alone (baseline)", lambda r: str(r["baseline"]["xruns"]))
    row("daemon stayed up / exit status",
        lambda r: f"{'yes' if r['flood']['up'] else 'NO'} / {fmt(r.get('exit'))}")
    width = max(len(label) for label, _ in rows)
    print()
    print(f"{'':{width}}  " + "  ".join(f"{str(r['period']) + ' ' + r['backend']:>16}"
                                        for r in results))
    for label, cells in rows:
        print(f"{label:{width}}  " + "  ".join(f"{c:>16}" for c in cells))
    print()
    print(f"Flood: {FLOOD_NOTES_PER_S} note-ons/s, each released {HOLD_S * 1000:.0f} ms later "
          f"({2 * FLOOD_NOTES_PER_S} MIDI messages/s), notes {FLOOD_LOW}-"
          f"{FLOOD_LOW + FLOOD_SPAN - 1}, velocity {VELOCITY}, for {flood_s:.0f} s; a "
          f"4104-byte cartridge dump every {DUMP_EVERY_S:.0f} s ({bank_source}).")
    print("Latency: JACK frame of the note-on to the first recorded sample above "
          f"{ONSET_THRESHOLD:g}, sine voice, note {LATENCY_NOTE}.")
    print("Caveat: jackd runs --no-realtime on a shared 2-core machine; xruns (and the "
          "underflows they cause) are partly the environment's, see the baseline row.")
    seen = set()
    for r in results:
        if r["period"] not in seen:
            seen.add(r["period"])
            print(f"[{r['period']}] machine during the baseline: {r['baseline']['load']}")
        if "load" in r.get("flood", {}):
            print(f"[{r['period']} {r['backend']}] machine during the flood: "
                  f"{r['flood']['load']}")
    for r in results:
        tag = f"[{r['period']} {r['backend']}]"
        flood = r.get("flood", {})
        if flood.get("last_error"):
            print(f"{tag} last bench MIDI write error: {flood['last_error']}")
        if flood.get("last_refusal"):
            print(f"{tag} daemon's last sysex refusal: {flood['last_refusal']}")
        for line in r.get("log_warnings", []):
            print(f"{tag} daemon log: {line}")
        if r.get("callback_errors"):
            print(f"{tag} bench process callback raised {r['callback_errors']} "
                  f"times, last: {r['last_callback_error']}")
        disturbed = r.get("latency", {}).get("disturbed")
        if disturbed:
            print(f"{tag} latencies of the notes with an xrun near: {disturbed}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=5.0, help="flood length (default 5)")
    parser.add_argument("--quick", action="store_true",
                        help="0.5 min flood and 3 s CPU windows")
    parser.add_argument("--periods", type=int, nargs="+", default=[128])
    parser.add_argument("--backends", nargs="+", default=["native", "pyaudio"],
                        choices=["native", "pyaudio"])
    parser.add_argument("--banks", type=Path, default=BANKS)
    args = parser.parse_args(argv)
    # SIGTERM unwinds like Ctrl-C, so the finally: blocks stop the daemon and jackd
    signal.signal(signal.SIGTERM, lambda _sig, _frame: sys.exit(143))
    flood_s = 60 * (0.5 if args.quick else args.minutes)
    cpu_s = 3.0 if args.quick else 10.0
    print("$ " + " ".join([".venv/bin/python", "bench/daemon.py",
                           *(argv if argv is not None else sys.argv[1:])]), flush=True)
    bank, source = bench_bank(args.banks)
    results = [r for period in args.periods
               for r in run_period(period, args.backends, bank, flood_s, cpu_s)]
    print_table(results, flood_s, source)
    return 0


if __name__ == "__main__":
    sys.exit(main())
