"""audio.backend native: the PortAudio stream opened and run by the engine's C++ side.

The callback (engine_cpp/dx7_audio.cpp) renders the engine's block straight into
PortAudio's buffer, stamps the block clock, counts and times itself and fills the record
ring; it never takes the GIL. Python only opens, starts and closes the stream and reads
what the callback publishes (atomics): the block clock (``BlockClock.source``), the
counters (``AudioStats.live``) and the record ring (``WavRecorder.attach``).

Every use of the C++ handle goes through ``_lock`` and checks that the handle is still
there, so nothing reads a stream that ``stop`` freed; the lock is never the audio
thread's (that one touches no Python at all).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from .audio import (
    HISTOGRAM_BUCKETS,
    AudioError,
    AudioStats,
    BlockClock,
    Counters,
    Output,
    Renderer,
    WavRecorder,
    quiet_native_libraries,
)

if TYPE_CHECKING:
    from ._jackmidi import JackHost

__all__ = ["NativeOutput", "realtime_description"]

log = logging.getLogger("dx7d.audio")

_HOST_APIS = {"default": 0, "alsa": 1, "jack": 2}  # DX7_AUDIO_HOST_* (dx7_audio.h)
# DX7_AUDIO_STAT_* indices
_CALLBACKS, _UNDERFLOWS, _OVERRUNS, _MAX_NS, _RECORD_DROPPED, _RT, _RT_PRIORITY, \
    _DENORMALS, _FRAMES = range(9)
_STAT_COUNT = 9
_ERROR_BYTES = 2048


def _c_string(text: str) -> np.ndarray:
    """A NUL-terminated UTF-8 string as the uint8 array the C ABI takes."""
    return np.frombuffer(text.encode() + b"\0", dtype=np.uint8)


def _text(buffer: np.ndarray) -> str:
    """The NUL-terminated UTF-8 string a C function wrote into ``buffer``."""
    raw = buffer.tobytes()
    return raw[: raw.find(b"\0") if b"\0" in raw else len(raw)].decode(errors="replace")


def _c_engine(engine: Renderer) -> tuple[Any, Any]:
    """The engine's C ABI (``lib``) and handle, which dx7_audio_open renders from."""
    c_engine = getattr(engine, "c_engine", None)
    if c_engine is None:
        raise AudioError("the native audio backend needs the C++ engine (dx7d.engine_cpp.Synth)")
    lib, handle = c_engine()
    return lib, handle


def realtime_description(state: int, priority: int) -> str:
    """What a real-time thread of the engine got (dx7::rt::Grant, engine_cpp/dx7_rt.h:
    DX7_AUDIO_STAT_RT / DX7_JACKMIDI_STAT_RT and the priority) in words."""
    if state == 1:
        return f"SCHED_FIFO priority {priority} (granted)"
    if state == 2:
        return f"real-time priority {priority} (the host's thread already had it)"
    if state < 0:
        return f"SCHED_OTHER (SCHED_FIFO refused: {os.strerror(-state)})"
    return "unknown (no callback yet)"


