"""`dx7d config check` and `dx7d config show`, through the real `dx7d` entry point."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from dx7d.config import ConfigError, defaults, load
from dx7d.daemon.cli import main


def test_check_ok(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("audio:\n  sample_rate: 96000\n")
    assert main(["config", "check", str(good)]) == 0
    assert capsys.readouterr().out == f"{good}: ok\n"


def test_check_reports_every_error_and_exits_1(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("log: {level: warning}\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text("audio:\n  sample_rate: 12345\nengine:\n  polyphonie: 8\n")
    missing = tmp_path / "missing.yaml"
    assert main(["config", "check", str(good), str(bad), str(missing)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out == [
        f"{good}: ok",
        f"{bad}:2: audio.sample_rate: 12345 is not allowed; "
        "allowed: one of 44100, 48000, 88200, 96000",
        f"{bad}:4: engine.polyphonie: unknown key; did you mean 'engine.polyphony'?",
        f"{missing}: no such file",
    ]


def test_check_needs_a_file() -> None:
    with pytest.raises(SystemExit):
        main(["config", "check"])


def test_show_prints_effective_config(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("midi:\n  channel: 5\nstorage:\n  state_dir: /srv/dx7d\n")
    assert main(["config", "show", "--config", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"# source: {path}" in out
    assert "# storage.state_dir resolves to: /srv/dx7d\n" in out
    shown = yaml.safe_load(out)
    assert shown["midi"]["channel"] == 5
    assert shown["audio"]["sample_rate"] == 48000  # defaults filled in


def test_show_then_check_round_trip(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("audio:\n  backend: null\n  device: 2\nmidi:\n  inputs: ['*Key*']\n"
                    "control:\n  listen: '[::]:7000'\n  token: t0k3n\n")
    assert main(["config", "show", "--config", str(path)]) == 0
    shown = tmp_path / "shown.yaml"
    shown.write_text(capsys.readouterr().out)
    assert main(["config", "check", str(shown)]) == 0
    assert capsys.readouterr().out == f"{shown}: ok\n"
    assert load(shown) == load(path)
    assert load(shown) != defaults()


def test_show_refuses_bad_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("log: {level: loud}\n")
    assert main(["config", "show", "--config", str(path)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"{path}:1: log.level: \"loud\" is not allowed" in captured.err
    with pytest.raises(ConfigError):
        load(path)


def test_config_without_subcommand_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config"]) == 2
    assert "check" in capsys.readouterr().err
