"""Every kind of configuration error names the key, value, allowed values, file and line."""

from __future__ import annotations

from pathlib import Path

import pytest
from dx7d.config import ConfigError, ConfigIssue, load, loads


def only_issue(text: str, source: str = "my.yaml") -> ConfigIssue:
    with pytest.raises(ConfigError) as info:
        loads(text, source)
    assert len(info.value.errors) == 1, str(info.value)
    return info.value.errors[0]


def test_out_of_choice_sample_rate_message_format() -> None:
    issue = only_issue("audio:\n  sample_rate: 12345\n")
    assert (issue.key, issue.value, issue.file, issue.line) == (
        "audio.sample_rate", 12345, "my.yaml", 2)
    assert issue.allowed == "one of 44100, 48000, 88200, 96000"
    assert str(issue) == ("my.yaml:2: audio.sample_rate: 12345 is not allowed; "
                          "allowed: one of 44100, 48000, 88200, 96000")


def test_wrong_type_string_for_int() -> None:
    issue = only_issue("engine:\n  polyphony: many\n")
    assert issue.key == "engine.polyphony" and issue.value == "many"
    assert str(issue) == ('my.yaml:2: engine.polyphony: "many" (a string) is not allowed; '
                          "allowed: an integer from 1 to 32")


def test_boolean_is_not_an_integer() -> None:
    issue = only_issue("engine:\n  polyphony: true\n")
    assert issue.value is True
    assert "true (a boolean) is not allowed" in issue.message


def test_float_is_not_an_integer() -> None:
    issue = only_issue("audio:\n  buffer_frames: 128.0\n")
    assert "(a number) is not allowed" in issue.message


def test_integer_is_not_a_boolean() -> None:
    issue = only_issue("storage:\n  memory_protect: 1\n")
    assert str(issue) == ("my.yaml:2: storage.memory_protect: 1 (an integer) is not allowed; "
                          "allowed: true or false")


def test_out_of_range() -> None:
    issue = only_issue("engine:\n  polyphony: 33\n")
    assert str(issue).endswith("engine.polyphony: 33 is not allowed; "
                               "allowed: an integer from 1 to 32")


def test_buffer_frames_must_be_a_power_of_two() -> None:
    issue = only_issue("audio:\n  buffer_frames: 100\n")
    assert issue.key == "audio.buffer_frames"
    assert "a power of two from 32 to 4096" in str(issue)


def test_bad_choice() -> None:
    issue = only_issue("log:\n  level: verbose\n")
    assert str(issue) == ('my.yaml:2: log.level: "verbose" is not allowed; '
                          "allowed: one of debug, info, warning, error")


def test_midi_channel_zero() -> None:
    issue = only_issue("midi:\n  channel: 0\n")
    assert issue.allowed == "omni, or an integer from 1 to 16"


def test_unknown_key_suggests_close_match() -> None:
    issue = only_issue("audio:\n  sample_rat: 48000\n")
    assert issue.key == "audio.sample_rat" and issue.line == 2
    assert str(issue) == ("my.yaml:2: audio.sample_rat: unknown key; "
                          "did you mean 'audio.sample_rate'?")


def test_unknown_key_in_wrong_section_suggests_the_right_one() -> None:
    issue = only_issue("audio:\n  channel: 3\n")
    assert "did you mean 'midi.channel'?" in issue.message


def test_unknown_key_without_close_match_lists_the_section() -> None:
    issue = only_issue("engine:\n  xyzzy: 1\n")
    assert issue.message == "unknown key; allowed: the keys of engine: polyphony, loader"


def test_unknown_section_suggests() -> None:
    issue = only_issue("\naudi:\n  sample_rate: 48000\n")
    assert (issue.key, issue.line) == ("audi", 2)
    assert issue.message == "unknown section; did you mean 'audio'?"


def test_unknown_section_without_match_lists_sections() -> None:
    issue = only_issue("plugins: {}\n")
    assert issue.message == ("unknown section; allowed sections: "
                             "audio, midi, engine, storage, control, zeroconf, log")


def test_key_at_top_level_suggests_its_section() -> None:
    issue = only_issue("polyphony: 8\n")
    assert "did you mean 'engine.polyphony'?" in issue.message


def test_dotted_key_at_top_level_is_explained() -> None:
    issue = only_issue("audio.sample_rate: 44100\n")
    assert "write sample_rate: under audio:" in issue.message


