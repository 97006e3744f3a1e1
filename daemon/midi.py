"""MIDI in and out through python-rtmidi (ALSA sequencer on a Pi, or JACK).

Input: a virtual input port ``dx7d`` (for librarians and DAWs) is always open, and
every port matching ``midi.inputs`` is connected, each through its own port.
``scan()``, called about once a second by the main loop, connects keyboards
plugged in later and drops the ones unplugged. The input callbacks (rtmidi's or
JACK's threads) only timestamp and enqueue the bytes with the name of their port;
the dispatcher parses each port's byte stream (dx7d.daemon.midistream) and does
the rest. On JACK, input and output go through one JACK client of the engine's C++
side (dx7d.daemon._jackmidi: raw events, since rtmidi's JACK input glues events onto an
unterminated sysex; no Python per JACK cycle); on ALSA through rtmidi.

Output: a port for dump replies.

Names, so they can be found: the input client is ``dx7d-in`` with port ``dx7d``. On
ALSA the output client ``dx7d-out`` has port ``dx7d``; on JACK the replies port is
``dx7d-in:replies`` (one JACK client for all MIDI; the native audio output's ports
``out_1`` and ``out_2`` go on it too, on a client ``dx7d`` of its own when MIDI is on ALSA;
PyAudio's JACK client is ``dx7d``).

No MIDI system (no ALSA sequencer, no JACK server): one log line, and ``scan()``
keeps retrying.
"""

from __future__ import annotations

import logging
import queue
import time
from collections.abc import Sequence
from typing import Any

from dx7d.config import match_inputs

from ._alsaseq import not_wired_to
from ._jackmidi import JackHost, JackInputs

__all__ = ["MIDI_CLIENT_IN", "MIDI_CLIENT_OUT", "MIDI_JACK_OUT_PORT", "MIDI_PORT", "MidiIO",
           "Received"]

log = logging.getLogger("dx7d.midi")

MIDI_CLIENT_IN = "dx7d-in"
MIDI_CLIENT_SOURCE = "dx7d-from"  # ALSA: the client of each port we connect to a source
MIDI_CLIENT_OUT = "dx7d-out"
MIDI_PORT = "dx7d"
MIDI_JACK_OUT_PORT = "replies"  # JACK: dx7d-in:replies

# Ports never connected automatically: our own, and ALSA's loop-back client.
_EXCLUDED = ("dx7d", "Midi Through", "RtMidi")

# (perf_counter() at arrival, the bytes as the MIDI system gave them, the port's name)
Received = tuple[float, bytes, str]


def _wanted(ports: Sequence[str], patterns: Sequence[str]) -> set[str]:
    """Ports to connect: those midi.inputs matches, less our own and ALSA's loop-back."""
    candidates = [p for p in ports if not p.strip().startswith(_EXCLUDED)]
    return set(match_inputs(patterns, candidates))


