"""The control interface: a small HTTP/JSON server for status, cartridges and programs.

    GET  /status          JSON: version, uptime, audio, MIDI, voices, program, sysex counts
    GET  /cartridge       the internal cartridge, a 4104-byte 32-voice dump
    PUT  /cartridge       replace it (same validation and atomic storage as a MIDI dump)
    GET  /voice           the edit buffer, a 163-byte single-voice dump
    PUT  /voice           replace the edit buffer (it sounds at once)
    POST /program/{1-32}  select a voice of the current bank
    POST /panic           all sound off, all notes off
    POST /generate        generate a listened-to cartridge (JSON body: style, seed,
                          temperature; all optional) and store it like PUT /cartridge

and the module's own page at ``/`` (dx7d.daemon._web: its files and the routes it uses).

An asyncio server (aiohttp) on a thread of its own; all the work is done by the
dispatcher (``Dispatcher.submit``), so the server never touches audio or MIDI and no
thread waits on a client. When the dispatcher does not start a command within
``COMMAND_TIMEOUT_S`` the reply is 503 and the command is withdrawn (a command that
had started is waited for and answered: an upload is answered or not applied).

Loopback by default. A token (``control.token``) is required as ``Authorization:
Bearer <token>`` whenever one is configured (and the configuration refuses a
non-loopback address without one); it is compared in constant time. Requests that
change something are refused when they come from another site's page (Origin,
Sec-Fetch-Site, Referer) or as a form; a Host name that is not one of this machine's
(DNS rebinding) is refused for every request. Bodies over 64 KiB are refused before
they are read. Connection slots, the request-head deadline and the busy answer are
in dx7d.daemon._control_guard.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
import socket
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from aiohttp import web
from dx7d.voices import BankDump, SysexError, VoiceDump, bank_dump, parse_sysex, voice_dump

from ._control_guard import Connection, Limits, Slots
from ._control_origin import HostCheck, cross_site_reason
from .dispatcher import Dispatcher

__all__ = ["MAX_BODY", "ControlServer", "status_document"]

log = logging.getLogger("dx7d.control")

MAX_BODY = 64 * 1024  # bytes; a cartridge is 4104
CLIENT_TIMEOUT_S = 5.0  # silence allowed inside a body, and between kept-alive requests
HEAD_TIMEOUT_S = 3.0  # a request head (line and headers) must arrive within this
REQUEST_TIMEOUT_S = 10.0  # a whole request (head and body) must arrive within this
COMMAND_TIMEOUT_S = 5.0  # how long a request waits for the dispatcher to start it
MAX_CONNECTIONS = 64  # connections held at once (asyncio: a few KiB each)
MAX_PER_ADDRESS = 8  # from one client address (a browser opens up to 6)
MAX_HEADERS = 100  # header lines in one request
RETRY_AFTER_S = 1  # the Retry-After of a busy answer, seconds
_PROGRAM = re.compile(r"^/program/([^/?]*)$")
_METHODS = frozenset({"GET", "PUT", "POST"})


class _Busy(Exception):
    """The dispatcher did not start a command within COMMAND_TIMEOUT_S."""


class _Refused(Exception):
    """A request refused with ``status`` and a message (answered as JSON)."""

    def __init__(self, status: int, message: str, close: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.close = close


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
            "realtime": daemon.midi.realtime(),  # the JACK MIDI thread; None on ALSA
            "channel": cfg.midi.channel,
            "messages": dispatch.messages,
            **_parser_counts(daemon.dispatcher),
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
        "control": _connection_counts(getattr(daemon, "control", None)),
    }


def _parser_counts(dispatcher: Dispatcher) -> dict[str, int]:
    """The MIDI stream parsers' refusals (dx7d.daemon.midistream), summed over the ports."""
    totals = dispatcher.parser_totals()
    return {"refused_data_bytes": totals.refused_bytes + dispatcher.stats.refused_data,
            "broken_sysex": totals.broken_sysex, "oversized_sysex": totals.oversized_sysex}


def _connection_counts(server: ControlServer | None) -> dict[str, int] | None:
    """The control interface's connections now, and those it refused or dropped."""
    if server is None:
        return None
    slots = server.slots
    return {"connections": slots.open, "refused_busy": slots.refused_busy,
            "dropped_slow": slots.dropped_slow}


