"""Which browsers may talk to the control interface: Host names and request origins.

Two attacks go through the user's own browser, which can reach the module when a
page of another site cannot:

- **cross-site requests**: a page of another site posts a form, or fetches, to the
  module's address. Browsers mark such requests: ``Origin`` (on every POST/PUT and on
  cross-origin fetches), ``Sec-Fetch-Site``, ``Referer``. A request that changes
  something is refused unless every mark it carries says "this module's own page";
  a request with none of them is not from a browser page (curl, the dx7d CLI) and is
  left to the token rule. Form encodings that only forms send (multipart, text/plain)
  are refused outright.
- **DNS rebinding**: another site's name made to resolve to the module's address,
  so its page is "same-origin" with the module. Its requests carry that name in
  ``Host``: every request whose Host is not an IP literal, ``localhost`` or one of
  this machine's own names is refused.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Mapping
from urllib.parse import urlsplit

__all__ = ["FORM_ONLY_TYPES", "HostCheck", "cross_site_reason"]

FORM_ONLY_TYPES = frozenset({"multipart/form-data", "text/plain"})


def _split_host(host: str) -> str:
    """'name:port' or '[v6]:port' -> the name or address, lower case, no trailing dot."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else host
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.rstrip(".")


class HostCheck:
    """The Host names this module answers to."""

    def __init__(self, listen_host: str, port: int) -> None:
        hostname = socket.gethostname().lower()
        short = hostname.split(".")[0]
        names = {"localhost", "localhost.localdomain", hostname, short, f"{short}.local",
                 f"{short}-dx7d-{port}.local"}  # the loopback zeroconf name (discovery)
        try:
            names.add(socket.getfqdn().lower())
        except OSError:
            pass
        if listen_host not in ("", "0.0.0.0", "::"):
            names.add(_split_host(listen_host))
        self.names = frozenset(n for n in names if n)

    def allowed(self, host_header: str | None) -> bool:
        """True for a missing Host (HTTP/1.0, not a browser), an IP literal, or our name."""
        if host_header is None:
            return True
        name = _split_host(host_header)
        if not name:
            return False
        try:
            ipaddress.ip_address(name)
            return True
        except ValueError:
            pass
        return name in self.names or name.endswith(".localhost")


def _origin_of(url: str) -> str | None:
    """'http://host:port/path' -> 'http://host:port' (None for an opaque or odd value)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def cross_site_reason(method: str, headers: Mapping[str, str]) -> str | None:
    """Why a state-changing request is refused as cross-site, or None to let it on."""
    host = headers.get("Host")
    ours = {f"http://{host}".lower(), f"https://{host}".lower()} if host else set()
    content_type = headers.get("Content-Type", "").split(";")[0].strip().lower()
    if content_type in FORM_ONLY_TYPES:
        return f"{method} with Content-Type {content_type} refused (a form's encoding)"
    origin = headers.get("Origin")
    if origin is not None and (origin.strip().lower() not in ours):
        return f"cross-origin {method} refused: Origin {origin!r} is not this module's page"
    site = headers.get("Sec-Fetch-Site")
    if site is not None and site.strip().lower() not in ("same-origin", "none"):
        return f"cross-site {method} refused (Sec-Fetch-Site: {site})"
    referer = headers.get("Referer")
    if referer is not None and origin is None:
        source = _origin_of(referer)
        if source is not None and source not in ours:
            return f"cross-site {method} refused: sent from {source}"
    return None
