"""The control interface in-process: a real ControlServer on a free loopback port, a
real Dispatcher with real Storage, Library and factory cartridge; only the engine is a
recorder of calls (the sound is tested in tests/e2e). Requests go over real sockets.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from dx7d.daemon import control
from dx7d.daemon.audio import BlockClock
from dx7d.daemon.control import MAX_BODY, ControlServer
from dx7d.daemon.dispatcher import Dispatcher
from dx7d.daemon.factory import load_factory
from dx7d.daemon.library import Library
from dx7d.daemon.storage import Storage
from dx7d.voices import BankDump, Patch, bank_dump, parse_sysex, voice_dump

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
        code, body = self.request("GET", "/status")
        assert code == 200
        return json.loads(body)  # type: ignore[no-any-return]

    def raw(self, data: bytes, timeout: float = 10.0) -> bytes:
        """Send ``data`` on a fresh connection; everything the server says until it closes."""
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=timeout) as s:
            s.sendall(data)
            return _read_to_close(s)


def _read_to_close(s: socket.socket) -> bytes:
    received = b""
    while chunk := s.recv(65536):
        received += chunk
    return received


def _status_line(reply: bytes) -> int:
    assert reply.startswith(b"HTTP/1."), reply[:80]
    return int(reply.split(b" ", 2)[1])


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Callable[..., Module]]:
    """Start a module (token, memory_protect as given); it is stopped after the test."""
    started: list[Module] = []

    def start(token: str | None = None, memory_protect: bool = False,
              host: str = "127.0.0.1") -> Module:
        storage = Storage(tmp_path / "state")
        engine = RecordingEngine()
        dispatcher = Dispatcher(engine, BlockClock(48000, 128), storage,
                                Library(tmp_path / "banks"), NoMidiOut(),
                                factory=load_factory(), channel=None,
                                memory_protect=memory_protect)
        dispatcher.start()
        source = _StatusSource(dispatcher)
        server = ControlServer(host, 0, dispatcher, token,
                               lambda: control.status_document(source))
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
        self.engine = _EngineCounters()
        self.audio_stats = AudioStats()
        self.config = load(None)
        self.started = time.monotonic()
        self.output = type("Out", (), {"kind": "null", "device_name": "null"})()
        self.midi = type("Midi", (), {"api_name": "alsa", "listening": False,
                                      "connected": []})()


class _EngineCounters:
    sounding_voices = 0
    dropped_events = 0


@pytest.fixture(scope="module")
def rom1a(shared_banks: Path) -> bytes:
    return (shared_banks / "rom1A.syx").read_bytes()


# -- cartridges ----------------------------------------------------------------------------


def test_a_cartridge_round_trips_byte_for_byte_and_is_stored(module: Module,
                                                             rom1a: bytes) -> None:
    code, body = module.request("PUT", "/cartridge", rom1a)
    assert code == 200, body
    dump = parse_sysex(rom1a)
    assert isinstance(dump, BankDump)
    assert json.loads(body)["stored"] == [p.name for p in dump.bank]
    code, back = module.request("GET", "/cartridge")
    assert code == 200
    assert back == rom1a
    assert module.storage.cartridge_path.read_bytes() == rom1a
    status = module.status()
    assert status["sysex"]["accepted"] == 1
    assert status["sysex"]["refused"] == 0


def test_a_cartridge_with_a_bad_checksum_is_refused_with_the_reason_and_changes_nothing(
        module: Module, rom1a: bytes) -> None:
    _, before = module.request("GET", "/cartridge")
    bad = bytearray(rom1a)
    bad[-2] ^= 0x01  # the checksum byte
    code, body = module.request("PUT", "/cartridge", bytes(bad))
    assert code == 400
    reason = json.loads(body)["error"]
    assert "checksum" in reason.lower(), reason
    _, after = module.request("GET", "/cartridge")
    assert after == before
    assert not module.storage.cartridge_path.exists()
    status = module.status()
    assert status["sysex"]["refused"] == 1
    assert "checksum" in status["sysex"]["last_refusal"].lower()


@pytest.mark.parametrize("body, says", [
    (b"", "empty"),
    (b"\x00" * 4104, "not sysex"),
    (bytes.fromhex("f0 43 00 09 20 00"), "f7"),
    (voice_dump(Patch(name="ONE VOICE"), 0), "VoiceDump"),
])
def test_what_is_not_a_cartridge_dump_is_refused_with_the_reason(
        module: Module, body: bytes, says: str) -> None:
    code, reply = module.request("PUT", "/cartridge", body)
    assert code == 400
    assert says.lower() in json.loads(reply)["error"].lower()
    assert "load_patch" not in module.engine.names()[1:]  # only the start-up load
    assert module.status()["sysex"]["refused"] == 1


def test_memory_protect_refuses_a_cartridge_and_keeps_the_old_one(
        start: Callable[..., Module], rom1a: bytes) -> None:
    module = start(memory_protect=True)
    _, before = module.request("GET", "/cartridge")
    code, body = module.request("PUT", "/cartridge", rom1a)
    assert code == 409
    assert "memory_protect" in json.loads(body)["error"]
    assert module.request("GET", "/cartridge")[1] == before
    assert not module.storage.cartridge_path.exists()


# -- the edit buffer -----------------------------------------------------------------------


def test_a_voice_round_trips_and_sounds_at_once(module: Module) -> None:
    patch = Patch(name="CTL VOICE")
    patch.op[1].output_level = 77
    dump = voice_dump(patch, 0)
    code, body = module.request("PUT", "/voice", dump)
    assert code == 200
    assert json.loads(body) == {"voice": "CTL VOICE "}
    assert module.request("GET", "/voice") == (200, dump)
    loaded = [args[0] for name, args in module.engine.calls if name == "load_patch"]
    assert loaded[-1].name == "CTL VOICE "
    assert module.status()["program"]["name"] == "CTL VOICE "


def test_a_cartridge_sent_to_voice_is_refused(module: Module, rom1a: bytes) -> None:
    code, body = module.request("PUT", "/voice", rom1a)
    assert code == 400
    assert "BankDump" in json.loads(body)["error"]


# -- programs and panic --------------------------------------------------------------------


def test_program_selects_a_voice_of_the_cartridge(module: Module) -> None:
    factory = load_factory()
    for number in (1, 17, 32):
        code, body = module.request("POST", f"/program/{number}")
        assert code == 200
        assert json.loads(body) == {"program": number, "name": factory[number - 1].name}
        assert module.status()["program"]["number"] == number


@pytest.mark.parametrize("path", ["/program/0", "/program/33", "/program/99", "/program/123",
                                  "/program/-1", "/program/abc", "/program/", "/program/1.5",
                                  "/program/%31",
                                  pytest.param("/program/" + "9" * 5000, id="5000-nines")])
def test_bad_program_numbers_are_refused_and_change_nothing(module: Module, path: str) -> None:
    module.request("POST", "/program/5")
    code, body = module.request("POST", path)
    assert code == 400
    assert "1-32" in json.loads(body)["error"]
    assert module.status()["program"]["number"] == 5


def test_panic_silences_everything(module: Module) -> None:
    code, body = module.request("POST", "/panic")
    assert code == 200
    assert json.loads(body) == {"panic": True}
    names = module.engine.names()
    assert "all_sound_off" in names and "all_notes_off" in names


# -- tokens --------------------------------------------------------------------------------


@pytest.mark.parametrize("method, path", [("GET", "/status"), ("GET", "/cartridge"),
                                          ("PUT", "/cartridge"), ("POST", "/panic"),
                                          ("POST", "/program/3"), ("GET", "/nowhere")])
def test_a_missing_or_wrong_token_is_refused(start: Callable[..., Module], method: str,
                                             path: str) -> None:
    module = start(token=TOKEN)
    before = len(module.engine.calls)
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN},
                    {"Authorization": f"Bearer {TOKEN}x"}, {"Authorization": f"Basic {TOKEN}"}):
        code, body = module.request(method, path, b"" if method != "GET" else None, headers)
        assert code == 401, headers
        assert "token" in json.loads(body)["error"]
    assert len(module.engine.calls) == before
    code, _ = module.request("GET", "/status", headers={"Authorization": f"Bearer {TOKEN}"})
    assert code == 200


# -- garbage -------------------------------------------------------------------------------


@pytest.mark.parametrize("junk", [
    b"\x00\xff\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",  # a TLS hello, say
    b"GARBAGE\r\n\r\n",
    b"GET\r\n\r\n",
    b"GET /status HTTP/9.9\r\n\r\n",
    b"GET /status HTTP/1.1\r\n" + b"X: y\r\n" * 200 + b"\r\n",  # too many headers
    b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n",  # a request line too long
])
def test_raw_socket_junk_gets_an_error_and_the_server_lives_on(module: Module,
                                                              junk: bytes) -> None:
    reply = module.raw(junk)
    assert 400 <= _status_line(reply) < 600
    assert json.loads(reply.split(b"\r\n\r\n", 1)[1])["error"]
    assert module.status()["sysex"]["refused"] == 0


def test_a_huge_content_length_is_refused_before_reading_the_body(module: Module) -> None:
    head = (f"PUT /cartridge HTTP/1.1\r\nHost: x\r\nContent-Length: {10**12}\r\n\r\n"
            ).encode()
    reply = module.raw(head)  # no body sent: the server must not wait for it
    assert _status_line(reply) == 413
    assert str(MAX_BODY).encode() in reply


@pytest.mark.parametrize("lengths, code", [
    (["-5"], 400), (["4k"], 400), (["+163"], 400), (["1_63"], 400), (["0x10"], 400),
    (["163", "164"], 400), ([str(MAX_BODY + 1)], 413),
])
def test_bad_content_lengths_are_refused(module: Module, lengths: list[str], code: int) -> None:
    voice = voice_dump(Patch(name="SMUGGLED"), 0)
    head = "".join(f"Content-Length: {n}\r\n" for n in lengths)
    reply = module.raw(f"PUT /voice HTTP/1.1\r\n{head}\r\n".encode() + voice)
    assert _status_line(reply) == code
    assert module.status()["program"]["name"] != "SMUGGLED  "


@pytest.mark.parametrize("length", ["", "Content-Length: 4104\r\n"])
def test_a_chunked_body_is_refused(module: Module, rom1a: bytes, length: str) -> None:
    reply = module.raw(f"PUT /cartridge HTTP/1.1\r\nTransfer-Encoding: chunked\r\n{length}"
                       f"\r\n{len(rom1a):x}\r\n".encode() + rom1a + b"\r\n0\r\n\r\n")
    assert _status_line(reply) == 411
    assert reply.count(b"HTTP/1.1") == 1  # and the connection ends there
    assert not module.storage.cartridge_path.exists()


@pytest.mark.parametrize("method, path, code", [
    ("GET", "/", 404), ("GET", "/status/", 404), ("GET", "/../etc/passwd", 404),
    ("PUT", "/status", 404), ("POST", "/cartridge", 404), ("DELETE", "/cartridge", 501),
    ("PATCH", "/voice", 501), ("BREW", "/pot", 501), ("HEAD", "/status", 501),
])
def test_unknown_paths_and_methods_are_refused(module: Module, method: str, path: str,
                                               code: int) -> None:
    assert module.request(method, path)[0] == code


def test_a_stalled_partial_request_times_out(module: Module,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(control, "CLIENT_TIMEOUT_S", 0.5)
    with socket.create_connection(("127.0.0.1", module.server.port), timeout=10) as s:
        s.sendall(b"PUT /cartridge HTTP/1.1\r\nContent-Length: 4104\r\n\r\n\xf0\x43")
        t0 = time.monotonic()
        reply = _read_to_close(s)  # the server closes the connection
        waited = time.monotonic() - t0
    assert reply == b""  # dropped without an answer
    assert not module.storage.cartridge_path.exists()
    print(f"stalled request dropped after {waited:.2f} s (CLIENT_TIMEOUT_S 0.5)")
    assert module.status()["sysex"]["refused"] == 0


def test_a_slowloris_trickling_headers_is_dropped_at_the_request_deadline(
        module: Module, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(control, "CLIENT_TIMEOUT_S", 1.0)
    monkeypatch.setattr(control, "REQUEST_TIMEOUT_S", 1.5)
    sent = 0
    with socket.create_connection(("127.0.0.1", module.server.port), timeout=10) as s:
        s.sendall(b"GET /status HTTP/1.1\r\n")
        try:
            for _ in range(200):  # a header byte every 0.1 s: never a 1 s silence
                s.sendall(b"X")
                sent += 1
                time.sleep(0.1)
        except (BrokenPipeError, ConnectionResetError):
            pass
        else:
            s.settimeout(5)
            assert _read_to_close(s) == b""
    assert sent < 200, "the trickling client was never dropped"
    print(f"slowloris dropped after {sent} trickled bytes")
    assert module.status()["program"]["number"] >= 1


def test_slow_clients_do_not_block_others(module: Module,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(control, "CLIENT_TIMEOUT_S", 30.0)
    stalled = [socket.create_connection(("127.0.0.1", module.server.port), timeout=10)
               for _ in range(4)]
    try:
        for s in stalled:
            s.sendall(b"GET /sta")
        assert module.status()["program"]["number"] >= 1
        assert module.request("POST", "/panic")[0] == 200
    finally:
        for s in stalled:
            s.close()


def test_too_many_connections_are_closed_and_the_rest_are_served(
        module: Module, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(control, "CLIENT_TIMEOUT_S", 30.0)
    held = [socket.create_connection(("127.0.0.1", module.server.port), timeout=10)
            for _ in range(control.MAX_CONNECTIONS)]
    try:
        time.sleep(0.3)  # the server has accepted them all
        with socket.create_connection(("127.0.0.1", module.server.port), timeout=10) as extra:
            extra.sendall(b"GET /status HTTP/1.1\r\n\r\n")
            assert _read_to_close(extra) == b""
    finally:
        for s in held:
            s.close()
    deadline = time.monotonic() + 10
    while True:  # the held connections' threads end as they see the close
        try:
            assert module.status()["program"]["number"] >= 1
            break
        except (ConnectionError, AssertionError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_a_busy_dispatcher_gives_503_not_a_dropped_connection(
        module: Module, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(control, "COMMAND_TIMEOUT_S", 0.3)
    release = threading.Event()
    module.dispatcher.submit(lambda: release.wait(10))
    try:
        code, body = module.request("POST", "/program/2")
    finally:
        release.set()
    assert code == 503
    assert "busy" in json.loads(body)["error"]


def test_a_failing_command_answers_500(module: Module, rom1a: bytes) -> None:
    module.storage.cartridge_path.mkdir()  # storing over a folder fails with an OSError
    code, body = module.request("PUT", "/cartridge", rom1a)
    assert code == 500
    assert "Error" in json.loads(body)["error"]
    assert module.status()["sysex"]["accepted"] == 0


def test_keep_alive_serves_several_requests_on_one_connection(module: Module,
                                                              rom1a: bytes) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", module.server.port, timeout=10)
    try:
        for _ in range(3):
            conn.request("GET", "/cartridge")
            response = conn.getresponse()
            assert response.status == 200
            assert len(response.read()) == 4104
    finally:
        conn.close()


def test_bank_dump_of_the_factory_is_what_get_returns(module: Module) -> None:
    assert module.request("GET", "/cartridge")[1] == bank_dump(load_factory(), 0)


def test_a_body_sent_with_get_or_post_does_not_spill_into_the_next_request(
        module: Module) -> None:
    with socket.create_connection(("127.0.0.1", module.server.port), timeout=10) as s:
        s.sendall(b"GET /voice HTTP/1.1\r\nContent-Length: 20\r\n\r\nPOST /panic HTTP/1.1"
                  b"POST /program/9 HTTP/1.1\r\nContent-Length: 4\r\n\r\nGET "
                  b"GET /status HTTP/1.1\r\nConnection: close\r\n\r\n")
        replies = _read_to_close(s)
    assert replies.count(b"HTTP/1.1 200 OK") == 3
    assert "all_sound_off" not in module.engine.names()  # the GET's body was not a request
    assert module.status()["program"]["number"] == 9


def test_a_host_name_listens_on_its_address(start: Callable[..., Module]) -> None:
    module = start(host="localhost")
    assert module.server.host == "127.0.0.1"  # what zeroconf announces
    assert module.status()["program"]["number"] >= 1


def test_ipv6_loopback(start: Callable[..., Module]) -> None:
    try:
        socket.socket(socket.AF_INET6).close()
        socket.getaddrinfo("::1", 0, socket.AF_INET6)
    except OSError as exc:
        pytest.skip(f"no IPv6 here: {exc}")
    module = start(host="::1")
    assert module.server.host == "::1"
    assert module.status()["program"]["number"] >= 1


def test_the_token_can_change_while_serving(start: Callable[..., Module]) -> None:
    module = start(token=TOKEN)
    module.server.token = "the-new-one"
    assert module.request("GET", "/status", headers={"Authorization": f"Bearer {TOKEN}"}
                          )[0] == 401
    assert module.request("GET", "/status",
                          headers={"Authorization": "Bearer the-new-one"})[0] == 200
    module.server.token = None
    assert module.request("GET", "/status")[0] == 200
