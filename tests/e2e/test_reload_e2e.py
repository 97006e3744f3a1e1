"""Reloads and start-up against hostile values and folders (issue 14, findings 3 and 6),
through the real daemon: a reload never kills it, a failed one keeps what runs and says
why; a path that cannot be used is named in one line at start, with no traceback."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

from .harness import DX7D, DaemonProcess, free_port

pytestmark = pytest.mark.e2e


def _daemon(folder: Path, **settings: dict[str, object]) -> DaemonProcess:
    base: dict[str, dict[str, object]] = {"control": {"listen": f"127.0.0.1:{free_port()}"}}
    for section, values in settings.items():
        base.setdefault(section, {}).update(values)
    return DaemonProcess(folder, base)


@pytest.mark.parametrize("name", ["{hostname:{hostname}}", "{hostname:>9999999999}"])
def test_a_format_spec_in_the_zeroconf_name_is_refused_and_the_daemon_plays_on(
        tmp_path: Path, jack_server: str, name: str) -> None:
    daemon = _daemon(tmp_path, zeroconf={"enabled": True, "name": "dx7d e2e {hostname}"})
    daemon.start()
    try:
        daemon.reload(zeroconf={"name": name})
        log = daemon.wait_log("reload refused, the running configuration stays")
        assert "zeroconf.name" in log and "format spec" in log
        assert daemon.proc is not None and daemon.proc.poll() is None
        assert daemon.control()["midi"]["listening"]
        assert daemon.stop() == 0, daemon.log()
    finally:
        if daemon.proc is not None and daemon.proc.poll() is None:
            daemon.kill()


def test_banks_folders_changing_under_the_rescan_never_kill_a_reload(
        tmp_path: Path, jack_server: str, shared_banks: Path) -> None:
    banks = tmp_path / "banks"
    rom = (shared_banks / "rom1A.syx").read_bytes()
    for n in range(200):
        (banks / f"set-{n:03d}" / "deeper").mkdir(parents=True)
        (banks / f"set-{n:03d}" / "deeper" / "a.syx").write_bytes(rom)
    daemon = _daemon(tmp_path)
    stop = threading.Event()

    def churn() -> None:  # a sync tool: sub-folders appear and vanish all the time
        k = 0
        while not stop.is_set():
            path = banks / f"set-{k % 200:03d}"
            shutil.rmtree(path, ignore_errors=True)
            (path / "deeper").mkdir(parents=True, exist_ok=True)
            (path / "deeper" / "a.syx").write_bytes(rom)
            k += 1

    daemon.start()
    worker = threading.Thread(target=churn, name="e2e-churn")
    worker.start()
    try:
        for _ in range(15):
            daemon.hup()
            assert daemon.proc is not None and daemon.proc.poll() is None, daemon.log()
        assert daemon.log().count("banks folder") >= 15
    finally:
        stop.set()
        worker.join()
    assert daemon.stop() == 0, daemon.log()


def test_a_state_directory_that_cannot_be_used_is_named_at_start_without_traceback(
        tmp_path: Path) -> None:
    """storage.state_dir auto, with systemd's STATE_DIRECTORY pointing into /proc: the
    configuration is fine, the directory is not, and the daemon says so in one line."""
    daemon = _daemon(tmp_path, storage={"state_dir": "auto"})
    daemon.write_config()
    env = dict(os.environ, STATE_DIRECTORY="/proc/self/dx7d")
    result = subprocess.run([str(DX7D), "run", "--config", str(daemon.config_path)],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr, result.stderr
    assert "dx7d cannot start: " in result.stderr
    assert "/proc/self/dx7d" in result.stderr


@pytest.mark.parametrize(("section", "key", "value", "reason"), [
    ("audio", "record", "/tmp", "is a directory"),
    ("storage", "state_dir", "/proc/self", "kernel file system"),
])
def test_a_path_config_check_can_test_is_refused_before_start(
        tmp_path: Path, section: str, key: str, value: str, reason: str) -> None:
    daemon = _daemon(tmp_path, **{section: {key: value}})
    daemon.write_config()
    result = subprocess.run([str(DX7D), "run", "--config", str(daemon.config_path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr
    assert f"{section}.{key}: " in result.stderr and reason in result.stderr, result.stderr
