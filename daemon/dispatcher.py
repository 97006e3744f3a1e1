"""The dispatcher: the one thread that turns MIDI into engine events and does slow work.

It is the single producer of the engine's event queue. Everything that changes the
sound, the stored cartridge or the playing position goes through it, in arrival
order: MIDI from rtmidi's callbacks and requests from the control interface
(``submit``). Each MIDI event is stamped with the engine frame of its arrival
(``BlockClock.frame_at``), so it keeps its timing inside the block.

Sysex is handled like a real DX7, without its data loss: a dump is validated in
full before anything is applied (dx7d.voices.parse_sysex), a cartridge is stored
atomically with a backup of the one it replaces, anything refused gets one log
line and changes nothing.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Protocol

from dx7d.voices import (
    Bank,
    BankDump,
    DumpRequest,
    FunctionParameterChange,
    Patch,
    SysexError,
    VoiceDump,
    VoiceParameterChange,
    bank_dump,
    parse_sysex,
    voice_dump,
)

from .audio import BlockClock
from .library import Library
from .midistream import ParserStats, StreamParser
from .storage import State, Storage

__all__ = ["Command", "DispatchStats", "Dispatcher", "Engine", "Inbox", "MidiOut"]

log = logging.getLogger("dx7d.dispatch")

ACTIVE_SENSING_TIMEOUT_S = 0.3  # DX7: ~250 timer ticks; the issue asks for 300 ms
FLUSH_INTERVAL_S = 1.0  # edit buffer and program are written at most this often
IDLE_WAIT_SLACK_S = 0.001  # waits end this far past a deadline, not a hair before it
# Controllers passed to the engine as they are (the engine gives them DX7 meaning).
_ENGINE_CCS = frozenset({1, 2, 4, 5, 7, 64, 65, 120, 121, 123})


class Engine(Protocol):
    """The engine calls the dispatcher makes (dx7d.engine_cpp.Synth)."""

    def note_on(self, note: int, velocity: int, *, frame: int | None = None) -> bool: ...
    def note_off(self, note: int, *, frame: int | None = None) -> bool: ...
    def control_change(self, cc: int, value: int, *, frame: int | None = None) -> bool: ...
    def pitch_bend(self, value: int, *, frame: int | None = None) -> bool: ...
    def channel_pressure(self, value: int, *, frame: int | None = None) -> bool: ...
    def set_function(self, parameter: int, value: int, *, frame: int | None = None) -> bool: ...
    def voice_parameter(self, parameter: int, value: int, *, frame: int | None = None
                        ) -> bool: ...
    def load_patch(self, patch: Any, *, frame: int | None = None) -> bool: ...
    def all_notes_off(self, *, frame: int | None = None) -> bool: ...
    def all_sound_off(self, *, frame: int | None = None) -> bool: ...


class MidiOut(Protocol):
    def send(self, message: bytes) -> bool: ...


@dataclass
class Command:
    """A request from another thread, run in the dispatcher; its result goes to ``future``."""

    run: Callable[[], Any]
    future: Future[Any] = field(default_factory=Future)


# MIDI bytes as (perf_counter() at arrival, bytes, port name), a Command, or None to stop.
Inbox = queue.SimpleQueue["tuple[float, bytes, str] | Command | None"]


_NOTHING = Command(run=lambda: None)  # "the inbox was empty": only time-based work to do


@dataclass
class DispatchStats:
    messages: int = 0
    notes: int = 0
    sysex_accepted: int = 0
    sysex_refused: int = 0
    sysex_ignored: int = 0  # addressed to another channel
    dump_replies: int = 0
    active_sensing_timeouts: int = 0
    refused_data: int = 0  # channel messages with a data byte >= 0x80 (handle())
    last_refusal: str = ""


class Dispatcher:
    """Owns the edit buffer, the current cartridge and the playing position."""

    def __init__(self, engine: Engine, clock: BlockClock, storage: Storage, library: Library,
                 midi_out: MidiOut, factory: Bank, channel: int | None,
                 memory_protect: bool, inbox: Inbox | None = None) -> None:
        self.engine = engine
        self.clock = clock
        self.storage = storage
        self.library = library
        self.midi_out = midi_out
        self.channel = channel  # 0-15, or None for omni
        self.memory_protect = memory_protect
        self.stats = DispatchStats()
        self.inbox: Inbox = queue.SimpleQueue() if inbox is None else inbox
        self.internal = storage.load_cartridge() or factory
        self.state = storage.load_state()
        self.current_bank = self.internal
        if self.state.bank != 0:
            loaded = library.load(self.state.bank)
            if loaded is None:
                self.state = State(self.state.program, 0)
            else:
                self.current_bank = loaded
        self.pending_bank = [self.state.bank >> 7, self.state.bank & 0x7F]  # CC0, CC32
        stored_edit = storage.load_edit_buffer()
        self.edit_buffer: Patch = stored_edit or self.current_bank[self.state.program]
        self._dirty_state = False
        self._dirty_edit = False
        self._last_flush = 0.0
        self._sensing = False
        self._last_activity = 0.0
        self._thread: threading.Thread | None = None
        self.knobs: Any = None  # daemon.knobs.LatentKnobs when generator.knobs maps CCs
        self.parsers: dict[str, StreamParser] = {}  # port name -> its byte-stream parser

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Load the edit buffer into the engine and start the thread."""
        self.engine.load_patch(self.edit_buffer)
        self._thread = threading.Thread(target=self._run, name="dx7d-dispatch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Release every note, write what is pending, end the thread."""
        if self._thread is None:
            return
        self.inbox.put(None)
        self._thread.join()
        self._thread = None

    def submit(self, run: Callable[[], Any]) -> Future[Any]:
        """Run ``run`` in the dispatcher thread; the future gets its result or exception."""
        command = Command(run)
        self.inbox.put(command)
        return command.future

    @property
    def program_name(self) -> str:
        return self.edit_buffer.name

    # -- the loop -------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            try:
                item = self.inbox.get(timeout=self._idle_wait(time.perf_counter()))
            except queue.Empty:
                item = _NOTHING
            now = time.perf_counter()
            if item is None:
                break
            if item is _NOTHING:
                pass
            elif isinstance(item, Command):
                self._run_command(item)
            else:
                self.receive(*item)
            if self._sensing and now - self._last_activity > ACTIVE_SENSING_TIMEOUT_S:
                self._sensing = False
                self.stats.active_sensing_timeouts += 1
                log.warning("active sensing stopped for %.0f ms: releasing every note",
                            ACTIVE_SENSING_TIMEOUT_S * 1000)
                self.engine.all_notes_off()
            if now - self._last_flush > FLUSH_INTERVAL_S:
                self._flush()
        self.engine.all_notes_off()
        self._flush()

    def _idle_wait(self, now: float) -> float | None:
        """Seconds the loop may sleep for lack of input: until active sensing would time
        out or a pending write is due; None (wake only on input) when neither can happen,
        so an idle daemon's dispatcher thread costs nothing."""
        due = []
        if self._sensing:
            due.append(self._last_activity + ACTIVE_SENSING_TIMEOUT_S)
        if self._dirty_state or self._dirty_edit:
            due.append(self._last_flush + FLUSH_INTERVAL_S)
        if not due:
            return None
        return max(0.0, min(due) - now) + IDLE_WAIT_SLACK_S

    def _run_command(self, command: Command) -> None:
        if not command.future.set_running_or_notify_cancel():
            return
        try:
            command.future.set_result(command.run())
        except Exception as exc:
            command.future.set_exception(exc)

    def _flush(self) -> None:
        self._last_flush = time.perf_counter()
        try:
            if self._dirty_state:
                self._dirty_state = False
                self.storage.store_state(self.state)
            if self._dirty_edit:
                self._dirty_edit = False
                self.storage.store_edit_buffer(self.edit_buffer)
        except OSError as exc:
            log.error("cannot write state to %s: %s", self.storage.dir, exc)

    # -- MIDI -----------------------------------------------------------------------------

    def receive(self, t: float, data: bytes, port: str) -> None:
        """Bytes from ``port`` as the MIDI system gave them: parse, then act on each whole
        message. One message that fails is logged in one line; the next ones still run."""
        parser = self.parsers.get(port)
        if parser is None:
            parser = self.parsers[port] = StreamParser(port)
        for message in parser.feed(data):
            try:
                self.handle(t, message)
            except Exception as exc:  # one bad message must never stop the dispatcher
                log.error("MIDI %s: message %s not handled: %s: %s", port,
                          message[:16].hex(" "), type(exc).__name__, exc)

    def parser_totals(self) -> ParserStats:
        """What every port's parser refused, summed (for /status)."""
        total = ParserStats()
        for parser in list(self.parsers.values()):
            for name in vars(total):
                setattr(total, name, getattr(total, name) + getattr(parser.stats, name))
        return total

    def handle(self, t: float, message: bytes) -> None:
        """Act on one complete MIDI message that arrived at perf_counter() ``t``."""
        if not message:
            return
        self.stats.messages += 1
        self._last_activity = t
        status = message[0]
        if status == 0xFE:
            self._sensing = True
            return
        if status == 0xF0:
            try:
                self.handle_sysex(message)
            except SysexError:
                pass  # refused: counted and logged in one line, nothing changed
            return
        if status < 0x80 or status >= 0xF0:
            return  # clock and other system messages: nothing to do
        if self.channel is not None and status & 0x0F != self.channel:
            return
        data = message[1:]
        if any(b >= 0x80 for b in data):  # the parser never makes one; direct callers might
            self.stats.refused_data += 1
            return
        kind = status & 0xF0
        frame = self.clock.frame_at(t)
        if kind == 0x90 and len(data) >= 2 and data[1] > 0:
            self.stats.notes += 1
            self.engine.note_on(data[0], data[1], frame=frame)
        elif kind in (0x80, 0x90) and len(data) >= 2:
            self.engine.note_off(data[0], frame=frame)
        elif kind == 0xB0 and len(data) >= 2:
            self._control_change(data[0], data[1], frame)
        elif kind == 0xC0 and len(data) >= 1:
            self.program_change(data[0], frame=frame)
        elif kind == 0xD0 and len(data) >= 1:
            self.engine.channel_pressure(data[0], frame=frame)
        elif kind == 0xE0 and len(data) >= 2:
            self.engine.pitch_bend(((data[1] << 7) | data[0]) - 8192, frame=frame)

    def _control_change(self, cc: int, value: int, frame: int) -> None:
        if self.knobs is not None and self.knobs.handles(cc):
            self._knob(cc, value, frame)
        elif cc in _ENGINE_CCS:
            self.engine.control_change(cc, value, frame=frame)
        elif cc == 0:
            self.pending_bank[0] = value
        elif cc == 32:
            self.pending_bank[1] = value
        elif cc == 126:  # mono mode on (DX7: function parameter 64 = 1)
            self.engine.set_function(64, 1, frame=frame)
        elif cc == 127:  # poly mode on
            self.engine.set_function(64, 0, frame=frame)

    def _knob(self, cc: int, value: int, frame: int) -> None:
        """A latent knob moved (daemon.knobs): the decoded voice replaces the edit buffer
        and the notes that sound take it at once (one voice parameter event makes the
        engine update them from the whole new edit buffer)."""
        patch, changed = self.knobs.move(cc, value, self.edit_buffer)
        self.edit_buffer = patch
        self.engine.load_patch(patch, frame=frame)
        if changed is not None:
            self.engine.voice_parameter(changed, patch.get_param(changed), frame=frame)
        self._dirty_edit = True

    def program_change(self, program: int, *, frame: int | None = None) -> str:
        """Select voice ``program`` (0-127, wraps to 0-31 like a DX7) of the selected bank."""
        program &= 0x1F
        wanted_bank = (self.pending_bank[0] << 7) | self.pending_bank[1]
        if wanted_bank != self.state.bank:
            bank = self.internal if wanted_bank == 0 else self.library.load(wanted_bank)
            if bank is None:
                self.pending_bank = [self.state.bank >> 7, self.state.bank & 0x7F]
            else:
                self.current_bank = bank
                self.state = State(self.state.program, wanted_bank)
        patch = self.current_bank[program]
        self.state = State(program, self.state.bank)
        self.edit_buffer = patch
        self.engine.load_patch(patch, frame=frame)
        self._dirty_state = self._dirty_edit = True
        log.info("program %d of bank %d: %s", program + 1, self.state.bank, patch.display_name)
        return patch.name

    # -- sysex ----------------------------------------------------------------------------

    def handle_sysex(self, message: bytes) -> object:
        """Validate and apply one sysex message. Returns what was applied; raises SysexError
        (after logging it) when refused, so control-interface callers can report it."""
        try:
            parsed = parse_sysex(message)
        except SysexError as exc:
            self._refuse(f"sysex refused ({len(message)} bytes): {exc}")
            raise
        if self.channel is not None and parsed.channel != self.channel:
            self.stats.sysex_ignored += 1
            log.debug("sysex for channel %d ignored (we receive on %d)",
                      parsed.channel + 1, self.channel + 1)
            return None
        if isinstance(parsed, BankDump):
            self.store_bank(parsed.bank)
        elif isinstance(parsed, VoiceDump):
            self.load_voice(parsed.patch)
        elif isinstance(parsed, VoiceParameterChange):
            self.edit_buffer = self.edit_buffer.replace_param(parsed.parameter, parsed.value)
            self.engine.voice_parameter(parsed.parameter, parsed.value)
            self._dirty_edit = True
        elif isinstance(parsed, FunctionParameterChange):
            self.engine.set_function(parsed.parameter, parsed.value)
        elif isinstance(parsed, DumpRequest):
            self._answer_dump_request(parsed)
        self.stats.sysex_accepted += 1
        return parsed

    def _refuse(self, reason: str) -> None:
        self.stats.sysex_refused += 1
        self.stats.last_refusal = reason
        log.warning("%s", reason)

    def store_bank(self, bank: Bank) -> None:
        """Make ``bank`` the internal cartridge (atomically, with a backup)."""
        if self.memory_protect:
            reason = "cartridge refused: storage.memory_protect is on (MEMORY PROTECTED)"
            self._refuse(reason)
            raise SysexError(reason)
        backup = self.storage.store_cartridge(bank)
        self.internal = bank
        if self.state.bank == 0:
            self.current_bank = bank
        names = ", ".join(p.display_name for p in bank)
        log.info("cartridge received and stored (%s)%s", names,
                 f"; the one it replaced is kept as {backup.name}" if backup else "")

    def load_voice(self, patch: Patch) -> None:
        """A single-voice dump: it becomes the edit buffer and sounds at once."""
        self.edit_buffer = patch
        self.engine.load_patch(patch)
        self._dirty_edit = True
        log.info("voice received: %s", patch.display_name)

    def _answer_dump_request(self, request: DumpRequest) -> None:
        channel = self.channel if self.channel is not None else request.channel
        if request.format == 0:
            reply = voice_dump(self.edit_buffer, channel)
        else:
            reply = bank_dump(self.internal, channel)
        if self.midi_out.send(reply):
            self.stats.dump_replies += 1
            log.info("dump request (format %d) answered with %d bytes", request.format,
                     len(reply))

    # -- panic ----------------------------------------------------------------------------

    def panic(self) -> None:
        """All sound off and all notes off, sustained ones too."""
        self.engine.all_sound_off()
        self.engine.all_notes_off()
