"""The engine's C++ JACK MIDI client (engine_cpp/dx7_jackmidi.cpp via daemon/_jackmidi.py),
under both engine loaders, against a private JACK server: raw bytes with their port and
time, ports connected and dropped, the port scan, replies out, shutdown detection."""

from __future__ import annotations

import os
import queue
import shutil
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import jack
import pytest
from dx7d.daemon._jackmidi import JackInputs, JackMidiError
from dx7d.engine_cpp import _loader

from .harness import CallbackGate

LOADERS = [pytest.param("cppyy", marks=pytest.mark.skipif(not _loader.cppyy_available(),
                                                           reason="cppyy is not importable")),
           pytest.param("compiled", marks=pytest.mark.skipif(shutil.which("g++") is None,
                                                              reason="g++ is not installed"))]


class Sender:
    """A JACK-Client with one MIDI output (sends queued events) and one input (collects)."""

    def __init__(self, server: str) -> None:
        self.client = jack.Client("jm-test", servername=server, no_start_server=True)
        self.out = self.client.midi_outports.register("out")
        self.inp = self.client.midi_inports.register("in")
        self.pending: queue.SimpleQueue[bytes] = queue.SimpleQueue()
        self.got: queue.SimpleQueue[bytes] = queue.SimpleQueue()
        self.gate = CallbackGate()
        self.client.set_process_callback(self._process)
        self.client.activate()

    def _process(self, _frames: int) -> None:
        if self.gate.shut():
            return
        self.out.clear_buffer()
        while True:
            try:
                data = self.pending.get_nowait()
            except queue.Empty:
                break
            self.out.write_midi_event(0, data)
        for _offset, data in self.inp.incoming_midi_events():
            self.got.put(bytes(data))

    def close(self) -> None:
        self.gate.close(self.client)


def first_through(sender: Sender, received: queue.SimpleQueue[Any], probe: bytes) -> Any:
    """Send ``probe`` until one arrives (a new connection takes effect a cycle or two
    after jack_connect returns); returns what came."""
    for _ in range(50):
        sender.pending.put(probe)
        try:
            return received.get(timeout=0.2)
        except queue.Empty:
            continue
    raise AssertionError("nothing came through the connection")


def drain(received: queue.SimpleQueue[Any]) -> None:
    while True:
        try:
            received.get(timeout=0.3)  # a probe sent twice is still on its way
        except queue.Empty:
            return


@pytest.fixture(params=LOADERS)
def midi(request: pytest.FixtureRequest, jack_server: str
         ) -> Iterator[tuple[JackInputs, Sender, queue.SimpleQueue[Any]]]:
    received: queue.SimpleQueue[Any] = queue.SimpleQueue()
    inputs = JackInputs("jm-dx7d", "dx7d", received, "replies",
                        _loader.load(request.param))
    sender = Sender(jack_server)
    try:
        yield inputs, sender, received
    finally:
        sender.close()
        inputs.close()


def test_raw_events_arrive_untouched_with_their_port_and_time(
        midi: tuple[JackInputs, Sender, queue.SimpleQueue[Any]]) -> None:
    inputs, sender, received = midi
    assert inputs.rate > 0
    sender.client.connect(sender.out, "jm-dx7d:dx7d")
    assert first_through(sender, received, bytes([0xFE]))[2] == "dx7d"
    drain(received)
    events = inputs.stats()["events"]
    before = time.perf_counter()
    # a stray F0 and a note: separate JACK events, handed over as they came (the
    # parser, not the client, ends the sysex at the status byte)
    for data in (bytes([0xF0, 0x43]), bytes([0x90, 60, 100]), bytes(range(0x10)) + b"\xf7"):
        sender.pending.put(data)
    got = [received.get(timeout=5) for _ in range(3)]
    assert [g[1] for g in got] == [bytes([0xF0, 0x43]), bytes([0x90, 60, 100]),
                                   bytes(range(0x10)) + b"\xf7"]
    assert {g[2] for g in got} == {"dx7d"}
    assert all(before - 0.1 < g[0] < time.perf_counter() + 0.1 for g in got)
    assert inputs.stats()["events"] == events + 3 and inputs.stats()["dropped"] == 0