class MidiIO:
    """The MIDI ports of the daemon; not thread-safe (the main thread owns it)."""

    def __init__(self, api: str, patterns: Sequence[str], received: queue.SimpleQueue[Any],
                 lib: Any = None) -> None:
        if api not in ("alsa", "jack"):
            raise ValueError(f"midi.api {api!r} is not alsa or jack")
        self._rtmidi: Any = None
        self._api: Any = None
        if api == "alsa":  # JACK needs no rtmidi: the engine's client (its `lib`) does it all
            import rtmidi

            self._rtmidi = rtmidi
            self._api = rtmidi.API_LINUX_ALSA
        self._lib = lib
        self.api_name = api
        self.patterns = list(patterns)
        self.received = received
        self._virtual_in: Any = None
        self._out: Any = None
        self._scanner: Any = None
        self._inputs: dict[str, Any] = {}  # port name -> open rtmidi.MidiIn (ALSA)
        self._jack: JackInputs | None = None  # the JACK inputs (midi.api jack)
        self._unavailable_logged = False
        self._realtime_logged = False  # the JACK thread's scheduling, logged once per client
        self.sent = 0

    # -- the callback side (rtmidi threads) ----------------------------------------------

    def _new_input(self, client: str, label: str) -> Any:
        midi_in = self._rtmidi.MidiIn(self._api, name=client, queue_size_limit=4096)
        midi_in.ignore_types(sysex=False, timing=True, active_sense=False)

        def on_message(event: tuple[list[int], float], _data: object) -> None:
            self.received.put((time.perf_counter(), bytes(event[0]), label))

        midi_in.set_callback(on_message)
        return midi_in

    # -- the main-thread side -------------------------------------------------------------

    @property
    def listening(self) -> bool:
        """True once the virtual input port is open."""
        return self._virtual_in is not None or self._jack is not None

    @property
    def connected(self) -> list[str]:
        """Names of the hardware/other ports connected to us."""
        return self._jack.connected if self._jack is not None else sorted(self._inputs)

    def realtime(self) -> str | None:
        """How the JACK MIDI client's thread is scheduled; None on ALSA (rtmidi's threads
        only queue bytes) or before its first cycle."""
        return self._jack.realtime() if self._jack is not None else None

    def jack_host(self) -> JackHost | None:
        """A hold on the JACK MIDI client for the native audio output (its ports go on
        it); None when MIDI is not on JACK or its client is not open."""
        if self._jack is None or self._jack.shut_down.is_set():
            return None
        return self._jack.host()

    def scan(self) -> None:
        """Open the virtual ports if needed; connect new matching ports, drop vanished ones."""
        if self._jack is not None and self._jack.shut_down.is_set():
            log.error("MIDI (jack): the JACK server shut down; retrying every second")
            self._close_all()
        try:
            if not self.listening:
                self._open()
                log.info("MIDI (%s): listening on %s:%s, replies on %s", self.api_name,
                         MIDI_CLIENT_IN, MIDI_PORT,
                         self._jack.out_port if self._jack is not None
                         else f"{MIDI_CLIENT_OUT}:{MIDI_PORT}")
                self._unavailable_logged = False
                self._realtime_logged = False
            if not self._realtime_logged and (realtime := self.realtime()) is not None:
                log.info("JACK MIDI thread: %s", realtime)
                self._realtime_logged = True
            ports = (self._jack.source_ports() if self._jack is not None
                     else self._scanner.get_ports())
        except Exception as exc:  # rtmidi's SystemError subclasses, JackMidiError
            self._close_all()
            if not self._unavailable_logged:
                log.error("no MIDI system (%s): %s; retrying every second", self.api_name, exc)
                self._unavailable_logged = True
            return
        # a source wired by hand to dx7d-in:dx7d is heard through it already (JACK's
        # source_ports leaves those out itself)
        unwired = ports if self._jack is not None else not_wired_to(ports, MIDI_CLIENT_IN,
                                                                    MIDI_PORT)
        wanted = _wanted(unwired, self.patterns)
        for name in sorted(set(self.connected) - wanted):
            self._disconnect(name)
            if name in ports:
                log.info("MIDI input %s: wired by hand to %s:%s, heard through it alone",
                         name, MIDI_CLIENT_IN, MIDI_PORT)
            else:
                log.info("MIDI input gone: %s", name)
        for name in sorted(wanted - set(self.connected)):
            try:
                self._connect(name, ports.index(name))
            except Exception as exc:
                log.warning("cannot connect MIDI input %s: %s", name, exc)
                continue
            log.info("MIDI input connected: %s", name)

    def _open(self) -> None:
        if self.api_name == "jack":
            self._jack = JackInputs(MIDI_CLIENT_IN, MIDI_PORT, self.received,
                                    MIDI_JACK_OUT_PORT, self._lib)
            return
        self._virtual_in = self._new_input(MIDI_CLIENT_IN, MIDI_PORT)
        self._virtual_in.open_virtual_port(MIDI_PORT)
        self._scanner = self._rtmidi.MidiIn(self._api, name=f"{MIDI_CLIENT_IN}-scan")
        self._out = self._rtmidi.MidiOut(self._api, name=MIDI_CLIENT_OUT)
        self._out.open_virtual_port(MIDI_PORT)

    def _connect(self, name: str, index: int) -> None:
        if self._jack is not None:
            self._jack.connect(name)
            return
        midi_in = self._new_input(MIDI_CLIENT_SOURCE, name)
        midi_in.open_port(index, name=MIDI_PORT)
        self._inputs[name] = midi_in

    def _disconnect(self, name: str) -> None:
        if self._jack is not None:
            self._jack.disconnect(name)
        else:
            self._inputs.pop(name).close_port()

    def send(self, message: bytes) -> bool:
        """Send one message on the output port; False when there is no MIDI system."""
        if self._jack is not None:
            if not self._jack.send(message):
                log.warning("cannot send %d bytes of MIDI: the JACK output queue is full",
                            len(message))
                return False
            self.sent += 1
            return True
        if self._out is None:
            return False
        try:
            self._out.send_message(message)
        except Exception as exc:
            log.warning("cannot send %d bytes of MIDI: %s", len(message), exc)
            return False
        self.sent += 1
        return True

    def _close_all(self) -> None:
        for midi_in in self._inputs.values():
            midi_in.close_port()
        self._inputs.clear()
        if self._jack is not None:
            self._jack.close()
            self._jack = None
        for port in (self._virtual_in, self._out, self._scanner):
            if port is not None:
                port.close_port()
        self._virtual_in = self._out = self._scanner = None

    def close(self) -> None:
        """Close every port."""
        self._close_all()
