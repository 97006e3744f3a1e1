"""Connection policy of the control interface, below HTTP: slots, deadlines, busy answers.

aiohttp parses and serves; this protocol (a subclass of its per-connection handler)
decides who gets a connection slot and how long one may be held without being useful:

- at most ``limits.max_connections`` connections at once, and ``limits.max_per_address``
  from one address, so one LAN host cannot take them all (a slowloris needs no token:
  slots are given before any request is read);
- a client that has not sent a whole request head within ``head_timeout_s`` of its
  first byte (or of connecting) loses its slot, before it is served;
- a kept-alive connection silent for ``idle_timeout_s`` between requests is closed;
- when there is no slot the client gets a whole ``503`` with ``Retry-After`` (not a
  bare close), then the connection lingers a moment so the answer is not lost to a
  TCP reset.

Drops are counted in :class:`Slots` and logged at most once per ``LOG_EVERY_S``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.web_request import BaseRequest

__all__ = ["Connection", "Limits", "Slots", "busy_response_bytes"]

log = logging.getLogger("dx7d.control")

LOG_EVERY_S = 10.0  # at most one line about dropped or refused connections this often
LINGER_S = 1.0  # a refused connection is kept this long (reading and discarding)


@dataclass
class Limits:
    """Read at each use, so tests and a reload can change them while serving."""

    max_connections: int
    max_per_address: int
    head_timeout_s: float
    idle_timeout_s: float
    retry_after_s: int


@dataclass
class Slots:
    """Connections held now, per address, and what the policy did (for /status)."""

    open: int = 0
    by_address: dict[str, int] = field(default_factory=dict)
    refused_busy: int = 0  # answered 503: no slot
    dropped_slow: int = 0  # lost their slot: no whole request head in time
    _unlogged: int = 0
    _last_log: float = 0.0

    def take(self, address: str, limits: Limits) -> bool:
        if self.open >= limits.max_connections or \
                self.by_address.get(address, 0) >= limits.max_per_address:
            return False
        self.open += 1
        self.by_address[address] = self.by_address.get(address, 0) + 1
        return True

    def give_back(self, address: str) -> None:
        self.open -= 1
        left = self.by_address.get(address, 1) - 1
        if left:
            self.by_address[address] = left
        else:
            self.by_address.pop(address, None)

    def note(self, what: str, address: str) -> None:
        """Count a refusal or drop; one log line per LOG_EVERY_S, however many."""
        self._unlogged += 1
        now = time.monotonic()
        if now - self._last_log >= LOG_EVERY_S:
            log.warning("control: %s %s (%d such since the last such line; %d connections "
                        "open)", what, address, self._unlogged, self.open)
            self._unlogged = 0
            self._last_log = now


def busy_response_bytes(retry_after_s: int) -> bytes:
    body = json.dumps({"error": "the control interface is busy (too many connections); "
                                f"try again in {retry_after_s} s"}).encode() + b"\n"
    head = (f"HTTP/1.1 503 Service Unavailable\r\nRetry-After: {retry_after_s}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n").encode()
    return head + body


class Connection(web.RequestHandler):
    """aiohttp's connection handler with the slot and deadline policy above, and JSON
    bodies for the errors aiohttp answers by itself (bad request lines, headers)."""

    def __init__(self, manager: web.Server, *, slots: Slots, limits: Callable[[], Limits],
                 **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._slots = slots
        self._limits = limits
        self._address = "?"
        self._refused = False
        self._held = False
        self._timer: asyncio.TimerHandle | None = None
        self._waiting_first_byte = False  # idle between requests: the next byte starts a head
        self._transport: asyncio.Transport | None = None
        self.head_time = time.monotonic()  # when the current request's head was complete

    # -- asyncio.Protocol -----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        peer = transport.get_extra_info("peername")
        self._address = str(peer[0]) if peer else "?"
        limits = self._limits()
        if not self._slots.take(self._address, limits):
            self._refused = True
            self._slots.refused_busy += 1
            self._slots.note("no free connection slot: answered 503 to", self._address)
            transport.write(busy_response_bytes(limits.retry_after_s))
            if transport.can_write_eof():
                transport.write_eof()
            self._timer = asyncio.get_running_loop().call_later(LINGER_S, transport.close)
            return
        self._held = True
        super().connection_made(transport)
        self._start_head_deadline()

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return  # read and dropped: the 503 is already on its way
        if self._waiting_first_byte:
            self._start_head_deadline()
        super().data_received(data)

    def eof_received(self) -> None:
        if self._refused:
            if self._transport is not None:
                self._transport.close()
            return
        super().eof_received()

    def connection_lost(self, exc: BaseException | None) -> None:
        self._cancel_timer()
        if self._refused:
            return
        if self._held:
            self._held = False
            self._slots.give_back(self._address)
        super().connection_lost(exc)

    # -- deadlines (called by the control interface's middleware) --------------------------

    def head_received(self) -> None:
        """A whole request head arrived: no deadline while it is served."""
        self._waiting_first_byte = False
        self.head_time = time.monotonic()
        self._cancel_timer()

    def request_done(self) -> None:
        """The answer is written: the next request may start within idle_timeout_s."""
        self._waiting_first_byte = True
        self._set_timer(self._limits().idle_timeout_s, "idle")

    def _start_head_deadline(self) -> None:
        self._waiting_first_byte = False
        self._set_timer(self._limits().head_timeout_s, "slow")

    def _set_timer(self, seconds: float, why: str) -> None:
        self._cancel_timer()
        self._timer = asyncio.get_running_loop().call_later(seconds, self._expire, why)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expire(self, why: str) -> None:
        self._timer = None
        if why == "slow":
            self._slots.dropped_slow += 1
            self._slots.note("no whole request head in time: dropped", self._address)
        if self._transport is not None:
            self._transport.close()

    # -- aiohttp's own refusals -----------------------------------------------------------

    def handle_error(self, request: BaseRequest, status: int = 500,
                     exc: BaseException | None = None,
                     message: str | None = None) -> web.StreamResponse:
        if status == 500:
            log.error("control: request failed", exc_info=exc)
        else:
            log.debug("control: refused a malformed request from %s: %s", self._address,
                      message or exc)
        reason = message or (str(exc) if exc else "") or "bad request"
        response = web.json_response({"error": f"{status}: {reason}"}, status=status)
        response.force_close()
        return response
