"""The unit's file-system view is enough to compile C++ with cppyy (or with g++, the
compiled engine loader of a Pi) and notify systemd.

This machine cannot run the unit under systemd (no systemd as PID 1), so the test builds
the same view by hand in a mount namespace, from the unit as install.sh renders it: an
empty /home and /root with the BindReadOnlyPaths= bound read-only into them, a read-only
/ (like ProtectSystem=strict), fresh /tmp and /var/tmp (PrivateTmp=; cppyy's header build
needs a temporary directory), a writable /var/cache/dx7d (CacheDirectory=) and the unit's
Environment=.
Then, as user nobody with no new privileges, it compiles and calls a C++ function and
sends READY=1 over a real NOTIFY_SOCKET. Needs root and unshare (skips without them);
builds cppyy's precompiled header (~8 s CPU).
"""

from __future__ import annotations

import os
import shlex
import shutil
import socket
import subprocess
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
INSTALL = REPO / "systemd" / "install.sh"

_SETUP = r"""
set -euo pipefail
stage=$1; shift
i=0
for path in "$@"; do                         # BindReadOnlyPaths=, staged before hiding homes
    mkdir -p "$stage/$i"; mount --bind "$path" "$stage/$i"; i=$((i + 1))
done
for home in /home /root; do                  # ProtectHome=tmpfs (or yes: nothing bound)
    [ -d "$home" ] && mount -t tmpfs -o mode=0755 tmpfs "$home"
done
i=0
for path in "$@"; do
    mkdir -p "$path"; mount --move "$stage/$i" "$path"
    mount -o remount,bind,ro "$path"; i=$((i + 1))
done
for home in /home /root; do [ -d "$home" ] && mount -o remount,ro "$home"; done
mount -t tmpfs tmpfs /var/cache && mkdir -m 0750 /var/cache/dx7d && chown nobody /var/cache/dx7d
mount -t tmpfs -o mode=1777 tmpfs /tmp && mount -t tmpfs -o mode=1777 tmpfs /var/tmp  # PrivateTmp=
mount --bind / / 2>/dev/null && mount -o remount,bind,ro / || true
cd /
setpriv --reuid=nobody --regid=nogroup --clear-groups --no-new-privs \
    env -i PATH=/usr/bin:/bin HOME=/var/lib/dx7d NOTIFY_SOCKET="$NOTIFY_SOCKET" $UNIT_ENV \
    "$PYTHON" -c "$PROGRAM"
ls /var/cache/dx7d
"""

_PROGRAM = """
import cppyy
from dx7d.daemon._sdnotify import Notifier
cppyy.cppdef("int dx7d_probe(int x) { return 2 * x + 1; }")
with Notifier() as notifier:
    assert notifier.ready(f"probe={cppyy.gbl.dx7d_probe(20)}")
"""

# The compiled loader (engine.loader: compiled): g++ builds the engine into
# $CACHE_DIRECTORY/engine, which systemd sets for CacheDirectory=.
_COMPILED_PROGRAM = """
from dx7d.engine_cpp import Synth
from dx7d.daemon._sdnotify import Notifier
synth = Synth(loader="compiled")
with Notifier() as notifier:
    assert notifier.ready(f"probe={synth.loader}")
"""


def _unit_settings() -> dict[str, list[str]]:
    text = subprocess.run(
        ["bash", str(INSTALL), "--print-unit", str(REPO)],
        capture_output=True, text=True, check=True,
    ).stdout
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            found.setdefault(key, []).append(value)
    return found


@pytest.mark.parametrize(("loader", "program", "status"), [
    ("cppyy", _PROGRAM, b"probe=41"),
    ("compiled", _COMPILED_PROGRAM, b"probe=compiled"),
])
def test_service_view_compiles_cpp_and_notifies(loader: str, program: str, status: bytes,
                                                tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root (it mounts in a private namespace and switches user)")
    if shutil.which("unshare") is None or shutil.which("setpriv") is None:
        pytest.skip("unshare/setpriv are not installed (apt package util-linux)")
    if REPO.is_relative_to("/tmp") or REPO.is_relative_to("/var/tmp"):
        pytest.skip(f"the checkout {REPO} is under a temporary folder, which the unit's "
                    "PrivateTmp= hides from the service: install it from /opt/dx7d or a home")
    if not (REPO / ".venv" / "bin" / "dx7d").exists():
        pytest.skip("no .venv/bin/dx7d in this checkout: run ./bootstrap.sh setup")
    if loader == "cppyy" and shutil.which("cling-config", path=str(REPO / ".venv" / "bin")) \
            is None:
        pytest.skip("cppyy is not installed in .venv (no wheel for this platform)")
    if loader == "compiled" and shutil.which("g++") is None:
        pytest.skip("g++ is not installed")
    unit = _unit_settings()
    binds = unit["BindReadOnlyPaths"][0].split()
    unit_env = " ".join(" ".join(value.split()) for value in unit["Environment"])
    unit_env += " CACHE_DIRECTORY=/var/cache/dx7d"  # what systemd sets for CacheDirectory=
    name = f"dx7d-test-sandbox-{uuid.uuid4().hex}"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind("\0" + name)
    listener.settimeout(60.0)  # a guard against hanging, not a timing assertion
    env = {
        **os.environ,
        "NOTIFY_SOCKET": "@" + name,
        "UNIT_ENV": unit_env,
        "PYTHON": str(REPO / ".venv" / "bin" / "python"),
        "PROGRAM": program,
    }
    try:
        result = subprocess.run(
            ["unshare", "--mount", "--propagation", "private", "bash", "-c", _SETUP,
             "setup", str(tmp_path), *binds],
            capture_output=True, text=True, check=False, timeout=600, env=env,
        )
        assert result.returncode == 0, shlex.join(binds) + "\n" + result.stderr[-3000:]
        assert listener.recv(4096) == b"READY=1\nSTATUS=" + status
    finally:
        listener.close()
    cache = result.stdout.split()
    if loader == "cppyy":
        assert "allDict.cxx.pch" in cache  # CLING_STANDARD_PCH= points into CacheDirectory=
    else:
        assert "engine" in cache  # the compiled library went to CacheDirectory=
    assert "pycache" in cache  # PYTHONPYCACHEPREFIX= too
