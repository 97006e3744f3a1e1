"""Turning two settings into what the daemon uses: the zeroconf name and MIDI port matching."""

from __future__ import annotations

import fnmatch
import socket
import string
from collections.abc import Iterable

from ._model import Config

__all__ = ["match_inputs", "zeroconf_name"]

_MAX_NAME_BYTES = 63  # a DNS-SD service instance name is one DNS label


def zeroconf_name(config: Config, hostname: str | None = None) -> str:
    """zeroconf.name with {hostname} replaced by the short host name (before the first dot).

    The result is cut to 63 UTF-8 bytes (the DNS label limit) at a character boundary.
    ``hostname`` defaults to socket.gethostname().
    """
    host = (socket.gethostname() if hostname is None else hostname).split(".")[0]
    name = _fill(config.zeroconf.name, host)
    data = name.encode("utf-8")[:_MAX_NAME_BYTES]
    return data.decode("utf-8", errors="ignore").rstrip()


def _fill(template: str, host: str) -> str:
    """``template`` with each {hostname} replaced and {{ }} unescaped; never raises (a
    template the schema would refuse is used as it is written)."""
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError:
        return template
    out = []
    for literal, field, spec, conversion in parts:
        out.append(literal)
        if field is not None:
            out.append(host if field == "hostname" and not spec and not conversion
                       else "{" + field + "}")
    return "".join(out)


def match_inputs(patterns: Iterable[str], port_names: Iterable[str]) -> list[str]:
    """The port names matched by any midi.inputs pattern, in the order given.

    Patterns are shell globs (* ? [abc]) matched case-insensitively against the whole port
    name as the MIDI API reports it. Which ports count as inputs worth connecting (not the
    daemon's own, not "Midi Through") is the caller's business: "*" matches every name.
    """
    folded = [p.casefold() for p in patterns]
    return [name for name in port_names
            if any(fnmatch.fnmatchcase(name.casefold(), p) for p in folded)]
