"""sd_notify against a real AF_UNIX datagram socket, as systemd listens for it."""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from dx7d.daemon._sdnotify import Notifier, WatchdogGate


def _listener(address: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(address)
    sock.settimeout(10.0)  # a guard against hanging, not a timing assertion
    return sock


@pytest.fixture
def path_socket(tmp_path: Path) -> Iterator[tuple[str, socket.socket]]:
    """A listening socket at a file-system path: (NOTIFY_SOCKET value, socket)."""
    address = str(tmp_path / "notify")
    sock = _listener(address)
    yield address, sock
    sock.close()


@pytest.fixture
def abstract_socket() -> Iterator[tuple[str, socket.socket]]:
    """A listening socket in the abstract namespace: ('@name', socket)."""
    name = f"dx7d-test-notify-{uuid.uuid4().hex}"
    sock = _listener("\0" + name)
    yield "@" + name, sock
    sock.close()


def _lifecycle(notifier: Notifier) -> list[bool]:
    return [
        notifier.ready(),
        notifier.status("rom1A: 3 voices, 0 underflows"),
        notifier.watchdog(),
        notifier.reloading(),
        notifier.ready("reloaded"),
        notifier.stopping(),
    ]


@pytest.mark.parametrize("kind", ["path", "abstract"])
def test_lifecycle_datagrams_arrive_verbatim(
    kind: str, request: pytest.FixtureRequest
) -> None:
    value, listener = request.getfixturevalue(f"{kind}_socket")
    before = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    with Notifier({"NOTIFY_SOCKET": value}) as notifier:
        assert notifier.enabled
        assert _lifecycle(notifier) == [True] * 6
    after = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    got = [listener.recv(4096) for _ in range(6)]
    assert got[:3] == [b"READY=1", b"STATUS=rom1A: 3 voices, 0 underflows", b"WATCHDOG=1"]
    reloading, stamp = got[3].split(b"\n")
    assert reloading == b"RELOADING=1"
    key, usec = stamp.split(b"=")
    assert key == b"MONOTONIC_USEC"
    assert before <= int(usec) <= after
    assert got[4:] == [b"READY=1\nSTATUS=reloaded", b"STOPPING=1"]


def test_notify_takes_lines_and_fields(path_socket: tuple[str, socket.socket]) -> None:
    value, listener = path_socket
    with Notifier({"NOTIFY_SOCKET": value}) as notifier:
        assert notifier.notify("READY=1", STATUS="x", MAINPID=42)
    assert listener.recv(4096) == b"READY=1\nSTATUS=x\nMAINPID=42"


def test_default_environment_is_os_environ(
    path_socket: tuple[str, socket.socket], monkeypatch: pytest.MonkeyPatch
) -> None:
    value, listener = path_socket
    monkeypatch.setenv("NOTIFY_SOCKET", value)
    with Notifier() as notifier:
        assert notifier.watchdog()
    assert listener.recv(4096) == b"WATCHDOG=1"


def test_status_text_is_kept_on_one_line(path_socket: tuple[str, socket.socket]) -> None:
    value, listener = path_socket
    with Notifier({"NOTIFY_SOCKET": value}) as notifier:
        assert notifier.status("two\nlines")
    assert listener.recv(4096) == b"STATUS=two lines"


def test_newline_in_a_field_is_refused(path_socket: tuple[str, socket.socket]) -> None:
    value, _ = path_socket
    with Notifier({"NOTIFY_SOCKET": value}) as notifier, pytest.raises(ValueError, match="newline"):
        notifier.notify(STATUS="a\nREADY=1")


def test_extend_timeout_in_microseconds(path_socket: tuple[str, socket.socket]) -> None:
    value, listener = path_socket
    with Notifier({"NOTIFY_SOCKET": value}) as notifier:
        assert notifier.extend_timeout(2.5)
    assert listener.recv(4096) == b"EXTEND_TIMEOUT_USEC=2500000"


@pytest.mark.parametrize("value", [None, "", "relative/path", "vsock:2:1234"])
def test_no_op_without_a_usable_notify_socket(value: str | None) -> None:
    env = {} if value is None else {"NOTIFY_SOCKET": value}
    with Notifier(env) as notifier:
        assert not notifier.enabled
        assert _lifecycle(notifier) == [False] * 6


def test_missing_socket_returns_false_and_logs_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="dx7d.daemon._sdnotify")
    with Notifier({"NOTIFY_SOCKET": str(tmp_path / "absent")}) as notifier:
        assert notifier.enabled
        assert notifier.ready() is False
        assert notifier.watchdog() is False
    failures = [r for r in caplog.records if "failed" in r.getMessage()]
    assert len(failures) == 1
    assert "absent" in failures[0].getMessage()


def test_full_receiver_queue_does_not_block(path_socket: tuple[str, socket.socket]) -> None:
    value, _ = path_socket  # nobody reads: the queue fills up
    with Notifier({"NOTIFY_SOCKET": value}) as notifier:
        results = [notifier.status(f"{i}") for i in range(20000)]
    assert results[0] is True
    assert results[-1] is False  # EAGAIN, returned instead of blocking


def test_closed_notifier_sends_nothing(path_socket: tuple[str, socket.socket]) -> None:
    value, _ = path_socket
    notifier = Notifier({"NOTIFY_SOCKET": value})
    notifier.close()
    assert not notifier.enabled
    assert notifier.ready() is False


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"WATCHDOG_USEC": "5000000"}, 5.0),
        ({"WATCHDOG_USEC": "2500000", "WATCHDOG_PID": str(os.getpid())}, 2.5),
        ({"WATCHDOG_USEC": "5000000", "WATCHDOG_PID": str(os.getpid() + 1)}, None),
        ({"WATCHDOG_USEC": "5000000", "WATCHDOG_PID": "x"}, None),
        ({"WATCHDOG_USEC": "0"}, None),
        ({"WATCHDOG_USEC": "soon"}, None),
        ({}, None),
    ],
)
def test_watchdog_interval(env: dict[str, str], expected: float | None) -> None:
    with Notifier(env) as notifier:
        assert notifier.watchdog_interval() == expected


def test_watchdog_gate_follows_the_counter() -> None:
    gate = WatchdogGate()
    assert gate.alive() is False  # the callback has not run yet
    gate.tick()
    gate.ticks += 1
    assert gate.alive() is True
    assert gate.alive() is False  # stalled: no tick since the last question
    gate.tick()
    assert gate.alive() is True
    assert gate.alive() is False
