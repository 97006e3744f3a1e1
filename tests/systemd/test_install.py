"""install.sh and uninstall.sh run for real, as root, inside a throw-away mount namespace.

/etc and /var are overlays whose changes land in tmp_path, /run is an empty tmpfs (so
no running systemd is seen or touched): the user, directories, config, unit and enable
link the scripts create vanish with the namespace. Needs root, unshare and overlayfs;
skips, saying which, without them. Builds cppyy's precompiled header once (~10 s CPU).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SYSTEMD = REPO / "systemd"

# Makes the throw-away system view; $1 = scratch dir.
_ISOLATE = r"""
set -euo pipefail
scratch=$1
for d in etc var; do
    mkdir -p "$scratch/$d-up" "$scratch/$d-work"
    mount -t overlay overlay \
        -o "lowerdir=/$d,upperdir=$scratch/$d-up,workdir=$scratch/$d-work" "/$d"
done
mount -t tmpfs tmpfs /run
export SYSTEMD_OFFLINE=1
"""

# Runs inside the namespace; $2 = checkout. Each probe prints one "name: value" line
# to $1/report.
_SCENARIO = _ISOLATE + r"""
checkout=$2
report=$scratch/report
probe() { printf '%s: %s\n' "$1" "$2" >> "$report"; }
state() {
    probe "$1 user" "$(id -nG dx7d 2>/dev/null || echo none)"
    probe "$1 state" "$(stat -c '%U %a' /var/lib/dx7d 2>/dev/null || echo none)"
    probe "$1 config" "$(stat -c '%U %G %a' /etc/dx7d/config.yaml 2>/dev/null || echo none)"
    probe "$1 pch" "$(stat -c '%U' /var/cache/dx7d/allDict.cxx.pch 2>/dev/null || echo none)"
    unit=/etc/systemd/system/dx7d.service
    probe "$1 unit" "$(grep '^ExecStart=' "$unit" 2>/dev/null || echo none)"
    probe "$1 enabled" "$(readlink /etc/systemd/system/multi-user.target.wants/dx7d.service \
        || echo no)"
}
cd /
"$checkout/systemd/install.sh" --no-start
state installed
echo "volume: 3" >> /etc/dx7d/config.yaml        # a user's edit
echo "cartridge" > /var/lib/dx7d/mine.syx        # a user's cartridge
"$checkout/systemd/install.sh" --no-start
state reinstalled
probe "edit kept" "$(tail -n 1 /etc/dx7d/config.yaml)"
"$checkout/systemd/uninstall.sh"
state uninstalled
probe "cartridge kept" "$(cat /var/lib/dx7d/mine.syx)"
"$checkout/systemd/uninstall.sh"
state uninstalled-again
"$checkout/systemd/uninstall.sh" --purge
state purged
"$checkout/systemd/uninstall.sh" --purge
state purged-again
"""


def _require_root_and_unshare() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root (it creates a user and mounts overlays in a namespace)")
    if shutil.which("unshare") is None:
        pytest.skip("unshare is not installed (apt package util-linux)")


def _in_namespace(script: str, scratch: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["unshare", "--mount", "--propagation", "private",
         "bash", "-c", script, "scenario", str(scratch), *args],
        capture_output=True, text=True, check=False, timeout=600,
    )


def _reachable_checkout(parent: Path) -> Path:
    """A checkout other users can reach: the unit, the scripts, the default config, and a
    .venv borrowing this checkout's interpreter and site-packages.

    A copy rather than this checkout, whose untracked files (other work in progress) may
    not be world-readable yet, which install.sh would rightly refuse.
    """
    parent.chmod(0o755)
    checkout = parent / "dx7d"
    for folder in ("systemd", "config"):
        (checkout / folder).mkdir(parents=True)
    for name in ("dx7d.service", "install.sh", "uninstall.sh"):
        shutil.copy(SYSTEMD / name, checkout / "systemd")
    shutil.copy(REPO / "config" / "default.yaml", checkout / "config")
    venv = checkout / ".venv"
    (venv / "bin").mkdir(parents=True)
    shutil.copy(REPO / ".venv" / "pyvenv.cfg", venv)
    (venv / "lib").symlink_to(REPO / ".venv" / "lib")
    (venv / "bin" / "python").symlink_to(REPO / ".venv" / "bin" / "python")
    (venv / "bin" / "dx7d").write_text("#!/bin/sh\nexit 0\n")
    (venv / "bin" / "dx7d").chmod(0o755)
    return checkout


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Run the scenario once; yield its probes as {name: value}."""
    _require_root_and_unshare()
    if not (REPO / ".venv" / "bin" / "dx7d").exists():
        pytest.skip("no .venv/bin/dx7d in this checkout: run ./bootstrap.sh setup")
    scratch = tmp_path_factory.mktemp("install")
    parent = Path(tempfile.mkdtemp(prefix="dx7d-install-"))  # /tmp itself is reachable
    try:
        checkout = _reachable_checkout(parent)
        result = _in_namespace(_SCENARIO, scratch, str(checkout))
        ran = (scratch / "report").exists()
        if result.returncode != 0 and "mount" in result.stderr and not ran:
            pytest.skip(f"cannot mount overlays here: {result.stderr.strip()[-300:]}")
        assert result.returncode == 0, result.stdout + result.stderr
        lines = (scratch / "report").read_text().splitlines()
        yield {"checkout": str(checkout)} | dict(line.split(": ", 1) for line in lines)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)  # the overlays hold a 40 MB header
        shutil.rmtree(parent, ignore_errors=True)


