"""`dx7d run`: the lifecycle of the sound module.

Thread split (docs/realtime.md):
- the audio thread (PortAudio's callback, or the null output's pacing thread) only
  asks the engine for the next block;
- rtmidi's callback threads only timestamp and enqueue;
- the dispatcher thread turns MIDI into engine events and does everything slow;
- the main thread (here) runs the lifecycle: signals through a self-pipe, sd_notify
  (READY, STATUS, WATCHDOG, RELOADING, STOPPING), MIDI hot-plug scans, audio device
  loss and recovery, configuration reload.
"""

from __future__ import annotations

import gc
import logging
import os
import queue
import select
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from dx7d.config import (
    APPLY,
    Apply,
    Config,
    ConfigError,
    diff,
    load,
    parse_listen,
    resolve_banks_dir,
    resolve_state_dir,
    zeroconf_name,
)

from ._jackmidi import JackHost, JackMidiError
from ._sdnotify import Notifier
from .audio import (
    AudioError,
    AudioStats,
    BlockClock,
    NullOutput,
    Output,
    WavRecorder,
    open_output,
    quiet_native_libraries,
)
from .control import ControlServer, status_document
from .discovery import Announcer
from .dispatcher import Dispatcher, Inbox
from .factory import load_factory
from .library import Library
from .midi import MidiIO
from .storage import Storage

__all__ = ["Daemon", "run"]

log = logging.getLogger("dx7d")

AUDIO_JACK_CLIENT = "dx7d"  # the native output's JACK client when MIDI is not on JACK

SWITCH_INTERVAL_S = 0.0005  # the GIL changes hands this often: the audio callback needs it
TICK_S = 1.0  # main-loop period: watchdog, status, MIDI hot-plug, audio health
DEVICE_STALL_TICKS = 2  # ticks without an audio callback before it counts as lost/stalled
DEVICE_RETRY_S = 2.0  # how often a lost audio device is tried again
CLOSE_TIMEOUT_S = 1.0  # an audio output that takes longer to close is abandoned
WARM_BLOCKS = 64  # blocks rendered before the stream starts, so the first real ones are warm
_DEVICE_BACKENDS = ("pyaudio", "native")  # outputs on a device: lost, retried, fall back to null


def setup_logging(level: str) -> None:
    """Log to stderr; without timestamps under journald, which adds its own."""
    fmt = "%(levelname)s %(name)s: %(message)s"
    if not os.environ.get("JOURNAL_STREAM"):
        fmt = "%(asctime)s " + fmt
    logging.basicConfig(stream=sys.stderr, format=fmt, level=level.upper(), force=True)


@dataclass
class _Health:
    """What the main loop knows of the audio thread, tick to tick."""

    last_callbacks: int = 0
    silent_ticks: int = 0  # consecutive ticks without a callback
    lost: bool = False  # the device is gone: a null output plays, the device is retried
    stalled: bool = False  # the stream says it runs but delivers no callbacks
    next_retry: float = 0.0
    started: float = field(default_factory=time.monotonic)


