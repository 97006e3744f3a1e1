"""The control interface in-process, for tests: a real ControlServer on a free loopback
port, a real Dispatcher with real Storage, Library and factory cartridge; only the engine
is a recorder of calls (the sound is tested in tests/e2e). Requests go over real sockets.
"""

from __future__ import annotations

import http.client
import json
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from dx7d.daemon import control
from dx7d.daemon.audio import BlockClock
from dx7d.daemon.control import ControlServer
from dx7d.daemon.dispatcher import Dispatcher
from dx7d.daemon.factory import load_factory
from dx7d.daemon.library import Library
from dx7d.daemon.storage import Storage

__all__ = ["TOKEN", "Module", "RecordingEngine", "module", "new_dispatcher", "read_to_close",
           "rom1a", "start", "status_line"]

TOKEN = "s3cret-token"


class RecordingEngine:
    """Stands in for the C++ engine: records what the dispatcher asked of it."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def __getattr__(self, name: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> bool:
            self.calls.append((name, args))
            return True
        return call

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]


class NoMidiOut:
    def send(self, message: bytes) -> bool:
        return False


@dataclass
class Module:
    server: ControlServer
    dispatcher: Dispatcher
    engine: RecordingEngine
    storage: Storage

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection(self.server.host, self.server.port, timeout=10)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def status(self) -> dict[str, Any]:
        token = self.server.token
        code, body = self.request("GET", "/status",
                                  headers={"Authorization": f"Bearer {token}"} if token else {})
        assert code == 200
        return json.loads(body)  # type: ignore[no-any-return]

    def raw(self, data: bytes, timeout: float = 10.0) -> bytes:
        """Send ``data`` on a fresh connection; everything the server says until it closes."""
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=timeout) as s:
            s.sendall(data)
            return read_to_close(s)


def read_to_close(s: socket.socket) -> bytes:
    received = b""
    while chunk := s.recv(65536):
        received += chunk
    return received


def status_line(reply: bytes) -> int:
    assert reply.startswith(b"HTTP/1."), reply[:80]
    return int(reply.split(b" ", 2)[1])


def new_dispatcher(tmp_path: Path, engine: Any, memory_protect: bool = False) -> Dispatcher:
    """A real Dispatcher (storage in tmp_path/state, banks in tmp_path/banks, the factory
    cartridge, omni, no MIDI output) on ``engine``; not started."""
    return Dispatcher(engine, BlockClock(48000, 128), Storage(tmp_path / "state"),
                      Library(tmp_path / "banks"), NoMidiOut(), factory=load_factory(),
                      channel=None, memory_protect=memory_protect)


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Callable[..., Module]]:
    """Start a module (token, memory_protect as given); it is stopped after the test."""
    started: list[Module] = []

    def start(token: str | None = None, memory_protect: bool = False,
              host: str = "127.0.0.1") -> Module:
        engine = RecordingEngine()
        dispatcher = new_dispatcher(tmp_path, engine, memory_protect)
        storage = dispatcher.storage
        dispatcher.start()
        source = _StatusSource(dispatcher)
        server = ControlServer(host, 0, dispatcher, token,
                               lambda: control.status_document(source))
        source.control = server
        server.start()
        started.append(Module(server, dispatcher, engine, storage))
        return started[-1]

    yield start
    for module in started:
        module.server.stop()
        module.dispatcher.stop()


@pytest.fixture
def module(start: Callable[..., Module]) -> Module:
    return start()


class _StatusSource:
    """The parts of a daemon.Daemon that status_document reads."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        from dx7d.config import load
        from dx7d.daemon.audio import AudioStats

        self.dispatcher = dispatcher
        self.control: ControlServer | None = None
        self.engine = _EngineCounters()
        self.audio_stats = AudioStats()
        self.config = load(None)
        self.started = time.monotonic()
        self.output = type("Out", (), {"kind": "null", "device_name": "null"})()
        self.midi = type("Midi", (), {"api_name": "alsa", "realtime": lambda _self: None,
                                      "listening": False, "connected": []})()


class _EngineCounters:
    sounding_voices = 0
    dropped_events = 0


@pytest.fixture(scope="module")
def rom1a(shared_banks: Path) -> bytes:
    return (shared_banks / "rom1A.syx").read_bytes()
