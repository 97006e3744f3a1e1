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
64 KiB are refused; a client that sends nothing for ``CLIENT_TIMEOUT_S``, or has not
sent a whole request within ``REQUEST_TIMEOUT_S`` (a slowloris trickling a byte at a
time), is dropped; at most ``MAX_CONNECTIONS`` connections are served at once. All
the work is done by the dispatcher, so the server never touches audio or MIDI; when
the dispatcher does not answer within ``COMMAND_TIMEOUT_S`` the reply is 503.
"""

from __future__ import annotations

import hmac
import io
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
REQUEST_TIMEOUT_S = 10.0  # a whole request (line, headers, body) must arrive within this
COMMAND_TIMEOUT_S = 5.0  # how long a request waits for the dispatcher
MAX_CONNECTIONS = 16  # connections served at once; more are closed at once
_PROGRAM = re.compile(r"^/program/([^/]*)$")


class _Busy(Exception):
    """The dispatcher did not run a command within COMMAND_TIMEOUT_S."""


class _DeadlineReader(socket.SocketIO):
    """A socket reader that gives up when a request takes longer than its deadline.

    Each read waits at most CLIENT_TIMEOUT_S and never past ``deadline``, so a client
    trickling one byte every few seconds cannot hold a connection open forever.
    """

    def __init__(self, sock: socket.socket) -> None:
        super().__init__(sock, "rb")
        self.connection = sock
        self.deadline = float("inf")

    def readinto(self, b: Any) -> int | None:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the request took too long to arrive")
        self.connection.settimeout(min(CLIENT_TIMEOUT_S, remaining))
        return super().readinto(b)


def _record_refusal(dispatcher: Dispatcher, reason: str) -> None:
    """Count a refused dump like the dispatcher counts a refused MIDI one (its thread)."""
    dispatcher.stats.sysex_refused += 1
    dispatcher.stats.last_refusal = reason
    log.warning("%s", reason)


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
            "p999_callback_us": stats.p999_callback_us,  # upper bucket edge, since start
            "callback_histogram_us": stats.histogram_sparse(),  # {bucket top (us): count}
            "realtime": getattr(daemon.output, "realtime", lambda: None)(),  # native only
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
    default_request_version = "HTTP/1.0"  # junk gets a status line, not a bare HTTP/0.9 body
    server_version = "dx7d"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    def setup(self) -> None:
        super().setup()
        self.rfile.close()  # replaced by a reader that keeps the request's deadline
        self._reader = _DeadlineReader(self.connection)
        self.rfile = io.BufferedReader(self._reader)

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

    def send_error(self, code: int, message: str | None = None,
                   explain: str | None = None) -> None:
        """http.server's own refusals (bad request line, unknown method, ...) in JSON."""
        status = HTTPStatus(code)
        self._error(status, message or status.phrase)

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
        if "Transfer-Encoding" in self.headers:  # with a Content-Length too: ambiguous
            self._error(HTTPStatus.LENGTH_REQUIRED,
                        "Transfer-Encoding is not supported: send a Content-Length")
            return None
        if length_text is None:
            self._error(HTTPStatus.LENGTH_REQUIRED, "a Content-Length header is required")
            return None
        lengths = self.headers.get_all("Content-Length", [])
        if len(set(lengths)) > 1 or not (length_text.isascii() and length_text.isdigit()):
            # digits only: int() would take " 12", "+12", "1_2"; two different lengths
            # are how requests get smuggled past a proxy
            shown = ", ".join(repr(v) for v in lengths)
            self._error(HTTPStatus.BAD_REQUEST, f"bad Content-Length {shown}")
            return None
        length = int(length_text)
        if length > MAX_BODY:
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
        try:
            return future.result(timeout=COMMAND_TIMEOUT_S)
        except FutureTimeout:  # also the builtin TimeoutError: tell it from a socket's
            future.cancel()
            raise _Busy from None

    # -- verbs ----------------------------------------------------------------------------

    def _skip_body(self) -> bool:
        """Read and drop a body nobody asked for (GET, POST), so the next request on the
        connection starts where it should; False when it was refused."""
        if "Transfer-Encoding" in self.headers:
            self.close_connection = True  # not read: the connection ends after the reply
        if self.headers.get("Content-Length") not in (None, "0"):
            return self._body() is not None
        return True

    def do_GET(self) -> None:
        if not self._authorized() or not self._skip_body():
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
        dispatcher = self.server.dispatcher
        try:
            message = parse_sysex(body)
            if not isinstance(message, wanted):
                raise SysexError(f"{self.path} takes a {wanted.__name__}, "
                                 f"got a {type(message).__name__}")
        except SysexError as exc:
            reason = f"{self.path} refused ({len(body)} bytes): {exc}"
            self._dispatch(lambda: _record_refusal(dispatcher, reason))
            self._error(HTTPStatus.BAD_REQUEST, reason)
            return

        result: dict[str, object]
        if isinstance(message, BankDump):
            bank = message.bank
            store: Callable[[], None] = lambda: dispatcher.store_bank(bank)  # noqa: E731
            result = {"stored": [p.name for p in bank]}
        else:
            assert isinstance(message, VoiceDump)
            patch = message.patch
            store = lambda: dispatcher.load_voice(patch)  # noqa: E731
            result = {"voice": patch.name}

        def apply() -> None:
            store()
            dispatcher.stats.sysex_accepted += 1

        try:
            self._dispatch(apply)
        except SysexError as exc:  # memory protect
            self._error(HTTPStatus.CONFLICT, str(exc))
            return
        self._json(HTTPStatus.OK, result)

    def do_POST(self) -> None:
        if not self._authorized() or not self._skip_body():
            return
        dispatcher = self.server.dispatcher
        match = _PROGRAM.match(self.path)
        if match:
            text = match.group(1)
            if not (text.isascii() and text.isdigit() and 1 <= int(text) <= 32):
                self._error(HTTPStatus.BAD_REQUEST, f"program {text!r}: allowed 1-32")
                return
            number = int(text)
            name = self._dispatch(lambda: dispatcher.program_change(number - 1))
            self._json(HTTPStatus.OK, {"program": number, "name": name})
        elif self.path == "/panic":
            self._dispatch(dispatcher.panic)
            self._json(HTTPStatus.OK, {"panic": True})
        else:
            self._error(HTTPStatus.NOT_FOUND, f"no such resource {self.path!r}")

    def handle_one_request(self) -> None:
        self._reader.deadline = time.monotonic() + REQUEST_TIMEOUT_S
        try:
            super().handle_one_request()  # drops the connection itself on a socket timeout
        except _Busy:
            self._error(HTTPStatus.SERVICE_UNAVAILABLE, "the daemon is busy; try again")
        except (ConnectionError, TimeoutError):
            self.close_connection = True
        except Exception as exc:  # a failing command (e.g. a full disk) answers, not hangs
            log.exception("control request %s %s failed", self.command, self.path)
            self._error(HTTPStatus.INTERNAL_SERVER_ERROR, f"{type(exc).__name__}: {exc}")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = MAX_CONNECTIONS

    def __init__(self, address: tuple[str, int], dispatcher: Dispatcher, token: str | None,
                 status: Callable[[], dict[str, Any]]) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)
        self.dispatcher = dispatcher
        self.token = token
        self.status = status
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            log.warning("control: %d connections already open; closing one from %s",
                        MAX_CONNECTIONS, client_address[0])
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


class ControlServer:
    """The control interface, serving from a thread of its own."""

    def __init__(self, host: str, port: int, dispatcher: Dispatcher, token: str | None,
                 status: Callable[[], dict[str, Any]]) -> None:
        self._server = _Server((host, port), dispatcher, token, status)
        self.port = self._server.server_address[1]
        self.host = str(self._server.server_address[0])  # numeric, as bound (for zeroconf)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.2},
                                        name="dx7d-control", daemon=True)

    @property
    def token(self) -> str | None:
        """The bearer token required from now on (None: none); settable while serving, so
        a reload can change control.token without rebinding."""
        return self._server.token

    @token.setter
    def token(self, value: str | None) -> None:
        self._server.token = value

    def start(self) -> None:
        self._thread.start()
        log.info("control interface on http://%s:%d/ (token %s)",
                 f"[{self.host}]" if ":" in self.host else self.host, self.port,
                 "required" if self._server.token else "not set")

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
