"""The control interface: a small HTTP/JSON server for status, cartridges and programs.

    GET  /status          JSON: version, uptime, audio, MIDI, voices, program, sysex counts
    GET  /cartridge       the internal cartridge, a 4104-byte 32-voice dump
    PUT  /cartridge       replace it (same validation and atomic storage as a MIDI dump)
    GET  /voice           the edit buffer, a 163-byte single-voice dump
    PUT  /voice           replace the edit buffer (it sounds at once)
    POST /program/{1-32}  select a voice of the current bank
    POST /panic           all sound off, all notes off

Loopback by default. A token (``control.token``) is required as ``Authorization:
Bearer <token>`` whenever one is configured (and the configuration refuses a
non-loopback address without one); it is compared in constant time. Bodies over
64 KiB are refused, a client that stalls is dropped after ``CLIENT_TIMEOUT_S``, and
all the work is done by the dispatcher, so the server never touches audio or MIDI.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import TimeoutError as FutureTimeout
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from dx7d.voices import BankDump, SysexError, VoiceDump, bank_dump, parse_sysex, voice_dump

from .dispatcher import Dispatcher

__all__ = ["MAX_BODY", "ControlServer", "status_document"]

log = logging.getLogger("dx7d.control")

MAX_BODY = 64 * 1024  # bytes; a cartridge is 4104
CLIENT_TIMEOUT_S = 5.0  # a client that sends nothing for this long is dropped
COMMAND_TIMEOUT_S = 5.0  # how long a request waits for the dispatcher
_PROGRAM = re.compile(r"^/program/(\d{1,2})$")


def _version() -> str:
    try:
        return version("dx7d")
    except PackageNotFoundError:
        return "unknown"


def status_document(daemon: Any) -> dict[str, Any]:
    """The /status JSON of a running daemon.Service (read-only snapshot, no locks)."""
    stats = daemon.audio_stats
    dispatch = daemon.dispatcher.stats
    cfg = daemon.config
    return {
        "version": _version(),
        "uptime_s": round(time.monotonic() - daemon.started, 1),
        "audio": {
            "output": daemon.output.kind,
            "device": daemon.output.device_name,
            "sample_rate": cfg.audio.sample_rate,
            "buffer_frames": cfg.audio.buffer_frames,
            "callbacks": stats.callbacks,
            "underflows": stats.underflows,
            "overruns": stats.overruns,
            "max_callback_us": stats.max_callback_us,
        },
        "midi": {
            "api": daemon.midi.api_name,
            "listening": daemon.midi.listening,
            "connected": daemon.midi.connected,
            "channel": cfg.midi.channel,
            "messages": dispatch.messages,
        },
        "engine": {
            "polyphony": cfg.engine.polyphony,
            "sounding_voices": daemon.engine.sounding_voices,
            "dropped_events": daemon.engine.dropped_events,
        },
        "program": {
            "number": daemon.dispatcher.state.program + 1,
            "bank": daemon.dispatcher.state.bank,
            "name": daemon.dispatcher.program_name,
        },
        "cartridge": [p.name for p in daemon.dispatcher.internal],
        "sysex": {
            "accepted": dispatch.sysex_accepted,
            "refused": dispatch.sysex_refused,
            "ignored": dispatch.sysex_ignored,
            "dump_replies": dispatch.dump_replies,
            "last_refusal": dispatch.last_refusal,
        },
        "active_sensing_timeouts": dispatch.active_sensing_timeouts,
        "memory_protect": daemon.dispatcher.memory_protect,
    }


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = CLIENT_TIMEOUT_S  # socket timeout: slow clients are dropped
    protocol_version = "HTTP/1.1"
    server_version = "dx7d"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    # -- plumbing -------------------------------------------------------------------------

    def _reply(self, status: HTTPStatus, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: HTTPStatus, document: object) -> None:
        body = json.dumps(document, indent=2).encode() + b"\n"
        self._reply(status, body, "application/json")

    def _error(self, status: HTTPStatus, message: str) -> None:
        self.close_connection = True
        self._json(status, {"error": message})

    def _authorized(self) -> bool:
        token = self.server.token
        if token is None:
            return True
        given = self.headers.get("Authorization", "")
        expected = f"Bearer {token}"
        if hmac.compare_digest(given.encode(), expected.encode()):
            return True
        self.send_response(HTTPStatus.UNAUTHORIZED)
        self.send_header("WWW-Authenticate", 'Bearer realm="dx7d"')
        body = b'{"error": "missing or wrong bearer token"}\n'
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True
        return False

    def _body(self) -> bytes | None:
        length_text = self.headers.get("Content-Length")
        if length_text is None:
            self._error(HTTPStatus.LENGTH_REQUIRED, "a Content-Length header is required")
            return None
        try:
            length = int(length_text)
        except ValueError:
            self._error(HTTPStatus.BAD_REQUEST, f"bad Content-Length {length_text!r}")
            return None
        if length < 0 or length > MAX_BODY:
            self._error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                        f"body of {length} bytes refused: at most {MAX_BODY}")
            return None
        data = self.rfile.read(length)
        if len(data) != length:
            self._error(HTTPStatus.BAD_REQUEST, "body shorter than its Content-Length")
            return None
        return data

    def _dispatch(self, run: Callable[[], Any]) -> Any:
        future = self.server.dispatcher.submit(run)
        return future.result(timeout=COMMAND_TIMEOUT_S)

    # -- verbs ----------------------------------------------------------------------------

    def do_GET(self) -> None:
        if not self._authorized():
            return
        dispatcher = self.server.dispatcher
        if self.path == "/status":
            self._json(HTTPStatus.OK, self.server.status())
        elif self.path == "/cartridge":
            data = self._dispatch(lambda: bank_dump(dispatcher.internal, 0))
            self._reply(HTTPStatus.OK, data, "application/octet-stream")
        elif self.path == "/voice":
            data = self._dispatch(lambda: voice_dump(dispatcher.edit_buffer, 0))
            self._reply(HTTPStatus.OK, data, "application/octet-stream")
        else:
            self._error(HTTPStatus.NOT_FOUND, f"no such resource {self.path!r}")

    def do_PUT(self) -> None:
        if not self._authorized():
            return
        if self.path not in ("/cartridge", "/voice"):
            self._error(HTTPStatus.NOT_FOUND, f"no such resource {self.path!r}")
            return
        body = self._body()
        if body is None:
            return
        wanted = BankDump if self.path == "/cartridge" else VoiceDump
        try:
            message = parse_sysex(body)
            if not isinstance(message, wanted):
                raise SysexError(f"{self.path} takes a {wanted.__name__}, "
                                 f"got a {type(message).__name__}")
        except SysexError as exc:
            self.server.dispatcher.stats.sysex_refused += 1
            self._error(HTTPStatus.BAD_REQUEST, f"refused: {exc}")
            return
        dispatcher = self.server.dispatcher
        try:
            if isinstance(message, BankDump):
                bank = message.bank
                self._dispatch(lambda: dispatcher.store_bank(bank))
                result: dict[str, object] = {"stored": [p.name for p in bank]}
            else:
                patch = message.patch
                self._dispatch(lambda: dispatcher.load_voice(patch))
                result = {"voice": patch.name}
        except SysexError as exc:  # memory protect
            self._error(HTTPStatus.CONFLICT, str(exc))
            return
        self._json(HTTPStatus.OK, result)

    def do_POST(self) -> None:
        if not self._authorized():
            return
        dispatcher = self.server.dispatcher
        if self.headers.get("Content-Length") not in (None, "0"):
            if self._body() is None:
                return
        match = _PROGRAM.match(self.path)
        if match:
            number = int(match.group(1))
            if not 1 <= number <= 32:
                self._error(HTTPStatus.BAD_REQUEST, f"program {number}: allowed 1-32")
                return
            name = self._dispatch(lambda: dispatcher.program_change(number - 1))
            self._json(HTTPStatus.OK, {"program": number, "name": name})
        elif self.path == "/panic":
            self._dispatch(dispatcher.panic)
            self._json(HTTPStatus.OK, {"panic": True})
        else:
            self._error(HTTPStatus.NOT_FOUND, f"no such resource {self.path!r}")

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except FutureTimeout:
            self._error(HTTPStatus.SERVICE_UNAVAILABLE, "the daemon is busy; try again")
        except (ConnectionError, TimeoutError):
            self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], dispatcher: Dispatcher, token: str | None,
                 status: Callable[[], dict[str, Any]]) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)
        self.dispatcher = dispatcher
        self.token = token
        self.status = status


class ControlServer:
    """The control interface, serving from a thread of its own."""

    def __init__(self, host: str, port: int, dispatcher: Dispatcher, token: str | None,
                 status: Callable[[], dict[str, Any]]) -> None:
        self._server = _Server((host, port), dispatcher, token, status)
        self.port = self._server.server_address[1]
        self.host = host
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.2},
                                        name="dx7d-control", daemon=True)

    def start(self) -> None:
        self._thread.start()
        log.info("control interface on http://%s:%d/ (token %s)",
                 f"[{self.host}]" if ":" in self.host else self.host, self.port,
                 "required" if self._server.token else "not set")

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
