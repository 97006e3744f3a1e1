"""Loading: defaults, partial files, default.yaml in step with the schema, get/to_dict, diff."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
import yaml
from dx7d.config import (
    APPLY,
    DEFAULT_PATH,
    RESTART_KEYS,
    SCHEMA,
    SECTIONS,
    Apply,
    Config,
    config_path,
    default_text,
    defaults,
    diff,
    load,
    loads,
)


def test_default_yaml_parses_to_exactly_the_defaults() -> None:
    assert loads(default_text(), "default.yaml") == defaults()


def test_default_yaml_spells_out_every_key_with_a_comment() -> None:
    text = default_text()
    raw = yaml.safe_load(text)
    spelled = {f"{s}.{k}" for s, keys in raw.items() for k in keys}
    assert spelled == set(SCHEMA)
    lines = text.splitlines()
    for name in SCHEMA:
        leaf = name.partition(".")[2]
        index = next(i for i, line in enumerate(lines) if re.match(rf"\s+{leaf}:", line))
        assert lines[index - 1].strip().startswith("#"), f"{name} has no comment above it"


def test_every_default_passes_its_own_check() -> None:
    for key in SCHEMA.values():
        value = list(key.default) if isinstance(key.default, tuple) else key.default
        assert key.check(value) == key.default, key.name


def test_dataclass_fields_mirror_the_schema() -> None:
    config = defaults()
    fields = [f"{s}.{f.name}" for s in SECTIONS
              for f in dataclasses.fields(getattr(config, s))]
    assert fields == list(SCHEMA)


def test_documented_default_values() -> None:
    config = defaults()
    assert config.audio.backend == "native" and config.audio.host_api == "default"
    assert config.audio.device is None and config.audio.sample_rate == 48000
    assert config.audio.buffer_frames == 128 and config.audio.record is None
    assert config.midi.api == "alsa" and config.midi.inputs == ("*",)
    assert config.midi.channel == "omni" and config.midi.channel_index is None
    assert config.engine.polyphony == 16
    assert config.storage.state_dir == "auto" and config.storage.banks_dir is None
    assert config.storage.memory_protect is False
    assert config.control.listen == "127.0.0.1:7970" and config.control.token is None
    assert config.zeroconf.enabled is True and config.zeroconf.name == "dx7d on {hostname}"
    assert config.log.level == "info"


def test_partial_file_overrides_key_by_key(tmp_path: Path) -> None:
    path = tmp_path / "partial.yaml"
    path.write_text("audio:\n  sample_rate: 44100\nmidi:\n  channel: 10\n")
    config = load(path)
    assert config.audio.sample_rate == 44100
    assert config.midi.channel == 10 and config.midi.channel_index == 9
    assert config.audio.buffer_frames == 128  # same section, not given: default
    assert diff(defaults(), config) == ["audio.sample_rate", "midi.channel"]


def test_load_accepts_str_path(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("log:\n  level: debug\n")
    assert load(str(path)).log.level == "debug"


@pytest.mark.parametrize("text", ["", "# only comments\n", "---\n", "audio:\n  # all off\n"])
def test_empty_documents_and_sections_mean_defaults(text: str) -> None:
    assert loads(text) == defaults()


def test_every_kind_of_value_is_accepted() -> None:
    config = loads(
        "audio:\n  backend: null\n  host_api: jack\n  device: 3\n  buffer_frames: 4096\n"
        "  record: ~/take.wav\n"
        "midi:\n  api: jack\n  inputs: ['*Keystation*', 'DX7 [12]']\n"
        "storage:\n  state_dir: /tmp/dx7d-state\n  banks_dir: ~/banks\n"
        "  memory_protect: true\n"
        "control:\n  listen: 'localhost:8000'\n  token: abc\n"
        "zeroconf:\n  enabled: false\n  name: 'Rack {hostname} {{1}}'\n")
    assert config.audio.backend == "null" and config.audio.device == 3
    assert config.audio.record == "~/take.wav"
    assert config.midi.inputs == ("*Keystation*", "DX7 [12]")
    assert config.storage.memory_protect is True
    assert (config.control.host, config.control.port) == ("localhost", 8000)
    assert config.zeroconf.name == "Rack {hostname} {{1}}"


def test_backend_null_quoted_or_not_is_the_same() -> None:
    assert loads("audio: {backend: 'null'}") == loads("audio: {backend: null}")


def test_device_by_name() -> None:
    assert loads("audio:\n  device: USB Audio\n").audio.device == "USB Audio"


def test_empty_input_list_means_no_inputs() -> None:
    assert loads("midi:\n  inputs: []\n").midi.inputs == ()


def test_merge_keys_are_understood() -> None:
    config = loads("midi:\n  channel: 2\n  <<: {api: jack}\n")
    assert (config.midi.channel, config.midi.api) == (2, "jack")


def test_get_and_to_dict() -> None:
    config = loads("midi:\n  inputs: [a, b]\n")
    assert config.get("audio.sample_rate") == 48000
    assert config.get("midi.inputs") == ("a", "b")
    assert config.to_dict()["midi"]["inputs"] == ["a", "b"]
    assert list(config.to_dict()) == list(SECTIONS)
    assert loads(yaml.safe_dump(config.to_dict())) == config


def test_get_unknown_key_suggests() -> None:
    with pytest.raises(KeyError, match=r"did you mean 'audio\.sample_rate'"):
        defaults().get("audio.samplerate")


def test_config_is_immutable() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        defaults().audio.sample_rate = 44100  # type: ignore[misc]


def test_diff_of_equal_configs_is_empty() -> None:
    assert diff(defaults(), loads(default_text())) == []


def test_diff_lists_changed_keys_in_schema_order() -> None:
    new = loads("log: {level: debug}\naudio: {buffer_frames: 256}\nmidi: {inputs: [x]}\n")
    assert diff(defaults(), new) == ["audio.buffer_frames", "midi.inputs", "log.level"]
    assert diff(new, defaults()) == ["audio.buffer_frames", "midi.inputs", "log.level"]


def test_live_and_restart_keys() -> None:
    live = {"log.level", "midi.channel", "storage.memory_protect", "midi.inputs"}
    assert live.isdisjoint(RESTART_KEYS)
    assert all(APPLY[k] is Apply.LIVE for k in live)
    assert {"audio.sample_rate", "audio.buffer_frames", "audio.device"} <= RESTART_KEYS
    assert APPLY["midi.api"] is Apply.MIDI
    assert RESTART_KEYS == {k for k, a in APPLY.items() if a is not Apply.LIVE}
    assert set(APPLY) == set(SCHEMA)


def test_bad_reload_leaves_nothing_changed(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("log: {level: debug}\n")
    running = load(path)
    path.write_text("log: {level: loud}\naudio: {sample_rate: 44100}\n")
    with pytest.raises(ValueError):
        running = load(path)
    assert running.log.level == "debug" and running.audio.sample_rate == 48000


def test_load_without_path_uses_default_path_only_if_it_exists() -> None:
    if DEFAULT_PATH.exists():
        assert config_path() == DEFAULT_PATH
    else:
        assert config_path() is None
        assert load() == defaults()


def test_config_from_values_needs_every_key() -> None:
    values = {name: key.default for name, key in SCHEMA.items()}
    assert Config.from_values(values) == defaults()
    del values["log.level"]
    with pytest.raises(TypeError):
        Config.from_values(values)