class Daemon:
    """The running sound module."""

    def __init__(self, config: Config, config_path: Path | None) -> None:
        self.config = config
        self.config_path = config_path
        self.notifier = Notifier()
        self._watchdog = self.notifier.watchdog_interval()  # None: no WATCHDOG_USEC for us
        self.health = _Health()
        self.audio_stats = AudioStats()
        self.started = time.monotonic()
        self.control: ControlServer | None = None
        self.announcer: Announcer | None = None
        self.generation: Any = None  # dx7d.generator.service.GenerationService
        self._wake_r, self._wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self._signals: list[int] = []

    # -- start-up -------------------------------------------------------------------------

    def start(self) -> None:
        """Compile the engine, open storage, audio and MIDI; then READY=1."""
        from dx7d.engine_cpp import Synth

        cfg = self.config
        quiet_native_libraries()  # before PortAudio or rtmidi touch libjack / alsa-lib
        state_dir = resolve_state_dir(cfg)
        self.storage = Storage(state_dir)
        banks_dir = resolve_banks_dir(cfg, state_dir)
        if cfg.storage.banks_dir is None:  # <state dir>/banks is ours: make it, to be found
            banks_dir.mkdir(exist_ok=True)
        self.library = Library(banks_dir)
        log.info("state directory %s", state_dir)
        t0 = time.perf_counter()
        phases: list[str] = []  # "name seconds" of each start-up step, logged once
        mark = t0

        def phase(name: str) -> None:
            nonlocal mark
            now = time.perf_counter()
            phases.append(f"{name} {now - mark:.3f}")
            mark = now

        self.engine = Synth(sample_rate=cfg.audio.sample_rate, polyphony=cfg.engine.polyphony,
                            loader=cfg.engine.loader)
        phase("engine")
        log.info("engine ready in %.2f s (%d voices at %d Hz): %s", mark - t0,
                 cfg.engine.polyphony, cfg.audio.sample_rate, self.engine.loader_summary)
        self.clock = BlockClock(cfg.audio.sample_rate, cfg.audio.buffer_frames)
        self.recorder = (WavRecorder(Path(cfg.audio.record).expanduser(), cfg.audio.sample_rate)
                         if cfg.audio.record else None)
        inbox: Inbox = queue.SimpleQueue()
        self.midi = MidiIO(cfg.midi.api, cfg.midi.inputs, inbox, self.engine.c_engine()[0])
        self.dispatcher = Dispatcher(
            self.engine, self.clock, self.storage, self.library, self.midi,
            factory=load_factory(), channel=cfg.midi.channel_index,
            memory_protect=cfg.storage.memory_protect, inbox=inbox)
        phase("dispatcher")
        self._start_generator()
        self.dispatcher.start()
        phase("generator")
        # MIDI before audio: activating a JACK client reorders JACK's graph, and with the
        # stream running that once stalled an audio callback for 1-3 s.
        self.midi.scan()
        phase("midi")
        self._warm()
        phase("warm")
        self.output = self._open_output(quiet=False)
        phase("audio open")
        self.output.start()
        phase("audio start")
        if cfg.audio.backend in _DEVICE_BACKENDS and self.output.kind == "null":
            self._mark_lost()  # no device yet: retry it every DEVICE_RETRY_S like a lost one
        self._start_control()
        self._start_zeroconf()
        phase("control")
        log.info("start-up phases (s): %s", ", ".join(phases))
        sys.setswitchinterval(SWITCH_INTERVAL_S)
        gc.collect()
        gc.freeze()  # start-up objects never need scanning again: shorter GC pauses
        self.notifier.ready(self._status())
        log.info("ready: audio %s, %d Hz, %d-frame blocks; MIDI %s", self.output.device_name,
                 cfg.audio.sample_rate, cfg.audio.buffer_frames,
                 "listening" if self.midi.listening else "not available (retrying)")
        if self._watchdog is not None:
            log.info("watchdog %.1f s: WATCHDOG=1 every %.0f s while the audio callback runs",
                     self._watchdog, TICK_S)
            if self._watchdog < 2 * TICK_S:
                log.warning("WatchdogSec=%.1f s is shorter than two main-loop ticks (%.0f s): "
                            "expect spurious restarts", self._watchdog, 2 * TICK_S)

    def _start_control(self) -> None:
        host, port = parse_listen(self.config.control.listen)
        try:
            self.control = ControlServer(host, port, self.dispatcher, self.config.control.token,
                                         lambda: status_document(self))
        except OSError as exc:
            log.error("control interface cannot listen on %s: %s (the module plays on)",
                      self.config.control.listen, exc)
            self.control = None
            return
        self.control.generator = self.generation
        self.control.start()

    def _start_generator(self) -> None:
        """POST /generate's service (its model loads on first use) and the latent knobs."""
        from dx7d.generator.service import GenerationService

        from .knobs import load_knobs

        gen = self.config.generator
        self.generation = GenerationService(gen.model)
        try:
            self.dispatcher.knobs = load_knobs(gen.model, {cc: d - 1 for cc, d in
                                                           gen.knobs.items()})
        except (ValueError, OSError) as exc:  # a bad model file, a dimension it lacks
            log.error("latent knobs off: %s", exc)

    def _start_zeroconf(self) -> None:
        if not self.config.zeroconf.enabled or self.control is None:
            return
        self.announcer = Announcer(zeroconf_name(self.config), self.control.host,
                                   self.control.port, status_document(self)["version"])
        self.announcer.start()

    def _stop_part(self, name: str) -> None:
        part = getattr(self, name, None)
        setattr(self, name, None)
        if part is None:
            return
        try:
            part.close() if name == "midi" else part.stop()
        except Exception as exc:
            log.warning("stopping %s: %s", name, exc)

    def _warm(self) -> None:
        block = np.zeros(self.config.audio.buffer_frames, dtype=np.float32)
        for _ in range(WARM_BLOCKS):
            self.engine.render_into(block)

    def _open_output(self, quiet: bool) -> Output:
        cfg = self.config.audio
        return open_output(cfg.backend, self.engine, self.clock, self.audio_stats,
                           cfg.host_api, cfg.device, self.recorder, quiet=quiet,
                           jack_host=self._jack_host)

    def _jack_host(self) -> JackHost:
        """Where the native output plays on JACK: on the JACK MIDI client when MIDI is on
        JACK (one client, one JACK thread for both), else on a client of its own."""
        try:
            if self.config.midi.api == "jack":
                host = self.midi.jack_host()
                if host is None:
                    raise AudioError("no JACK client to play on: JACK MIDI is not open "
                                     "(no JACK server?)")
                return host
            return JackHost.open(AUDIO_JACK_CLIENT, self.engine.c_engine()[0])
        except JackMidiError as exc:
            raise AudioError(f"cannot open the JACK client {AUDIO_JACK_CLIENT}: {exc}") from None

    # -- the main loop --------------------------------------------------------------------

    def _on_signal(self, signum: int, _frame: object) -> None:
        self._signals.append(signum)

    def catch_signals(self) -> None:
        """Route SIGTERM, SIGINT and SIGHUP through the self-pipe into the main loop.

        Called before start-up, so a signal that arrives while the engine compiles is
        acted on as soon as the loop runs instead of killing the half-started daemon.
        """
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, self._on_signal)
        signal.set_wakeup_fd(self._wake_w, warn_on_full_buffer=False)

    def serve(self) -> int:
        """Run until SIGTERM or SIGINT; returns the exit status."""
        next_tick = time.monotonic()
        while True:
            timeout = max(0.0, next_tick - time.monotonic())
            readable, _, _ = select.select([self._wake_r], [], [], timeout)
            if readable:
                try:
                    os.read(self._wake_r, 512)
                except BlockingIOError:
                    pass
            while self._signals:
                signum = self._signals.pop(0)
                if signum == signal.SIGHUP:
                    self.reload()
                else:
                    log.info("%s: stopping", signal.Signals(signum).name)
                    return 0
            if time.monotonic() >= next_tick:
                self._tick()
                next_tick = next_tick_after(next_tick, time.monotonic())

    def _tick(self) -> None:
        self.midi.scan()
        callbacks = self.audio_stats.callbacks
        advancing = callbacks != self.health.last_callbacks
        self.health.last_callbacks = callbacks
        # WATCHDOG=1 only while the audio thread delivers blocks, and only if asked for one
        if advancing and self._watchdog is not None:
            self.notifier.watchdog()
        self._check_audio(advancing)
        report = getattr(self.output, "report_realtime", None)
        if report is not None:  # the native audio thread's scheduling, once known
            report()
        self.notifier.status(self._status())

    def _check_audio(self, advancing: bool) -> None:
        """Tell a lost device (stream gone) from a stalled callback (stream "active").

        Lost: PortAudio says the stream stopped (a USB DAC unplugged, the JACK server
        gone): play into a null output, whose callbacks keep the watchdog fed, and retry
        the device every 2 s. Stalled: the stream says it runs but no block was asked
        for: log it once and let the watchdog pings stop, so the service manager
        restarts the daemon; log again if the callbacks resume.
        """
        health = self.health
        if health.lost:
            if time.monotonic() >= health.next_retry:
                self._retry_device()
            return
        if advancing:
            if health.stalled:
                log.warning("audio callback running again after %d s stalled",
                            health.silent_ticks)
            health.silent_ticks = 0
            health.stalled = False
            return
        health.silent_ticks += 1
        if health.silent_ticks < DEVICE_STALL_TICKS:
            return
        if self.output.kind in _DEVICE_BACKENDS and not self.output.is_active():
            log.error("audio device %s lost (stream stopped, no callback for %d s); playing "
                      "into a null output and retrying every %g s", self.output.device_name,
                      health.silent_ticks, DEVICE_RETRY_S)
            self._swap_output(NullOutput(self.engine, self.clock, self.audio_stats,
                                         self.recorder))
            self._mark_lost()
        elif not health.stalled:
            health.stalled = True
            log.error("audio callback stalled: no block for %d s although the %s stream on "
                      "%s says it is active; watchdog pings stop%s", health.silent_ticks,
                      self.output.kind, self.output.device_name,
                      " (the service manager restarts the daemon)"
                      if self._watchdog is not None else "")

    def _mark_lost(self) -> None:
        self.health.lost = True
        self.health.stalled = False
        self.health.next_retry = time.monotonic() + DEVICE_RETRY_S

    def _retry_device(self) -> None:
        self.health.next_retry = time.monotonic() + DEVICE_RETRY_S
        output = self._open_output(quiet=True)
        if output.kind == "null":
            return
        log.info("audio device is back: %s", output.device_name)
        self._swap_output(output)
        self.health.lost = False
        self.health.silent_ticks = 0

    def _swap_output(self, new: Output) -> None:
        """Play through ``new`` instead. Two outputs never render the engine at once: one
        still running is closed first; a stopped one (a lost device) cannot render, so
        ``new`` starts at once, not after closing it, which can take CLOSE_TIMEOUT_S."""
        old = self.output
        self.output = new
        running = old.is_active()
        if not running:
            new.start()
        if not _close_output(old):
            log.error("PortAudio did not release the lost stream on %s within %g s (its JACK "
                      "host API hangs once the server is gone): this process may not reopen "
                      "the device; MIDI and storage keep working; restart dx7d once the "
                      "device is back", old.device_name, CLOSE_TIMEOUT_S)
        if running:
            new.start()

    def _status(self) -> str:
        stats = self.audio_stats
        return (f"program {self.dispatcher.state.program + 1} '{self.dispatcher.program_name}' "
                f"bank {self.dispatcher.state.bank}; voices {self.engine.sounding_voices}; "
                f"underflows {stats.underflows}; audio {self.output.device_name}")

    # -- reload ---------------------------------------------------------------------------

    def reload(self) -> None:
        """SIGHUP: read the configuration again; a bad file changes nothing.

        How each changed key is applied comes from the schema (dx7d.config.APPLY):
        live keys at once; audio output keys by reopening the stream; MIDI keys by
        reopening the ports; keys that would rebuild the engine or move the state
        directory keep their running value until the next restart, and say so.
        """
        self.notifier.reloading()
        running = self.config
        try:
            self._reload()
        except ConfigError as exc:
            log.error("reload refused, the running configuration stays:\n%s", exc)
        except Exception as exc:  # a reload never kills the daemon (issue 14, finding 3)
            self.config = running
            log.error("reload failed (%s: %s); the running configuration stays",
                      type(exc).__name__, str(exc)[:300])
        self.notifier.ready(self._status())

    def _reload(self) -> None:
        """The body of reload(); raises ConfigError before anything changed."""
        new = load(self.config_path)
        changed = diff(self.config, new)
        deferred = [k for k in changed if k in _DEFERRED_KEYS or APPLY[k] is Apply.RESTART]
        if deferred:
            log.warning("reload: %s take effect at the next restart", ", ".join(deferred))
            # self.config describes what runs: deferred keys keep their running values.
            new = _keep_running_values(self.config, new, deferred)
        applied = [k for k in changed if k not in deferred]
        running = self.config
        self.config = new
        log.info("reload: %s", ", ".join(f"{k} changed" for k in applied) or "nothing changed")
        ways = {APPLY[k] for k in applied}
        if "log.level" in applied:
            logging.getLogger().setLevel(new.log.level.upper())
        if "midi.channel" in applied:
            self.dispatcher.channel = new.midi.channel_index
        if "control.token" in applied and self.control is not None:
            self.control.token = new.control.token
        if "storage.memory_protect" in applied:
            self.dispatcher.memory_protect = new.storage.memory_protect
        if "midi.inputs" in applied:
            self.midi.patterns = list(new.midi.inputs)
        if "storage.banks_dir" in applied:
            self.library.folder = resolve_banks_dir(new, self.storage.dir)
        self.library.rescan()
        if Apply.MIDI in ways:
            # A native output on JACK plays on the MIDI client: off it before it closes (a
            # client left open would keep its name, and JACK rename the new one), onto the
            # new one after.
            if any(c.audio.backend == "native" and c.audio.host_api == "jack"
                   for c in (running, new)):
                self._swap_output(NullOutput(self.engine, self.clock, self.audio_stats,
                                             self.recorder))
                ways.add(Apply.AUDIO)
            self.midi.close()
            self.midi = MidiIO(new.midi.api, new.midi.inputs, self.dispatcher.inbox,
                               self.engine.c_engine()[0])
            self.dispatcher.midi_out = self.midi
            self.midi.scan()
        if Apply.AUDIO in ways:
            self._swap_output(self._open_output(quiet=False))
            self.health = _Health(last_callbacks=self.audio_stats.callbacks)
            if new.audio.backend in _DEVICE_BACKENDS and self.output.kind == "null":
                self._mark_lost()
        if Apply.CONTROL in ways or Apply.ZEROCONF in ways:
            self._stop_part("announcer")
            if Apply.CONTROL in ways:
                self._stop_part("control")
                self._start_control()
            self._start_zeroconf()

    # -- shutdown -------------------------------------------------------------------------

    def stop(self) -> None:
        """Release every note, stop the stream, close ports, flush state; reverse order."""
        self.notifier.stopping()
        for name in ("announcer", "control", "dispatcher"):
            self._stop_part(name)
        output = getattr(self, "output", None)
        self.output = None  # type: ignore[assignment]
        if output is not None and not _close_output(output):
            log.error("the audio output on %s did not close within %g s; exiting anyway",
                      output.device_name, CLOSE_TIMEOUT_S)
        for name in ("midi", "recorder"):
            self._stop_part(name)
        signal.set_wakeup_fd(-1)
        os.close(self._wake_r)
        os.close(self._wake_w)