def test_yaml_syntax_error_has_line() -> None:
    issue = only_issue("audio:\n  sample_rate: 48000\n midi: [\n")
    assert issue.key is None and issue.line is not None and issue.line >= 3
    assert str(issue).startswith(f"my.yaml:{issue.line}: YAML syntax error: ")


@pytest.mark.parametrize("text", ["midi:\n  inputs: [*Key*]\n",
                                  "control:\n  listen: [::1]:7970\n"])
def test_unquoted_special_value_hints_at_quoting(text: str) -> None:
    issue = only_issue(text)
    assert issue.line == 2 and issue.message.endswith("must be quoted")


def test_tab_indentation_is_a_syntax_error() -> None:
    issue = only_issue("audio:\n\tsample_rate: 48000\n")
    assert issue.line == 2 and "YAML syntax error" in issue.message


def test_top_level_list_is_refused() -> None:
    issue = only_issue("- audio\n- midi\n")
    assert issue.key is None and issue.line == 1
    assert "the top level must be a mapping of sections" in issue.message
    assert "not a list" in issue.message


def test_top_level_scalar_is_refused() -> None:
    issue = only_issue("48000\n")
    assert "not an integer" in issue.message


def test_section_that_is_not_a_mapping() -> None:
    issue = only_issue("midi: omni\n")
    assert issue.key == "midi"
    assert issue.message.startswith('"omni" (a string) is not allowed; allowed: a mapping')


def test_duplicate_key_is_an_error() -> None:
    issue = only_issue("log:\n  level: info\n  level: debug\n")
    assert (issue.key, issue.line) == ("log.level", 3)
    assert issue.message == "given twice (first at line 2)"


def test_non_string_key() -> None:
    issue = only_issue("audio:\n  1: x\n")
    assert issue.key == "audio" and "key 1 (an integer) is not a name" in issue.message


def test_unsafe_tag_is_refused_with_line() -> None:
    issue = only_issue("log:\n  level: !!python/object:os.system x\n")
    assert issue.line == 2 and "YAML error" in issue.message


def test_unsafe_tag_at_top_level_is_refused() -> None:
    issue = only_issue("!!python/name:os.system x\n")
    assert issue.line == 1 and "YAML error" in issue.message


def test_missing_explicit_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as info:
        load(missing)
    assert str(info.value) == f"{missing}: no such file"
    assert info.value.errors[0].line is None


def test_directory_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load(tmp_path)
    assert "cannot read" in str(info.value)


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"log:\n  level: info\nzeroconf:\n  name: caf\xe9\n")
    with pytest.raises(ConfigError) as info:
        load(path)
    assert info.value.errors[0].line == 4 and "not UTF-8" in str(info.value)


def test_non_loopback_listen_without_token_names_both_keys() -> None:
    issue = only_issue("control:\n  token: null\n  listen: 0.0.0.0:7970\n")
    assert (issue.key, issue.value, issue.line) == ("control.listen", "0.0.0.0:7970", 3)
    assert "control.token" in issue.message and "control.listen" in str(issue)


def test_non_loopback_listen_with_token_is_fine() -> None:
    config = loads('control:\n  listen: "[::]:7970"\n  token: s3cret\n')
    assert (config.control.host, config.control.port) == ("::", 7970)


@pytest.mark.parametrize("listen", ["127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536",
                                    "[::1:7970", "::1:7970", "[::1]", "host_name:80",
                                    ":7970", "300.1.1.1:80", "[zz]:80"])
def test_bad_listen_addresses(listen: str) -> None:
    issue = only_issue(f"control:\n  listen: '{listen}'\n")
    assert issue.key == "control.listen" and issue.value == listen
    assert issue.allowed is not None and '"host:port"' in issue.allowed


def test_several_errors_collected_in_file_order(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("audio:\n"
                    "  sample_rate: 12345\n"
                    "  buffer_frames: 100\n"
                    "midi:\n"
                    "  chanel: 3\n"
                    "engine:\n"
                    "  polyphony: 0\n"
                    "loggg:\n"
                    "  level: info\n")
    with pytest.raises(ConfigError) as info:
        load(path)
    lines = str(info.value).splitlines()
    assert [(i.key, i.line) for i in info.value.errors] == [
        ("audio.sample_rate", 2), ("audio.buffer_frames", 3), ("midi.chanel", 5),
        ("engine.polyphony", 7), ("loggg", 8)]
    assert all(line.startswith(f"{path}:") for line in lines) and len(lines) == 5
    assert "did you mean 'midi.channel'?" in lines[2]
    assert "did you mean 'log'?" in lines[4]


def test_config_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        loads("log: {level: loud}")
