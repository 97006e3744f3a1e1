"""The page's safety on a LAN (issue 15, item 6), each refusal shown over real sockets:
no token, no change; another site's page cannot change the module through the user's
browser (Origin, Sec-Fetch-Site, Referer, form encodings); a DNS-rebinding Host name
gets nothing at all; the module's own page, with its token, is let through."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from dx7d.voices import Patch, voice_dump

from .control_rig import TOKEN, Module, module, start

__all__ = ["module", "start"]  # the fixtures, imported for pytest

CHANGES = [("POST", "/panic", b""), ("POST", "/program/3", b""),
           ("POST", "/cartridge/4/select", b""),
           ("PUT", "/voice", voice_dump(Patch(name="FORGED"), 0))]


def own_page(module: Module) -> dict[str, str]:
    """What Chromium sends with a fetch from the module's own page."""
    host = f"127.0.0.1:{module.server.port}"
    return {"Host": host, "Origin": f"http://{host}", "Sec-Fetch-Site": "same-origin",
            "Referer": f"http://{host}/"}


def changed_nothing(module: Module) -> None:
    assert module.status()["program"]["number"] == 1
    assert "all_sound_off" not in module.engine.names()
    assert module.status()["program"]["name"] != "FORGED    "


@pytest.mark.parametrize("method, path, body", CHANGES)
def test_the_modules_own_page_may_change_it(module: Module, method: str, path: str,
                                            body: bytes) -> None:
    code, reply = module.request(method, path, body, own_page(module))
    assert code == 200, reply


@pytest.mark.parametrize("method, path, body", CHANGES)
@pytest.mark.parametrize("forged", [
    {"Origin": "http://evil.example"},
    {"Origin": "null"},  # a sandboxed frame or a data: page
    {"Origin": "http://127.0.0.1:1"},  # another port is another origin
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},  # another port or sub-domain of the same site
    {"Referer": "http://evil.example/page.html"},
], ids=["origin", "null-origin", "other-port", "cross-site", "same-site", "referer"])
def test_a_request_from_another_sites_page_is_refused(module: Module, method: str, path: str,
                                                     body: bytes, forged: dict[str, str]
                                                     ) -> None:
    headers = {"Host": f"127.0.0.1:{module.server.port}", **forged}
    code, reply = module.request(method, path, body, headers)
    assert code == 403, reply
    assert "refused" in json.loads(reply)["error"]
    changed_nothing(module)


@pytest.mark.parametrize("content_type", ["multipart/form-data; boundary=x", "text/plain",
                                          "TEXT/PLAIN;charset=UTF-8"])
def test_a_form_encoding_is_refused_even_without_an_origin(module: Module,
                                                           content_type: str) -> None:
    """A <form> can only send these (and urlencoded, which carries an Origin)."""
    code, reply = module.request("POST", "/panic", b"x=1", {"Content-Type": content_type})
    assert code == 403
    assert "form" in json.loads(reply)["error"]
    changed_nothing(module)


def test_a_cross_site_form_post_is_refused(module: Module) -> None:
    """What a browser sends for <form method=post action=http://127.0.0.1:7970/panic> on
    another site: urlencoded, Origin of that site, Sec-Fetch-Site cross-site."""
    headers = {"Host": f"127.0.0.1:{module.server.port}",
               "Content-Type": "application/x-www-form-urlencoded",
               "Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site",
               "Sec-Fetch-Mode": "navigate", "Referer": "https://evil.example/"}
    code, _ = module.request("POST", "/program/9", b"a=b", headers)
    assert code == 403
    changed_nothing(module)


@pytest.mark.parametrize("host", ["evil.example", "evil.example:7970", "127.0.0.1.evil.example",
                                  "localhost.evil.example", "dx7d.local.evil.example"])
@pytest.mark.parametrize("method, path", [("GET", "/status"), ("GET", "/cartridge"),
                                          ("GET", "/"), ("POST", "/panic")])
def test_a_dns_rebinding_host_name_gets_nothing(module: Module, host: str, method: str,
                                                path: str) -> None:
    """Another site's name resolved to the module: its page would be same-origin with
    the module; the Host it sends gives it away."""
    code, reply = module.request(method, path, b"" if method == "POST" else None,
                                 {"Host": host, "Origin": f"http://{host}"})
    assert code == 403
    assert "DNS rebinding" in json.loads(reply)["error"]
    changed_nothing(module)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]", "192.168.1.20:7970",
                                  "dx7d.localhost"])
def test_addresses_and_our_own_names_are_served(module: Module, host: str) -> None:
    assert module.request("GET", "/status", headers={"Host": host})[0] == 200


def test_the_machines_own_names_are_served(module: Module) -> None:
    import socket

    short = socket.gethostname().split(".")[0]
    for host in (short, f"{short}.local", f"{short}.local:{module.server.port}"):
        assert module.request("GET", "/status", headers={"Host": host})[0] == 200, host


@pytest.mark.parametrize("method, path, body", CHANGES)
def test_with_a_token_the_own_page_needs_it_too(start: Callable[..., Module], method: str,
                                                path: str, body: bytes) -> None:
    module = start(token=TOKEN)
    code, _ = module.request(method, path, body, own_page(module))
    assert code == 401
    changed_nothing(module)
    code, _ = module.request(method, path, body,
                             {**own_page(module), "Authorization": f"Bearer {TOKEN}"})
    assert code == 200


def test_with_a_token_a_cross_site_request_is_refused_even_with_it(
        start: Callable[..., Module]) -> None:
    module = start(token=TOKEN)
    code, _ = module.request("POST", "/panic", b"",
                             {"Authorization": f"Bearer {TOKEN}",
                              "Origin": "http://evil.example"})
    assert code == 403
    changed_nothing(module)


def test_the_page_itself_loads_without_the_token_and_nothing_else_does(
        start: Callable[..., Module]) -> None:
    """The page must load to ask for the token; it holds nothing secret."""
    module = start(token=TOKEN)
    for path in ("/", "/web/app.js", "/web/style.css"):
        assert module.request("GET", path)[0] == 200, path
    for path in ("/status", "/algorithms", "/cartridge/voices", "/cartridge/1/table",
                 "/backups", "/library", "/voice/table"):
        assert module.request("GET", path)[0] == 401, path
    for path in ("/web/../status", "/web/%2e%2e/status", "/web/..%2fstatus"):
        code, body = module.request("GET", path)  # the page's folder leads nowhere else
        assert code in (401, 404) and b"uptime" not in body, path


def test_the_page_is_served_with_a_policy_that_keeps_it_to_this_module(module: Module
                                                                       ) -> None:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", module.server.port, timeout=10)
    try:
        conn.request("GET", "/")
        reply = conn.getresponse()
        page = reply.read()
        policy = reply.getheader("Content-Security-Policy") or ""
        assert reply.status == 200 and b"<title>dx7d</title>" in page
        assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert reply.getheader("X-Frame-Options") == "DENY"
        # nothing the page loads comes from elsewhere
        assert b"http://" not in page and b"https://" not in page and b"//" not in \
            page.replace(b"<!--", b"").split(b"<body>")[0].replace(b"/web/", b"")
    finally:
        conn.close()
