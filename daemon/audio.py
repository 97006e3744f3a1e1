"""Audio output: a PortAudio (PyAudio) callback stream, or a null output paced in real time.

The audio thread only asks the engine for the next block (``render_into`` on a
preallocated float32 buffer), copies it to both channels of a preallocated
interleaved stereo buffer and returns that buffer. It takes no lock, logs nothing
and waits on nothing. It counts what went wrong (PortAudio underflow flags, and
callbacks that took longer than the block lasts) and stamps each block with the
time it was asked for, which the dispatcher uses to place MIDI events at their
frame inside a block.

What is played can also be written to a WAV file: the callback copies each block
into a preallocated ring, and a writer thread drains the ring to the file.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import threading
import time
import wave
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

__all__ = [
    "AudioError",
    "AudioStats",
    "BlockClock",
    "Counters",
    "NullOutput",
    "Output",
    "PyAudioOutput",
    "WavRecorder",
    "open_output",
]

log = logging.getLogger("dx7d.audio")

# PortAudio status flags (portaudio.h) and host API type ids.
_PA_OUTPUT_UNDERFLOW = 0x4
_PA_CONTINUE = 0
_HOST_API_TYPES = {"alsa": 8, "jack": 12}


class AudioError(RuntimeError):
    """The audio output cannot be opened as configured."""


class Renderer(Protocol):
    """What the output needs of the engine."""

    def render_into(self, out: np.ndarray) -> None: ...  # fills float32 mono, -1..1

    @property
    def frame_position(self) -> int: ...  # frames rendered so far


HISTOGRAM_BUCKETS = 176  # callback-time buckets, as DX7_AUDIO_HISTOGRAM_BUCKETS (dx7_audio.h)


def histogram_bucket(us: int) -> int:
    """The bucket of a callback that took ``us`` microseconds: 1 us wide below 16 us,
    then 8 buckets per octave (12.5 % wide); the last one holds the rest. The same
    function as histogram_bucket() in engine_cpp/dx7_audio.cpp."""
    if us < 8:
        return max(us, 0)
    octave = us.bit_length() - 1
    return min(8 * (octave - 2) + ((us >> (octave - 3)) & 7), HISTOGRAM_BUCKETS - 1)


def bucket_upper_us(bucket: int) -> int:
    """The first microsecond value above ``bucket`` (its exclusive upper edge)."""
    if bucket < 8:
        return bucket + 1
    octave, sub = bucket // 8 + 2, bucket % 8
    return (9 + sub) << (octave - 3)


def histogram_quantile_us(histogram: list[int], q: float) -> int:
    """An upper bound (bucket edge, us) of the ``q`` quantile of the callback times; 0 if
    no callback was counted."""
    total = sum(histogram)
    if total == 0:
        return 0
    wanted = q * total
    seen = 0
    for bucket, count in enumerate(histogram):
        seen += count
        if seen >= wanted:
            return bucket_upper_us(bucket)
    return bucket_upper_us(len(histogram) - 1)


@dataclass
class Counters:
    """What went wrong in the audio thread, and how long its callbacks took."""

    callbacks: int = 0
    underflows: int = 0  # blocks PortAudio reported as underflowed (the sink ran dry)
    overruns: int = 0  # callbacks that took longer than the block lasts
    max_callback_us: int = 0
    histogram: list[int] = field(default_factory=lambda: [0] * HISTOGRAM_BUCKETS)

    def add(self, other: Counters) -> None:
        self.callbacks += other.callbacks
        self.underflows += other.underflows
        self.overruns += other.overruns
        self.max_callback_us = max(self.max_callback_us, other.max_callback_us)
        for i, count in enumerate(other.histogram):
            self.histogram[i] += count


class AudioStats:
    """The audio counters of every output the daemon ran, summed; read by anyone.

    A Python output's audio thread writes ``counted`` (plain ints: no locks). A native
    output's counters live in C++ atomics: while it runs, ``live`` reads them, and when
    it stops they are folded into ``counted``.
    """

    def __init__(self) -> None:
        self.counted = Counters()
        self.live: Callable[[], Counters] | None = None

    def total(self) -> Counters:
        live = self.live
        if live is None:
            return self.counted
        result = Counters()
        result.add(self.counted)
        result.add(live())
        return result

    @property
    def callbacks(self) -> int:
        return self.total().callbacks

    @property
    def underflows(self) -> int:
        return self.total().underflows

    @property
    def overruns(self) -> int:
        return self.total().overruns

    @property
    def max_callback_us(self) -> int:
        return self.total().max_callback_us

    @property
    def p999_callback_us(self) -> int:
        """Upper bound of the 99.9th percentile of the callback times (us)."""
        return histogram_quantile_us(self.total().histogram, 0.999)

    def histogram_sparse(self) -> dict[str, int]:
        """{bucket's upper edge in us: callbacks} of the non-empty buckets."""
        return {str(bucket_upper_us(i)): n for i, n in enumerate(self.total().histogram) if n}


class BlockClock:
    """Where the engine's frame clock stood when the last block was asked for.

    The audio thread replaces ``stamp`` with one tuple per block (an atomic store
    under the GIL); the dispatcher maps an arrival time to an engine frame with
    ``frame_at``: one block of constant latency, and the event lands inside its block
    at the offset it arrived at, so timing jitter is not added on top.
    """

    def __init__(self, sample_rate: int, block_frames: int) -> None:
        self.sample_rate = sample_rate
        self.block_frames = block_frames
        self.stamp: tuple[float, int] = (time.perf_counter(), 0)
        # A native output's own clock (the C++ callback stamps its blocks); None: ``stamp``
        self.source: Callable[[float], int] | None = None

    def frame_at(self, t: float) -> int:
        """The engine frame at which an event that arrived at perf_counter() ``t`` plays."""
        source = self.source
        if source is not None:
            return source(t)
        return self.frame_from_stamp(t)

    def frame_from_stamp(self, t: float) -> int:
        """frame_at() from ``stamp``, the Python outputs' clock."""
        t0, frame0 = self.stamp
        return frame0 + self.block_frames + round((t - t0) * self.sample_rate)


class WavRecorder:
    """Writes what is played to a 16-bit stereo WAV file, off the audio thread."""

    def __init__(self, path: Path, sample_rate: int, seconds: float = 4.0) -> None:
        self.path = path
        self.sample_rate = sample_rate
        self._ring = np.zeros(int(sample_rate * seconds), dtype=np.float32)
        self._written = 0  # total frames the audio thread put in the ring
        self._read = 0  # total frames the writer took out
        self.dropped = 0  # frames lost because the writer fell a whole ring behind
        self._stop = threading.Event()
        self.failed: str | None = None  # why writing stopped (a full disk), or None
        # A native output's ring (C++, filled by its callback): read(buffer) -> frames moved
        self._source: Callable[[np.ndarray], int] | None = None
        self._source_buffer = np.zeros(len(self._ring), dtype=np.float32)
        self._lock = threading.Lock()  # drain against attach/detach (never the audio thread)
        try:  # our own file object: wave.open(path) on a directory fails inside wave too
            self._file = open(path, "wb")  # closed in stop()
        except OSError as exc:
            raise OSError(exc.errno, f"audio.record: cannot write {path}: {exc.strerror}"
                          ) from None
        self._wav = wave.open(self._file, "wb")
        self._wav.setnchannels(2)
        self._wav.setsampwidth(2)
        self._wav.setframerate(sample_rate)
        self._thread = threading.Thread(target=self._run, name="dx7d-recorder", daemon=True)
        self._thread.start()
        log.info("recording what is played to %s", path)

    def push(self, block: np.ndarray) -> None:
        """Audio thread: copy one mono block into the ring (no allocation but index math)."""
        n = len(block)
        size = len(self._ring)
        start = self._written % size
        end = start + n
        if end <= size:
            self._ring[start:end] = block
        else:
            split = size - start
            self._ring[start:] = block[:split]
            self._ring[: n - split] = block[split:]
        self._written += n

    def attach(self, read: Callable[[np.ndarray], int]) -> None:
        """Drain a native output's ring too (``read`` fills a float32 buffer, returns frames)."""
        with self._lock:
            self._drain_locked()
            self._source = read

    def detach(self, read: Callable[[np.ndarray], int]) -> None:
        """Write what the native ring ``read`` reads holds, then stop reading it (before it
        is freed); nothing if another source was attached since."""
        with self._lock:
            if self._source != read:
                return
            self._drain_locked()
            self._source = None

    def _write(self, mono: np.ndarray) -> None:
        pcm = (np.clip(mono, -1.0, 1.0) * 32767.0).astype("<i2")
        self._wav.writeframes(np.repeat(pcm, 2).tobytes())

    def _drain(self) -> None:
        with self._lock:
            self._drain_locked()

    def _drain_locked(self) -> None:
        source = self._source
        if source is not None:
            while True:
                count = source(self._source_buffer)
                if count <= 0:
                    break
                self._write(self._source_buffer[:count])
        written = self._written
        size = len(self._ring)
        if written - self._read > size:
            self.dropped += written - self._read - size
            self._read = written - size
        while self._read < written:
            start = self._read % size
            count = min(written - self._read, size - start)
            self._write(self._ring[start : start + count])
            self._read += count

    def _run(self) -> None:
        try:
            while not self._stop.wait(0.1):
                self._drain()
            self._drain()
        except OSError as exc:  # a full disk: say so, once; the module plays on
            self.failed = str(exc)
            log.error("recording to %s stopped: %s (the module plays on, unrecorded)",
                      self.path, exc.strerror or exc)

    @property
    def ring_frames(self) -> int:
        """Frames a ring of this recorder holds (a native output makes its own this size)."""
        return len(self._ring)

    def stop(self) -> None:
        """Write what is left and close the file."""
        self._stop.set()
        self._thread.join()
        try:
            self._wav.close()
            self._file.close()
        except OSError as exc:
            if self.failed is None:
                log.error("closing the recording %s: %s", self.path, exc.strerror or exc)
        if self.dropped:
            log.warning("recorder dropped %d frames (disk too slow)", self.dropped)


class Output:
    """The part shared by the real and the null output: the block callback."""

    kind = "output"

    def __init__(self, engine: Renderer, clock: BlockClock, stats: AudioStats,
                 recorder: WavRecorder | None = None) -> None:
        # clock and stats outlive one output: the daemon swaps outputs when a device is
        # lost or comes back, and the dispatcher and /status keep reading the same objects.
        self.engine = engine
        self.clock = clock
        self.stats = stats
        self.recorder = recorder
        self.sample_rate = sample_rate = clock.sample_rate
        self.block_frames = block_frames = clock.block_frames
        self.device_name = "none"
        self._mono = np.zeros(block_frames, dtype=np.float32)
        self._stereo = np.zeros(2 * block_frames, dtype=np.float32)
        self._left = self._stereo[0::2]
        self._right = self._stereo[1::2]
        self._block_s = block_frames / sample_rate

    def render_block(self, status: int) -> np.ndarray:
        """Audio thread: the next interleaved stereo block. Allocates no arrays."""
        t0 = time.perf_counter()
        stats = self.stats.counted
        stats.callbacks += 1
        if status & _PA_OUTPUT_UNDERFLOW:
            stats.underflows += 1
        self.clock.stamp = (t0, self.engine.frame_position)
        mono = self._mono
        self.engine.render_into(mono)
        np.copyto(self._left, mono)
        np.copyto(self._right, mono)
        if self.recorder is not None:
            self.recorder.push(mono)
        took = time.perf_counter() - t0
        if took > self._block_s:
            stats.overruns += 1
        us = int(took * 1e6)
        if us > stats.max_callback_us:
            stats.max_callback_us = us
        stats.histogram[histogram_bucket(us)] += 1
        return self._stereo

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def is_active(self) -> bool:
        raise NotImplementedError


class NullOutput(Output):
    """No device: render blocks in real time and throw them away (or record them)."""

    kind = "null"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.device_name = "null (no audio device)"

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="dx7d-null-audio", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        period = self._block_s
        deadline = time.monotonic()
        while not self._stop.is_set():
            self.render_block(0)
            deadline += period
            delay = deadline - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            elif delay < -0.5:  # fell far behind (suspended?): do not try to catch up
                deadline = time.monotonic()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def is_active(self) -> bool:
        return self._thread is not None and self._thread.is_alive()


# C callbacks kept alive for the life of the process (the libraries hold pointers to them).
_NATIVE_HANDLERS: list[object] = []
_CLIENT_NAMES: list[object] = []  # PaJack_SetClientName keeps the pointer it is given


def quiet_native_libraries() -> None:
    """Route libjack's and ALSA's own stderr chatter into our log at debug level.

    PortAudio probes every host API when it starts: without a JACK server libjack prints
    "Cannot connect to server socket ..." and, without a sound card, alsa-lib prints a
    dozen "Unknown PCM ..." lines. They are not errors of ours; the one line that matters
    ("no audio output device ...") is logged by the daemon itself.
    """
    if _NATIVE_HANDLERS:
        return
    jack_name = ctypes.util.find_library("jack")
    if jack_name is not None:
        try:
            libjack = ctypes.CDLL(jack_name)
            handler = ctypes.CFUNCTYPE(None, ctypes.c_char_p)(
                lambda text: log.debug("libjack: %s", (text or b"").decode(errors="replace")))
            libjack.jack_set_error_function(handler)
            libjack.jack_set_info_function(handler)
            _NATIVE_HANDLERS.append(handler)
        except (OSError, AttributeError):
            pass
    alsa_name = ctypes.util.find_library("asound")
    if alsa_name is not None:
        try:
            libasound = ctypes.CDLL(alsa_name)
            # snd_lib_error_handler_t(file, line, function, err, fmt, ...): the variadic
            # part is not read, so the fixed prefix is all the callback declares.
            alsa_handler = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                                            ctypes.c_int, ctypes.c_char_p)(
                lambda *_args: None)
            libasound.snd_lib_error_set_handler(alsa_handler)
            _NATIVE_HANDLERS.append(alsa_handler)
        except (OSError, AttributeError):
            pass


