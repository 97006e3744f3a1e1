"""The control interface under slow and concurrent clients (issue 14, finding 4).

What the attack found on the thread-per-connection server: 50 connections trickling a
byte a second took all 16 slots (no token needed) and 26 of 200 concurrent uploads were
closed without an answer. Here, over real loopback sockets: a client without a whole
request head in time loses its slot before it is served, one address holds at most
MAX_PER_ADDRESS connections, a client without a slot gets a whole 503 with Retry-After,
and every upload is answered or not applied. Clients come from several loopback
addresses (127.0.0.x) to stand for several LAN hosts.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from dx7d.daemon import control
from dx7d.voices import Bank, Patch, bank_dump

from .control_rig import Module, module, read_to_close, start, status_line

__all__ = ["module", "start"]  # the fixtures, imported for pytest


def connect(module: Module, source: str = "127.0.0.1") -> socket.socket:
    """A connection to the module from loopback address ``source``."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(10)
    s.bind((source, 0))
    s.connect(("127.0.0.1", module.server.port))
    return s


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout} s")
        time.sleep(0.01)


def get_status(module: Module, source: str = "127.0.0.1") -> int:
    with connect(module, source) as s:
        s.sendall(b"GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        return status_line(read_to_close(s))


def test_a_slowloris_trickling_a_head_loses_its_slot_before_it_is_served(
        module: Module, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(control, "HEAD_TIMEOUT_S", 1.0)
    monkeypatch.setattr(control, "CLIENT_TIMEOUT_S", 30.0)
    sent = 0
    with connect(module) as s:
        s.sendall(b"GET /status HTTP/1.1\r\n")
        try:
            for _ in range(200):  # a header byte every 0.05 s: never a silence
                s.sendall(b"X")
                sent += 1
                time.sleep(0.05)
        except (BrokenPipeError, ConnectionResetError):
            pass
        else:
            assert read_to_close(s) == b""
    assert sent < 200, "the trickling client was never dropped"
    assert module.server.slots.dropped_slow == 1
    print(f"slowloris dropped after {sent} trickled bytes (HEAD_TIMEOUT_S 1.0)")
    wait_for(lambda: module.server.slots.open == 0, "the slot given back")
    assert module.status()["program"]["number"] >= 1


def test_slow_clients_do_not_block_others(module: Module,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(control, "HEAD_TIMEOUT_S", 30.0)
    stalled = [connect(module, f"127.0.0.{n}") for n in range(2, 6)]
    try:
        for s in stalled:
            s.sendall(b"GET /sta")
        assert module.status()["program"]["number"] >= 1
        assert module.request("POST", "/panic")[0] == 200
    finally:
        for s in stalled:
            s.close()


def test_one_address_holds_at_most_max_per_address_and_the_next_gets_503(
        module: Module, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(control, "HEAD_TIMEOUT_S", 30.0)
    held = [connect(module, "127.0.0.7") for _ in range(control.MAX_PER_ADDRESS)]
    try:
        wait_for(lambda: module.server.slots.by_address.get("127.0.0.7") ==
                 control.MAX_PER_ADDRESS, "every held connection accepted")
        with connect(module, "127.0.0.7") as extra:
            extra.sendall(b"GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            reply = read_to_close(extra)
        assert status_line(reply) == 503
        assert b"\r\nRetry-After: 1\r\n" in reply
        assert "busy" in json.loads(reply.split(b"\r\n\r\n", 1)[1])["error"]
        assert get_status(module, "127.0.0.8") == 200  # another host is served
        assert module.server.slots.refused_busy == 1
    finally:
        for s in held:
            s.close()


def test_when_every_slot_is_taken_the_answer_is_503_until_one_is_free(
        module: Module, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(control, "HEAD_TIMEOUT_S", 30.0)
    monkeypatch.setattr(control, "MAX_CONNECTIONS", 6)
    monkeypatch.setattr(control, "MAX_PER_ADDRESS", 2)
    held = [connect(module, f"127.0.0.{10 + n // 2}") for n in range(6)]
    try:
        wait_for(lambda: module.server.slots.open == 6, "six connections held")
        with connect(module) as extra:
            reply = read_to_close(extra)  # answered at once, before it sends anything
        assert status_line(reply) == 503
        assert b"\r\nRetry-After: 1\r\n" in reply
    finally:
        for s in held:
            s.close()
    wait_for(lambda: module.server.slots.open == 0, "the slots given back")
    assert get_status(module) == 200


def test_fifty_trickling_clients_do_not_keep_status_from_being_served(
        module: Module, monkeypatch: pytest.MonkeyPatch) -> None:
    """The attack of the finding: 50 connections trickling bytes, 25 from one host, 25
    from five others; meanwhile 20 GET /status from another host are all served."""
    monkeypatch.setattr(control, "HEAD_TIMEOUT_S", 1.0)
    sources = ["127.0.0.20"] * 25 + [f"127.0.0.{21 + n % 5}" for n in range(25)]
    tricklers = [connect(module, source) for source in sources]
    for s in tricklers:
        s.sendall(b"GET /status HTTP/1.1\r\nX-Trickle: ")  # then a header byte at a time
        s.setblocking(False)
    outcome: dict[int, bytes] = {}  # trickler index -> what it got before it was dropped
    stop = threading.Event()

    def trickle() -> None:
        for _ in range(400):  # a byte every 0.05 s each, 20 s at most
            if stop.is_set() or len(outcome) == len(tricklers):
                return
            for i, s in enumerate(tricklers):
                if i in outcome:
                    continue
                try:
                    got = s.recv(4096)
                    outcome[i] = got  # a 503, or b"" when dropped
                    continue
                except BlockingIOError:
                    pass
                except ConnectionResetError:
                    outcome[i] = b""
                    continue
                try:
                    s.send(b"a")
                except (BrokenPipeError, ConnectionResetError):
                    outcome[i] = b""
            time.sleep(0.05)

    worker = threading.Thread(target=trickle, name="tricklers")
    worker.start()
    try:
        codes = [get_status(module, "127.0.0.2") for _ in range(20)]
        worker.join(30)
    finally:
        stop.set()
        worker.join()
        for s in tricklers:
            s.close()
    assert codes == [200] * 20
    assert len(outcome) == 50, "some trickling clients were never dropped"
    busy = [i for i, got in outcome.items() if got.startswith(b"HTTP/1.1 503")]
    dropped = [i for i, got in outcome.items() if got == b""]
    assert len(busy) + len(dropped) == 50  # none was served
    assert len(busy) == 25 - control.MAX_PER_ADDRESS  # the one host got only its share
    assert module.server.slots.dropped_slow == len(dropped)
    print(f"50 tricklers: {len(busy)} answered 503, {len(dropped)} dropped as slow; "
          "20 of 20 status requests served")


@pytest.mark.parametrize("hosts", [1, 4])
def test_twenty_concurrent_uploads_each_get_an_answer_or_are_not_applied(
        module: Module, hosts: int) -> None:
    """20 clients on ``hosts`` hosts, 5 uploads each of a cartridge of their own: every
    PUT gets a whole answer (200, or 503 when its host has no free slot), and exactly
    the answered-200 cartridges were stored."""
    def cartridge(client: int, take: int) -> tuple[str, bytes]:
        name = f"UP {client:02d}-{take}"
        return name, bank_dump(Bank([Patch(name=name)] + [Patch()] * 31), 0)

    def client(n: int) -> list[tuple[str, int]]:
        results = []
        for take in range(5):
            name, dump = cartridge(n, take)
            with connect(module, f"127.0.0.{1 + n % hosts}") as s:
                s.sendall(f"PUT /cartridge HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: "
                          f"{len(dump)}\r\nConnection: close\r\n\r\n".encode() + dump)
                results.append((name.ljust(10), status_line(read_to_close(s))))
        return results

    with ThreadPoolExecutor(20) as pool:
        results = [r for batch in pool.map(client, range(20)) for r in batch]
    stored = {name for name, code in results if code == 200}
    refused = {name for name, code in results if code != 200}
    assert {code for _, code in results} <= {200, 503}
    assert len(results) == 100
    status = module.status()
    assert status["sysex"]["accepted"] == len(stored)
    current = Bank.read(module.storage.cartridge_path)[0].name
    assert current in stored
    backups = {Bank.read(path)[0].name for path in module.storage.backups()}
    assert backups <= stored
    assert not (refused & (backups | {current}))
    if hosts * control.MAX_PER_ADDRESS >= 20:
        assert not refused  # a slot for everyone: all stored
    print(f"100 uploads from 20 concurrent clients on {hosts} hosts: {len(stored)} stored, "
          f"{len(refused)} answered 503")


def test_status_counts_the_connections_refused_and_dropped(
        module: Module, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(control, "HEAD_TIMEOUT_S", 0.5)
    monkeypatch.setattr(control, "MAX_PER_ADDRESS", 1)
    with connect(module, "127.0.0.9") as slow:
        slow.sendall(b"GET /status HTTP/1.1\r\n")
        wait_for(lambda: module.server.slots.open == 1, "the slow client's slot")
        with connect(module, "127.0.0.9") as extra:
            assert status_line(read_to_close(extra)) == 503
        assert read_to_close(slow) == b""  # dropped as slow
    wait_for(lambda: module.server.slots.open == 0, "the slot given back")
    assert module.status()["control"] == {"connections": 1,  # this request's own
                                          "refused_busy": 1, "dropped_slow": 1}
