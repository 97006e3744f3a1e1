"""Value checkers for the schema: each knows what it allows and normalises what it accepts.

A checker is called with the value as YAML produced it and returns the value to store
(e.g. a tuple for a list) or raises Invalid. Booleans are never integers here, whatever
Python thinks, and floats are never integers either.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from dataclasses import dataclass

from ._errors import show_value
from ._listen import parse_listen

__all__ = [
    "Check",
    "Invalid",
    "boolean",
    "choice",
    "device",
    "int_choice",
    "int_range",
    "knob_map",
    "listen",
    "midi_channel",
    "name_template",
    "optional",
    "path",
    "pattern_list",
    "power_of_two",
    "state_dir",
    "token",
]


class Invalid(Exception):
    """A value was refused; ``reason`` is an optional short detail ("a string", "port 0")."""

    def __init__(self, reason: str | None = None) -> None:
        super().__init__(reason or "")
        self.reason = reason


@dataclass(frozen=True)
class Check:
    """What a key allows (``allowed``, for people) and how to test it (``fn``, for code)."""

    allowed: str
    fn: Callable[[object], object]

    def __call__(self, value: object) -> object:
        return self.fn(value)


def type_name(value: object) -> str:
    """'a string', 'a boolean', ... for error messages."""
    if value is None:
        return "null"
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
             list: "a list", dict: "a mapping"}
    return names.get(type(value), f"a {type(value).__name__}")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _wrong_type(value: object) -> Invalid:
    return Invalid(type_name(value))


def choice(*options: str, null_means: str | None = None) -> Check:
    """One of the given strings; YAML null is read as ``null_means`` if given (e.g. 'null')."""

    def fn(value: object) -> object:
        if value is None and null_means is not None:
            return null_means
        if not isinstance(value, str):
            raise _wrong_type(value)
        if value not in options:
            raise Invalid()
        return value

    return Check("one of " + ", ".join(options), fn)


def int_choice(*options: int) -> Check:
    """One of the given integers."""

    def fn(value: object) -> object:
        if not _is_int(value):
            raise _wrong_type(value)
        if value not in options:
            raise Invalid()
        return value

    return Check("one of " + ", ".join(str(o) for o in options), fn)


def int_range(low: int, high: int) -> Check:
    """An integer from low to high inclusive."""

    def fn(value: object) -> object:
        if not _is_int(value):
            raise _wrong_type(value)
        assert isinstance(value, int)
        if not low <= value <= high:
            raise Invalid()
        return value

    return Check(f"an integer from {low} to {high}", fn)


def power_of_two(low: int, high: int) -> Check:
    """A power of two from low to high inclusive."""

    def fn(value: object) -> object:
        if not _is_int(value):
            raise _wrong_type(value)
        assert isinstance(value, int)
        if not low <= value <= high or value & (value - 1):
            raise Invalid()
        return value

    powers = [low]
    while powers[-1] * 2 <= high:
        powers.append(powers[-1] * 2)
    return Check("a power of two from {} to {} ({})".format(
        low, high, ", ".join(str(p) for p in powers)), fn)


def boolean() -> Check:
    """true or false (YAML booleans only; not 0/1, not "yes" in quotes)."""

    def fn(value: object) -> object:
        if not isinstance(value, bool):
            raise _wrong_type(value)
        return value

    return Check("true or false", fn)


def optional(check: Check) -> Check:
    """``check``, or null."""

    def fn(value: object) -> object:
        return None if value is None else check(value)

    return Check(f"{check.allowed}, or null", fn)


def _text(value: object, what: str) -> str:
    """A non-blank string without control characters."""
    if not isinstance(value, str):
        raise _wrong_type(value)
    if not value.strip():
        raise Invalid(f"empty {what}")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise Invalid("control character")
    return value


def path() -> Check:
    """A file system path written as a string; '~' is expanded where the path is used."""
    return Check("a path (a non-empty string; ~ allowed)", lambda v: _text(v, "path"))


def state_dir() -> Check:
    """'auto' or a path."""
    return Check("auto, or a path (a non-empty string; ~ allowed)",
                 lambda v: _text(v, "path"))


def device() -> Check:
    """An audio device: a name substring, a device index, or null (the default device)."""

    def fn(value: object) -> object:
        if _is_int(value):
            assert isinstance(value, int)
            if value < 0:
                raise Invalid("negative index")
            return value
        if isinstance(value, str):
            return _text(value, "name")
        raise _wrong_type(value)

    return Check("a device name or part of one (string), a device index (integer >= 0), "
                 "or null for the host API's default device", fn)


def pattern_list() -> Check:
    """A list of glob patterns (strings); stored as a tuple."""

    def fn(value: object) -> object:
        if not isinstance(value, list):
            raise _wrong_type(value)
        for item in value:
            if not isinstance(item, str) or not item.strip():
                raise Invalid(f"item {show_value(item)} is not a non-empty string")
        return tuple(value)

    return Check('a list of port name glob patterns (strings, e.g. ["*"] or '
                 '["*Keystation*", "DX7*"]; [] for none)', fn)


def midi_channel() -> Check:
    """'omni' or a channel number 1..16."""

    def fn(value: object) -> object:
        if value == "omni":
            return value
        if not _is_int(value):
            raise _wrong_type(value)
        assert isinstance(value, int)
        if not 1 <= value <= 16:
            raise Invalid()
        return value

    return Check("omni, or an integer from 1 to 16", fn)


def listen() -> Check:
    """'host:port' with an IPv4 address, a host name or [IPv6], port 1..65535."""

    def fn(value: object) -> object:
        if not isinstance(value, str):
            raise _wrong_type(value)
        try:
            parse_listen(value)
        except ValueError as exc:
            raise Invalid(str(exc)) from None
        return value

    return Check('"host:port" (host an IPv4 address, a host name or [IPv6 address] in '
                 'brackets; port 1 to 65535), e.g. "127.0.0.1:7970" or "[::1]:7970"', fn)


def token() -> Check:
    """A shared secret: a string of 1..512 printable characters without spaces."""

    def fn(value: object) -> object:
        if not isinstance(value, str):
            raise _wrong_type(value)
        if not value:
            raise Invalid("empty")
        if len(value) > 512 or not all(c.isprintable() and not c.isspace() for c in value):
            raise Invalid()
        return value

    return Check("a string of 1 to 512 printable characters without spaces", fn)


def name_template(max_len: int) -> Check:
    """A display name of 1..max_len characters; '{hostname}' is the only placeholder."""

    def fn(value: object) -> object:
        text = _text(value, "name")
        if len(text) > max_len:
            raise Invalid(f"{len(text)} characters")
        try:
            fields = [(f, spec, conv) for _, f, spec, conv in string.Formatter().parse(text)
                      if f is not None]
        except ValueError as exc:
            raise Invalid(str(exc)) from None
        if any(f != "hostname" for f, _, _ in fields):
            raise Invalid("unknown placeholder")
        if any(spec or conv for _, spec, conv in fields):  # {hostname:>99999}, {hostname!r}
            raise Invalid("{hostname} takes no format spec or conversion")
        return text

    return Check(f"a string of 1 to {max_len} characters; {{hostname}} is replaced by the "
                 "machine's host name ({{ and }} for literal braces)", fn)


# Controllers the daemon already gives a meaning (bank select, wheel, breath, foot,
# portamento, volume, pedals, data entry and (N)RPN, channel mode messages): never knobs.
_RESERVED_CCS = frozenset({0, 1, 2, 4, 5, 6, 7, 32, 38, 64, 65, 96, 97, 98, 99, 100, 101,
                           *range(120, 128)})


def knob_map(max_knobs: int, max_dimension: int) -> Check:
    """A mapping of MIDI CC numbers to latent dimensions (1-based), at most ``max_knobs``
    entries, each CC free for the purpose and each dimension mapped once; stored as a dict."""

    def fn(value: object) -> object:
        if not isinstance(value, dict):
            raise _wrong_type(value)
        if len(value) > max_knobs:
            raise Invalid(f"{len(value)} knobs, at most {max_knobs}")
        seen: dict[int, int] = {}
        for cc, dim in value.items():
            if not _is_int(cc) or not 0 <= cc <= 127:
                raise Invalid(f"CC {show_value(cc)} is not a controller number 0-127")
            if cc in _RESERVED_CCS:
                raise Invalid(f"CC {cc} already has a meaning in dx7d")
            if not _is_int(dim) or not 1 <= dim <= max_dimension:
                raise Invalid(f"CC {cc}: dimension {show_value(dim)} is not 1-{max_dimension}")
            if dim in seen:
                raise Invalid(f"dimension {dim} given to CC {seen[dim]} and CC {cc}")
            seen[dim] = cc
        return {int(cc): int(dim) for cc, dim in sorted(value.items())}

    return Check(f"a mapping of up to {max_knobs} MIDI CC numbers to latent dimensions "
                 f"1-{max_dimension} (e.g. {{16: 1, 17: 2}}); {{}} for none; not CC 0-2, 4-7, "
                 "32, 38, 64, 65, 96-101, 120-127", fn)
