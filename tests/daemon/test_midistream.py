"""The MIDI byte-stream parser: what the MIDI spec says, whatever the split into events."""

from __future__ import annotations

import itertools
import logging

import pytest
from dx7d.daemon.midistream import SYSEX_LIMIT, StreamParser
from dx7d.voices import Bank, bank_dump
from hypothesis import given, settings
from hypothesis import strategies as st

REALTIME = [0xF8, 0xFA, 0xFB, 0xFC, 0xFE, 0xFF]


def parse(*chunks: bytes, parser: StreamParser | None = None) -> list[bytes]:
    parser = parser or StreamParser("test")
    out: list[bytes] = []
    for chunk in chunks:
        out += parser.feed(chunk)
    return out


def test_running_status_in_one_event_gives_three_notes() -> None:
    assert parse(bytes.fromhex("90 3c 40 40 40 43 40")) == [
        bytes.fromhex("90 3c 40"), bytes.fromhex("90 40 40"), bytes.fromhex("90 43 40")]


def test_running_status_carries_over_events() -> None:
    assert parse(bytes.fromhex("c0 05"), bytes.fromhex("06"), bytes.fromhex("07")) == [
        bytes.fromhex("c0 05"), bytes.fromhex("c0 06"), bytes.fromhex("c0 07")]


def test_c0_80_is_not_a_program_change() -> None:
    parser = StreamParser("test")
    assert parse(bytes.fromhex("c0 80"), parser=parser) == []
    assert parser.stats.refused_bytes == 0  # C0 cut short with no data byte yet
    assert parse(bytes.fromhex("3c 00"), parser=parser) == [bytes.fromhex("80 3c 00")]


def test_a_data_byte_over_7f_cuts_the_message_short_and_is_counted() -> None:
    parser = StreamParser("test")
    assert parse(bytes.fromhex("90 3c c8 40"), parser=parser) == [bytes.fromhex("c8 40")]
    assert parser.stats.refused_bytes == 1


def test_clock_inside_a_dump_is_taken_out_and_handled() -> None:
    dump = bank_dump(Bank.init(), 0)
    with_clock = dump[:100] + b"\xf8" + dump[100:2000] + b"\xfe" + dump[2000:]
    assert parse(with_clock[:1500], with_clock[1500:]) == [b"\xf8", b"\xfe", dump]


def test_an_unterminated_sysex_ends_at_the_next_status_byte(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "dx7d.midi")
    parser = StreamParser("kbd:out")
    got = parse(bytes.fromhex("f0 43 00 09"), bytes.fromhex("80 3c 00"),
                bytes.fromhex("90 3e 40"), parser=parser)
    assert got == [bytes.fromhex("80 3c 00"), bytes.fromhex("90 3e 40")]
    assert parser.stats.broken_sysex == 1
    lines = [r.getMessage() for r in caplog.records]
    assert lines == ["MIDI kbd:out: sysex of 4 bytes with no F7 dropped (a status byte ended it)"]


def test_an_endless_sysex_is_dropped_to_its_f7_with_one_line_and_bounded_memory(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "dx7d.midi")
    parser = StreamParser("test")
    assert parser.feed(b"\xf0\x43") == []
    for _ in range(2000):  # 2 MB
        assert parser.feed(bytes(1000)) == []
        assert parser.pending <= SYSEX_LIMIT
    assert parse(b"\x11\xf7\x90\x3c\x40", parser=parser) == [bytes.fromhex("90 3c 40")]
    assert parser.stats.oversized_sysex == 1
    assert len(caplog.records) == 1 and "limit" in caplog.records[0].getMessage()


def test_a_dump_of_exactly_the_limit_is_taken() -> None:
    message = b"\xf0" + bytes(SYSEX_LIMIT - 2) + b"\xf7"
    assert parse(message) == [message]
    assert parse(b"\xf0" + bytes(SYSEX_LIMIT - 1) + b"\xf7") == []


def test_refusals_are_logged_at_most_once_a_second(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "dx7d.midi")
    now = [100.0]
    parser = StreamParser("test", clock=lambda: now[0])
    for _ in range(50):
        parser.feed(bytes.fromhex("90 3c 90"))
        now[0] += 0.05  # 50 refusals in 2.5 s
    assert parser.stats.refused_bytes == 50
    assert 2 <= len(caplog.records) <= 3


def test_system_common_clears_running_status() -> None:
    parser = StreamParser("test")
    assert parse(bytes.fromhex("90 3c 40 f6 3e 40"), parser=parser) == [
        bytes.fromhex("90 3c 40"), b"\xf6"]
    assert parser.stats.refused_bytes == 2


_CHUNKS = st.lists(st.integers(0, 255), max_size=400).map(bytes)


def _split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    edges = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(edges)]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(_CHUNKS, st.sampled_from(
    [b"\xf0\x43\x00", b"\xf7", b"\xf8", b"\x90\x3c", b"\x40"])), max_size=12).map(b"".join),
    st.lists(st.integers(0, 10_000), max_size=20))
def test_any_split_gives_the_messages_of_the_whole_stream(data: bytes, cuts: list[int]) -> None:
    whole = StreamParser("whole", limit=64)
    split = StreamParser("split", limit=64)
    assert parse(*_split(data, cuts), parser=split) == parse(data, parser=whole)
    assert split.stats == whole.stats
    assert split.pending <= 64


_GARBAGE = st.lists(st.integers(0, 255), max_size=200).map(bytes)


@settings(max_examples=200, deadline=None)
@given(_GARBAGE, _GARBAGE, st.lists(st.tuples(st.integers(0, 4103),
                                              st.sampled_from(REALTIME)), max_size=10),
       st.lists(st.integers(0, 10_000), max_size=30))
def test_a_valid_dump_among_garbage_clock_and_broken_sysex_is_taken(
        before: bytes, after: bytes, clocks: list[tuple[int, int]], cuts: list[int]) -> None:
    dump = bank_dump(Bank.init(), 0)
    noisy = bytearray(dump)
    for position, byte in sorted(clocks, reverse=True):
        noisy.insert(max(1, position), byte)
    stream = before + b"\xf0\x43\x00\x09" + bytes(noisy) + after
    messages = parse(*_split(stream, cuts))
    assert messages.count(dump) >= 1
