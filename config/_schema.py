"""The configuration schema: one table, one row per key. Validation reads this table.

Each row gives the dotted key, its default, the checker (which knows the allowed values),
a one-line help text and how a change is applied on reload (SIGHUP).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType

from . import _checks as c

__all__ = [
    "APPLY",
    "RESTART_KEYS",
    "SAMPLE_RATES",
    "SCHEMA",
    "SECTIONS",
    "Apply",
    "Key",
]

SAMPLE_RATES = (44100, 48000, 88200, 96000)


class Apply(Enum):
    """What the daemon must do for a changed key to take effect on reload."""

    LIVE = "live"  # takes effect at once, nothing reopened
    AUDIO = "audio"  # close and reopen the audio stream (and rebuild the engine)
    MIDI = "midi"  # close and reopen the MIDI client and its input ports
    CONTROL = "control"  # close and rebind the control listener
    ZEROCONF = "zeroconf"  # withdraw and re-announce the zeroconf service
    RESTART = "restart"  # only a daemon restart applies it


@dataclass(frozen=True)
class Key:
    """One configuration key: dotted name, default, checker, help text, reload behaviour."""

    name: str
    default: object
    check: c.Check
    help: str
    apply: Apply

    @property
    def section(self) -> str:
        return self.name.partition(".")[0]

    @property
    def leaf(self) -> str:
        return self.name.partition(".")[2]

    @property
    def allowed(self) -> str:
        return self.check.allowed


_A = Apply
_ROWS = (
    Key("audio.backend", "native", c.choice("pyaudio", "native", "null", null_means="null"),
        "audio output: pyaudio (PortAudio through PyAudio; falls back to null if there is "
        "no device), native (the same PortAudio run from the C++ engine: the callback never "
        "enters Python; same fallback) or null (render and discard)", _A.AUDIO),
    Key("audio.host_api", "default", c.choice("default", "alsa", "jack"),
        "PortAudio host API: the system default, ALSA or JACK", _A.AUDIO),
    Key("audio.device", None, c.optional(c.device()),
        "output device: part of its name, its index, or null for the default", _A.AUDIO),
    Key("audio.sample_rate", 48000, c.int_choice(*SAMPLE_RATES),
        "sample rate in Hz", _A.AUDIO),
    Key("audio.buffer_frames", 128, c.power_of_two(32, 4096),
        "frames per audio buffer (latency = buffer_frames / sample_rate)", _A.AUDIO),
    Key("audio.record", None, c.optional(c.path()),
        "also write everything played to this WAV file; null: do not record", _A.AUDIO),
    Key("midi.api", "alsa", c.choice("alsa", "jack"),
        "MIDI system to open inputs on", _A.MIDI),
    Key("midi.inputs", ("*",), c.pattern_list(),
        "input ports to connect: glob patterns on the port name, case-insensitive", _A.LIVE),
    Key("midi.channel", "omni", c.midi_channel(),
        "MIDI channel to answer: omni (all) or 1 to 16", _A.LIVE),
    Key("engine.polyphony", 16, c.int_range(1, 32),
        "voices that can sound at once", _A.AUDIO),
    Key("engine.loader", "auto", c.choice("auto", "cppyy", "compiled"),
        "how the C++ engine is compiled: auto (cppyy if it imports, else compiled), "
        "cppyy (JIT at start-up) or compiled (g++, cached)", _A.RESTART),
    Key("storage.state_dir", "auto", c.state_dir(),
        "where the current voice, edits and settings are kept; auto: see docs", _A.RESTART),
    Key("storage.banks_dir", None, c.optional(c.path()),
        "folder of .syx banks to offer; null: <state dir>/banks", _A.LIVE),
    Key("storage.memory_protect", False, c.boolean(),
        "refuse incoming bank dumps and voice stores, like the DX7's MEMORY PROTECT",
        _A.LIVE),
    Key("control.listen", "127.0.0.1:7970", c.listen(),
        "address of the control interface; non-loopback needs control.token", _A.CONTROL),
    Key("control.token", None, c.optional(c.token()),
        "shared secret clients must present; null: none (loopback listen only)", _A.LIVE),
    Key("zeroconf.enabled", True, c.boolean(),
        "announce the control interface with DNS-SD/mDNS", _A.ZEROCONF),
    Key("zeroconf.name", "dx7d on {hostname}", c.name_template(63),
        "service instance name to announce", _A.ZEROCONF),
    Key("log.level", "info", c.choice("debug", "info", "warning", "error"),
        "lowest level of log message written", _A.LIVE),
    Key("generator.model", None, c.optional(c.path()),
        "the cartridge generator's model (.npz from dx7d train); null: the shipped one",
        _A.RESTART),
    Key("generator.knobs", {}, c.knob_map(8, 16),
        "MIDI CCs that move the current voice along latent dimensions; {}: none",
        _A.RESTART),
)

SCHEMA: MappingProxyType[str, Key] = MappingProxyType({k.name: k for k in _ROWS})
"""Every key by dotted name, in file order."""

SECTIONS: tuple[str, ...] = tuple(dict.fromkeys(k.section for k in _ROWS))
"""Section names in file order."""

APPLY: MappingProxyType[str, Apply] = MappingProxyType({k.name: k.apply for k in _ROWS})
"""How each key's change is applied on reload."""

RESTART_KEYS: frozenset[str] = frozenset(k.name for k in _ROWS if k.apply is not Apply.LIVE)
"""Keys whose change needs something reopened (audio, MIDI, control, zeroconf) or a restart."""