def _fifo_threads() -> int:
    """Threads of this process the kernel runs under SCHED_FIFO (stat field 41 = 1)."""
    count = 0
    for tid in os.listdir("/proc/self/task"):
        with open(f"/proc/self/task/{tid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        count += fields[38] == "1"
    return count


def test_the_jack_thread_asks_for_sched_fifo_and_says_what_it_got(
        midi: tuple[JackInputs, Sender, queue.SimpleQueue[Any]]) -> None:
    inputs, sender, received = midi
    sender.client.connect(sender.out, "jm-dx7d:dx7d")
    first_through(sender, received, bytes([0xFE]))  # the client's thread has run
    realtime = inputs.realtime()
    assert realtime is not None
    granted = "SCHED_FIFO priority 60 (granted)"
    assert realtime == granted or realtime.startswith("SCHED_OTHER (SCHED_FIFO refused"), realtime
    # the kernel agrees: closing the client ends one SCHED_FIFO thread when it was granted
    # (the Sender's thread is an ordinary one: the server runs --no-realtime)
    fifo = _fifo_threads()
    inputs.close()
    assert (fifo - _fifo_threads() == 1) == (realtime == granted), (realtime, fifo)


def test_a_source_is_scanned_connected_labelled_and_dropped(
        midi: tuple[JackInputs, Sender, queue.SimpleQueue[Any]]) -> None:
    inputs, sender, received = midi
    assert "jm-test:out" in inputs.source_ports()
    assert "jm-dx7d:replies" in inputs.source_ports()
    assert not any(p.startswith("jm-dx7d:dx7d") for p in inputs.source_ports())
    inputs.connect("jm-test:out")
    assert inputs.connected == ["jm-test:out"]
    _t, data, label = first_through(sender, received, bytes([0xB0, 7, 99]))
    assert (data, label) == (bytes([0xB0, 7, 99]), "jm-test:out")
    inputs.disconnect("jm-test:out")
    assert inputs.connected == []
    ours = [p.name for p in sender.client.get_ports("jm-dx7d:", is_midi=True, is_input=True)]
    assert ours == ["jm-dx7d:dx7d"]
    with pytest.raises(JackMidiError):
        inputs.connect("no-such-client:port")
    assert inputs.connected == []


def test_a_source_wired_by_hand_to_the_virtual_port_is_not_offered_again(
        midi: tuple[JackInputs, Sender, queue.SimpleQueue[Any]]) -> None:
    """A DAW that connects itself to dx7d-in:dx7d, with midi.inputs "*": listening to it
    through a port of our own too would play each note twice and store each dump twice."""
    inputs, sender, received = midi
    sender.client.connect(sender.out, "jm-dx7d:dx7d")
    first_through(sender, received, bytes([0xFE]))  # the connection is made
    assert "jm-test:out" not in inputs.source_ports()
    assert "jm-dx7d:replies" in inputs.source_ports()
    sender.client.disconnect(sender.out, "jm-dx7d:dx7d")
    assert "jm-test:out" in inputs.source_ports()


def test_replies_go_out_whole_in_order(
        midi: tuple[JackInputs, Sender, queue.SimpleQueue[Any]]) -> None:
    inputs, sender, _received = midi
    sender.client.connect("jm-dx7d:replies", sender.inp)
    dump = bytes([0xF0, 0x43, 0x00, 0x09, 0x20, 0x00]) + bytes(4096) + bytes([0x00, 0xF7])
    messages = [bytes([0xF0, 0x7E, 0x00, 0x06, 0x02, 0xF7]), dump] * 12  # wraps the queue
    for message in messages:
        assert inputs.send(message)
    got = [sender.got.get(timeout=5) for _ in messages]
    assert got == messages


def test_the_server_going_away_is_noticed(jack_server: str) -> None:
    # its own server: the shared fixture's must outlive this test
    name = jack_server + "-gone"
    proc = subprocess.Popen(["jackd", "--no-realtime", "-n", name, "-d", "dummy"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        os.environ["JACK_DEFAULT_SERVER"] = name
        inputs = None
        deadline = time.monotonic() + 10
        while inputs is None:
            try:
                inputs = JackInputs("jm-gone", "dx7d", queue.SimpleQueue(), "replies",
                                    _loader.load(None))
            except JackMidiError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)  # the server is still starting
        proc.terminate()
        proc.wait(5)
        assert inputs.shut_down.wait(10)
        inputs.close()
    finally:
        os.environ["JACK_DEFAULT_SERVER"] = jack_server
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_no_server_is_an_error_not_a_hang(jack_server: str, monkeypatch: pytest.MonkeyPatch
                                          ) -> None:
    monkeypatch.setenv("JACK_DEFAULT_SERVER", "dx7d-no-such-server")
    with pytest.raises(JackMidiError, match="cannot open the JACK client"):
        JackInputs("jm-none", "dx7d", queue.SimpleQueue(), "replies", _loader.load(None))
