"""The real daemon's control interface, driven by the real `dx7d` CLI clients.

The daemon runs with the null audio output and `midi.api: alsa`; this machine has no
ALSA sequencer, so it runs on with "no MIDI system" (a real case: a module whose MIDI
interface is unplugged). One daemon serves the tests of this module; the token test
starts one of its own on 0.0.0.0.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from dx7d.daemon.cli import main
from dx7d.voices import Bank, Patch, bank_dump, voice_dump

from .harness import DaemonProcess

pytestmark = pytest.mark.e2e

TOKEN = "e2e-token-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def headless(port: int, host: str = "127.0.0.1", **control: object) -> dict[str, dict[str, object]]:
    """Settings for a daemon without sound device or MIDI system."""
    return {"audio": {"backend": "null"}, "midi": {"api": "alsa"},
            "control": {"listen": f"{host}:{port}", **control}}


@dataclass
class Headless(DaemonProcess):
    """A daemon process that knows its control port."""

    port: int = 0


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Headless]:
    port = free_port()
    process = Headless(tmp_path_factory.mktemp("control"), headless(port), port=port)
    process.start()
    try:
        yield process
    finally:
        status = process.stop()
        assert status == 0, f"dx7d exited with {status}:\n{process.log()}"


def host(daemon: Headless) -> str:
    return f"127.0.0.1:{daemon.port}"


def cli(daemon: Headless, capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """Run `dx7d ARGV --host ...`; its stdout (a failure raises)."""
    code = main([*argv, "--host", host(daemon)])
    out = capsys.readouterr().out
    assert code == 0, out
    return out


def status(daemon: Headless) -> dict[str, Any]:
    with urllib.request.urlopen(f"http://{host(daemon)}/status", timeout=10) as response:
        return json.loads(response.read())  # type: ignore[no-any-return]


def test_status_shows_the_module_without_a_midi_system(daemon: Headless,
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    out = cli(daemon, capsys, "status")
    assert "no MIDI system" in out
    assert "null" in out
    assert "program  " in out
    doc = json.loads(cli(daemon, capsys, "status", "--json"))
    assert doc["midi"] == {"api": "alsa", "listening": False, "connected": [],
                           "realtime": None, "channel": "omni", "messages": 0,
                           "refused_data_bytes": 0, "broken_sysex": 0, "oversized_sysex": 0}
    assert doc["control"]["refused_busy"] == 0 and doc["control"]["connections"] >= 1
    assert doc["version"] == version("dx7d")
    assert {k: doc["audio"][k] for k in ("output", "sample_rate", "buffer_frames")} == \
        {"output": "null", "sample_rate": 48000, "buffer_frames": 128}
    assert all(isinstance(doc["audio"][k], int) for k in ("underflows", "overruns"))
    assert doc["engine"]["sounding_voices"] == 0
    assert len(doc["cartridge"]) == 32
    assert doc["program"]["name"] == doc["cartridge"][doc["program"]["number"] - 1]
    assert set(doc["sysex"]) >= {"accepted", "refused", "last_refusal"}
    time.sleep(1.5)
    again = status(daemon)
    assert again["audio"]["callbacks"] > doc["audio"]["callbacks"]  # the null output plays on
    assert again["uptime_s"] > doc["uptime_s"]
    log = daemon.log()
    assert log.count("no MIDI system") == 1, log  # said once, retried quietly


def test_send_then_get_cartridge_round_trips_byte_for_byte(
        daemon: Headless, capsys: pytest.CaptureFixture[str], shared_banks: Path,
        tmp_path: Path) -> None:
    rom1a = (shared_banks / "rom1A.syx").read_bytes()
    out = cli(daemon, capsys, "send", str(shared_banks / "rom1A.syx"))
    assert out.startswith("cartridge stored: ")
    assert Bank.read(shared_banks / "rom1A.syx")[0].name.strip() in out
    saved = tmp_path / "back.syx"
    assert cli(daemon, capsys, "get-cartridge", "-o", str(saved)) == f"{saved}: 4104 bytes\n"
    assert saved.read_bytes() == rom1a
    assert (daemon.state_dir / "cartridge.syx").read_bytes() == rom1a


def test_a_bad_cartridge_is_refused_with_the_reason_and_changes_nothing(
        daemon: Headless, capsys: pytest.CaptureFixture[str], shared_banks: Path,
        tmp_path: Path) -> None:
    before = tmp_path / "before.syx"
    cli(daemon, capsys, "get-cartridge", "-o", str(before))
    refused = status(daemon)["sysex"]["refused"]
    bad = bytearray((shared_banks / "rom1A.syx").read_bytes())
    bad[100] ^= 0x01  # a voice byte: the checksum no longer matches
    bad_file = tmp_path / "bad.syx"
    bad_file.write_bytes(bytes(bad))

    assert main(["send", str(bad_file), "--host", host(daemon)]) == 1  # the CLI refuses it
    assert "checksum" in capsys.readouterr().err

    request = urllib.request.Request(f"http://{host(daemon)}/cartridge", data=bytes(bad),
                                     method="PUT")
    with pytest.raises(urllib.error.HTTPError) as refusal:  # and so does the daemon
        urllib.request.urlopen(request, timeout=10)
    assert refusal.value.code == 400
    reason = json.loads(refusal.value.read())["error"]
    assert "checksum" in reason

    after = tmp_path / "after.syx"
    cli(daemon, capsys, "get-cartridge", "-o", str(after))
    assert after.read_bytes() == before.read_bytes()
    sysex = status(daemon)["sysex"]
    assert sysex["refused"] == refused + 1
    assert "checksum" in sysex["last_refusal"]

    out = cli(daemon, capsys, "send", "--repair", str(bad_file))  # on request, repaired
    assert "repaired: bad checksum" in out
    cli(daemon, capsys, "get-cartridge", "-o", str(after))
    assert after.read_bytes()[:-2] == bytes(bad)[:-2]  # the same voices, a good checksum
    assert after.read_bytes() != bytes(bad)


def test_program_selects_a_voice_and_status_shows_it(daemon: Headless,
                                                     capsys: pytest.CaptureFixture[str],
                                                     tmp_path: Path) -> None:
    current = tmp_path / "current.syx"
    cli(daemon, capsys, "get-cartridge", "-o", str(current))
    bank = Bank.read(current)
    for number in (7, 32, 1):
        assert cli(daemon, capsys, "program", str(number)) == \
            f"program {number}: {bank[number - 1].name}\n"
        program = status(daemon)["program"]
        assert (program["number"], program["name"]) == (number, bank[number - 1].name)
    for bad in ("0", "33"):
        assert main(["program", bad, "--host", host(daemon)]) == 2
        assert "1-32" in capsys.readouterr().err
    assert status(daemon)["program"]["number"] == 1


def test_send_a_voice_makes_it_the_edit_buffer(daemon: Headless,
                                               capsys: pytest.CaptureFixture[str],
                                               tmp_path: Path) -> None:
    voice = tmp_path / "voice.syx"
    voice.write_bytes(voice_dump(Patch(name="E2E VOICE"), 0))
    assert cli(daemon, capsys, "send", str(voice)) == "voice loaded: E2E VOICE \n"
    assert status(daemon)["program"]["name"] == "E2E VOICE "
    with urllib.request.urlopen(f"http://{host(daemon)}/voice", timeout=10) as response:
        assert response.read() == voice.read_bytes()


def test_panic(daemon: Headless, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(daemon, capsys, "panic") == "all notes off\n"
    assert status(daemon)["engine"]["sounding_voices"] == 0


def test_the_daemon_survives_garbage_and_plays_on(daemon: Headless) -> None:
    port = daemon.port
    callbacks = status(daemon)["audio"]["callbacks"]
    for junk in (b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" * 50, b"\r\n" * 1000,
                 b"PUT /cartridge HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n",
                 b"POST /program/4096 HTTP/1.1\r\n\r\n", b"GET /%00%ff HTTP/1.1\r\n\r\n"):
        with socket.create_connection(("127.0.0.1", port), timeout=15) as s:
            s.sendall(junk)
            reply = s.recv(65536)
            assert reply == b"" or reply.startswith(b"HTTP/1."), reply[:80]
    stalled = socket.create_connection(("127.0.0.1", port), timeout=15)
    try:  # a partial request, then nothing: the daemon drops it (CLIENT_TIMEOUT_S, 5 s)
        stalled.sendall(b"PUT /cartridge HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 4104"
                        b"\r\n\r\n\xf0\x43\x00")
        assert status(daemon)["program"]["number"] >= 1  # others are served meanwhile
        t0 = time.monotonic()
        assert stalled.recv(100) == b""
        print(f"stalled request dropped after {time.monotonic() - t0:.1f} s")
    finally:
        stalled.close()
    assert status(daemon)["audio"]["callbacks"] > callbacks
    assert daemon.proc is not None and daemon.proc.poll() is None


def test_a_cli_without_a_daemon_says_it_cannot_reach_it(capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    port = free_port()
    with pytest.raises(SystemExit) as failure:
        main(["status", "--host", f"127.0.0.1:{port}"])
    assert f"cannot reach the daemon at 127.0.0.1:{port}" in str(failure.value.code)


def test_off_loopback_a_token_is_required(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                          ) -> None:
    port = free_port()
    process = DaemonProcess(tmp_path, headless(port, "0.0.0.0", token=TOKEN))
    process.start()
    try:
        url = f"http://127.0.0.1:{port}"
        for headers in ({}, {"Authorization": "Bearer wrong"},
                        {"Authorization": f"Bearer {TOKEN[:-1]}"}):
            for method, path, body in (("GET", "/status", None), ("GET", "/cartridge", None),
                                       ("PUT", "/cartridge", bank_dump(Bank(), 0)),
                                       ("POST", "/program/2", b"")):
                request = urllib.request.Request(url + path, data=body, method=method,
                                                 headers=headers)
                with pytest.raises(urllib.error.HTTPError) as refused:
                    urllib.request.urlopen(request, timeout=10)
                assert refused.value.code == 401, (headers, path)
        request = urllib.request.Request(url + "/status",
                                         headers={"Authorization": f"Bearer {TOKEN}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
            assert json.loads(response.read())["program"]["number"] == 1  # nothing changed
        with pytest.raises(SystemExit) as failure:
            main(["status", "--host", f"127.0.0.1:{port}"])
        assert "401" in str(failure.value.code)
        assert main(["program", "3", "--host", f"127.0.0.1:{port}", "--token", TOKEN]) == 0
        assert "program 3:" in capsys.readouterr().out
        assert not (process.state_dir / "cartridge.syx").exists()
    finally:
        assert process.stop() == 0, process.log()


def test_a_flood_of_requests_is_served_while_audio_plays_on(daemon: Headless,
                                                            tmp_path: Path) -> None:
    voice = voice_dump(Patch(name="FLOOD"), 0)
    url = f"http://{host(daemon)}"
    plan = [("GET", "/status", None), ("GET", "/cartridge", None), ("PUT", "/voice", voice),
            ("POST", "/program/3", b""), ("GET", "/voice", None)]
    codes: list[int] = []

    def client() -> None:
        for i in range(40):
            method, path, body = plan[i % len(plan)]
            request = urllib.request.Request(url + path, data=body, method=method)
            with urllib.request.urlopen(request, timeout=30) as response:
                response.read()
                codes.append(response.status)

    before = status(daemon)["audio"]
    t0 = time.monotonic()
    clients = [threading.Thread(target=client, name=f"flood-{n}") for n in range(6)]
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join()
    took = time.monotonic() - t0
    after = status(daemon)["audio"]
    assert codes == [200] * 240
    assert after["callbacks"] > before["callbacks"]
    expected = took * after["sample_rate"] / after["buffer_frames"]
    print(f"240 requests from 6 clients in {took:.2f} s; audio blocks "
          f"{after['callbacks'] - before['callbacks']} of {expected:.0f} due, "
          f"overruns +{after['overruns'] - before['overruns']}, "
          f"underflows +{after['underflows'] - before['underflows']}")


def test_trickling_clients_do_not_block_the_real_daemon(daemon: Headless) -> None:
    """Issue 14, finding 4, on the real daemon with its real limits: 30 connections from
    one host trickle header bytes (as the attack did, 50 took all 16 slots and no
    GET /status got through in 30 s); another host's GET /status is served all along,
    the trickling host gets at most its share of slots and a 503 for the rest."""
    from dx7d.daemon import control

    tricklers = []
    for _ in range(30):
        s = socket.socket()
        s.settimeout(10)
        s.bind(("127.0.0.2", 0))
        s.connect(("127.0.0.1", daemon.port))
        s.sendall(b"GET /status HTTP/1.1\r\nX-Trickle: ")
        s.setblocking(False)
        tricklers.append(s)
    ended: dict[int, bytes] = {}
    try:
        served = 0
        deadline = time.monotonic() + 60
        while len(ended) < len(tricklers) and time.monotonic() < deadline:
            for i, s in enumerate(tricklers):
                if i in ended:
                    continue
                try:
                    ended[i] = s.recv(4096)  # a 503, or b"" once dropped as slow
                    continue
                except BlockingIOError:
                    pass
                except ConnectionResetError:
                    ended[i] = b""
                    continue
                try:
                    s.send(b"a")
                except (BrokenPipeError, ConnectionResetError):
                    ended[i] = b""
            assert status(daemon)["program"]["number"] >= 1  # served meanwhile
            served += 1
            time.sleep(0.1)
    finally:
        for s in tricklers:
            s.close()
    busy = sum(1 for got in ended.values() if got.startswith(b"HTTP/1.1 503"))
    dropped = sum(1 for got in ended.values() if got == b"")
    assert len(ended) == 30, "some trickling clients held their slot for a minute"
    assert busy == 30 - control.MAX_PER_ADDRESS and dropped == control.MAX_PER_ADDRESS
    log = daemon.log()
    assert log.count("no whole request head in time") <= 2  # one line per 10 s at most
    print(f"30 trickling clients: {busy} answered 503, {dropped} dropped as slow; "
          f"{served} GET /status served meanwhile")
