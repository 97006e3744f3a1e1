"""Discovery on the LAN with zeroconf (mDNS/DNS-SD): the daemon announces `_dx7d._tcp`.

TXT record: ``version`` (dx7d's), ``name`` (zeroconf.name), ``path`` (the control
interface's base path, "/"). The announcement is withdrawn when the daemon stops.
A control interface on a loopback address is announced on the loopback
interface only (other machines could not reach it, so the LAN is not told about it)
and under a host name of its own, ``<hostname>-dx7d-<port>.local``.
``browse()`` is what ``dx7d discover`` runs.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

__all__ = ["SERVICE_TYPE", "Announcer", "Found", "browse"]

log = logging.getLogger("dx7d.zeroconf")

SERVICE_TYPE = "_dx7d._tcp.local."


def _ipv4_addresses() -> list[str]:
    """This machine's IPv4 addresses (what zeroconf's deprecated get_all_addresses gave)."""
    import ifaddr

    return sorted({ip.ip for adapter in ifaddr.get_adapters() for ip in adapter.ips
                   if isinstance(ip.ip, str)})


def _listen_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address the control interface listens on; None for every address (0.0.0.0, ::).

    A host name is resolved the way bind() resolved it (its first IPv4 address)."""
    if host in ("", "0.0.0.0", "::"):
        return None
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        resolved = socket.getaddrinfo(host, None, socket.AF_INET, socket.SOCK_STREAM)
        address = ipaddress.ip_address(resolved[0][4][0])
    return None if address.is_unspecified else address


def _is_loopback(host: str) -> bool:
    address = _listen_address(host)
    return address is not None and address.is_loopback


def _addresses(host: str) -> list[bytes]:
    """Addresses to announce: the control host if it is a specific one, else all IPv4 ones."""
    address = _listen_address(host)
    if address is not None:
        return [address.packed]
    found = [a for a in _ipv4_addresses() if not a.startswith("127.")] or ["127.0.0.1"]
    return [socket.inet_aton(a) for a in found]


def _interfaces(host: str) -> Any:
    """Where to announce: a loopback host on the loopback interface only (127.0.0.1, where
    local browsers listen, also for ::1), anything else on every interface."""
    from zeroconf import InterfaceChoice

    return ["127.0.0.1"] if _is_loopback(host) else InterfaceChoice.All


def _server_name(host: str, port: int) -> str:
    """The SRV target. The machine's own name, except for a loopback announcement: that
    gets a name of its own, so "<hostname>.local" is never claimed to be 127.0.0.1 and
    another module's addresses under the machine's name are not mixed into this one's."""
    short = socket.gethostname().split(".")[0]
    if _is_loopback(host):
        return f"{short}-dx7d-{port}.local."
    return f"{short}.local."


class Announcer:
    """Registers the service in a thread of its own (probing takes a few seconds)."""

    def __init__(self, name: str, host: str, port: int, version: str) -> None:
        self.name = name
        self.host = host
        self.port = port
        self.version = version
        self._zeroconf: Any = None
        self._info: Any = None
        self._registered = False
        self._thread = threading.Thread(target=self._register, name="dx7d-zeroconf",
                                        daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _register(self) -> None:
        from zeroconf import ServiceInfo, Zeroconf

        try:
            self._info = ServiceInfo(
                SERVICE_TYPE, f"{self.name}.{SERVICE_TYPE}", port=self.port,
                addresses=_addresses(self.host),
                properties={"version": self.version, "name": self.name, "path": "/"},
                server=_server_name(self.host, self.port),
            )
            self._zeroconf = Zeroconf(interfaces=_interfaces(self.host))
            self._zeroconf.register_service(self._info, allow_name_change=True)
            self._registered = True
            log.info("announced %s %s (%s)", self._info.name,
                     "on loopback only" if _is_loopback(self.host) else "on the LAN",
                     SERVICE_TYPE)
        except Exception as exc:
            log.error("zeroconf announcement failed: %s", exc)

    def stop(self) -> None:
        """Withdraw the announcement."""
        self._thread.join()
        if self._zeroconf is not None:
            try:
                if self._registered:
                    self._zeroconf.unregister_service(self._info)
                    log.info("announcement withdrawn")
            finally:
                self._zeroconf.close()


@dataclass(frozen=True)
class Found:
    """One dx7d module that answered."""

    name: str
    addresses: tuple[str, ...]
    port: int
    version: str
    path: str
    answered_after_s: float  # from the start of browsing to its announcement


def browse(seconds: float = 3.0) -> list[Found]:
    """The dx7d modules that answer within ``seconds`` (and did not leave meanwhile)."""
    from zeroconf import ServiceBrowser, ServiceStateChange, Zeroconf

    started = time.monotonic()
    seen: dict[str, float] = {}  # name -> seconds after start

    def on_change(zeroconf: Any, service_type: str, name: str,
                  state_change: ServiceStateChange) -> None:
        if state_change is ServiceStateChange.Added:
            seen.setdefault(name, time.monotonic() - started)
        elif state_change is ServiceStateChange.Removed:
            seen.pop(name, None)

    zc = Zeroconf()
    try:
        browser = ServiceBrowser(zc, SERVICE_TYPE, handlers=[on_change])
        time.sleep(seconds)
        browser.cancel()
        found = []
        for name, after in sorted(seen.items()):
            info = zc.get_service_info(SERVICE_TYPE, name, timeout=2000)
            if info is None:
                continue
            props = {k.decode(): (v or b"").decode() for k, v in info.properties.items()}
            found.append(Found(name=name.removesuffix("." + SERVICE_TYPE),
                               addresses=tuple(info.parsed_addresses()), port=info.port or 0,
                               version=props.get("version", "?"), path=props.get("path", "/"),
                               answered_after_s=round(after, 3)))
        return found
    finally:
        zc.close()
