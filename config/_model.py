"""Config: frozen dataclasses, one per section, mirroring the schema table field for field."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, fields
from typing import Any, Literal

from ._listen import parse_listen
from ._schema import SCHEMA, SECTIONS

__all__ = [
    "AudioConfig",
    "Config",
    "ControlConfig",
    "EngineConfig",
    "GeneratorConfig",
    "LogConfig",
    "MidiConfig",
    "StorageConfig",
    "ZeroconfConfig",
]


@dataclass(frozen=True)
class AudioConfig:
    """The `audio` section."""

    backend: Literal["pyaudio", "native", "null"]
    host_api: Literal["default", "alsa", "jack"]
    device: str | int | None
    sample_rate: int
    buffer_frames: int
    record: str | None


@dataclass(frozen=True)
class MidiConfig:
    """The `midi` section."""

    api: Literal["alsa", "jack"]
    inputs: tuple[str, ...]
    channel: Literal["omni"] | int

    @property
    def channel_index(self) -> int | None:
        """The channel as 0..15, or None for omni."""
        return None if self.channel == "omni" else int(self.channel) - 1


@dataclass(frozen=True)
class EngineConfig:
    """The `engine` section."""

    polyphony: int
    loader: str


@dataclass(frozen=True)
class StorageConfig:
    """The `storage` section (see resolve_state_dir for 'auto')."""

    state_dir: str
    banks_dir: str | None
    memory_protect: bool


@dataclass(frozen=True)
class ControlConfig:
    """The `control` section."""

    listen: str
    token: str | None

    @property
    def host(self) -> str:
        """The listen host (an IPv6 address without brackets)."""
        return parse_listen(self.listen)[0]

    @property
    def port(self) -> int:
        """The listen port."""
        return parse_listen(self.listen)[1]


@dataclass(frozen=True)
class ZeroconfConfig:
    """The `zeroconf` section."""

    enabled: bool
    name: str


@dataclass(frozen=True)
class LogConfig:
    """The `log` section."""

    level: Literal["debug", "info", "warning", "error"]


@dataclass(frozen=True)
class GeneratorConfig:
    """The `generator` section."""

    model: str | None
    knobs: dict[int, int]  # CC -> latent dimension, 1-based


_SECTION_TYPES: dict[str, type] = {
    "audio": AudioConfig, "midi": MidiConfig, "engine": EngineConfig,
    "storage": StorageConfig, "control": ControlConfig, "zeroconf": ZeroconfConfig,
    "log": LogConfig, "generator": GeneratorConfig,
}


@dataclass(frozen=True)
class Config:
    """A complete, validated configuration. Build it with load(), loads() or defaults()."""

    audio: AudioConfig
    midi: MidiConfig
    engine: EngineConfig
    storage: StorageConfig
    control: ControlConfig
    zeroconf: ZeroconfConfig
    log: LogConfig
    generator: GeneratorConfig

    @classmethod
    def from_values(cls, values: dict[str, Any]) -> Config:
        """Build from {dotted key: already validated value}, one entry per schema key."""
        sections = {}
        for section in SECTIONS:
            prefix = section + "."
            kwargs = {k[len(prefix):]: v for k, v in values.items() if k.startswith(prefix)}
            sections[section] = _SECTION_TYPES[section](**kwargs)
        return cls(**sections)

    def get(self, key: str) -> Any:
        """The value of a dotted key, e.g. config.get("audio.sample_rate")."""
        if key not in SCHEMA:
            close = difflib.get_close_matches(key, list(SCHEMA), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise KeyError(f"unknown configuration key {key!r}{hint}")
        section, _, leaf = key.partition(".")
        return getattr(getattr(self, section), leaf)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """Plain nested dicts and lists (YAML/JSON ready), sections and keys in schema order."""
        out: dict[str, dict[str, Any]] = {}
        for section in SECTIONS:
            part = getattr(self, section)
            out[section] = {
                f.name: list(v) if isinstance(v := getattr(part, f.name), tuple) else v
                for f in fields(part)
            }
        return out
