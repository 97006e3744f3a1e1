"""systemd's notification protocol (sd_notify) and the audio watchdog gate.

The protocol (man sd_notify, "Notes" and systemd's NOTIFY_SOCKET docs): the
service manager puts the address of an AF_UNIX datagram socket in the
environment variable ``NOTIFY_SOCKET``: a file-system path (``/run/...``) or an
abstract-namespace name written with a leading ``@``. The service sends one
datagram per notification, newline-separated ``KEY=VALUE`` assignments, e.g.
``READY=1\\nSTATUS=playing``. There is no reply.

Outside systemd (``NOTIFY_SOCKET`` unset) every call is a no-op returning
False. A failed send never raises: it returns False and is logged once at
debug level, because a notification must never take the daemon down. Sends
use ``MSG_DONTWAIT``, so a stuck service manager cannot block the main loop.

:class:`WatchdogGate` lets the main loop send ``WATCHDOG=1`` only while the
audio callback is still running: the callback bumps a counter (a plain int
increment, no lock), and :meth:`WatchdogGate.alive` says whether it moved since
the previous call.

Intended use in the daemon::

    notifier, gate = Notifier(), WatchdogGate()
    # audio callback, once per buffer: gate.tick()
    notifier.ready("rom1A, 16 voices")        # engine compiled, stream running, MIDI listening
    interval = notifier.watchdog_interval()   # None: no watchdog configured
    # main loop, about once a second:
    if interval is not None and gate.alive():
        notifier.watchdog()                   # a stalled audio thread stops the pings
    # SIGHUP: notifier.reloading(); reload; notifier.ready()
    # exit: notifier.stopping(); close components; notifier.close()
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Mapping
from types import TracebackType

__all__ = ["Notifier", "WatchdogGate"]

_log = logging.getLogger(__name__)


def _socket_address(value: str) -> str | None:
    """The AF_UNIX address for a NOTIFY_SOCKET value, or None if unusable.

    ``@name`` is the abstract socket ``\\0name``; an absolute path is used as
    is. Anything else (empty, relative, ``vsock:``) is not for us.
    """
    if value.startswith("@") and len(value) > 1:
        return "\0" + value[1:]
    if value.startswith("/"):
        return value
    return None


class Notifier:
    """Sends sd_notify datagrams to the service manager, or nothing outside systemd.

    ``environ`` defaults to ``os.environ`` and is read once, at construction.
    The socket is opened at construction too and closed by :meth:`close` (or by
    leaving a ``with`` block). Meant to be used from one thread (the main one).
    """

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        self._env = env
        raw = env.get("NOTIFY_SOCKET", "")
        self._address = _socket_address(raw)
        self._sock: socket.socket | None = None
        self._logged_failure = False
        if raw and self._address is None:
            _log.debug("NOTIFY_SOCKET=%r is not a path or @abstract name: not notifying", raw)
        if self._address is not None:
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)

    @property
    def enabled(self) -> bool:
        """True when running under a service manager that listens for notifications."""
        return self._sock is not None

    def notify(self, *lines: str, **fields: str | int) -> bool:
        """Send one datagram: each of ``lines`` (``"KEY=VALUE"``) then each ``KEY=value``.

        Returns True if the datagram was handed to the kernel, False when not
        under systemd or when sending failed (logged once, at debug level).
        Raises ValueError for a line or value containing a newline (a caller
        bug: it would inject a second assignment).
        """
        items = [*lines, *(f"{key}={value}" for key, value in fields.items())]
        for item in items:
            if "\n" in item:
                raise ValueError(f"sd_notify assignment {item!r} contains a newline")
        if self._sock is None or self._address is None or not items:
            return False
        data = "\n".join(items).encode("utf-8", "replace")
        try:
            self._sock.sendto(data, socket.MSG_DONTWAIT, self._address)
        except OSError as exc:
            if not self._logged_failure:
                self._logged_failure = True
                shown = self._address.replace("\0", "@", 1)
                _log.debug("sd_notify to %s failed: %s (further failures not logged)", shown, exc)
            return False
        return True

    def ready(self, status: str | None = None) -> bool:
        """``READY=1``: start-up is complete (engine loaded, stream running, MIDI listening)."""
        if status is None:
            return self.notify("READY=1")
        return self.notify("READY=1", "STATUS=" + _one_line(status))

    def status(self, text: str) -> bool:
        """``STATUS=text``: one line for ``systemctl status`` (newlines become spaces)."""
        return self.notify("STATUS=" + _one_line(text))

    def watchdog(self) -> bool:
        """``WATCHDOG=1``: keep-alive ping; send it only while the audio callback advances."""
        return self.notify("WATCHDOG=1")

    def reloading(self) -> bool:
        """``RELOADING=1`` with ``MONOTONIC_USEC`` (CLOCK_MONOTONIC, µs), as systemd 253+ wants.

        Follow it with :meth:`ready` once the new configuration is in effect.
        """
        usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        return self.notify("RELOADING=1", f"MONOTONIC_USEC={usec}")

    def stopping(self) -> bool:
        """``STOPPING=1``: shutdown has begun."""
        return self.notify("STOPPING=1")

    def extend_timeout(self, seconds: float) -> bool:
        """``EXTEND_TIMEOUT_USEC``: ask for ``seconds`` more before the start/stop times out."""
        return self.notify(f"EXTEND_TIMEOUT_USEC={max(0, round(seconds * 1_000_000))}")

    def watchdog_interval(self) -> float | None:
        """The watchdog timeout in seconds (``WATCHDOG_USEC``), or None if none applies.

        None when unset, malformed, zero, or when ``WATCHDOG_PID`` names another
        process. Ping at least twice per interval.
        """
        try:
            usec = int(self._env.get("WATCHDOG_USEC", ""))
        except ValueError:
            return None
        pid = self._env.get("WATCHDOG_PID")
        if pid is not None:
            try:
                if int(pid) != os.getpid():
                    return None
            except ValueError:
                return None
        return usec / 1_000_000 if usec > 0 else None

    def close(self) -> None:
        """Close the socket; later calls return False."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __enter__(self) -> Notifier:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _one_line(text: str) -> str:
    return " ".join(text.splitlines())


class WatchdogGate:
    """Tells the main loop whether the audio callback ran since it last asked.

    The audio callback calls :meth:`tick` (or does ``gate.ticks += 1``): one
    attribute increment, no lock, no allocation worth counting. Only that
    thread writes ``ticks``; the main loop reads it in :meth:`alive`.
    """

    __slots__ = ("_seen", "ticks")

    def __init__(self) -> None:
        self.ticks = 0
        self._seen = 0

    def tick(self) -> None:
        """Called by the audio callback once per buffer."""
        self.ticks += 1

    def alive(self) -> bool:
        """True if :meth:`tick` was called since the previous ``alive()`` (or since creation)."""
        now = self.ticks
        moved = now != self._seen
        self._seen = now
        return moved
