"""The daemon on the compiled engine loader (issue 9: what a Raspberry Pi runs).

`dx7d run` with ``engine.loader: compiled`` and an empty cache directory (systemd's
$CACHE_DIRECTORY): it builds the engine with g++, says so in the log, plays a note at
the right pitch through a real JACK server and stops with status 0. A second start
loads the library from the cache.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from dx7d.voices import Patch, voice_dump

from .harness import DaemonProcess, Rig, deliver, logged, pitch_hz, rms_db

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(shutil.which("g++") is None, reason="g++ is not installed")]


def _daemon(folder: Path, cache: Path) -> DaemonProcess:
    return DaemonProcess(folder, {"engine": {"loader": "compiled"}},
                         environ={"CACHE_DIRECTORY": str(cache)})


def test_the_daemon_plays_on_the_compiled_loader(tmp_path: Path, jack_server: str) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    daemon = _daemon(tmp_path, cache)
    daemon.start()
    rig = Rig(jack_server)
    try:
        rig.connect()
        log = daemon.wait_log("compiled loader (g++ shared library compiled in")
        assert "cppyy loader" not in log
        deliver(rig, "the SINE voice", lambda: rig.send(voice_dump(Patch(name="SINE"), 0)),
                logged(daemon, "voice received"))
        start = rig.start_recording()
        rig.send([0x90, 69, 100], at=start + rig.rate // 10)
        rig.send([0x80, 69, 0], at=start + rig.rate)
        rig.wait_until(start + int(1.2 * rig.rate))
        audio = rig.recording()
    finally:
        rig.close()
    assert daemon.stop() == 0, daemon.log()
    daemon._close_reader()
    held = audio[int(0.3 * rig.rate): int(0.9 * rig.rate)]
    cents = 1200 * np.log2(pitch_hz(held, rig.rate) / 440.0)
    assert abs(cents) < 5, f"A4 played {cents:+.1f} cents off"
    assert rms_db(held) > -30
    assert len(list((cache / "engine").glob("libdx7-*.so"))) == 1

    again = _daemon(tmp_path / "second", cache)
    again.folder.mkdir()
    again.start()
    try:
        again.wait_log("compiled loader (g++ shared library from the cache")
    finally:
        assert again.stop() == 0, again.log()
        again._close_reader()
