"""Smoke test of the real MIDI path: a JACK-Client port sends to an rtmidi JACK port."""

from __future__ import annotations

import queue
import threading
import time

import jack
import rtmidi


def test_note_sent_by_jack_client_arrives_at_rtmidi_port(jack_server: str) -> None:
    received: queue.Queue[list[int]] = queue.Queue()
    midi_in = rtmidi.MidiIn(rtmidi.API_UNIX_JACK, name="smoke-rx")
    midi_in.set_callback(lambda event, _data: received.put(event[0]))
    midi_in.open_virtual_port("in")

    pending = [bytes([0x90, 60, 100]), bytes([0x80, 60, 0])]
    client = jack.Client("smoke-tx", servername=jack_server, no_start_server=True)
    port = client.midi_outports.register("out")
    connected = threading.Event()  # send only once the ports are connected

    @client.set_process_callback
    def process(frames: int) -> None:
        port.clear_buffer()
        if connected.is_set() and pending:
            port.write_midi_event(0, pending.pop(0))

    try:
        with client:
            targets = [p.name for p in client.get_ports(is_midi=True, is_input=True)
                       if p.name.startswith("smoke-rx")]
            assert targets, "rtmidi's virtual JACK input port was not registered"
            client.connect(port, targets[0])
            connected.set()
            got = [received.get(timeout=5.0), received.get(timeout=5.0)]
    finally:
        midi_in.close_port()
        del midi_in
        time.sleep(0.05)

    assert got == [[0x90, 60, 100], [0x80, 60, 0]]