def next_tick_after(scheduled: float, now: float) -> float:
    """When the tick after the one due at ``scheduled`` runs, seen at ``now`` (seconds).

    Ticks keep their 1 s rhythm but never run back to back: after a tick held up by a
    slow reload or an audio output that would not close, the next waits at least half
    a period. Catch-up
    ticks would compare the callback counter over microseconds, count a healthy output
    as silent and report a stall that is not there.
    """
    return max(scheduled + TICK_S, now + TICK_S / 2)


def _close_output(output: Output) -> bool:
    """Stop ``output`` in a thread of its own; False if that did not finish within
    CLOSE_TIMEOUT_S (the thread is abandoned: PortAudio's Pa_CloseStream waits forever
    on a JACK stream whose server died, or is frozen)."""

    def close() -> None:
        try:
            output.stop()
        except Exception as exc:  # a vanished device may fail to close cleanly
            log.warning("closing the audio output on %s: %s", output.device_name, exc)

    closer = threading.Thread(target=close, name="dx7d-audio-close", daemon=True)
    closer.start()
    closer.join(CLOSE_TIMEOUT_S)
    return not closer.is_alive()


# Keys whose change would rebuild the engine or its clock: applied at the next restart.
_DEFERRED_KEYS = frozenset({"audio.sample_rate", "audio.buffer_frames", "audio.record",
                            "engine.polyphony", "storage.state_dir"})


