"""The state directory: atomic cartridge storage with backups, edit buffer, program."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from dx7d.daemon.storage import BACKUPS_KEPT, State, Storage
from dx7d.voices import Bank, Patch, atomic_write


def _bank(tag: str) -> Bank:
    bank = Bank.init()
    for i in range(32):
        bank[i].name = f"{tag}{i:02d}"[:10]
    return bank


def test_a_stored_cartridge_reads_back_byte_for_byte(tmp_path: Path) -> None:
    storage = Storage(tmp_path)
    bank = _bank("A")
    assert storage.load_cartridge() is None
    storage.store_cartridge(bank)
    assert storage.cartridge_path.read_bytes() == bank.to_syx()
    loaded = storage.load_cartridge()
    assert loaded is not None and loaded.to_syx() == bank.to_syx()


def test_the_replaced_cartridge_is_kept_and_only_the_last_ten(tmp_path: Path) -> None:
    storage = Storage(tmp_path)
    banks = [_bank(f"B{n:02d}") for n in range(BACKUPS_KEPT + 3)]
    for bank in banks:
        storage.store_cartridge(bank)
    backups = storage.backups()
    assert len(backups) == BACKUPS_KEPT
    kept = {p.read_bytes() for p in backups}
    # every cartridge but the current one, newest BACKUPS_KEPT of them
    assert kept == {b.to_syx() for b in banks[-1 - BACKUPS_KEPT : -1]}


def test_storing_the_same_cartridge_again_makes_no_backup(tmp_path: Path) -> None:
    storage = Storage(tmp_path)
    storage.store_cartridge(_bank("C"))
    assert storage.store_cartridge(_bank("C")) is None
    assert storage.backups() == []


def test_edit_buffer_and_state_survive_a_new_storage_object(tmp_path: Path) -> None:
    patch = Patch(name="EDITED")
    patch.algorithm = 17
    Storage(tmp_path).store_edit_buffer(patch)
    Storage(tmp_path).store_state(State(program=12, bank=3))
    again = Storage(tmp_path)
    loaded = again.load_edit_buffer()
    assert loaded is not None and loaded.to_vced() == patch.to_vced()
    assert again.load_state() == State(program=12, bank=3)


def test_a_corrupt_stored_file_is_reported_and_ignored(tmp_path: Path) -> None:
    storage = Storage(tmp_path)
    storage.cartridge_path.write_bytes(b"\xf0\x43\x00\x09 garbage")
    storage.state_path.write_text("{not json")
    storage.edit_buffer_path.write_bytes(b"\x00" * 10)
    assert storage.load_cartridge() is None
    assert storage.load_state() == State()
    assert storage.load_edit_buffer() is None


def test_atomic_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "x.bin"
    atomic_write(target, b"one")
    atomic_write(target, b"two")
    assert target.read_bytes() == b"two"
    assert [p.name for p in tmp_path.iterdir()] == ["x.bin"]


def test_kill_9_during_writes_leaves_the_old_or_the_new_cartridge(tmp_path: Path) -> None:
    """A writer process storing two cartridges in turn is killed at 20 random moments."""
    old, new = _bank("OLD").to_syx(), _bank("NEW").to_syx()
    (tmp_path / "a.syx").write_bytes(old)
    (tmp_path / "b.syx").write_bytes(new)
    script = textwrap.dedent(f"""
        from pathlib import Path
        from dx7d.daemon.storage import Storage
        from dx7d.voices import Bank
        storage = Storage(Path({str(tmp_path / 'state')!r}))
        banks = [Bank.read({str(tmp_path / 'a.syx')!r}), Bank.read({str(tmp_path / 'b.syx')!r})]
        print("ready", flush=True)
        n = 0
        while True:
            storage.store_cartridge(banks[n % 2])
            n += 1
    """)
    rng_delays = [0.01 * (i % 7 + 1) for i in range(20)]
    for delay in rng_delays:
        proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == b"ready"
        time.sleep(delay)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        stored = (tmp_path / "state" / "cartridge.syx").read_bytes()
        assert stored in (old, new)
        storage = Storage(tmp_path / "state")  # cleans up a killed write's temporary file
        assert not list((tmp_path / "state").glob(".*.tmp-*"))
        for backup in storage.backups():
            assert backup.read_bytes() in (old, new)
