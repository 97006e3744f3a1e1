"""MIDI input from JACK, raw: every JACK event's bytes as they came, tagged with their port.

Why not rtmidi's JACK input: it glues every JACK event after an ``F0 ...`` that
lacks its F7 onto that sysex, and holds it all back until some event ends in F7
(a stray F0 made the module deaf, with stuck notes; clock bytes landed inside
dumps). The MIDI spec ends a sysex at any status byte, and only a parser that sees
the raw bytes can do that: this client hands them over untouched
(dx7d.daemon.midistream parses them, one parser per port).

One JACK client ``dx7d-in`` with the port ``dx7d`` (for librarians and DAWs to
connect to) and one more input port per source port that ``midi.inputs`` matches.
The process callback (JACK's thread) only copies each event's bytes and enqueues
them with a timestamp; it never logs, blocks or waits on anything else.
"""

from __future__ import annotations

import queue
import threading
import time
from typing import Any

__all__ = ["JackInputs"]

_UNREGISTER_WAIT_S = 0.5  # a removed port is unregistered once the callback let go of it


class JackInputs:
    """The JACK side of MIDI input; the main thread owns it (not thread-safe)."""

    def __init__(self, client_name: str, port_name: str, received: queue.SimpleQueue[Any]
                 ) -> None:
        import jack

        self._jack = jack
        self.received = received
        self.client = jack.Client(client_name, no_start_server=True)
        self.rate = self.client.samplerate
        self.shut_down = threading.Event()
        virtual = self.client.midi_inports.register(port_name)
        # (port, label) pairs the callback reads; replaced whole, never changed in place
        self._ports: tuple[tuple[Any, str], ...] = ((virtual, port_name),)
        self._by_source: dict[str, Any] = {}  # source port name -> our port connected to it
        self._cycles = 0
        self._serial = 0
        self.client.set_process_callback(self._process)
        self.client.set_shutdown_callback(lambda _status, _reason: self.shut_down.set())
        self.client.activate()

    # -- JACK's thread --------------------------------------------------------------------

    def _process(self, _frames: int) -> None:
        now = time.perf_counter()
        put = self.received.put
        rate = self.rate
        for port, label in self._ports:
            for offset, data in port.incoming_midi_events():
                put((now + offset / rate, bytes(data), label))
        self._cycles += 1

    # -- the main thread ------------------------------------------------------------------

    def source_ports(self) -> list[str]:
        """Every MIDI output port of the JACK graph (sources we could listen to)."""
        return [p.name for p in self.client.get_ports(is_midi=True, is_output=True)]

    @property
    def connected(self) -> list[str]:
        return sorted(self._by_source)

    def connect(self, source: str) -> None:
        """Listen to ``source`` through a port of our own; raises jack.JackError."""
        self._serial += 1
        port = self.client.midi_inports.register(f"from-{self._serial}")
        try:
            self.client.connect(source, port)
        except self._jack.JackError:
            port.unregister()
            raise
        self._by_source[source] = port
        self._ports = (*self._ports, (port, source))

    def disconnect(self, source: str) -> None:
        """Stop listening to ``source``; its port is unregistered once the callback let go."""
        port = self._by_source.pop(source)
        self._ports = tuple(item for item in self._ports if item[0] is not port)
        cycles = self._cycles
        deadline = time.monotonic() + _UNREGISTER_WAIT_S
        while self._cycles < cycles + 2 and time.monotonic() < deadline:
            time.sleep(0.005)
        try:
            port.unregister()
        except self._jack.JackError:
            pass

    def close(self) -> None:
        self._ports = ()
        try:
            if not self.shut_down.is_set():
                self.client.deactivate()
            self.client.close()
        except self._jack.JackError:
            pass