def _keep_running_values(old: Config, new: Config, keys: list[str]) -> Config:
    """``new`` with the restart-only keys kept at their running (old) values."""
    import dataclasses

    sections: dict[str, object] = {}
    for key in keys:
        section, _, leaf = key.partition(".")
        current = sections.get(section, getattr(new, section))
        sections[section] = dataclasses.replace(current,  # type: ignore[type-var]
                                                **{leaf: getattr(getattr(old, section), leaf)})
    return dataclasses.replace(new, **sections)  # type: ignore[arg-type]


def run(config_path: str | None) -> int:
    """`dx7d run`: load the configuration, start, serve, stop. Returns the exit status."""
    path = Path(config_path) if config_path else None
    try:
        config = load(path)
    except ConfigError as exc:
        print(f"dx7d: configuration errors:\n{exc}", file=sys.stderr)
        return 2
    setup_logging(config.log.level)
    daemon = Daemon(config, path)
    daemon.catch_signals()
    try:
        daemon.start()
        return daemon.serve()
    except OSError as exc:  # a path that cannot be used (state directory, audio.record)
        log.error("dx7d cannot start: %s", exc)
        return 1
    except Exception:
        log.exception("dx7d failed")
        return 1
    finally:
        daemon.stop()
        log.info("stopped")
