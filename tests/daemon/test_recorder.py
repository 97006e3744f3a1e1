"""The WAV recorder says why it stops (issue 14, finding 6) instead of dying silently."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import pytest
from dx7d.daemon.audio import WavRecorder


def test_a_full_disk_stops_the_recording_with_one_line(caplog: pytest.LogCaptureFixture
                                                        ) -> None:
    caplog.set_level(logging.ERROR, "dx7d")
    recorder = WavRecorder(Path("/dev/full"), 48000)  # every write: ENOSPC
    block = np.full(128, 0.5, dtype=np.float32)
    deadline = time.monotonic() + 30
    try:
        while recorder.failed is None and time.monotonic() < deadline:
            recorder.push(block)  # the writer thread drains every 0.1 s
            time.sleep(0.001)
    finally:
        recorder.stop()
    assert recorder.failed is not None
    lines = [r.getMessage() for r in caplog.records]
    assert lines == ["recording to /dev/full stopped: No space left on device "
                     "(the module plays on, unrecorded)"], lines


def test_a_directory_is_refused_with_the_key_and_the_reason(tmp_path: Path) -> None:
    with pytest.raises(IsADirectoryError) as info:
        WavRecorder(tmp_path, 48000)
    assert str(info.value) == f"[Errno 21] audio.record: cannot write {tmp_path}: Is a directory"