class _Context:
    """What every request handler reaches through ``request.app[CONTEXT]``."""

    def __init__(self, dispatcher: Dispatcher, token: str | None,
                 status: Callable[[], dict[str, Any]], hosts: HostCheck) -> None:
        self.dispatcher = dispatcher
        self.token = token
        self.status = status
        self.hosts = hosts
        self.slots = Slots()
        self.generator: Any = None  # dx7d.generator.service.GenerationService, if any

    async def run(self, command: Callable[[], Any]) -> Any:
        """Run ``command`` in the dispatcher thread and wait for its result.

        Not started within COMMAND_TIMEOUT_S: withdrawn, and _Busy (503). Started: waited
        for to the end, so what was applied is always what is answered.
        """
        future: Future[Any] = self.dispatcher.submit(command)
        waiting = asyncio.wrap_future(future)
        try:
            return await asyncio.wait_for(asyncio.shield(waiting), COMMAND_TIMEOUT_S)
        except TimeoutError:
            if future.cancel():
                raise _Busy from None
            return await waiting


CONTEXT = web.AppKey("dx7d-control", _Context)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def json_response(status: int, document: object, *, close: bool = False,
                  headers: dict[str, str] | None = None) -> web.Response:
    body = json.dumps(document, indent=2).encode() + b"\n"
    response = web.Response(status=status, body=body, content_type="application/json",
                            headers=headers)
    if close:
        response.force_close()
    return response


def error_response(status: int, message: str, *, close: bool = True,
                   headers: dict[str, str] | None = None) -> web.Response:
    """A refusal: ``{"error": message}``; the connection ends after it (as before)."""
    return json_response(status, {"error": message}, close=close, headers=headers)


async def read_body(request: web.Request) -> bytes:
    """The request body, read within the request's deadlines.

    Refused (411) without a Content-Length; a client silent for CLIENT_TIMEOUT_S, or
    past REQUEST_TIMEOUT_S since its head, is dropped without an answer.
    """
    length = request.content_length
    if length is None:
        raise _Refused(411, "a Content-Length header is required", close=True)
    protocol = request.protocol
    started = protocol.head_time if isinstance(protocol, Connection) else time.monotonic()
    deadline = started + REQUEST_TIMEOUT_S
    data = bytearray()
    while len(data) < length:
        remaining = deadline - time.monotonic()
        try:
            if remaining <= 0:
                raise TimeoutError
            chunk = await asyncio.wait_for(request.content.read(length - len(data)),
                                           min(CLIENT_TIMEOUT_S, remaining))
        except TimeoutError:
            _drop(request)
            raise ConnectionResetError("the request body took too long to arrive") from None
        if not chunk:
            raise _Refused(400, "body shorter than its Content-Length", close=True)
        data += chunk
    return bytes(data)


def _drop(request: web.Request) -> None:
    if request.transport is not None:
        request.transport.close()


def _is_public(request: web.Request) -> bool:
    """The page's own files: served without the token (the page asks for it)."""
    return request.method == "GET" and (request.path == "/" or request.path.startswith("/web/"))


def _token_ok(ctx: _Context, request: web.Request) -> bool:
    if ctx.token is None:
        return True
    given = request.headers.get("Authorization", "")
    return hmac.compare_digest(given.encode(), f"Bearer {ctx.token}".encode())


