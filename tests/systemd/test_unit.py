"""The systemd unit: systemd-analyze verify and security, and how install.sh renders it."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SYSTEMD = REPO / "systemd"
UNIT = SYSTEMD / "dx7d.service"
INSTALL = SYSTEMD / "install.sh"
MAX_EXPOSURE = 2.5  # FluidSynth's shipped unit scores 8.2 ("EXPOSED") on this scale
HOMES = ("/home/", "/root/", "/run/user/")


def _analyze() -> str:
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze is not installed (apt package systemd)")
    return tool


def _directives(text: str) -> dict[str, list[str]]:
    """Every Key=value of a unit file, keys mapped to their values in order."""
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";", "[")):
            continue
        key, _, value = line.partition("=")
        found.setdefault(key, []).append(value)
    return found


def _render(checkout: Path) -> str:
    result = subprocess.run(
        ["bash", str(INSTALL), "--print-unit", str(checkout)],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def _fake_checkout(root: Path) -> Path:
    """A checkout with the unit, a dx7d entry point and a venv python (this interpreter)."""
    (root / "systemd").mkdir(parents=True)
    shutil.copy(UNIT, root / "systemd" / "dx7d.service")
    bin_dir = root / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "python").symlink_to(sys.executable)
    (bin_dir / "dx7d").write_text("#!/bin/sh\nexit 0\n")
    (bin_dir / "dx7d").chmod(0o755)
    return root


def _exposure(unit: Path) -> float:
    result = subprocess.run(
        [_analyze(), "security", "--offline=true", "--no-pager", str(unit)],
        capture_output=True, text=True, check=False,
    )
    match = re.search(r"Overall exposure level for dx7d\.service: (\d+\.\d+)", result.stdout)
    assert match, result.stdout + result.stderr
    return float(match.group(1))


@pytest.fixture
def rendered(tmp_path: Path) -> Path:
    """The unit as install.sh renders it for this checkout (whose .venv must exist)."""
    if not (REPO / ".venv" / "bin" / "dx7d").exists():
        pytest.skip("no .venv/bin/dx7d in this checkout: run ./bootstrap.sh setup")
    unit = tmp_path / "dx7d.service"
    unit.write_text(_render(REPO))
    return unit


def test_rendered_unit_passes_systemd_analyze_verify(rendered: Path) -> None:
    result = subprocess.run(
        [_analyze(), "verify", str(rendered)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "dx7d.service" not in result.stderr, result.stderr


def test_shipped_unit_exposure_is_low() -> None:
    assert _exposure(UNIT) <= MAX_EXPOSURE


def test_rendered_unit_exposure_is_low(rendered: Path) -> None:
    assert _exposure(rendered) <= MAX_EXPOSURE


def test_render_points_the_unit_at_the_checkout(tmp_path: Path) -> None:
    checkout = _fake_checkout(tmp_path / "dx7d")
    unit = _directives(_render(checkout))
    assert unit["ExecStart"] == [f"{checkout}/.venv/bin/dx7d run --config /etc/dx7d/config.yaml"]
    assert unit["Documentation"] == [f"file:{checkout}/systemd/README.md"]
    binds = unit["BindReadOnlyPaths"][0].split()
    assert binds[0] == str(checkout)
    prefix = str(Path(sys.base_prefix).resolve())
    if prefix.startswith(HOMES):  # this interpreter is hidden by ProtectHome: bound too
        assert binds == [str(checkout), prefix]
        assert unit["ProtectHome"] == ["tmpfs"]
    else:
        assert binds == [str(checkout)]
        assert unit["ProtectHome"] == ["yes"]


def test_render_leaves_comments_alone(tmp_path: Path) -> None:
    checkout = _fake_checkout(tmp_path / "dx7d")
    comments = [line for line in _render(checkout).splitlines() if line.startswith("#")]
    assert comments == [line for line in UNIT.read_text().splitlines() if line.startswith("#")]


def test_render_refuses_a_path_a_unit_cannot_hold(tmp_path: Path) -> None:
    checkout = _fake_checkout(tmp_path / "my dx7d")
    result = subprocess.run(
        ["bash", str(INSTALL), "--print-unit", str(checkout)],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 1
    assert "cannot take unquoted" in result.stderr
    assert result.stdout == ""


def test_render_refuses_a_checkout_without_venv(tmp_path: Path) -> None:
    checkout = _fake_checkout(tmp_path / "dx7d")
    shutil.rmtree(checkout / ".venv")
    result = subprocess.run(
        ["bash", str(INSTALL), "--print-unit", str(checkout)],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 1
    assert "bootstrap.sh setup" in result.stderr


def test_unit_keeps_what_the_daemon_needs() -> None:
    unit = _directives(UNIT.read_text())
    assert unit["Type"] == ["notify"]
    assert unit["WatchdogSec"] == ["5s"]
    assert unit["Restart"] == ["on-failure"]
    assert unit["ExecReload"] == ["/bin/kill -HUP $MAINPID"]
    # cppyy's JIT (Cling) maps memory writable and executable: this would kill it.
    assert "MemoryDenyWriteExecute" not in unit
    # The audio thread asks for SCHED_FIFO.
    assert unit["RestrictRealtime"] == ["no"]
    assert unit["LimitRTPRIO"] == ["95"]
    assert "sched_setscheduler" in unit["SystemCallFilter"][-1].split()
    assert unit["DeviceAllow"] == ["char-alsa rw"]


@pytest.mark.parametrize("script", ["install.sh", "uninstall.sh"])
def test_script_parses(script: str) -> None:
    result = subprocess.run(
        ["bash", "-n", str(SYSTEMD / script)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("script", ["install.sh", "uninstall.sh"])
def test_script_is_shellcheck_clean(script: str) -> None:
    tool = shutil.which("shellcheck")
    if tool is None:
        pytest.skip("shellcheck is not installed (apt package shellcheck)")
    result = subprocess.run(
        [tool, str(SYSTEMD / script)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
