"""control.listen parsing, the zeroconf name template, MIDI input patterns."""

from __future__ import annotations

import pytest
from dx7d.config import (
    defaults,
    is_loopback,
    loads,
    match_inputs,
    parse_listen,
    zeroconf_name,
)


@pytest.mark.parametrize(("text", "expected"), [
    ("127.0.0.1:7970", ("127.0.0.1", 7970)),
    ("[::1]:1", ("::1", 1)),
    ("[fe80::1]:65535", ("fe80::1", 65535)),
    ("synth-rack.local:80", ("synth-rack.local", 80)),
])
def test_parse_listen(text: str, expected: tuple[str, int]) -> None:
    assert parse_listen(text) == expected


@pytest.mark.parametrize(("text", "reason"), [
    ("127.0.0.1", "no port"), ("127.0.0.1:0", "port 0"), ("[::1]", "no port"),
    ("::1:80", "IPv6 addresses go in brackets"), ("a..b:80", "bad host name"),
    ("1.2.3:80", "bad IPv4 address"), ("h:８０", "bad port"),
])
def test_parse_listen_says_what_is_wrong(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_listen(text)


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.9.9.9", True), ("::1", True), ("localhost", True),
    ("0.0.0.0", False), ("::", False), ("192.168.1.5", False), ("synth.local", False),
])
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_zeroconf_name_uses_short_hostname() -> None:
    assert zeroconf_name(defaults(), "studio.example.org") == "dx7d on studio"


def test_zeroconf_name_literal_braces() -> None:
    config = loads("zeroconf:\n  name: '{{DX7}} {hostname}'\n")
    assert zeroconf_name(config, "pi") == "{DX7} pi"


def test_zeroconf_name_is_cut_to_63_bytes_on_a_character_boundary() -> None:
    name = zeroconf_name(defaults(), "é" * 40)
    assert len(name.encode()) <= 63 and name.startswith("dx7d on éé")
    assert len(name.encode()) >= 62


def test_zeroconf_name_limits() -> None:
    with pytest.raises(ValueError, match=r"zeroconf\.name"):
        loads("zeroconf:\n  name: '" + "x" * 64 + "'\n")
    with pytest.raises(ValueError, match="unknown placeholder"):
        loads("zeroconf:\n  name: '{host}'\n")
    with pytest.raises(ValueError, match="empty name"):
        loads("zeroconf:\n  name: '  '\n")


def test_match_inputs_glob_case_insensitive() -> None:
    ports = ["Keystation 49 MIDI 1", "DX7 Port 1", "Arturia KeyStep", "Midi Through Port-0"]
    assert match_inputs(["*keystation*", "dx7*"], ports) == ports[:2]
    assert match_inputs(["*"], ports) == ports
    assert match_inputs([], ports) == []
    assert match_inputs(["DX7 Port [12]"], ports) == ["DX7 Port 1"]
