"""Persistent state: the internal cartridge, its backups, the edit buffer, the program.

Everything is written atomically (temporary file in the same folder, fsync, rename,
fsync of the folder), so a power cut or kill -9 leaves the old or the new file,
never a broken one; the temporary files a kill leaves anywhere under the folder
are removed at start. A replaced cartridge is kept under ``backups/``: the last
``BACKUPS_KEPT`` distinct ones, each once (a cartridge backed up again, e.g. after
a kill between its backup and the replace, moves to the newest place instead of
being written twice), so a wrong dump is never a loss.

Layout of the state directory::

    cartridge.syx     the internal cartridge, a 4104-byte 32-voice dump
    edit-buffer.syx   the edit buffer, a 163-byte single-voice dump
    state.json        {"program": 0-31, "bank": 0-16383}
    backups/          cartridge-<UTC time>.syx, the last BACKUPS_KEPT replaced ones
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

from dx7d.voices import (
    Bank,
    Patch,
    SysexError,
    VoiceDump,
    atomic_write,
    parse_sysex,
    voice_dump,
)

__all__ = ["BACKUPS_KEPT", "State", "Storage", "StorageError"]

BACKUPS_KEPT = 10

log = logging.getLogger("dx7d.storage")


class StorageError(OSError):
    """The state directory cannot be used (permissions, disk full, ...)."""


@dataclass(frozen=True)
class State:
    """The playing position that survives a restart."""

    program: int = 0  # 0-31 within the current bank
    bank: int = 0  # 0 = the internal cartridge, 1.. = the banks folder, in library order


class Storage:
    """The daemon's state directory. Not thread-safe: the dispatcher thread owns it."""

    def __init__(self, state_dir: Path) -> None:
        self.dir = Path(state_dir)
        self.cartridge_path = self.dir / "cartridge.syx"
        self.edit_buffer_path = self.dir / "edit-buffer.syx"
        self.state_path = self.dir / "state.json"
        self.backup_dir = self.dir / "backups"
        try:
            self.backup_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(exc.errno, f"cannot create the state directory: {exc}") from exc
        self._clean()

    def _clean(self) -> None:
        """Remove what killed writes left: temporary files anywhere under the folder,
        duplicate backups (of earlier versions), backups beyond BACKUPS_KEPT."""
        for stale in self.dir.rglob(".*.tmp-*"):
            try:
                if stale.is_file():
                    stale.unlink()
                    log.info("removed %s, left by a write that was interrupted", stale)
            except OSError as exc:
                log.warning("cannot remove %s: %s", stale, exc)
        seen: set[bytes] = set()
        try:
            for backup in reversed(self.backups()):  # newest first: keep its newest copy
                data = backup.read_bytes()
                if data in seen:
                    backup.unlink()
                seen.add(data)
            self._prune(BACKUPS_KEPT)
        except OSError as exc:
            log.warning("cannot tidy the backups in %s: %s", self.backup_dir, exc)

    # -- the internal cartridge -------------------------------------------------------

    def load_cartridge(self) -> Bank | None:
        """The stored internal cartridge, or None when none was stored yet (or unreadable)."""
        if not self.cartridge_path.exists():
            return None
        try:
            return Bank.read(self.cartridge_path)
        except (SysexError, OSError) as exc:
            log.error("stored cartridge %s is unreadable (%s); using the factory cartridge",
                      self.cartridge_path, exc)
            return None

    def store_cartridge(self, bank: Bank) -> Path | None:
        """Make ``bank`` the internal cartridge; return the backup of the replaced one, if any."""
        backup = None
        if self.cartridge_path.exists():
            old = self.cartridge_path.read_bytes()
            if old == bank.to_syx():
                return None  # the same cartridge again: nothing to back up
            backup = self._backup(old)
        atomic_write(self.cartridge_path, bank.to_syx())
        return backup

    def backups(self) -> list[Path]:
        """Stored backups, oldest first."""
        return sorted(self.backup_dir.glob("cartridge-*.syx"))

    def _backup(self, data: bytes) -> Path:
        """Keep ``data`` as the newest backup, once: an identical backup is moved (renamed)
        to the newest place instead of written again."""
        existing = self.backups()
        if existing and existing[-1].read_bytes() == data:
            return existing[-1]  # already the newest (a kill came before the replace)
        path = self._new_backup_path()
        for old in existing:
            if old.read_bytes() == data:
                os.replace(old, path)
                return path
        # make room first: a kill after this never leaves more than BACKUPS_KEPT
        self._prune(BACKUPS_KEPT - 1)
        atomic_write(path, data)
        return path

    def _new_backup_path(self) -> Path:
        # Names sort in time order: UTC second, then nanoseconds (fixed width).
        ns = time.time_ns()
        while True:
            stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(ns // 10**9))
            path = self.backup_dir / f"cartridge-{stamp}.{ns % 10**9:09d}Z.syx"
            if not path.exists():
                return path
            ns += 1

    def _prune(self, keep: int) -> None:
        for old in self.backups()[:-keep] if keep else self.backups():
            old.unlink(missing_ok=True)

    # -- the edit buffer ----------------------------------------------------------------

    def load_edit_buffer(self) -> Patch | None:
        """The stored edit buffer, or None."""
        if not self.edit_buffer_path.exists():
            return None
        try:
            message = parse_sysex(self.edit_buffer_path.read_bytes())
        except (SysexError, OSError) as exc:
            log.error("stored edit buffer %s is unreadable (%s); ignoring it",
                      self.edit_buffer_path, exc)
            return None
        if not isinstance(message, VoiceDump):
            log.error("stored edit buffer %s is not a single-voice dump; ignoring it",
                      self.edit_buffer_path)
            return None
        return message.patch

    def store_edit_buffer(self, patch: Patch) -> None:
        """Store the edit buffer (a single-voice dump)."""
        atomic_write(self.edit_buffer_path, voice_dump(patch, 0))

    # -- the playing position -----------------------------------------------------------

    def load_state(self) -> State:
        """The stored program and bank, or the defaults."""
        try:
            raw = json.loads(self.state_path.read_text())
            state = State(program=int(raw["program"]), bank=int(raw["bank"]))
        except FileNotFoundError:
            return State()
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.error("stored state %s is unreadable (%s); starting at program 1",
                      self.state_path, exc)
            return State()
        if not (0 <= state.program <= 31 and 0 <= state.bank <= 16383):
            return State()
        return state

    def store_state(self, state: State) -> None:
        """Store the program and bank."""
        data = json.dumps({"program": state.program, "bank": state.bank}).encode()
        atomic_write(self.state_path, data + b"\n")
