"""The unit's SystemCallFilter= lets cppyy's JIT, zeroconf and SCHED_FIFO requests through.

The allow list is computed the way systemd does from the unit's SystemCallFilter= lines
(the first one is an allow list; "~" lines take groups out, later lines put calls back)
with the groups as `systemd-analyze syscall-filter` lists them, then loaded with
libseccomp (default action EPERM, like SystemCallErrorNumber=EPERM) into a fresh Python,
(socket() limited to the unit's RestrictAddressFamilies=, as systemd does with seccomp),
which compiles and calls C++ with cppyy, lists interfaces as zeroconf does, imports the
daemon's libraries and starts a thread, sets its scheduling policy, and sees a call of
@resources that the unit leaves out refused.
Skips without systemd-analyze or libseccomp. ~3 s CPU (cppyy start-up).
"""

from __future__ import annotations

import ctypes.util
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
UNIT = REPO / "systemd" / "dx7d.service"

_PROGRAM = r"""
import ctypes, errno, json, os, socket, sys
allowed, families = json.loads(sys.argv[1]), json.loads(sys.argv[3])
seccomp = ctypes.CDLL(sys.argv[2], use_errno=True)
seccomp.seccomp_init.restype = ctypes.c_void_p
seccomp.seccomp_init.argtypes = [ctypes.c_uint32]
seccomp.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
seccomp.seccomp_rule_add.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint]
seccomp.seccomp_load.argtypes = [ctypes.c_void_p]
class ArgCmp(ctypes.Structure):  # struct scmp_arg_cmp
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int),
                ("datum_a", ctypes.c_uint64), ("datum_b", ctypes.c_uint64)]
seccomp.seccomp_rule_add_array.argtypes = [
    ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint, ctypes.POINTER(ArgCmp)]
ACT_ALLOW, ACT_EPERM = 0x7FFF0000, 0x00050000 | errno.EPERM
libc = ctypes.CDLL(None, use_errno=True)
assert libc.prctl(38, 1, 0, 0, 0) == 0  # PR_SET_NO_NEW_PRIVS, as NoNewPrivileges=yes
ctx = seccomp.seccomp_init(ACT_EPERM)
for name in allowed:
    nr = seccomp.seccomp_syscall_resolve_name(name.encode())
    if nr >= 0 and name != "socket":  # negative: not a call of this architecture
        assert seccomp.seccomp_rule_add(ctx, ACT_ALLOW, nr, 0) == 0, name
SOCKET = seccomp.seccomp_syscall_resolve_name(b"socket")
for family in families:  # RestrictAddressFamilies=: socket() only for these
    cmp = ArgCmp(0, 4, getattr(socket, family), 0)  # SCMP_CMP_EQ on the first argument
    assert seccomp.seccomp_rule_add_array(ctx, ACT_ALLOW, SOCKET, 1, ctypes.byref(cmp)) == 0
assert seccomp.seccomp_load(ctx) == 0
try:
    socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM).close()
    print("AF_PACKET allowed")
except PermissionError:
    print("AF_PACKET refused")

import cppyy
cppyy.cppdef("int dx7d_probe(int x) { return 2 * x + 1; }")
print("jit", cppyy.gbl.dx7d_probe(20))
import ifaddr
try:
    print("interfaces", len(ifaddr.get_adapters()) > 0)
except OSError as exc:
    print("interfaces failed:", errno.errorcode.get(exc.errno or 0, exc))
    sys.exit(0)
import threading, numpy, yaml, zeroconf, rtmidi, pyaudio  # the daemon's other imports
worker = threading.Thread(target=lambda: numpy.ones((64, 64)) @ numpy.ones((64, 64)))
worker.start(); worker.join()
print("imports and threads ok")
os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
print("sched_setscheduler ok")
nr = seccomp.seccomp_syscall_resolve_name(b"set_mempolicy")
result = libc.syscall(nr, 0, None, 0)  # MPOL_DEFAULT: allowed to anyone, but not in the list
print("set_mempolicy", result, errno.errorcode.get(ctypes.get_errno(), "0"))
"""


def _groups(tool: str) -> dict[str, list[str]]:
    """Every syscall group systemd knows, as {"@name": [members, "@nested", ...]}."""
    text = subprocess.run(
        [tool, "syscall-filter", "--no-pager"], capture_output=True, text=True, check=True
    ).stdout
    groups: dict[str, list[str]] = {}
    current: list[str] = []
    for line in text.splitlines():
        if line.startswith("@"):
            current = groups.setdefault(line.split()[0], [])
        elif line.strip() and not line.strip().startswith("#") and line.startswith(" "):
            current.append(line.split()[0])
    return groups


def _expand(names: list[str], groups: dict[str, list[str]]) -> set[str]:
    calls: set[str] = set()
    for name in names:
        calls |= _expand(groups[name], groups) if name.startswith("@") else {name}
    return calls


def _allow_list(tool: str) -> set[str]:
    lines = re.findall(r"^SystemCallFilter=(.*)$", UNIT.read_text(), re.MULTILINE)
    assert lines and not lines[0].startswith("~"), "the unit's filter must start as an allow list"
    groups = _groups(tool)
    allowed: set[str] = set()
    for value in lines:
        if value.startswith("~"):
            allowed -= _expand(value[1:].split(), groups)
        else:
            allowed |= _expand(value.split(), groups)
    return allowed


def _families() -> list[str]:
    lines = re.findall(r"^RestrictAddressFamilies=(.*)$", UNIT.read_text(), re.MULTILINE)
    assert len(lines) == 1
    return lines[0].split()


def _run_filtered(families: list[str]) -> list[str]:
    """Run the probe program under the unit's filter with socket() limited to families."""
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze is not installed (apt package systemd)")
    library = ctypes.util.find_library("seccomp")
    if library is None:
        pytest.skip("libseccomp is not installed (apt package libseccomp2)")
    allowed = _allow_list(tool)
    assert "sched_setscheduler" in allowed
    assert "set_mempolicy" not in allowed
    result = subprocess.run(
        [str(REPO / ".venv" / "bin" / "python"), "-c", _PROGRAM,
         json.dumps(sorted(allowed)), library, json.dumps(families)],
        capture_output=True, text=True, check=False, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.splitlines()


def test_unit_filter_lets_the_daemon_work() -> None:
    assert _run_filtered(_families()) == [
        "AF_PACKET refused",
        "jit 41",
        "interfaces True",
        "imports and threads ok",
        "sched_setscheduler ok",
        "set_mempolicy -1 EPERM",
    ]


def test_zeroconf_interface_listing_needs_netlink() -> None:
    families = [family for family in _families() if family != "AF_NETLINK"]
    # systemd answers EAFNOSUPPORT, this filter EPERM: either way the listing fails.
    assert _run_filtered(families)[-1].startswith("interfaces failed:")
