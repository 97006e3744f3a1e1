"""MIDI on JACK, raw, through the engine's C++ JACK client (engine_cpp/dx7_jackmidi.cpp).

Why not rtmidi's JACK input: it glues every JACK event after an ``F0 ...`` that
lacks its F7 onto that sysex, and holds it all back until some event ends in F7
(a stray F0 made the module deaf, with stuck notes; clock bytes landed inside
dumps). The MIDI spec ends a sysex at any status byte, and only a parser that sees
the raw bytes can do that: this client hands them over untouched
(dx7d.daemon.midistream parses them, one parser per port).

One JACK client ``dx7d-in`` with the port ``dx7d`` (for librarians and DAWs to
connect to), one more input port per source port that ``midi.inputs`` matches, and
the output port ``replies`` (dump replies). Its process callback is C++: it copies each
event's bytes and arrival time into a lock-free ring and, only when it copied
something, wakes the reader thread here through a pipe; nothing runs in Python per
JACK cycle. The reader drains the ring and enqueues ``(time, bytes, port label)``.
"""

from __future__ import annotations

import errno
import os
import queue
import select
import struct
import threading
import time
from typing import Any

import numpy as np

from ._native_audio import realtime_description

__all__ = ["JackHost", "JackInputs", "JackMidiError"]

_RING_BYTES = 1 << 20  # input ring (the largest JACK event must fit: a few KB)
_ERROR_BYTES = 1024
_HEADER = struct.Struct("=qii")  # DX7_JACKMIDI_HEADER: arrival ns, slot, size
# DX7_JACKMIDI_STAT_*
_CYCLES, _EVENTS, _DROPPED, _SENT, _SHUTDOWN, _RATE, _RT, _RT_PRIORITY, _XRUNS, _BUFFER = \
    range(10)
_STAT_COUNT = 10
_AUDIO_ONLY_RING_BYTES = 1024  # a client without MIDI ports: the smallest ring
_SEND_WAIT_S = 0.5  # how long send waits for room in the output queue


class JackMidiError(RuntimeError):
    """The JACK client could not be opened, or JACK refused a port or a connection."""


def _c_string(text: str) -> np.ndarray:
    return np.frombuffer(text.encode() + b"\0", dtype=np.uint8)


def _text(buffer: np.ndarray) -> str:
    raw = buffer.tobytes()
    return raw[: raw.find(b"\0") if b"\0" in raw else len(raw)].decode(errors="replace")


def _engine_lib() -> Any:
    from dx7d.engine_cpp._loader import load

    return load(None)


class JackHost:
    """One hold on a JACK client of the engine (dx7_jackmidi_retain): the native audio
    output plays on it (dx7_jackmidi_attach_audio), so MIDI and audio share one JACK
    client and one JACK thread. ``release`` lets go; the client closes with its last
    holder. Owned by the thread that made it (the audio output's)."""

    def __init__(self, lib: Any, handle: Any, client_name: str) -> None:
        self._lib = lib
        self._handle = handle
        self.client_name = client_name

    @classmethod
    def open(cls, client_name: str, lib: Any = None) -> JackHost:
        """A client of its own with no MIDI ports (audio on JACK, MIDI on ALSA)."""
        lib = lib if lib is not None else _engine_lib()
        error = np.zeros(_ERROR_BYTES, dtype=np.uint8)
        handle = lib.dx7_jackmidi_open(_c_string(client_name), _c_string(""), _c_string(""),
                                       _AUDIO_ONLY_RING_BYTES, error, _ERROR_BYTES)
        if lib.is_null(handle):
            raise JackMidiError(_text(error) or "cannot open the JACK client")
        return cls(lib, handle, client_name)

    @property
    def alive(self) -> bool:
        """False once the JACK server shut the client down."""
        handle = self._handle
        if handle is None:
            return False
        stats = np.zeros(_STAT_COUNT, dtype=np.int64)
        self._lib.dx7_jackmidi_stats(handle, stats, _STAT_COUNT)
        return not stats[_SHUTDOWN]

    def attach(self, audio: Any, device: str) -> int:
        """Play the hosted stream ``audio`` on this client (dx7_jackmidi_attach_audio);
        returns how many of its two ports were connected. Raises JackMidiError."""
        error = np.zeros(_ERROR_BYTES, dtype=np.uint8)
        connected = int(self._lib.dx7_jackmidi_attach_audio(self._handle, audio,
                                                            _c_string(device), error,
                                                            _ERROR_BYTES))
        if connected < 0:
            raise JackMidiError(_text(error) or "cannot add the audio ports")
        return connected

    def detach(self) -> None:
        """Stop rendering the attached stream and unregister its ports."""
        if self._handle is not None:
            self._lib.dx7_jackmidi_detach_audio(self._handle)

    def release(self) -> None:
        handle, self._handle = self._handle, None
        if handle is not None:
            self._lib.dx7_jackmidi_close(handle)


