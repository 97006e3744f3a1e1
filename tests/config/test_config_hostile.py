"""Hostile configuration values (issue 14, findings 3 and 6): `config check` catches what is
static, names it in one line, and never shows a traceback whatever the file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from dx7d.config import ConfigError, loads, zeroconf_name

DX7D = Path(sys.executable).with_name("dx7d")


def check(tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "hostile.yaml"
    path.write_text(text)
    return subprocess.run([str(DX7D), "config", "check", str(path)], capture_output=True,
                          text=True, timeout=60)


@pytest.mark.parametrize("text", [
    "engine:\n  polyphony: " + "9" * 5000 + "\n",
    "midi:\n  inputs: [" + "7" * 5000 + "]\n",
    "audio:\n  device: " + "[" * 2000 + "]" * 2000 + "\n",
    "".join(f"{'  ' * i}k{i}:\n" for i in range(2000)),
    "audio:\n  device: " + "{a: " * 2000 + "1" + "}" * 2000 + "\n",
], ids=["5000-digit int", "5000-digit int in a list", "2000-deep list", "2000-deep mapping",
        "2000-deep flow mapping"])
def test_config_check_refuses_without_a_traceback(tmp_path: Path, text: str) -> None:
    result = check(tmp_path, text)
    assert result.returncode == 1, result
    assert "Traceback" not in result.stdout + result.stderr, result.stderr[-2000:]
    assert result.stdout.startswith(str(tmp_path / "hostile.yaml")), result.stdout


@pytest.mark.parametrize("name", ["{hostname:{hostname}}", "{hostname:>9999999999}",
                                  "{hostname!r}", "{hostname:x}"])
def test_a_format_spec_in_the_zeroconf_name_is_refused(name: str) -> None:
    with pytest.raises(ConfigError) as info:
        loads(f"zeroconf:\n  name: '{name}'\n", "z.yaml")
    assert "format spec" in str(info.value)


def test_the_zeroconf_name_is_filled_without_format() -> None:
    config = loads("zeroconf:\n  name: 'DX7 {{x}} on {hostname}'\n")
    assert zeroconf_name(config, "studio.local") == "DX7 {x} on studio"


def test_audio_record_must_be_a_writable_file_path(tmp_path: Path) -> None:
    for bad, reason in [(tmp_path, "is a directory"),
                        (tmp_path / "no" / "take.wav", "does not exist"),
                        (Path("/dev/null"), "not a regular file")]:
        with pytest.raises(ConfigError) as info:
            loads(f"audio:\n  record: '{bad}'\n", "r.yaml")
        assert str(info.value).startswith("r.yaml:2: audio.record: "), info.value
        assert reason in str(info.value)
    loads(f"audio:\n  record: '{tmp_path / 'take.wav'}'\n")


def test_state_dir_must_be_a_writable_directory(tmp_path: Path) -> None:
    file = tmp_path / "a-file"
    file.write_text("")
    for bad, reason in [("/proc/self", "kernel file system"), (file, "not a directory"),
                        (file / "sub", "not a writable directory")]:
        with pytest.raises(ConfigError) as info:
            loads(f"storage:\n  state_dir: '{bad}'\n", "s.yaml")
        assert reason in str(info.value), info.value
    loads(f"storage:\n  state_dir: '{tmp_path / 'new' / 'deeper'}'\n")
