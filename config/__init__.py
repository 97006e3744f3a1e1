"""dx7d.config: the configuration schema, defaults and validation.

One YAML file (default /etc/dx7d/config.yaml) overrides the built-in defaults key by key;
config/default.yaml beside this code lists every key with its default and a comment.
The schema table (``SCHEMA``) gives each key's type, default, allowed values, help text and
how a change is applied on reload (``APPLY``, ``RESTART_KEYS``). See docs/config.md.

    config = load()                      # or load("my.yaml"), loads(text), defaults()
    config.audio.sample_rate             # 48000
    config.get("midi.channel")           # "omni"
    diff(old, new)                       # ["log.level"]
"""

from ._errors import ConfigError, ConfigIssue
from ._listen import is_loopback, parse_listen
from ._load import DEFAULT_PATH, config_path, default_text, defaults, diff, load, loads
from ._model import (
    AudioConfig,
    Config,
    ControlConfig,
    EngineConfig,
    LogConfig,
    MidiConfig,
    StorageConfig,
    ZeroconfConfig,
)
from ._names import match_inputs, zeroconf_name
from ._paths import SYSTEM_STATE_DIR, resolve_banks_dir, resolve_state_dir
from ._schema import APPLY, RESTART_KEYS, SAMPLE_RATES, SCHEMA, SECTIONS, Apply, Key

__all__ = [
    "APPLY",
    "DEFAULT_PATH",
    "RESTART_KEYS",
    "SAMPLE_RATES",
    "SCHEMA",
    "SECTIONS",
    "SYSTEM_STATE_DIR",
    "Apply",
    "AudioConfig",
    "Config",
    "ConfigError",
    "ConfigIssue",
    "ControlConfig",
    "EngineConfig",
    "Key",
    "LogConfig",
    "MidiConfig",
    "StorageConfig",
    "ZeroconfConfig",
    "config_path",
    "default_text",
    "defaults",
    "diff",
    "is_loopback",
    "load",
    "loads",
    "match_inputs",
    "parse_listen",
    "resolve_banks_dir",
    "resolve_state_dir",
    "zeroconf_name",
]
