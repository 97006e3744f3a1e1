"""Shared fixtures: a private JACK server, the shared DX7 banks, and a leak check.

The JACK server uses the dummy backend (no sound card needed) under a unique
name; JACK_DEFAULT_SERVER is set in os.environ so every child process (the
daemon under test) and every in-process client finds it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_BANKS = Path(os.environ.get("DX7D_SHARED_BANKS", REPO.parent / "shared" / "banks"))

JACK_RATE = 48000
JACK_PERIOD = 128


def _child_pids() -> set[int]:
    """PIDs of this process's direct children, read from /proc."""
    me = os.getpid()
    children: set[int] = set()
    for task in Path(f"/proc/{me}/task").iterdir():
        try:
            text = (task / "children").read_text()
        except OSError:
            continue
        children.update(int(p) for p in text.split())
    return children


def _live(pids: set[int]) -> set[int]:
    """The subset of pids that are running (zombies are reaped first)."""
    live = set()
    for pid in pids:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            live.add(pid)
    return live


@pytest.fixture(autouse=True)
def no_leftover_threads_or_processes() -> Iterator[None]:
    """Fail a test that leaves Python threads or child processes running."""
    threads_before = set(threading.enumerate())
    children_before = _child_pids()
    yield
    deadline = time.monotonic() + 2.0
    while True:
        threads = [t for t in threading.enumerate() if t not in threads_before and t.is_alive()]
        children = _live(_child_pids() - children_before)
        if not threads and not children:
            return
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    names = ", ".join(t.name for t in threads)
    pytest.fail(f"test left threads [{names}] and child processes {sorted(children)} running")


@pytest.fixture(scope="session")
def jack_server() -> Iterator[str]:
    """Start a private JACK server (dummy backend); yield its name."""
    jackd = shutil.which("jackd")
    if jackd is None:
        pytest.fail("jackd is not installed: run ./bootstrap.sh test, which installs jackd2")
    previous = os.environ.get("JACK_DEFAULT_SERVER")
    name, proc, log = _start_jackd(jackd)
    os.environ["JACK_DEFAULT_SERVER"] = name
    os.environ["JACK_NO_START_SERVER"] = "1"
    try:
        _wait_for_jack(name, proc, log)
        yield name
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        if previous is None:
            os.environ.pop("JACK_DEFAULT_SERVER", None)
        else:
            os.environ["JACK_DEFAULT_SERVER"] = previous


def _start_jackd(jackd: str) -> tuple[str, subprocess.Popen[bytes], Any]:
    """jackd under the first free name dx7d-test-0..7.

    JACK2 keeps a registry of 8 servers in shared memory and frees the slot of a dead
    server only when a server of the same name starts again. Reusing a few fixed names
    (instead of a new random one per run) lets an interrupted test run's stale entry be
    reclaimed, while concurrent runs still get servers of their own.
    """
    failures = []
    for slot in range(8):
        name = f"dx7d-test-{slot}"
        log = tempfile.TemporaryFile()  # jackd output, shown if it fails to start
        proc = subprocess.Popen(
            [jackd, "--no-realtime", "-n", name, "-d", "dummy",
             "-r", str(JACK_RATE), "-p", str(JACK_PERIOD)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
        try:
            proc.wait(0.5)
        except subprocess.TimeoutExpired:
            return name, proc, log  # still running: it took the name
        log.seek(0)
        failures.append(f"{name}: {log.read().decode(errors='replace').strip()[-300:]}")
        log.close()
    pytest.fail("no JACK server could start:\n" + "\n".join(failures))


def _wait_for_jack(name: str, proc: subprocess.Popen[bytes], log: object) -> None:
    import jack

    deadline = time.monotonic() + 15.0
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log.seek(0)  # type: ignore[attr-defined]
            pytest.fail(f"jackd exited with {proc.returncode}: {log.read().decode()}")  # type: ignore[attr-defined]
        try:
            client = jack.Client("dx7d-probe", servername=name, no_start_server=True)
        except jack.JackOpenError:
            time.sleep(0.1)
            continue
        client.close()
        return
    pytest.fail(f"JACK server {name} did not answer within 15 s")


@pytest.fixture(scope="session")
def shared_banks() -> Path:
    """../shared/banks (the project ships no third-party banks); skip without it."""
    if not SHARED_BANKS.is_dir():
        pytest.skip(f"shared DX7 banks not found at {SHARED_BANKS} (set DX7D_SHARED_BANKS)")
    return SHARED_BANKS
