"""One MIDI byte-stream parser per input port, between the MIDI system and the dispatcher.

The MIDI system hands us chunks of bytes (a JACK event, an rtmidi message) whose
borders mean nothing to the MIDI spec: a sender may put three running-status notes
in one event, split a dump over many, or send ``F0`` and never its ``F7``. The
parser reads the bytes the way the MIDI 1.0 spec (and a DX7) does, whatever the
split, and returns whole messages:

* running status: data bytes after a channel message repeat its status;
* real-time bytes (F8-FF) may come anywhere, inside a sysex too: each is a message
  of its own at once and is taken out of the sysex around it;
* a sysex ends at F7, or at any other status byte: that broken part is dropped (one
  log line naming the port and the byte count) and the status byte starts the next
  message;
* a sysex longer than ``SYSEX_LIMIT`` bytes is dropped up to its end (one line);
  the memory it holds stays bounded by the limit, however long the sender goes on;
* a message cut short by a status byte, or data bytes with no status to belong to
  (a value of 0x80 or more where a data byte should be), are refused, counted and
  logged at most once a second with the number refused since the last line.

Nothing raises: any byte sequence is some mix of messages and refusals. Feeding a
stream in any split gives the same messages and the same counts as feeding it
whole (the property tests check it).

Why our own rather than mido's parser: mido drops a broken sysex and stray data
bytes silently (nothing to count or log per port), keeps no length limit on a
sysex, and would be a new dependency for ~150 lines.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["REFUSAL_LOG_INTERVAL_S", "SYSEX_LIMIT", "ParserStats", "StreamParser"]

log = logging.getLogger("dx7d.midi")

SYSEX_LIMIT = 8192  # bytes, F0 and F7 included: the largest DX7 message is 4104, x2 margin
REFUSAL_LOG_INTERVAL_S = 1.0  # refused data bytes are logged at most this often (per port)

_STATUS = re.compile(rb"[\x80-\xff]")  # the next status byte inside a sysex


def _data_length(status: int) -> int:
    """Data bytes that follow ``status`` (a channel or system-common status byte)."""
    kind = status & 0xF0
    if kind in (0xC0, 0xD0):  # program change, channel pressure
        return 1
    if kind != 0xF0:
        return 2
    return {0xF1: 1, 0xF2: 2, 0xF3: 1}.get(status, 0)  # MTC quarter frame, song position/select


@dataclass
class ParserStats:
    """What one port's parser refused (counted since the daemon started)."""

    messages: int = 0  # whole messages returned
    broken_sysex: int = 0  # sysex cut off by another status byte before its F7
    oversized_sysex: int = 0  # sysex longer than SYSEX_LIMIT, dropped to its F7
    refused_bytes: int = 0  # data bytes of cut-short messages, and data with no status


