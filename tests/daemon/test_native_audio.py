"""audio.backend native: the C++ PortAudio output on a real JACK server, under both loaders.

The stream is opened on the session's private JACK server (dummy backend); a note is
played through the engine's event queue and what the callback recorded through its ring
is read back from the WAV file. Waits are on counters, never on fixed sleeps.
"""

from __future__ import annotations

import time
import wave
from collections.abc import Callable
from pathlib import Path

import jack
import numpy as np
import pytest
from dx7d.daemon._jackmidi import JackHost
from dx7d.daemon._native_audio import NativeOutput
from dx7d.daemon.audio import (
    HISTOGRAM_BUCKETS,
    AudioError,
    AudioStats,
    BlockClock,
    WavRecorder,
    bucket_upper_us,
    histogram_bucket,
    histogram_quantile_us,
    open_output,
)
from dx7d.engine_cpp import Synth, _loader

RATE, BLOCK = 48000, 128


def _wait_for(what: str, done: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout} s")
        time.sleep(0.01)


@pytest.fixture(params=["cppyy", "compiled"])
def synth(request: pytest.FixtureRequest) -> Synth:
    if request.param == "cppyy" and not _loader.cppyy_available():
        pytest.skip("cppyy is not importable here; the compiled loader is tested instead")
    return Synth(sample_rate=RATE, loader=request.param)


def test_every_microsecond_falls_in_the_bucket_whose_edges_hold_it() -> None:
    for us in range(0, 1 << 18):
        bucket = histogram_bucket(us)
        low = bucket_upper_us(bucket - 1) if bucket else 0
        assert low <= us < bucket_upper_us(bucket), (us, bucket)
    assert histogram_bucket(10**12) == HISTOGRAM_BUCKETS - 1


def test_the_p999_is_the_edge_of_the_bucket_the_slowest_thousandth_starts_in() -> None:
    histogram = [0] * HISTOGRAM_BUCKETS
    histogram[histogram_bucket(5)] = 998
    histogram[histogram_bucket(100)] = 2  # 0.2 % of the callbacks took 100 us
    assert histogram_quantile_us(histogram, 0.999) == bucket_upper_us(histogram_bucket(100))
    assert histogram_quantile_us(histogram, 0.99) == 6
    assert histogram_quantile_us([0] * HISTOGRAM_BUCKETS, 0.999) == 0


def _own_client(synth: Synth) -> Callable[[], JackHost]:
    """A jack_host for NativeOutput: a client of the engine's own, like the daemon's."""
    return lambda: JackHost.open("dx7d-unit", synth.c_engine()[0])


