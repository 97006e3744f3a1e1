"""resolve_state_dir ("auto" and explicit) and resolve_banks_dir."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from dx7d.config import defaults, loads, resolve_banks_dir, resolve_state_dir


def test_systemd_state_directory_wins(tmp_path: Path) -> None:
    env = {"STATE_DIRECTORY": "/var/lib/dx7d-unit:/var/lib/other", "HOME": "/home/x"}
    assert resolve_state_dir(defaults(), env, tmp_path) == Path("/var/lib/dx7d-unit")


def test_writable_system_dir_is_next(tmp_path: Path) -> None:
    system = tmp_path / "dx7d"  # does not exist; its parent is writable
    assert resolve_state_dir(defaults(), {"HOME": "/home/x"}, system) == system
    system.mkdir()
    assert resolve_state_dir(defaults(), {"HOME": "/home/x"}, system) == system


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write to read-only directories")
def test_unwritable_system_dir_falls_back_to_xdg(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        env = {"XDG_STATE_HOME": "/home/x/.state", "HOME": "/home/x"}
        assert resolve_state_dir(defaults(), env, locked / "dx7d") == Path(
            "/home/x/.state/dx7d")
        assert resolve_state_dir(defaults(), {"HOME": "/home/x"}, locked / "dx7d") == Path(
            "/home/x/.local/state/dx7d")
    finally:
        locked.chmod(0o700)


def test_system_dir_that_is_a_file_is_not_used(tmp_path: Path) -> None:
    blocker = tmp_path / "dx7d"
    blocker.write_text("not a directory")
    env = {"XDG_STATE_HOME": "relative/is/ignored", "HOME": "/home/y"}
    assert resolve_state_dir(defaults(), env, blocker) == Path("/home/y/.local/state/dx7d")


def test_explicit_state_dir_expands_home(tmp_path: Path) -> None:
    config = loads("storage:\n  state_dir: ~/dx7d-state\n")
    env = {"STATE_DIRECTORY": "/ignored"}
    assert resolve_state_dir(config, env, tmp_path) == Path.home() / "dx7d-state"


def test_banks_dir_defaults_to_state_dir_banks() -> None:
    assert resolve_banks_dir(defaults(), Path("/s")) == Path("/s/banks")
    config = loads("storage:\n  banks_dir: /srv/syx\n")
    assert resolve_banks_dir(config, Path("/s")) == Path("/srv/syx")