class StreamParser:
    """Turns the byte stream of one port into whole MIDI messages. Not thread-safe."""

    def __init__(self, port: str, limit: int = SYSEX_LIMIT,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.port = port
        self.limit = limit
        self.stats = ParserStats()
        self._clock = clock
        self._running = 0  # running status (a channel status byte), 0 = none
        self._message = bytearray()  # the channel / system-common message being read
        self._wanted = 0  # data bytes the message being read still needs
        self._sysex: bytearray | None = None  # the sysex being read, F0 included
        self._skipping = 0  # > 0: bytes of an oversized sysex seen so far (dropped)
        self._unlogged = 0  # refused data bytes not yet reported in a log line
        self._last_refusal_log = -float("inf")

    def feed(self, data: bytes) -> list[bytes]:
        """Parse one chunk; returns the messages it completed, in order."""
        out: list[bytes] = []
        i, n = 0, len(data)
        while i < n:
            if self._sysex is not None or self._skipping:
                i = self._sysex_bytes(data, i, out)
                continue
            byte = data[i]
            i += 1
            if byte >= 0xF8:
                self._emit(out, bytes((byte,)))
            elif byte >= 0x80:
                self._status(byte, out)
            else:
                self._data(byte, out)
        self._log_refusals()
        return out

    # -- the states ------------------------------------------------------------------------

    def _emit(self, out: list[bytes], message: bytes) -> None:
        self.stats.messages += 1
        out.append(message)

    def _status(self, byte: int, out: list[bytes]) -> None:
        """A status byte other than real-time, outside a sysex."""
        self._cut_short()
        if byte == 0xF0:
            self._running = 0
            self._sysex = bytearray(b"\xf0")
            return
        if byte == 0xF7:  # an end of sysex with no sysex: nothing to end
            self._running = 0
            return
        self._running = byte if byte < 0xF0 else 0  # system common clears running status
        self._wanted = _data_length(byte)
        if self._wanted == 0:  # tune request, undefined F4/F5
            self._emit(out, bytes((byte,)))
            return
        self._message = bytearray((byte,))

    def _data(self, byte: int, out: list[bytes]) -> None:
        if not self._message:
            if not self._running:
                self._refuse(1)
                return
            self._message = bytearray((self._running,))
            self._wanted = _data_length(self._running)
        self._message.append(byte)
        self._wanted -= 1
        if self._wanted == 0:
            self._emit(out, bytes(self._message))
            self._message = bytearray()

    def _cut_short(self) -> None:
        """A status byte came while a message still needed data bytes: refuse that part."""
        if self._message:
            self._refuse(len(self._message) - 1)
            self._message = bytearray()

    def _sysex_bytes(self, data: bytes, i: int, out: list[bytes]) -> int:
        """Read sysex bytes from ``data[i:]`` up to the next status byte; returns the index
        to go on from."""
        found = _STATUS.search(data, i)
        end = len(data) if found is None else found.start()
        self._take(data[i:end])
        if found is None:
            return end
        byte = data[end]
        if byte >= 0xF8:  # real-time: handled at once, not part of the sysex
            self._emit(out, bytes((byte,)))
            return end + 1
        if byte == 0xF7:
            if self._sysex is not None:
                self._sysex.append(0xF7)
                self._emit(out, bytes(self._sysex))
            else:
                log.debug("MIDI %s: the oversized sysex ended after %d bytes", self.port,
                          self._skipping + 1)
            self._sysex = None
            self._skipping = 0
            return end + 1
        self._broken()
        return end  # the status byte starts the next message

    def _take(self, chunk: bytes) -> None:
        """Data bytes of the sysex being read, kept up to the limit."""
        if not chunk:
            return
        if self._sysex is not None:
            if len(self._sysex) + len(chunk) + 1 <= self.limit:
                self._sysex += chunk
                return
            self.stats.oversized_sysex += 1
            log.warning("MIDI %s: sysex longer than the %d-byte limit (the largest DX7 "
                        "message has 4104): dropped up to its end", self.port, self.limit)
            self._skipping = len(self._sysex)
            self._sysex = None
        self._skipping += len(chunk)

    def _broken(self) -> None:
        """The sysex being read was ended by a status byte other than F7 and real-time."""
        if self._sysex is not None:  # an oversized one was already reported
            self.stats.broken_sysex += 1
            log.warning("MIDI %s: sysex of %d bytes with no F7 dropped (a status byte ended it)",
                        self.port, len(self._sysex))
        self._sysex = None
        self._skipping = 0

    # -- refusals --------------------------------------------------------------------------

    def _refuse(self, count: int) -> None:
        self.stats.refused_bytes += count
        self._unlogged += count

    def _log_refusals(self) -> None:
        if not self._unlogged:
            return
        now = self._clock()
        if now - self._last_refusal_log < REFUSAL_LOG_INTERVAL_S:
            return
        self._last_refusal_log = now
        log.warning("MIDI %s: %d data byte(s) refused (a message cut short by a status byte, "
                    "or data with no status before it); %d since start", self.port,
                    self._unlogged, self.stats.refused_bytes)
        self._unlogged = 0

    @property
    def pending(self) -> int:
        """Bytes held for a message not yet complete (bounded by ``limit``)."""
        return len(self._message) + (len(self._sysex) if self._sysex is not None else 0)