@pytest.mark.e2e
@pytest.mark.parametrize("host", ["portaudio", "hosted"])
def test_the_stream_plays_counts_stamps_and_records_without_python(
        tmp_path: Path, jack_server: str, synth: Synth, host: str) -> None:
    clock, stats = BlockClock(RATE, BLOCK), AudioStats()
    recorder = WavRecorder(tmp_path / "played.wav", RATE)
    output = NativeOutput(synth, clock, stats, "jack", None, recorder, client_name="dx7d-unit",
                          jack_host=_own_client(synth) if host == "hosted" else None)
    try:
        assert output.device_name.startswith("JACK"), output.device_name
        probe = jack.Client("dx7d-unit-probe", servername=jack_server, no_start_server=True)
        ports = [p.name for p in probe.get_ports("dx7d-unit:", is_audio=True, is_output=True)]
        probe.close()
        assert len(ports) == 2, ports  # stereo, under the JACK client name asked for
        output.start()
        assert stats.live is not None and clock.source is not None
        _wait_for("the first callbacks", lambda: stats.callbacks >= 10)
        synth.note_on(69, 100)
        callbacks = stats.callbacks
        _wait_for("0.5 s of callbacks", lambda: stats.callbacks >= callbacks + RATE // 2 // BLOCK)
        assert output.is_active()
        assert output.realtime() is not None
        total = stats.total()
        assert abs(sum(total.histogram) - total.callbacks) <= 1  # read while it runs
        assert 0 < stats.p999_callback_us and total.max_callback_us < 10**6
        # an event arriving now plays no earlier than the block being rendered ends
        position = synth.frame_position
        frame = clock.frame_at(time.perf_counter())
        assert frame >= position - BLOCK, (frame, position)
        # and later arrivals later, at the sample rate (both read against one block stamp:
        # tried again if a new block was stamped between the two reads)
        steps = []
        for _ in range(20):
            now = time.perf_counter()
            steps.append(clock.frame_at(now + 0.1) - clock.frame_at(now))
            if abs(steps[-1] - 0.1 * RATE) <= 1:
                break
        assert abs(steps[-1] - 0.1 * RATE) <= 1, steps
    finally:
        output.stop()
        recorder.stop()
    assert stats.live is None and clock.source is None
    assert stats.counted.callbacks == stats.callbacks >= callbacks
    if host == "hosted":  # the last holder closed the client: its ports are gone
        probe = jack.Client("dx7d-unit-probe", servername=jack_server, no_start_server=True)
        assert probe.get_ports("dx7d-unit:") == []
        probe.close()
    with wave.open(str(tmp_path / "played.wav")) as played:
        assert played.getnchannels() == 2
        frames = played.getnframes()
        pcm = np.frombuffer(played.readframes(frames), dtype="<i2").reshape(-1, 2)
    # every rendered frame reached the file, one per callback frame (nothing dropped)
    assert frames == stats.callbacks * BLOCK and recorder.dropped == 0
    tail = pcm[-RATE // 4 :, 0].astype(np.float64)
    assert np.abs(tail).max() > 1000  # the note sounds
    crossings = np.count_nonzero(np.diff(np.signbit(tail)))
    assert crossings / 2 / 0.25 == pytest.approx(440, rel=0.03)


@pytest.mark.e2e
def test_a_device_that_is_not_there_is_a_clear_error(jack_server: str, synth: Synth) -> None:
    clock, stats = BlockClock(RATE, BLOCK), AudioStats()
    with pytest.raises(AudioError, match=r"'no-such-card': no output device name contains "
                                         r"it; have \d+: system"):
        NativeOutput(synth, clock, stats, "jack", "no-such-card")
    with pytest.raises(AudioError, match=r"audio.device 999: no output device with that "
                                         r"index; have"):
        NativeOutput(synth, clock, stats, "jack", 999)


@pytest.mark.e2e
def test_no_device_falls_back_to_the_null_output(jack_server: str, synth: Synth,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    output = open_output("native", synth, BlockClock(RATE, BLOCK), AudioStats(), "jack",
                         "no-such-card", None)
    assert output.kind == "null"
    assert "playing into a null output" in caplog.text


@pytest.mark.e2e
def test_a_hosted_stream_refuses_a_server_at_another_rate_and_a_port_not_there(
        jack_server: str) -> None:
    synth = Synth(sample_rate=44100, loader="compiled")
    host = _own_client(synth)
    with pytest.raises(AudioError, match=r"the JACK server runs at 48000 Hz, the engine at "
                                         r"44100 Hz: set audio.sample_rate: 48000"):
        NativeOutput(synth, BlockClock(44100, BLOCK), AudioStats(), "jack", jack_host=host)
    synth = Synth(sample_rate=RATE, loader="compiled")
    with pytest.raises(AudioError, match=r"audio.device 'no-such-port': no JACK playback "
                                         r"port name contains it; have system:playback_1"):
        NativeOutput(synth, BlockClock(RATE, BLOCK), AudioStats(), "jack", "no-such-port",
                     jack_host=_own_client(synth))
    with pytest.raises(AudioError, match=r"audio.device 3: a number picks a PortAudio device"):
        NativeOutput(synth, BlockClock(RATE, BLOCK), AudioStats(), "jack", 3,
                     jack_host=_own_client(synth))
    # nothing was left behind: every refused attempt closed its client
    probe = jack.Client("dx7d-unit-probe", servername=jack_server, no_start_server=True)
    assert probe.get_ports("dx7d-unit") == []
    probe.close()


@pytest.mark.e2e
def test_a_hosted_stream_keeps_the_client_open_until_its_last_holder_lets_go(
        jack_server: str) -> None:
    """The MIDI client closing (a reload, a lost server) under a playing stream: the
    stream keeps rendering on it; the client closes when the stream lets go too."""
    import queue

    from dx7d.daemon._jackmidi import JackInputs

    synth = Synth(sample_rate=RATE, loader="compiled")
    midi = JackInputs("dx7d-unit", "in", queue.SimpleQueue(), "replies",
                      synth.c_engine()[0])
    stats = AudioStats()
    output = NativeOutput(synth, BlockClock(RATE, BLOCK), stats, "jack", "playback",
                          jack_host=midi.host)
    probe = jack.Client("dx7d-unit-probe", servername=jack_server, no_start_server=True)
    try:
        names = sorted(p.name for p in probe.get_ports("dx7d-unit:"))
        assert names == ["dx7d-unit:in", "dx7d-unit:out_1", "dx7d-unit:out_2",
                         "dx7d-unit:replies"], names
        connected = probe.get_all_connections("dx7d-unit:out_2")
        assert [p.name for p in connected] == ["system:playback_2"]
        output.start()
        _wait_for("callbacks", lambda: stats.callbacks >= 10)
        midi.close()
        callbacks = stats.callbacks
        _wait_for("callbacks after MIDI let go", lambda: stats.callbacks >= callbacks + 10)
        assert output.is_active()
    finally:
        output.stop()
        midi.close()
    assert probe.get_ports("dx7d-unit:") == []
    probe.close()
