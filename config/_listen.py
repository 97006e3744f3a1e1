"""control.listen addresses: "host:port", "[v6addr]:port"; parsing and the loopback test."""

from __future__ import annotations

import ipaddress
import re

__all__ = ["is_loopback", "parse_listen"]

_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)\Z")


def _check_host(host: str) -> None:
    """Raise ValueError unless host is an IPv4 address or an RFC 1123 host name."""
    if not host:
        raise ValueError("no host")
    if re.fullmatch(r"[0-9.]+", host):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            raise ValueError(f"bad IPv4 address {host}") from None
        return
    if ":" in host:
        raise ValueError("IPv6 addresses go in brackets")
    if len(host) > 253 or not all(_LABEL.match(label) for label in host.split(".")):
        raise ValueError(f"bad host name {host}")


def parse_listen(text: str) -> tuple[str, int]:
    """Split "host:port" into (host, port); an IPv6 host comes back without brackets.

    Raises ValueError saying what is wrong ("no port", "port 0", "bad IPv6 address ...").
    """
    if text.startswith("["):
        close = text.find("]")
        if close < 0:
            raise ValueError("unclosed [")
        host, rest = text[1:close], text[close + 1:]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ValueError(f"bad IPv6 address {host}") from None
        if not rest.startswith(":"):
            raise ValueError("no port")
        port_text = rest[1:]
    else:
        host, sep, port_text = text.rpartition(":")
        if not sep:
            raise ValueError("no port")
        _check_host(host)
    if not port_text.isascii() or not port_text.isdigit():
        raise ValueError(f"bad port {port_text!r}" if port_text else "no port")
    port = int(port_text)
    if not 1 <= port <= 65535:
        raise ValueError(f"port {port}")
    return host, port


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and 'localhost' (only this machine can connect)."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