class NativeOutput(Output):
    """An output stream run by C++ (engine_cpp/dx7_audio.cpp): PortAudio's, or on JACK
    with ``jack_host`` a hosted stream played by one of the engine's own JACK clients.

    ``jack_host`` (host_api "jack"): called once, it returns the JackHost (the daemon's
    JACK MIDI client, or a client of its own) whose process callback renders this stream
    beside the MIDI it reads: one JACK client and one JACK thread where PortAudio's JACK
    host API would add a second of each (measured in bench/README.md). It raises
    AudioError when there is no client to play on. Without it, PortAudio's JACK host API.
    """

    kind = "native"

    def __init__(self, engine: Renderer, clock: BlockClock, stats: AudioStats,
                 host_api: str = "default", device: str | int | None = None,
                 recorder: WavRecorder | None = None, client_name: str = "dx7d",
                 jack_host: Callable[[], JackHost] | None = None) -> None:
        super().__init__(engine, clock, stats, recorder)
        lib, engine_handle = _c_engine(engine)
        self._lib = lib
        self._host: JackHost | None = None
        self._lock = threading.Lock()
        self._reported_realtime = False
        self._stats_buffer = np.zeros(_STAT_COUNT, dtype=np.int64)
        self._histogram_buffer = np.zeros(HISTOGRAM_BUCKETS, dtype=np.int64)
        if host_api == "jack" and jack_host is not None:
            self._handle: Any = self._open_hosted(engine_handle, device, jack_host)
            return
        if not lib.dx7_audio_available():
            raise AudioError("the native audio backend is not available: the engine was "
                             "built without PortAudio (install portaudio19-dev)")
        quiet_native_libraries()
        error = np.zeros(_ERROR_BYTES, dtype=np.uint8)
        index = device if isinstance(device, int) else -1
        record_frames = recorder.ring_frames if recorder is not None else 0
        handle = lib.dx7_audio_open(engine_handle, _HOST_APIS[host_api], index,
                                    _c_string(device if isinstance(device, str) else ""),
                                    clock.sample_rate, clock.block_frames, record_frames,
                                    _c_string(client_name), error, _ERROR_BYTES)
        if lib.is_null(handle):
            message = _text(error) or "unknown PortAudio error"
            raise AudioError(f"cannot open audio output ({host_api}, device {device!r}): "
                             f"{message}")
        self._handle = handle
        name_buffer = np.zeros(512, dtype=np.uint8)
        lib.dx7_audio_device_name(handle, name_buffer, len(name_buffer))
        self.device_name = _text(name_buffer)

    def _open_hosted(self, engine_handle: Any, device: str | int | None,
                     jack_host: Callable[[], JackHost]) -> Any:
        """The hosted stream, attached (silent until start) to the client jack_host gives."""
        from ._jackmidi import JackMidiError

        if isinstance(device, int):
            raise AudioError(f"audio.device {device}: a number picks a PortAudio device; on "
                             "JACK give part of a playback port's name (e.g. 'system')")
        quiet_native_libraries()  # libjack's chatter (no server) into the debug log
        host = jack_host()
        lib = self._lib
        error = np.zeros(_ERROR_BYTES, dtype=np.uint8)
        record_frames = self.recorder.ring_frames if self.recorder is not None else 0
        self.device_name = f"JACK: {host.client_name}:out_1/out_2"
        handle = lib.dx7_audio_open_hosted(engine_handle, self.clock.sample_rate,
                                           self.clock.block_frames, record_frames,
                                           _c_string(self.device_name), error, _ERROR_BYTES)
        if lib.is_null(handle):
            host.release()
            raise AudioError(f"cannot open audio output (jack): {_text(error)}")
        try:
            connected = host.attach(handle, device or "")
        except JackMidiError as exc:
            lib.dx7_audio_close(handle)
            host.release()
            raise AudioError(f"cannot open audio output (jack, device {device!r}): "
                             f"{exc}") from None
        if connected == 0:
            log.warning("%s: no JACK playback port to connect to%s; connect them by hand",
                        self.device_name, f" matching {device!r}" if device else "")
        self._host = host
        return handle

    # -- what other threads read, while the handle lives ---------------------------------

    def _frame_at(self, t: float) -> int:
        with self._lock:
            if self._handle is not None:
                return int(self._lib.dx7_audio_frame_at(self._handle, t))
        return self.clock.frame_from_stamp(t)

    def _raw_stats(self) -> np.ndarray:
        """DX7_AUDIO_STAT_* of the stream (zeros once it is closed)."""
        with self._lock:
            if self._handle is None:
                self._stats_buffer[:] = 0
            else:
                self._lib.dx7_audio_stats(self._handle, self._stats_buffer, _STAT_COUNT)
            return self._stats_buffer.copy()

    def _counters(self) -> Counters:
        with self._lock:
            if self._handle is None:
                return Counters()
            raw, histogram = self._stats_buffer, self._histogram_buffer
            self._lib.dx7_audio_stats(self._handle, raw, _STAT_COUNT)
            self._lib.dx7_audio_histogram(self._handle, histogram, HISTOGRAM_BUCKETS)
            return Counters(callbacks=int(raw[_CALLBACKS]), underflows=int(raw[_UNDERFLOWS]),
                            overruns=int(raw[_OVERRUNS]),
                            max_callback_us=int(raw[_MAX_NS]) // 1000,
                            histogram=[int(n) for n in histogram])

    def _read_record(self, out: np.ndarray) -> int:
        with self._lock:
            if self._handle is None:
                return 0
            return int(self._lib.dx7_audio_record_read(self._handle, out, len(out)))

    def realtime(self) -> str | None:
        """How the audio thread is scheduled, once its first callback ran; else None."""
        raw = self._raw_stats()
        if raw[_CALLBACKS] == 0:
            return None
        return realtime_description(int(raw[_RT]), int(raw[_RT_PRIORITY]))

    def report_realtime(self) -> None:
        """Log (once) how the audio thread is scheduled and whether denormals are flushed."""
        if self._reported_realtime:
            return
        raw = self._raw_stats()
        if raw[_CALLBACKS] == 0:
            return
        self._reported_realtime = True
        log.info("native audio thread: %s; denormals %s",
                 realtime_description(int(raw[_RT]), int(raw[_RT_PRIORITY])),
                 "flushed to zero" if raw[_DENORMALS] else "not flushed (unknown CPU)")

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        stats = self.stats
        if stats.live is not None:  # an earlier native output whose stop hung: keep its counts
            stats.counted.add(stats.live())
        stats.live = self._counters
        self.clock.source = self._frame_at
        if self.recorder is not None:
            self.recorder.attach(self._read_record)  # drains an earlier source first
        error = np.zeros(_ERROR_BYTES, dtype=np.uint8)
        if self._lib.dx7_audio_start(self._handle, error, _ERROR_BYTES) != 0:
            log.error("the native audio stream on %s did not start: %s", self.device_name,
                      _text(error))
        # First calls through cppyy compile their wrappers (~10 ms): not in the dispatcher.
        self._frame_at(time.perf_counter())
        self._counters()
        self._lib.dx7_audio_record_read(self._handle, np.zeros(1, dtype=np.float32), 0)

    def stop(self) -> None:
        """Stop the stream, fold its counters, drain its record ring, close it.

        dx7_audio_stop and _close may hang inside PortAudio (a dead JACK server): the
        daemon calls this in a thread it abandons after a second. If the stop hangs, the
        handle is never freed, so its counters and ring stay readable to the end.
        """
        if self.clock.source == self._frame_at:
            # the Python stamp takes over until the next output stamps its first block
            self.clock.stamp = (time.perf_counter(), self.engine.frame_position)
            self.clock.source = None
        self._lib.dx7_audio_stop(self._handle)  # no callback after this: final counters
        if self._host is not None:
            self._host.detach()
        if self.stats.live == self._counters:
            final = self._counters()
            # no reader may see these counts twice: momentarily missing is the lesser harm
            self.stats.live = None
            self.stats.counted.add(final)
        if self.recorder is not None:
            self.recorder.detach(self._read_record)
            self.recorder.dropped += int(self._raw_stats()[_RECORD_DROPPED])
        with self._lock:
            handle, self._handle = self._handle, None
        if handle is not None:
            self._lib.dx7_audio_close(handle)
        if self._host is not None:
            self._host.release()  # the last holder closes the JACK client

    def is_active(self) -> bool:
        with self._lock:
            if self._handle is None or not self._lib.dx7_audio_is_active(self._handle):
                return False
        return self._host is None or self._host.alive
