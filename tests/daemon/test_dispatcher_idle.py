"""The dispatcher sleeps until its next deadline (active sensing, a pending state write)
and, with neither, until input arrives: an idle daemon's dispatcher costs no wake-ups."""

from __future__ import annotations

import time
from pathlib import Path

from dx7d.daemon.dispatcher import (
    ACTIVE_SENSING_TIMEOUT_S,
    FLUSH_INTERVAL_S,
    IDLE_WAIT_SLACK_S,
    Dispatcher,
)

from .control_rig import RecordingEngine, new_dispatcher


def _dispatcher(tmp_path: Path) -> tuple[Dispatcher, RecordingEngine]:
    engine = RecordingEngine()
    return new_dispatcher(tmp_path, engine), engine


def test_an_idle_dispatcher_waits_for_input_only(tmp_path: Path) -> None:
    dispatcher, _ = _dispatcher(tmp_path)
    dispatcher._flush()  # whatever start-up left to write is written
    assert dispatcher._idle_wait(time.perf_counter()) is None


def test_active_sensing_and_a_pending_write_bound_the_wait(tmp_path: Path) -> None:
    dispatcher, _ = _dispatcher(tmp_path)
    dispatcher._flush()
    t = time.perf_counter()
    dispatcher.handle(t, b"\xfe")
    wait = dispatcher._idle_wait(t)
    assert wait is not None
    assert abs(wait - (ACTIVE_SENSING_TIMEOUT_S + IDLE_WAIT_SLACK_S)) < 1e-9
    # past the deadline: no negative wait
    assert dispatcher._idle_wait(t + 10.0) == IDLE_WAIT_SLACK_S
    dispatcher._sensing = False
    dispatcher.handle(t, bytes([0xC0, 3]))  # a program change: state to write
    wait = dispatcher._idle_wait(dispatcher._last_flush)
    assert wait is not None
    assert abs(wait - (FLUSH_INTERVAL_S + IDLE_WAIT_SLACK_S)) < 1e-9


def test_the_active_sensing_timeout_still_fires_with_no_further_input(tmp_path: Path) -> None:
    dispatcher, engine = _dispatcher(tmp_path)
    dispatcher.start()
    try:
        dispatcher.inbox.put((time.perf_counter(), b"\xfe", "keyboard"))
        deadline = time.monotonic() + 10.0  # an event, not a time: the counter moving
        while dispatcher.stats.active_sensing_timeouts == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert dispatcher.stats.active_sensing_timeouts == 1
        assert "all_notes_off" in engine.names()
    finally:
        dispatcher.stop()