async def _checked(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every rule before a handler runs, in order; the first that fails answers."""
    ctx = request.app[CONTEXT]
    headers = request.headers
    if not ctx.hosts.allowed(headers.get("Host")):
        return error_response(403, f"Host {headers.get('Host')!r} is not a name of this "
                                   "module (refused: DNS rebinding)")
    if request.method not in _METHODS:
        return error_response(501, f"method {request.method} is not supported")
    if len(request.raw_headers) > MAX_HEADERS:
        return error_response(431, f"{len(request.raw_headers)} header lines: at most "
                                   f"{MAX_HEADERS}")
    if "Transfer-Encoding" in headers:
        return error_response(411, "Transfer-Encoding is not supported: send a "
                                   "Content-Length")
    length = request.content_length
    if length is not None and length > MAX_BODY:
        return error_response(413, f"body of {length} bytes refused: at most {MAX_BODY}")
    if _is_public(request):
        return await handler(request)
    if not _token_ok(ctx, request):
        return error_response(401, "missing or wrong bearer token",
                              headers={"WWW-Authenticate": 'Bearer realm="dx7d"'})
    if request.method != "GET":
        reason = cross_site_reason(request.method, headers)
        if reason is not None:
            log.warning("control: %s %s from %s", reason, request.path, request.remote)
            return error_response(403, reason)
    return await handler(request)


@web.middleware
async def _policy(request: web.Request, handler: Handler) -> web.StreamResponse:
    protocol = request.protocol
    if isinstance(protocol, Connection):
        protocol.head_received()
    try:
        return await _checked(request, handler)
    except (web.HTTPNotFound, web.HTTPMethodNotAllowed):
        return error_response(404, f"no such resource {request.path!r}")
    except _Refused as refusal:
        return error_response(refusal.status, str(refusal), close=refusal.close)
    except _Busy:
        return error_response(503, "the daemon is busy; try again",
                              headers={"Retry-After": str(RETRY_AFTER_S)})
    except (ConnectionError, asyncio.CancelledError):
        raise
    except web.HTTPException:
        raise
    except Exception as exc:  # a failing command (e.g. a full disk) answers, not hangs
        log.exception("control request %s %s failed", request.method, request.path)
        return error_response(500, f"{type(exc).__name__}: {exc}")
    finally:
        if isinstance(protocol, Connection):
            protocol.request_done()


# -- the endpoints ---------------------------------------------------------------------------


async def _status(request: web.Request) -> web.StreamResponse:
    return json_response(200, request.app[CONTEXT].status())


async def _get_cartridge(request: web.Request) -> web.StreamResponse:
    dispatcher = request.app[CONTEXT].dispatcher
    data = await request.app[CONTEXT].run(lambda: bank_dump(dispatcher.internal, 0))
    return web.Response(body=data, content_type="application/octet-stream")


async def _get_voice(request: web.Request) -> web.StreamResponse:
    dispatcher = request.app[CONTEXT].dispatcher
    data = await request.app[CONTEXT].run(lambda: voice_dump(dispatcher.edit_buffer, 0))
    return web.Response(body=data, content_type="application/octet-stream")


async def apply_dump(ctx: _Context, where: str, body: bytes,
                     wanted: type[BankDump] | type[VoiceDump]) -> web.Response:
    """Validate ``body`` as a ``wanted`` dump and apply it like a MIDI dump: the refusal
    (400, counted in /status) or the stored names. Also used by the page's routes."""
    dispatcher = ctx.dispatcher
    try:
        message = parse_sysex(body)
        if not isinstance(message, wanted):
            raise SysexError(f"{where} takes a {wanted.__name__}, "
                             f"got a {type(message).__name__}")
    except SysexError as exc:
        reason = f"{where} refused ({len(body)} bytes): {exc}"
        await ctx.run(lambda: _record_refusal(dispatcher, reason))
        return error_response(400, reason)

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
        await ctx.run(apply)
    except SysexError as exc:  # memory protect
        return error_response(409, str(exc))
    return json_response(200, result)


async def _put_cartridge(request: web.Request) -> web.StreamResponse:
    body = await read_body(request)
    return await apply_dump(request.app[CONTEXT], "/cartridge", body, BankDump)


async def _put_voice(request: web.Request) -> web.StreamResponse:
    body = await read_body(request)
    return await apply_dump(request.app[CONTEXT], "/voice", body, VoiceDump)


async def _program(request: web.Request) -> web.StreamResponse:
    match = _PROGRAM.match(request.raw_path)  # raw: "/program/%31" is not program 1
    text = match.group(1) if match else request.raw_path.rsplit("/", 1)[-1]
    if not (text.isascii() and text.isdigit() and len(text) <= 2 and 1 <= int(text) <= 32):
        return error_response(400, f"program {text[:20]!r}: allowed 1-32")
    number = int(text)
    dispatcher = request.app[CONTEXT].dispatcher
    name = await request.app[CONTEXT].run(lambda: dispatcher.program_change(number - 1))
    return json_response(200, {"program": number, "name": name})


async def _panic(request: web.Request) -> web.StreamResponse:
    await request.app[CONTEXT].run(request.app[CONTEXT].dispatcher.panic)
    return json_response(200, {"panic": True})


def _application(ctx: _Context) -> web.Application:
    app = web.Application(middlewares=[_policy], client_max_size=MAX_BODY)
    app[CONTEXT] = ctx
    app.router.add_get("/status", _status, allow_head=False)
    app.router.add_get("/cartridge", _get_cartridge, allow_head=False)
    app.router.add_put("/cartridge", _put_cartridge)
    app.router.add_get("/voice", _get_voice, allow_head=False)
    app.router.add_put("/voice", _put_voice)
    app.router.add_post("/program/{number:.*}", _program)
    app.router.add_post("/panic", _panic)
    from . import _web, _web_generate  # the page and the routes it uses

    _web.add_routes(app)
    _web_generate.add_routes(app)
    return app


# -- the server ------------------------------------------------------------------------------


def _limits() -> Limits:
    """The module's limits as they are now (tests and reloads may change them)."""
    return Limits(max_connections=MAX_CONNECTIONS, max_per_address=MAX_PER_ADDRESS,
                  head_timeout_s=HEAD_TIMEOUT_S, idle_timeout_s=CLIENT_TIMEOUT_S,
                  retry_after_s=RETRY_AFTER_S)


class ControlServer:
    """The control interface, serving from an asyncio loop on a thread of its own.

    The socket is bound here (an OSError when the address is taken), so a caller knows
    at once; requests are served from :meth:`start` to :meth:`stop`.
    """

    def __init__(self, host: str, port: int, dispatcher: Dispatcher, token: str | None,
                 status: Callable[[], dict[str, Any]]) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._socket = socket.socket(family, socket.SOCK_STREAM)
        try:
            self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._socket.bind((host, port))
            self._socket.listen(MAX_CONNECTIONS)
        except OSError:
            self._socket.close()
            raise
        bound = self._socket.getsockname()
        self.port = int(bound[1])
        self.host = str(bound[0])  # numeric, as bound (for zeroconf)
        self._context = _Context(dispatcher, token, status, HostCheck(host, self.port))
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._stopping: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._serve, name="dx7d-control", daemon=True)

    @property
    def token(self) -> str | None:
        """The bearer token required from now on (None: none); settable while serving, so
        a reload can change control.token without rebinding."""
        return self._context.token

    @token.setter
    def token(self, value: str | None) -> None:
        self._context.token = value

    @property
    def generator(self) -> Any:
        """What POST /generate calls (dx7d.generator.service.GenerationService; None: the
        route answers 404)."""
        return self._context.generator

    @generator.setter
    def generator(self, value: Any) -> None:
        self._context.generator = value

    @property
    def slots(self) -> Slots:
        """Connections held now, and how many were refused busy or dropped as slow."""
        return self._context.slots

    def start(self) -> None:
        self._thread.start()
        self._ready.wait()
        if self._failure is not None:
            raise RuntimeError(f"the control interface did not start: {self._failure}")
        log.info("control interface on http://%s:%d/ (token %s)",
                 f"[{self.host}]" if ":" in self.host else self.host, self.port,
                 "required" if self._context.token else "not set")

    def stop(self) -> None:
        if not self._thread.is_alive():
            self._socket.close()
            return
        stopping = self._stopping
        if stopping is not None:
            self._loop.call_soon_threadsafe(stopping.set)
        self._thread.join()

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._main())
        finally:
            self._loop.close()

    async def _main(self) -> None:
        self._stopping = asyncio.Event()
        try:
            runner = web.AppRunner(_application(self._context), handle_signals=False,
                                   access_log=None, max_headers=MAX_HEADERS + 28)
            await runner.setup()
            server = runner.server
            assert server is not None
            loop = asyncio.get_running_loop()
            slots = self._context.slots

            def connection() -> Connection:
                return Connection(server, loop=loop, slots=slots, limits=_limits,
                                  keepalive_timeout=3600.0, max_headers=MAX_HEADERS + 28,
                                  access_log=None, lingering_time=1.0)

            listener = await loop.create_server(connection, sock=self._socket,
                                                backlog=MAX_CONNECTIONS)
        except BaseException as exc:
            self._failure = exc
            self._ready.set()
            raise
        self._ready.set()
        await self._stopping.wait()
        listener.close()
        await server.shutdown(1.0)
        await runner.cleanup()