def _set_jack_client_name(name: str) -> None:
    """Ask PortAudio's JACK host API to register as ``name`` (before Pa_Initialize)."""
    lib = ctypes.util.find_library("portaudio")
    if lib is None:
        return
    try:
        portaudio = ctypes.CDLL(lib)
        # PortAudio keeps the pointer, not a copy: the buffer must live as long as we do.
        buffer = ctypes.create_string_buffer(name.encode())
        _CLIENT_NAMES.append(buffer)
        portaudio.PaJack_SetClientName(buffer)
    except (OSError, AttributeError):
        log.debug("PortAudio has no PaJack_SetClientName; the JACK client keeps its default name")


class PyAudioOutput(Output):
    """A PortAudio output stream in callback mode, through PyAudio."""

    kind = "pyaudio"

    def __init__(self, engine: Renderer, clock: BlockClock, stats: AudioStats,
                 host_api: str = "default", device: str | int | None = None,
                 recorder: WavRecorder | None = None, client_name: str = "dx7d") -> None:
        super().__init__(engine, clock, stats, recorder)
        sample_rate, block_frames = clock.sample_rate, clock.block_frames
        import pyaudio

        self._pyaudio_mod = pyaudio
        quiet_native_libraries()
        _set_jack_client_name(client_name)
        self._pa = pyaudio.PyAudio()
        try:
            index, name = self._choose_device(host_api, device)
            self.device_name = name
            self._stream = self._pa.open(
                format=pyaudio.paFloat32, channels=2, rate=sample_rate, output=True,
                output_device_index=index, frames_per_buffer=block_frames,
                stream_callback=self._callback, start=False,
            )
        except Exception as exc:
            self._pa.terminate()
            if isinstance(exc, AudioError):
                raise
            raise AudioError(f"cannot open audio output ({host_api}, device {device!r}): "
                             f"{exc}") from exc

    def _choose_device(self, host_api: str, device: str | int | None) -> tuple[int, str]:
        pa = self._pa
        if host_api == "default":
            api = pa.get_default_host_api_info()
        else:
            wanted = _HOST_API_TYPES[host_api]
            apis = [pa.get_host_api_info_by_index(i) for i in range(pa.get_host_api_count())]
            matching = [a for a in apis if a["type"] == wanted]
            if not matching:
                raise AudioError(f"PortAudio has no {host_api} host API "
                                 f"(has: {', '.join(str(a['name']) for a in apis)})")
            api = matching[0]
        api_index = int(api["index"])
        outputs = []
        for i in range(int(api["deviceCount"])):
            info = pa.get_device_info_by_host_api_device_index(api_index, i)
            if int(info["maxOutputChannels"]) >= 1:
                outputs.append(info)
        if not outputs:
            raise AudioError(f"no audio output device on host API {api['name']}")
        if device is None:
            default = int(api["defaultOutputDevice"])
            chosen = next((d for d in outputs if int(d["index"]) == default), outputs[0])
        elif isinstance(device, int):
            chosen = next((d for d in outputs if int(d["index"]) == device), None)
            if chosen is None:
                raise AudioError(f"audio.device {device}: no output device with that index; "
                                 f"have {_describe(outputs)}")
        else:
            found = [d for d in outputs if device.lower() in str(d["name"]).lower()]
            if not found:
                raise AudioError(f"audio.device {device!r}: no output device name contains it; "
                                 f"have {_describe(outputs)}")
            chosen = found[0]
        return int(chosen["index"]), f"{api['name']}: {chosen['name']}"

    def _callback(self, in_data: Any, frame_count: int, time_info: Any,
                  status: int) -> tuple[np.ndarray, int]:
        return self.render_block(status), _PA_CONTINUE

    def start(self) -> None:
        self._stream.start_stream()

    def stop(self) -> None:
        try:
            if self._stream.is_active():
                self._stream.stop_stream()
            self._stream.close()
        finally:
            self._pa.terminate()

    def is_active(self) -> bool:
        try:
            return bool(self._stream.is_active())
        except OSError:
            return False


def _describe(devices: list[dict[str, Any]]) -> str:
    return ", ".join(f"{d['index']}: {d['name']}" for d in devices)


def open_output(backend: str, engine: Renderer, clock: BlockClock, stats: AudioStats,
                host_api: str, device: str | int | None,
                recorder: WavRecorder | None, quiet: bool = False,
                jack_host: Callable[[], Any] | None = None) -> Output:
    """The configured output; a pyaudio or native output that cannot open falls back to null
    (with one log line, unless ``quiet``: the daemon's retries after a lost device).
    ``jack_host``: where a native output on JACK plays (NativeOutput's argument)."""
    if backend in ("pyaudio", "native"):
        try:
            if backend == "native":
                from ._native_audio import NativeOutput

                return NativeOutput(engine, clock, stats, host_api, device, recorder,
                                    jack_host=jack_host)
            return PyAudioOutput(engine, clock, stats, host_api, device, recorder)
        except AudioError as exc:
            if not quiet:
                log.error("%s; playing into a null output (MIDI and storage keep working)",
                          exc)
    return NullOutput(engine, clock, stats, recorder)
