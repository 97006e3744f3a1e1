"""Which ALSA sequencer ports are wired by hand to the daemon's own input port.

rtmidi lists ports but not their subscriptions. The kernel shows both in
/proc/asound/seq/clients (what ``aconnect -l`` shows too): a ``Client N : "name"``
line per client, a ``  Port N : "name" (flags)`` line per port, and under a port a
``    Connected From: C:P, C:P[...]`` line naming the ports sending to it. A source
someone wired to ``dx7d-in:dx7d`` with aconnect (or a patchbay) is heard through
that port already; connecting it a second time through a port of our own would play
every note twice. rtmidi names an ALSA port ``client:port C:P``, so the address at
the end of its name is what the kernel lists.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

__all__ = ["SEQ_CLIENTS", "address_of", "not_wired_to", "senders_to"]

SEQ_CLIENTS = Path("/proc/asound/seq/clients")

_CLIENT = re.compile(r'^Client\s+\d+\s*:\s*"(?P<name>.*)"')
_PORT = re.compile(r'^\s+Port\s+\d+\s*:\s*"(?P<name>.*)"')
_FROM = "Connected From:"
_ADDRESS = re.compile(r"\b(\d+):(\d+)\b")
_TRAILING_ADDRESS = re.compile(r"(\d+):(\d+)\s*$")

Address = tuple[int, int]


def senders_to(client: str, port: str, listing: str) -> set[Address]:
    """(client, port) addresses subscribed to port ``port`` of the client(s) named
    ``client`` in a /proc/asound/seq/clients ``listing``."""
    senders: set[Address] = set()
    in_client = in_port = False
    for line in listing.splitlines():
        if (match := _CLIENT.match(line)) is not None:
            in_client, in_port = match["name"] == client, False
        elif (match := _PORT.match(line)) is not None:
            in_port = in_client and match["name"] == port
        elif in_port and line.strip().startswith(_FROM):
            text = line.split(_FROM, 1)[1]
            text = re.sub(r"\[[^\]]*\]", "", text)  # [ex], [real:N], [tick:N] flags
            senders.update((int(c), int(p)) for c, p in _ADDRESS.findall(text))
    return senders


def address_of(port_name: str) -> Address | None:
    """The ``C:P`` address at the end of an rtmidi ALSA port name, if there is one."""
    match = _TRAILING_ADDRESS.search(port_name)
    return None if match is None else (int(match[1]), int(match[2]))


def not_wired_to(ports: Iterable[str], client: str, port: str,
                 listing_path: Path = SEQ_CLIENTS) -> list[str]:
    """``ports`` less those wired by hand to ``client:port``; all of them when the
    kernel's listing cannot be read (no sequencer, /proc hidden)."""
    ports = list(ports)
    try:
        listing = listing_path.read_text(errors="replace")
    except OSError:
        return ports
    wired = senders_to(client, port, listing)
    return [p for p in ports if address_of(p) not in wired]