class JackInputs:
    """The JACK side of MIDI; the main thread owns it (not thread-safe), a reader thread
    of its own moves the events into ``received``."""

    def __init__(self, client_name: str, port_name: str, received: queue.SimpleQueue[Any],
                 out_port: str = "replies", lib: Any = None) -> None:
        self._lib = lib if lib is not None else _engine_lib()
        self.received = received
        error = np.zeros(_ERROR_BYTES, dtype=np.uint8)
        handle = self._lib.dx7_jackmidi_open(_c_string(client_name), _c_string(port_name),
                                             _c_string(out_port), _RING_BYTES, error,
                                             _ERROR_BYTES)
        if self._lib.is_null(handle):
            raise JackMidiError(_text(error) or "cannot open the JACK MIDI client")
        self._handle: Any = handle
        self._stats = np.zeros(_STAT_COUNT, dtype=np.int64)
        self.rate = int(self._read_stats()[_RATE])
        self.shut_down = threading.Event()
        self.client_name = client_name
        self.out_port = f"{client_name}:{out_port}"
        # slot -> label the reader reads; replaced whole, never changed in place
        self._labels: dict[int, str] = {0: port_name}
        self._by_source: dict[str, int] = {}  # source port name -> the slot connected to it
        self._serial = 0
        self._stopping = False
        self._ports_buffer = np.zeros(1 << 16, dtype=np.uint8)
        self._reader = threading.Thread(target=self._read_loop, name="dx7d-jackmidi",
                                        daemon=True)
        self._reader.start()

    def _read_stats(self) -> np.ndarray:
        self._lib.dx7_jackmidi_stats(self._handle, self._stats, _STAT_COUNT)
        return self._stats

    # -- the reader thread ----------------------------------------------------------------

    def _read_loop(self) -> None:
        lib, handle = self._lib, self._handle
        fd = int(lib.dx7_jackmidi_fd(handle))
        buffer = np.zeros(_RING_BYTES, dtype=np.uint8)
        stats = np.zeros(_STAT_COUNT, dtype=np.int64)
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        put = self.received.put
        while not self._stopping:
            poller.poll()
            try:
                while len(os.read(fd, 4096)) == 4096:
                    pass
            except BlockingIOError:
                pass
            while True:
                n = int(lib.dx7_jackmidi_read(handle, buffer, len(buffer)))
                if n <= 0:
                    break
                data = buffer[:n].tobytes()
                labels = self._labels
                offset = 0
                while offset < n:
                    t_ns, slot, size = _HEADER.unpack_from(data, offset)
                    start = offset + _HEADER.size
                    offset = start + size
                    label = labels.get(slot)
                    if label is not None:
                        put((t_ns * 1e-9, data[start:offset], label))
            lib.dx7_jackmidi_stats(handle, stats, _STAT_COUNT)
            if stats[_SHUTDOWN]:
                self.shut_down.set()
                return

    # -- the main thread ------------------------------------------------------------------

    def source_ports(self) -> list[str]:
        """Every MIDI output port of the JACK graph we could listen to: not those wired by
        hand to the virtual port, which are heard through it already."""
        while True:
            buffer = self._ports_buffer
            need = int(self._lib.dx7_jackmidi_source_ports(self._handle, buffer, len(buffer)))
            if need < 0:
                raise JackMidiError("cannot list the JACK ports")
            if need < len(buffer):
                return [name for name in _text(buffer).split("\n") if name]
            self._ports_buffer = np.zeros(2 * need, dtype=np.uint8)

    @property
    def connected(self) -> list[str]:
        return sorted(self._by_source)

    def connect(self, source: str) -> None:
        """Listen to ``source`` through a port of our own; raises JackMidiError."""
        self._serial += 1
        slot = int(self._lib.dx7_jackmidi_add_port(self._handle,
                                                   _c_string(f"from-{self._serial}")))
        if slot < 0:
            raise JackMidiError(f"JACK refused a port for {source}")
        self._labels = {**self._labels, slot: source}
        rc = int(self._lib.dx7_jackmidi_connect(self._handle, _c_string(source), slot))
        if rc not in (0, errno.EEXIST):
            self._remove(slot)
            raise JackMidiError(f"cannot connect {source} (JACK error {rc})")
        self._by_source[source] = slot

    def _remove(self, slot: int) -> None:
        self._lib.dx7_jackmidi_remove_port(self._handle, slot)  # waits for the callback
        self._labels = {k: v for k, v in self._labels.items() if k != slot}

    def disconnect(self, source: str) -> None:
        """Stop listening to ``source``; its port is unregistered once the callback let go."""
        self._remove(self._by_source.pop(source))

    def send(self, message: bytes) -> bool:
        """Queue one message for the output port; False if the queue stayed full."""
        data = np.frombuffer(message, dtype=np.uint8)
        deadline = time.monotonic() + _SEND_WAIT_S
        while not self._lib.dx7_jackmidi_send(self._handle, data, len(data)):
            if self.shut_down.is_set() or time.monotonic() > deadline:
                return False
            time.sleep(0.002)  # the JACK cycle empties the queue
        return True

    def realtime(self) -> str | None:
        """How JACK's thread for this client is scheduled (it asks for SCHED_FIFO on its
        first cycle, like the native audio thread); None before that cycle."""
        raw = self._read_stats()
        if raw[_RT] == 0:
            return None
        return realtime_description(int(raw[_RT]), int(raw[_RT_PRIORITY]))

    def host(self) -> JackHost:
        """A hold on this client for the native audio output (its ports go on it)."""
        if self._handle is None:
            raise JackMidiError("the JACK MIDI client is closed")
        self._lib.dx7_jackmidi_retain(self._handle)
        return JackHost(self._lib, self._handle, self.client_name)

    def stats(self) -> dict[str, int]:
        raw = self._read_stats()
        return {"cycles": int(raw[_CYCLES]), "events": int(raw[_EVENTS]),
                "dropped": int(raw[_DROPPED]), "sent": int(raw[_SENT])}

    def close(self) -> None:
        if self._handle is None:
            return
        self._stopping = True
        self._lib.dx7_jackmidi_wake(self._handle)
        self._reader.join(timeout=1.0)
        handle, self._handle = self._handle, None
        if not self._reader.is_alive():
            self._lib.dx7_jackmidi_close(handle)