def test_install_creates_user_dirs_config_unit(report: dict[str, str]) -> None:
    assert report["installed user"] == "dx7d audio"
    assert report["installed state"] == "dx7d 750"
    assert report["installed config"] == "root dx7d 640"
    assert report["installed pch"] == "dx7d"
    assert report["installed unit"] == (
        f"ExecStart={report['checkout']}/.venv/bin/dx7d run --config /etc/dx7d/config.yaml"
    )
    assert report["installed enabled"] == "/etc/systemd/system/dx7d.service"


def test_install_again_keeps_the_users_config(report: dict[str, str]) -> None:
    assert report["edit kept"] == "volume: 3"
    for probe in ("user", "state", "config", "pch", "unit", "enabled"):
        assert report[f"reinstalled {probe}"] == report[f"installed {probe}"]


def test_uninstall_removes_the_unit_and_keeps_the_data(report: dict[str, str]) -> None:
    for stage in ("uninstalled", "uninstalled-again"):
        assert report[f"{stage} unit"] == "none"
        assert report[f"{stage} enabled"] == "no"
        assert report[f"{stage} pch"] == "none"
        assert report[f"{stage} user"] == "dx7d audio"
        assert report[f"{stage} state"] == "dx7d 750"
        assert report[f"{stage} config"] == "root dx7d 640"
    assert report["cartridge kept"] == "cartridge"


def test_purge_removes_everything(report: dict[str, str]) -> None:
    for stage in ("purged", "purged-again"):
        for probe in ("user", "state", "config", "pch", "unit"):
            assert report[f"{stage} {probe}"] == "none"
        assert report[f"{stage} enabled"] == "no"


@pytest.mark.parametrize(
    ("hide", "message"),
    [
        (".venv/share/secret.py", "cannot read these"),
        (".venv/share", "cannot read these"),
        ("", "is not readable by other users"),
    ],
)
def test_install_refuses_what_the_service_user_cannot_read(
    tmp_path: Path, hide: str, message: str
) -> None:
    _require_root_and_unshare()
    parent = Path(tempfile.mkdtemp(prefix="dx7d-install-"))  # /tmp itself is reachable
    try:
        checkout = _reachable_checkout(parent)
        (checkout / ".venv" / "share").mkdir()
        (checkout / ".venv" / "share" / "secret.py").write_text("")
        (checkout / hide).chmod(0o700 if (checkout / hide).is_dir() else 0o600)
        result = _in_namespace(
            _ISOLATE + 'cd / && "$2/systemd/install.sh" --no-start', tmp_path, str(checkout)
        )
    finally:
        shutil.rmtree(parent)
    assert result.returncode == 1, result.stderr
    assert message in result.stderr
    assert str(checkout / hide).rstrip("/") in result.stderr
    assert "creating system user" not in result.stderr  # refused before changing anything
