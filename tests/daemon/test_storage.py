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
        cartridge = tmp_path / "state" / "cartridge.syx"
        if not cartridge.exists():  # killed before its first store ended (a busy machine)
            continue
        assert cartridge.read_bytes() in (old, new)
        storage = Storage(tmp_path / "state")  # cleans up a killed write's temporary file
        assert not list((tmp_path / "state").glob(".*.tmp-*"))
        for backup in storage.backups():
            assert backup.read_bytes() in (old, new)


def test_a_kill_between_backup_and_replace_leaves_nothing_behind_and_no_duplicate(
        tmp_path: Path) -> None:
    """Issue 14, finding 5: a writer killed at random moments while storing cartridges in
    turn; each restart tidies up: no temporary file anywhere under the state folder, every
    backup distinct, never more than BACKUPS_KEPT."""
    paths = []
    for n in range(14):
        path = tmp_path / f"{n}.syx"
        path.write_bytes(_bank(f"K{n:02d}").to_syx())
        paths.append(str(path))
    script = textwrap.dedent(f"""
        from pathlib import Path
        from dx7d.daemon.storage import Storage
        from dx7d.voices import Bank
        storage = Storage(Path({str(tmp_path / 'state')!r}))
        banks = [Bank.read(p) for p in {paths!r}]
        print("ready", flush=True)
        n = 0
        while True:
            storage.store_cartridge(banks[n % len(banks)])
            n += 1
    """)
    for i in range(30):
        proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == b"ready"
        time.sleep(0.003 * (i % 11))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        storage = Storage(tmp_path / "state")
        assert not [p for p in (tmp_path / "state").rglob("*") if ".tmp-" in p.name]
        data = [b.read_bytes() for b in storage.backups()]
        assert len(data) == len(set(data)) <= BACKUPS_KEPT


def test_a_backup_already_kept_is_not_written_again(tmp_path: Path) -> None:
    storage = Storage(tmp_path)
    a, b, c = _bank("A"), _bank("B"), _bank("C")
    storage.store_cartridge(a)
    storage.store_cartridge(b)  # backs up A
    atomic_write(storage.cartridge_path, a.to_syx())  # as if killed before the replace
    storage.store_cartridge(c)  # A is the newest backup already
    assert [p.read_bytes() for p in storage.backups()] == [a.to_syx()]
    storage.store_cartridge(b)  # backs up C
    storage.store_cartridge(c)  # backs up B
    storage.store_cartridge(a)  # C again: moved to the newest place, not written twice
    assert [p.read_bytes() for p in storage.backups()] == [a.to_syx(), b.to_syx(), c.to_syx()]


def test_exactly_the_last_ten_distinct_cartridges_are_kept(tmp_path: Path) -> None:
    storage = Storage(tmp_path)
    banks = [_bank(f"D{n:02d}") for n in range(12)]
    for bank in [*banks, banks[3], banks[0]]:  # D03 and D00 come back later
        storage.store_cartridge(bank)
    kept = [p.read_bytes() for p in storage.backups()]
    # replaced, oldest first: D00..D10, D11, D03 (each once, at its last time): the last ten
    order = [b.to_syx() for b in banks[:3] + banks[4:] + [banks[3]]]
    assert kept == order[-BACKUPS_KEPT:]


def test_temporary_files_anywhere_under_the_state_folder_are_removed_at_start(
        tmp_path: Path) -> None:
    Storage(tmp_path)
    left = [tmp_path / ".cartridge.syx.tmp-123", tmp_path / "backups" / ".cartridge-x.syx.tmp-9"]
    for path in left:
        path.write_bytes(b"half")
    Storage(tmp_path)
    assert not any(p.exists() for p in left)
