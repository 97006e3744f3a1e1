"""Soak: a hostile studio for --minutes (default 10) against the real daemon over JACK.

    nice -n 10 .venv/bin/python bench/soak.py [--minutes 10] [--seed 1]

A private JACK server (dummy backend, 48 kHz, 128 frames) and ``dx7d run`` on it
(midi.api jack). Two senders, as in a studio:

* a keyboard (JACK client ``soak-keys``, connected by the daemon's hot-plug scan):
  notes on all 16 channels (~150 note-ons a second, each with its note-off 50-400 ms
  later, some in running status several to one JACK event), garbage (data bytes with
  no status, messages cut short, undefined status bytes, stray F7s), and stray
  ``F0 43 ..`` starts that never get an F7;
* a librarian (the e2e rig, connected to ``dx7d-in:dx7d``): MIDI clock (24 per
  quarter at 120 BPM) all the time, and every 5 s a distinct valid 32-voice dump, right
  after a stray F0, split in three JACK events with clock bytes inside and between
  them; then a dump request, whose reply must be that dump byte for byte (stored).

At the end: every valid dump stored? (replies equal to what was sent; dumps whose
events an xrun of this non-real-time server may have dropped are counted apart);
stuck notes (sounding voices 3 s after the last note-off); RSS of the daemon after
the first minute and at the end; log lines per refusal against the /status counters.
Prints figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

import jack

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "e2e"))
from dx7d.voices import Bank, bank_dump, dump_request  # noqa: E402
from harness import DaemonProcess, JackServer, Rig, free_port  # noqa: E402

DUMP_EVERY_S = 5.0
TICK_S = 0.1  # traffic is scheduled this far ahead, one tick at a time
CLOCK_PER_S = 48  # 24 per quarter note at 120 BPM
NOTES_PER_S = 150
GARBAGE_PER_S = 20
STRAY_F0_PER_S = 2
REPLY_TIMEOUT_S = 4.0


class Keyboard:
    """A JACK MIDI source that the daemon connects to by itself (midi.inputs "*")."""

    def __init__(self, server: str) -> None:
        self.client = jack.Client("soak-keys", servername=server, no_start_server=True)
        self.port = self.client.midi_outports.register("out")
        self.pending: deque[tuple[int, bytes]] = deque()
        self.lock = threading.Lock()
        self.client.set_process_callback(self._process)
        self.client.activate()

    def _process(self, frames: int) -> None:
        self.port.clear_buffer()
        now = self.client.last_frame_time
        if not self.lock.acquire(blocking=False):
            return
        try:
            while self.pending and self.pending[0][0] < now + frames:
                at, data = self.pending.popleft()
                try:
                    self.port.write_midi_event(max(0, at - now), data)
                except jack.JackError:
                    break  # the port buffer is full: the rest go next cycle
        finally:
            self.lock.release()

    def schedule(self, events: list[tuple[int, bytes]]) -> None:
        with self.lock:
            merged = sorted([*self.pending, *events], key=lambda e: e[0])
            self.pending = deque(merged)

    def close(self) -> None:
        self.client.deactivate()
        self.client.close()


def garbage(rng: random.Random) -> bytes:
    """Bytes that refuse, never a whole note: orphan data, cut-short messages, junk. (Data
    bytes right after a channel message are running status, notes by the MIDI spec: the
    orphan data follows F4, an undefined status that clears running status.)"""
    kind = rng.randrange(5)
    if kind == 0:
        return b"\xf4" + bytes(rng.randrange(0x80) for _ in range(rng.randint(1, 12)))
    if kind == 1:
        return bytes([0x90 | rng.randrange(16), rng.randrange(0x80), 0xC8])[:3]  # cut short
    if kind == 2:
        return bytes([rng.choice([0xF4, 0xF5, 0xF9, 0xFD, 0xF7])])
    if kind == 3:
        return bytes([0xB0 | rng.randrange(16), 0xF4])  # a data byte >= 0x80
    return bytes([0xE0 | rng.randrange(16)])  # a status with no data, ended by the next


def soak_bank(n: int) -> Bank:
    bank = Bank.init()
    for i in range(32):
        bank[i].name = f"S{n:04d} {i:02d}"[:10]
        bank[i].algorithm = (n + i) % 32
    return bank


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return -1


def xrun_near(rig: Rig, first: int, last: int) -> bool:
    margin = 4 * rig.client.blocksize
    return any(first - margin <= f <= last + margin for f in rig.xrun_frames)


def traffic(rng: random.Random, start: int, frames: int, rate: int,
            held: dict[tuple[int, int], int]) -> list[tuple[int, bytes]]:
    """Keyboard events for the frames [start, start + frames)."""
    events: list[tuple[int, bytes]] = []
    seconds = frames / rate
    for _ in range(int(NOTES_PER_S * seconds)):
        at = start + rng.randrange(frames)
        channel = rng.randrange(16)
        chord = [rng.randrange(36, 96) for _ in range(rng.choice([1, 1, 1, 3]))]
        chord = [n for n in dict.fromkeys(chord) if (channel, n) not in held]
        if not chord:
            continue
        on = bytes([0x90 | channel]) + b"".join(bytes([n, rng.randint(1, 127)]) for n in chord)
        off_at = at + int(rng.uniform(0.05, 0.4) * rate)
        off = bytes([0x80 | channel]) + b"".join(bytes([n, 0]) for n in chord)  # running st.
        events += [(at, on), (off_at, off)]
        for n in chord:
            held[(channel, n)] = off_at
    for _ in range(int(GARBAGE_PER_S * seconds)):
        events.append((start + rng.randrange(frames), garbage(rng)))
    if rng.random() < STRAY_F0_PER_S * seconds:
        events.append((start + rng.randrange(frames),
                       bytes([0xF0, 0x43, rng.randrange(0x80), rng.randrange(0x80)])))
    return events


def run(minutes: float, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    server = JackServer()
    folder = Path(tempfile.mkdtemp(prefix="dx7d-soak-"))
    port = free_port()
    daemon = DaemonProcess(folder, {"control": {"listen": f"127.0.0.1:{port}"},
                                    "log": {"level": "info"}},
                           environ={"JACK_DEFAULT_SERVER": server.name,
                                    "JACK_NO_START_SERVER": "1"})
    figures: dict[str, Any] = {"minutes": minutes}
    rig: Rig | None = None
    keys: Keyboard | None = None
    try:
        daemon.start()
        assert daemon.proc is not None
        rig = Rig(server.name)
        rig.connect(audio_client=None)
        keys = Keyboard(server.name)
        daemon.wait_log("MIDI input connected: soak-keys:out", timeout=20)
        rate = rig.rate
        held: dict[tuple[int, int], int] = {}
        began = time.monotonic()
        end = began + minutes * 60
        next_frame = rig.frame + int(0.2 * rate)
        next_dump = began + 2.0
        dumps = stored = lost_to_xruns = wrong = 0
        rss_first_minute = None
        last_note_frame = next_frame
        waiting: tuple[int, bytes, int, int, float] | None = None  # n, dump, first, last, t
        while time.monotonic() < end or waiting is not None:
            now = time.monotonic()
            if now < end:
                frames = int(TICK_S * rate)
                events = traffic(rng, next_frame, frames, rate, held)
                keys.schedule(events)
                clock_step = rate // CLOCK_PER_S
                for at in range(next_frame - next_frame % clock_step + clock_step,
                                next_frame + frames, clock_step):
                    rig.send(b"\xf8", at=at)
                last_note_frame = max([last_note_frame, *(at for at, _ in events)])
                next_frame += frames
                held = {k: v for k, v in held.items() if v > next_frame - frames}
            if now >= next_dump and waiting is None and now < end:
                next_dump += DUMP_EVERY_S
                dumps += 1
                data = bank_dump(soak_bank(dumps), 0)
                at = rig.frame + 2 * rig.client.blocksize
                rig.send(b"\xf0\x43\x00", at=at)  # a stray start right before it
                rig.send(data[:1500] + b"\xf8" + data[1500:2600], at=at + 1)
                rig.send(b"\xf8", at=at + 2)
                rig.send(data[2600:3800] + b"\xf8" + data[3800:], at=at + 3)
                rig.send(dump_request(9, 0), at=at + 4)
                seen = len(rig.received)
                waiting = (dumps, data, at, at + 4, now)
            if waiting is not None:
                n, data, first, _last, sent = waiting
                replies = [d for _, d in rig.received[seen:] if d[:1] == b"\xf0"]
                if replies or time.monotonic() - sent > REPLY_TIMEOUT_S:
                    if replies and replies[-1] == data:
                        stored += 1
                    elif xrun_near(rig, first, rig.frame):  # the dump, request or reply
                        lost_to_xruns += 1
                    else:
                        wrong += 1
                        print(f"dump {n}: {'a wrong reply' if replies else 'no reply'}",
                              flush=True)
                    waiting = None
            if rss_first_minute is None and now - began >= 60:
                rss_first_minute = rss_kb(daemon.proc.pid)
            elapsed = now - began
            if int(elapsed) % 60 == 0 and elapsed - int(elapsed) < TICK_S:
                print(f"{elapsed / 60:4.1f} min: {dumps} dumps, {stored} stored, "
                      f"RSS {rss_kb(daemon.proc.pid) / 1024:.0f} MiB", flush=True)
            time.sleep(max(0.0, TICK_S - (time.monotonic() - now)))
        rig.wait_until(max(last_note_frame, rig.frame) + int(3.0 * rate), timeout=60)
        status = daemon.control(f"http://127.0.0.1:{port}/status")
        log = daemon.log()
        figures.update({
            "dumps sent": dumps, "stored (reply == dump)": stored,
            "no reply, an xrun while it went (MIDI lost)": lost_to_xruns,
            "no reply, no xrun": wrong,
            "stuck voices 3 s after the last note-off": status["engine"]["sounding_voices"],
            "xruns seen by the librarian": len(rig.xrun_frames),
            "RSS after 1 min (MiB)": None if rss_first_minute is None
            else round(rss_first_minute / 1024, 1),
            "RSS at the end (MiB)": round(rss_kb(daemon.proc.pid) / 1024, 1),
            "MIDI messages": status["midi"]["messages"],
            "broken sysex / log lines": (status["midi"]["broken_sysex"],
                                         log.count("with no F7 dropped")),
            "oversized sysex / log lines": (status["midi"]["oversized_sysex"],
                                            log.count("longer than the")),
            "refused data bytes / log lines (<= 1 a second a port)": (
                status["midi"]["refused_data_bytes"], log.count("data byte(s) refused")),
            "sysex refused / log lines": (status["sysex"]["refused"],
                                          log.count("sysex refused")),
            "tracebacks in the log": log.count("Traceback"),
            "underflows": status["audio"]["underflows"],
            "daemon alive": daemon.proc.poll() is None,
        })
        first, last_rss = figures["RSS after 1 min (MiB)"], figures["RSS at the end (MiB)"]
        if first:
            figures["RSS change after the first minute (%)"] = round(
                100 * (last_rss - first) / first, 1)
        figures["daemon exit status"] = daemon.stop()
    finally:
        if keys is not None:
            keys.close()
        if rig is not None:
            rig.close()
        if daemon.proc is not None and daemon.proc.poll() is None:
            daemon.kill()
        server.close()
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    figures = run(args.minutes, args.seed)
    width = max(len(k) for k in figures)
    print(f"\nsoak: {args.minutes:g} min, seed {args.seed}")
    for key, value in figures.items():
        print(f"  {key:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
